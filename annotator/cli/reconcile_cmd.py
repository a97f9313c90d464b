"""`annotate reconcile`: rebuild the event summary from per-article records, no model call."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from annotator.reconcile.summary import reconcile
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
) -> None:
    """Merge the per-article records into one event summary (event.yaml): entities
    canonicalised, equivalent claims clustered, each claim's status and provenance.

    Makes no model call, so a hand correction to a record shows up at once.
    """
    target = output if output is not None else articles_dir.resolve().parent / "event.yaml"
    records = load_article_records(articles_dir)
    summary = reconcile(records)
    write_event_summary(summary, target)
    disputed = sum(1 for c in summary.claims if c.status == "disputed")
    typer.echo(
        f"{len(records)} articles: {len(summary.claims)} claims, {disputed} disputed, "
        f"{len(summary.entities)} entities; wrote {target}"
    )
