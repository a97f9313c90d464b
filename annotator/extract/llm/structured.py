"""The wire format of one structured-output call: the exact request body, and the
validation of an answer, for one response model in one mode.

Built once per (response model, mode) and shared by the live client and the batch files,
so a batch request is byte-for-byte the body a live call sends, and a batch answer goes
through the same parser, the same truncation check and the same re-ask message as a live
one. instructor's mode handlers do the work; what this module adds is doing the expensive
part (generating the JSON schema and the tool or response-format block) once instead of on
every call.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar, cast

from instructor.core.exceptions import IncompleteOutputException
from instructor.processing import response as instructor_response
from openai.types.chat import ChatCompletion
from pydantic import BaseModel, ValidationError

from annotator.core.models import Usage
from annotator.extract.llm.wire import usage

T = TypeVar("T", bound=BaseModel)

# What a failed parse can raise (instructor re-asks on exactly these).
PARSE_ERRORS: tuple[type[Exception], ...] = (
    ValidationError,
    json.JSONDecodeError,
    instructor_response.InstructorError,
)

_SYSTEM = "\x00system\x00"
_USER = "\x00user\x00"


class Unparsed(Exception):
    """No answer fit the schema, re-asks included: the last error and answer, and the
    usage of every answer."""

    def __init__(self, error: Exception, last: ChatCompletion, spent: Usage) -> None:
        super().__init__(str(error))
        self.error, self.last, self.spent = error, last, spent


class StructuredFormat(Generic[T]):
    """One response model in one instructor mode ('tools', 'json_schema' or 'json')."""

    def __init__(self, response_model: type[T], mode: Any) -> None:
        self.response_model = response_model
        self.mode = mode
        provider = instructor_response.provider_from_mode(mode, instructor_response.Provider.OPENAI)
        self._mode = instructor_response.normalize_mode_for_provider(mode, provider)
        # A probe request with marker messages: what the mode adds to every request
        # (tools + tool_choice, or response_format, and for JSON mode a schema text
        # appended to the system message) is computed here once.
        prepared, probe = instructor_response.handle_response_model(
            response_model,
            mode=mode,
            messages=[{"role": "system", "content": _SYSTEM}, {"role": "user", "content": _USER}],
        )
        self.handlers = instructor_response.mode_registry.get_handlers(provider, self._mode)
        self.model: type[T] = prepared or response_model
        probe_messages = probe.pop("messages")
        self._extra = probe
        first = probe_messages[0].get("content") if probe_messages else None
        shape_ok = (
            len(probe_messages) == 2
            and probe_messages[0].get("role") == "system"
            and isinstance(first, str)
            and first.startswith(_SYSTEM)
            and probe_messages[1] == {"role": "user", "content": _USER}
        )
        # Only the system-message suffix is templated; any other shape is delegated.
        self._system_suffix: str | None = first[len(_SYSTEM) :] if shape_ok and first else None

    def body(self, messages: list[dict[str, Any]], **params: Any) -> dict[str, Any]:
        """The chat-completions request body: model, messages, sampling, mode fields."""
        fits = (
            self._system_suffix is not None
            and len(messages) == 2
            and messages[0].get("role") == "system"
            and isinstance(messages[0].get("content"), str)
            and messages[1].get("role") == "user"
        )
        if not fits:
            _, kwargs = instructor_response.handle_response_model(
                self.response_model, mode=self.mode, messages=messages, **params
            )
            return kwargs
        system = {**messages[0], "content": messages[0]["content"] + self._system_suffix}
        out: dict[str, Any] = {}
        for key in ("model",):
            if key in params:
                out[key] = params[key]
        out["messages"] = [system, dict(messages[1])]
        out.update({k: v for k, v in params.items() if k != "model"})
        out.update(self._extra)  # shared, never mutated: the body is only serialised
        return out

    def parse(self, completion: ChatCompletion) -> T:
        """The validated answer. Raises IncompleteOutputException for `finish_reason:
        length` and one of PARSE_ERRORS for an answer that does not fit the schema."""
        value = self.handlers.response_parser(
            response=completion,
            response_model=self.model,
            validation_context=None,
            strict=True,  # what instructor's patched create uses by default
            stream=False,
            is_async=True,
        )
        return value

    async def ask(
        self,
        body: dict[str, Any],
        post: Callable[[dict[str, Any]], Awaitable[ChatCompletion]],
        retries: int,
    ) -> tuple[T, ChatCompletion, Usage]:
        """Send `body` with `post` and parse the answer; re-ask (up to `retries` times)
        with the validation error. Returns (value, answer, usage of every answer); raises
        `Unparsed`, or IncompleteOutputException for an answer cut at the token limit."""
        spent = Usage()
        for n in range(retries + 1):
            raw = await post(body)
            spent = spent + usage(raw)
            try:
                return self.parse(raw), raw, spent
            except IncompleteOutputException:
                raise  # cut at the token limit: never re-asked (a subclass of the below)
            except PARSE_ERRORS as exc:
                if n == retries:
                    raise Unparsed(exc, raw, spent) from None
                body = self.reask(body, raw, exc)
        raise AssertionError("unreachable")  # pragma: no cover

    def reask(
        self, body: dict[str, Any], completion: ChatCompletion, error: Exception
    ) -> dict[str, Any]:
        """The follow-up request that shows the model its answer and the error."""
        again = dict(body)
        again["messages"] = list(body["messages"])
        return dict(self.handlers.reask_handler(kwargs=again, response=completion, exception=error))


def completion_from_json(data: dict[str, Any]) -> ChatCompletion:
    """A chat completion from its JSON body (as a batch result file carries it), built
    the lenient way the openai client builds the answers it receives."""
    from openai._models import construct_type

    return cast(ChatCompletion, construct_type(type_=ChatCompletion, value=data))
