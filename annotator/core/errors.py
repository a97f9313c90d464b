"""One exception root; each subclass says what went wrong and what to do about it."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from annotator.core.models import Usage


class AnnotatorError(Exception):
    """Root of every error annotate raises on purpose. The CLI prints it as one line."""

    exit_code = 1


class UsageError(AnnotatorError):
    """The command line or configuration is wrong; nothing was attempted."""

    exit_code = 2


class ConfigurationError(UsageError):
    """A required setting is missing, e.g. an API key or a base URL."""


class InputError(AnnotatorError):
    """An input file cannot be read as an article (empty, binary, malformed)."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class RecordError(AnnotatorError):
    """A per-article YAML record does not follow the contract (e.g. after a hand edit)."""

    def __init__(self, path: str, field: str, reason: str) -> None:
        where = f" field {field!r}" if field else ""
        super().__init__(f"{path}:{where} {reason}")
        self.path = path
        self.field = field
        self.reason = reason


class EndpointError(AnnotatorError):
    """The model endpoint failed in a way retrying did not fix.

    `fatal` errors (unreachable, bad key, rejected output mode) would fail every article
    the same way, so a run stops at the first one instead of repeating it per article.
    """

    fatal = False
    transport = False  # set when retries of transport faults (429, 5xx, timeouts) ran out

    def __init__(self, message: str, *, attempts: int = 0, endpoint: str | None = None) -> None:
        super().__init__(message)
        self.attempts = attempts  # requests sent for the call that failed
        self.endpoint = endpoint
        self.usage: Usage | None = None  # tokens of the answers that call received


class TransportFailed(EndpointError):
    """Transport faults (429, 5xx, per-attempt timeouts, a dropped connection) went on
    through every retry of one request, on an endpoint that has answered before. The
    endpoint and its settings work, so another request (another piece of the article,
    a later run) may well be answered: not fatal."""

    transport = True

    def __init__(self, message: str, *, reason: str, attempts: int, endpoint: str) -> None:
        super().__init__(message, attempts=attempts, endpoint=endpoint)
        self.reason = reason  # a few words for a record's flag: "server error 503 after 4 attempts"


class DeadlineExceeded(EndpointError):
    """All attempts of one request together took longer than --deadline. A server that
    slow would spend the deadline again on every other request of the article, so the
    article fails rather than waiting that long once per piece."""

    transport = True


class EndpointUnreachable(EndpointError):
    """No connection could be made to the endpoint."""

    fatal = True


class EndpointAuthError(EndpointError):
    """The endpoint rejected the API key."""

    fatal = True


class ModeUnsupported(EndpointError):
    """The endpoint rejected or ignored the structured-output mode asked for."""

    fatal = True


class OutputTruncated(EndpointError):
    """The model stopped at its token limit (finish_reason 'length'); output not parsed."""


class ExtractionInvalid(EndpointError):
    """The model's answer did not validate against the schema after every re-ask."""


class ContextTooLong(OutputTruncated):
    """The request did not fit the model's context window (HTTP 400 from the server);
    like a cut answer, it is split into smaller pieces, never retried as is."""

    def __init__(
        self,
        message: str,
        *,
        context_tokens: int | None = None,
        attempts: int = 0,
        endpoint: str | None = None,
    ) -> None:
        super().__init__(message, attempts=attempts, endpoint=endpoint)
        self.context_tokens = context_tokens


class ModelRefused(EndpointError):
    """The model refused the request (`refusal` set) or a content filter stopped the
    answer (`finish_reason: content_filter`): reported for the article, not re-asked."""


class ParameterRejected(EndpointError):
    """The endpoint rejected a request parameter (HTTP 400 "unsupported parameter/value")
    that annotate cannot drop or rename; every request would fail the same way."""

    fatal = True

    def __init__(self, message: str, *, parameter: str, endpoint: str | None = None) -> None:
        super().__init__(message, endpoint=endpoint)
        self.parameter = parameter
