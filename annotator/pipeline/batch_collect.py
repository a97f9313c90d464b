"""`annotate batch collect`: take batch results back into the cache.

Each article is annotated by the live code path (LLMBackend -> LLMExtractor ->
StructuredClient) with one difference: before a request is sent, the client looks its
body up among the batch results (by custom_id = request key). So a batch answer goes
through the same validation, re-ask, truncation handling, quote re-ask and cache entry as
a live answer. A request the batch never had (a re-ask, the halves of a truncated part, a
quote re-ask) is sent live, or with `live=False` written to a follow-up request file.
A piece that fails even so (cut at the smallest size, invalid, refused) leaves the article
partial, as in `run`: the other pieces' answers are cached, and `run` asks that piece again.
A hand-edited record that is still partial is reported `kept-but-partial` as `run` reports
it: `run` keeps it as it is, whatever the batch answered, until --force.

Safe to re-run after being killed: downloads and cache entries are written atomically,
the state after each download, and finished articles are skipped.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from annotator.core.errors import AnnotatorError
from annotator.core.settings import EndpointConfig
from annotator.core.yamlio import atomic_write_text
from annotator.extract.llm.batch_format import (
    AnswerMissing,
    BatchAnswer,
    BatchRequestFailed,
    parse_result_line,
    request_line,
)
from annotator.load.articles import Article
from annotator.pipeline.batch import (
    BatchJob,
    _endpoint,
    articles_by_sha,
    backend_for,
    request_key,
)
from annotator.pipeline.manifest import previous_manifest
from annotator.pipeline.one_article import kept_partial_gaps
from annotator.pipeline.ownership import RecordOutputs


class AnswerPending(AnnotatorError):
    """A request of a submitted batch has no result yet."""


@dataclass
class CollectResult:
    annotated: list[str] = field(default_factory=list)  # article ids finished now
    already: int = 0  # articles that were in the cache before
    failed: list[tuple[str, str]] = field(default_factory=list)  # (article path, error)
    # (article path, gaps): some pieces have no answer; the others' are cached
    partial: list[tuple[str, str]] = field(default_factory=list)
    # (article path, gaps): hand-edited records still partial, which `run` keeps as they are
    kept_partial: list[tuple[str, str]] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)  # waiting for batch answers
    followup: list[Path] = field(default_factory=list)  # new request files (no-live)
    unfinished: list[str] = field(default_factory=list)  # batches still running
    ended: list[str] = field(default_factory=list)  # batches failed, expired or cancelled
    downloaded: list[str] = field(default_factory=list)  # batches downloaded now
    unknown: int = 0  # result lines whose custom_id is not one of this run's requests
    live_calls: int = 0


async def collect(
    run_dir: Path,
    config: EndpointConfig,
    *,
    results: list[Path] | None = None,
    live: bool = True,
    concurrency: int = 8,
) -> CollectResult:
    job = BatchJob.load(run_dir)
    out = CollectResult()
    if results:
        for path in results:
            _store_results_file(job, path)
    elif job.open_batches():
        await _download(job, config, out)
    answers = _index(job, out)

    opts = job.run_options(config, concurrency)
    backend = backend_for(opts, config)
    articles, _ = articles_by_sha(opts)
    wanted: dict[str, list[str]] = {}
    for cid, req in job.requests.items():
        wanted.setdefault(req["sha256"], []).append(cid)
    followups: dict[str, tuple[str, Article]] = {}

    async def lookup(body: dict[str, Any]) -> Any:
        from annotator.extract.llm.structured import completion_from_json

        cid = request_key(backend.key_base, body)
        found = answers.get(cid)
        if found is not None:
            label, answer = found
            if answer.error is not None:
                raise BatchRequestFailed(
                    f"batch {label} answered request {cid[:12]} with {answer.error}"
                )
            return completion_from_json(answer.completion or {})
        if cid in job.requests:
            raise AnswerPending(f"request {cid[:12]} has no batch result yet")
        if not live:
            raise AnswerMissing(body)
        out.live_calls += 1
        return None

    backend.answers = lookup

    def batch_of(art: Article) -> str | None:
        labels = {answers[c][0] for c in wanted.get(art.sha256, []) if c in answers}
        return ", ".join(sorted(labels)) or None

    backend.batch_of = batch_of
    sem = asyncio.Semaphore(max(1, concurrency))

    async def one(art: Article) -> None:
        try:
            async with sem:
                answer = await backend.annotate(art)
        except AnswerPending:
            out.pending.append(art.id)
            return
        except AnswerMissing as exc:
            cid = request_key(backend.key_base, exc.body)
            followups[cid] = (request_line(cid, exc.body), art)
            out.pending.append(art.id)
            return
        except AnnotatorError as exc:
            out.failed.append((art.path, " ".join(str(exc).split())))
            return
        if answer.gaps:  # cached with its piece log: `run` asks the failed pieces again
            out.partial.append((art.path, "; ".join(answer.gaps)))
        elif answer.cached:
            out.already += 1
        else:
            out.annotated.append(art.id)

    todo = [articles[sha] for sha in sorted(wanted) if sha in articles]
    for sha in sorted(set(wanted) - set(articles)):
        out.failed.append((job.requests[wanted[sha][0]]["article"], "no longer in the input"))
    try:
        await asyncio.gather(*(one(a) for a in todo))
    finally:
        await backend.aclose()
    if followups:
        lines = [(cid, line, art) for cid, (line, art) in sorted(followups.items())]
        out.followup = job.add_requests(lines)
    out.annotated.sort()
    out.pending.sort()
    out.kept_partial = kept_partial_records(run_dir, list(articles.values()))
    return out


def kept_partial_records(run_dir: Path, articles: list[Article]) -> list[tuple[str, str]]:
    """(article path, gaps) of each hand-edited record in the run folder that `run` would
    keep as it is although it is still partial, as `run` decides it (one_article.py)."""
    legacy = previous_manifest(run_dir / "manifest.yaml").output_hashes
    outputs = RecordOutputs(run_dir / "articles", False, legacy)
    found = []
    for art in sorted(articles, key=lambda a: a.path):
        gaps = kept_partial_gaps(outputs, art)
        if gaps:
            found.append((art.path, gaps))
    return found


async def _download(job: BatchJob, config: EndpointConfig, out: CollectResult) -> None:
    api = _endpoint(config)
    try:
        for entry in job.open_batches():
            state = await api.retrieve(entry["batch_id"])
            entry.update(status=state.status)
            if not state.finished:
                out.unfinished.append(f"{state.id} ({state.status})")
                continue
            for file_id, suffix in ((state.output_file_id, ""), (state.error_file_id, ".errors")):
                if file_id:
                    data = await api.download(file_id)
                    name = f"{state.id}{suffix}.jsonl"
                    atomic_write_text(job.results_dir / name, data.decode("utf-8"))
            entry["downloaded"] = True
            job.save()
            out.downloaded.append(state.id)
            if state.status != "completed":
                detail = "; ".join(state.errors)[:300]
                out.ended.append(f"{state.id} {state.status}" + (f": {detail}" if detail else ""))
        job.save()
    finally:
        await api.client.aclose()


def _store_results_file(job: BatchJob, path: Path) -> None:
    """Keep a copy of a result file made elsewhere (vLLM run_batch), so later collects
    (of follow-up batches) still see it; the same content is stored once."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise AnnotatorError(f"cannot read results file {str(path)!r}: {exc.strerror}") from None
    digest = hashlib.sha256(data).hexdigest()[:8]
    target = job.results_dir / f"{path.stem}.{digest}.jsonl"
    if not target.exists():
        atomic_write_text(target, data.decode("utf-8"))


def _index(job: BatchJob, out: CollectResult) -> dict[str, tuple[str, BatchAnswer]]:
    """custom_id -> (batch label, answer) over every result file; an answer wins over an
    error for the same request (a request retried in a later batch)."""
    index: dict[str, tuple[str, BatchAnswer]] = {}
    for path in sorted(job.results_dir.glob("*.jsonl")) if job.results_dir.exists() else []:
        label = path.name.removesuffix(".jsonl").removesuffix(".errors")
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            try:
                answer = parse_result_line(line)
            except ValueError as exc:
                raise AnnotatorError(f"{path.name}:{n}: {exc}") from None
            if answer is None:
                continue
            if answer.custom_id not in job.requests:
                out.unknown += 1
                continue
            known = index.get(answer.custom_id)
            if known is None or (known[1].error is not None and answer.error is None):
                index[answer.custom_id] = (label, answer)
    return index
