"""Reconcile per-article records into one event summary: pure and deterministic.

`reconcile(records)` canonicalises speakers and sources (`entities`), clusters
equivalent statements across articles (`claim_clustering`), gives each consolidated
claim a status from the stances of its records, lists every record as provenance and
every disputed claim as a conflict. No I/O and no model: the same records, in any order,
give the same summary, and so the same bytes once written.

Conventions a reader of `event.yaml` relies on:
- status, from the distinct voices (entities, not records: five records from one
  source are one voice): asserted or relayed (confirm or unverified) and denied ->
  `disputed`; only denials -> `denied`; a confirm and no denial -> `confirmed`; only
  hedged relays -> `unverified`; `stances` counts the voices of each stance;
- `merged_by` says what joined a claim's wordings: `rule` (same content words),
  `embedding` (similar meaning), `model` (a model call judged the pair the same claim);
- provenance `sources` is the attribution chain, nearest first; a source relayed by
  another (`cited_via`) comes after its relay even if the record listed only it;
- conflict `who`: the canonical name of the speaker; with no speaker, of the farthest
  source in the chain (anonymous sources read "anonymous sources (via The Washington
  Post)"); with neither, the article's outlet, else "article <id> (outlet not named)";
- claim ids: "c-" + the first words of the representative statement + a hash of it,
  so they follow the content, not the order of files;
- claims are listed by the number of articles reporting them, then records, then id.
"""

from __future__ import annotations

import gc
import hashlib
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import pairwise

from annotator.core.models import (
    ArticleAnnotation,
    ClaimRecord,
    ClaimStatus,
    Conflict,
    EventArticle,
    EventClaim,
    EventInfo,
    EventSummary,
    Provenance,
    Source,
    StanceCounts,
)
from annotator.reconcile.clustering import MergedBy, PairJudge, cluster_statements
from annotator.reconcile.embeddings import Embedder
from annotator.reconcile.entities import EntityIndex, canonicalise_entities, slugify


@dataclass(frozen=True, slots=True)
class _Item:
    record: ArticleAnnotation
    claim: ClaimRecord
    position: int  # of the claim in its record
    sources: tuple[Source, ...]  # the attribution chain, nearest first


def claim_status(confirm: int, deny: int, unverified: int) -> ClaimStatus:
    """Status from the number of distinct voices taking each stance."""
    if deny:
        return "disputed" if confirm or unverified else "denied"
    return "confirmed" if confirm else "unverified"


def source_chain(record: ArticleAnnotation, claim: ClaimRecord) -> tuple[Source, ...]:
    """The claim's sources nearest first, each preceded by the sources that relay it."""
    by_id = {s.id: s for s in record.sources}
    chain: list[str] = []
    for sid in claim.sources:
        path: list[str] = []
        cur: str | None = sid
        while cur is not None and cur in by_id and cur not in path:
            path.append(cur)
            cur = by_id[cur].cited_via
        for p in reversed(path):  # relay first
            if p not in chain:
                chain.append(p)
    return tuple(by_id[s] for s in chain)


def reconcile(
    records: Sequence[ArticleAnnotation],
    *,
    judge: PairJudge | None = None,
    embedder: Embedder | None = None,
) -> EventSummary:
    """Merge per-article records into one event summary (no network I/O of its own).

    `embedder` gives statement vectors (default: the bundled offline model); `judge`, if
    given, decides statement pairs in the uncertain band (see `clustering`).
    Raises ValueError when two records share an article id.
    """
    with paused_gc():
        return _reconcile(records, judge, embedder)


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector: building 100,000s of small objects that are all
    kept makes it rescan the growing heap again and again (it doubled the run time)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _news_dates(items: Sequence[_Item]) -> list[str | None]:
    """Each statement's article date; an undated article of the folder takes the event's
    year, the one most of the dated articles were published in (ties: the earliest): the
    folder reports one event, so an undated "they spoke" refers to it too."""
    dates = {it.record.article.id: it.record.article.published for it in items}
    years = Counter(d[:4] for d in dates.values() if d and len(d) >= 4 and d[:4].isdigit())
    event_year = min(years, key=lambda y: (-years[y], y)) if years else None
    return [it.record.article.published or event_year for it in items]


def _reconcile(
    records: Sequence[ArticleAnnotation], judge: PairJudge | None, embedder: Embedder | None
) -> EventSummary:
    ordered = sorted(records, key=lambda r: r.article.id)
    for a, b in pairwise(ordered):
        if a.article.id == b.article.id:
            raise ValueError(f"two records have the article id {a.article.id!r}")
    entities = canonicalise_entities(ordered)
    items = [
        _Item(rec, c, pos, source_chain(rec, c))
        for rec in ordered
        for pos, c in enumerate(rec.claims)
    ]
    statements = [" ".join(it.claim.statement.split()) for it in items]
    groups = cluster_statements(
        statements,
        judge=judge,
        embedder=embedder,
        published=_news_dates(items),
    )
    drafts = [
        _consolidate(
            [items[i] for i in g.members], statements[g.representative], entities, g.merged_by
        )
        for g in groups
    ]
    claims = _assign_ids(drafts)
    claims.sort(
        key=lambda d: (-len({p.article for p in d[0].provenance}), -len(d[0].provenance), d[0].id)
    )
    event_claims = [c for c, _ in claims]
    conflicts = [
        Conflict(
            claim=c.id,
            confirm=who["confirm"],
            deny=who["deny"],
            relayed=who["unverified"] or None,
        )
        for c, who in claims
        if c.status == "disputed"
    ]
    return EventSummary(
        event=_event_info(ordered, event_claims),
        articles=[
            EventArticle(
                id=r.article.id,
                outlet=r.article.outlet,
                title=r.article.title,
                published=r.article.published,
                flags=list(r.article.flags),
            )
            for r in ordered
        ],
        entities=list(entities.entities),
        claims=event_claims,
        conflicts=conflicts,
    )


def _who(item: _Item, entities: EntityIndex) -> str:
    aid = item.record.article.id
    if item.claim.speaker is not None:
        ent = entities.lookup(aid, "speaker", item.claim.speaker)
        if ent is not None:
            return ent.name
    if item.sources:
        ent = entities.lookup(aid, "source", item.sources[-1].id)
        if ent is not None:
            return ent.name
    # the article's own voice: its outlet, or the article itself, said in words a reader
    # of the conflict list understands (a bare id reads like a source's name)
    return item.record.article.outlet or f"article {aid} (outlet not named)"


def _provenance(item: _Item) -> Provenance:
    rec, claim = item.record, item.claim
    speaker = None
    if claim.speaker is not None:
        speaker = next((s.name for s in rec.speakers if s.id == claim.speaker), None)
    # the fields come from validated records: construct without validating again
    return Provenance.model_construct(
        article=rec.article.id,
        claim=claim.id,
        quote=claim.quote,
        span=list(claim.span) if claim.span is not None else None,
        speaker=speaker,
        sources=[s.name for s in item.sources],
        stance=claim.stance,
        grounding=claim.grounding,
    )


def _consolidate(
    members: list[_Item], statement: str, entities: EntityIndex, merged_by: MergedBy | None
) -> tuple[EventClaim, dict[str, list[str]]]:
    members.sort(key=lambda it: (it.record.article.id, it.position))
    who: dict[str, list[str]] = {
        stance: sorted({_who(it, entities) for it in members if it.claim.stance == stance})
        for stance in ("confirm", "deny", "unverified")
    }
    voices = {stance: len(names) for stance, names in who.items()}
    claim = EventClaim(
        id=_claim_id(statement),
        statement=statement,
        status=claim_status(voices["confirm"], voices["deny"], voices["unverified"]),
        stances=StanceCounts(**voices),
        provenance=[_provenance(it) for it in members],
        merged_by=merged_by,
    )
    return claim, who


def _claim_id(statement: str) -> str:
    digest = hashlib.sha256(" ".join(statement.lower().split()).encode()).hexdigest()[:6]
    return f"c-{slugify(statement, max_words=6)}-{digest}"


def _assign_ids(
    drafts: list[tuple[EventClaim, dict[str, list[str]]]],
) -> list[tuple[EventClaim, dict[str, list[str]]]]:
    """Ids are unique: the rare clash gets a suffix, in an order set by the content."""
    drafts.sort(key=lambda d: (d[0].id, [(p.article, p.claim) for p in d[0].provenance]))
    seen: Counter[str] = Counter()
    for claim, _ in drafts:
        seen[claim.id] += 1
        if seen[claim.id] > 1:
            claim.id = f"{claim.id}-{seen[claim.id]}"
    return drafts


def _event_info(records: Sequence[ArticleAnnotation], claims: Sequence[EventClaim]) -> EventInfo:
    dates = sorted(r.article.published for r in records if r.article.published)
    counts = Counter(c.status for c in claims)
    n = len(records)
    summary = (
        f"{n} article{'s' if n != 1 else ''}, {len(claims)} claim{'s' if len(claims) != 1 else ''}:"
        f" {counts['confirmed']} confirmed, {counts['denied']} denied,"
        f" {counts['disputed']} disputed, {counts['unverified']} unverified"
    )
    return EventInfo(
        title=claims[0].statement if claims else None,
        date=dates[0] if dates else None,
        summary=summary,
    )
