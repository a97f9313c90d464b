"""`annotate eval-clusters FILE.jsonl`: B-cubed quality of claim clustering on gold ids."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from annotator.eval_clusters import read_cluster_rows, score_clusters


def register(app: typer.Typer) -> None:
    app.command("eval-clusters")(eval_clusters)


def eval_clusters(
    file: Annotated[
        Path,
        typer.Argument(
            exists=True,
            dir_okay=False,
            help="Rows, one JSON object a line, with a text and a gold cluster id (Emergent's "
            "format: 'headline' and 'claim_id').",
            show_default=False,
        ),
    ],
    as_json: Annotated[
        bool,
        typer.Option("--json", help="Print one JSON object instead of a line of text."),
    ] = False,
    text_field: Annotated[
        str, typer.Option(help="Field holding the text to cluster (one claim per row).")
    ] = "headline",
    gold_field: Annotated[
        str, typer.Option(help="Field holding the gold cluster id.")
    ] = "claim_id",
    unique: Annotated[
        bool,
        typer.Option(
            "--unique/--all-rows",
            help="Score each distinct (text, gold id) once, e.g. FNC-1 rows that repeat a "
            "headline for every article body.",
        ),
    ] = False,
) -> None:
    """Reconcile the texts as one-claim records (offline, as `annotate reconcile` does) and
    print B-cubed precision, recall and F1 against the gold ids, and the cluster count."""
    rows = read_cluster_rows(file, text_field=text_field, gold_field=gold_field, unique=unique)
    result = score_clusters(rows)
    if as_json:
        typer.echo(json.dumps(result.to_dict(), sort_keys=True))
        return
    typer.echo(
        f"{result.items} items, {result.gold_clusters} gold clusters: {result.clusters} "
        f"clusters; B-cubed precision {result.precision:.3f} recall {result.recall:.3f} "
        f"F1 {result.f1:.3f}"
    )
