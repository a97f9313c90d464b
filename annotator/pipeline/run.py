"""`annotate run`: load -> extract (llm or rules) -> ground -> per-article YAML -> reconcile.

Articles are annotated concurrently (a bounded number of requests in flight) and each
record is written, atomically, as soon as it is ready, so an interrupted run loses no
finished article. A failed article is reported and the others go on; a partial one (some
pieces of a long text without an answer) is written with the claims it has, flagged, and
reported like a failure. Which record files are the tool's own is decided by the
ownership log (ownership.py): a person's edit is kept until `--force`, re-grounded
against the text, and moved aside if its article changed.
"""

from __future__ import annotations

import asyncio
import contextlib
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from annotator.core.errors import AnnotatorError, UsageError
from annotator.core.models import ArticleAnnotation, EventSummary
from annotator.core.settings import EndpointConfig
from annotator.load.articles import MAX_FILE_BYTES, Article, LoadResult, load_articles, safe_id
from annotator.pipeline.backends import LLMBackend, RulesBackend, make_backend
from annotator.pipeline.endpoint_reconcile import ReconcileHelpers
from annotator.pipeline.manifest import (
    ArticleStatus,
    previous_manifest,
    write_manifest,
)
from annotator.pipeline.one_article import annotate_one, duplicate_rows
from annotator.pipeline.ownership import RecordOutputs
from annotator.pipeline.progress import NoProgress, ProgressSink
from annotator.pipeline.rules_worker import DEFAULT_TARGET

RULES_BUDGET_SECONDS = 60.0


@dataclass
class RunOptions:
    input_path: Path
    out_root: Path = Path("outputs")
    backend: str = "rules"  # "llm" or "rules", already resolved
    endpoint: EndpointConfig | None = None
    concurrency: int = 8
    # False: `concurrency` is the default, lowered to a llama.cpp server's slots
    concurrency_given: bool = False
    force: bool = False
    cache_dir: Path | None = None  # default: <out_root>/.cache
    chunk_chars: int = 12_000
    run_name: str | None = None
    max_bytes: int = MAX_FILE_BYTES
    rules_budget: float = RULES_BUDGET_SECONDS  # seconds one article may take (rules)
    rules_target: str = DEFAULT_TARGET  # the rules extractor (tests swap in a slow one)
    max_adjudications: int = 200  # llm backend: uncertain claim pairs a model may decide
    embed_model: str | None = None  # llm backend: the endpoint's embeddings for reconcile


class RunInterrupted(AnnotatorError):
    """Ctrl-C: finished records and the manifest (marked interrupted) are saved."""

    exit_code = 130


@dataclass
class RunResult:
    run_dir: Path
    statuses: list[ArticleStatus]
    input_errors: list[str]
    skipped: list[str]
    summary: EventSummary | None = None
    notices: list[str] = field(default_factory=list)
    articles_written: bool = False
    reconcile_note: str | None = None  # what model adjudication did, one line

    @property
    def failed(self) -> list[ArticleStatus]:
        return [s for s in self.statuses if s.status == "failed"]

    @property
    def partial(self) -> list[ArticleStatus]:
        """Articles written with the claims of some pieces only (see the record's flags)."""
        return [s for s in self.statuses if s.status == "partial"]

    @property
    def kept_partial(self) -> list[ArticleStatus]:
        """Hand-edited records kept as they are that still carry `partial:` flags (their
        `error`): not rewritten without --force, but not finished either."""
        return [s for s in self.statuses if s.label == "kept-but-partial"]


@dataclass
class RunPlan:
    """What one run will do: the articles (byte-identical copies grouped), where it writes."""

    loaded: LoadResult
    run_dir: Path
    primaries: dict[str, Article]  # sha256 -> first article with that text
    copies: dict[str, list[Article]]  # sha256 -> later byte-identical copies

    @property
    def articles_dir(self) -> Path:
        return self.run_dir / "articles"

    @property
    def manifest_path(self) -> Path:
        return self.run_dir / "manifest.yaml"


def run_dir_for(opts: RunOptions) -> Path:
    name = opts.run_name or opts.input_path.resolve().name
    if opts.input_path.is_file():
        name = opts.run_name or opts.input_path.stem
    return opts.out_root / safe_id(name)


def cache_dir_for(opts: RunOptions) -> Path:
    return opts.cache_dir or opts.out_root / ".cache"


async def run_pipeline(opts: RunOptions, progress: ProgressSink | None = None) -> RunResult:
    plan = plan_run(opts)
    result = RunResult(
        run_dir=plan.run_dir,
        statuses=[],
        input_errors=[str(e) for e in plan.loaded.errors],
        skipped=plan.loaded.skipped,
    )
    if not plan.primaries:
        return result  # nothing could be read: nothing is written (the CLI says why)
    previous = previous_manifest(plan.manifest_path)
    outputs = RecordOutputs(plan.articles_dir, opts.force, previous.output_hashes)
    result.notices.extend(outputs.retire_orphans({a.id for a in plan.loaded.articles}))
    started = datetime.now(UTC)
    opts, concurrency_note = await fit_concurrency(opts)
    if concurrency_note:
        result.notices.append(concurrency_note)
    backend = await make_backend(opts)
    # Cache entries and records are written in threads, one per request in flight: with
    # the default pool (6 threads on 2 cores) writes queue up at high concurrency and
    # hold up the next request of their slot.
    io = ThreadPoolExecutor(max_workers=max(8, opts.concurrency), thread_name_prefix="annotate-io")
    if isinstance(backend, LLMBackend):
        backend.io = io
    records: dict[str, ArticleAnnotation] = {}
    interrupted = False

    def save_manifest(run: dict[str, Any], earlier: list[dict[str, Any]] | None = None) -> None:
        write_manifest(
            plan.manifest_path,
            run=run,
            statuses=result.statuses,
            input_errors=result.input_errors,
            skipped=result.skipped,
            earlier=earlier,
        )

    try:
        await annotate_all(
            plan, backend, outputs, opts, progress or NoProgress(), result, records, io
        )
    except (asyncio.CancelledError, KeyboardInterrupt):
        interrupted = True
    finally:
        await backend.aclose()
        io.shutdown(wait=True)
        result.articles_written = plan.articles_dir.is_dir()
        run = run_info(opts, backend, started, interrupted=interrupted)
        if concurrency_note:
            run["concurrency_note"] = concurrency_note
        save_manifest(run, previous.rows if interrupted else None)
    if interrupted:
        raise RunInterrupted(_interrupted_line(plan, result))
    helpers = _adjudication_helpers(opts, backend)
    if helpers is None:
        result.summary = write_event_outputs(plan, records)
    else:
        try:
            result.summary = await _write_event_outputs_with(plan, records, helpers)
        except (asyncio.CancelledError, KeyboardInterrupt):
            save_manifest({**run, "interrupted": True})
            raise RunInterrupted(_interrupted_line(plan, result)) from None
        run["reconcile"] = helpers.describe()  # what adjudication did goes to the manifest too
        result.reconcile_note = helpers.summary_line()
        save_manifest(run)
    result.notices.extend(backend.notices)
    return result


async def _write_event_outputs_with(
    plan: RunPlan, records: dict[str, ArticleAnnotation], helpers: ReconcileHelpers
) -> EventSummary:
    """`write_event_outputs` in a worker thread (the model judge runs an event loop of its
    own). On Ctrl-C the judge asks no further pair, so the thread ends within one model
    call and nothing is written; then the interruption goes on."""
    job = asyncio.ensure_future(asyncio.to_thread(write_event_outputs, plan, records, helpers))
    try:
        return await asyncio.shield(job)
    except (asyncio.CancelledError, KeyboardInterrupt):
        helpers.interrupt()
        with contextlib.suppress(Exception):
            await job
        raise


async def fit_concurrency(opts: RunOptions) -> tuple[RunOptions, str | None]:
    """With the llm backend and the default concurrency, at most the server's slots (a
    llama.cpp server with one slot would queue the rest until they time out)."""
    if opts.backend != "llm" or opts.endpoint is None or opts.concurrency_given:
        return opts, None
    from annotator.extract.llm.slots import fit_concurrency as fit

    fitted = await fit(opts.endpoint, opts.concurrency, given=False)
    return replace(opts, concurrency=fitted.concurrency), fitted.note


def _adjudication_helpers(
    opts: RunOptions, backend: RulesBackend | LLMBackend
) -> ReconcileHelpers | None:
    """With the llm backend, the run's endpoint decides uncertain claim pairs."""
    if not isinstance(backend, LLMBackend):
        return None
    from annotator.pipeline.endpoint_reconcile import endpoint_helpers

    return endpoint_helpers(
        backend.config,
        backend.mode,
        cache_dir_for(opts),
        max_adjudications=opts.max_adjudications,
        concurrency=opts.concurrency,
        embed_model=opts.embed_model,
    )


def plan_run(opts: RunOptions) -> RunPlan:
    """Load the input (never this tool's own outputs) and check the run folder is ours."""
    if not opts.input_path.exists():
        raise UsageError(f"input {str(opts.input_path)!r} does not exist")
    run_dir = run_dir_for(opts)
    loaded = load_articles(
        opts.input_path,
        exclude=[opts.out_root, run_dir, cache_dir_for(opts)],
        max_bytes=opts.max_bytes,
    )
    if not loaded.articles and not loaded.errors:
        raise UsageError(
            f"no articles in {str(opts.input_path)!r}: expected .txt, .md, .html or .jsonl files"
        )
    _check_run_folder_is_for(run_dir, opts.input_path)
    primaries: dict[str, Article] = {}
    copies: dict[str, list[Article]] = {}
    for art in loaded.articles:
        if art.sha256 in primaries:
            copies.setdefault(art.sha256, []).append(art)
        else:
            primaries[art.sha256] = art
    return RunPlan(loaded=loaded, run_dir=run_dir, primaries=primaries, copies=copies)


def _check_run_folder_is_for(run_dir: Path, input_path: Path) -> None:
    """Two inputs with the same folder name must not share OUT/<name>."""
    other = previous_manifest(run_dir / "manifest.yaml").input_resolved
    mine = str(input_path.resolve())
    if other and other != mine:
        raise UsageError(
            f"{run_dir} holds the run of another input ({other}); pass --name NAME to write "
            f"this run to another folder, or --out DIR"
        )


async def annotate_all(
    plan: RunPlan,
    backend: RulesBackend | LLMBackend,
    outputs: RecordOutputs,
    opts: RunOptions,
    progress: ProgressSink,
    result: RunResult,
    records: dict[str, ArticleAnnotation],
    io: Executor | None = None,
) -> None:
    sem = asyncio.Semaphore(max(1, opts.concurrency))
    progress.start(len(plan.primaries))

    async def one(article: Article) -> None:
        status = await annotate_one(article, plan, backend, outputs, sem, records, io)
        result.statuses.append(status)
        result.statuses.extend(duplicate_rows(article, plan.copies.get(article.sha256, [])))
        progress.advance(status.status, status.tokens.get("total_tokens", 0))

    tasks = [asyncio.ensure_future(one(a)) for a in plan.primaries.values()]
    try:
        await asyncio.gather(*tasks)
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
    finally:
        progress.stop()
        result.notices.extend(outputs.notices)


def write_event_outputs(
    plan: RunPlan,
    records: dict[str, ArticleAnnotation],
    helpers: ReconcileHelpers | None = None,
) -> EventSummary:
    """Reconcile the records (with a model's help, if given) into event.yaml and render
    report.html. Blocking."""
    from annotator.core.yamlio import atomic_write_text
    from annotator.pipeline.endpoint_reconcile import reconcile_records
    from annotator.records.store import write_event_summary
    from annotator.render.report import render_report

    ordered = [records[k] for k in sorted(records)]
    summary = reconcile_records(ordered, helpers)
    write_event_summary(summary, plan.run_dir / "event.yaml")
    texts = {a.id: a.text for a in plan.primaries.values()}
    atomic_write_text(plan.run_dir / "report.html", render_report(summary, ordered, texts))
    return summary


def run_info(
    opts: RunOptions, backend: Any, started: datetime, *, interrupted: bool = False
) -> dict[str, Any]:
    finished = datetime.now(UTC)
    info: dict[str, Any] = {
        "input": str(opts.input_path),
        "input_resolved": str(opts.input_path.resolve()),
        "output": str(run_dir_for(opts)),
        "backend": opts.backend,
        **backend.describe(),
        "concurrency": opts.concurrency,
        "started": started.isoformat(timespec="seconds"),
        "finished": finished.isoformat(timespec="seconds"),
        "seconds": round((finished - started).total_seconds(), 3),
    }
    if interrupted:
        info["interrupted"] = True
    return info


def _interrupted_line(plan: RunPlan, result: RunResult) -> str:
    done = sum(1 for s in result.statuses if s.status != "failed" and s.status != "duplicate")
    return (
        f"interrupted: {done} of {len(plan.primaries)} articles finished and saved in "
        f"{plan.articles_dir}; run the same command again to resume"
    )
