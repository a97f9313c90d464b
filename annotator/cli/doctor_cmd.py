"""`annotate doctor`: is the endpoint reachable, which models does it list, and which
structured-output mode does it really honour?"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from annotator.cli.options import ApiKeyEnvOption, BaseUrlOption, ModelOption, TimeoutOption
from annotator.core.errors import ModeUnsupported
from annotator.core.settings import resolve_endpoint
from annotator.extract.llm.params import request_params
from annotator.extract.llm.probe import (
    NO_MODE_ADVICE,
    EndpointCheck,
    ProbeReport,
    inspect_endpoint,
    probe_cache_path,
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
    _say(console, f"endpoint: {config.base_url}")
    folder = None
    if save:
        folder = cache or Path(os.environ.get("ANNOTATE_OUT") or "outputs") / ".cache"
    # the same readiness steps as `run`, fresh: models listed, every mode probed
    check = asyncio.run(inspect_endpoint(config, folder, fresh=True))
    _print_check(console, check)
    report = check.report
    if report is None or report.chosen is None:
        # an AnnotatorError, so `main()` prints it as the one-line advice and exits 1
        raise ModeUnsupported(
            f"no structured-output mode returned schema-valid output from "
            f"{config.base_url} with model {check.config.model!r}: {NO_MODE_ADVICE}",
            endpoint=config.base_url,
        )
    if folder is not None:
        path = probe_cache_path(folder, report.base_url, report.model)
        _say(console, f"saved the probe to {path}")


def _say(console: Console, line: str) -> None:
    """Plain text, never wrapped mid-word (URLs and model paths stay copyable)."""
    console.print(line, markup=False, highlight=False, soft_wrap=True)


def _print_check(console: Console, check: EndpointCheck) -> None:
    config = check.config
    _say(console, "reachable: yes")
    if check.listing_error:
        _say(console, f"models: not listed ({check.listing_error[:120]})")
    if check.models:
        shown = ", ".join(check.models[:SHOWN_MODELS])
        extra = len(check.models) - SHOWN_MODELS
        more = f" and {extra} more" if extra > 0 else ""
        _say(console, f"models ({len(check.models)}): {shown}{more}")
        if config.model not in check.models:
            _say(console, f"note: model {config.model!r} is not in the listed models")
    _say(console, f"model: {config.model}")
    if check.report is not None:
        _print_report(console, check.report)
    params = request_params(config).describe()
    _say(console, f"token limit parameter accepted: {params['token_limit']}")
    if params["omitted"]:
        _say(console, f"parameters the model rejects (dropped): {', '.join(params['omitted'])}")
    _say(console, f"strict schemas: {_strict_line(check)}")
    speeds = [r.tokens_per_second for r in (check.report.results if check.report else [])]
    known = [v for v in speeds if v]
    if known:
        _say(console, f"speed: about {max(known):.0f} tokens/s (probe answers; a rough figure)")
    if check.mode:
        _say(console, f"`annotate run --mode auto` will use: {check.mode}")


def _strict_line(check: EndpointCheck) -> str:
    report = check.report
    if report is None or report.chosen is None:
        return "not tested"
    if report.chosen_strict:
        return f"accepted and used ({report.chosen})"
    probe = check.strict_check
    if probe is None:
        return "not tried (no mode that takes a schema works)"
    if probe.status == "works":
        return f"accepted ({probe.mode}); the lenient schema is used, as it worked first"
    return f"not supported ({probe.mode}: {probe.detail}); the lenient schema is used"


def _print_report(console: Console, report: ProbeReport) -> None:
    table = Table(title="structured-output modes")
    table.add_column("mode")
    table.add_column("result")
    table.add_column("latency", justify="right")
    table.add_column("detail", overflow="fold")
    for r in report.results:
        table.add_row(
            r.mode,
            f"[{_STYLE[r.status]}]{_LABEL[r.status]}[/]" + (" (strict)" if r.strict else ""),
            f"{r.latency:.2f}s",
            escape(r.detail),
        )
    console.print(table)
