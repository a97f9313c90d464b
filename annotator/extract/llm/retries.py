"""The transport retry layer of the client: which faults are retried (429 honouring
Retry-After, 5xx, timeouts, connection errors), how long to wait between attempts
(exponential backoff with full jitter), the hard `--deadline` over all attempts of one
request, and the one-line error each fault becomes once the retries run out.

The error's class tells the caller what it may do next: `TransportFailed` (timeouts, 429,
5xx, a dropped connection to an endpoint that has answered) fails this request only;
`EndpointUnreachable` (never answered), `EndpointAuthError`, a 404 or a rejected mode
would fail every request the same way (`server_errors.status_error`), and
`DeadlineExceeded` says the server is slower than the run allows.

It reads the openai client's exception classes (the only openai names it uses), so the
import-linter contract lets this module import openai next to `client.py`.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import Any

import openai
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    stop_after_delay,
)

from annotator.core.errors import EndpointError
from annotator.core.settings import EndpointConfig
from annotator.extract.llm.server_errors import (
    ServerError,
    TransportKind,
    server_error,
    status_error,
    transport_error,
)
from annotator.extract.llm.wire import retry_after_seconds

BACKOFF_BASE = 1.0
BACKOFF_MAX = 60.0


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, openai.APITimeoutError | openai.APIConnectionError):
        return True
    if isinstance(exc, openai.RateLimitError):
        return True
    if isinstance(exc, openai.APIStatusError):
        # a server that rejects the output mode or the context will not change its mind
        return status_of(exc).transient
    return False


def status_of(exc: openai.APIStatusError) -> ServerError:
    """What an HTTP error answer means (server_errors.py reads the body)."""
    return server_error(exc.status_code, exc.body, str(exc.message))


def backoff_wait(state: RetryCallState) -> float:
    """Retry-After when the server gives one, else exponential backoff with full jitter."""
    exc = state.outcome.exception() if state.outcome else None
    asked = retry_after_seconds(exc)
    if asked is not None:
        return min(asked, BACKOFF_MAX)
    ceiling = min(BACKOFF_MAX, BACKOFF_BASE * 2 ** (state.attempt_number - 1))
    return random.uniform(ceiling / 2, ceiling)


class TransportRetries:
    """Runs one request at a time under the retry policy of one endpoint's settings."""

    def __init__(self, config: EndpointConfig, mode: str, clean: Callable[[str], str]) -> None:
        self.config = config
        self.mode = mode
        self.clean = clean  # error text with the API key redacted, on one line
        # the endpoint has answered an HTTP request (any status): from then on a refused or
        # dropped connection is a transport fault, no longer a wrong --base-url
        self.answered = False

    async def call(self, fn: Callable[[], Awaitable[Any]], max_attempts: int | None = None) -> Any:
        """`fn()` retried on transport faults (`max_attempts` attempts at most, default
        the config's); an EndpointError when retrying did not fix it (or `fn` raised one
        itself)."""
        cfg = self.config
        attempts = max_attempts or cfg.max_attempts
        retrying = AsyncRetrying(
            retry=retry_if_exception(is_transient),
            wait=backoff_wait,
            stop=stop_after_attempt(attempts) | stop_after_delay(cfg.deadline),
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
            raise transport_error(
                "deadline",
                endpoint=cfg.base_url,
                attempts=attempts,
                timeout=cfg.timeout,
                deadline=cfg.deadline,
            ) from None
        except openai.APIError as exc:
            error = self.translate(exc, retrying.statistics.get("attempt_number", 1))
            error.transport = is_transient(exc)
            raise error from None
        raise EndpointError("unreachable: retry loop ended without a result")  # pragma: no cover

    def translate(self, exc: openai.APIError, attempts: int) -> EndpointError:
        """The one-line error for an openai exception that retrying did not fix."""
        url = self.config.base_url
        if isinstance(exc, openai.APITimeoutError | openai.APIConnectionError):
            timed_out = isinstance(exc, openai.APITimeoutError)
            kind: TransportKind = (
                "timeout" if timed_out else "dropped" if self.answered else "unreachable"
            )
            detail = self.clean(str(exc))
            return transport_error(
                kind, endpoint=url, attempts=attempts, timeout=self.config.timeout, detail=detail
            )
        if isinstance(exc, openai.APIStatusError):
            error = status_of(exc)
            return status_error(
                error,
                endpoint=url,
                model=self.config.model,
                mode=self.mode,
                attempts=attempts,
                detail=self.clean(error.message),
            )
        return EndpointError(
            f"{url}: {self.clean(str(exc))[:200]}", attempts=attempts, endpoint=url
        )
