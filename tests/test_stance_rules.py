"""The rules stance predictor (the eval baseline) and the cue lists it shares with the
extractor, on plain made-up texts."""

from __future__ import annotations

import pytest

from annotator.core.text import stem
from annotator.extract.rules.stance import content_words, predict_stance, relatedness
from annotator.extract.rules.stance_cues import clause_stance, has_denial, has_hedge

CLAIM = "Hewlett-Packard will split itself into two separate companies"


@pytest.mark.parametrize(
    ("headline", "stance"),
    [
        ("Hewlett-Packard to split into two separate companies", "confirm"),
        ("Hewlett-Packard reportedly plans to split into two companies", "unverified"),
        ("HP may split into two companies -- report", "unverified"),
        ("Is Hewlett-Packard about to split in two?", "unverified"),
        ("Hewlett-Packard split story is a hoax", "deny"),
        ("No, Hewlett-Packard is not splitting into two companies", "deny"),
        ("Hewlett-Packard denies it will split into two companies", "deny"),
    ],
)
def test_headline_stance(headline: str, stance: str) -> None:
    assert predict_stance(CLAIM, headline, allow_unrelated=False) == stance


def test_unrelated_only_when_allowed() -> None:
    text = "The city council approved a new budget for parks and libraries on Tuesday."
    assert relatedness(CLAIM, text) == 0.0
    assert predict_stance(CLAIM, text) == "unrelated"
    assert predict_stance(CLAIM, text, allow_unrelated=False) != "unrelated"


def test_body_stance_reads_the_sentences_about_the_claim() -> None:
    confirm = (
        "Hewlett-Packard announced on Monday that it will split into two separate companies. "
        "The printer business and the enterprise business will trade separately next year."
    )
    discuss = (
        "Hewlett-Packard could split into two separate companies, according to people "
        "familiar with the plans. The company declined to comment."
    )
    deny = (
        "A story that Hewlett-Packard will split into two separate companies spread online. "
        "The company said the report was false and that no split is planned."
    )
    assert predict_stance(CLAIM, confirm) == "confirm"
    assert predict_stance(CLAIM, discuss) == "unverified"
    assert predict_stance(CLAIM, deny) == "deny"


def test_cues_ignore_negated_denials_and_neither_nor() -> None:
    assert has_denial("the spokesman called it false")
    assert not has_denial("the spokesman did not deny the report")
    assert not has_denial("he has neither confirmed nor denied it")
    assert has_hedge("he has neither confirmed nor denied it")
    assert clause_stance("he has neither confirmed nor denied it") == "unverified"
    assert clause_stance("the talks reportedly began") == "unverified"
    assert clause_stance("it is pure fiction") == "deny"
    assert clause_stance("the talks began on Monday") == "confirm"


def test_content_words_are_stemmed_and_stopwords_dropped() -> None:
    assert stem("splitting") == "split" and stem("companies") == "compan"
    assert content_words("The companies are splitting") == {"compan", "split"}
