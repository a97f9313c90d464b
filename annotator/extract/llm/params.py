"""Which request parameters an endpoint and model accept, learned once and remembered.

Current OpenAI models (o-series, gpt-5 family) reject `max_tokens` ("Use
'max_completion_tokens' instead") and any `temperature` but the default; many
OpenAI-compatible servers know only `max_tokens`. So the OpenAI API gets
`max_completion_tokens` and every other server `max_tokens`; when a server rejects the
one it got, the other is used from then on, once. A sampling parameter the model rejects
is dropped. What was learned is kept per (endpoint, model): in the process (every client
of a run shares it) and, like the probe's mode, in the cache folder
(`<cache>/params/<sha256>.json`, written when something is learned, read by
`ready_endpoint`), so the next run does not send the rejected request again. It is
recorded in the manifest (`describe()`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from annotator.core.settings import EndpointConfig
from annotator.core.yamlio import atomic_write_text

PARAMS_FORMAT = "annotator/request-params/v1"

TOKEN_LIMIT_PARAMS = ("max_tokens", "max_completion_tokens")
# parameters that only tune sampling: the answer is still usable without them
SAMPLING_PARAMS = frozenset({"temperature", "top_p", "presence_penalty", "frequency_penalty"})


@dataclass
class RequestParams:
    token_limit: str  # "max_completion_tokens" or "max_tokens"
    omitted: set[str] = field(default_factory=set)
    switched: bool = False  # the token limit name was changed once already
    store: Path | None = None  # where what is learned is saved
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
        learned = self._learn(parameter)
        if learned:
            self._save()
        return learned

    def _learn(self, parameter: str) -> bool:
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

    def _save(self) -> None:
        if self.store is None:
            return
        data = {"format": PARAMS_FORMAT, **self.describe(), "switched": self.switched}
        # a memory, not a requirement: if it cannot be saved the next run learns it again
        with contextlib.suppress(OSError):
            atomic_write_text(self.store, json.dumps(data, indent=1) + "\n")

    def load(self, path: Path) -> None:
        """Use what an earlier run learned (a damaged or foreign file is ignored)."""
        self.store = path
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("format") != PARAMS_FORMAT:
                return
            limit, omitted = data["token_limit"], data["omitted"]
            if limit not in TOKEN_LIMIT_PARAMS or not isinstance(omitted, list):
                return
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return
        with self._lock:
            self.token_limit = limit
            self.switched = bool(data.get("switched"))
            self.omitted |= {str(p) for p in omitted if p in SAMPLING_PARAMS}


def params_path(cache_dir: Path, config: EndpointConfig) -> Path:
    key = json.dumps({"base_url": config.base_url.rstrip("/"), "model": config.model})
    return cache_dir / "params" / f"{hashlib.sha256(key.encode()).hexdigest()}.json"


def remember_params(config: EndpointConfig, cache_dir: Path | None) -> RequestParams:
    """The endpoint's parameter set, loaded from and saved to the cache folder."""
    params = request_params(config)
    if cache_dir is not None and params.store is None:
        params.load(params_path(cache_dir, config))
    return params


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
