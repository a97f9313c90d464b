"""Who says an attributed clause and through whom: its speaker and source chain.

`AttributionResolver` turns a parsed clause (subject, reporting verb, "according to",
"told Reuters", "citing ...") into a speaker id and the source ids of its attribution
chain, nearest first, registering both in the article's `Cast`. It remembers the last
person named, so a later "he said" resolves to them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from annotator.core.models import SourceKind
from annotator.extract.rules.attribution import NounPhrase, classify_np, document_source
from annotator.extract.rules.clauses import REPORTING_ONLY, ClauseParse
from annotator.extract.rules.entities import Cast, EntityRegistry, Person
from annotator.extract.rules.statements import capitalize


@dataclass
class Attribution:
    speaker: str | None  # speaker id
    speaker_short: str | None  # name to put in statements for "he"
    sources: list[str]  # source ids, nearest first
    verb: str | None
    parse: ClauseParse


class AttributionResolver:
    def __init__(self, text: str, registry: EntityRegistry, cast: Cast) -> None:
        self.text = text
        self.registry = registry
        self.cast = cast
        self.last_person: Person | None = None

    def resolve(self, parse: ClauseParse) -> Attribution | None:
        chain: list[tuple[str, SourceKind]] = []
        tail: list[tuple[str, SourceKind]] = []
        speaker: Person | None = None
        body: str | None = None
        for kind, phrase in parse.phrases:
            found = self._outlet(phrase, parse.start)
            if kind == "according":
                np = classify_np(phrase)
                if np.kind == "person" and speaker is None:  # "according to CNN's Jo Doe"
                    speaker = self._person(np, parse.start)
                    found = self._outlet(np.affiliation, parse.start)
                chain.extend([found] if found else [])
            elif kind in ("published", "interview", "social") and found:
                tail.append(found)
        if parse.verb is None:
            return self._attribution(speaker, None, chain, parse)
        if parse.relative_at is not None:
            before = self.registry.mentions(parse.start, parse.relative_at + 1)
            speaker = before[-1][1] if before else None
        elif parse.coordinated:
            first = self.registry.mentions(parse.start, parse.verb_start)
            speaker = first[0][1] if first else None
        else:
            np = classify_np(parse.subject)
            if self._unknown_reporter(np, parse):
                chain.append((re.sub(r"^(?:the|The)\s+", "", parse.subject), "news_outlet"))
            elif np.kind in ("outlet", "backref"):
                found = self._outlet(
                    np.name if np.kind == "outlet" else parse.subject, parse.subject_start
                )
                if found is None:
                    return None
                chain.append(found)
                self._relayed(parse, chain)
            elif np.kind == "anonymous":
                via = self._outlet(np.cited_via, parse.subject_start) if np.cited_via else None
                via = via or self._recipient(parse)
                chain.extend([via] if via else [])
                chain.append((np.name, "anonymous"))
            elif np.kind == "body":
                body = np.name
            else:
                speaker = self._person(np, parse.subject_start)
                if speaker is None:
                    return None
        if speaker is not None or body is not None:
            recipient = self._recipient(parse)
            chain.extend([recipient] if recipient else [])
        chain.extend(tail)
        title = document_source(self.text[parse.start : parse.end])
        if title:
            chain.append((title, "document"))
        return self._attribution(speaker, body, chain, parse)

    def _attribution(
        self,
        person: Person | None,
        body: str | None,
        chain: list[tuple[str, SourceKind]],
        parse: ClauseParse,
    ) -> Attribution:
        speaker_id = short = None
        if person is not None:
            speaker_id = self.cast.speaker(person.name, person.role, person.affiliation)
            short = person.short if person.named else None
            self.last_person = person
        elif body is not None:
            speaker_id, short = self.cast.speaker(capitalize(body), None, None), None
        ids: list[str] = []
        for name, kind in chain:
            if self.registry.is_own(name) or any(self.cast.source_name(i) == name for i in ids):
                continue
            ids.append(self.cast.source(name, kind, ids[-1] if ids else None))
        return Attribution(speaker_id, short, ids, parse.verb, parse)

    def _unknown_reporter(self, np: NounPhrase, parse: ClauseParse) -> bool:
        """'Benzinga reported': a name nobody introduced, doing what outlets do."""
        return (
            parse.verb in REPORTING_ONLY
            and np.kind == "person"
            and not np.role
            and len(np.name.split()) <= 2
            and self.registry.find(np.name) is None
        )

    def _relayed(self, parse: ClauseParse, chain: list[tuple[str, SourceKind]]) -> None:
        """'citing X' / 'cited X as saying' after an outlet subject."""
        for kind, np in parse.phrases:
            if kind == "citing":
                self._append_np(classify_np(np), chain, parse.start)
        if parse.relayed:
            self._append_np(classify_np(parse.relayed), chain, parse.start)

    def _append_np(self, np: NounPhrase, chain: list[tuple[str, SourceKind]], pos: int) -> None:
        if np.kind == "anonymous":
            chain.append((np.name, "anonymous"))
        elif np.kind in ("outlet", "backref"):
            found = self._outlet(np.name, pos)
            if found:
                chain.append(found)

    def _recipient(self, parse: ClauseParse) -> tuple[str, SourceKind] | None:
        if not parse.recipient:
            return None
        found = self._outlet(parse.recipient, parse.start)
        if found is not None:
            return found
        # "told Sky Sports": a name nobody introduced, receiving a statement, is a medium
        np = classify_np(parse.recipient)
        if (
            np.kind == "person"
            and not np.role
            and len(np.name.split()) <= 3
            and self.registry.find(np.name) is None
        ):
            return parse.recipient.strip(" .,;:"), "news_outlet"
        return None

    def _outlet(self, phrase: str | None, pos: int) -> tuple[str, SourceKind] | None:
        if not phrase:
            return None
        return self.registry.resolve_outlet(phrase, pos)

    def _person(self, np: NounPhrase, pos: int) -> Person | None:
        if np.kind == "pronoun":
            return self.last_person if np.name in ("he", "she") else None
        if np.kind != "person":
            return None
        if not np.name:
            return self.registry.by_role(np.role or "") or Person(
                capitalize(np.role or "official"), np.role, np.affiliation, named=False
            )
        known = self.registry.find(np.name)
        if known is None:
            return self.registry.add(Person(np.name, np.role, np.affiliation))
        if known.role is None and np.role:
            known.role, known.affiliation = np.role, np.affiliation
        return known
