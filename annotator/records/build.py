"""Build the per-article record (contract v1) from an article, a backend's extraction and
grounding. Pure: no I/O. Ids are renumbered (p1.., src1.., c1..) so records are stable
and readable whatever ids the backend used."""

from __future__ import annotations

from annotator.core.models import (
    AnnotationInfo,
    ArticleAnnotation,
    ArticleInfo,
    ClaimRecord,
    Source,
    Speaker,
)
from annotator.extract.schema import Extraction
from annotator.ground import ground_quote
from annotator.load.articles import Article


def _key(name: str) -> str:
    return " ".join(name.lower().split())


def build_record(
    article: Article,
    extraction: Extraction,
    info: AnnotationInfo,
    *,
    duplicates: list[str] | None = None,
) -> ArticleAnnotation:
    speakers: list[Speaker] = []
    speaker_ids: dict[str, str] = {}  # backend id or lower-cased name -> record id
    for sp in extraction.speakers:
        known = speaker_ids.get(_key(sp.name))
        if known is None:
            known = f"p{len(speakers) + 1}"
            speakers.append(
                Speaker(id=known, name=sp.name.strip(), role=sp.role, affiliation=sp.affiliation)
            )
            speaker_ids[_key(sp.name)] = known
        speaker_ids.setdefault(sp.id, known)

    sources: list[Source] = []
    source_ids: dict[str, str] = {}
    for src in extraction.sources:
        known = source_ids.get(_key(src.name))
        if known is None:
            known = f"src{len(sources) + 1}"
            sources.append(Source(id=known, name=src.name.strip(), kind=src.kind))
            source_ids[_key(src.name)] = known
        source_ids.setdefault(src.id, known)
    for src in extraction.sources:
        via = source_ids.get(src.cited_via or "")
        record = next(s for s in sources if s.id == source_ids[src.id])
        if via and via != record.id and record.cited_via is None:
            record.cited_via = via

    claims: list[ClaimRecord] = []
    for n, c in enumerate(extraction.claims, start=1):
        flags: list[str] = []
        speaker = None
        if c.speaker:
            speaker = speaker_ids.get(c.speaker) or speaker_ids.get(_key(c.speaker))
            if speaker is None:  # the model named someone it did not list: keep, and say so
                speaker = f"p{len(speakers) + 1}"
                speakers.append(Speaker(id=speaker, name=c.speaker.strip()))
                speaker_ids[_key(c.speaker)] = speaker
                flags.append("speaker_not_listed")
        chain: list[str] = []
        for ref in c.sources:
            sid = source_ids.get(ref) or source_ids.get(_key(ref))
            if sid is None:
                sid = f"src{len(sources) + 1}"
                sources.append(Source(id=sid, name=ref.strip(), kind="other"))
                source_ids[_key(ref)] = sid
                flags.append("source_not_listed")
            if sid not in chain:
                chain.append(sid)
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

    return ArticleAnnotation(
        article=ArticleInfo(
            id=article.id,
            path=article.path,
            sha256=article.sha256,
            title=article.title,
            outlet=article.outlet,
            published=article.published,
            url=article.url,
            encoding=article.encoding,
            duplicates=sorted(duplicates or []),
            flags=list(article.flags),
            encoding_confidence=article.encoding_confidence,
        ),
        annotation=info,
        speakers=speakers,
        sources=sources,
        claims=claims,
    )
