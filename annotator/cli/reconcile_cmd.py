"""`annotate reconcile`: rebuild the event summary from per-article records; with a model
endpoint, uncertain claim pairs are also put to the model (cached, bounded)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Annotated

import typer

from annotator.cli.options import (
    DEFAULT_CONCURRENCY,
    ApiKeyEnvOption,
    AutoConcurrencyOption,
    BaseUrlOption,
    EmbedModelOption,
    MaxAdjudicationsOption,
    ModelOption,
    ModeOption,
    TimeoutOption,
)
from annotator.core.errors import UsageError
from annotator.core.settings import MODES, endpoint_configured, resolve_endpoint
from annotator.pipeline.endpoint_reconcile import ReconcileHelpers, reconcile_records
from annotator.pipeline.manifest import previous_manifest
from annotator.records.store import read_article_records, write_event_summary
from annotator.records.verify import reground_from_input


def register(app: typer.Typer) -> None:
    app.command("reconcile")(reconcile_command)


def reconcile_command(
    articles_dir: Annotated[
        Path,
        typer.Argument(
            exists=True,
            file_okay=False,
            dir_okay=True,
            help="Folder of per-article records (*.yaml), e.g. outputs/<run>/articles, as "
            "`run` wrote them or as you corrected them; or the run folder outputs/<run>.",
            show_default=False,
        ),
    ],
    output: Annotated[
        Path | None,
        typer.Option(
            "-o",
            "--output",
            help="Where to write the event summary. Default: event.yaml next to ARTICLES_DIR "
            "(ARTICLES_DIR/../event.yaml).",
            show_default=False,
        ),
    ] = None,
    articles: Annotated[
        Path | None,
        typer.Option(
            "--articles",
            help="Folder of the original articles, to re-ground every quote against its "
            "text. Default: the input recorded in the run's manifest.yaml, when present.",
            show_default=False,
        ),
    ] = None,
    base_url: BaseUrlOption = None,
    model: ModelOption = None,
    api_key_env: ApiKeyEnvOption = "OPENAI_API_KEY",
    mode: ModeOption = "auto",
    timeout: TimeoutOption = 120.0,
    max_adjudications: MaxAdjudicationsOption = 200,
    concurrency: AutoConcurrencyOption = None,
    embed_model: EmbedModelOption = None,
    cache: Annotated[
        Path | None,
        typer.Option(
            envvar="ANNOTATE_CACHE",
            help="Cache folder for model answers and embeddings. Default: the run's cache "
            "(ARTICLES_DIR/../../.cache) when ARTICLES_DIR is a run's articles folder, else "
            "ARTICLES_DIR/../.cache.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Merge the per-article records into one event summary (event.yaml): entities
    canonicalised, equivalent claims clustered, each claim's status and provenance.

    Makes no model call unless an endpoint is given (--base-url, ANNOTATE_BASE_URL or
    --model): then claim pairs just below the merge threshold are put to the model
    ("same claim?", cached, at most --max-adjudications, --concurrency at once), and
    --embed-model uses the
    endpoint's embeddings. Without one, a hand correction shows up at once, offline.
    Every bad record is listed (file and field) and left out; the rest are reconciled;
    exit 1.
    """
    if mode not in MODES:
        raise UsageError(f"unknown --mode {mode!r}; use one of {', '.join(MODES)}")
    use_endpoint = model is not None or endpoint_configured(base_url, api_key_env="")
    if embed_model and not use_endpoint:
        raise UsageError("--embed-model needs an endpoint: pass --base-url (and --model)")
    folder = articles_dir
    if (articles_dir / "articles").is_dir() and (articles_dir / "manifest.yaml").is_file():
        folder = articles_dir / "articles"  # the run folder itself
    run_dir = folder.resolve().parent
    target = output if output is not None else run_dir / "event.yaml"
    if target.is_dir():
        raise UsageError(f"-o {str(target)!r} is a folder; give the event summary's file name")
    found = read_article_records(folder)
    records, errors = found.records, list(found.errors)
    source = articles or _recorded_input(run_dir)
    corrected = 0
    if source is not None:
        records, grounding_errors, corrected = reground_from_input(records, source)
        errors.extend(grounding_errors)
    helpers: ReconcileHelpers | None = None
    if use_endpoint and (max_adjudications > 0 or embed_model):
        from annotator.pipeline.endpoint_reconcile import ready_helpers

        config = resolve_endpoint(
            base_url=base_url, model=model, api_key_env=api_key_env, mode=mode, timeout=timeout
        )
        helpers = asyncio.run(
            ready_helpers(
                config,
                cache or _default_cache(run_dir),
                max_adjudications=max_adjudications,
                concurrency=concurrency or DEFAULT_CONCURRENCY,
                concurrency_given=concurrency is not None,
                embed_model=embed_model,
            )
        )
        if helpers.concurrency_note:
            typer.echo(f"annotate: {helpers.concurrency_note}")
    try:
        summary = reconcile_records(records, helpers)
    except KeyboardInterrupt:
        cached = "; the model's answers so far are cached" if helpers is not None else ""
        print(
            f"annotate: interrupted: no event summary written{cached}; "
            "run the same command again to resume",
            file=sys.stderr,
        )
        raise typer.Exit(130) from None
    write_event_summary(summary, target)
    for err in errors:
        print(f"annotate: bad record {' '.join(str(err).split())}", file=sys.stderr)
    disputed = sum(1 for c in summary.claims if c.status == "disputed")
    checked = f"; {corrected} quote(s) re-grounded" if corrected else ""
    typer.echo(
        f"{len(records)} articles: {len(summary.claims)} claims, {disputed} disputed, "
        f"{len(summary.entities)} entities{checked}; wrote {target}"
    )
    note = helpers.summary_line() if helpers is not None else None
    if note:
        typer.echo(note)
    if errors:
        raise typer.Exit(1)


def _recorded_input(run_dir: Path) -> Path | None:
    recorded = previous_manifest(run_dir / "manifest.yaml").input_resolved
    path = Path(recorded) if recorded else None
    return path if path is not None and path.is_dir() else None


def _default_cache(run_dir: Path) -> Path:
    if (run_dir / "manifest.yaml").is_file():  # written by `run`, whose cache is OUT/.cache
        return run_dir.parent / ".cache"
    return run_dir / ".cache"
