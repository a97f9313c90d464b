"""One article of a run: its hand edit kept, or its answer from the backend turned into a
record and written; and the manifest row that says which, with what it cost.

A record is partial when some pieces of its text have no annotation: it carries one
`partial:` flag per gap. Written by this run (status `partial`) or kept as a person
edited it (status `kept`, the flags in `error`), it is reported and makes the run exit 1
until every piece is answered."""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import Executor
from typing import TYPE_CHECKING

from annotator.core.errors import AnnotatorError, EndpointError
from annotator.core.models import ArticleAnnotation
from annotator.load.articles import Article
from annotator.pipeline.backends import LLMBackend, RulesBackend
from annotator.pipeline.manifest import ArticleStatus
from annotator.pipeline.ownership import RecordOutputs
from annotator.records.build import build_record

if TYPE_CHECKING:
    from annotator.pipeline.run import RunPlan

PARTIAL_FLAG = "partial:"  # the start of a gap's flag line (extract/llm/pieces.gap_flags)


def partial_flags(record: ArticleAnnotation) -> list[str]:
    """The record's gap flags: the stretches of its text no annotation covers."""
    return [f for f in record.article.flags if f.startswith(PARTIAL_FLAG)]


def kept_partial_gaps(outputs: RecordOutputs, article: Article) -> str | None:
    """The gaps (joined flags) of a hand-edited record that `annotate_one` would keep as
    it is although it is still partial (`kept-but-partial`); None when a run would write
    the record itself, or keep an edit with no gaps. Reads only: nothing is moved. An
    edit that does not follow the contract is a run's failure to report, not this."""
    try:
        edit = outputs.hand_edit(article)
    except AnnotatorError:
        return None
    if edit is None or edit.article.sha256 != article.sha256:
        return None  # a run writes it (an edit of an older text is moved aside)
    return "; ".join(partial_flags(edit)) or None


def kept_partial_line(path: str, gaps: str, force: str = "--force") -> str:
    """How a kept-but-partial record is reported (by `run`, and by `batch collect`, whose
    answers `run` will not write over the edit); `force`: how to annotate it again."""
    return (
        f"kept-but-partial {path}: hand-edited record kept as it is, still {gaps}; "
        f"{force} annotates it again"
    )


async def annotate_one(
    article: Article,
    plan: RunPlan,
    backend: RulesBackend | LLMBackend,
    outputs: RecordOutputs,
    sem: asyncio.Semaphore,
    records: dict[str, ArticleAnnotation],
    io: Executor | None = None,
) -> ArticleStatus:
    """Annotate one article (file work in `io`'s threads; None: asyncio's default)."""
    status = ArticleStatus(
        id=article.id,
        path=article.path,
        sha256=article.sha256,
        status="annotated",
        encoding=article.encoding,
        encoding_confidence=article.encoding_confidence,
    )
    t0 = time.perf_counter()
    loop = asyncio.get_running_loop()
    try:
        kept = await loop.run_in_executor(io, outputs.kept_edit, article)
        if kept is not None:
            records[article.id] = kept
            status.status, status.output = "kept", "kept_hand_edit"
            if gaps := partial_flags(kept):  # kept as edited, but still not all annotated
                status.error = "; ".join(gaps)
            _count_claims(status, kept)
        else:
            async with sem:
                answer = await backend.annotate(article)
            status.status = "cached" if answer.cached else "annotated"
            status.attempts = answer.attempts
            status.batch = getattr(backend, "batches", {}).get(article.sha256)
            dups = [d.path for d in plan.copies.get(article.sha256, [])]
            record = build_record(
                article, answer.extraction, answer.info, duplicates=dups, flags=answer.gaps
            )
            if answer.gaps:  # written, but not done: the next run asks the gaps again
                status.status, status.error = "partial", "; ".join(answer.gaps)
            if answer.info.usage:
                status.tokens = answer.info.usage.model_dump()
            # file work in a thread: the event loop keeps sending requests meanwhile
            status.output, status.output_sha256 = await loop.run_in_executor(
                io, outputs.write, article.id, record
            )
            records[article.id] = record
            _count_claims(status, record)
    except EndpointError as exc:
        if exc.fatal:  # every other article would fail the same way: stop the run
            raise
        _failed(status, str(exc), attempts=exc.attempts)
    except AnnotatorError as exc:
        _failed(status, str(exc))
    except Exception as exc:  # one article's bug must not stop the others
        _failed(status, f"unexpected {type(exc).__name__}: {exc}")
    status.seconds = round(time.perf_counter() - t0, 3)
    return status


def _failed(status: ArticleStatus, error: str, attempts: int | None = None) -> None:
    status.status, status.error = "failed", " ".join(error.split())
    status.claims, status.grounding = 0, {}
    if attempts:
        status.attempts = attempts


def _count_claims(status: ArticleStatus, record: ArticleAnnotation) -> None:
    status.claims = len(record.claims)
    counts = {"exact": 0, "fuzzy": 0, "none": 0}
    for c in record.claims:
        counts[c.grounding] += 1
    status.grounding = counts


def duplicate_rows(article: Article, dups: list[Article]) -> list[ArticleStatus]:
    return [
        ArticleStatus(
            id=d.id,
            path=d.path,
            sha256=d.sha256,
            status="duplicate",
            duplicate_of=article.id,
            encoding=d.encoding,
        )
        for d in dups
    ]
