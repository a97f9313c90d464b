"""Endpoint settings, resolved from options and environment variables.

The API key lives only here and in the client; `EndpointConfig.__repr__` never shows it,
and nothing that is written to disk is built from it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

from annotator.core.errors import ConfigurationError

Mode = Literal["auto", "tools", "json_schema", "json"]
MODES: tuple[Mode, ...] = ("auto", "tools", "json_schema", "json")
OPENAI_BASE_URL = "https://api.openai.com/v1"
DEFAULT_OPENAI_MODEL = "gpt-4o-mini"
LOCAL_PLACEHOLDER_KEY = "not-needed"  # local servers ignore the key; the client wants one


@dataclass(frozen=True)
class EndpointConfig:
    base_url: str
    model: str | None
    api_key: str = field(repr=False)
    mode: Mode = "auto"
    timeout: float = 120.0  # seconds, one request
    deadline: float = 600.0  # seconds, all attempts of one request together
    max_attempts: int = 6
    temperature: float = 0.0
    max_tokens: int | None = 4096

    @property
    def public_url(self) -> str:
        """The base URL as it may be written to outputs (userinfo and query values hidden)."""
        return redact_url(self.base_url)

    def public(self) -> dict[str, object]:
        """What may be written to outputs: never the key."""
        return {"endpoint": self.public_url, "model": self.model, "mode": self.mode}


def redact_url(url: str) -> str:
    """`http://u:KEY@host/v1?key=KEY` -> `http://***@host/v1?key=***`: a secret put in the
    URL never reaches a manifest, record, cache entry or message."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = "***@" + netloc.rsplit("@", 1)[1]
    query = parts.query
    if query:
        query = "&".join(
            f"{kv.split('=', 1)[0]}=***" if "=" in kv else kv for kv in query.split("&")
        )
    fragment = "***" if parts.fragment else ""
    return urlunsplit((parts.scheme, netloc, parts.path, query, fragment))


def endpoint_configured(base_url: str | None, api_key_env: str = "OPENAI_API_KEY") -> bool:
    return bool(_base_url(base_url) or os.environ.get(api_key_env))


def _base_url(option: str | None) -> str | None:
    return option or os.environ.get("ANNOTATE_BASE_URL") or os.environ.get("OPENAI_BASE_URL")


def resolve_endpoint(
    *,
    base_url: str | None,
    model: str | None,
    api_key_env: str = "OPENAI_API_KEY",
    mode: Mode = "auto",
    timeout: float = 120.0,
    deadline: float = 600.0,
    max_attempts: int = 6,
    max_tokens: int | None = 4096,
) -> EndpointConfig:
    """Options win over environment variables; raises ConfigurationError saying what to set."""
    url = (_base_url(base_url) or OPENAI_BASE_URL).rstrip("/")
    key = os.environ.get(api_key_env, "")
    if not key:
        if url == OPENAI_BASE_URL:
            raise ConfigurationError(
                f"no API key: set {api_key_env} for the OpenAI API, or pass --base-url "
                "for a local server (Ollama, vLLM, llama.cpp), or use --backend rules"
            )
        key = LOCAL_PLACEHOLDER_KEY
    chosen_model = model or os.environ.get("ANNOTATE_MODEL")
    if not chosen_model and url == OPENAI_BASE_URL:
        chosen_model = DEFAULT_OPENAI_MODEL
    if mode not in MODES:
        raise ConfigurationError(f"unknown --mode {mode!r}; use one of {', '.join(MODES)}")
    if max_attempts < 1:
        raise ConfigurationError("--max-attempts must be at least 1")
    return EndpointConfig(
        base_url=url,
        model=chosen_model,
        api_key=key,
        mode=mode,
        timeout=timeout,
        deadline=deadline,
        max_attempts=max_attempts,
        max_tokens=max_tokens,
    )
