"""The structural cues of the rules stance predictor (the `annotate eval` baseline): where a
negation or a denial stands relative to the claim's words, scare quotes, and the published
refuting and hedging lexicons. Made-up texts about events unrelated to the eval rows."""

from __future__ import annotations

import pytest

from annotator.extract.rules.stance import (
    content_words,
    negated_claim_words,
    predict_stance,
    stance_evidence,
)
from annotator.extract.rules.stance_cues import (
    HEDGING_CUE,
    REFUTING_CUE,
    clause_stance,
    has_denial,
    has_hedge,
)

PLANT = "Acme Motors will close its assembly plant in Ohio"
METEORITE = "A meteorite landed on a farm near Nakuru"
BRIDGE = "The city will demolish the old Harbor Bridge next spring"


def _headline(claim: str, text: str) -> str:
    return predict_stance(claim, text, allow_unrelated=False)


@pytest.mark.parametrize(
    ("sentence", "negated"),
    [
        # the negation governs the claim's words after it ...
        ("Acme Motors will not close the Ohio plant", 1),
        # ... or the subject just before it ("X is not ...")
        ("The Ohio assembly plant is not closing", 1),
        # a negation in another clause, about other words, is no denial of the claim
        ("Acme Motors will close the Ohio plant, but no jobs will be lost", 0),
        ("Acme confirms the closure; workers say they were never warned", 0),
    ],
)
def test_negation_counts_only_over_the_claims_words(sentence: str, negated: int) -> None:
    assert negated_claim_words(content_words(PLANT), sentence) == negated


def test_headline_negation_scope_decides_deny_or_confirm() -> None:
    assert _headline(PLANT, "Acme says it will not close its Ohio assembly plant") == "deny"
    assert _headline(PLANT, "No, Acme's Ohio plant isn't closing") == "deny"
    # the negation is about the office staff, not the plant: the headline asserts the claim
    assert _headline(PLANT, "Acme to close Ohio assembly plant, no cuts to office staff") == (
        "confirm"
    )
    ev = stance_evidence(PLANT, "Acme Motors will not close its Ohio plant")
    assert "negated_claim" in ev.cues


def test_a_claim_that_is_itself_negative_is_not_denied_by_its_own_negation() -> None:
    claim = "The minister did not attend the summit in Lisbon"
    assert _headline(claim, "Minister did not attend Lisbon summit") == "confirm"


def test_scare_quotes_around_the_claims_words_hedge_a_headline() -> None:
    assert _headline(METEORITE, "Farmer finds 'meteorite' on his farm near Nakuru") == (
        "unverified"
    )
    # quoted words that are not the claim's (a speaker's exclamation) do not hedge it
    quoted = "'Best day of my life': meteorite lands on farm near Nakuru"
    assert _headline(METEORITE, quoted) == "confirm"
    assert "scare_quote" in stance_evidence(METEORITE, "A 'meteorite' landed near Nakuru").cues
    # an apostrophe inside a word is no quotation mark
    assert "scare_quote" not in stance_evidence(METEORITE, "Nakuru farmer's meteorite").cues


def test_published_hedging_seed_words_hedge_a_headline() -> None:
    # "likely" and "presumably" are Ferreira & Vlachos seed words, not extractor hedges
    assert not has_hedge("the bridge will likely come down")
    assert HEDGING_CUE.search("the bridge will likely come down")
    assert _headline(BRIDGE, "Old Harbor Bridge likely to be demolished next spring") == (
        "unverified"
    )
    assert _headline(BRIDGE, "City to demolish old Harbor Bridge next spring") == "confirm"


def test_fnc1_refuting_words_deny_without_changing_the_extractor() -> None:
    # "bogus" and "debunk" were already denial cues; "doubts" and "pranks" come from the
    # FNC-1 baseline list and reach only the stance predictor
    assert REFUTING_CUE.search("experts raise doubts about the demolition")
    assert not has_denial("experts raise doubts about the demolition")
    assert clause_stance("experts raise doubts about the demolition") == "confirm"
    assert _headline(BRIDGE, "Engineers cast doubt on plan to demolish Harbor Bridge") == "deny"


BODY_HEDGED_DENIAL = (
    "Rumours spread online this week that Acme Motors will close its assembly plant in "
    "Ohio, reportedly as soon as next year, according to a trade newsletter. "
    "Acme Motors denied the reports that it will close the Ohio assembly plant. "
    "The company said production of its pickup trucks would continue in the state, "
    "and that it was hiring two hundred workers for a second shift at the factory. "
    "Union officials said they had been told the same thing at a meeting on Monday."
)
BODY_CONFIRM = (
    "Acme Motors announced on Tuesday that it will close its assembly plant in Ohio at "
    "the end of the year. The carmaker will move production of its pickup trucks to a "
    "newer factory in Tennessee. About nine hundred workers at the Ohio plant will be "
    "offered jobs at the other site or severance pay, the company said in a statement."
)


def test_a_body_where_the_claims_subject_denies_it_reads_deny_despite_hedges() -> None:
    ev = stance_evidence(PLANT, BODY_HEDGED_DENIAL)
    assert "claim_denied" in ev.cues
    assert ev.hedge > ev.deny / 2  # without the subject's denial this body would hedge
    assert predict_stance(PLANT, BODY_HEDGED_DENIAL) == "deny"
    assert predict_stance(PLANT, BODY_CONFIRM) == "confirm"


def test_negations_in_a_body_are_not_read_as_denials_of_the_claim() -> None:
    # news bodies negate many things near the claim's words; in a body only refuting words
    # and the claim's subject denying it count (body negation scope was measured to hurt)
    body = BODY_CONFIRM + (
        " Acme has not decided what to do with the land, and no buyer has come forward. "
        "The Ohio plant will not reopen under another owner."
    )
    ev = stance_evidence(PLANT, body)
    assert ev.deny == 0 and "negated_claim" not in ev.cues
    assert predict_stance(PLANT, body) == "confirm"
