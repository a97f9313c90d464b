"""The one module that talks to a model endpoint.

One retry layer per concern:
- the openai client is built with `max_retries=0` (it never retries on its own);
- tenacity retries transport faults here: 429 (honouring Retry-After), 5xx, timeouts and
  connection errors, with exponential backoff, jitter and a total deadline;
- instructor re-asks on validation errors (`validation_retries`);
- `finish_reason: length` is `OutputTruncated`, never parsed; the caller decides whether
  to retry with a larger budget or a chunked article.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import instructor
import openai
from instructor.core.exceptions import IncompleteOutputException, InstructorRetryException
from pydantic import BaseModel
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    stop_after_delay,
)

from annotator.core.errors import (
    EndpointAuthError,
    EndpointError,
    EndpointUnreachable,
    ExtractionInvalid,
    ModeUnsupported,
    OutputTruncated,
)
from annotator.core.models import Usage
from annotator.core.settings import EndpointConfig

# instructor logs every failed attempt at ERROR; with no handler configured Python would
# print those to stderr. Our errors are reported once, by the caller, as one line.
logging.getLogger("instructor").addHandler(logging.NullHandler())
logging.getLogger("instructor").propagate = False

T = TypeVar("T", bound=BaseModel)

INSTRUCTOR_MODES: dict[str, instructor.Mode] = {
    "tools": instructor.Mode.TOOLS,
    "json_schema": instructor.Mode.JSON_SCHEMA,
    "json": instructor.Mode.JSON,
}
BACKOFF_BASE = 1.0
BACKOFF_MAX = 60.0


@dataclass
class Completion(Generic[T]):
    value: T
    usage: Usage
    attempts: int  # transport attempts of the successful call (1 = first try)
    model: str | None
    finish_reason: str | None = None


def redact(text: str, secret: str | None) -> str:
    """Remove a secret (and its common masked forms' stem) from a message."""
    if secret and len(secret) >= 6:
        text = text.replace(secret, "***")
        text = text.replace(secret[:8], "***")
    return text


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, openai.APITimeoutError | openai.APIConnectionError):
        return True
    if isinstance(exc, openai.RateLimitError):
        return True
    if isinstance(exc, openai.APIStatusError):
        if _mentions_format(_error_detail(exc)):
            return False  # a server that rejects the output mode will not change its mind
        return exc.status_code >= 500 or exc.status_code in (408, 409, 425)
    return False


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


def backoff_wait(state: RetryCallState) -> float:
    """Retry-After when the server gives one, else exponential backoff with full jitter."""
    exc = state.outcome.exception() if state.outcome else None
    asked = retry_after_seconds(exc)
    if asked is not None:
        return min(asked, BACKOFF_MAX)
    ceiling = min(BACKOFF_MAX, BACKOFF_BASE * 2 ** (state.attempt_number - 1))
    return random.uniform(ceiling / 2, ceiling)


class StructuredClient:
    """Structured-output calls (pydantic in, pydantic out) against one endpoint and mode."""

    def __init__(self, config: EndpointConfig, *, mode: str | None = None) -> None:
        self.config = config
        chosen = mode or config.mode
        self.mode = "tools" if chosen == "auto" else chosen
        self._openai = openai.AsyncOpenAI(
            base_url=config.base_url,
            api_key=config.api_key,
            max_retries=0,
            timeout=config.timeout,
        )
        self._instructor = instructor.from_openai(self._openai, mode=INSTRUCTOR_MODES[self.mode])

    async def aclose(self) -> None:
        await self._openai.close()

    async def list_models(self) -> list[str]:
        page = await self._call_with_retries(lambda: self._openai.models.list())
        return sorted(m.id for m in page.data)

    async def embed(self, texts: list[str], model: str) -> tuple[list[list[float]], Usage]:
        """Vectors from the endpoint's /v1/embeddings, in input order; transport faults
        retried like `complete`."""
        response = await self._call_with_retries(
            lambda: self._openai.embeddings.create(
                model=model, input=texts, encoding_format="float"
            )
        )
        rows = sorted(response.data, key=lambda d: d.index)
        return [list(r.embedding) for r in rows], _usage(response)

    async def complete(
        self,
        messages: list[dict[str, Any]],
        response_model: type[T],
        *,
        max_tokens: int | None = None,
        validation_retries: int = 1,
    ) -> Completion[T]:
        """One structured call, retried on transport faults; raises an EndpointError."""
        model = self.config.model
        if not model:
            raise EndpointError("no model name: pass --model or set ANNOTATE_MODEL")
        budget = max_tokens if max_tokens is not None else self.config.max_tokens
        kwargs: dict[str, Any] = {"temperature": self.config.temperature}
        if budget:
            kwargs["max_tokens"] = budget
        attempts = 0

        async def call() -> tuple[T, Any]:
            nonlocal attempts
            attempts += 1
            try:
                return await self._instructor.chat.completions.create_with_completion(
                    model=model,
                    messages=messages,  # type: ignore[arg-type]
                    response_model=response_model,
                    max_retries=validation_retries,
                    **kwargs,
                )
            except InstructorRetryException as exc:
                cause = exc.__cause__
                if cause is not None and (
                    is_transient(cause) or isinstance(cause, openai.APIStatusError)
                ):
                    raise cause from None
                if budget and _hit_token_limit(exc.last_completion, budget):
                    # some servers (llama-cpp-python) say finish_reason "tool_calls" even
                    # when the call was cut at max_tokens: the token count tells
                    raise OutputTruncated(
                        f"model output reached the token limit ({budget} tokens) and did "
                        "not parse; not used",
                        attempts=attempts,
                        endpoint=self.config.base_url,
                    ) from None
                raise ExtractionInvalid(
                    f"model output did not match the {response_model.__name__} schema after "
                    f"{exc.n_attempts} attempt(s) in mode {self.mode!r}: "
                    f"{self._clean(str(cause or exc))[:300]}",
                    attempts=attempts,
                    endpoint=self.config.base_url,
                ) from None
            except IncompleteOutputException:
                raise OutputTruncated(
                    f"model output was cut at the token limit ({budget} tokens) "
                    f"(finish_reason 'length'); not parsed",
                    attempts=attempts,
                    endpoint=self.config.base_url,
                ) from None

        value, raw = await self._call_with_retries(call)
        return Completion(
            value=value,
            usage=_usage(raw),
            attempts=attempts,
            model=getattr(raw, "model", None) or model,
            finish_reason=_finish_reason(raw),
        )

    async def _call_with_retries(self, fn: Any) -> Any:
        cfg = self.config
        retrying = AsyncRetrying(
            retry=retry_if_exception(is_transient),
            wait=backoff_wait,
            stop=stop_after_attempt(cfg.max_attempts) | stop_after_delay(cfg.deadline),
            reraise=True,
            sleep=asyncio.sleep,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    return await fn()
        except EndpointError:
            raise
        except openai.APIError as exc:
            raise self._translate(exc, retrying.statistics.get("attempt_number", 1)) from None
        raise EndpointError("unreachable: retry loop ended without a result")  # pragma: no cover

    def _clean(self, text: str) -> str:
        return " ".join(redact(text, self.config.api_key).split())

    def _translate(self, exc: openai.APIError, attempts: int) -> EndpointError:
        url = self.config.base_url
        tries = f"after {attempts} attempt(s)"
        if isinstance(exc, openai.APITimeoutError):
            return EndpointError(
                f"{url} timed out {tries} (--timeout {self.config.timeout:g}s)",
                attempts=attempts,
                endpoint=url,
            )
        if isinstance(exc, openai.APIConnectionError):
            return EndpointUnreachable(
                f"cannot connect to {url} {tries}: is the server running? "
                "Check --base-url (or ANNOTATE_BASE_URL), or use --backend rules offline",
                attempts=attempts,
                endpoint=url,
            )
        if isinstance(exc, openai.AuthenticationError):
            return EndpointAuthError(
                f"{url} rejected the API key (HTTP 401): set a valid key in OPENAI_API_KEY "
                "or the variable named by --api-key-env",
                attempts=attempts,
                endpoint=url,
            )
        if isinstance(exc, openai.NotFoundError):
            return EndpointError(
                f"{url} answered 404 for model {self.config.model!r}: check --model "
                "(`annotate doctor` lists the models the server has)",
                attempts=attempts,
                endpoint=url,
            )
        if isinstance(exc, openai.APIStatusError):
            detail = self._clean(_error_detail(exc))
            if exc.status_code in (400, 422, 500) and _mentions_format(detail):
                return ModeUnsupported(
                    f"{url} rejected structured-output mode {self.mode!r} (HTTP "
                    f"{exc.status_code}: {detail[:160]}); use --mode auto or --mode tools",
                    attempts=attempts,
                    endpoint=url,
                )
            return EndpointError(
                f"{url} answered HTTP {exc.status_code} {tries}: {detail[:200]}",
                attempts=attempts,
                endpoint=url,
            )
        return EndpointError(
            f"{url}: {self._clean(str(exc))[:200]}", attempts=attempts, endpoint=url
        )


def _error_detail(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict):
            return str(inner.get("message") or inner.get("detail") or inner)
        return str(inner)
    return str(exc.message)


def _mentions_format(detail: str) -> bool:
    lowered = detail.lower()
    return any(
        k in lowered
        for k in ("response_format", "json_schema", "json_object", "tool_choice", "tools")
    )


def _usage(raw: Any) -> Usage:
    u = getattr(raw, "usage", None)
    if u is None:
        return Usage()
    return Usage(
        prompt_tokens=int(getattr(u, "prompt_tokens", 0) or 0),
        completion_tokens=int(getattr(u, "completion_tokens", 0) or 0),
        total_tokens=int(getattr(u, "total_tokens", 0) or 0),
    )


def _hit_token_limit(completion: Any, budget: int) -> bool:
    if _finish_reason(completion) == "length":
        return True
    used = getattr(getattr(completion, "usage", None), "completion_tokens", None)
    return isinstance(used, int) and used >= budget


def _finish_reason(raw: Any) -> str | None:
    choices = getattr(raw, "choices", None) or []
    return getattr(choices[0], "finish_reason", None) if choices else None
