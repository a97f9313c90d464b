"""Numbers in claim statements, with what they count: "12 people" -> "12|peopl",
"$5 million" and "5 million dollars" -> "5000000|$", "6 percent" -> "6|%",
"magnitude 6.9" -> "6.9|magnit". Two statements' numbers conflict only where both count
the same thing and no figure agrees within rounding."""

from __future__ import annotations

import re
from collections.abc import Callable

from annotator.reconcile.places import is_place

_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?", re.UNICODE)


def same_quantities(a: frozenset[str] | None, b: frozenset[str] | None) -> bool:
    """Numbers conflict only where both count the same thing and no count agrees (within
    rounding): "cut 500 jobs" / "cut 5,000 jobs"; "a 280-pound catfish" / "a 19-stone
    catfish", or figures with no unit, do not compare."""
    if a is None or b is None:
        return True
    mine, theirs = _by_unit(a), _by_unit(b)
    return all(
        any(abs(x - y) <= ROUNDING * max(abs(x), abs(y)) for x in mine[u] for y in theirs[u])
        for u in mine.keys() & theirs.keys()
    )


ROUNDING = 0.02  # "111,000 jobs" and "110,000 jobs" are one figure, rounded


def _by_unit(quantities: frozenset[str]) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    for q in quantities:
        value, _, unit = q.partition("|")
        if unit:
            try:
                out.setdefault(unit, []).append(float(value))
            except ValueError:
                continue
    return out


_SCALE = {"hundred": 100, "thousand": 1000, "k": 1000, "million": 10**6, "m": 10**6,
          "mn": 10**6, "billion": 10**9, "bn": 10**9, "trillion": 10**12}  # fmt: skip
# a currency written as a word or code after the figure: its sign ("pound" is also a
# weight, so it is left as a word)
_CURRENCY = {"dollar": "$", "dollars": "$", "usd": "$", "euro": "€", "euros": "€",
             "eur": "€", "gbp": "£", "sterling": "£", "yen": "¥", "jpy": "¥"}  # fmt: skip
_AFTER_NUMBER = re.compile(r"[\s-]*(%|per\s*cent\b)?([^\W\d_]+)?", re.UNICODE)


def quantity(
    value: str, before: str, after: str, stem: Callable[[str], str | None]
) -> tuple[str, ...]:
    """ "value|unit" for each thing the number may count: the value times a scale word
    after it, the unit a currency sign before it or a currency's name after it, or the
    stem of the word after it and of the next content word after a nationality ("12
    people" -> 12|peopl, "$5 million" -> 5000000|$, "seven Filipino crew members" ->
    7|filipi and 7|crew: the noun comes after the demonym); and the stem of a content
    word right before it ("magnitude 6.9" -> 6.9|magnit). `stem`: a word's stem, None for
    a word that says nothing (were, of)."""
    m = _AFTER_NUMBER.match(after)
    assert m is not None
    words = after[m.end(1) if m.group(1) else 0 :]
    nxt = _WORD.findall(words[:40].lower())[:2]
    amount = float(value)
    if nxt and nxt[0] in _SCALE:
        amount *= _SCALE[nxt[0]]
        nxt = nxt[1:]
    if before.rstrip()[-1:] in ("$", "£", "€", "¥"):
        units = [before.rstrip()[-1]]
    elif nxt and nxt[0] in _CURRENCY:  # "4.5 million dollars" is "$4.5 million"
        units = [_CURRENCY[nxt[0]]]
    elif m.group(1):
        units = ["%"]
    elif nxt:
        units = [stem(nxt[0]) or nxt[0]]
        if len(nxt) > 1 and is_place(nxt[0]) and (noun := stem(nxt[1])):
            units.append(noun)
    else:
        units = [""]
    # what the number measures may be written before it: "magnitude 6.9", "a magnitude
    # 7.1 earthquake" (both count magnitude), "Article 5", "Flight 17"
    tail = before[-40:]
    if tail[-1:].isspace():
        written = _WORD.findall(tail.rstrip())
        if written and tail.rstrip().endswith(written[-1]):
            noun = stem(written[-1].lower())
            if noun and noun not in units:
                units.append(noun)
    return tuple(f"{amount:g}|{unit}" for unit in units)
