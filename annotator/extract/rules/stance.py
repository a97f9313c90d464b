"""Rules stance of a text toward a given claim: the offline baseline for `annotate eval`.

First relatedness, by content-word overlap between claim and text. Then cues, weighed by
where they stand relative to the claim. A text of at most HEADLINE_WORDS words is read as
a headline, anything longer as a body.
- deny: refuting words (the extractor's denial lexicon plus the FNC-1 baseline's); in a
  headline, a negation whose scope (NegEx-style: a few words either side, cut at clause
  breaks) holds one of the claim's content words; in a body, a denial verb in a sentence
  about the claim (the claim's subject denying it).
- unverified: hedges (the extractor's; in headlines also Ferreira & Vlachos's seed words,
  headline report tags, "?" and scare quotes around the claim's words); in a body,
  reporting language in the sentences about the claim as half a hedge.
- confirm: the claim asserted plainly.
Each cue was kept only if it helped on one claim-disjoint half of the public eval data
without hurting the other; body negation scope, lead weighting and reporting verbs in
headlines were measured and left out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from annotator.core.text import stem
from annotator.extract.rules.attribution import word_set
from annotator.extract.rules.stance_cues import (
    DENIAL_VERBS,
    HEADLINE_HEDGE_CUE,
    HEDGE_CUE,
    HEDGING_CUE,
    NEGATED_DENIAL,
    NEITHER_NOR_CUE,
    REFUTING_CUE,
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
NEGATION_WINDOW = 6  # words a negation governs (NegEx uses a window of about 5-6)
NEGATION_BEFORE = 4  # words before it: the negated clause's subject ("X is not ...")
SENTENCE = re.compile(r"[^.!?\n]+(?:[.!?]+|$)")
WORD = re.compile(r"[A-Za-z0-9]+(?:['’][a-z]+)?")
NEGATION = re.compile(
    r"\b(?:not|no|never|nor|neither|none|nothing|cannot|\w+n['’]t)\b",
    re.I,
)
# Where a negation's scope ends (NegEx's terminators): clause punctuation and the
# conjunctions that open a new clause.
CLAUSE_BREAK = re.compile(
    r"[,;:()\u2013\u2014]|\s-\s|\b(?:but|while|although|though|whereas|however|because|which)\b",
    re.I,
)
# A short span in quotation marks (straight or curly), not an apostrophe inside a word.
SCARE_QUOTE = re.compile(r"(?<![\w'’])['‘\"“]([^'‘’\"“”\n]{1,80})['’\"”](?![\w'’])")
DENIAL_VERB = re.compile(r"\b(?:" + "|".join(sorted(DENIAL_VERBS)) + r")\b", re.I)


@dataclass(frozen=True)
class StanceEvidence:
    """What the rules saw: for explanations and tests."""

    relatedness: float
    deny: float
    hedge: float
    sentences: int  # sentences that mention the claim
    cues: tuple[str, ...] = ()  # the cue kinds that fired, sorted


def content_words(text: str) -> set[str]:
    return {stem(w) for w in WORD.findall(text) if w.lower() not in STOPWORDS and len(w) > 2}


def relatedness(claim: str, text: str) -> float:
    """Share of the claim's content words that occur in the text."""
    wanted = content_words(claim)
    if not wanted:
        return 1.0
    return len(wanted & content_words(text)) / len(wanted)


def _sentences(text: str) -> list[str]:
    return [s for s in (m.group().strip() for m in SENTENCE.finditer(text)) if s]


def _about_claim(claim_words: set[str], sentence: str) -> bool:
    """A sentence about the claim shares two of its content words (one for short claims)."""
    need = max(1, min(2, round(len(claim_words) / 3)))
    return len(content_words(sentence) & claim_words) >= need


def negated_claim_words(claim_words: set[str], sentence: str) -> int:
    """Negations whose forward scope (to the clause's end, at most NEGATION_WINDOW words)
    holds one of the claim's content words: "Saudia will not segregate passengers"."""
    found = 0
    for m in NEGATION.finditer(sentence):
        rest = sentence[m.end() :]
        cut = CLAUSE_BREAK.search(rest)
        after = WORD.findall(rest[: cut.start()] if cut else rest)[:NEGATION_WINDOW]
        before_text = sentence[: m.start()]
        breaks = [b.end() for b in CLAUSE_BREAK.finditer(before_text)]
        before = WORD.findall(before_text[breaks[-1] if breaks else 0 :])[-NEGATION_BEFORE:]
        if content_words(" ".join(before + after)) & claim_words:
            found += 1
    return found


def _count(pattern: re.Pattern[str], text: str) -> int:
    return len(pattern.findall(text))


def _refutations(text: str) -> int:
    return _count(REFUTING_CUE, _without_negated_denials(text))


def _without_negated_denials(text: str) -> str:
    return NEGATED_DENIAL.sub(" ", NEITHER_NOR_CUE.sub(" ", text))


def _headline_cues(claim: str, claim_words: set[str], text: str) -> dict[str, float]:
    cues = {
        "refuting": float(_refutations(text)),
        # a negation the claim does not have, over the claim's words: "No, X did not ..."
        "negated_claim": 0.0
        if NEGATION.search(claim)
        else float(negated_claim_words(claim_words, text)),
        "hedge": float(_count(HEDGING_CUE, text) + _count(NEITHER_NOR_CUE, text)),
        "headline_hedge": float(_count(HEADLINE_HEDGE_CUE, text)),  # "-- report", "?"
        # scare quotes around the claim's own words: the headline quotes, not asserts, them
        "scare_quote": float(
            sum(1 for q in SCARE_QUOTE.findall(text) if content_words(q) & claim_words)
        ),
    }
    return cues


def _body_cues(claim_words: set[str], sentences: list[str]) -> tuple[dict[str, float], int]:
    about = [s for s in sentences if _about_claim(claim_words, s)]
    joined = " ".join(about)
    cues = {
        # a body that calls anything about its story a hoax or false disputes the claim,
        # wherever the word stands; hedges count only near the claim's words
        "refuting": float(_refutations(" ".join(sentences))),
        # a denial verb in a sentence about the claim: its subject rejects the claim
        # ("IBM denied reports that it will cut ..."), which outweighs the hedges around it
        "claim_denied": float(sum(len(DENIAL_VERB.findall(s)) for s in about)),
        "hedge": float(_count(HEDGE_CUE, joined) + _count(NEITHER_NOR_CUE, joined)),
        "reporting": REPORTING_WEIGHT * _count(REPORTING_CUE, joined),
    }
    return cues, len(about)


DENY_CUES = frozenset({"refuting", "negated_claim", "claim_denied"})


def stance_evidence(claim: str, text: str) -> StanceEvidence:
    claim_words = content_words(claim)
    related = relatedness(claim, text)
    if len(WORD.findall(text)) <= HEADLINE_WORDS:
        cues, n = _headline_cues(claim, claim_words, text), 1
    else:
        cues, n = _body_cues(claim_words, _sentences(text))
    deny = sum(v for k, v in cues.items() if k in DENY_CUES)
    hedge = sum(v for k, v in cues.items() if k not in DENY_CUES)
    fired = tuple(sorted(k for k, v in cues.items() if v > 0))
    return StanceEvidence(related, deny, hedge, n, fired)


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
