"""Who a statement names (a name is its words; an acronym is its initials), claims of one
event that share nothing but names, and news time for an undated article of the folder.
Texts of other events than the samples."""

from __future__ import annotations

import hashlib

import pytest

from annotator.core.models import AnnotationInfo, ArticleAnnotation, ArticleInfo, ClaimRecord
from annotator.reconcile.clustering import (
    BARE_PENALTY,
    ClusterScorer,
    statement_features,
)
from annotator.reconcile.embeddings import BundledEmbedder
from annotator.reconcile.summary import reconcile


def scorer(texts: list[str], embed_weight: float = 0.4) -> ClusterScorer:
    embedder = BundledEmbedder()
    feats = [statement_features(t) for t in texts]
    return ClusterScorer(feats, embedder.embed(texts), embedder, embed_weight=embed_weight)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        # a given name or a title is part of the name, not someone else
        ("Chancellor Olaf Scholz met Emmanuel Macron after the summit",
         "Scholz and Macron met after the EU summit"),
        # an acronym is the initials of a name of two or more words
        ("Hewlett-Packard will split into two companies",
         "The board of HP voted to split the company in two"),
        ("The European Union fined the bank", "The bank was fined by the EU"),
    ],
)  # fmt: skip
def test_one_person_written_two_ways_is_not_a_clash(a: str, b: str) -> None:
    s = scorer([a, b])
    assert not s.names_clash(0, 1)


def test_different_people_still_clash() -> None:
    s = scorer(["Scholz spoke with Macron on Monday", "Scholz spoke with Meloni on Monday"])
    assert s.names_clash(0, 1) and s.slots_clash(0, 1)


def test_a_determiner_is_not_a_role() -> None:
    """ "informed of the Nordwind bid" / "the Solvik board": "the" says nothing about the
    role a name fills; the word before it does."""
    f = statement_features("The Solvik board was informed of the Nordwind bid")
    assert f.slots == {("^", "solvik"), ("of", "nordwind")}


def test_sharing_only_names_weighs_less_in_one_event() -> None:
    texts = [
        "Nordwind could have blocked the Solvik sale",
        "A quick deal would bring heavy losses for Solvik",
        "Nordwind could have stopped the sale of Solvik",
    ]
    one_event = scorer(texts, embed_weight=0.4)  # fully topical
    assert one_event.shares_only_names(0, 1) and not one_event.shares_only_names(0, 2)
    many = scorer(texts, embed_weight=1.0)  # headlines of many stories: no penalty
    overlap_part = 0.6 * one_event.overlap(0, 1)
    assert one_event.extra(0, 1) == pytest.approx(overlap_part - BARE_PENALTY)
    assert many.extra(0, 1) == pytest.approx(0.0)


def _record(aid: str, published: str | None, statements: list[str]) -> ArticleAnnotation:
    return ArticleAnnotation(
        article=ArticleInfo(
            id=aid,
            path=f"{aid}.txt",
            sha256=hashlib.sha256(aid.encode()).hexdigest(),
            published=published,
        ),
        annotation=AnnotationInfo(backend="rules"),
        claims=[ClaimRecord(id=f"c{k}", statement=s, quote=s) for k, s in enumerate(statements, 1)],
    )


def test_an_undated_article_of_the_folder_reports_the_event_of_its_year() -> None:
    """An undated "the ministers met" is the meeting the folder reports (the year most of
    its dated articles were published in), not "they have met there since 2019"."""
    records = [
        _record("a", "2025-03-02", ["The ministers met in Oslo to discuss fishing quotas"]),
        _record("b", "2025-03-03", ["The harbour will reopen in spring"]),
        _record("c", "2024-12-30", ["The harbour was closed by the storm"]),
        _record(
            "d", None, ["The ministers met in Oslo", "The ministers have met in Oslo since 2019"]
        ),
    ]
    summary = reconcile(records)
    claim_of = {(p.article, p.claim): c.id for c in summary.claims for p in c.provenance}
    assert claim_of["d", "c1"] == claim_of["a", "c1"]
    assert claim_of["d", "c1"] != claim_of["d", "c2"]


@pytest.mark.parametrize(
    ("text", "numbers"),
    [
        ("Forty people reported stomach illness", {"40|peopl"}),
        ("Forty-two people were hurt in the crash", {"42|peopl"}),
        ("Ninety-one percent of members voted to strike", {"91|%"}),
        ("Seventy thousand jobs were cut", {"70000|job"}),
        ("Twelve people were treated in hospital", {"12|peopl"}),
    ],
)
def test_numbers_written_as_words(text: str, numbers: set[str]) -> None:
    assert statement_features(text).anchors.numbers == numbers


def test_a_number_word_tells_two_counts_apart() -> None:
    f = statement_features("Twelve people were treated for stomach illness")
    g = statement_features("Forty people were treated for stomach illness")
    assert not f.anchors.compatible(g.anchors)


def test_initials_skip_the_small_words_of_a_name() -> None:
    s = scorer(
        [
            "The DEQ opened an investigation into the water utility",
            "The Department of Environmental Quality launched a probe into the utility",
        ]
    )
    assert s.same_name("deq", "department") and not s.names_clash(0, 1)
