"""Rules stance of a text toward a given claim: the offline baseline for `annotate eval`.

First relatedness, by content-word overlap between claim and text; then the stance cues
(shared with the extractor, `stance_cues`) counted in the sentences that talk about the
claim: denial cues -> deny, hedges -> unverified, plain assertion -> confirm.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from annotator.core.text import stem
from annotator.extract.rules.attribution import word_set
from annotator.extract.rules.stance_cues import (
    DENIAL_CUE,
    HEADLINE_HEDGE_CUE,
    HEDGE_CUE,
    NEGATED_DENIAL,
    NEITHER_NOR_CUE,
    REPORTING_CUE,
)

PredictedStance = Literal["confirm", "deny", "unverified", "unrelated"]

STOPWORDS: frozenset[str] = word_set(
    """
    a an the and or but if of in on at to for from by with about as into onto over under
    after before during since until than then so too very can could will would shall should
    may might must do does did done is are was were be been being has have had having it its
    this that these those there here he she they we you i me him her them us my his their our
    your who whom whose which what when where why how not no nor all any some each every
    more most other such only own same just also says said say new one two after off out up
    down again further once
    """
)
UNRELATED_BELOW = 0.2  # share of the claim's content words the text must contain
HEADLINE_WORDS = 40  # a text this short is read as a headline
REPORTING_WEIGHT = 0.5  # a reporting verb near the claim is half a hedge
HEDGE_THRESHOLD = 1.0  # hedge units needed for "unverified"
DENY_SHARE = 0.5  # denial cues must be at least this share of the hedge units
SENTENCE = re.compile(r"[^.!?\n]+(?:[.!?]+|$)")
WORD = re.compile(r"[A-Za-z0-9]+(?:['’][a-z]+)?")
NEGATION = re.compile(r"\b(?:not|no|never|n['’]t|nothing|none|isn['’]t|wasn['’]t)\b", re.I)


@dataclass(frozen=True)
class StanceEvidence:
    """What the rules saw: for explanations and tests."""

    relatedness: float
    deny: float
    hedge: float
    sentences: int  # sentences that mention the claim


def content_words(text: str) -> set[str]:
    return {stem(w) for w in WORD.findall(text) if w.lower() not in STOPWORDS and len(w) > 2}


def relatedness(claim: str, text: str) -> float:
    """Share of the claim's content words that occur in the text."""
    wanted = content_words(claim)
    if not wanted:
        return 1.0
    return len(wanted & content_words(text)) / len(wanted)


def _claim_sentences(claim_words: set[str], text: str) -> list[str]:
    """Sentences that share at least two content words (or a third) with the claim."""
    need = max(1, min(2, round(len(claim_words) / 3)))
    picked = []
    for m in SENTENCE.finditer(text):
        sentence = m.group().strip()
        if sentence and len(content_words(sentence) & claim_words) >= need:
            picked.append(sentence)
    return picked


def _count(pattern: re.Pattern[str], text: str) -> int:
    return len(pattern.findall(text))


def stance_evidence(claim: str, text: str) -> StanceEvidence:
    claim_words = content_words(claim)
    related = relatedness(claim, text)
    headline = len(WORD.findall(text)) <= HEADLINE_WORDS
    scope = [text] if headline else _claim_sentences(claim_words, text)
    joined = " ".join(scope)
    hedge = float(_count(HEDGE_CUE, joined) + _count(NEITHER_NOR_CUE, joined))
    if headline:
        deny = float(_count(DENIAL_CUE, _without_negated_denials(joined)))
        hedge += _count(HEADLINE_HEDGE_CUE, joined)
        # a negation the claim does not have ("No, X did not ...") rejects the claim
        if NEGATION.search(joined) and not NEGATION.search(claim):
            deny += 1
    else:
        # a body that calls anything about its story a hoax or false disputes the claim,
        # wherever the word stands; hedges count only near the claim's words
        deny = float(_count(DENIAL_CUE, _without_negated_denials(text)))
        hedge += REPORTING_WEIGHT * _count(REPORTING_CUE, joined)
    return StanceEvidence(related, deny, hedge, len(scope))


def _without_negated_denials(text: str) -> str:
    return NEGATED_DENIAL.sub(" ", NEITHER_NOR_CUE.sub(" ", text))


def predict_stance(claim: str, text: str, *, allow_unrelated: bool = True) -> PredictedStance:
    """confirm, deny, unverified, or (when allowed) unrelated: the text's stance to claim."""
    ev = stance_evidence(claim, text)
    if allow_unrelated and ev.relatedness < UNRELATED_BELOW:
        return "unrelated"
    if ev.deny > 0 and ev.deny >= DENY_SHARE * ev.hedge:
        return "deny"
    if ev.hedge >= HEDGE_THRESHOLD:
        return "unverified"
    return "confirm"
