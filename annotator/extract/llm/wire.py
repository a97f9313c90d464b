"""What goes on and comes off the wire, as plain data: `strict: true` on a request,
refusals and content filters in an answer, usage, finish reason, Retry-After, and
redaction of a secret from a message. No network library is imported here."""

from __future__ import annotations

import time
from typing import Any

from annotator.core.errors import ModelRefused
from annotator.core.models import Usage


def redact(text: str, secret: str | None) -> str:
    """Remove a secret (and its common masked forms' stem) from a message."""
    if secret and len(secret) >= 6:
        text = text.replace(secret, "***")
        text = text.replace(secret[:8], "***")
    return text


def retry_after_seconds(exc: BaseException | None) -> float | None:
    """Seconds asked for by a Retry-After header (seconds or retry-after-ms), if any."""
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if not headers:
        return None
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return None


def mark_strict(body: dict[str, Any]) -> None:
    """`strict: true` on the tool or the json_schema response format (the schema itself
    is already the strict variant: `strict.strict_model`)."""
    tools = body.get("tools")
    if tools:
        body["tools"] = [
            {**t, "function": {**t["function"], "strict": True}} if "function" in t else t
            for t in tools
        ]
    fmt = body.get("response_format")
    if isinstance(fmt, dict) and fmt.get("type") == "json_schema":
        body["response_format"] = {**fmt, "json_schema": {**fmt["json_schema"], "strict": True}}


def check_refusal(raw: Any) -> None:
    choices = getattr(raw, "choices", None) or []
    if not choices:
        return
    refusal = getattr(choices[0].message, "refusal", None)
    if refusal:
        raise ModelRefused(f"the model refused: {' '.join(str(refusal).split())[:160]}")
    if choices[0].finish_reason == "content_filter":
        raise ModelRefused(
            "the answer was stopped by the provider's content filter "
            "(finish_reason 'content_filter'); not parsed"
        )


def usage(raw: Any) -> Usage:
    u = getattr(raw, "usage", None)
    if u is None:
        return Usage()
    details = getattr(u, "prompt_tokens_details", None)
    return Usage(
        prompt_tokens=int(getattr(u, "prompt_tokens", 0) or 0),
        completion_tokens=int(getattr(u, "completion_tokens", 0) or 0),
        total_tokens=int(getattr(u, "total_tokens", 0) or 0),
        cached_tokens=int(getattr(details, "cached_tokens", 0) or 0),
    )


def hit_token_limit(completion: Any, budget: int, used: int | None = None) -> bool:
    """Whether an answer was cut at the token budget: `finish_reason: length`, or (for
    servers that say "tool_calls" even then) `used` completion tokens, by default the
    answer's own, reaching the budget."""
    if finish_reason(completion) == "length":
        return True
    if used is None:
        used = getattr(getattr(completion, "usage", None), "completion_tokens", None)
    return isinstance(used, int) and used >= budget


def finish_reason(raw: Any) -> str | None:
    choices = getattr(raw, "choices", None) or []
    return getattr(choices[0], "finish_reason", None) if choices else None
