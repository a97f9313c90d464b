"""The one module that talks to a model endpoint.

One retry layer per concern:
- the openai client is built with `max_retries=0` (it never retries on its own);
- tenacity retries transport faults here: 429 (honouring Retry-After), 5xx, timeouts and
  connection errors, with exponential backoff, jitter and a total deadline;
- instructor re-asks on validation errors (`validation_retries`);
- `finish_reason: length` is `OutputTruncated`, never parsed; the caller decides whether
  to retry with a larger budget or a chunked article. A context-window 400 is
  `ContextTooLong` (an `OutputTruncated`), so it is split the same way;
- a refusal or `finish_reason: content_filter` is `ModelRefused`: never parsed or re-asked;
- `--deadline` is a hard cap on all attempts of one call, waits included.

Every HTTP request goes through `_send` (installed under instructor as the openai
client's `create`): it sends `max_completion_tokens` to the OpenAI API and `max_tokens`
elsewhere, switches once (remembered per endpoint and model, `params.py`) when a server
rejects the one it got, drops a sampling parameter the model rejects, turns any other
rejected parameter into one `ParameterRejected` line, marks strict schemas `strict: true`,
and adds up the usage of every response, re-asks included.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import random
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
    AnnotatorError,
    ContextTooLong,
    EndpointAuthError,
    EndpointError,
    EndpointUnreachable,
    ExtractionInvalid,
    ModeUnsupported,
    OutputTruncated,
    ParameterRejected,
)
from annotator.core.models import Usage
from annotator.core.settings import EndpointConfig
from annotator.extract.llm.params import RequestParams, request_params
from annotator.extract.llm.server_errors import ServerError, server_error
from annotator.extract.llm.strict import strict_model
from annotator.extract.llm.wire import (
    check_refusal,
    finish_reason,
    hit_token_limit,
    mark_strict,
    usage,
)
from annotator.extract.llm.wire import (  # re-exported
    redact as redact,
)
from annotator.extract.llm.wire import (
    retry_after_seconds as retry_after_seconds,
)

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


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, openai.APITimeoutError | openai.APIConnectionError):
        return True
    if isinstance(exc, openai.RateLimitError):
        return True
    if isinstance(exc, openai.APIStatusError):
        # a server that rejects the output mode or the context will not change its mind
        return _server_error(exc).transient
    return False


def _server_error(exc: openai.APIStatusError) -> ServerError:
    return server_error(exc.status_code, exc.body, str(exc.message))


# usage of every HTTP response of the current `complete` call (re-asks included)
_CALL_USAGE: contextvars.ContextVar[list[Usage] | None] = contextvars.ContextVar(
    "annotate_call_usage", default=None
)


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

    def __init__(
        self, config: EndpointConfig, *, mode: str | None = None, strict: bool | None = None
    ) -> None:
        self.config = config
        chosen = mode or config.mode
        self.mode = "tools" if chosen == "auto" else chosen
        # strict schemas: on the OpenAI API unless the probe said otherwise; never in
        # json mode (the schema is only printed into the prompt there)
        if strict is None:
            strict = config.is_openai if config.strict is None else config.strict
        self.strict = strict and self.mode != "json"
        self.params: RequestParams = request_params(config)
        self.spent = Usage()  # every response of this client, re-asks and failures included
        self._openai = openai.AsyncOpenAI(
            base_url=config.base_url,
            api_key=config.api_key,
            max_retries=0,
            timeout=config.timeout,
        )
        self._create = self._openai.chat.completions.create
        # instructor calls the client's `create`: every request goes through `_send`
        self._openai.chat.completions.create = self._send  # type: ignore[method-assign]
        self._instructor = instructor.from_openai(self._openai, mode=INSTRUCTOR_MODES[self.mode])

    async def aclose(self) -> None:
        await self._openai.close()

    def describe(self) -> dict[str, Any]:
        """For the manifest: token-limit name, dropped parameters, strict schemas, and
        the tokens this client used with their estimated cost (`prices.py`)."""
        from annotator.extract.llm.prices import PRICES_AS_OF, estimate_cost

        cost = estimate_cost(self.config.model, self.spent)
        return {
            **self.params.describe(),
            "strict": self.strict,
            "usage": self.spent.model_dump(),
            "estimated_cost_usd": cost,
            "prices_as_of": PRICES_AS_OF if cost is not None else None,
        }

    def usage_line(self) -> str:
        from annotator.extract.llm.prices import usage_line

        return usage_line(self.config.model, self.spent)

    async def list_models(self) -> list[str]:
        page = await self._call_with_retries(lambda: self._openai.models.list())
        return sorted(m.id for m in page.data)

    async def context_window(self) -> int | None:
        """The model's context size where the server lists it (vLLM: `max_model_len` in
        /v1/models); None when it does not say or cannot be asked."""
        try:  # one plain attempt: this is a hint, not a requirement
            page = await asyncio.wait_for(self._openai.models.list(), self.config.timeout)
        except (openai.APIError, TimeoutError):
            return None
        for m in page.data:
            if m.id == self.config.model:
                size = (m.model_extra or {}).get("max_model_len")
                return size if isinstance(size, int) and size > 0 else None
        return None

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
        asked: type[Any] = strict_model(response_model) if self.strict else response_model
        usages: list[Usage] = []
        _CALL_USAGE.set(usages)

        async def call() -> tuple[T, Any]:
            nonlocal attempts
            attempts += 1
            try:
                return await self._instructor.chat.completions.create_with_completion(
                    model=model,
                    messages=messages,  # type: ignore[arg-type]
                    response_model=asked,
                    max_retries=validation_retries,
                    **kwargs,
                )
            except InstructorRetryException as exc:
                cause = exc.__cause__
                if isinstance(cause, AnnotatorError):
                    raise cause from None
                if cause is not None and (
                    is_transient(cause) or isinstance(cause, openai.APIStatusError)
                ):
                    raise cause from None
                if budget and hit_token_limit(exc.last_completion, budget):
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
            usage=sum(usages, Usage()) if usages else usage(raw),
            attempts=attempts,
            model=getattr(raw, "model", None) or model,
            finish_reason=finish_reason(raw),
        )

    async def _send(self, **kwargs: Any) -> Any:
        """One HTTP request, with this endpoint's parameter names and checks."""
        for _ in range(3):  # at most: rename the token limit, drop one sampling parameter
            body = self.params.apply(kwargs)
            if self.strict:
                mark_strict(body)
            try:
                raw = await self._create(**body)
            except openai.APIStatusError as exc:
                error = _server_error(exc)
                if error.context_overflow:
                    raise ContextTooLong(
                        f"the request did not fit the model's context window (HTTP "
                        f"{error.status}: {self._clean(error.message)[:160]})",
                        context_tokens=error.context_tokens,
                        endpoint=self.config.base_url,
                    ) from None
                if error.rejected_parameter and self.params.adapt(*error.rejected_parameter):
                    continue
                if error.rejected_parameter:
                    param, what = error.rejected_parameter
                    raise ParameterRejected(
                        f"{self.config.base_url} rejected request {what} {param!r} for model "
                        f"{self.config.model!r} (HTTP 400: {self._clean(error.message)[:160]})",
                        parameter=param,
                        endpoint=self.config.base_url,
                    ) from None
                raise
            used = usage(raw)
            self.spent = self.spent + used
            usages = _CALL_USAGE.get()
            if usages is not None:
                usages.append(used)
            check_refusal(raw)
            return raw
        raise EndpointError(  # pragma: no cover - adapt() allows each change once
            f"{self.config.base_url} kept rejecting request parameters",
            endpoint=self.config.base_url,
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
            # --deadline is a hard cap: a request hanging past it is cancelled
            async with asyncio.timeout(cfg.deadline):
                async for attempt in retrying:
                    with attempt:
                        return await fn()
        except EndpointError:
            raise
        except TimeoutError:
            attempts = retrying.statistics.get("attempt_number", 1)
            error = EndpointError(
                f"{cfg.base_url} timed out: no answer within --deadline {cfg.deadline:g}s "
                f"({attempts} attempt(s), --timeout {cfg.timeout:g}s each)",
                attempts=attempts,
                endpoint=cfg.base_url,
            )
            error.transport = True
            raise error from None
        except openai.APIError as exc:
            error = self._translate(exc, retrying.statistics.get("attempt_number", 1))
            error.transport = is_transient(exc)
            raise error from None
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
        if isinstance(exc, openai.RateLimitError):
            return EndpointError(
                f"{url} kept rate-limiting (HTTP 429) {tries}: "
                f"{self._clean(_server_error(exc).message)[:160]}",
                attempts=attempts,
                endpoint=url,
            )
        if isinstance(exc, openai.APIStatusError):
            error = _server_error(exc)
            detail = self._clean(error.message)
            if error.rejects_mode:
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
