"""`annotate doctor`: is the endpoint reachable, which models does it list, and which
structured-output mode does it really honour?"""

from __future__ import annotations

import asyncio
import os
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from annotator.cli.options import ApiKeyEnvOption, BaseUrlOption, ModelOption, TimeoutOption
from annotator.core.errors import EndpointError, EndpointUnreachable, ModeUnsupported, UsageError
from annotator.core.settings import EndpointConfig, resolve_endpoint
from annotator.extract.llm.probe import (
    NO_MODE_ADVICE,
    ProbeReport,
    probe_endpoint,
    write_cached_probe,
)

SHOWN_MODELS = 10
_STYLE = {"works": "green", "fails": "red", "ignores_schema": "yellow"}
_LABEL = {"works": "works", "fails": "fails", "ignores_schema": "ignores schema"}


def register(app: typer.Typer) -> None:
    app.command("doctor")(doctor)


def doctor(
    base_url: BaseUrlOption = None,
    model: ModelOption = None,
    api_key_env: ApiKeyEnvOption = "OPENAI_API_KEY",
    timeout: TimeoutOption = 60.0,
    cache: Annotated[
        Path | None,
        typer.Option(
            envvar="ANNOTATE_CACHE",
            help="Cache folder where the probe result is saved for `annotate run --mode auto`. "
            "Default: OUT/.cache, as for run (OUT from ANNOTATE_OUT, else outputs).",
            show_default=False,
        ),
    ] = None,
    save: Annotated[
        bool,
        typer.Option(
            "--save/--no-save",
            help="Save a working probe result to the cache folder, so that `run --mode auto` "
            "uses what doctor found.",
        ),
    ] = True,
) -> None:
    """Check an endpoint: reachability, listed models, and which structured-output mode
    (tools, json_schema, json) returns schema-valid answers. Exits 1 if none does.

    A working result is saved where `annotate run --mode auto` looks for it.
    """
    config = resolve_endpoint(
        base_url=base_url,
        model=model,
        api_key_env=api_key_env,
        timeout=timeout,
        max_attempts=2,
        deadline=2 * timeout + 5,
    )
    console = Console(highlight=False)
    report = asyncio.run(_check(console, config))
    _print_report(console, report)
    if report.chosen is None:
        # an AnnotatorError, so `main()` prints it as the one-line advice and exits 1
        raise ModeUnsupported(
            f"no structured-output mode returned schema-valid output from "
            f"{report.base_url} with model {report.model!r}: {NO_MODE_ADVICE}",
            endpoint=report.base_url,
        )
    if save:
        folder = cache or Path(os.environ.get("ANNOTATE_OUT") or "outputs") / ".cache"
        path = write_cached_probe(folder, report)
        _say(console, f"saved the probe to {path}")


async def _check(console: Console, config: EndpointConfig) -> ProbeReport:
    _say(console, f"endpoint: {config.base_url}")
    from annotator.extract.llm.client import StructuredClient  # slow import: only when used

    client = StructuredClient(config, mode="tools")
    listing_error = None
    try:
        models = await client.list_models()
    except EndpointUnreachable:
        raise
    except EndpointError as exc:  # reachable, but /models is missing or refused
        models, listing_error = [], str(exc).removeprefix(config.base_url).strip()
    finally:
        await client.aclose()
    _say(console, "reachable: yes")
    if listing_error:
        _say(console, f"models: not listed ({listing_error[:120]})")
    if models:
        shown = ", ".join(models[:SHOWN_MODELS])
        more = f" and {len(models) - SHOWN_MODELS} more" if len(models) > SHOWN_MODELS else ""
        _say(console, f"models ({len(models)}): {shown}{more}")
    if not config.model:
        if not models:
            raise UsageError(f"{config.base_url} lists no models: pass --model")
        config = replace(config, model=models[0])
    elif models and config.model not in models:
        _say(console, f"note: model {config.model!r} is not in the listed models")
    _say(console, f"model: {config.model}")
    return await probe_endpoint(config)


def _say(console: Console, line: str) -> None:
    """Plain text, never wrapped mid-word (URLs and model paths stay copyable)."""
    console.print(line, markup=False, highlight=False, soft_wrap=True)


def _print_report(console: Console, report: ProbeReport) -> None:
    table = Table(title="structured-output modes")
    table.add_column("mode")
    table.add_column("result")
    table.add_column("latency", justify="right")
    table.add_column("detail", overflow="fold")
    for r in report.results:
        table.add_row(
            r.mode,
            f"[{_STYLE[r.status]}]{_LABEL[r.status]}[/]",
            f"{r.latency:.2f}s",
            escape(r.detail),
        )
    console.print(table)
    if report.chosen:
        _say(console, f"`annotate run --mode auto` will use: {report.chosen}")
