"""Text primitives every stage agrees on: what a word is, when a quote is too short to
count, the `date YYYY-MM-DD` prefix of an article file, and a light word stemmer.

One definition each, so the loader, the rules extractor and grounding never disagree.
"""

from __future__ import annotations

import re

WORD = re.compile(r"\w+", re.UNICODE)
# A quote of fewer words (a number, a name, one word) is never counted as grounded.
MIN_QUOTE_WORDS = 3
# "date 2024-11-11 " at the very start of an article file: metadata, not article prose.
# No leading `\s*`: `date_prefix` skips the space itself, so a search over a long run of
# spaces never re-scans the run from every position.
DATE_PREFIX = re.compile(r"date\s++(?P<date>\d{4}-\d{2}-\d{2})\b\s*+")


def word_count(text: str) -> int:
    """Words: runs of letters and digits (any script)."""
    return len(WORD.findall(text))


def date_prefix(text: str, pos: int = 0) -> re.Match[str] | None:
    """The `date YYYY-MM-DD` prefix at text[pos:], when nothing but space precedes pos."""
    if text[:pos].strip():
        return None
    start = pos
    while start < len(text) and text[start].isspace():
        start += 1
    return DATE_PREFIX.match(text, start)


def stem(word: str) -> str:
    """A crude suffix stripper: enough to match 'splits', 'split', 'splitting'."""
    w = word.lower().replace("’", "'")
    w = re.sub(r"'s$", "", w)
    for suffix in ("ing", "edly", "ed", "ies", "es", "s", "ly"):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3:
            w = w[: -len(suffix)]
            break
    return w[:-1] if len(w) > 4 and w[-1] == w[-2] else w


def encodable(text: str) -> bool:
    """True when text can be written as UTF-8 (no lone surrogates)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
