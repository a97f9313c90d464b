"""Claims of one event that share its people, a time or a role are still two claims when
they say different things: a figure of what is written before it ("magnitude 6.9" /
"a magnitude 7.1 earthquake"), a prediction and a report of one dated event ("will
visit on Friday" / "visited on Friday"), two predicates about one subject ("the striker
scored" / "the striker was suspended"). Texts of other events than the samples and the
fixtures."""

from __future__ import annotations

import pytest

import annotator.reconcile.pair_scorer as pair_scorer
from annotator.reconcile.clustering import ClusterScorer, statement_features
from annotator.reconcile.embeddings import BundledEmbedder
from annotator.reconcile.quantities import quantity
from annotator.reconcile.words import content_stem


def scorer(texts: list[str], embed_weight: float = 0.4) -> ClusterScorer:
    embedder = BundledEmbedder()
    written: dict[str, str] = {}
    feats = [statement_features(t, written) for t in texts]
    return ClusterScorer(feats, embedder.embed(texts), embedder, embed_weight, written)


def compatible(a: str, b: str) -> bool:
    return statement_features(a).anchors.compatible(statement_features(b).anchors)


def test_a_number_also_counts_the_word_written_before_it() -> None:
    category, hurricane = content_stem("category"), content_stem("hurricane")
    assert quantity("4", "upgraded to category ", "", content_stem) == ("4|", f"4|{category}")
    assert quantity("5", "a category ", " hurricane", content_stem) == (
        f"5|{hurricane}",
        f"5|{category}",
    )
    assert quantity("5", "$", " million", content_stem) == ("5e+06|$",)  # a sign is no word
    paid = content_stem("paid")
    assert quantity("5", "paid ", " million dollars", content_stem) == ("5e+06|$", f"5e+06|{paid}")
    assert quantity("12", "rose to ", " on Monday", content_stem) == ("12|on",)  # "to": none


@pytest.mark.parametrize(
    ("a", "b", "apart"),
    [
        ("The storm was upgraded to category 4", "A category 5 hurricane hit the coast", True),
        ("The storm was upgraded to category four", "A category 5 hurricane hit the coast", True),
        ("The storm was upgraded to category 5", "A category 5 hurricane hit the coast", False),
        ("Inflation reached 7.9 percent", "Inflation of 7.9% was recorded", False),
        ("Flight 370 disappeared over the sea", "Flight 17 was shot down", True),
        # a currency's name is its sign
        ("The club was fined 4.5 million dollars", "The club was fined $2 million", True),
        ("The club was fined 2 million dollars", "The club was fined $2 million", False),
        ("The club was fined 2 million euros", "The club was fined €3 million", True),
        ("The club was fined 2 million euros", "The club was fined $3 million", False),
    ],
)
def test_figures_of_one_named_measure_must_agree(a: str, b: str, apart: bool) -> None:
    assert compatible(a, b) is not apart


@pytest.mark.parametrize(
    ("a", "b", "apart"),
    [
        # one dated event, predicted and reported: two claims
        ("The minister will visit Lagos on Friday", "The minister visited Lagos on Friday", True),
        ("The dockers will strike next week", "The dockers struck on Monday", True),
        ("The talks are due to resume tomorrow", "The talks resumed on 4 March", True),
        # undated: a headline writes one event either way ("to visit" / "visits")
        ("The minister will visit Lagos", "The minister visited Lagos", False),
        # both predictions, or both reports, of one time
        ("The dockers will strike next week", "The dockers are due to strike on Monday", False),
        ("The minister visited Lagos on Friday", "The minister toured Lagos on Friday", False),
    ],
)
def test_a_dated_prediction_and_a_dated_report_are_two_claims(a: str, b: str, apart: bool) -> None:
    assert compatible(a, b) is not apart


@pytest.mark.parametrize(
    ("a", "b", "only_subject"),
    [
        # the subject shared, then two predicates
        ("Striker Diaz scored twice in the final", "Striker Diaz was suspended by the club", True),
        ("The mayor of Turin resigned", "The mayor of Turin remains under investigation", True),
        # something shared after the subject: the same predicate in other words
        ("Striker Diaz scored twice in the final", "Diaz netted both goals in the final", False),
        # one figure: the same claim ("cut 300 flights" / "cancelled 300 flights")
        ("The airline cut 300 flights", "The airline cancelled 300 flights", False),
        # a word of like meaning in the rest ("resigned" / "quit")
        ("The mayor of Turin resigned", "The mayor of Turin quit", False),
        # one says no more than the other
        ("The mayor of Turin resigned", "The mayor of Turin resigned on Friday", False),
        # the subjects differ
        ("Striker Diaz scored twice in the final", "The coach praised the defence", False),
    ],
)
def test_two_predicates_about_one_subject(a: str, b: str, only_subject: bool) -> None:
    s = scorer([a, b])
    assert s.shares_only_subject(0, 1) is only_subject
    assert s.shares_only_subject(1, 0) is only_subject


def test_the_subject_penalty_lowers_the_pair_in_proportion_to_topicality(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    texts = ["Striker Diaz scored twice in the final", "Striker Diaz was suspended by the club"]
    penalty = pair_scorer.SUBJECT_PENALTY
    assert penalty > 0
    one_event, headlines = scorer(texts, embed_weight=0.4), scorer(texts, embed_weight=0.94)
    monkeypatch.setattr(pair_scorer, "SUBJECT_PENALTY", 0.0)
    plain_event, plain_headlines = scorer(texts, 0.4), scorer(texts, 0.94)
    assert plain_event.extra(0, 1) - one_event.extra(0, 1) == pytest.approx(penalty)
    assert plain_headlines.extra(0, 1) - headlines.extra(0, 1) == pytest.approx(penalty / 10)
