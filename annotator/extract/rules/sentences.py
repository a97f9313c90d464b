"""Sentence, clause and quotation spans of an article, as offsets into its exact text.

Used by the rules extractor so every quote it returns is a real span of the article.
Handles what news text throws at a splitter: abbreviations (U.S., Nov.), quotations that
run over several sentences, curly and straight quote marks (also misused ones),
paragraphs broken mid-sentence, and headline, caption and byline lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from annotator.core.text import date_prefix
from annotator.extract.rules.attribution import word_set

OPEN_QUOTES = "“"
CLOSE_QUOTES = "”"
STRAIGHT = '"'
TERMINAL = ".!?…"
ABBREVIATIONS: frozenset[str] = word_set("""
    mr mrs ms dr prof gen sen rep gov lt col sgt capt st jr sr inc corp co ltd no vs etc
    jan feb mar apr jun jul aug sep sept oct nov dec e.g i.e a.m p.m approx est dept
    """)
_BOUNDARY = re.compile(r"(?<![.!?…])[.!?…]++[”\"’)\]]*+(?=\s++[“\"‘(\[*]?[A-Z0-9])")
_NON_PROSE = re.compile(r"^\s*(?:#|\*\*|Original url:|<https?:|Follow\b|Updated:|\d+:\d+\s*$)")


@dataclass(frozen=True)
class Sentence:
    start: int
    end: int
    prose: bool  # False for headlines, captions, bylines, link lines

    def text(self, article: str) -> str:
        return article[self.start : self.end]


def quote_pairs(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """(open, close) offsets of quotation marks in text[start:end], paired leniently.

    A curly opener that meets another opener before a closer was never closed and is
    dropped; a closer followed directly by a letter is a misused opener (Trump”said...).
    """
    pairs: list[tuple[int, int]] = []
    open_at: int | None = None
    open_char = ""
    for i in range(start, end):
        ch = text[i]
        if ch == STRAIGHT:
            if open_at is not None and open_char == STRAIGHT:
                pairs.append((open_at, i))
                open_at = None
            elif open_at is None:
                open_at, open_char = i, STRAIGHT
            continue
        if ch in OPEN_QUOTES:
            open_at, open_char = i, ch
        elif ch in CLOSE_QUOTES:
            nxt = text[i + 1] if i + 1 < len(text) else ""
            if open_at is not None and open_char != STRAIGHT:
                pairs.append((open_at, i))
                open_at = None
            elif open_at is None and nxt.isalnum():
                open_at, open_char = i, ch
    return pairs


def inside_quotes(pairs: list[tuple[int, int]], pos: int) -> bool:
    return any(o < pos < c for o, c in pairs)


def _open_balance(text: str, start: int, end: int) -> int:
    """1 when the piece ends inside an unclosed quotation, else 0."""
    pairs = quote_pairs(text, start, end)
    closed = {i for pair in pairs for i in pair}
    for i in range(end - 1, start - 1, -1):
        ch = text[i]
        if ch in OPEN_QUOTES + CLOSE_QUOTES + STRAIGHT and i not in closed:
            return 1 if ch in OPEN_QUOTES or ch == STRAIGHT else 0
        if i in closed:
            return 0
    return 0


def _closes_first(text: str, start: int, end: int) -> bool:
    """True when the first quotation mark in the piece closes a quotation."""
    for i in range(start, end):
        ch = text[i]
        if ch in CLOSE_QUOTES:
            return True
        if ch in OPEN_QUOTES:
            return False
        if ch == STRAIGHT:
            return i + 1 >= end or not text[i + 1].isalnum()
    return False


def _is_abbreviation(text: str, dot: int) -> bool:
    m = re.search(r"([\w.]{1,12})\.$", text[max(0, dot - 12) : dot + 1])
    if not m:
        return False
    word = m.group(1)
    if re.fullmatch(r"(?:[A-Za-z]\.)*[A-Za-z]", word):  # U.S, J, e.g
        return True
    return word.lower() in ABBREVIATIONS


def _paragraphs(text: str) -> list[tuple[int, int]]:
    """Line spans, with a line that stops mid-sentence joined to the lower-case next one."""
    spans = [(m.start(), m.end()) for m in re.finditer(r"[^\n]+", text) if m.group().strip()]
    merged: list[tuple[int, int]] = []
    for s, e in spans:
        if merged:
            ps, pe = merged[-1]
            prev = text[ps:pe].rstrip()
            nxt = text[s:e].lstrip()
            if prev and prev[-1].isalpha() and nxt[:1].islower():
                merged[-1] = (ps, e)
                continue
        merged.append((s, e))
    return merged


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def split_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentence spans inside text[start:end], keeping multi-sentence quotations whole."""
    pieces: list[tuple[int, int]] = []
    cursor = start
    for m in _BOUNDARY.finditer(text, start, end):
        dot = m.start()
        if text[dot] == "." and m.end() - dot == 1 and _is_abbreviation(text, dot):
            continue
        pieces.append((cursor, m.end()))
        cursor = m.end()
    pieces.append((cursor, end))
    merged: list[tuple[int, int]] = []
    for s, e in pieces:
        s, e = _trim(text, s, e)
        if s >= e:
            continue
        if merged and _open_balance(text, *merged[-1]) and _closes_first(text, s, end):
            merged[-1] = (merged[-1][0], e)
        else:
            merged.append((s, e))
    return merged


def sentences(text: str) -> list[Sentence]:
    """Every sentence of the article; non-prose lines are kept but marked."""
    out: list[Sentence] = []
    for ps, pe in _paragraphs(text):
        dm = date_prefix(text, ps)
        if dm:
            ps = min(dm.end(), pe)
        line = text[ps:pe].strip()
        ending = line.rstrip('”"’)*] ')
        prose = bool(ending) and ending[-1] in TERMINAL + ",;:" and not _NON_PROSE.match(line)
        for s, e in split_spans(text, ps, pe):
            out.append(Sentence(s, e, prose))
    return out


def quoted_inner(text: str, pair: tuple[int, int]) -> tuple[int, int]:
    """The span inside a quotation pair, trimmed of space and trailing comma."""
    s, e = _trim(text, pair[0] + 1, pair[1])
    while e > s and text[e - 1] in ",;:":
        e -= 1
    return s, e


def whole_quotation(text: str, s: int, e: int) -> tuple[int, int] | None:
    """The inside of a clause that is one quotation and nothing else."""
    body = text[s:e].strip()
    pairs = quote_pairs(text, s, e)
    if len(pairs) == 1 and body[:1] in '“"' and body.rstrip(".")[-1:] in '”"':
        return quoted_inner(text, pairs[0])
    return None


def trim_clause(text: str, s: int, e: int) -> tuple[int, int]:
    m = re.match(r"\s*(?:(?:but|and|while|however),?\s+)?", text[s:e], re.IGNORECASE)
    if m:
        s += m.end()
    while e > s and text[e - 1] in " \n\t":
        e -= 1
    return s, e


def trim_span(text: str, s: int, e: int) -> tuple[int, int]:
    while s < e and text[s] in " \n\t,;:–—-":
        s += 1
    while e > s and text[e - 1] in " \n\t,;:–—-":
        e -= 1
    return s, e
