"""What a claim statement says, for comparing statements without a model.

A statement becomes a set of content words (lower-cased, light stemming; function words,
titles and reporting verbs dropped: paraphrase is the embedding model's job, not a word
list's) and `Anchors`, features that separate two propositions only where BOTH sides
carry one (otherwise meaning decides): years, months, dates, weekdays, numbers compared
by what they count ("500 jobs" / "5,000 jobs", not "280 pounds" / "19 stone"), whether a
time is "since/after" or "before/until", the event a time is measured from, a
disposition or possibility ("ready to speak", "could have opposed") against a statement
that the event happened ("spoke"), and news time (an undated past event is the one the
article reports, not a span of years). Softer signals are kept for the scorer: the
polarity of the main clause, the names a statement mentions and the role each fills.
"They spoke after the 2024 election", "they spoke after 2021" and "they have not spoken
since July 2020" are three claims.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, TypeVar

from annotator.reconcile.names import TITLE_WORDS, fold
from annotator.reconcile.quantities import quantity, same_quantities

_T = TypeVar("_T")


def _split(text: str) -> list[str]:
    return text.split()


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
    d: i for i, d in enumerate(_split("monday tuesday wednesday thursday friday saturday sunday"))
}
_NUMBER_WORDS = {
    w: str(i)
    for i, w in enumerate(
        _split("zero one two three four five six seven eight nine ten eleven twelve")
    )
    if i >= 2  # "one" is mostly a pronoun ("one of the sources")
} | {"dozen": "12"}  # scale words ("million") belong to the number before them
_AFTER = frozenset({"since", "after", "following", "from"})
_BEFORE = frozenset({"before", "until", "till", "prior", "by", "ahead"})
_AT = frozenset({"on", "in", "at", "during", "of"})
_NEGATIONS = frozenset({"not", "no", "never", "neither", "nor", "none", "nobody", "nothing"})
# A disposition (readiness, willingness, ability, wish, intention) is a claim about a
# person, not the event it points to: "Putin is ready to speak to Trump" is not "they spoke".
_DISPOSITION = frozenset(
    _split(
        """ready readiness willing willingness unwilling prepared able unable eager keen
    want wants wanted expect expects expected wish wishes wished desire desires intend
    intends intended intention hope hopes hoped"""
    )
)
# Irrealis: a prediction or possibility. Headlines write one event as "X to split", "X
# will split", "X splits", so this only lowers a score, it does not forbid a match.
_IRREALIS = frozenset(_split("will would could might may can shall ll"))
_MODAL_PERFECT = frozenset(_split("would could might may must should"))  # + "have" + done
_PAST_AUX = frozenset(_split("was were had did"))
_PRESENT_PASSIVE = frozenset(_split("is are be been being am to"))  # "is expected": not past
# Clause openers after "and"/"but": a new predicate whose polarity is its own
_CLAUSE_START = frozenset(
    _split(
        """did does do was were is are has have had would will could can should not never
    also then"""
    )
)
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
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?", re.UNICODE)
_US = re.compile(r"\bU\.S\.(?:A\.)?|\bUS\b|\bUSA\b")

_STOP = frozenset(
    _split(
        """a an the and or but of to in on at by for with about from into over after before since
    during as than then there here that this these those which who whom whose what when where
    why how it its he him his she her they them their we our you your i me my us is are was
    were be been being am do does did done has have had having will would shall should can
    could may might must also already reportedly allegedly just only even still yet very
    more most some any each other such own same so too s t again further once both all few
    say said says state stated tell told report reported according claim claimed add added
    while whether if because actually officially publicly recently against within
    hold take make get give put keep go come way"""
    )
)
_IRREGULAR = {
    "spoke": "speak", "spoken": "speak", "held": "hold", "took": "take", "taken": "take",
    "made": "make", "met": "meet", "won": "win", "gave": "give", "given": "give",
    "sent": "send", "began": "begin", "begun": "begin", "wrote": "write", "written": "write",
    "knew": "know", "known": "know", "left": "leave", "went": "go", "gone": "go",
    "came": "come", "saw": "see", "seen": "see", "thought": "think", "brought": "bring",
    "sought": "seek", "fought": "fight", "led": "lead", "paid": "pay", "kept": "keep",
    "lost": "lose", "understood": "understand", "became": "become", "chose": "choose",
    "broke": "break", "spent": "spend", "sold": "sell", "heard": "hear", "meant": "mean",
    "fell": "fall", "rose": "rise", "struck": "strike", "ran": "run",
}  # fmt: skip


_IRREGULAR_PAST = frozenset(_IRREGULAR) | {"said", "told"}


@lru_cache(maxsize=1 << 16)
def stem(word: str) -> str:
    """A light, consistent stem: irregular forms, one inflection off, folded, cut at 6."""
    w = _IRREGULAR.get(word, word)
    if len(w) > 7 and w.endswith("ness"):  # the quality is its adjective: readiness, ready
        w = w[:-5] + "y" if w[-5] == "i" else w[:-4]
    if len(w) > 4 and w.endswith("ies"):
        w = w[:-3] + "y"
    else:
        for suffix in ("ing", "ed", "es", "s", "e"):
            if w.endswith(suffix) and len(w) - len(suffix) >= 3 and not w.endswith("ss"):
                w = w[: -len(suffix)]
                break
    return fold(w)[:6]


_STOP_STEMS = frozenset(stem(w) for w in _STOP | TITLE_WORDS)
_TITLE_STEMS = frozenset(stem(w) for w in TITLE_WORDS)


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
    # "after the election" / "since he left office": the words of the event a time is
    # measured from (None: no such phrase)
    reference: frozenset[str] | None = None
    # News time: "they spoke", "they spoke on Tuesday" (no year, no other event to count
    # from) in an article refers to the event the article reports, near its publication:
    # this is the article's year (set by the caller, see `news_time`)
    implied_year: int | None = None
    # a span of time, not one recent event: the perfect with "since" ("have spoken since
    # he left office"), or several occasions ("spoke at various points after ...")
    open_range: bool = False

    @property
    def plain(self) -> bool:
        """No time, reference or mood beyond "it happened": two plain anchors agree."""
        return not (
            self.dated
            or self.modal
            or self.reference is not None
            or self.implied_year is not None
            or self.open_range
        )

    @property
    def news_time(self) -> bool:
        """Whether the statement's time is the article's: a past event or a day or month
        with no year and no reference event."""
        return (
            self.years is None
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
            return bool(mine & theirs)
        if mine is not None or theirs is not None:
            dated_only = other if mine is not None else self
            return not (dated_only.relations and dated_only.reference is None)
        return True


@dataclass(frozen=True, slots=True)
class StatementFeatures:
    words: frozenset[str]  # content-word stems and anchor values
    anchors: Anchors
    negated: bool = False  # the main clause is negated ("did not speak")
    irrealis: bool = False  # a prediction or possibility ("will", "could")
    names: frozenset[str] = frozenset()  # capitalised words mid-sentence, lower-cased
    lead: str | None = None  # the first word, lower-cased, if capitalised (a name, or not)
    # (slot, name): each name with the word before its name group, "^" at the start,
    # across "and": "Trump and Putin spoke with Zelensky" -> (^, trump), (^, putin),
    # (with, zelensky). Two statements that fill one slot with different people differ.
    slots: frozenset[tuple[str, str]] = frozenset()


def _relation(text: str, start: int) -> str | None:
    """ "after/since/before ..." up to three words before a date; a nearer "on"/"in"
    ("by phone on Thursday") means the date is when, not a bound."""
    before = _WORD.findall(text[max(0, start - 30) : start].lower())[-3:]
    for w in reversed(before):
        if w in _AFTER:
            return "after"
        if w in _BEFORE:
            return "before"
        if w in _AT:
            return None
    return None


_REFERENCE = re.compile(
    r"\b(?:after|since|following|before|until|prior\s+to|ahead\s+of)\s+([^,;.:]{3,80})",
    re.IGNORECASE,
)


def _reference(text: str) -> frozenset[str] | None:
    """Content stems of the event after "after/since/before..." ("after Trump's first
    term ended" -> term, end, ...); None when the time is a bare date or absent."""
    stems: set[str] = set()
    for m in _REFERENCE.finditer(text):
        phrase = _DATE.sub(" ", m.group(1))
        for w in _WORD.findall(phrase):
            if w[0].isupper():
                continue  # who it is about ("Trump's first term") is not which event
            kind, value = _word_class(w.lower())
            if kind == _CONTENT:
                stems.add(value)
    return frozenset(stems) if stems else None


def _opt(values: set[_T]) -> frozenset[_T] | None:
    return frozenset(values) if values else None


_DATE_HINT = re.compile(
    r"\d|\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|mon|tue|wed|thu|fri|sat|sun)",
    re.IGNORECASE,
)
_NEGATION, _NUMBER, _SKIP, _CONTENT = range(4)


@lru_cache(maxsize=1 << 17)
def _word_class(word: str) -> tuple[int, str]:
    """What one lower-cased word contributes: negation, a number, nothing, or a stem."""
    w = word.replace("’", "'").removesuffix("'s")
    if w in _NEGATIONS:
        return _NEGATION, w
    if w in _NUMBER_WORDS:
        return _NUMBER, _NUMBER_WORDS[w]
    s = stem(w)
    if s in _STOP_STEMS or len(s) < 2:
        return _SKIP, s
    return _CONTENT, s


@dataclass(slots=True)
class _Found:
    years: set[int] = field(default_factory=set)
    months: set[int] = field(default_factory=set)
    days: set[tuple[int, int]] = field(default_factory=set)
    weekdays: set[int] = field(default_factory=set)
    numbers: set[str] = field(default_factory=set)
    relations: set[str] = field(default_factory=set)


def _time_anchors(text: str) -> tuple[_Found, str]:
    """Dates, years, weekdays and numbers in the text, and the text without them."""
    found = _Found()
    if not _DATE_HINT.search(text):
        return found, text
    for m in _DATE.finditer(text):
        g = m.groupdict()
        if g["num"] is not None:
            digits = g["num"].replace(",", "")
            try:
                found.numbers.add(quantity(digits, text[: m.start()], text[m.end() :], stem))
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


def _mood(raw: list[str], cased: list[str], titled: bool) -> tuple[bool, bool]:
    """(modal, realis): a disposition ("ready to", "wants to") or a modal perfect
    ("could have opposed"); else whether a verb says the event happened (a past form:
    "spoke", "was informed", "had agreed")."""
    disposition = any(
        w in _DISPOSITION and raw[i + 1 : i + 2] in (["to"], ["for"]) for i, w in enumerate(raw)
    )
    possible = any(w in _MODAL_PERFECT and "have" in raw[i + 1 : i + 3] for i, w in enumerate(raw))
    if disposition or possible:
        return True, False
    if any(w in _IRREALIS for w in raw):
        return False, False
    for i, w in enumerate(raw):
        if w in _PAST_AUX:
            return False, True
        if (
            (w in _IRREGULAR_PAST or (w.endswith("ed") and len(w) > 4))
            and (titled or not cased[i][0].isupper())  # "United" is a name
            and (i == 0 or raw[i - 1] not in _PRESENT_PASSIVE)
        ):
            return False, True
    return False, False


_PERFECT = frozenset(_split("has have had ve d"))
_OCCASIONS = frozenset(
    _split("various several multiple numerous repeatedly regularly often occasionally")
)


def _open_range(raw: list[str]) -> bool:
    """A span rather than one event: "has/have/had ... since" or several occasions."""
    if any(w in _OCCASIONS for w in raw):
        return True
    if "since" not in raw:
        return False
    since = raw.index("since")
    return any(w in _PERFECT for w in raw[:since])


def _main_clause_negated(raw: list[str]) -> bool:
    """Polarity of the first clause: "Kyiv was informed and did not object" is not a
    negated statement; "Trump and Putin did not speak" is. "urged him not to escalate"
    directs, it does not negate."""
    negated = False
    for i, w in enumerate(raw):
        if i and raw[i - 1] in ("and", "but") and w in _CLAUSE_START:
            break  # a second predicate starts here
        if w in _NEGATIONS and not (w == "not" and i + 1 < len(raw) and raw[i + 1] == "to"):
            negated = not negated
    return negated


def _is_title_case(cased: list[str]) -> bool:
    """A headline in Title Case: capitals say nothing about names there."""
    long = [w for w in cased if len(w) > 3]
    return len(long) >= 3 and sum(w[0].isupper() for w in long) >= 0.75 * len(long)


def statement_features(text: str) -> StatementFeatures:
    found, plain = _time_anchors(text)
    if "US" in plain or "U.S" in plain:
        plain = _US.sub(" USA ", plain)
    plain = plain.replace("n't", " not").replace("N'T", " NOT").replace("’ll", " ll")
    plain = plain.replace("'ll", " ll")
    words: set[str] = set()
    cased_words = _WORD.findall(plain)
    raw = [w.lower() for w in cased_words]
    titled = _is_title_case(cased_words)
    names: set[str] = set()
    lead = None
    for i, cased in enumerate(cased_words):
        kind, value = _word_class(raw[i])
        if kind == _CONTENT:
            words.add(value)
            if cased[0].isupper() and not titled:
                if i == 0:
                    lead = raw[i]
                else:
                    names.add(raw[i])
        elif kind == _NUMBER:
            found.numbers.add(quantity(value, "", " ".join(cased_words[i + 1 : i + 3]), stem))
    # anchor values count in the similarity too: a date or number only one side states
    # makes two statements less alike without forbidding the match
    words.update(f"#{y}" for y in found.years)
    words.update(f"#{m}-{d}" for m, d in found.days)
    words.update(f"#n{n.partition('|')[0]}" for n in found.numbers)
    anchors = Anchors(
        _opt(found.years),
        _opt(found.months),
        _opt(found.days),
        _opt(found.weekdays),
        _opt(found.numbers),
        _opt(found.relations),
        bool(found.years or found.months or found.days or found.weekdays)
        or bool(found.numbers or found.relations),
        *_mood(raw, cased_words, titled),
        reference=_reference(text),
        open_range=_open_range(raw),
    )
    return StatementFeatures(
        frozenset(words),
        anchors,
        negated=_main_clause_negated(raw),
        irrealis=any(w in _IRREALIS for w in raw),
        names=frozenset(names),
        lead=lead,
        slots=frozenset() if titled else _slots(cased_words, raw),
    )


_COORDINATION = frozenset(_split("and or nor"))


def _slots(cased: list[str], raw: list[str]) -> frozenset[tuple[str, str]]:
    out: set[tuple[str, str]] = set()
    slot, in_group = "^", False
    for i, (c, w) in enumerate(zip(cased, raw, strict=True)):
        kind = _word_class(w)[0]
        if c[0].isupper() and kind == _CONTENT:
            if not in_group and i and raw[i - 1] not in _COORDINATION:
                slot = stem(raw[i - 1])
            in_group = True
            out.add((slot, w))
        elif in_group and (w in _COORDINATION or c[0].isupper() or stem(w) in _TITLE_STEMS):
            continue  # "Trump and Putin", "Russian President Vladimir Putin": one slot
        else:
            in_group = False
    return frozenset(out)
