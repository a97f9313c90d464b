"""Anchors: what two claim statements must agree on to be one claim, found in the text.

Years, months, dates, weekdays and numbers (compared by what they count: "500 jobs" /
"5,000 jobs", not "280 pounds" / "19 stone"), whether a time is "since/after" or
"before/until", the event a time is measured from ("after the election"), a disposition
or possibility against the fact, news time. Each separates two propositions only where
BOTH sides state one; otherwise meaning decides.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, TypeVar

from annotator.reconcile.quantities import quantity, same_quantities
from annotator.reconcile.words import CONTENT, WORD, content_stem, split_words, word_class

_T = TypeVar("_T")

_MONTHS = {
    m: i
    for i, names in enumerate(
        (
            ("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"),
            ("may",), ("june", "jun"), ("july", "jul"), ("august", "aug"),
            ("september", "sep", "sept"), ("october", "oct"), ("november", "nov"),
            ("december", "dec"),
        ),
        start=1,
    )
    for m in names
}  # fmt: skip
_WEEKDAYS = {
    d: i
    for i, d in enumerate(split_words("monday tuesday wednesday thursday friday saturday sunday"))
}
_AFTER = frozenset({"since", "after", "following", "from"})
_BEFORE = frozenset({"before", "until", "till", "prior", "by", "ahead"})
_AT = frozenset({"on", "in", "at", "during", "of"})
_M = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_DATE = re.compile(
    rf"\b(?P<m1>{_M})\s+(?P<d1>\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s+(?P<y1>(?:19|20)\d\d)\b)?"
    rf"|\b(?P<d2>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<m2>{_M})(?:,?\s+(?P<y2>(?:19|20)\d\d)\b)?"
    rf"|\b(?P<m3>{_M})(?:,?\s+(?P<y3>(?:19|20)\d\d))\b"
    r"|\b(?P<y4>(?:19|20)\d\d)s?\b"
    r"|\b(?P<wd>monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b"
    r"|\b(?P<num>\d+(?:[.,]\d+)*)(?![\d.,]*\d)",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Anchors:
    """What two statements must agree on to be one claim (None: not stated, agrees)."""

    years: frozenset[int] | None = None
    months: frozenset[int] | None = None
    days: frozenset[tuple[int, int]] | None = None
    weekdays: frozenset[int] | None = None
    numbers: frozenset[str] | None = None
    relations: frozenset[str] | None = None  # "after" / "before", attached to a time
    dated: bool = False  # any of years .. relations stated (a fast path when not)
    # a disposition (readiness, wish, intention: "ready to speak") or a possibility about
    # the past ("could have opposed"): not the event itself ...
    modal: bool = False
    # ... which a statement that the event happened ("spoke", "was informed") reports
    realis: bool = False
    # a prediction or schedule ("will visit", "is due to meet"): soft against a report
    # ("visited"), unless both name the time, which the report then places in the past
    predicted: bool = False
    # "after the election" / "since he left office": the words of the event a time is
    # measured from (None: no such phrase)
    reference: frozenset[str] | None = None
    reference_sides: frozenset[str] | None = None  # "after" / "before" it
    # News time: "they spoke", "they spoke on Tuesday" (no year, no other event to count
    # from) in an article refers to the event the article reports, near its publication:
    # this is the article's year (set by the caller, see `news_time`)
    implied_year: int | None = None
    # a span of time, not one recent event: the perfect with "since" ("have spoken since
    # he left office"), or several occasions ("spoke at various points after ...")
    open_range: bool = False
    # "last year" (-1), "this year" (0), "next year" (+1): a year counted from the
    # article's, which the caller turns into `years` (see `in_article_year`)
    relative_year: int | None = None
    # a time counted from the article's day: "next week", "yesterday", "this month"
    relative_time: bool = False

    @property
    def plain(self) -> bool:
        """No time, reference or mood beyond "it happened": two plain anchors agree."""
        return not (
            self.dated
            or self.modal
            or self.reference is not None
            or self.implied_year is not None
            or self.open_range
            or self.relative_year is not None
            or self.relative_time
        )

    @property
    def timed(self) -> bool:
        """A time is stated: a year, month, day or weekday, or one counted from the
        article's ("next week", "last year")."""
        return not (
            self.years is None
            and self.months is None
            and self.days is None
            and self.weekdays is None
            and self.relative_year is None
            and not self.relative_time
        )

    @property
    def news_time(self) -> bool:
        """Whether the statement's time is the article's: a past event or a day or month
        with no year and no reference event."""
        return (
            self.years is None
            and self.relative_year is None
            and self.reference is None
            and (self.realis or self.weekdays is not None or self.months is not None)
        )

    def compatible(self, other: Anchors) -> bool:
        if self.modal != other.modal and (self.realis if other.modal else other.realis):
            return False  # "ready to speak" / "could have spoken" vs "spoke"
        for a, b in ((self, other), (other, self)):
            # "they spoke" (an article of 2024) is not "they spoke after 2021": an open
            # range of years or another year does not pin the event near publication
            if a.implied_year is not None and (
                b.open_range or (b.years is not None and b.years != {a.implied_year})
            ):
                return False
        if not self._same_reference(other):
            return False
        if ((self.predicted and other.realis) or (self.realis and other.predicted)) and (
            self.timed and other.timed
        ):
            return False  # "will visit on Wednesday" / "visited on Wednesday"
        if not (self.dated and other.dated):
            return True
        stated: tuple[tuple[frozenset[Any] | None, frozenset[Any] | None], ...] = (
            (self.years, other.years),
            (self.months, other.months),
            (self.days, other.days),
            (self.weekdays, other.weekdays),
            (self.relations, other.relations),
        )
        for mine, theirs in stated:
            # both state one and none agrees: a headline that adds a figure ("split in
            # two, lay off 5,000") still tells the same story as one that does not
            if mine is not None and theirs is not None and not (mine & theirs):
                return False
        return same_quantities(self.numbers, other.numbers)

    def _same_reference(self, other: Anchors) -> bool:
        """ "Spoke after the election" is not "spoke after his term ended", nor "spoke
        since July 2020": times measured from other events, or from a date, differ."""
        mine, theirs = self.reference, other.reference
        if mine is not None and theirs is not None:
            # one event, measured from on two sides: "before" / "after the summit"
            sides = self.reference_sides, other.reference_sides
            return bool(mine & theirs) and not (sides[0] and sides[1] and not sides[0] & sides[1])
        if mine is not None or theirs is not None:
            dated_only = other if mine is not None else self
            return not (dated_only.relations and dated_only.reference is None)
        return True


def _relation(text: str, start: int) -> str | None:
    """ "after/since/before ..." up to three words before a date; a nearer "on"/"in"
    ("by phone on Thursday") means the date is when, not a bound."""
    before = WORD.findall(text[max(0, start - 30) : start].lower())[-3:]
    for w in reversed(before):
        if w in _AFTER:
            return "after"
        if w in _BEFORE:
            return "before"
        if w in _AT:
            return None
    return None


_REFERENCE = re.compile(
    r"\b(?:(?P<after>after|since|following)|(?P<before>before|until|prior\s+to|ahead\s+of))"
    r"\s+(?P<phrase>[^,;.:]{3,80})",
    re.IGNORECASE,
)


def reference_stems(text: str) -> frozenset[str] | None:
    """Content stems of the event after "after/since/before..." ("after Trump's
    first term ended" -> term, end, ...); None when the time is a bare date or absent."""
    return references(text)[0]


def references(text: str) -> tuple[frozenset[str] | None, frozenset[str] | None]:
    """(`reference_stems`, on which side of those events the statement is: "after"
    (after, since, following) or "before" (before, until, prior to, ahead of)): "they met
    before the summit" is not "they met after the summit". ("During" is left out: it
    mostly tells the circumstances of a claim, "brave during the attack" / "brave after
    the attack" are one claim.)"""
    stems: set[str] = set()
    sides: set[str] = set()
    for m in _REFERENCE.finditer(text):
        found = False
        phrase = _DATE.sub(" ", m.group("phrase"))
        for w in WORD.findall(phrase):
            if w[0].isupper():
                continue  # who it is about ("Trump's first term") is not which event
            kind, value = word_class(w.lower())
            if kind == CONTENT:
                stems.add(value)
                found = True
        if found:
            sides.add("after" if m.group("after") else "before")
    return (frozenset(stems), frozenset(sides)) if stems else (None, None)


def as_set(values: set[_T]) -> frozenset[_T] | None:
    return frozenset(values) if values else None


_DATE_HINT = re.compile(
    r"\d|\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|mon|tue|wed|thu|fri|sat|sun)",
    re.IGNORECASE,
)


@dataclass(slots=True)
class FoundTimes:
    years: set[int] = field(default_factory=set)
    months: set[int] = field(default_factory=set)
    days: set[tuple[int, int]] = field(default_factory=set)
    weekdays: set[int] = field(default_factory=set)
    numbers: set[str] = field(default_factory=set)
    relations: set[str] = field(default_factory=set)


def time_anchors(text: str) -> tuple[FoundTimes, str]:
    """Dates, years, weekdays and numbers in the text, and the text without them."""
    found = FoundTimes()
    if not _DATE_HINT.search(text):
        return found, text
    for m in _DATE.finditer(text):
        g = m.groupdict()
        if g["num"] is not None:
            digits = g["num"].replace(",", "")
            try:
                found.numbers.update(
                    quantity(digits, text[: m.start()], text[m.end() :], content_stem)
                )
            except ValueError:  # "1.2.3"
                found.numbers.add(f"{digits}|")
            continue
        month = g["m1"] or g["m2"] or g["m3"]
        year = g["y1"] or g["y2"] or g["y3"] or g["y4"]
        if month is not None:
            month_no = _MONTHS.get(month.lower().rstrip(".")[:3])
            if month_no is None:
                continue
            found.months.add(month_no)
            day = g["d1"] or g["d2"]
            if day:
                found.days.add((month_no, int(day)))
        if year:
            found.years.add(int(year))
        if g["wd"]:
            found.weekdays.add(_WEEKDAYS[g["wd"].lower()])
        rel = _relation(text, m.start())
        if rel:
            found.relations.add(rel)
    return found, _DATE.sub(" ", text)


_RELATIVE_TIME = re.compile(
    r"\b(?:(?:last|previous|this|next|coming)\s+(?:week|weekend|month)|yesterday|today|"
    r"tonight|tomorrow)\b",
    re.IGNORECASE,
)


def relative_time(text: str) -> bool:
    """A time counted from the article's day other than a year: "next week", "yesterday"."""
    return _RELATIVE_TIME.search(text) is not None


_RELATIVE_YEAR = re.compile(r"\b(last|previous|this|next)\s+year\b", re.IGNORECASE)
_YEAR_OFFSET = {"last": -1, "previous": -1, "this": 0, "next": 1}


def relative_year(text: str) -> int | None:
    """The year a statement names relative to its article's ("last year": -1)."""
    m = _RELATIVE_YEAR.search(text)
    return None if m is None else _YEAR_OFFSET[m.group(1).lower()]
