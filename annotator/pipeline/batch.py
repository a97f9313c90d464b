"""`annotate batch prepare|submit|status`: the model work of a run as Batch API files.

State lives in OUT/<run>/batch/: `state.json` (settings, every request's custom_id and
article, each file's batch), the request files `requests.jsonl`, `requests-2.jsonl`, ...
and the downloaded result files in `results/`. A request's custom_id is its cache key
(`request_key`): the cache key fields of the run plus the exact request body, so a
result maps back to its request whatever order results come in, and the same request
always gets the same id. Collecting is in batch_collect.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from annotator.core.errors import UsageError
from annotator.core.settings import EndpointConfig
from annotator.core.yamlio import atomic_write_text
from annotator.extract.llm.batch_format import (
    MAX_BYTES_PER_FILE,
    MAX_REQUESTS_PER_FILE,
    request_line,
    split_lines,
)
from annotator.load.articles import Article, load_articles
from annotator.pipeline.backends import LLMBackend, earlier_pieces
from annotator.pipeline.cache import cache_key
from annotator.pipeline.run import RunOptions, run_dir_for

STATE_FORMAT = "annotator/batch-state/v1"


def request_key(key_base: dict[str, Any], body: dict[str, Any]) -> str:
    """A request's cache key, used as its custom_id."""
    return cache_key({**key_base, "request": body})


@dataclass
class BatchJob:
    """The batch state of one run (OUT/<run>/batch/state.json)."""

    dir: Path
    settings: dict[str, Any]
    requests: dict[str, dict[str, str]] = field(default_factory=dict)  # custom_id -> article
    files: list[dict[str, Any]] = field(default_factory=list)  # one per request file

    @property
    def state_path(self) -> Path:
        return self.dir / "state.json"

    @property
    def results_dir(self) -> Path:
        return self.dir / "results"

    @classmethod
    def load(cls, run_dir: Path) -> BatchJob:
        path = run_dir / "batch" / "state.json"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise UsageError(
                f"no batch in {str(run_dir)!r}: run `annotate batch prepare` first"
            ) from None
        if not isinstance(data, dict) or data.get("format") != STATE_FORMAT:
            raise UsageError(f"{str(path)!r} is not an annotate batch state file")
        return cls(run_dir / "batch", data["settings"], data["requests"], data["files"])

    def save(self) -> None:
        data = {
            "format": STATE_FORMAT,
            "settings": self.settings,
            "files": self.files,
            "requests": self.requests,
        }
        atomic_write_text(self.state_path, json.dumps(data, ensure_ascii=False, indent=1))

    def run_options(self, endpoint: EndpointConfig, concurrency: int = 8) -> RunOptions:
        s = self.settings
        return RunOptions(
            input_path=Path(s["input"]),
            out_root=Path(s["out_root"]),
            backend="llm",
            endpoint=endpoint,
            concurrency=concurrency,
            cache_dir=Path(s["cache_dir"]) if s.get("cache_dir") else None,
            chunk_chars=int(s["chunk_chars"]),
            run_name=s.get("run_name"),
        )

    def add_requests(
        self,
        lines: list[tuple[str, str, Article]],
        *,
        max_requests: int = MAX_REQUESTS_PER_FILE,
        max_bytes: int = MAX_BYTES_PER_FILE,
    ) -> list[Path]:
        """Write request lines (custom_id, line, article) to new request files."""
        for cid, _, art in lines:
            self.requests[cid] = {"article": art.id, "sha256": art.sha256}
        written = []
        for part in split_lines(
            (line for _, line, _ in lines), max_requests=max_requests, max_bytes=max_bytes
        ):
            n = len(self.files) + 1
            path = self.dir / ("requests.jsonl" if n == 1 else f"requests-{n}.jsonl")
            atomic_write_text(path, "\n".join(part) + "\n")
            self.files.append({"file": path.name, "requests": len(part)})
            written.append(path)
        self.save()
        return written

    def open_batches(self) -> list[dict[str, Any]]:
        return [f for f in self.files if f.get("batch_id") and not f.get("downloaded")]


@dataclass
class PrepareResult:
    run_dir: Path
    files: list[Path]
    requests: int
    articles: int
    cached: int
    input_errors: list[str]


def articles_by_sha(opts: RunOptions) -> tuple[dict[str, Article], list[str]]:
    """The run's distinct articles (first of each duplicate), keyed by content sha256."""
    if not opts.input_path.exists():
        raise UsageError(f"input {str(opts.input_path)!r} does not exist")
    loaded = load_articles(opts.input_path, exclude=opts.out_root)
    out: dict[str, Article] = {}
    for art in loaded.articles:
        out.setdefault(art.sha256, art)
    return out, [str(e) for e in loaded.errors]


def backend_for(opts: RunOptions, config: EndpointConfig) -> LLMBackend:
    if config.mode not in ("tools", "json_schema", "json"):
        raise UsageError("batch files need a fixed --mode: tools, json_schema or json")
    return LLMBackend(opts, config, config.mode)


def article_key(backend: LLMBackend, article: Article) -> str:
    return cache_key({**backend.key_base, "article": article.sha256})


def prepare(
    opts: RunOptions,
    config: EndpointConfig,
    *,
    force: bool = False,
    max_requests: int = MAX_REQUESTS_PER_FILE,
    max_bytes: int = MAX_BYTES_PER_FILE,
    progress: Callable[[int], None] | None = None,
) -> PrepareResult:
    """Write one request per article part that the cache cannot answer (for a partial
    article, per failed piece)."""
    run_dir = run_dir_for(opts)
    batch_dir = run_dir / "batch"
    if (batch_dir / "state.json").exists() and not force:
        job = BatchJob.load(run_dir)
        if any(f.get("batch_id") and not f.get("downloaded") for f in job.files):
            raise UsageError(
                f"a batch of {str(run_dir)!r} is submitted and not yet collected: run "
                "`annotate batch collect` first, or pass --force to start over"
            )
    articles, input_errors = articles_by_sha(opts)
    backend = backend_for(opts, config)
    extractor = backend.extractor  # builds the client; sends nothing
    settings = {
        "input": str(opts.input_path.resolve()),
        "out_root": str(opts.out_root),
        "cache_dir": str(opts.cache_dir) if opts.cache_dir else None,
        "run_name": opts.run_name,
        "chunk_chars": opts.chunk_chars,
        **{k: getattr(config, k) for k in ("base_url", "model", "mode", "max_tokens")},
        "temperature": config.temperature,
    }
    for stale in batch_dir.glob("requests*.jsonl"):
        stale.unlink()
    job = BatchJob(batch_dir, settings)
    lines: list[tuple[str, str, Article]] = []
    cached = 0
    for n, art in enumerate(sorted(articles.values(), key=lambda a: a.id), start=1):
        entry = backend.cache.get(article_key(backend, art))
        earlier = earlier_pieces(entry)
        if entry is not None and "pieces" not in entry:
            cached += 1
            continue
        # a partial article: only its failed pieces are asked again
        bodies = (
            extractor.first_requests(art)
            if earlier is None
            else extractor.retry_requests(art, earlier)
        )
        for body in bodies:
            cid = request_key(backend.key_base, body)
            lines.append((cid, request_line(cid, body), art))
        if progress is not None:
            progress(n)
    files = job.add_requests(lines, max_requests=max_requests, max_bytes=max_bytes)
    return PrepareResult(run_dir, files, len(lines), len(articles) - cached, cached, input_errors)


def _endpoint(client_config: EndpointConfig) -> Any:
    from annotator.extract.llm.batch_api import BatchEndpoint
    from annotator.extract.llm.client import StructuredClient

    return BatchEndpoint(StructuredClient(client_config, mode="tools"))


async def submit(run_dir: Path, config: EndpointConfig) -> list[dict[str, Any]]:
    """Upload every request file not yet submitted and create its batch. The state is
    saved after each file, so an interrupted submit resumes without resubmitting."""
    job = BatchJob.load(run_dir)
    api = _endpoint(config)
    done = []
    try:
        for entry in job.files:
            if entry.get("batch_id"):
                continue
            if not entry.get("input_file_id"):
                entry["input_file_id"] = await api.upload(job.dir / entry["file"])
                job.save()
            state = await api.create(
                entry["input_file_id"], {"annotate_run": run_dir.name, "file": entry["file"]}
            )
            entry.update(batch_id=state.id, status=state.status)
            job.save()
            done.append(entry)
    finally:
        await api.client.aclose()
    return done


async def status(
    run_dir: Path, config: EndpointConfig, *, wait: float = 0.0, poll: float = 2.0
) -> list[Any]:
    """The state of every submitted batch not yet collected; with `wait`, poll (with
    backoff) until each is finished or `wait` seconds have passed."""
    job = BatchJob.load(run_dir)
    api = _endpoint(config)
    states = []
    try:
        for entry in job.open_batches():
            if wait > 0:
                state = await api.wait(entry["batch_id"], timeout=wait, first_delay=poll)
            else:
                state = await api.retrieve(entry["batch_id"])
            entry.update(
                status=state.status,
                output_file_id=state.output_file_id,
                error_file_id=state.error_file_id,
            )
            states.append(state)
        job.save()
    finally:
        await api.client.aclose()
    return states
