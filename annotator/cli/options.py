"""Endpoint options shared by `run`, `eval` and `doctor`: one definition, one help text."""

from __future__ import annotations

from typing import Annotated

import typer

BaseUrlOption = Annotated[
    str | None,
    typer.Option(
        help="OpenAI-compatible endpoint, e.g. http://127.0.0.1:11434/v1 for Ollama. "
        "Env: ANNOTATE_BASE_URL or OPENAI_BASE_URL.",
        show_default=False,
    ),
]
ModelOption = Annotated[
    str | None,
    typer.Option(
        help="Model name. Env: ANNOTATE_MODEL. Default: the endpoint's first listed model "
        "(gpt-4o-mini on the OpenAI API).",
        show_default=False,
    ),
]
ApiKeyEnvOption = Annotated[
    str,
    typer.Option(
        help="Name of the environment variable that holds the API key (the key itself is "
        "never taken on the command line)."
    ),
]
ModeOption = Annotated[
    str,
    typer.Option(
        envvar="ANNOTATE_MODE",
        help="Structured-output mode: tools, json_schema, json, or auto (probe the endpoint "
        "once and cache the choice; see `annotate doctor`).",
    ),
]
TimeoutOption = Annotated[
    float,
    typer.Option(min=1.0, help="Seconds to wait for one model response before retrying."),
]
ConcurrencyOption = Annotated[
    int,
    typer.Option(
        min=1, max=256, envvar="ANNOTATE_CONCURRENCY", help="Model requests in flight at once."
    ),
]
DEFAULT_CONCURRENCY = 8
AutoConcurrencyOption = Annotated[
    int | None,
    typer.Option(
        min=1,
        max=256,
        envvar="ANNOTATE_CONCURRENCY",
        help="Model requests in flight at once (extraction, and reconcile's 'same claim?' "
        f"calls). Default: {DEFAULT_CONCURRENCY}, or a llama.cpp server's parallel slots "
        "when it reports fewer (GET /props); a value given here or in the env var is used "
        "as is.",
        show_default=False,
    ),
]
ContextTokensOption = Annotated[
    int | None,
    typer.Option(
        min=512,
        envvar="ANNOTATE_CONTEXT_TOKENS",
        help="The model's context window in tokens, to size article chunks up front "
        "(prompt + text + answer must fit). Default: what the server reports (vLLM's "
        "max_model_len), else found out from a 'maximum context length' error.",
        show_default=False,
    ),
]
MaxAdjudicationsOption = Annotated[
    int,
    typer.Option(
        min=0,
        envvar="ANNOTATE_MAX_ADJUDICATIONS",
        help="With a model endpoint: at most this many uncertain claim pairs (near the "
        "merge threshold, nearest first) are put to the model as 'same claim?', one "
        "cached call per pair (cached answers count too, so results do not depend on the "
        "cache); pairs past it keep their embedding score. 0: no adjudication.",
    ),
]
EmbedModelOption = Annotated[
    str | None,
    typer.Option(
        envvar="ANNOTATE_EMBED_MODEL",
        help="Embedding model on the endpoint (its /v1/embeddings) to compare claim "
        "statements with, instead of the bundled offline model; vectors are cached by "
        "statement and model.",
        show_default=False,
    ),
]
