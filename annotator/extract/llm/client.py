"""The one module that talks to a model endpoint.

One retry layer per concern:
- the openai client is built with `max_retries=0` (it never retries on its own);
- `retries.py` retries transport faults: 429 (honouring Retry-After), 5xx, timeouts and
  connection errors, with exponential backoff, jitter and a hard `--deadline` per request;
  faults that outlast the retries are `TransportFailed` (this request failed; the caller
  may go on with others), unless they would fail every request (never connected,
  `--deadline` run out);
- an answer that does not fit the schema is re-asked with the error (`structured.py`);
- `finish_reason: length` is `OutputTruncated`, never parsed; a context-window 400 is
  `ContextTooLong` (an `OutputTruncated`), so the caller splits the text either way;
- a refusal or `finish_reason: content_filter` is `ModelRefused`: never parsed or re-asked.

A body is built from a per-model template (`StructuredFormat`; the strict variant of the
model, marked `strict: true`, when strict) with this endpoint's parameter names
(`params.py`); batch files get the same body (`request_body`). `answers` (batch results)
may answer it; else `_send` posts it raw, renames the token limit or drops a sampling
parameter the server rejects (once, remembered), reports any other rejected parameter
as one `ParameterRejected` line, and adds up the usage of every live response (`spent`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

import instructor
import openai
from instructor.core.exceptions import IncompleteOutputException
from openai.types.chat import ChatCompletion
from pydantic import BaseModel

from annotator.core.errors import (
    EndpointError,
    ExtractionInvalid,
    OutputTruncated,
)
from annotator.core.models import Usage
from annotator.core.settings import EndpointConfig
from annotator.extract.llm import wire
from annotator.extract.llm.params import TOKEN_LIMIT_PARAMS, RequestParams, request_params
from annotator.extract.llm.retries import TransportRetries, status_of
from annotator.extract.llm.server_errors import request_rejected
from annotator.extract.llm.strict import strict_model
from annotator.extract.llm.structured import StructuredFormat, Unparsed
from annotator.extract.llm.wire import retry_after_seconds as retry_after_seconds  # re-export

# instructor logs every failed attempt at ERROR; with no handler configured Python would
# print those to stderr. Our errors are reported once, by the caller, as one line.
logging.getLogger("instructor").addHandler(logging.NullHandler())
logging.getLogger("instructor").propagate = False

T = TypeVar("T", bound=BaseModel)
AnswerSource = Callable[[dict[str, Any]], Awaitable[ChatCompletion | None]]

INSTRUCTOR_MODES: dict[str, instructor.Mode] = {
    "tools": instructor.Mode.TOOLS,
    "json_schema": instructor.Mode.JSON_SCHEMA,
    "json": instructor.Mode.JSON,
}


@dataclass
class Completion(Generic[T]):
    value: T
    usage: Usage
    attempts: int  # transport attempts of the successful call (1 = first try)
    model: str | None
    finish_reason: str | None = None


class StructuredClient:
    """Structured-output calls (pydantic in, pydantic out) against one endpoint and mode."""

    def __init__(
        self,
        config: EndpointConfig,
        *,
        mode: str | None = None,
        strict: bool | None = None,
        concurrency: int = 8,
        answers: AnswerSource | None = None,
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
        self.spent = Usage()  # every live response of this client, re-asks and failures too
        self.retries = TransportRetries(config, self.mode, self._clean)
        self._openai = openai.AsyncOpenAI(
            base_url=config.base_url,
            api_key=config.api_key,
            max_retries=0,
            timeout=config.timeout,
            http_client=_pooled_http_client(concurrency, config.timeout),
        )
        self._formats: dict[type[BaseModel], StructuredFormat[Any]] = {}
        # answers obtained elsewhere (batch results), looked up by request body before
        # any request is sent; it may raise to stop the call (e.g. no live calls allowed)
        self.answers = answers

    @property
    def api(self) -> Any:
        """The underlying openai client (Files and Batches APIs, see batch_api.py)."""
        return self._openai

    async def with_retries(self, fn: Callable[[], Awaitable[Any]]) -> Any:
        """Run an API call under this client's transport retries and error messages."""
        return await self.retries.call(fn)

    def structured_format(self, response_model: type[T]) -> StructuredFormat[T]:
        """The request template and parser for a response model (its strict variant when
        strict), built once per client."""
        fmt = self._formats.get(response_model)
        if fmt is None:
            asked: type[Any] = strict_model(response_model) if self.strict else response_model
            fmt = StructuredFormat(asked, INSTRUCTOR_MODES[self.mode])
            self._formats[response_model] = fmt
        return fmt

    def request_body(
        self,
        messages: list[dict[str, Any]],
        response_model: type[BaseModel],
        *,
        max_tokens: int | None = None,
    ) -> dict[str, Any]:
        """The exact chat-completions body `complete` sends first (for batch files)."""
        fmt = self.structured_format(response_model)
        return self._wire(fmt.body(messages, **self._params(max_tokens)))

    def _params(self, max_tokens: int | None) -> dict[str, Any]:
        model = self.config.model
        if not model:
            raise EndpointError("no model name: pass --model or set ANNOTATE_MODEL")
        budget = max_tokens if max_tokens is not None else self.config.max_tokens
        params: dict[str, Any] = {"model": model, "temperature": self.config.temperature}
        if budget:
            params["max_tokens"] = budget
        return params

    def _wire(self, body: dict[str, Any]) -> dict[str, Any]:
        """The body with this endpoint's parameter names and omissions, strict marked."""
        wired = self.params.apply(body)
        if self.strict:
            wire.mark_strict(wired)
        return wired

    async def aclose(self) -> None:
        await self._openai.close()

    def describe(self) -> dict[str, Any]:
        """For the manifest: token-limit name, dropped parameters, strict schemas, and
        the tokens this client used with their estimated cost (`prices.py`)."""
        from annotator.extract.llm.prices import cost_fields

        return {
            **self.params.describe(),
            "strict": self.strict,
            **cost_fields(self.config.model, self.spent),
        }

    def usage_line(self) -> str:
        from annotator.extract.llm.prices import usage_line

        return usage_line(self.config.model, self.spent)

    async def list_models(self) -> list[str]:
        page = await self.retries.call(lambda: self._openai.models.list())
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

    async def embed(self, texts: list[str], model: str) -> tuple[list[list[float]], Usage]:
        """Vectors from the endpoint's /v1/embeddings, in input order; transport faults
        retried like `complete`."""
        response = await self.retries.call(
            lambda: self._openai.embeddings.create(
                model=model, input=texts, encoding_format="float"
            )
        )
        rows = sorted(response.data, key=lambda d: d.index)
        return [list(r.embedding) for r in rows], wire.usage(response)

    async def complete(
        self,
        messages: list[dict[str, Any]],
        response_model: type[T],
        *,
        max_tokens: int | None = None,
        validation_retries: int = 1,
        max_attempts: int | None = None,
    ) -> Completion[T]:
        """One structured call, retried on transport faults (`max_attempts`, default the
        config's, attempts per request) and re-asked (up to `validation_retries` times)
        with the validation error; raises an EndpointError."""
        fmt = self.structured_format(response_model)
        body = self._wire(fmt.body(messages, **self._params(max_tokens)))
        return await self.complete_body(
            body, fmt, validation_retries=validation_retries, max_attempts=max_attempts
        )

    async def complete_body(
        self,
        body: dict[str, Any],
        fmt: StructuredFormat[T],
        *,
        validation_retries: int = 1,
        max_attempts: int | None = None,
    ) -> Completion[T]:
        """Send a prepared body; re-ask with the validation error when the answer does not
        fit the schema (also when the answer came from `answers`, a batch result)."""
        budget = next((body[k] for k in TOKEN_LIMIT_PARAMS if body.get(k)), None)
        attempts = 0  # requests sent, re-asks and retries included
        received = Usage()  # tokens of every answer received, used or not

        async def post(sent: dict[str, Any]) -> ChatCompletion:
            async def once() -> ChatCompletion:
                nonlocal attempts, received
                known = await self.answers(sent) if self.answers is not None else None
                if known is None:
                    attempts += 1
                    known = await self._send(sent)
                received = received + wire.usage(known)
                wire.check_refusal(known)
                return known

            return cast(ChatCompletion, await self.retries.call(once, max_attempts))

        try:
            value, raw, spent = await fmt.ask(body, post, validation_retries)
        except EndpointError as exc:
            # what this call cost, whatever ended it: the caller counts failed calls too
            exc.attempts, exc.usage = max(exc.attempts, attempts), received
            raise
        except IncompleteOutputException:
            error: EndpointError = OutputTruncated(
                f"model output was cut at the token limit ({budget} tokens) "
                f"(finish_reason 'length'); not parsed",
                attempts=attempts,
                endpoint=self.config.base_url,
            )
            error.usage = received
            raise error from None
        except Unparsed as exc:
            # the token count of all attempts, as instructor counted it
            if budget and wire.hit_token_limit(exc.last, budget, exc.spent.completion_tokens):
                error = OutputTruncated(
                    f"model output reached the token limit ({budget} tokens) and did "
                    "not parse; not used",
                    attempts=attempts,
                    endpoint=self.config.base_url,
                )
            else:
                error = ExtractionInvalid(
                    f"model output did not match the {fmt.response_model.__name__} schema "
                    f"after {validation_retries + 1} attempt(s) in mode {self.mode!r}: "
                    f"{self._clean(str(exc.error))[:300]}",
                    attempts=attempts,
                    endpoint=self.config.base_url,
                )
            error.usage = received
            raise error from None
        return Completion(
            value=value,
            usage=spent,
            attempts=attempts,
            model=getattr(raw, "model", None) or body.get("model"),
            finish_reason=wire.finish_reason(raw),
        )

    async def _send(self, body: dict[str, Any]) -> ChatCompletion:
        """One HTTP request (openai's request transform skipped: the body is final), with
        this endpoint's parameter names and checks."""
        for _ in range(3):  # at most: rename the token limit, drop one sampling parameter
            try:
                raw = await self._openai.post(
                    "/chat/completions", body=self._wire(body), cast_to=ChatCompletion
                )
            except openai.APIStatusError as exc:
                self.retries.answered = True
                error = status_of(exc)
                wrong = error.rejected_parameter
                if wrong and not error.context_overflow and self.params.adapt(*wrong):
                    continue
                rejected = request_rejected(
                    error,
                    endpoint=self.config.base_url,
                    model=self.config.model,
                    detail=self._clean(error.message),
                )
                if rejected is not None:
                    raise rejected from None
                raise
            self.retries.answered = True
            self.spent = self.spent + wire.usage(raw)
            return raw
        raise EndpointError(  # pragma: no cover - adapt() allows each change once
            f"{self.config.base_url} kept rejecting request parameters",
            endpoint=self.config.base_url,
        )

    def _clean(self, text: str) -> str:
        return " ".join(wire.redact(text, self.config.api_key).split())


def _pooled_http_client(concurrency: int, timeout: float) -> Any:
    """An HTTP client whose pool keeps one live connection per request in flight, so a
    run at high concurrency reuses connections instead of opening new ones."""
    default = openai.DEFAULT_CONNECTION_LIMITS
    size = max(1, concurrency)
    limits = type(default)(
        max_connections=max(size, default.max_connections or 0),
        max_keepalive_connections=max(size, default.max_keepalive_connections or 0),
    )
    return openai.DefaultAsyncHttpxClient(limits=limits, timeout=timeout)
