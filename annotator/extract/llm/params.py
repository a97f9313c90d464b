"""Which request parameters an endpoint and model accept, learned once and remembered.

Current OpenAI models (o-series, gpt-5 family) reject `max_tokens` ("Use
'max_completion_tokens' instead") and any `temperature` but the default; many
OpenAI-compatible servers know only `max_tokens`. So the OpenAI API gets
`max_completion_tokens` and every other server `max_tokens`; when a server rejects the
one it got, the other is used from then on, once. A sampling parameter the model rejects
is dropped. What was learned is kept per (endpoint, model) for the life of the process
(every client of a run shares it) and is recorded in the manifest (`describe()`).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from annotator.core.settings import EndpointConfig

TOKEN_LIMIT_PARAMS = ("max_tokens", "max_completion_tokens")
# parameters that only tune sampling: the answer is still usable without them
SAMPLING_PARAMS = frozenset({"temperature", "top_p", "presence_penalty", "frequency_penalty"})


@dataclass
class RequestParams:
    token_limit: str  # "max_completion_tokens" or "max_tokens"
    omitted: set[str] = field(default_factory=set)
    switched: bool = False  # the token limit name was changed once already
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def apply(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        """The request's keyword arguments with this endpoint's names and omissions."""
        body = {k: v for k, v in kwargs.items() if k not in self.omitted}
        for name in TOKEN_LIMIT_PARAMS:
            if name in body and name != self.token_limit:
                body[self.token_limit] = body.pop(name)
        return body

    def adapt(self, parameter: str, what: str) -> bool:
        """Learn from an "unsupported parameter/value" answer; False when nothing can be
        changed (the caller then reports the parameter)."""
        with self._lock:
            if parameter in TOKEN_LIMIT_PARAMS:
                if parameter != self.token_limit:
                    return True  # another request already switched: send again
                if self.switched:
                    return False
                self.token_limit = next(p for p in TOKEN_LIMIT_PARAMS if p != parameter)
                self.switched = True
                return True
            if parameter in SAMPLING_PARAMS:
                self.omitted.add(parameter)  # (another request may have dropped it already)
                return True
            return False

    def describe(self) -> dict[str, Any]:
        return {"token_limit": self.token_limit, "omitted": sorted(self.omitted)}


_KNOWN: dict[tuple[str, str | None], RequestParams] = {}
_KNOWN_LOCK = threading.Lock()


def request_params(config: EndpointConfig) -> RequestParams:
    """The shared, learning parameter set of this endpoint and model."""
    key = (config.base_url.rstrip("/"), config.model)
    with _KNOWN_LOCK:
        if key not in _KNOWN:
            first = "max_completion_tokens" if config.is_openai else "max_tokens"
            _KNOWN[key] = RequestParams(token_limit=first)
        return _KNOWN[key]
