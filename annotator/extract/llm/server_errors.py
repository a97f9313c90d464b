"""What an endpoint's error answer means, read from its status code and body (pure),
and the one-line error it becomes (`request_rejected`, `status_error`; `transport_error`
for a request that got no answer at all). The error's class tells the caller whether
other requests may fare better (`TransportFailed`) or would all fail the same way.

Matched narrowly, on the messages real servers send (a message that merely mentions
"tools" is not a mode rejection):

- mode rejections: llama-cpp-python answers `response_format: json_schema` with HTTP
  500 and a pydantic error located at ('body', 'response_format', ...) ("Input should be
  'text' or 'json_object'"); Ollama "<model> does not support tools"; vLLM '"auto" tool
  choice requires --enable-auto-tool-choice and --tool-call-parser to be set'; llama.cpp
  server "tools param requires --jinja flag"; OpenAI "Invalid schema for function
  'X': ..." / "Invalid schema for response_format 'X': ..." (a strict schema it refuses)
  and "'response_format' of type 'json_schema' is not supported with this model";
- context overflows: OpenAI and vLLM "This model's maximum context length is 8192
  tokens. However, you requested 9000 tokens (4904 in the messages, 4096 in the
  completion)..." (code `context_length_exceeded` on OpenAI), llama.cpp server
  `exceed_context_size_error` "the request exceeds the available context size" / "request
  (8708 tokens) exceeds the available context size (8192 tokens)" with `n_ctx` (HTTP 400,
  500 in older builds: ggml-org/llama.cpp#15780), llama-cpp-python "Requested tokens
  (9000) exceed context window of 8192";
- rejected parameters: OpenAI `{"param": "max_tokens", "code": "unsupported_parameter",
  "message": "Unsupported parameter: 'max_tokens' is not supported with this model. Use
  'max_completion_tokens' instead."}` and `{"param": "temperature", "code":
  "unsupported_value", "message": "Unsupported value: 'temperature' does not support 0
  with this model. Only the default (1) value is supported."}`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from annotator.core.errors import (
    ContextTooLong,
    DeadlineExceeded,
    EndpointAuthError,
    EndpointError,
    EndpointUnreachable,
    ModeUnsupported,
    ParameterRejected,
    TransportFailed,
)

_MODE_REJECTION = re.compile(
    r"'loc': \('body', '(?:tools|tool_choice|response_format)'"
    r"|does not support tools"
    r"|requires --enable-auto-tool-choice"
    r"|tools param requires --jinja"
    r"|invalid schema for (?:function|response_format)"
    r"|'?response_format'? of type '?\w+'? is not supported"
    r"|unrecognized request argument supplied: (?:tools|tool_choice|response_format|strict)",
    re.IGNORECASE,
)
_CONTEXT = re.compile(
    r"maximum context length"
    r"|context_length_exceeded"
    r"|exceed_context_size_error"
    r"|exceeds the available context size"
    r"|exceed context window",
    re.IGNORECASE,
)
_CONTEXT_SIZE = re.compile(
    r"maximum context length is (\d+)|context window of (\d+)|['\"]n_ctx['\"]:\s*(\d+)",
    re.IGNORECASE,
)
_REQUESTED = re.compile(r"\((\d+) in the messages, (\d+) in the completion\)")
_UNSUPPORTED = re.compile(r"Unsupported (parameter|value): '(\w+)'", re.IGNORECASE)


@dataclass(frozen=True)
class ServerError:
    status: int
    message: str  # the error's message, one line
    code: str | None = None  # `code` and `type`, joined

    param: str | None = None
    raw: str = ""  # the whole body as text, for fields outside `message`

    @property
    def rejects_mode(self) -> bool:
        return self.status in (400, 422, 500) and bool(_MODE_REJECTION.search(self.message))

    @property
    def context_overflow(self) -> bool:
        return self.status in (400, 413, 500) and bool(
            _CONTEXT.search(self.message) or _CONTEXT.search(self.code or "")
        )

    @property
    def context_tokens(self) -> int | None:
        """The context size the server reports, if it does."""
        m = _CONTEXT_SIZE.search(self.message) or _CONTEXT_SIZE.search(self.raw)
        return int(next(g for g in m.groups() if g)) if m else None

    @property
    def prompt_tokens(self) -> int | None:
        m = _REQUESTED.search(self.message)
        return int(m.group(1)) if m else None

    @property
    def rejected_parameter(self) -> tuple[str, str] | None:
        """(parameter, "parameter" or "value") for an unsupported-parameter 400."""
        if self.status != 400:
            return None
        m = _UNSUPPORTED.search(self.message)
        codes = (self.code or "").split()
        if self.param and {"unsupported_parameter", "unsupported_value"} & set(codes):
            return self.param, "value" if "unsupported_value" in codes else "parameter"
        if m:
            return m.group(2), m.group(1).lower()
        return None

    @property
    def transient(self) -> bool:
        """Worth another attempt: 408/409/425/429 and 5xx, unless the 5xx is a server's
        way of rejecting the request itself (a mode or a context overflow)."""
        if self.rejects_mode or self.context_overflow:
            return False
        return self.status >= 500 or self.status in (408, 409, 425, 429)


def request_rejected(
    error: ServerError, *, endpoint: str, model: str | None, detail: str
) -> EndpointError | None:
    """The one-line error for a request the server will not accept as sent, whatever
    the retries: longer than the context (the caller splits it), or a parameter that
    cannot be renamed or dropped. None for any other error. `detail` is the message,
    redacted."""
    if error.context_overflow:
        return ContextTooLong(
            f"the request did not fit the model's context window (HTTP {error.status}: "
            f"{detail[:160]})",
            context_tokens=error.context_tokens,
            endpoint=endpoint,
        )
    if error.rejected_parameter:
        param, what = error.rejected_parameter
        return ParameterRejected(
            f"{endpoint} rejected request {what} {param!r} for model {model!r} "
            f"(HTTP 400: {detail[:160]})",
            parameter=param,
            endpoint=endpoint,
        )
    return None


# a local server answering one request at a time makes queued requests wait out their timeout
SLOW_HINT = (
    "a server that answers one request at a time needs --concurrency 1 or a longer "
    "--timeout, and a smaller --max-tokens shortens each answer"
)


def attempts_text(n: int) -> str:
    return "1 attempt" if n == 1 else f"{n} attempts"


TransportKind = Literal["timeout", "dropped", "unreachable", "deadline"]


def transport_error(
    kind: TransportKind,
    *,
    endpoint: str,
    attempts: int,
    timeout: float,
    deadline: float = 0.0,
    detail: str = "",
) -> EndpointError:
    """The one-line error for a request that got no answer through its retries: each
    attempt timed out, the connection failed (`dropped` once the endpoint has answered
    before, else `unreachable`: a wrong address), or `--deadline` ran out."""
    tries = f"after {attempts} attempt(s)"
    if kind == "timeout":
        return TransportFailed(
            f"{endpoint} timed out {tries} (--timeout {timeout:g}s); {SLOW_HINT}",
            reason=f"no answer in {attempts_text(attempts)} of {timeout:g}s",
            attempts=attempts,
            endpoint=endpoint,
        )
    if kind == "dropped":
        return TransportFailed(
            f"the connection to {endpoint} failed {tries} ({detail[:120]})",
            reason=f"connection failed after {attempts_text(attempts)}",
            attempts=attempts,
            endpoint=endpoint,
        )
    if kind == "unreachable":
        error: EndpointError = EndpointUnreachable(
            f"cannot connect to {endpoint} {tries}: is the server running? "
            "Check --base-url (or ANNOTATE_BASE_URL), or use --backend rules offline",
            attempts=attempts,
            endpoint=endpoint,
        )
        error.transport = True
        return error
    return DeadlineExceeded(
        f"{endpoint} timed out: no answer within --deadline {deadline:g}s "
        f"({attempts} attempt(s), --timeout {timeout:g}s each); {SLOW_HINT}",
        attempts=attempts,
        endpoint=endpoint,
    )


def status_error(
    error: ServerError, *, endpoint: str, model: str | None, mode: str, attempts: int, detail: str
) -> EndpointError:
    """The one-line error for an HTTP error answer that retrying did not fix."""
    tries = f"after {attempts} attempt(s)"
    if error.status == 401:
        return EndpointAuthError(
            f"{endpoint} rejected the API key (HTTP 401): set a valid key in OPENAI_API_KEY "
            "or the variable named by --api-key-env",
            attempts=attempts,
            endpoint=endpoint,
        )
    if error.status == 404:
        return EndpointError(
            f"{endpoint} answered 404 for model {model!r}: check --model "
            "(`annotate doctor` lists the models the server has)",
            attempts=attempts,
            endpoint=endpoint,
        )
    if error.status == 429:
        return TransportFailed(
            f"{endpoint} kept rate-limiting (HTTP 429) {tries}: {detail[:160]}",
            reason=f"rate-limited (HTTP 429) after {attempts_text(attempts)}",
            attempts=attempts,
            endpoint=endpoint,
        )
    if error.rejects_mode:
        return ModeUnsupported(
            f"{endpoint} rejected structured-output mode {mode!r} (HTTP "
            f"{error.status}: {detail[:160]}); use --mode auto or --mode tools",
            attempts=attempts,
            endpoint=endpoint,
        )
    if error.transient:  # the server is there and working, this request was unlucky
        what = "server error" if error.status >= 500 else "HTTP"
        return TransportFailed(
            f"{endpoint} answered HTTP {error.status} {tries}: {detail[:200]}",
            reason=f"{what} {error.status} after {attempts_text(attempts)}",
            attempts=attempts,
            endpoint=endpoint,
        )
    return EndpointError(
        f"{endpoint} answered HTTP {error.status} {tries}: {detail[:200]}",
        attempts=attempts,
        endpoint=endpoint,
    )


def server_error(status: int, body: Any, fallback: str = "") -> ServerError:
    """Read an OpenAI-style error body (`{"error": {...}}`, or a bare object/string)."""
    inner: Any = body.get("error", body) if isinstance(body, dict) else body
    code = param = None
    if isinstance(inner, dict):
        message = str(inner.get("message") or inner.get("detail") or inner)
        code = " ".join(str(inner[k]) for k in ("code", "type") if inner.get(k))
        param = inner.get("param")
    else:
        message = str(inner) if inner else fallback
    return ServerError(
        status=status,
        message=" ".join(message.split()),
        code=str(code) if code else None,
        param=str(param) if param else None,
        raw=str(body),
    )
