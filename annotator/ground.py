"""Locate each quote in the article text: exact, then normalised, then fuzzy.

Pure: text in, spans out. A quote that cannot be found gets `grounding: none` and no
span, never invented offsets; a quote of one or two words is never counted as grounded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from rapidfuzz import fuzz

from annotator.core.text import MIN_QUOTE_WORDS, word_count

GroundingStatus = Literal["exact", "fuzzy", "none"]
FUZZY_THRESHOLD = 90.0  # rapidfuzz ratio over the aligned window, 0-100

_CHAR_MAP = {
    "\u2018": "'",
    "\u2019": "'",
    "\u201a": "'",
    "\u201b": "'",
    "\u2032": "'",
    "`": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u201e": '"',
    "\u201f": '"',
    "\u2033": '"',
    "\u00ab": '"',
    "\u00bb": '"',
    "\u2010": "-",
    "\u2011": "-",
    "\u2012": "-",
    "\u2013": "-",
    "\u2014": "-",
    "\u2015": "-",
    "\u2212": "-",
    "\u00a0": " ",
    "\u2009": " ",
    "\u202f": " ",
    "\u2026": "...",
}


@dataclass(frozen=True)
class GroundedQuote:
    span: tuple[int, int] | None
    grounding: GroundingStatus
    reason: str | None = None  # why not grounded, for the record's flags


def normalise_with_map(text: str) -> tuple[str, list[int]]:
    """Fold quotes, dashes and whitespace runs; return the folded text and, for each of
    its characters, the offset of the original character it came from."""
    out: list[str] = []
    index: list[int] = []
    prev_space = False
    for i, ch in enumerate(text):
        rep = _CHAR_MAP.get(ch, ch)
        if rep.isspace():
            if prev_space:
                continue
            rep, prev_space = " ", True
        else:
            prev_space = False
        for r in rep:
            out.append(r.lower())
            index.append(i)
    return "".join(out), index


def _to_original(index: list[int], start: int, end: int) -> tuple[int, int]:
    return index[start], index[end - 1] + 1


def ground_quote(text: str, quote: str) -> GroundedQuote:
    """Find quote in text: its first exact occurrence, else a normalised or fuzzy match."""
    q = quote.strip()
    if not q:
        return GroundedQuote(None, "none", "empty_quote")
    if word_count(q) < MIN_QUOTE_WORDS:
        return GroundedQuote(None, "none", "quote_too_short")
    pos = text.find(q)
    if pos >= 0:
        return GroundedQuote((pos, pos + len(q)), "exact")
    norm_text, index = normalise_with_map(text)
    norm_q, _ = normalise_with_map(q)
    norm_q = norm_q.strip().strip("\"'").strip()
    if word_count(norm_q) < MIN_QUOTE_WORDS:
        return GroundedQuote(None, "none", "quote_too_short")
    pos = norm_text.find(norm_q)
    if pos >= 0:
        return GroundedQuote(_to_original(index, pos, pos + len(norm_q)), "exact")
    return _fuzzy(norm_text, index, norm_q)


def _fuzzy(norm_text: str, index: list[int], norm_q: str) -> GroundedQuote:
    if len(norm_q) > len(norm_text) + 20:
        return GroundedQuote(None, "none", "quote_not_found")
    al = fuzz.partial_ratio_alignment(norm_q, norm_text, score_cutoff=FUZZY_THRESHOLD)
    if al is None:
        return GroundedQuote(None, "none", "quote_not_found")
    start, end = _snap_to_words(norm_text, al.dest_start, al.dest_end)
    if not norm_q.startswith(("'", '"')):
        while start < end and norm_text[start] in "\"' ":
            start += 1
    if not norm_q.endswith(("'", '"')):
        while end > start and norm_text[end - 1] in "\"' ":
            end -= 1
    window = norm_text[start:end]
    # partial_ratio can align a long quote to a short window; require comparable length
    if len(window) < 0.8 * len(norm_q) or fuzz.ratio(norm_q, window) < FUZZY_THRESHOLD - 5:
        return GroundedQuote(None, "none", "quote_not_found")
    s, e = _to_original(index, start, end)
    return GroundedQuote((s, e), "fuzzy")


def _snap_to_words(text: str, start: int, end: int) -> tuple[int, int]:
    while start > 0 and text[start - 1].isalnum() and text[start].isalnum():
        start -= 1
    while end < len(text) and text[end - 1].isalnum() and text[end].isalnum():
        end += 1
    while start < end and text[start] == " ":
        start += 1
    while end > start and text[end - 1] == " ":
        end -= 1
    return start, end
