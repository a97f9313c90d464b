"""`annotate run DIR`: annotate every article in a folder, then reconcile."""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from annotator.cli.options import (
    DEFAULT_CONCURRENCY,
    ApiKeyEnvOption,
    AutoConcurrencyOption,
    BaseUrlOption,
    ContextTokensOption,
    EmbedModelOption,
    MaxAdjudicationsOption,
    ModelOption,
    ModeOption,
    TimeoutOption,
)
from annotator.core.errors import AnnotatorError, UsageError
from annotator.core.settings import MODES, endpoint_configured, resolve_endpoint
from annotator.load.articles import MAX_FILE_BYTES
from annotator.pipeline.one_article import kept_partial_line
from annotator.pipeline.progress import make_progress
from annotator.pipeline.run import (
    RunInterrupted,
    RunOptions,
    RunResult,
    cache_dir_for,
    run_dir_for,
    run_pipeline,
)


def register(app: typer.Typer) -> None:
    app.command("run")(run)


def run(
    input_dir: Annotated[
        Path,
        typer.Argument(
            help="Folder of articles (.txt, .md, .html, .jsonl), or one article file.",
            show_default=False,
        ),
    ],
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            "-o",
            envvar="ANNOTATE_OUT",
            help="Output root; the run goes to OUT/<input-folder-name>/.",
        ),
    ] = Path("outputs"),
    backend: Annotated[
        str,
        typer.Option(
            envvar="ANNOTATE_BACKEND",
            help="llm (any OpenAI-compatible endpoint), rules (offline, no model), or auto: "
            "llm when a base URL or API key is configured, else rules.",
        ),
    ] = "auto",
    base_url: BaseUrlOption = None,
    model: ModelOption = None,
    api_key_env: ApiKeyEnvOption = "OPENAI_API_KEY",
    mode: ModeOption = "auto",
    concurrency: AutoConcurrencyOption = None,
    timeout: TimeoutOption = 120.0,
    deadline: Annotated[
        float, typer.Option(min=1.0, help="Seconds all attempts of one request may take together.")
    ] = 600.0,
    max_attempts: Annotated[
        int,
        typer.Option(min=1, help="Attempts per request on transport faults (429, 5xx, timeouts)."),
    ] = 6,
    max_tokens: Annotated[
        int,
        typer.Option(
            min=64,
            help="Token budget of one model answer; an answer cut at this limit is "
            "retried on smaller pieces of the article, never parsed.",
        ),
    ] = 4096,
    context_tokens: ContextTokensOption = None,
    cache: Annotated[
        Path | None,
        typer.Option(
            envvar="ANNOTATE_CACHE",
            help="Cache folder for model answers. Default: OUT/.cache.",
            show_default=False,
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Ignore the cache and overwrite hand-edited records.")
    ] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress bar and no summary; errors only.")
    ] = False,
    max_bytes: Annotated[
        int,
        typer.Option(
            min=1,
            help="Largest input file read, in bytes (default 20 MiB); a bigger file is "
            "reported and skipped.",
        ),
    ] = MAX_FILE_BYTES,
    name: Annotated[
        str | None,
        typer.Option(
            help="Name of the run folder under OUT (default: the input folder's name); use "
            "it when two inputs share a folder name.",
            show_default=False,
        ),
    ] = None,
    max_adjudications: MaxAdjudicationsOption = 200,
    embed_model: EmbedModelOption = None,
) -> None:
    """Annotate every article in INPUT_DIR, then reconcile them into one event summary.

    Writes OUT/<name>/articles/<id>.yaml, event.yaml and manifest.yaml. Safe to interrupt
    and run again: finished articles are not sent to the model again. With the llm
    backend, the same endpoint decides uncertain claim pairs when reconciling (cached, at
    most --max-adjudications).
    """
    console = Console(stderr=True, quiet=quiet, soft_wrap=True)
    if not input_dir.exists():
        raise UsageError(f"input {str(input_dir)!r} does not exist")
    if backend not in ("auto", "llm", "rules"):
        raise UsageError(f"unknown --backend {backend!r}; use auto, llm or rules")
    if mode not in MODES:
        raise UsageError(f"unknown --mode {mode!r}; use one of {', '.join(MODES)}")
    chosen = backend
    if backend == "auto":
        chosen = "llm" if endpoint_configured(base_url, api_key_env) else "rules"
        if chosen == "rules":
            console.print(
                "annotate: no model endpoint configured: using the offline rules "
                "backend (pass --base-url URL --model NAME, or set OPENAI_API_KEY, "
                "to use a model)",
                markup=False,
                highlight=False,
            )
    if embed_model and chosen != "llm":
        raise UsageError("--embed-model needs the llm backend: pass --base-url/--model")
    endpoint = None
    if chosen == "llm":
        endpoint = resolve_endpoint(
            base_url=base_url,
            model=model,
            api_key_env=api_key_env,
            mode=mode,
            timeout=timeout,
            deadline=deadline,
            max_attempts=max_attempts,
            max_tokens=max_tokens,
            context_tokens=context_tokens,
        )
    opts = RunOptions(
        input_path=input_dir,
        out_root=out,
        backend=chosen,
        endpoint=endpoint,
        concurrency=concurrency or DEFAULT_CONCURRENCY,
        concurrency_given=concurrency is not None,
        force=force,
        cache_dir=cache,
        max_bytes=max_bytes,
        run_name=name,
        max_adjudications=max_adjudications,
        embed_model=embed_model,
    )
    check_writable(run_dir_for(opts), "--out")
    if chosen == "llm":
        check_writable(cache_dir_for(opts), "--cache")
    try:
        result = asyncio.run(run_pipeline(opts, make_progress(console, enabled=not quiet)))
    except (RunInterrupted, KeyboardInterrupt) as exc:
        message = str(exc) if isinstance(exc, RunInterrupted) else _INTERRUPTED
        print(f"annotate: {message}", file=sys.stderr, flush=True)
        raise typer.Exit(130) from None
    _report(console, result)
    if not result.statuses:
        raise AnnotatorError(f"nothing annotated: no file in {str(input_dir)!r} could be read")
    if result.failed or result.partial or result.kept_partial:
        raise typer.Exit(1)


_INTERRUPTED = "interrupted; finished articles are saved, run the same command again to resume"


def check_writable(folder: Path, option: str) -> None:
    """Fail before the first model call when an output folder cannot be written."""
    probe = folder
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        raise UsageError(f"{option} {str(folder)!r}: {str(probe)!r} is a file, not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise UsageError(
            f"{option} {str(folder)!r} is not writable: {exc.strerror or exc}"
        ) from None


def _report(console: Console, result: RunResult) -> None:
    err = Console(stderr=True, soft_wrap=True)
    for line in result.input_errors:
        err.print(f"annotate: skipped {line}", markup=False, highlight=False)
    for line in result.skipped:
        console.print(f"annotate: skipped {line}", markup=False, highlight=False)
    for s in result.failed:
        err.print(f"annotate: failed {s.path}: {s.error}", markup=False, highlight=False)
    for s in result.partial:
        err.print(f"annotate: partial {s.path}: {s.error}", markup=False, highlight=False)
    for s in result.kept_partial:
        line = kept_partial_line(s.path, s.error or "")
        err.print(f"annotate: {line}", markup=False, highlight=False)
    if not result.statuses:
        for line in result.notices:
            console.print(f"annotate: {line}", markup=False, highlight=False)
        return
    counts: dict[str, int] = {}
    for s in result.statuses:
        counts[s.label] = counts.get(s.label, 0) + 1
    ground = {"exact": 0, "fuzzy": 0, "none": 0}
    for s in result.statuses:
        if s.status != "failed":  # a failed article's claims are not in any output
            for k, v in s.grounding.items():
                ground[k] += v
    summary = result.summary
    parts = ", ".join(f"{v} {k}" for k, v in sorted(counts.items()))
    console.print(
        f"annotate: {len(result.statuses)} articles ({parts}); "
        f"claims grounded exact {ground['exact']}, fuzzy {ground['fuzzy']}, none {ground['none']}",
        markup=False,
        highlight=False,
    )
    if summary is not None:
        statuses: dict[str, int] = {}
        for c in summary.claims:
            statuses[c.status] = statuses.get(c.status, 0) + 1
        detail = ", ".join(f"{v} {k}" for k, v in sorted(statuses.items()))
        console.print(
            f"annotate: event summary: {len(summary.claims)} claims ({detail}), "
            f"{len(summary.conflicts)} conflicts",
            markup=False,
            highlight=False,
        )
    if result.reconcile_note:
        console.print(f"annotate: {result.reconcile_note}", markup=False, highlight=False)
    for line in result.notices:
        console.print(f"annotate: {line}", markup=False, highlight=False)
    rel = os.path.relpath(result.run_dir)
    if rel.startswith(".."):
        rel = str(result.run_dir.resolve())
    written = [f"{rel}/event.yaml", f"{rel}/report.html"]
    if result.articles_written:
        written.append(f"{rel}/articles/")
    written.append(f"{rel}/manifest.yaml")
    console.print(f"annotate: wrote {', '.join(written)}", markup=False, highlight=False)
