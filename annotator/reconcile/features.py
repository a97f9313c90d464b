"""What a claim statement says, for comparing statements without a model.

A statement becomes a set of content-word stems (`words`), its `Anchors` (`anchors`:
times, numbers, references, mood, which separate two propositions only where BOTH sides
carry one) and softer signals for the scorer: the polarity of its main clause and its
mood (`mood`), the names it mentions and the role each fills. "They spoke after the 2024
election", "they spoke after 2021" and "they have not spoken since July 2020" are three
claims.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from annotator.reconcile.anchors import (
    Anchors,
    as_set,
    references,
    relative_time,
    relative_year,
    time_anchors,
)
from annotator.reconcile.mood import main_clause_negated, mood, open_range, predicts
from annotator.reconcile.places import join_places
from annotator.reconcile.quantities import quantity
from annotator.reconcile.words import (
    CONTENT,
    DIGIT_WORDS,
    NUMBER,
    SKIP,
    TENS,
    TITLE_STEMS,
    WORD,
    content_stem,
    split_words,
    stem,
    word_class,
)

__all__ = ["StatementFeatures", "in_article_year", "spell_out_acronyms", "statement_features"]

_US = re.compile(r"\bU\.S\.(?:A\.)?|\bUS\b|\bUSA\b")


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
    # the content words of each name ("Russian President Vladimir Putin" -> russian,
    # vladimir, putin): who is named, for telling people apart; two names are one if
    # any of their words are ("Vladimir Putin" / "Putin")
    runs: frozenset[tuple[str, ...]] = frozenset()
    # (initials, head) of each name of two or more words: "Hewlett-Packard" -> (hp,
    # packard), "European Union" -> (eu, union): an acronym names the same
    initials: frozenset[tuple[str, str]] = frozenset()
    # (initials, the name as written) of each name of two or more words: what an
    # acronym elsewhere stands for ("EMA" -> "European Medicines Agency")
    spelled: frozenset[tuple[str, str]] = frozenset()
    # the content-word stems in the order written, each once (not compared: statements
    # with the same words and anchors are one claim whatever the order)
    order: tuple[str, ...] = field(default=(), compare=False)


def _is_title_case(cased: list[str]) -> bool:
    """A headline in Title Case: capitals say nothing about names there."""
    long = [w for w in cased if len(w) > 3]
    return len(long) >= 3 and sum(w[0].isupper() for w in long) >= 0.75 * len(long)


def statement_features(text: str, written: dict[str, str] | None = None) -> StatementFeatures:
    """`written`, if given, gathers each content word's stem -> its first spelling a-z
    (lower-cased), for the words' own embeddings (`near_words`)."""
    found, plain = time_anchors(text)
    if "US" in plain or "U.S" in plain:
        plain = _US.sub(" USA ", plain)
    plain = join_places(plain)  # "the United States": one name, as "Washington" is
    plain = plain.replace("n't", " not").replace("N'T", " NOT").replace("’ll", " ll")
    plain = plain.replace("'ll", " ll")
    words: set[str] = set()
    order: list[str] = []
    spans = list(WORD.finditer(plain))
    cased_words = [m.group() for m in spans]
    raw = [w.lower() for w in cased_words]
    # a name without its possessive: "Trump's" is Trump
    bare = [_bare(w) for w in raw] if "'" in plain or "’" in plain else raw
    titled = _is_title_case(cased_words)
    names: set[str] = set()
    lead = None
    kinds: list[int] = []
    for i, cased in enumerate(cased_words):
        kind, value = word_class(raw[i])
        kinds.append(kind)
        if i and raw[i] in DIGIT_WORDS and raw[i - 1] in TENS and _hyphenated(spans, i - 1):
            continue  # the "two" of "forty-two"
        if kind == CONTENT:
            if value not in words:
                order.append(value)
            words.add(value)
            if written is not None and (value not in written or bare[i] < written[value]):
                written[value] = bare[i]
            if cased[0].isupper() and not titled:
                if i == 0:
                    lead = bare[i]
                else:
                    names.add(bare[i])
        elif kind == NUMBER:
            after = cased_words[i + 1 : i + 3]
            if raw[i] in TENS and after and _hyphenated(spans, i) and raw[i + 1] in DIGIT_WORDS:
                value = str(TENS[raw[i]] + DIGIT_WORDS[raw[i + 1]])  # "forty-two"
                after = cased_words[i + 2 : i + 4]
            before = f"{raw[i - 1]} " if i else ""
            found.numbers.update(quantity(value, before, " ".join(after), content_stem))
    # anchor values count in the similarity too: a date or number only one side states
    # makes two statements less alike without forbidding the match
    words.update(f"#{y}" for y in found.years)
    words.update(f"#{m}-{d}" for m, d in found.days)
    words.update(f"#n{n.partition('|')[0]}" for n in found.numbers)
    if names:
        runs, initials, spelled = _names(spans, cased_words, bare, kinds)
    else:  # no capitalised word but perhaps the first
        runs, initials, spelled = frozenset({(lead,)} if lead else ()), frozenset(), frozenset()
    reference, sides = references(text)
    irrealis = predicts(raw)
    anchors = Anchors(
        as_set(found.years),
        as_set(found.months),
        as_set(found.days),
        as_set(found.weekdays),
        as_set(found.numbers),
        as_set(found.relations),
        bool(found.years or found.months or found.days or found.weekdays)
        or bool(found.numbers or found.relations),
        *mood(raw, cased_words, titled),
        reference=reference,
        reference_sides=sides,
        open_range=open_range(raw),
        relative_year=relative_year(text),
        relative_time=relative_time(text),
        predicted=irrealis,
    )
    return StatementFeatures(
        frozenset(words),
        anchors,
        negated=main_clause_negated(raw),
        irrealis=irrealis,
        names=frozenset(names),
        lead=lead,
        slots=frozenset() if titled else _slots(cased_words, bare),
        runs=frozenset() if titled else runs,
        initials=initials,
        spelled=spelled,
        order=tuple(order),
    )


def _bare(word: str) -> str:
    return word.replace("’", "'").removesuffix("'s")


def spell_out_acronyms(texts: Sequence[str], feats: Sequence[StatementFeatures]) -> list[str]:
    """Each text with the acronyms other statements spell out written in full, for the
    embedding ("The EMA opened a review" -> "The European Medicines Agency opened a
    review"): the embedding does not know what an acronym stands for, the input does. An
    acronym written in capitals is spelt out where one name of the input has its
    initials; where two names share them ("EU": European Union, Estonian University), it
    stays as written."""
    names: dict[str, set[str]] = defaultdict(set)
    for f in feats:
        for letters, name in f.spelled:
            names[letters].add(name)
    full = {letters: next(iter(n)) for letters, n in names.items() if len(n) == 1}
    if not full:
        return list(texts)
    out = []
    for text, f in zip(texts, feats, strict=True):
        for word in sorted(f.names | ({f.lead} if f.lead else set())):
            spelt = full.get(word)
            if spelt is not None and spelt not in text:
                text = re.sub(rf"\b{word.upper()}\b", spelt, text)
        out.append(text)
    return out


def _hyphenated(spans: list[re.Match[str]], i: int) -> bool:
    """Word i and the next are joined by a hyphen ("forty-two")."""
    return i + 1 < len(spans) and spans[i].string[spans[i].end() : spans[i + 1].start()] == "-"


def in_article_year(f: StatementFeatures, year: int) -> StatementFeatures:
    """The statement read in an article of `year`: "last year" is year - 1, and an undated
    past event ("they spoke") is the one the article reports, near its publication."""
    a = f.anchors
    if a.relative_year is not None:
        stated = year + a.relative_year
        years = frozenset({stated}) if a.years is None else a.years | {stated}
        anchors = replace(a, years=years, dated=True, relative_year=None)
        return replace(f, words=f.words | {f"#{stated}"}, anchors=anchors)
    if a.news_time:
        return replace(f, anchors=replace(a, implied_year=year))
    return f


_COORDINATION = frozenset(split_words("and or nor"))
# lower-case words inside a name, which its initials skip ("Department of Health", DoH)
_CONNECTORS = frozenset(split_words("of for and on the"))
# words between a name and the word that gives it its role: "with the Kremlin" -> with
_DETERMINERS = frozenset(split_words("the a an this that these those its their his her our"))


def _names(
    spans: list[re.Match[str]], cased: list[str], raw: list[str], kinds: list[int]
) -> tuple[frozenset[tuple[str, ...]], frozenset[tuple[str, str]], frozenset[tuple[str, str]]]:
    """(the content words of each name, (initials, word) and (initials, the name as
    written) of each name of two or more words), in one pass. A name is a run of
    capitalised words (a capitalised title inside it belongs to it); a hyphen or a small
    word ("of") splits the names ("the Trump-Putin call" names two people) but not the
    initials ("Hewlett-Packard": HP, "Department of Environmental Quality": DEQ)."""
    runs: set[tuple[str, ...]] = set()
    initials: set[tuple[str, str]] = set()
    spelled: set[tuple[str, str]] = set()
    plain = spans[0].string if spans else ""
    short: list[str] = []  # the name being read
    long: list[str] = []  # the same, across hyphens and small words
    at: list[int] = []  # where the words of `long` are
    in_run = bridged = False  # bridged: a small word since the run's last word

    def close_short() -> None:
        if short:
            runs.add(tuple(short))
            short.clear()

    def close_long() -> None:
        if len(long) >= 2:
            letters = "".join(w[0] for w in long)
            initials.update((letters, w) for w in long)
            spelled.add((letters, plain[spans[at[0]].start() : spans[at[-1]].end()]))
        long.clear()
        at.clear()

    for i, w in enumerate(raw):
        if cased[i][0].isupper():
            kind = kinds[i]
            if kind == CONTENT or (kind == SKIP and stem(w) in TITLE_STEMS):
                if in_run:
                    gap = plain[spans[i - 1].end() : spans[i].start()].strip()
                    if bridged or gap == "-":
                        close_short()
                    elif gap:
                        close_short()
                        close_long()
                if kind == CONTENT:
                    short.append(w)
                    long.append(w)
                    at.append(i)
                in_run, bridged = True, False
                continue
        if in_run:
            if not bridged and w in _CONNECTORS:
                bridged = True
                continue
            close_short()
            close_long()
            in_run = bridged = False
    close_short()
    close_long()
    return frozenset(runs), frozenset(initials), frozenset(spelled)


def _slots(cased: list[str], raw: list[str]) -> frozenset[tuple[str, str]]:
    out: set[tuple[str, str]] = set()
    slot, in_group = "^", False
    for i, (c, w) in enumerate(zip(cased, raw, strict=True)):
        kind = word_class(w)[0]
        if c[0].isupper() and kind == CONTENT:
            if not in_group and i and raw[i - 1] not in _COORDINATION:
                k = i - 1
                while k >= 0 and raw[k] in _DETERMINERS:
                    k -= 1
                slot = stem(raw[k]) if k >= 0 else "^"
            in_group = True
            out.add((slot, w))
        elif in_group and (w in _COORDINATION or c[0].isupper() or stem(w) in TITLE_STEMS):
            continue  # "Trump and Putin", "Russian President Vladimir Putin": one slot
        else:
            in_group = False
    return frozenset(out)
