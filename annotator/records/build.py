"""Build the per-article record (contract v1) from an article, a backend's extraction and
grounding. Pure: no I/O. Ids are renumbered (p1.., src1.., c1..) so records are stable
and readable whatever ids the backend used.

Speakers are merged by name. Sources are merged by name AND relay chain: "people
familiar with the matter" relayed by the Post and the same words relayed by Reuters are
two sources, so neither is credited to the other outlet.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from annotator.core.models import (
    AnnotationInfo,
    ArticleAnnotation,
    ArticleInfo,
    ClaimRecord,
    Source,
    Speaker,
)
from annotator.extract.schema import ExtractedClaim, ExtractedSource, Extraction
from annotator.ground import ground_quote
from annotator.load.articles import Article


def _key(name: str) -> str:
    return " ".join(name.lower().split())


SourceKey = tuple[str, tuple[str, ...]]  # (name, names of its relays, nearest first)


@dataclass
class _Parts:
    """The record's speakers and sources as they are built, with the lookups from the
    backend's ids and names to record ids."""

    speakers: list[Speaker] = field(default_factory=list)
    speaker_ids: dict[str, str] = field(default_factory=dict)  # backend id or name -> id
    sources: list[Source] = field(default_factory=list)
    source_by_ref: dict[str, str] = field(default_factory=dict)  # backend id -> record id
    source_by_key: dict[SourceKey, str] = field(default_factory=dict)
    source_by_name: dict[str, list[str]] = field(default_factory=dict)  # name -> record ids


def _add_speakers(parts: _Parts, extraction: Extraction) -> None:
    for sp in extraction.speakers:
        known = parts.speaker_ids.get(_key(sp.name))
        if known is None:
            known = f"p{len(parts.speakers) + 1}"
            parts.speakers.append(
                Speaker(id=known, name=sp.name.strip(), role=sp.role, affiliation=sp.affiliation)
            )
            parts.speaker_ids[_key(sp.name)] = known
        parts.speaker_ids.setdefault(sp.id, known)


def _relays(src: ExtractedSource, by_id: dict[str, ExtractedSource]) -> tuple[str, ...]:
    """Names of the sources relaying `src`, nearest first (cycles cut)."""
    names: list[str] = []
    seen = {src.id}
    cur = by_id.get(src.cited_via or "")
    while cur is not None and cur.id not in seen:
        names.append(_key(cur.name))
        seen.add(cur.id)
        cur = by_id.get(cur.cited_via or "")
    return tuple(names)


def _new_source(parts: _Parts, name: str, kind: str, key: SourceKey) -> str:
    sid = f"src{len(parts.sources) + 1}"
    parts.sources.append(Source(id=sid, name=name.strip(), kind=kind))  # type: ignore[arg-type]
    parts.source_by_key[key] = sid
    parts.source_by_name.setdefault(key[0], []).append(sid)
    return sid


def _add_sources(parts: _Parts, extraction: Extraction) -> None:
    by_id = {s.id: s for s in extraction.sources}
    for src in extraction.sources:
        key = (_key(src.name), _relays(src, by_id))
        sid = parts.source_by_key.get(key) or _new_source(parts, src.name, src.kind, key)
        parts.source_by_ref.setdefault(src.id, sid)
    records = {s.id: s for s in parts.sources}
    for src in extraction.sources:
        via = parts.source_by_ref.get(src.cited_via or "")
        record = records[parts.source_by_ref[src.id]]
        if via and via != record.id and record.cited_via is None:
            record.cited_via = via


def _claim_sources(parts: _Parts, claim: ExtractedClaim, flags: list[str]) -> list[str]:
    """Record ids of a claim's source chain; a name used by several sources is the one
    relayed by the previous source in the chain."""
    chain: list[str] = []
    by_id = {s.id: s for s in parts.sources}
    for ref in claim.sources:
        sid = parts.source_by_ref.get(ref)
        if sid is None:
            named = parts.source_by_name.get(_key(ref), [])
            relayed = [s for s in named if chain and by_id[s].cited_via == chain[-1]]
            sid = (relayed or named)[0] if named else None
        if sid is None:
            sid = _new_source(parts, ref, "other", (_key(ref), ()))
            by_id = {s.id: s for s in parts.sources}
            flags.append("source_not_listed")
        if sid not in chain:
            chain.append(sid)
    return chain


def _claim_speaker(parts: _Parts, claim: ExtractedClaim, flags: list[str]) -> str | None:
    if not claim.speaker:
        return None
    speaker = parts.speaker_ids.get(claim.speaker) or parts.speaker_ids.get(_key(claim.speaker))
    if speaker is None:  # the model named someone it did not list: keep, and say so
        speaker = f"p{len(parts.speakers) + 1}"
        parts.speakers.append(Speaker(id=speaker, name=claim.speaker.strip()))
        parts.speaker_ids[_key(claim.speaker)] = speaker
        flags.append("speaker_not_listed")
    return speaker


def _claims(parts: _Parts, article: Article, extraction: Extraction) -> list[ClaimRecord]:
    claims: list[ClaimRecord] = []
    for n, c in enumerate(extraction.claims, start=1):
        flags: list[str] = []
        speaker = _claim_speaker(parts, c, flags)
        chain = _claim_sources(parts, c, flags)
        grounded = ground_quote(article.text, c.quote)
        if grounded.reason:
            flags.append(grounded.reason)
        claims.append(
            ClaimRecord(
                id=f"c{n}",
                statement=" ".join(c.statement.split()),
                quote=c.quote,
                span=list(grounded.span) if grounded.span else None,
                grounding=grounded.grounding,
                speaker=speaker,
                sources=chain,
                stance=c.stance,
                flags=flags,
            )
        )
    return claims


def _article_info(
    article: Article, duplicates: list[str] | None, flags: list[str] | None
) -> ArticleInfo:
    return ArticleInfo(
        id=article.id,
        path=article.path,
        sha256=article.sha256,
        title=article.title,
        outlet=article.outlet,
        published=article.published,
        url=article.url,
        encoding=article.encoding,
        duplicates=sorted(duplicates or []),
        flags=[*article.flags, *(flags or [])],
        encoding_confidence=article.encoding_confidence,
    )


def build_record(
    article: Article,
    extraction: Extraction,
    info: AnnotationInfo,
    *,
    duplicates: list[str] | None = None,
    flags: list[str] | None = None,
) -> ArticleAnnotation:
    """flags: the annotation's own, added to the article's (e.g. the `partial: ...` lines
    of an article some of whose pieces have no answer)."""
    parts = _Parts()
    _add_speakers(parts, extraction)
    _add_sources(parts, extraction)
    claims = _claims(parts, article, extraction)
    return ArticleAnnotation(
        article=_article_info(article, duplicates, flags),
        annotation=info,
        speakers=parts.speakers,
        sources=parts.sources,
        claims=claims,
    )
