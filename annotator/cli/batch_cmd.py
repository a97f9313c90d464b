"""`annotate batch prepare|submit|status|collect`: hand the model work of a run to the
OpenAI Batch API or vLLM's run_batch, and take the results back into the cache."""

from __future__ import annotations

import asyncio
import os
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from annotator.cli.options import ApiKeyEnvOption, BaseUrlOption, ConcurrencyOption, ModelOption
from annotator.core.errors import UsageError
from annotator.core.settings import (
    DEFAULT_OPENAI_MODEL,
    LOCAL_PLACEHOLDER_KEY,
    OPENAI_BASE_URL,
    EndpointConfig,
    resolve_endpoint,
)

app = typer.Typer(
    help="Batch files for the OpenAI Batch API and vLLM run_batch: prepare, submit, status, "
    "collect; then `annotate run` completes from the cache.",
    no_args_is_help=True,
)

RunDirArgument = Annotated[
    Path,
    typer.Argument(
        help="The run folder that `batch prepare` printed (OUT/<name>).", show_default=False
    ),
]


def register(parent: typer.Typer) -> None:
    parent.add_typer(app, name="batch")


def _say(text: str) -> None:
    Console(stderr=True, soft_wrap=True).print(f"annotate: {text}", markup=False, highlight=False)


def _saved_endpoint(run_dir: Path, api_key_env: str, *, need_key: bool) -> EndpointConfig:
    from annotator.pipeline.batch import BatchJob

    s = BatchJob.load(run_dir).settings
    if not need_key and not os.environ.get(api_key_env):
        return EndpointConfig(
            base_url=s["base_url"],
            model=s["model"],
            api_key=LOCAL_PLACEHOLDER_KEY,
            mode=s["mode"],
            max_tokens=s["max_tokens"],
            temperature=s["temperature"],
        )
    config = resolve_endpoint(
        base_url=s["base_url"],
        model=s["model"],
        api_key_env=api_key_env,
        mode=s["mode"],
        max_tokens=s["max_tokens"],
    )
    return replace(config, temperature=s["temperature"])


@app.command("prepare")
def prepare(
    input_dir: Annotated[
        Path, typer.Argument(help="Folder of articles, as for `annotate run`.", show_default=False)
    ],
    out: Annotated[
        Path,
        typer.Option("--out", "-o", envvar="ANNOTATE_OUT", help="Output root, as for `run`."),
    ] = Path("outputs"),
    model: ModelOption = None,
    base_url: BaseUrlOption = None,
    mode: Annotated[
        str,
        typer.Option(help="Structured-output mode of the requests: tools, json_schema or json."),
    ] = "tools",
    max_tokens: Annotated[
        int, typer.Option(min=64, help="Token budget of one answer, as for `run`.")
    ] = 4096,
    cache: Annotated[
        Path | None,
        typer.Option(
            envvar="ANNOTATE_CACHE", help="Cache folder. Default: OUT/.cache.", show_default=False
        ),
    ] = None,
    max_requests: Annotated[
        int, typer.Option(min=1, max=50_000, help="Requests per file at most (Batch API: 50,000).")
    ] = 50_000,
    force: Annotated[
        bool, typer.Option("--force", help="Start over even if a batch is not yet collected.")
    ] = False,
) -> None:
    """Write OUT/<name>/batch/requests.jsonl: one request per uncached article part.

    Each line is the body a live run would send; custom_id is the request's cache key.
    """
    from annotator.pipeline.batch import prepare as prepare_batch
    from annotator.pipeline.run import RunOptions

    if mode not in ("tools", "json_schema", "json"):
        raise UsageError(f"unknown --mode {mode!r}; use tools, json_schema or json")
    url = (
        base_url
        or os.environ.get("ANNOTATE_BASE_URL")
        or os.environ.get("OPENAI_BASE_URL")
        or OPENAI_BASE_URL
    ).rstrip("/")
    chosen = (
        model
        or os.environ.get("ANNOTATE_MODEL")
        or (DEFAULT_OPENAI_MODEL if url == OPENAI_BASE_URL else None)
    )
    if not chosen:
        raise UsageError("batch prepare needs --model (the model name the batch engine serves)")
    config = EndpointConfig(
        base_url=url,
        model=chosen,
        api_key=LOCAL_PLACEHOLDER_KEY,
        mode=mode,  # type: ignore[arg-type]
        max_tokens=max_tokens,
    )
    opts = RunOptions(
        input_path=input_dir, out_root=out, backend="llm", endpoint=config, cache_dir=cache
    )
    result = prepare_batch(opts, config, force=force, max_requests=max_requests)
    for line in result.input_errors:
        _say(f"skipped {line}")
    sizes = ", ".join(f"{p.name} ({p.stat().st_size:,} bytes)" for p in result.files)
    _say(
        f"{result.requests} requests for {result.articles} articles "
        f"({result.cached} already cached): {sizes or 'nothing to do'}"
    )
    _say(
        f"next: annotate batch submit {result.run_dir}  (or run them with vLLM run_batch "
        f"and: annotate batch collect {result.run_dir} --results FILE)"
    )


@app.command("submit")
def submit(run_dir: RunDirArgument, api_key_env: ApiKeyEnvOption = "OPENAI_API_KEY") -> None:
    """Upload the request files not yet submitted and create one batch for each."""
    from annotator.pipeline.batch import submit as submit_batch

    config = _saved_endpoint(run_dir, api_key_env, need_key=True)
    done = asyncio.run(submit_batch(run_dir, config))
    for entry in done:
        _say(f"submitted {entry['file']} as batch {entry['batch_id']} ({entry['status']})")
    if not done:
        _say("nothing to submit: every request file has a batch")


@app.command("status")
def status(
    run_dir: RunDirArgument,
    wait: Annotated[
        float,
        typer.Option(
            min=0.0,
            help="Poll (with backoff) up to this many seconds until every batch is finished.",
        ),
    ] = 0.0,
    api_key_env: ApiKeyEnvOption = "OPENAI_API_KEY",
) -> None:
    """Show each submitted batch's state and request counts."""
    from annotator.pipeline.batch import status as batch_status

    config = _saved_endpoint(run_dir, api_key_env, need_key=True)
    states: list[Any] = asyncio.run(batch_status(run_dir, config, wait=wait))
    for st in states:
        c = st.counts
        _say(
            f"batch {st.id}: {st.status}, {c['completed']}/{c['total']} done, {c['failed']} failed"
        )
        for e in st.errors:
            _say(f"batch {st.id}: {e}")
    if not states:
        _say("no batch waiting to be collected")


@app.command("collect")
def collect(
    run_dir: RunDirArgument,
    results: Annotated[
        list[Path] | None,
        typer.Option(
            "--results",
            help="A result file made elsewhere (vLLM run_batch -o FILE); "
            "repeatable. Default: download the finished batches.",
            show_default=False,
        ),
    ] = None,
    live: Annotated[
        bool,
        typer.Option(
            "--live/--no-live",
            help="Re-ask invalid or truncated answers live, "
            "or write them to a follow-up request file.",
        ),
    ] = True,
    concurrency: ConcurrencyOption = 8,
    api_key_env: ApiKeyEnvOption = "OPENAI_API_KEY",
) -> None:
    """Validate the batch answers like live answers and fill the cache.

    Then `annotate run` completes from the cache with no model call.
    """
    from annotator.pipeline.batch_collect import collect as collect_batch
    from annotator.pipeline.one_article import kept_partial_line

    config = _saved_endpoint(run_dir, api_key_env, need_key=not results or live)
    out = asyncio.run(
        collect_batch(run_dir, config, results=results, live=live, concurrency=concurrency)
    )
    for batch_id in out.unfinished:
        _say(f"batch {batch_id} is not finished: collect again later")
    for ended in out.ended:
        _say(
            f"batch {ended}; its unanswered requests wait: `annotate batch prepare` again "
            "writes them (and only them) to a new file"
        )
    for where, error in out.failed:
        _say(f"failed {where}: {error}")
    for where, gaps in out.partial:
        _say(f"partial {where}: {gaps}; `annotate run` asks for the missing part again")
    for where, gaps in out.kept_partial:
        _say(kept_partial_line(where, gaps, "`annotate run --force`"))
    if out.unknown:
        _say(f"ignored {out.unknown} result lines for requests not in this batch plan")
    for path in out.followup:
        _say(f"wrote follow-up requests {path}: submit them (or run them) and collect again")
    partial = f"{len(out.partial)} partial, " if out.partial else ""
    if out.kept_partial:
        partial += f"{len(out.kept_partial)} kept-but-partial, "
    _say(
        f"{len(out.annotated)} articles collected, {out.already} already cached, {partial}"
        f"{len(out.failed)} failed, {len(out.pending)} waiting; {out.live_calls} live calls"
    )
    if out.failed or out.partial or out.kept_partial:  # as `run` exits
        raise typer.Exit(1)
