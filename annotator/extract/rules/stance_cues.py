"""Stance cue lists and matchers, shared by the rules extractor and the rules stance predictor.

General news-language cues, never tuned against single evaluation rows:
denial (denied, false, fiction, untrue, "no conversation") -> deny; hedges (reportedly,
allegedly, claimed, unconfirmed, "could not be verified") -> unverified.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Literal

ClauseStance = Literal["confirm", "deny", "unverified"]

# The one denial lexicon of the rules backend; the extractor's verb test, its "X is
# false" statement frames and the free-text cue below are all derived from it.

# Words that label a proposition false: "X is false", "called it a hoax".
DENIAL_LABELS: tuple[str, ...] = (
    "false",
    "untrue",
    "not true",
    "fiction",
    "fictional",
    "fake",
    "fabricated",
    "fabrication",
    "baseless",
    "groundless",
    "unfounded",
    "nonsense",
    "incorrect",
    "inaccurate",
    "bogus",
    "myth",
    "hoax",
    "a lie",  # not bare "lie": "the answer may lie elsewhere"
    "lies",
    "misinformation",
    "disinformation",
    "fake news",
    "false information",
    "satire",
    "scam",
    "not the case",
)
# Reporting verbs whose subject rejects the content: "X denied that ...".
DENIAL_VERBS: frozenset[str] = frozenset(
    [
        "denied",
        "denies",
        "deny",
        "rejected",
        "rejects",
        "refuted",
        "refutes",
        "dismissed",
        "dismisses",
        "disputed",
        "disputes",
    ]
)
# Denial verbs that are also everyday adjectives or nouns ("a disputed region", "trade
# disputes"): they mark a denial as the reporting verb, not anywhere in a text.
_AMBIGUOUS_VERBS = frozenset({"disputed", "disputes"})
# Other words and phrases that reject a proposition wherever they stand.
DENIAL_PHRASES: tuple[str, ...] = (
    "falsely",
    "faked",
    "lying",
    "no truth",
    "debunked",
    "debunk",
    "debunks",
    "denial",
    "no evidence",
    "never happened",
    "did not happen",
    "didn't happen",
    "not happen",
    "no such",
    "no conversation",
    "no call",
    "no plans",
    "not real",
    "satirical",
    "spoof",
    "parody",
    "rumour is false",
)
DENIAL_TERMS: tuple[str, ...] = (
    DENIAL_LABELS + tuple(sorted(DENIAL_VERBS - _AMBIGUOUS_VERBS)) + DENIAL_PHRASES
)
# Words and phrases that mark a report as not (yet) established.
HEDGE_TERMS: tuple[str, ...] = (
    "reportedly",
    "allegedly",
    "alleged",
    "purportedly",
    "purported",
    "apparently",
    "supposedly",
    "claimed",
    "claims",
    "claiming",
    "unconfirmed",
    "unverified",
    "could not be verified",
    "cannot be verified",
    "could not be independently verified",
    "not been verified",
    "not been confirmed",
    "not confirmed",
    "not immediately confirm",
    "could not confirm",
    "neither confirmed nor denied",
    "would not confirm",
    "declined to comment",
    "did not respond",
    "rumor",
    "rumors",
    "rumour",
    "rumours",
    "rumored",
    "rumoured",
    "speculation",
    "speculated",
    "it is unclear",
    "it was unclear",
    "it is not clear",
    "remains unclear",
    "is said to",
    "are said to",
    "was said to",
    "is believed to",
    "are believed to",
    "may have",
    "might have",
    "could be",
    "may be",
    "possibly",
    "suggests",
    "appears to",
    "seems to",
)
# Extra hedges of headline language ("X to split -- report", "Is X real?").
HEADLINE_HEDGES: tuple[str, ...] = (
    "report",
    "reports",
    "reported",
    "according to",
    "sources",
    "source",
    "could",
    "may",
    "might",
    "rumour",
    "claim",
    "says",
    "said",
    "?",
    "possible",
    "investigating",
    "probe",
)
# Attribution language: an article that relays what others say about a claim, rather
# than stating it, "discusses" it (a weaker hedge than "reportedly").
REPORTING_TERMS: tuple[str, ...] = (
    "according to",
    "report",
    "reports",
    "reported",
    "said",
    "says",
    "told",
    "claims",
    "claimed",
    "could",
    "might",
    "may",
)
# Negators that turn a denial back around ("not false") or make "no X" a denial.
NEGATORS: tuple[str, ...] = ("not", "n't", "never", "no", "nor", "neither", "cannot")


def cue_pattern(terms: Iterable[str]) -> re.Pattern[str]:
    """One case-insensitive regex matching any term as whole words (longest first)."""
    parts = []
    for term in sorted(set(terms), key=len, reverse=True):
        escaped = re.escape(term).replace(r"\ ", r"\s+")
        left = r"(?<![\w'’])" if term[0].isalnum() else ""
        right = r"(?![\w'’])" if term[-1].isalnum() else ""
        parts.append(left + escaped + right)
    return re.compile("|".join(parts), re.IGNORECASE)


DENIAL_CUE = cue_pattern(DENIAL_TERMS)
HEDGE_CUE = cue_pattern(HEDGE_TERMS)
HEADLINE_HEDGE_CUE = cue_pattern(HEADLINE_HEDGES)
REPORTING_CUE = cue_pattern(REPORTING_TERMS)
NEITHER_NOR_CUE = re.compile(
    r"\bneither\s+(?:\w+ly\s+)?(?:confirmed|denied)\s+nor\s+(?:\w+ly\s+)?(?:confirmed|denied)\b",
    re.IGNORECASE,
)
# "did not deny", "not false", "no denial": a negated denial is not a denial.
NEGATED_DENIAL = re.compile(
    r"\b(?:not|n't|never|no)\s+(?:\w+\s+)?(?:deny|denied|denial|false|untrue|fake|a hoax)\b",
    re.IGNORECASE,
)


# The adverbs by which an article relays a report it does not vouch for.
REPORTED_ADVERB = re.compile(
    r"\b(?:reportedly|allegedly|purportedly|supposedly|is said to|are said to)\b", re.IGNORECASE
)


def find_cues(pattern: re.Pattern[str], text: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in pattern.finditer(text)]


def has_denial(text: str) -> bool:
    """True when text rejects something, ignoring negated denials and neither/nor hedges."""
    cleaned = NEITHER_NOR_CUE.sub(" ", text)
    cleaned = NEGATED_DENIAL.sub(" ", cleaned)
    return DENIAL_CUE.search(cleaned) is not None


def has_hedge(text: str) -> bool:
    return HEDGE_CUE.search(text) is not None or NEITHER_NOR_CUE.search(text) is not None


def clause_stance(
    text: str, *, denial_verb: bool = False, hedge_verb: bool = False
) -> ClauseStance:
    """Stance of one attributed clause: denial beats hedge beats plain assertion."""
    if NEITHER_NOR_CUE.search(text):
        return "unverified"
    if denial_verb or has_denial(text):
        return "deny"
    if hedge_verb or has_hedge(text):
        return "unverified"
    return "confirm"


# ---------------------------------------------------------------- stance-only lexicons
# Used by the eval stance predictor (`stance.py`) only, so the extractor's records do not
# move with them. Both lists are published baselines, taken whole, not fitted to any row.

# The refuting words of the FNC-1 baseline (FakeNewsChallenge/fnc-1-baseline,
# feature_engineering.py `refuting_features`). Its "not" is left to the negation-scope
# test in `stance.py` (a bare "not" anywhere in a body is no denial of the claim).
REFUTING_WORDS: tuple[str, ...] = (
    "fake",
    "fraud",
    "hoax",
    "false",
    "deny",
    "denies",
    "despite",
    "nope",
    "doubt",
    "doubts",
    "bogus",
    "debunk",
    "pranks",
    "retract",
)
# The hedging seed words of Ferreira & Vlachos (2016, the Emergent paper), as used by the
# FNC-1 winning system (Cisco Talos, `_hedging_seed_words`).
HEDGING_SEED_WORDS: tuple[str, ...] = (
    "alleged",
    "allegedly",
    "apparently",
    "appear",
    "appears",
    "claim",
    "claims",
    "could",
    "evidently",
    "largely",
    "likely",
    "mainly",
    "may",
    "maybe",
    "might",
    "mostly",
    "perhaps",
    "presumably",
    "probably",
    "purported",
    "purportedly",
    "reported",
    "reportedly",
    "rumor",
    "rumour",
    "rumors",
    "rumours",
    "rumored",
    "rumoured",
    "says",
    "seem",
    "somewhat",
    "supposedly",
    "unconfirmed",
)
REFUTING_CUE = cue_pattern(DENIAL_TERMS + REFUTING_WORDS)
HEDGING_CUE = cue_pattern(HEDGE_TERMS + HEDGING_SEED_WORDS)
