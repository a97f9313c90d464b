"""`annotate reconcile`: rebuild the event summary from per-article records, no model call."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from annotator.core.errors import UsageError
from annotator.pipeline.manifest import previous_manifest
from annotator.reconcile.summary import reconcile
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
) -> None:
    """Merge the per-article records into one event summary (event.yaml): entities
    canonicalised, equivalent claims clustered, each claim's status and provenance.

    Makes no model call, so a hand correction to a record shows up at once. Every bad
    record is listed (file and field) and left out; the rest are reconciled; exit 1.
    """
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
    summary = reconcile(records)
    write_event_summary(summary, target)
    for err in errors:
        print(f"annotate: bad record {' '.join(str(err).split())}", file=sys.stderr)
    disputed = sum(1 for c in summary.claims if c.status == "disputed")
    checked = f"; {corrected} quote(s) re-grounded" if corrected else ""
    typer.echo(
        f"{len(records)} articles: {len(summary.claims)} claims, {disputed} disputed, "
        f"{len(summary.entities)} entities{checked}; wrote {target}"
    )
    if errors:
        raise typer.Exit(1)


def _recorded_input(run_dir: Path) -> Path | None:
    recorded = previous_manifest(run_dir / "manifest.yaml").input_resolved
    path = Path(recorded) if recorded else None
    return path if path is not None and path.is_dir() else None
