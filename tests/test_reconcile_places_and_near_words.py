"""A country named by its capital or its demonym is one party ("Beijing" / "the Chinese
side"), never another country; a word only one wording has counts for a word of like
meaning only the other has ("quit" / "resigned"); a name is itself without its
possessive. Texts of other events than the samples."""

from __future__ import annotations

import hashlib
import random

import numpy as np
import pytest

from annotator.core.models import AnnotationInfo, ArticleAnnotation, ArticleInfo, ClaimRecord
from annotator.reconcile.clustering import ClusterScorer, cluster_statements, statement_features
from annotator.reconcile.embeddings import BundledEmbedder
from annotator.reconcile.features import spell_out_acronyms
from annotator.reconcile.near_words import NEAR_WORD, NearIncidence, near_credit, near_words
from annotator.reconcile.places import country_of
from annotator.reconcile.quantities import quantity
from annotator.reconcile.summary import reconcile
from annotator.reconcile.words import content_stem


def scorer(texts: list[str], embed_weight: float = 0.4) -> ClusterScorer:
    embedder = BundledEmbedder()
    written: dict[str, str] = {}
    feats = [statement_features(t, written) for t in texts]
    return ClusterScorer(feats, embedder.embed(texts), embedder, embed_weight, written)


@pytest.mark.parametrize(
    ("words", "country"),
    [
        (["Beijing", "Chinese", "China"], "China"),
        (["Paris", "French", "France"], "France"),  # not French Polynesia: the most populous
        (["Nairobi", "Kenyan", "Kenya"], "Kenya"),
        (["Washington", "American", "USA"], "United States"),  # "Washington D.C."
        (["Smith", "Tuesday", "Monrovian"], None),  # no place; no demonym of a capital
    ],
)
def test_a_country_is_its_name_capital_and_demonym(words: list[str], country: str | None) -> None:
    assert {country_of(w) for w in words} == {country}


def test_capital_and_demonym_name_one_party_and_two_countries_never_one() -> None:
    s = scorer(
        [
            "Officials in Nairobi were told of the ceasefire talks",
            "The Kenyan side was informed of the talks",
            "The treaty was accepted by Katmandu",  # another spelling of the capital
            "The treaty was accepted by the Nepalese delegation",
            "The border was crossed by Russian troops",
            "The border was crossed by Belarusian troops",
        ]
    )
    assert s.same_name("nairobi", "kenyan")  # their own embeddings: cosine 0.1
    assert s.same_name("katmandu", "nepalese")
    assert not s.same_name("russian", "belarusian") and s.slots_clash(4, 5)


def test_the_capital_and_the_side_of_one_country_are_one_claim() -> None:
    """Fails without the gazetteer: every statement is its own claim."""
    texts = [
        "Officials in Nairobi were told in advance about the grain deal",
        "The Kenyan side was informed ahead of the grain deal",
        "Officials in Warsaw were told in advance about the grain deal",
        "The Polish side was informed ahead of the grain deal",
        "The grain deal will take effect in March",
        "Traders expect prices to fall after the grain deal",
    ]
    assert [c.members for c in cluster_statements(texts)] == [[0, 1], [2, 3], [4], [5]]


def test_a_name_is_itself_without_its_possessive() -> None:
    f = statement_features("The talks resumed after Merkel's visit to Kenya’s capital")
    assert {"merkel", "kenya"} <= f.names and not any("'" in n or "’" in n for n in f.names)
    assert ("after", "merkel") in f.slots


def test_near_words_are_words_of_like_meaning_not_antonyms() -> None:
    words = ["quit", "resigned", "killed", "died", "bought", "sold", "closed", "opened"]
    written = {w[:6]: w for w in words}
    near = near_words(written, frozenset(), BundledEmbedder())
    pairs = {frozenset((a, b)) for a, vs in near.items() for b, _ in vs}
    assert {frozenset(("quit", "resign")), frozenset(("killed", "died"))} <= pairs
    assert frozenset(("bought", "sold")) not in pairs
    assert frozenset(("closed", "opened")) not in pairs
    assert all(sim >= NEAR_WORD for vs in near.values() for _, sim in vs)


def test_a_word_of_like_meaning_counts_in_the_overlap() -> None:
    s = scorer(
        [
            "The finance minister quit after the budget vote",
            "The finance minister resigned after the budget vote",
            "The finance minister spoke after the budget vote",
        ]
    )
    assert near_credit(s.feats[0].words, s.feats[1].words, s.near, s.weight) > 0
    assert s.overlap(0, 1) > s.overlap(0, 2)  # quit ~ resigned; quit !~ spoke
    assert near_credit(s.feats[0].words, s.feats[2].words, s.near, s.weight) == 0


def test_vectorised_near_credits_equal_the_pairwise_ones() -> None:
    rng = random.Random(7)
    vocabulary = [f"w{k}" for k in range(40)]
    near = {w: tuple((v, 0.5 + rng.random() / 2) for v in rng.sample(vocabulary, 3) if v != w)
            for w in vocabulary[:25]}  # fmt: skip
    weight = {w: rng.random() * 3 for w in vocabulary}
    words = [frozenset(rng.sample(vocabulary, rng.randint(0, 8))) for _ in range(60)]
    pairs = [(i, j) for i in range(60) for j in range(i + 1, 60) if rng.random() < 0.3]
    got = NearIncidence(words, near, weight).credits(np.array(pairs, dtype=np.int64))
    want = [near_credit(words[i], words[j], near, weight) for i, j in pairs]
    assert got.tolist() == pytest.approx(want)
    assert any(want)


def _record(article_id: str, statements: list[str]) -> ArticleAnnotation:
    claims = [ClaimRecord(id=f"c{k}", statement=s, quote=s) for k, s in enumerate(statements, 1)]
    return ArticleAnnotation(
        article=ArticleInfo(
            id=article_id,
            path=f"{article_id}.txt",
            sha256=hashlib.sha256(article_id.encode()).hexdigest(),
        ),
        annotation=AnnotationInfo(backend="rules"),
        claims=claims,
    )


def test_reconcile_of_a_synonym_is_byte_identical_whatever_the_order() -> None:
    a = _record("a", ["The finance minister quit after the budget vote"])
    b = _record("b", ["The finance minister resigned after the budget vote"])
    one, two = reconcile([a, b]), reconcile([b, a])
    assert len(one.claims) == 1 and one.model_dump() == two.model_dump()


def test_a_place_opening_the_sentence_is_a_name() -> None:
    """A capitalised first word is a name only if it is one mid-sentence elsewhere, or a
    country's name, capital or demonym: Tokyo's concern is not Canberra's."""
    texts = [
        "Tokyo expressed concern over the collision",
        "Canberra expressed concern over the collision",
        "Japan voiced concern over the collision",
        "The collision damaged the hull of the ferry",
    ]
    groups = [c.members for c in cluster_statements(texts)]
    assert not any({0, 1} <= set(g) for g in groups)
    assert [0, 2] in groups


def test_a_number_counts_the_noun_after_a_nationality() -> None:
    assert quantity("7", "", "Filipino crew members", content_stem) == ("7|filipi", "7|crew")
    assert quantity("7", "", "crew members were", content_stem) == ("7|crew",)
    four = statement_features("Four crew members of the ferry were hurt").anchors
    seven = statement_features("Seven Filipino crew members were wounded").anchors
    also_four = statement_features("Four Filipino crew members were wounded").anchors
    assert not four.compatible(seven) and four.compatible(also_four)


def test_an_acronym_is_spelt_out_for_the_embedding_where_the_input_spells_it() -> None:
    texts = [
        "The Food and Drug Administration advised patients to keep taking the pills",
        "The FDA warned patients not to stop taking the pills",
        "FDA inspectors visited the plant",  # at the start too
        "The EU fined the bank",  # two names of the input share the initials: kept
        "The European Union and the Estonian University signed a pact",
        "Ema Watson attended the hearing",  # not in capitals: a name, not an acronym
        "The European Medicines Agency opened a review",
    ]
    spelt = spell_out_acronyms(texts, [statement_features(t) for t in texts])
    assert (
        spelt[1] == "The Food and Drug Administration warned patients not to stop taking the pills"
    )
    assert spelt[2] == "Food and Drug Administration inspectors visited the plant"
    assert spelt[3] == texts[3] and spelt[5] == texts[5] and spelt[0] == texts[0]


def test_spelling_out_brings_an_acronym_near_its_name() -> None:
    texts = [
        "The IAEA opened an inquiry into the reactor leak",
        "The International Atomic Energy Agency launched an investigation of the plant",
    ]
    embedder = BundledEmbedder()
    as_written = embedder.embed(texts)
    spelt = embedder.embed(spell_out_acronyms(texts, [statement_features(t) for t in texts]))
    before, after = float(as_written[0] @ as_written[1]), float(spelt[0] @ spelt[1])
    assert after > before + 0.1  # measured: 0.42 -> 0.70
