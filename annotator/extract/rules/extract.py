"""The offline `rules` backend: classic news-attribution extraction, no model.

`extract_rules(article)` returns the same `Extraction` a model returns. Every claim's
quote is a span cut from the article text, so grounding is exact by construction.
Pure and deterministic: same text, same extraction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from annotator.core.models import Stance
from annotator.core.text import MIN_QUOTE_WORDS, word_count
from annotator.extract.rules.attribution import (
    HEDGING_VERBS,
    LABEL_VERBS,
    classify_np,
)
from annotator.extract.rules.clauses import (
    ACCORDING_PHRASE,
    CLAUSAL_VERBS,
    ClauseParse,
    clauses,
    content_after,
    parse_clause,
    split_and_that,
)
from annotator.extract.rules.entities import Cast, EntityRegistry
from annotator.extract.rules.resolve import Attribution, AttributionResolver
from annotator.extract.rules.sentences import (
    Sentence,
    quote_pairs,
    sentences,
    split_spans,
    trim_clause,
    trim_span,
    whole_quotation,
)
from annotator.extract.rules.stance_cues import (
    DENIAL_VERBS,
    REPORTED_ADVERB,
    has_denial,
    has_hedge,
)
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
ANTECEDENT_WINDOW = 8  # sentences a denial stays the referent of "it is untrue"


def extract_rules(article: Article) -> Extraction:
    """Speakers, sources and claims of one article, found by attribution patterns."""
    return _ArticleExtractor(article).run()


@dataclass
class _State:
    last_pair: tuple[str, str] | None = None
    last_reported: str | None = None
    last_denied: tuple[str, int] | None = None
    by_owner: dict[str, str] = field(default_factory=dict)
    quoting: Attribution | None = None  # the previous sentence was this direct quotation


class _ArticleExtractor:
    def __init__(self, article: Article) -> None:
        self.article = article
        self.text = article.text
        self.registry = EntityRegistry(self.text, article.outlet)
        self.cast = Cast()
        self.resolver = AttributionResolver(self.text, self.registry, self.cast)
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
        previous: Attribution | None = None
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
                attr = self.resolver.resolve(parse) if parse else None
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
            self.resolver.last_person = subject
        people = [p for _, p in self.registry.mentions(sent.start, sent.end)]
        if len(people) >= 2:
            self.state.last_pair = (people[0].short, people[1].short)

    def _acceptable(self, subject: str) -> bool:
        return subject.lower() in ("and", "who") or classify_np(subject).kind != "none"

    def _inherit(self, previous: Attribution, cs: int, ce: int) -> Attribution | None:
        parse = ClauseParse(start=cs, end=ce, verb=previous.verb, shape="B", via_that=True)
        inner = whole_quotation(self.text, cs, ce)
        if inner:
            parse.content, parse.direct = inner, True
        else:
            s, e, _ = content_after(self.text, cs, ce, quote_pairs(self.text, cs, ce))
            parse.content = (s, e)
        return Attribution(
            previous.speaker, previous.speaker_short, previous.sources, previous.verb, parse
        )

    def _continuation(
        self, quoting: Attribution, cs: int, ce: int, pairs: list[tuple[int, int]]
    ) -> Attribution | None:
        inner = whole_quotation(self.text, cs, ce)
        if inner is None:
            return None
        parse = ClauseParse(start=cs, end=ce, verb=quoting.verb, content=inner, direct=True)
        return Attribution(quoting.speaker, quoting.speaker_short, quoting.sources, None, parse)

    # ------------------------------------------------------------ claims

    def _emit(self, attr: Attribution, cs: int, ce: int) -> None:
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

    def _quote_groups(self, attr: Attribution, s: int, e: int) -> list[tuple[int, int, int]]:
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
        self, attr: Attribution, s: int, e: int, quote: tuple[int, int], *, full: bool = True
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
        self, attr: Attribution, s: int, e: int, *, dry_run: bool, full: bool = True
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
        self._claim(Attribution(None, None, [], None, parse), s, e, trim_span(self.text, s, e))


def _without_verb(scope: str, verb: str) -> str:
    """The clause without its reporting verb: "Woodward claimed X" hedges nothing itself."""
    if not verb:
        return scope
    return re.sub(rf"\b{re.escape(verb)}\b", " ", scope, count=1, flags=re.IGNORECASE)
