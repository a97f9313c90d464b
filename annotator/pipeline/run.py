"""`annotate run`: load -> extract (llm or rules) -> ground -> per-article YAML -> reconcile.

Articles are annotated concurrently (a bounded number of requests in flight) and each
record is written, atomically, as soon as it is ready, so an interrupted run loses no
finished article. A failed article is reported and the others go on.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from annotator.core.errors import AnnotatorError, EndpointError, UsageError
from annotator.core.models import AnnotationInfo, ArticleAnnotation, EventSummary, Usage
from annotator.core.settings import EndpointConfig
from annotator.core.yamlio import atomic_write_text, dump_yaml, load_yaml
from annotator.extract.schema import Extraction
from annotator.load.articles import Article, load_articles, safe_id
from annotator.pipeline.manifest import ArticleStatus, previous_output_hashes, write_manifest
from annotator.pipeline.progress import NoProgress, ProgressSink
from annotator.records.build import build_record


@dataclass
class RunOptions:
    input_path: Path
    out_root: Path = Path("outputs")
    backend: str = "rules"  # "llm" or "rules", already resolved
    endpoint: EndpointConfig | None = None
    concurrency: int = 8
    force: bool = False
    cache_dir: Path | None = None  # default: <out_root>/.cache
    chunk_chars: int = 12_000
    run_name: str | None = None
    max_adjudications: int = 200  # llm backend: uncertain claim pairs a model may decide
    embed_model: str | None = None  # llm backend: the endpoint's embeddings for reconcile


@dataclass
class RunResult:
    run_dir: Path
    statuses: list[ArticleStatus]
    input_errors: list[str]
    skipped: list[str]
    summary: EventSummary | None = None
    notices: list[str] = field(default_factory=list)
    reconcile_note: str | None = None  # what model adjudication did, one line

    @property
    def failed(self) -> list[ArticleStatus]:
        return [s for s in self.statuses if s.status == "failed"]


Annotate = Callable[
    [Article], Any
]  # async: Article -> (Extraction, AnnotationInfo, attempts, cached)


def run_dir_for(opts: RunOptions) -> Path:
    name = opts.run_name or opts.input_path.resolve().name
    if opts.input_path.is_file():
        name = opts.run_name or opts.input_path.stem
    return opts.out_root / safe_id(name)


async def run_pipeline(opts: RunOptions, progress: ProgressSink | None = None) -> RunResult:
    progress = progress or NoProgress()
    if not opts.input_path.exists():
        raise UsageError(f"input {str(opts.input_path)!r} does not exist")
    loaded = load_articles(opts.input_path, exclude=opts.out_root)
    if not loaded.articles and not loaded.errors:
        raise UsageError(
            f"no articles in {str(opts.input_path)!r}: expected .txt, .md, .html or .jsonl files"
        )
    run_dir = run_dir_for(opts)
    articles_dir = run_dir / "articles"
    manifest_path = run_dir / "manifest.yaml"
    previous = previous_output_hashes(manifest_path)
    started = datetime.now(UTC)
    result = RunResult(
        run_dir=run_dir,
        statuses=[],
        input_errors=[str(e) for e in loaded.errors],
        skipped=loaded.skipped,
    )

    primaries: dict[str, Article] = {}
    copies: dict[str, list[Article]] = {}
    for art in loaded.articles:
        if art.sha256 in primaries:
            copies.setdefault(art.sha256, []).append(art)
        else:
            primaries[art.sha256] = art

    backend = await _make_backend(opts)
    records: dict[str, ArticleAnnotation] = {}
    sem = asyncio.Semaphore(max(1, opts.concurrency))
    progress.start(len(primaries))

    async def process(article: Article) -> None:
        dups = copies.get(article.sha256, [])
        status = ArticleStatus(
            id=article.id,
            path=article.path,
            sha256=article.sha256,
            status="annotated",
            encoding=article.encoding,
        )
        t0 = time.perf_counter()
        try:
            async with sem:
                extraction, info, attempts, cached = await backend.annotate(article)
            status.status = "cached" if cached else "annotated"
            status.attempts = attempts
            record = build_record(article, extraction, info, duplicates=[d.path for d in dups])
            status.claims = len(record.claims)
            status.grounding = _grounding_counts(record)
            if info.usage:
                status.tokens = info.usage.model_dump()
            path = articles_dir / f"{article.id}.yaml"
            # file work in a thread: the event loop keeps sending requests meanwhile
            status.output, kept, status.output_sha256 = await asyncio.to_thread(
                _write_record, path, record, previous.get(article.id), opts.force
            )
            records[article.id] = kept or record
        except EndpointError as exc:
            if exc.fatal:  # every other article would fail the same way: stop the run
                raise
            status.status, status.error = "failed", " ".join(str(exc).split())
        except AnnotatorError as exc:
            status.status, status.error = "failed", " ".join(str(exc).split())
        except Exception as exc:  # one article's bug must not stop the others
            status.status = "failed"
            status.error = f"unexpected {type(exc).__name__}: {' '.join(str(exc).split())}"
        status.seconds = round(time.perf_counter() - t0, 3)
        result.statuses.append(status)
        for d in dups:
            result.statuses.append(
                ArticleStatus(
                    id=d.id,
                    path=d.path,
                    sha256=d.sha256,
                    status="duplicate",
                    duplicate_of=article.id,
                    encoding=d.encoding,
                )
            )
        progress.advance(status.status, status.tokens.get("total_tokens", 0))

    tasks = [asyncio.ensure_future(process(a)) for a in primaries.values()]
    try:
        await asyncio.gather(*tasks)
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
    finally:
        progress.stop()
        await backend.aclose()
        run = _run_info(opts, backend, started)
        write_manifest(
            manifest_path,
            run=run,
            statuses=result.statuses,
            input_errors=result.input_errors,
            skipped=result.skipped,
        )

    from annotator.pipeline.endpoint_reconcile import endpoint_helpers, reconcile_records
    from annotator.render.report import render_report

    helpers = None
    if isinstance(backend, LLMBackend):  # the run's endpoint adjudicates uncertain pairs
        helpers = endpoint_helpers(
            backend.config,
            backend.mode,
            opts.cache_dir or opts.out_root / ".cache",
            max_adjudications=opts.max_adjudications,
            embed_model=opts.embed_model,
        )
    ordered = [records[k] for k in sorted(records)]
    # in a thread: the judge runs its own event loop
    result.summary = await asyncio.to_thread(reconcile_records, ordered, helpers)
    if helpers is not None:
        run["reconcile"] = helpers.describe()
        result.reconcile_note = helpers.summary_line()
        write_manifest(
            manifest_path,
            run=run,
            statuses=result.statuses,
            input_errors=result.input_errors,
            skipped=result.skipped,
        )
    atomic_write_text(run_dir / "event.yaml", dump_yaml(result.summary.to_yaml_dict()))
    texts = {a.id: a.text for a in primaries.values()}
    atomic_write_text(run_dir / "report.html", render_report(result.summary, ordered, texts))
    result.notices.extend(backend.notices)
    return result


def _grounding_counts(record: ArticleAnnotation) -> dict[str, int]:
    counts = {"exact": 0, "fuzzy": 0, "none": 0}
    for c in record.claims:
        counts[c.grounding] += 1
    return counts


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _write_record(
    path: Path, record: ArticleAnnotation, previous_sha: str | None, force: bool
) -> tuple[str, ArticleAnnotation | None, str]:
    """Write unless a person edited the file since the last run (kept unless --force).
    Returns (output status, the kept hand-edited record or None, sha256 of the file)."""
    data = dump_yaml(record.to_yaml_dict()).encode("utf-8")
    if path.exists():
        current = path.read_bytes()
        if current == data:
            return "unchanged", None, _sha(data)
        if not force and _sha(current) != previous_sha:
            return "kept_hand_edit", _load_kept_record(path), _sha(current)
    atomic_write_text(path, data.decode("utf-8"))
    return "written", None, _sha(data)


def _run_info(opts: RunOptions, backend: Any, started: datetime) -> dict[str, Any]:
    finished = datetime.now(UTC)
    info: dict[str, Any] = {
        "input": str(opts.input_path),
        "output": str(run_dir_for(opts)),
        "backend": opts.backend,
        **backend.describe(),
        "concurrency": opts.concurrency,
        "started": started.isoformat(timespec="seconds"),
        "finished": finished.isoformat(timespec="seconds"),
        "seconds": round((finished - started).total_seconds(), 3),
    }
    return info


# ---------------------------------------------------------------- backends


class RulesBackend:
    notices: list[str]

    def __init__(self) -> None:
        from annotator.extract.rules.extract import RULES_VERSION

        self.version = RULES_VERSION
        self.notices = []

    async def annotate(self, article: Article) -> tuple[Extraction, AnnotationInfo, int, bool]:
        from annotator.extract.rules.extract import extract_rules

        info = AnnotationInfo(backend="rules", prompt=self.version)
        return extract_rules(article), info, 0, False

    def describe(self) -> dict[str, Any]:
        return {"model": None, "endpoint": None, "prompts": {"rules": self.version}}

    async def aclose(self) -> None:
        pass


class LLMBackend:
    """Model answers through the cache. The network client (openai + instructor, slow to
    import) is only built on the first cache miss, so a fully cached re-run never loads it."""

    def __init__(self, opts: RunOptions, config: EndpointConfig, mode: str) -> None:
        from annotator.extract.llm.extract import EXTRACT_PROMPT, REQUOTE_PROMPT
        from annotator.extract.llm.prompts import load_prompt
        from annotator.extract.schema import QuoteFixes
        from annotator.pipeline.cache import ResponseCache, schema_sha256

        self.config = config
        self.mode = mode
        self.force = opts.force
        self.chunk_chars = opts.chunk_chars
        self.notices: list[str] = []
        self.prompt = load_prompt(EXTRACT_PROMPT)
        self.requote = load_prompt(REQUOTE_PROMPT)
        self._extractor: Any = None
        self._client: Any = None
        self.cache = ResponseCache(opts.cache_dir or opts.out_root / ".cache")
        self.key_base = {
            "endpoint": config.base_url,
            "model": config.model,
            "mode": mode,
            "prompts": [self.prompt.sha256, self.requote.sha256],
            "schema": [schema_sha256(Extraction), schema_sha256(QuoteFixes)],
            "sampling": {
                "temperature": config.temperature,
                "max_tokens": config.max_tokens,
                "chunk_chars": opts.chunk_chars,
            },
        }

    @property
    def extractor(self) -> Any:
        if self._extractor is None:
            from annotator.extract.llm.client import StructuredClient
            from annotator.extract.llm.extract import LLMExtractor

            self._client = StructuredClient(self.config, mode=self.mode)
            self._extractor = LLMExtractor(
                self._client, self.prompt, self.requote, chunk_chars=self.chunk_chars
            )
        return self._extractor

    async def annotate(self, article: Article) -> tuple[Extraction, AnnotationInfo, int, bool]:
        from annotator.pipeline.cache import cache_key

        fields = {**self.key_base, "article": article.sha256}
        key = cache_key(fields)
        hit = None if self.force else self.cache.get(key)
        if hit is not None:
            try:
                extraction = Extraction.model_validate(hit["extraction"])
                return extraction, self._info(hit), 0, True
            except (KeyError, ValueError):
                pass  # a damaged entry is recomputed, never trusted
        outcome = await self.extractor.extract(article)
        value = {
            "extraction": outcome.extraction.model_dump(mode="json"),
            "usage": outcome.usage.model_dump(),
            "model": outcome.model,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "attempts": outcome.attempts,
            "chunks": outcome.chunks,
            "requoted": outcome.requoted,
        }
        await asyncio.to_thread(self.cache.put, key, fields, value)
        return outcome.extraction, self._info(value), outcome.attempts, False

    def _info(self, value: dict[str, Any]) -> AnnotationInfo:
        return AnnotationInfo(
            backend="llm",
            model=value.get("model") or self.config.model,
            endpoint=self.config.base_url,
            prompt=self.prompt.id,
            prompt_sha256=self.prompt.sha256,
            created=value.get("created"),
            usage=Usage.model_validate(value.get("usage") or {}),
            mode=self.mode,
        )

    def describe(self) -> dict[str, Any]:
        return {
            "model": self.config.model,
            "endpoint": self.config.base_url,
            "mode": self.mode,
            "prompts": {self.prompt.id: self.prompt.sha256, self.requote.id: self.requote.sha256},
        }

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()


async def _make_backend(opts: RunOptions) -> RulesBackend | LLMBackend:
    if opts.backend == "rules":
        return RulesBackend()
    config = opts.endpoint
    if config is None:
        raise UsageError("the llm backend needs an endpoint: pass --base-url or set OPENAI_API_KEY")
    from annotator.extract.llm.probe import ready_endpoint

    config, mode = await ready_endpoint(config, opts.cache_dir or opts.out_root / ".cache")
    return LLMBackend(opts, config, mode)


def _load_kept_record(path: Path) -> ArticleAnnotation:
    from pydantic import ValidationError

    from annotator.core.errors import RecordError

    try:
        return ArticleAnnotation.model_validate(load_yaml(path.read_text(encoding="utf-8")))
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"])
        raise RecordError(str(path), field, f"{err['msg']} (hand-edited file kept)") from None
    except Exception as exc:
        raise RecordError(str(path), "", f"unreadable: {' '.join(str(exc).split())}") from None
