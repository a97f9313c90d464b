"""`annotate reconcile`: rebuild the event summary from per-article records; with a model
endpoint, uncertain claim pairs are also put to the model (cached, bounded)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from annotator.cli.options import (
    ApiKeyEnvOption,
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
from annotator.records.store import load_article_records, write_event_summary


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
            "`run` wrote them or as you corrected them.",
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
    base_url: BaseUrlOption = None,
    model: ModelOption = None,
    api_key_env: ApiKeyEnvOption = "OPENAI_API_KEY",
    mode: ModeOption = "auto",
    timeout: TimeoutOption = 120.0,
    max_adjudications: MaxAdjudicationsOption = 200,
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
    ("same claim?", cached, at most --max-adjudications), and --embed-model uses the
    endpoint's embeddings. Without one, a hand correction shows up at once, offline.
    """
    if mode not in MODES:
        raise UsageError(f"unknown --mode {mode!r}; use one of {', '.join(MODES)}")
    use_endpoint = model is not None or endpoint_configured(base_url, api_key_env="")
    if embed_model and not use_endpoint:
        raise UsageError("--embed-model needs an endpoint: pass --base-url (and --model)")
    target = output if output is not None else articles_dir.resolve().parent / "event.yaml"
    records = load_article_records(articles_dir)
    helpers: ReconcileHelpers | None = None
    if use_endpoint and (max_adjudications > 0 or embed_model):
        from annotator.pipeline.endpoint_reconcile import ready_helpers

        config = resolve_endpoint(
            base_url=base_url, model=model, api_key_env=api_key_env, mode=mode, timeout=timeout
        )
        helpers = asyncio.run(
            ready_helpers(
                config,
                cache or _default_cache(articles_dir),
                max_adjudications=max_adjudications,
                embed_model=embed_model,
            )
        )
    summary = reconcile_records(records, helpers)
    write_event_summary(summary, target)
    disputed = sum(1 for c in summary.claims if c.status == "disputed")
    typer.echo(
        f"{len(records)} articles: {len(summary.claims)} claims, {disputed} disputed, "
        f"{len(summary.entities)} entities; wrote {target}"
    )
    note = helpers.summary_line() if helpers is not None else None
    if note:
        typer.echo(note)


def _default_cache(articles_dir: Path) -> Path:
    run_dir = articles_dir.resolve().parent
    if (run_dir / "manifest.yaml").is_file():  # written by `run`, whose cache is OUT/.cache
        return run_dir.parent / ".cache"
    return run_dir / ".cache"
