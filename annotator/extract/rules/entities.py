"""People and outlets named in one article, for back-reference by the rules extractor.

A first pass over the whole text records every full name with its title and affiliation
("Kremlin spokesman Dmitry Peskov"), so a later "Peskov" or "he" resolves to the full
mention, and every outlet mention, so "the Post", "the daily" or "the report" resolves to
the outlet meant.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from annotator.core.lexicon import OUTLETS
from annotator.core.models import SourceKind
from annotator.extract.rules.attribution import (
    BODY_HEADS,
    DESCRIBED_OUTLET,
    GENERIC_OUTLET,
    OUTLET_BACKREF,
    canonical_outlet,
    split_title,
    word_set,
)
from annotator.extract.rules.sentences import inside_quotes, sentences
from annotator.extract.schema import ExtractedSource, ExtractedSpeaker

_WORD = re.compile(r"[A-Za-z][\w’'.-]*")
_NAME_WORD = re.compile(r"^[A-Z][a-z’'-]*[a-z]$")
NON_NAME_WORDS: frozenset[str] = word_set("""
    images summit community christmas year new union street journal post news times house
    war election minister social relations council forum hall press service party league
    university institute center centre museum group company corporation bank court
    department ministry agency office army navy republic federation kingdom states nations
    square palace airport station road avenue river sea ocean island islands mountains
    """)
_VERBISH = re.compile(
    r"(?<!\s)\s++(?:\w+ly\s+)?(?:has|have|had|is|was|were|will|would|did|does|[a-z]+ed|[a-z]+s)\b"
)


@dataclass
class Person:
    name: str
    role: str | None = None
    affiliation: str | None = None
    named: bool = True  # False for "the president-elect" when no name could be found

    @property
    def short(self) -> str:
        return self.name.split()[-1] if self.name else self.name


class EntityRegistry:
    """Full-name mentions and outlet mentions of one article, in text order."""

    def __init__(self, text: str, own_outlet: str | None = None) -> None:
        self.text = text
        self.people: list[Person] = []
        self.outlets: list[tuple[int, str, SourceKind]] = []
        self._own = (own_outlet or "").lower()
        self._scan_people()
        self._scan_outlets()

    # ------------------------------------------------------------ people

    def _scan_people(self) -> None:
        for sent in sentences(self.text):
            chunk = self.text[sent.start : sent.end]
            words = _WORD.findall(chunk)
            capitals = sum(1 for w in words if w[0].isupper())
            if words and (sent.prose or capitals / len(words) < 0.6):  # not a headline
                self._scan_span(sent.start, sent.end)

    def _scan_span(self, start: int, end: int) -> None:
        tokens = [(m.start(), m.end(), m.group()) for m in _WORD.finditer(self.text, start, end)]
        i = 0
        while i < len(tokens):
            if not tokens[i][2][0].isupper():
                i += 1
                continue
            j = i
            while (
                j + 1 < len(tokens)
                and self.text[tokens[j][1] : tokens[j + 1][0]] == " "
                and (tokens[j + 1][2][0].isupper())
            ):
                j += 1
            k = i
            while k > 0 and i - k < 5 and self.text[tokens[k - 1][1] : tokens[k][0]] == " ":
                k -= 1
            words = [t[2] for t in tokens[k : j + 1]]
            self._register(words)
            i = j + 1

    def _register(self, words: list[str]) -> None:
        role, affil, name_words = split_title(words)
        if len(name_words) < 2 or len(name_words) > 3:
            return
        if any(not _NAME_WORD.match(w) or w.lower() in NON_NAME_WORDS for w in name_words):
            return
        if canonical_outlet(" ".join(name_words)) or name_words[-1].lower() in BODY_HEADS:
            return
        self.add(Person(" ".join(name_words), role, affil))

    def add(self, person: Person) -> Person:
        known = self.find(person.name)
        if known is None or (known.name != person.name and len(person.name.split()) > 1):
            self.people.append(person)
            return person
        if known.role is None and person.role:
            known.role, known.affiliation = person.role, person.affiliation
        return known

    def find(self, name: str) -> Person | None:
        """The person a (full or partial) name refers to, preferring the full mention."""
        name = name.strip()
        for p in self.people:
            if p.name == name:
                return p
        last = name.split()[-1] if name else ""
        for p in self.people:
            if p.short == last and len(p.name.split()) > 1:
                return p
        for p in self.people:
            if p.short == last:
                return p
        return None

    def by_role(self, role: str) -> Person | None:
        want = role.lower().split()[-1]
        matches = [p for p in self.people if p.role and p.role.lower().split()[-1] == want]
        return matches[0] if len(matches) == 1 else None

    def mentions(
        self, start: int, end: int, pairs: list[tuple[int, int]] | None = None
    ) -> list[tuple[int, Person]]:
        found: dict[str, tuple[int, Person]] = {}
        for p in self.people:
            if not p.named:
                continue
            for m in re.finditer(rf"(?<![\w-]){re.escape(p.short)}(?![\w-])", self.text[start:end]):
                pos = start + m.start()
                if pairs and inside_quotes(pairs, pos):
                    continue
                if p.short not in found or pos < found[p.short][0]:
                    found[p.short] = (pos, p)
                break
        return sorted(found.values(), key=lambda t: t[0])

    def subject_of(self, start: int, end: int, pairs: list[tuple[int, int]]) -> Person | None:
        """The person a sentence is about: the first one followed by a verb, else the first."""
        mentions = self.mentions(start, end, pairs)
        for pos, p in mentions:
            after = self.text[pos + len(p.short) : end]
            if _VERBISH.match(after):
                return p
        return mentions[0][1] if mentions else None

    # ------------------------------------------------------------ outlets

    def _scan_outlets(self) -> None:
        seen: set[int] = set()
        for m in re.finditer(r"(?:[A-Z][\w.&’'-]*\s+){0,3}[A-Z][\w.&’'-]*", self.text):
            found = canonical_outlet(m.group())
            if not found or m.start() in seen:
                continue
            seen.add(m.start())
            name, kind = found
            if name.lower() == self._own or (
                self._own and name.lower().removeprefix("the ") in self._own
            ):
                continue
            if name in OUTLETS or " " in name:
                self.outlets.append((m.start(), name, kind))

    def resolve_outlet(self, name: str, pos: int) -> tuple[str, SourceKind] | None:
        """Canonical outlet for a mention at pos ('the Post', 'the daily', 'Reuters')."""
        bare = re.sub(r"^(?:the|The)\s+", "", name).strip()
        found = canonical_outlet(name)
        if found and (found[0] in OUTLETS or " " in found[0] or DESCRIBED_OUTLET.search(name)):
            return found
        if OUTLET_BACKREF.match(name) or OUTLET_BACKREF.match(bare):
            word = None
        elif found:
            word = found[0].split()[-1].lower()
        else:
            return None
        before = [o for o in self.outlets if o[0] < pos and self._fits(o[1], word)]
        after = [o for o in self.outlets if o[0] >= pos and self._fits(o[1], word)]
        pick = before[-1] if before else (after[0] if after else None)
        if pick:
            return pick[1], pick[2]
        if word is None:
            return None
        g = GENERIC_OUTLET.search(name)
        return (g.group("name"), "news_outlet") if g else None

    @staticmethod
    def _fits(outlet: str, word: str | None) -> bool:
        if word is None:
            return True
        return word in outlet.lower().split()

    def is_own(self, name: str) -> bool:
        return bool(self._own) and name.lower() == self._own


class Cast:
    """The speakers and sources one extraction names, each given an id once."""

    def __init__(self) -> None:
        self._speakers: dict[str, ExtractedSpeaker] = {}
        self._sources: dict[tuple[str, str | None], ExtractedSource] = {}

    def speaker(self, name: str, role: str | None, affiliation: str | None) -> str:
        if name not in self._speakers:
            sid = f"p{len(self._speakers) + 1}"
            self._speakers[name] = ExtractedSpeaker(
                id=sid, name=name, role=role, affiliation=affiliation
            )
        return self._speakers[name].id

    def source(self, name: str, kind: SourceKind, via: str | None) -> str:
        """Id of a source; the same name relayed through different sources is two sources."""
        name = re.sub(r"\s+", " ", name).strip()
        key = (name.lower(), via)
        if key not in self._sources:
            sid = f"src{len(self._sources) + 1}"
            self._sources[key] = ExtractedSource(id=sid, name=name, kind=kind, cited_via=via)
        return self._sources[key].id

    def source_name(self, sid: str) -> str:
        return next(s.name for s in self._sources.values() if s.id == sid)

    def speakers(self) -> list[ExtractedSpeaker]:
        return list(self._speakers.values())

    def sources(self) -> list[ExtractedSource]:
        return list(self._sources.values())
