"""The offline `rules` backend: classic news-attribution extraction, no model.

`extract_rules(article)` returns the same `Extraction` a model returns. Every claim's
quote is a span cut from the article text, so grounding is exact by construction.
Pure and deterministic: same text, same extraction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from annotator.core.models import SourceKind, Stance
from annotator.extract.rules.attribution import (
    DENIAL_VERBS,
    HEDGING_VERBS,
    LABEL_VERBS,
    NounPhrase,
    classify_np,
    document_source,
)
from annotator.extract.rules.clauses import (
    ACCORDING_PHRASE,
    CLAUSAL_VERBS,
    REPORTING_ONLY,
    ClauseParse,
    clauses,
    content_after,
    parse_clause,
    split_and_that,
)
from annotator.extract.rules.entities import Cast, EntityRegistry, Person
from annotator.extract.rules.sentences import (
    Sentence,
    quote_pairs,
    sentences,
    split_spans,
    trim_clause,
    trim_span,
    whole_quotation,
    word_count,
)
from annotator.extract.rules.stance_cues import REPORTED_ADVERB, has_denial, has_hedge
from annotator.extract.rules.statements import (
    REPORT_FRAME,
    Rewritten,
    capitalize,
    clean,
    flip_negation,
    label_content,
    resolve_pair,
    resolve_subject_pronoun,
    rewrite,
)
from annotator.extract.schema import ExtractedClaim, Extraction
from annotator.load.articles import Article

RULES_VERSION = "rules_v1"
MIN_QUOTE_WORDS = 3
ANTECEDENT_WINDOW = 8  # sentences a denial stays the referent of "it is untrue"


def extract_rules(article: Article) -> Extraction:
    """Speakers, sources and claims of one article, found by attribution patterns."""
    return _ArticleExtractor(article).run()


@dataclass
class _Attribution:
    speaker: str | None  # speaker id
    speaker_short: str | None  # name to put in statements for "he"
    sources: list[str]  # source ids, nearest first
    verb: str | None
    parse: ClauseParse


@dataclass
class _State:
    last_person: Person | None = None
    last_pair: tuple[str, str] | None = None
    last_reported: str | None = None
    last_denied: tuple[str, int] | None = None
    by_owner: dict[str, str] = field(default_factory=dict)
    quoting: _Attribution | None = None  # the previous sentence was this direct quotation


class _ArticleExtractor:
    def __init__(self, article: Article) -> None:
        self.article = article
        self.text = article.text
        self.registry = EntityRegistry(self.text, article.outlet)
        self.cast = Cast()
        self.claims: list[ExtractedClaim] = []
        self.state = _State()
        self.index = 0

    def run(self) -> Extraction:
        prose = [s for s in sentences(self.text) if s.prose]
        for i, sent in enumerate(prose):
            self.index = i
            self._sentence(sent, lead=i == 0)
        return Extraction(
            speakers=self.cast.speakers(),
            sources=self.cast.sources(),
            claims=self.claims,
        )

    # ------------------------------------------------------------ sentences

    def _sentence(self, sent: Sentence, *, lead: bool) -> None:
        text, pairs = self.text, quote_pairs(self.text, sent.start, sent.end)
        made = False
        previous: _Attribution | None = None
        quoting, self.state.quoting = self.state.quoting, None
        for cs, ce, inherits in clauses(text, sent.start, sent.end):
            cs, ce = trim_clause(text, cs, ce)
            if ce - cs < 3:
                continue
            attr = None
            if inherits and previous is not None:
                attr = self._inherit(previous, cs, ce)
            if attr is None:
                parse = parse_clause(text, cs, ce, accept=self._acceptable)
                attr = self._resolve(parse) if parse else None
            if attr is None and quoting is not None:
                attr = self._continuation(quoting, cs, ce, pairs)
            if attr is None:
                continue
            self._emit(attr, cs, ce)
            made, previous = True, attr
            if attr.parse.direct and attr.speaker:
                self.state.quoting = attr
        if not made and (lead or REPORTED_ADVERB.search(text[sent.start : sent.end])):
            self._outlet_voice(sent.start, sent.end)
        subject = self.registry.subject_of(sent.start, sent.end, pairs)
        if previous is None and subject is not None:
            self.state.last_person = subject
        people = [p for _, p in self.registry.mentions(sent.start, sent.end)]
        if len(people) >= 2:
            self.state.last_pair = (people[0].short, people[1].short)

    def _acceptable(self, subject: str) -> bool:
        return subject.lower() in ("and", "who") or classify_np(subject).kind != "none"

    def _inherit(self, previous: _Attribution, cs: int, ce: int) -> _Attribution | None:
        parse = ClauseParse(start=cs, end=ce, verb=previous.verb, shape="B", via_that=True)
        inner = whole_quotation(self.text, cs, ce)
        if inner:
            parse.content, parse.direct = inner, True
        else:
            s, e, _ = content_after(self.text, cs, ce, quote_pairs(self.text, cs, ce))
            parse.content = (s, e)
        return _Attribution(
            previous.speaker, previous.speaker_short, previous.sources, previous.verb, parse
        )

    def _continuation(
        self, quoting: _Attribution, cs: int, ce: int, pairs: list[tuple[int, int]]
    ) -> _Attribution | None:
        inner = whole_quotation(self.text, cs, ce)
        if inner is None:
            return None
        parse = ClauseParse(start=cs, end=ce, verb=quoting.verb, content=inner, direct=True)
        return _Attribution(quoting.speaker, quoting.speaker_short, quoting.sources, None, parse)

    # ------------------------------------------------------------ who and through whom

    def _resolve(self, parse: ClauseParse) -> _Attribution | None:
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
    ) -> _Attribution:
        speaker_id = short = None
        if person is not None:
            speaker_id = self.cast.speaker(person.name, person.role, person.affiliation)
            short = person.short if person.named else None
            self.state.last_person = person
        elif body is not None:
            speaker_id, short = self.cast.speaker(capitalize(body), None, None), None
        ids: list[str] = []
        for name, kind in chain:
            if self.registry.is_own(name) or any(self.cast.source_name(i) == name for i in ids):
                continue
            ids.append(self.cast.source(name, kind, ids[-1] if ids else None))
        return _Attribution(speaker_id, short, ids, parse.verb, parse)

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
        return self._outlet(parse.recipient, parse.start) if parse.recipient else None

    def _outlet(self, phrase: str | None, pos: int) -> tuple[str, SourceKind] | None:
        if not phrase:
            return None
        return self.registry.resolve_outlet(phrase, pos)

    def _person(self, np: NounPhrase, pos: int) -> Person | None:
        if np.kind == "pronoun":
            return self.state.last_person if np.name in ("he", "she") else None
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

    # ------------------------------------------------------------ claims

    def _emit(self, attr: _Attribution, cs: int, ce: int) -> None:
        parse = attr.parse
        assert parse.content is not None
        s, e = parse.content
        if parse.direct:
            for gs, first_end, ge in self._quote_groups(attr, s, e):
                quote = (gs, ge) if word_count(self.text[gs:ge]) >= MIN_QUOTE_WORDS else (cs, ce)
                self._claim(attr, gs, first_end, quote)
            return
        parts = split_and_that(self.text, s, e)
        for n, (ps, pe) in enumerate(parts):
            if n == 0:
                quote = (min(cs, ps), pe) if len(parts) > 1 else (cs, ce)
            else:
                quote = (ps, pe) if word_count(self.text[ps:pe]) >= MIN_QUOTE_WORDS else (cs, ce)
            self._claim(attr, ps, pe, trim_span(self.text, *quote), full=n == 0)

    def _quote_groups(self, attr: _Attribution, s: int, e: int) -> list[tuple[int, int, int]]:
        """Sentences of a quotation, merged while they say the same thing the same way:
        (group start, end of its first sentence, group end)."""
        groups: list[tuple[int, int, int, str, Stance]] = []
        for qs, qe in split_spans(self.text, s, e):
            statement, stance, explicit = self._judge(attr, qs, qe, dry_run=True)
            if groups and (not explicit or groups[-1][3:] == (statement, stance)):
                groups[-1] = (*groups[-1][:2], qe, *groups[-1][3:])
            else:
                groups.append((qs, qe, qe, statement, stance))
        return [(gs, fe, trim_span(self.text, gs, ge)[1]) for gs, fe, ge, _, _ in groups]

    def _claim(
        self, attr: _Attribution, s: int, e: int, quote: tuple[int, int], *, full: bool = True
    ) -> None:
        statement, stance, _ = self._judge(attr, s, e, dry_run=False, full=full)
        if word_count(statement) < 3:
            return
        self.claims.append(
            ExtractedClaim(
                statement=statement,
                quote=self.text[quote[0] : quote[1]],
                speaker=attr.speaker,
                sources=list(attr.sources),
                stance=stance,
            )
        )

    def _judge(
        self, attr: _Attribution, s: int, e: int, *, dry_run: bool, full: bool = True
    ) -> tuple[str, Stance, bool]:
        """(statement, stance, explicit cue?) of one content span under an attribution."""
        parse, content = attr.parse, self.text[s:e]
        verb = attr.verb or ""
        rw: Rewritten | None = None
        if verb in LABEL_VERBS and not parse.direct:
            rw = label_content(content)
        if rw is None and parse.shape == "according":
            rw = rewrite(ACCORDING_PHRASE.sub("", content))
        if rw is None:
            rw = rewrite(content)
            if (
                parse.shape == "B"
                and not parse.direct
                and not parse.via_that
                and full
                and verb
                and verb not in CLAUSAL_VERBS
                and verb not in DENIAL_VERBS
                and not rw.needs_antecedent
                and not parse.hedged_verb
                and not REPORT_FRAME.match(clean(content))
            ):
                rw = rewrite(self.text[parse.subject_start : e])
        scope = content if parse.direct else self.text[parse.start : parse.end]
        stance: Stance
        if parse.hedged_verb:
            stance = "unverified"
        elif verb in DENIAL_VERBS or rw.denied or has_denial(content):
            stance = "deny"
        elif has_hedge(_without_verb(scope, verb) if attr.speaker else scope) or (
            verb in HEDGING_VERBS and attr.speaker is None
        ):
            # a named speaker who "claimed"/"alleged"/"wrote" something asserts it; a hedge
            # is the outlet's own relay ("reportedly", "the daily claimed")
            stance = "unverified"
        else:
            stance = "confirm"
        explicit = stance != "confirm" or rw.denied
        statement = rw.text
        if rw.needs_antecedent:
            statement = self._antecedent(rw, stance) or capitalize(clean(content))
        elif stance != "unverified":
            statement, flipped = flip_negation(statement)
            if flipped:
                stance, explicit = ("deny" if stance == "confirm" else "confirm"), True
        statement = resolve_subject_pronoun(statement, attr.speaker_short)
        statement = capitalize(resolve_pair(statement, self.state.last_pair))
        if not dry_run and not rw.needs_antecedent:
            self.state.last_reported = statement
            if attr.speaker_short:
                self.state.by_owner[attr.speaker_short] = statement
        if not dry_run and stance == "deny":
            self.state.last_denied = (statement, self.index)
        return statement, stance, explicit

    def _antecedent(self, rw: Rewritten, stance: Stance) -> str | None:
        if rw.owner and rw.owner in self.state.by_owner:
            return self.state.by_owner[rw.owner]
        denied = self.state.last_denied
        if stance == "deny" and denied and self.index - denied[1] <= ANTECEDENT_WINDOW:
            return denied[0]
        if self.state.last_reported:
            return self.state.last_reported
        return rw.text if word_count(rw.text) >= 3 else None

    def _outlet_voice(self, s: int, e: int) -> None:
        parse = ClauseParse(start=s, end=e, verb=None, content=(s, e))
        self._claim(_Attribution(None, None, [], None, parse), s, e, trim_span(self.text, s, e))


def _without_verb(scope: str, verb: str) -> str:
    """The clause without its reporting verb: "Woodward claimed X" hedges nothing itself."""
    if not verb:
        return scope
    return re.sub(rf"\b{re.escape(verb)}\b", " ", scope, count=1, flags=re.IGNORECASE)
