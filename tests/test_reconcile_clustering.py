"""Claim clustering by meaning: quality (B-cubed), proposition traps, texts of other
events, nearest-neighbour candidates, the embedding cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from annotator.core.yamlio import load_yaml
from annotator.eval_clusters import b_cubed
from annotator.reconcile import neighbours
from annotator.reconcile.clustering import (
    IRREALIS_PENALTY,
    ClusterScorer,
    cluster_statements,
    statement_features,
)
from annotator.reconcile.embeddings import BundledEmbedder, CachedEmbedder
from annotator.reconcile.summary import reconcile
from annotator.reconcile.words import stem
from annotator.records.store import load_article_records

RECORDS = Path(__file__).resolve().parent.parent / "fixtures" / "records"
OTHER_EVENT = RECORDS.parent / "records_other_event"


def test_b_cubed_helper() -> None:
    gold = {"a": "x", "b": "x", "c": "y"}
    assert b_cubed({"a": "1", "b": "1", "c": "2"}, gold) == (1.0, 1.0, 1.0)
    p, r, _ = b_cubed({"a": "1", "b": "1", "c": "1"}, gold)
    assert (round(p, 3), r) == (round(5 / 9, 3), 1.0)


def _score(folder: Path) -> tuple[float, float, float]:
    summary = reconcile(load_article_records(folder))
    gold_doc = load_yaml((folder / "gold_clusters.yaml").read_text(encoding="utf-8"))
    gold = {item: label for label, items in gold_doc["clusters"].items() for item in items}
    predicted = {f"{p.article}/{p.claim}": c.id for c in summary.claims for p in c.provenance}
    assert set(predicted) == set(gold)  # the gold file covers every record
    return b_cubed(predicted, gold)


def test_clustering_quality_on_the_sample_records() -> None:
    precision, recall, f1 = _score(RECORDS)
    print(f"B-cubed precision {precision:.3f} recall {recall:.3f} F1 {f1:.3f}")
    # measured: precision 0.967, recall 0.958, F1 0.962 (0.940 before a country was its
    # capital and demonym and a word counted for a near word); left: "left office" vs
    # "his first term ended", and a pledge to end the war swiftly vs "within 24 hours"
    assert f1 >= 0.95


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Trump and Putin spoke after the 2024 election", "Trump and Putin spoke after 2021"),
        ("Trump and Putin spoke after 2021", "Trump and Putin have not spoken since July 2020"),
        ("Trump spoke with Putin on November 7", "Trump spoke with Putin on November 5"),
        ("Trump spoke by phone with Putin", "Trump spoke by phone with Zelensky"),
        ("Putin met Trump before 2020", "Putin met Trump after 2020"),
        # other events
        ("The mayor spoke with the governor after the flood",
         "The mayor spoke with the governor after the election"),
        ("The minister was ready to resign", "The minister resigned"),
        ("The company will cut 500 jobs", "The company will cut 5,000 jobs"),
        ("The bridge collapsed on Monday", "The bridge collapsed on Tuesday"),
    ],
)  # fmt: skip
def test_different_propositions_stay_apart(a: str, b: str) -> None:
    assert len(cluster_statements([a, b])) == 2


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Trump urged Putin not to escalate the war in Ukraine",
         "Trump advised Putin against escalating the conflict in Ukraine"),
        ("Trump spoke with Zelensky", "Trump spoke with Zelenskyy"),
        ("Trump spoke with Putin on November 7, 2024", "Putin and Trump talked on November 7"),
        # other events: paraphrases and name variants, no word list behind them
        ("The mayor of Lyon resigned on Monday", "Lyon's mayor stepped down on Monday"),
        ("The storm killed 12 people in Manila", "Twelve people died in Manila as the storm hit"),
        ("Apple is buying the music service Beats", "Apple to acquire Beats"),
        ("The striker signed a three-year contract with Milan",
         "Milan signed the striker on a three-year deal"),
    ],
)  # fmt: skip
def test_paraphrases_are_one_claim(a: str, b: str) -> None:
    (cluster,) = cluster_statements([a, b])
    assert cluster.merged_by == "embedding"


def test_anchors_are_extracted() -> None:
    f = statement_features("Trump and Putin have not spoken since July 2020")
    assert f.anchors.years == {2020} and f.anchors.months == {7}
    assert f.anchors.relations == {"after"} and f.negated
    g = statement_features("Trump spoke with Putin on Nov. 7, 2024, days after the election")
    assert g.anchors.days == {(11, 7)} and g.anchors.years == {2024}
    assert g.anchors.reference == {"electi"}  # stems
    h = statement_features("The council met again after the mayor's first term ended")
    assert h.anchors.reference is not None and "term" in h.anchors.reference
    assert not h.anchors.compatible(g.anchors)  # after another event


def test_negation_is_that_of_the_main_clause() -> None:
    assert not statement_features("Trump urged Putin not to escalate the war").negated
    assert not statement_features("Kyiv was informed and did not object").negated
    assert statement_features("The minister did not resign").negated


def test_readiness_or_intention_is_not_the_event() -> None:
    statements = [
        "Trump and Putin spoke by phone after the election",
        "Putin was ready to speak to Trump",
        "Trump and Putin talked by phone after the election",
    ]
    clusters = sorted(sorted(c.members) for c in cluster_statements(statements))
    assert clusters == [[0, 2], [1]]


def test_an_expectation_is_a_disposition_not_the_event() -> None:
    expects = statement_features("The union expects to strike at the port")
    struck = statement_features("The union struck at the port")
    assert expects.anchors.modal and struck.anchors.realis
    assert not expects.anchors.compatible(struck.anchors)


def test_a_quality_stems_to_its_adjective() -> None:
    assert stem("readiness") == stem("ready") and stem("willingness") == stem("willing")
    assert stem("weakness") == stem("weak") and stem("happiness") == stem("happy")


def test_a_prediction_against_a_report_counts_only_in_a_one_event_input() -> None:
    """ "The union would end the strike" is another claim than "the union ended the strike"
    among one event's claims; headlines of many stories write one event either way."""
    texts = ["The union would end the strike", "The union ended the strike"]
    texts.append("The union will end the strike")
    embedder = BundledEmbedder()
    feats, vectors = [statement_features(t) for t in texts], embedder.embed(texts)
    one_event = ClusterScorer(feats, vectors, embedder, embed_weight=0.4)  # fully topical
    assert one_event.extra(0, 2) - one_event.extra(0, 1) == pytest.approx(IRREALIS_PENALTY)
    many = ClusterScorer(feats, vectors, embedder, embed_weight=1.0)  # nothing in common
    assert many.extra(0, 1) == pytest.approx(many.extra(0, 2))


def test_a_possibility_about_the_past_is_not_the_fact() -> None:
    could = statement_features("The union could have accepted or rejected the offer")
    did = statement_features("The union accepted the offer")
    assert could.anchors.modal and did.anchors.realis
    assert not could.anchors.compatible(did.anchors)
    # a prediction, or the present tense, does not compare with a fact: meaning decides
    will = statement_features("The union will accept the offer")
    assert will.anchors.compatible(did.anchors) and will.anchors.compatible(could.anchors)


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("The company will cut 500 jobs", "The company will cut 5,000 jobs", False),
        ("IBM to cut more than 111,000 jobs", "IBM to cut 110,000 jobs", True),  # rounding
        ("A 280-pound catfish was caught", "A 19-stone catfish was caught", True),  # units
        ("HP will split in two, and lay off 5,000", "HP will split into two companies", True),
        ("Prices rose 6 percent", "Prices rose 4%", False),
        ("The bank lent $5 million", "The bank lent $5m", True),
    ],
)  # fmt: skip
def test_numbers_compare_only_where_they_count_the_same_thing(a: str, b: str, same: bool) -> None:
    fa, fb = statement_features(a).anchors, statement_features(b).anchors
    assert fa.compatible(fb) is same


def test_news_time_an_undated_event_is_the_one_the_article_reports() -> None:
    statements = [
        "The ministers met in Oslo",  # undated, in an article of 2025
        "The ministers met in Oslo in the days after the summit",
        "The ministers met in Oslo several times after 2019",
        "The ministers have met in Oslo since the treaty was signed",
    ]
    published = ["2025-03-02", "2025-03-01", "2025-03-01", "2025-03-01"]
    clusters = cluster_statements(statements, published=published)
    (bare,) = [c for c in clusters if 0 in c.members]
    assert 1 in bare.members  # pinned near publication: the same event
    assert 2 not in bare.members and 3 not in bare.members  # a span of years, not one event
    plain = statement_features("The ministers met in Oslo")
    assert plain.anchors.news_time and plain.anchors.implied_year is None  # set by the caller


@pytest.mark.parametrize(("published", "same_as"), [("2025-05-02", 1), ("2026-05-02", 2)])
def test_last_year_is_counted_from_the_article(published: str, same_as: int) -> None:
    statements = [
        "The council rejected the stadium plan last year",
        "The council rejected the stadium plan in 2024",
        "The council rejected the stadium plan in 2025",
    ]
    clusters = cluster_statements(statements, published=[published] * 3)
    assert sorted(sorted(c.members) for c in clusters) == sorted([[0, same_as], [3 - same_as]])
    assert statement_features(statements[0]).anchors.relative_year == -1


def test_weekday_of_the_reported_event_is_not_another_year() -> None:
    statements = ["Dockers went on strike on Tuesday", "Dockers went on strike in 2022"]
    assert len(cluster_statements(statements, published=["2025-06-12"] * 2)) == 2
    assert statement_features("They spoke by phone on Thursday").anchors.relations is None


def test_identical_wordings_are_merged_by_rule() -> None:
    (cluster,) = cluster_statements(["The dam broke", "The  dam broke", "The dam broke."])
    assert cluster.merged_by == "rule" and cluster.members == [0, 1, 2]
    (single,) = cluster_statements(["The dam broke"])
    assert single.merged_by is None


def test_representative_is_the_most_central_statement() -> None:
    statements = [
        "Trump urged Putin not to escalate the war",
        "Trump urged Putin not to escalate the war in Ukraine",
        "Trump urged Putin not to escalate the war in Ukraine",
        "Trump advised Putin against escalating the war in Ukraine",
    ]
    (cluster,) = cluster_statements(statements)
    assert cluster.members == [0, 1, 2, 3]
    assert statements[cluster.representative] == statements[1]


def test_neighbours_compare_far_fewer_than_all_pairs_and_match_exact(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(300, 32)).astype(np.float32)
    vectors = np.repeat(centres, 10, axis=0) + 0.2 * rng.normal(size=(3000, 32)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    exact = neighbours.nearest_pairs(vectors, 9, 0.5)
    assert len(exact) < 3000 * 2999 / 2 / 50
    monkeypatch.setattr(neighbours, "EXACT_MAX", 100)  # force the IVF index
    approx = neighbours.nearest_pairs(vectors, 9, 0.5)
    found = {tuple(p) for p in approx.tolist()} & {tuple(p) for p in exact.tolist()}
    assert len(found) >= 0.95 * len(exact)
    assert (neighbours.nearest_pairs(vectors, 9, 0.5) == approx).all()  # deterministic


class CountingEmbedder(BundledEmbedder):
    def __init__(self) -> None:
        self.calls: list[int] = []

    def embed(self, texts: object) -> np.ndarray:
        self.calls.append(len(texts))  # type: ignore[arg-type]
        return super().embed(texts)  # type: ignore[arg-type]


def test_embeddings_are_cached_by_statement(tmp_path: Path) -> None:
    inner = CountingEmbedder()
    texts = ["The dam broke on Monday", "The river flooded the town"]
    first = CachedEmbedder(inner, tmp_path).embed(texts)
    again = CachedEmbedder(inner, tmp_path)  # a new process reads the shard
    second = again.embed([*reversed(texts), "A third statement"])
    assert inner.calls == [2, 1]  # only the new statement was embedded
    assert np.array_equal(second[:2], first[::-1])
    # a statement's vector does not depend on the batch it came in
    assert np.array_equal(BundledEmbedder().embed([texts[0]])[0], first[0])


def test_takeover_fixture_records() -> None:
    """Another event again (a fictional takeover): outlets paraphrase, names vary
    (Nordwind / Nordwind Energie, Solvik / Solvik Vind), and near misses differ in a
    number (1,200 / 800 jobs, 4.2 / 3.6 billion), in mood (ready to sell / has sold) or
    in a year counted from the article ("last year")."""
    precision, recall, f1 = _score(OTHER_EVENT.parent / "records_takeover")
    print(f"B-cubed precision {precision:.3f} recall {recall:.3f} F1 {f1:.3f}")
    assert f1 >= 0.95  # measured: precision 1.0, recall 0.96, F1 0.98


def test_other_event_fixture_records() -> None:
    precision, recall, f1 = _score(OTHER_EVENT)
    print(f"B-cubed precision {precision:.3f} recall {recall:.3f} F1 {f1:.3f}")
    assert f1 >= 0.95  # measured: precision 1.0, recall 0.958, F1 0.979


def test_water_fixture_records() -> None:
    """A third event (a fictional water contamination), written before it was measured
    (F1 0.897 then): paraphrases, an acronym ("DEQ" / "Department of Environmental
    Quality"), an undated article, and near misses in a number written as a word ("Twelve"
    hospitalised / "Forty" ill), in mood (will be lifted) and in a year."""
    precision, recall, f1 = _score(OTHER_EVENT.parent / "records_water")
    print(f"B-cubed precision {precision:.3f} recall {recall:.3f} F1 {f1:.3f}")
    # measured: precision 0.949, recall 1.0, F1 0.974; left: two causes of the
    # contamination (a broken main / heavy rain) read as one claim
    assert f1 >= 0.95


def test_shoal_fixture_records() -> None:
    """A fourth event (a fictional collision at sea between Chinese and Philippine
    vessels), written before it was measured (F1 0.756 on f06d413): countries named by
    capital, demonym or name (Manila / the Philippines / Philippine; Tokyo / Japan), and
    near misses in a number (four / seven injured), in time (talks next week / held on
    Thursday), in mood (ready to help) and in the country (Tokyo / Canberra concerned)."""
    precision, recall, f1 = _score(OTHER_EVENT.parent / "records_shoal")
    print(f"B-cubed precision {precision:.3f} recall {recall:.3f} F1 {f1:.3f}")
    # measured: precision 0.827, recall 0.907, F1 0.865 ("will hold talks" and "are due
    # to meet", both predictions, now join). Left: the water cannon joins the collision and
    # the blame; talks held on Thursday join talks due next week; "called in the Chinese
    # envoy" stays apart from "summoned the Chinese ambassador"
    assert f1 >= 0.86


def test_recall_fixture_records() -> None:
    """A fifth event (a fictional drug recall), written before it was measured (F1 0.757
    on 3b166b4 and on f06d413): paraphrases (recalled / pulled from pharmacies / withdrew;
    40 batches / Forty lots), acronyms (EMA, FDA), an undated article, and near misses in
    a number (12 batches, 20 percent), mood (ready to suspend), year (2022) and country
    (British / German regulators)."""
    precision, recall, f1 = _score(OTHER_EVENT.parent / "records_recall")
    print(f"B-cubed precision {precision:.3f} recall {recall:.3f} F1 {f1:.3f}")
    # measured: precision 0.84, recall 0.889, F1 0.863 (British and German regulators'
    # recalls are two claims: two countries in one role; "plans to restart" joins "expects
    # to resume"). Left: two claims that share only the company's name join (its name
    # dominates short statements' embeddings), "Forty lots" stays apart from "40 batches"
    assert f1 >= 0.86


def test_nearest_neighbour_ties_go_to_the_lower_index() -> None:
    """Equal similarities tie (equal vectors: texts that differ only in punctuation): the
    k chosen are the lowest indices, whatever order argpartition leaves them in."""
    rng = np.random.default_rng(0)
    sims = rng.choice(np.array([0.1, 0.5, 0.9], dtype=np.float32), size=(1, 343))
    expected = np.sort(np.argsort(-sims[0], kind="stable")[:9])
    assert neighbours._top_k(sims, 9)[0].tolist() == expected.tolist()
