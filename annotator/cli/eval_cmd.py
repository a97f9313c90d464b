"""`annotate eval FILE.jsonl`: score a backend's stance predictions against gold labels."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated, cast

import typer
from rich.console import Console
from rich.table import Table

from annotator.cli.options import (
    ApiKeyEnvOption,
    BaseUrlOption,
    ConcurrencyOption,
    ModelOption,
    ModeOption,
)
from annotator.core.errors import UsageError
from annotator.core.settings import MODES, Mode, resolve_endpoint
from annotator.evaluate import EvalReport, allows_unrelated, read_rows, score


def register(app: typer.Typer) -> None:
    app.command("eval")(eval_stance)


def eval_stance(
    file: Annotated[
        Path,
        typer.Argument(
            help="Eval rows, one JSON object a line, with 'claim', 'headline' and/or 'body', "
            "and the gold 'stance' (confirm, deny, unverified, unrelated).",
            show_default=False,
        ),
    ],
    backend: Annotated[
        str,
        typer.Option(
            envvar="ANNOTATE_EVAL_BACKEND",
            help="rules (offline cue-based baseline) or llm (any OpenAI-compatible endpoint).",
        ),
    ] = "rules",
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Print one JSON object (accuracy, macro_f1, per_class, confusion, n, ...) "
            "instead of tables.",
        ),
    ] = False,
    limit: Annotated[
        int | None,
        typer.Option(min=1, help="Score only the first N rows.", show_default=False),
    ] = None,
    base_url: BaseUrlOption = None,
    model: ModelOption = None,
    api_key_env: ApiKeyEnvOption = "OPENAI_API_KEY",
    mode: ModeOption = "auto",
    concurrency: ConcurrencyOption = 4,
) -> None:
    """Score stance predictions of a backend on labelled rows: accuracy, macro-F1,
    per-class precision/recall/F1 and the confusion matrix, next to the majority-class
    baseline. The rows' gold labels are never shown to the backend.
    """
    if backend not in ("rules", "llm"):
        raise UsageError(f"unknown --backend {backend!r}; use rules or llm")
    if mode not in MODES:
        raise UsageError(f"unknown --mode {mode!r}; use one of {', '.join(MODES)}")
    rows = read_rows(
        file, limit, on_bad_row=lambda e: typer.echo(f"annotate: skipped row {e}", err=True)
    )
    unrelated = allows_unrelated(rows)
    pairs = [(r.claim, r.text) for r in rows]
    info: dict[str, object] = {}
    if backend == "rules":
        from annotator.extract.rules.stance import predict_stance

        predicted: list[str] = [predict_stance(c, t, allow_unrelated=unrelated) for c, t in pairs]
        info = {"rules": "stance_rules"}
    else:
        from annotator.extract.llm.stance import predict_with_llm

        endpoint = resolve_endpoint(
            base_url=base_url, model=model, api_key_env=api_key_env, mode=cast(Mode, mode)
        )
        predicted, info = asyncio.run(
            predict_with_llm(endpoint, pairs, allow_unrelated=unrelated, concurrency=concurrency)
        )
    report = score([r.gold for r in rows], predicted, backend=backend, file=str(file))
    report.extra = info
    if as_json:
        typer.echo(json.dumps(report.to_dict(), ensure_ascii=False, sort_keys=False))
    else:
        _print_tables(Console(), report)


def _print_tables(console: Console, report: EvalReport) -> None:
    console.print(
        f"[bold]{report.file}[/bold]: {report.n} rows, backend {report.backend}",
        highlight=False,
    )
    console.print(
        f"accuracy {report.accuracy:.3f}   macro-F1 {report.macro_f1:.3f}   "
        f"majority baseline ({report.majority_class}) {report.majority_accuracy:.3f}",
        highlight=False,
    )
    classes = Table(title="Per class", title_justify="left")
    for column in ("class", "precision", "recall", "F1", "gold", "predicted"):
        classes.add_column(column, justify="left" if column == "class" else "right")
    for label, s in report.per_class.items():
        classes.add_row(
            label,
            f"{s.precision:.3f}",
            f"{s.recall:.3f}",
            f"{s.f1:.3f}",
            str(s.support),
            str(s.predicted),
        )
    console.print(classes)
    matrix = Table(title="Confusion (rows: gold, columns: predicted)", title_justify="left")
    matrix.add_column("gold \\ predicted")
    for label in report.labels:
        matrix.add_column(label, justify="right")
    for gold in report.labels:
        matrix.add_row(gold, *(str(report.confusion[gold].get(p, 0)) for p in report.labels))
    console.print(matrix)
