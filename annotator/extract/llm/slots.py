"""How many requests an endpoint serves at once, where it says so: llama.cpp's server.

llama.cpp's `llama-server` decodes at most `--parallel` sequences at once (its "slots",
1 unless set); more requests than slots wait in its queue, where a request can spend
the client's `--timeout` before it is even started. The server reports its slots in
`GET /props` (`total_slots`, tools/server/README.md) and, unless started with
`--no-slots`, in `GET /slots` (one object per slot); both are served at the server's root,
beside `/v1`. Other servers answer 404 (llama-cpp-python's server, vLLM, Ollama, the
OpenAI API is not asked at all) and keep the requested concurrency.

The probe is one plain GET (then the other), no retries and a short timeout: it is a hint,
and a failure of any kind leaves the concurrency as it is, never the run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from annotator.core.settings import EndpointConfig

PROBE_TIMEOUT = 5.0  # seconds; a server that takes longer is not asked twice


@dataclass(frozen=True)
class FittedConcurrency:
    """The concurrency to use, and why it differs from the one asked for."""

    concurrency: int
    server_slots: int | None = None  # what the server reported, None: nothing
    note: str | None = None  # one line for the CLI and the manifest, when lowered


def server_root(base_url: str) -> str:
    """The server's root: the base URL without its trailing `/v1`."""
    root = base_url.rstrip("/")
    return root.removesuffix("/v1").rstrip("/")


def slots_in(path: str, payload: Any) -> int | None:
    """The slot count in a `/props` or `/slots` answer, None when it has none."""
    if path == "props" and isinstance(payload, dict):
        total = payload.get("total_slots")
        if isinstance(total, int) and not isinstance(total, bool) and total > 0:
            return total
    if path == "slots" and isinstance(payload, list) and payload:
        return len(payload) if all(isinstance(slot, dict) for slot in payload) else None
    return None


async def server_slots(config: EndpointConfig) -> int | None:
    """The endpoint's slots (llama.cpp's server), or None when it does not report them
    (any other server, or any failure)."""
    if config.is_openai:
        return None
    from annotator.extract.llm.client import StructuredClient  # slow import: when used

    client = StructuredClient(config, mode="tools", concurrency=1)
    root = server_root(config.base_url)
    timeout = min(PROBE_TIMEOUT, config.timeout)
    try:
        for path in ("props", "slots"):
            try:
                payload = await client.api.get(
                    f"{root}/{path}",
                    cast_to=object,
                    options={"timeout": timeout, "max_retries": 0},
                )
            except Exception as exc:  # 404 from other servers, refused, timed out: no hint
                if getattr(exc, "status_code", None) is None:
                    return None  # no HTTP answer at all: not worth a second wait
                continue
            found = slots_in(path, payload)
            if found is not None:
                return found
        return None
    finally:
        await client.aclose()


async def fit_concurrency(config: EndpointConfig, asked: int, *, given: bool) -> FittedConcurrency:
    """`asked`, or the server's slots when it has fewer and `asked` is the default (not
    `given` by the user: then it is kept, whatever the server says)."""
    if given:
        return FittedConcurrency(asked)
    slots = await server_slots(config)
    if slots is None or slots >= asked:
        return FittedConcurrency(asked, slots)
    note = (
        f"the server at {config.public_url} reports {slots} slot(s): sending "
        f"at most {slots} request(s) at a time instead of {asked}; pass --concurrency to "
        "choose"
    )
    return FittedConcurrency(slots, slots, note)
