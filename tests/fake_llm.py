"""A real local HTTP server speaking the OpenAI chat-completions protocol, for tests.

It answers structured-output requests in the form the request asked for (a tool call for
TOOLS mode, JSON content for JSON_SCHEMA and JSON modes), from responders keyed by the
response model's name, and it can be scripted to fail: 429 with Retry-After, 500, 503, a hang,
truncated JSON, invalid JSON, `finish_reason: length`, a dropped connection, 401, a
refusal, `finish_reason: content_filter`; queued (the next requests) or standing (every
request whose messages contain a given text: `fail_requests`).

It can also be scripted to behave like a real server, with that server's real error
bodies: `context_tokens=8192` (vLLM / OpenAI "maximum context length" 400 when prompt +
max_tokens exceed it), `reject_params={"max_tokens", "temperature"}` (OpenAI reasoning
models' "unsupported_parameter" / "unsupported_value" 400s), `require_strict=True`
(OpenAI's "Invalid schema for function ..." 400 for a schema that is not strict).
It also answers POST /v1/embeddings, from `embed_text` (default: a hashed bag of words).
With `slots=N` it answers like llama.cpp's server about its parallel slots: GET /props with
`total_slots: N` and GET /slots with N slot objects, at the root beside /v1 (`slot_routes`
picks which of the two; others answer 404, as every other server does).

Run alone (for a CLI in another process, or the benchmark):
    python tests/fake_llm.py --fixtures fixtures/llm [--latency 0.5] [--port 0]
It prints `READY <base_url>` on stdout once it listens.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import re
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

Responder = Callable[[dict[str, Any]], dict[str, Any]]
EMBED_DIM = 64


def hashed_bag_of_words(text: str) -> list[float]:
    """A deterministic stand-in embedding: each lower-cased word adds 1 to one of
    EMBED_DIM coordinates chosen by its hash (texts sharing words point the same way)."""
    vector = [0.0] * EMBED_DIM
    for word in re.findall(r"\w+", text.lower()):
        vector[int(hashlib.sha256(word.encode()).hexdigest(), 16) % EMBED_DIM] += 1.0
    return vector


FAULTS = (
    "429",
    "500",
    "503",
    "401",
    "hang",
    "truncated",
    "invalid_json",
    "length",
    "disconnect",
    "refusal",
    "content_filter",
)
# OpenAI's bodies, as sent (see server_errors.py for the sources)
MAX_TOKENS_REJECTED = {
    "message": "Unsupported parameter: 'max_tokens' is not supported with this model. "
    "Use 'max_completion_tokens' instead.",
    "type": "invalid_request_error",
    "param": "max_tokens",
    "code": "unsupported_parameter",
}
TEMPERATURE_REJECTED = {
    "message": "Unsupported value: 'temperature' does not support 0 with this model. "
    "Only the default (1) value is supported.",
    "type": "invalid_request_error",
    "param": "temperature",
    "code": "unsupported_value",
}


def strict_schema_problem(schema: Any, where: str = "()") -> str | None:
    """What OpenAI says about a schema that strict mode refuses, or None."""
    if not isinstance(schema, dict):
        return None
    for name, sub in (schema.get("$defs") or {}).items():
        problem = strict_schema_problem(sub, f"('{name}',)")
        if problem:
            return problem
    if schema.get("type") == "object" or "properties" in schema:
        if schema.get("additionalProperties") is not False:
            return (
                f"In context={where}, 'additionalProperties' is required to be supplied "
                "and to be false."
            )
        props = schema.get("properties") or {}
        missing = [k for k in props if k not in (schema.get("required") or [])]
        if missing:
            return (
                f"In context={where}, 'required' is required to be supplied and to be an "
                f"array including every key in properties. Missing '{missing[0]}'."
            )
        for key, sub in props.items():
            problem = strict_schema_problem(sub, f"{where[:-1]}'properties', '{key}')")
            if problem:
                return problem
    for key in ("items", "anyOf"):
        subs = schema.get(key)
        for sub in subs if isinstance(subs, list) else [subs]:
            problem = strict_schema_problem(sub, where)
            if problem:
                return problem
    return None


class _Server(ThreadingHTTPServer):
    # socketserver's default listen backlog is 5: a client opening 64 connections at
    # once would see resets and SYN retransmits (1 s each) that a real server does not cause
    request_queue_size = 1024


@dataclass
class Fault:
    kind: str
    retry_after: float | None = None
    hang_seconds: float = 30.0


def response_model_name(body: dict[str, Any]) -> str | None:
    """Which pydantic model the client asked for, in any structured-output mode."""
    tools = body.get("tools") or []
    if tools:
        return str(tools[0]["function"]["name"])
    fmt = body.get("response_format") or {}
    if fmt.get("type") == "json_schema":
        return str(fmt["json_schema"].get("name"))
    # JSON mode: the schema is printed into the system message; read its top-level title
    text = "\n".join(str(m.get("content", "")) for m in body.get("messages", []))
    decoder = json.JSONDecoder()
    for start in (m.start() for m in re.finditer(r"\{", text)):
        try:
            schema, _ = decoder.raw_decode(text, start)
        except ValueError:
            continue
        if isinstance(schema, dict) and "title" in schema and "properties" in schema:
            return str(schema["title"])
    return None


def strict_request(body: dict[str, Any]) -> dict[str, Any] | None:
    """The schema of a strict request (tool or json_schema), else None."""
    for tool in body.get("tools") or []:
        fn = tool.get("function", {})
        if fn.get("strict"):
            return dict(fn.get("parameters") or {})
    spec = (body.get("response_format") or {}).get("json_schema") or {}
    return dict(spec.get("schema") or {}) if spec.get("strict") else None


def fill_required(value: Any, schema: dict[str, Any], defs: dict[str, Any]) -> Any:
    """What a strict-mode server's model writes: every property, null or [] when it has
    nothing to say (a fixture may leave optional keys out)."""
    if "$ref" in schema:
        schema = defs.get(str(schema["$ref"]).rsplit("/", 1)[-1], {})
    if isinstance(value, dict) and "properties" in schema:
        out = {}
        for key, sub in schema["properties"].items():
            if key in value:
                out[key] = fill_required(value[key], sub, defs)
            else:
                out[key] = [] if sub.get("type") == "array" else None
        return out
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [fill_required(v, schema["items"], defs) for v in value]
    if "anyOf" in schema and value is not None:
        for option in schema["anyOf"]:
            if option.get("type") != "null":
                return fill_required(value, option, defs)
    return value


def messages_text(body: dict[str, Any]) -> str:
    parts = []
    for m in body.get("messages", []):
        content = m.get("content")
        if isinstance(content, list):
            content = " ".join(str(c.get("text", "")) for c in content if isinstance(c, dict))
        parts.append(str(content or ""))
    return "\n".join(parts)


def fixture_responders(fixtures_dir: Path) -> dict[str, Responder]:
    """Responders that replay fixtures/llm/*.json: each has `match` (a substring of the
    article), `extraction` (the Extraction answer) and optional `quote_fixes`; and a
    SameClaim responder that answers "not the same claim"."""
    fixtures = [
        json.loads(p.read_text(encoding="utf-8")) for p in sorted(fixtures_dir.glob("*.json"))
    ]

    def find(body: dict[str, Any]) -> dict[str, Any] | None:
        text = messages_text(body)
        return next((f for f in fixtures if f["match"] in text), None)

    def extraction(body: dict[str, Any]) -> dict[str, Any]:
        fx = find(body)
        return fx["extraction"] if fx else {"speakers": [], "sources": [], "claims": []}

    def quote_fixes(body: dict[str, Any]) -> dict[str, Any]:
        fx = find(body)
        return (fx or {}).get("quote_fixes") or {"fixes": []}

    def same_claim(body: dict[str, Any]) -> dict[str, Any]:
        # reconcile's adjudication: "not the same" leaves the summary as without a model
        return {"same": False, "reason": "fixture default"}

    return {"Extraction": extraction, "QuoteFixes": quote_fixes, "SameClaim": same_claim}


class FakeChatServer:
    """Context manager; `base_url` ends in /v1. Thread-safe request log in `requests`."""

    def __init__(
        self,
        fixtures_dir: Path | None = None,
        *,
        latency: float = 0.0,
        model: str = "fake-model",
        reject_json_schema: bool = False,
        ignore_schema: bool = False,
        context_tokens: int | None = None,
        reject_params: set[str] | None = None,
        require_strict: bool = False,
        max_model_len: int | None = None,
        swap_wire_formats: bool = False,
        slots: int | None = None,
        slot_routes: tuple[str, ...] = ("props", "slots"),
        port: int = 0,
    ) -> None:
        self.responders: dict[str, Responder] = {}
        if fixtures_dir is not None:
            self.responders.update(fixture_responders(fixtures_dir))
        self.latency = latency
        self.model = model
        self.reject_json_schema = reject_json_schema
        self.ignore_schema = ignore_schema
        self.context_tokens = context_tokens
        self.reject_params = set(reject_params or ())
        self.require_strict = require_strict
        self.max_model_len = max_model_len
        # answer tools requests with content and the others with tool_calls: a client
        # that accepted that would make "every mode gives the same records" meaningless
        self.swap_wire_formats = swap_wire_formats
        self.slots = slots
        self.slot_routes = slot_routes
        self.gets: list[str] = []  # the path of every GET request
        self.responses: list[dict[str, Any]] = []  # every 200 answer, as sent
        self.requests: list[dict[str, Any]] = []
        self.embed_text: Callable[[str], list[float]] = hashed_bag_of_words
        self.headers: list[dict[str, str]] = []
        self._faults: deque[Fault] = deque()
        self._standing: list[tuple[str, str | None, Fault]] = []  # see fail_requests
        self._lock = threading.Lock()
        self.in_flight = 0
        self.max_in_flight = 0
        self._httpd = _Server(("127.0.0.1", port), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    # -- scripting
    def add_responder(self, name: str, fn: Responder) -> None:
        self.responders[name] = fn

    def enqueue_fault(
        self,
        kind: str,
        *,
        count: int = 1,
        retry_after: float | None = None,
        hang_seconds: float = 30.0,
    ) -> None:
        if kind not in FAULTS:
            raise ValueError(f"unknown fault {kind!r}; one of {FAULTS}")
        with self._lock:
            for _ in range(count):
                self._faults.append(Fault(kind, retry_after, hang_seconds))

    def fail_requests(
        self,
        kind: str,
        *,
        containing: str = "",
        model: str | None = "Extraction",
        hang_seconds: float = 30.0,
    ) -> None:
        """Fail every request (for response model `model`, None: any) whose messages
        contain `containing` with fault `kind`, for as long as the server runs: one piece
        of a long article fails each time it is sent, however it is split. A `hang`
        answers after `hang_seconds` (a client with a shorter timeout has given up)."""
        if kind not in FAULTS:
            raise ValueError(f"unknown standing fault {kind!r}; one of {FAULTS}")
        with self._lock:
            self._standing.append((containing, model, Fault(kind, hang_seconds=hang_seconds)))

    def clear_standing_faults(self) -> None:
        with self._lock:
            self._standing.clear()

    def _standing_fault(self, body: dict[str, Any]) -> Fault | None:
        with self._lock:
            rules = list(self._standing)
        if not rules:
            return None
        text, name = messages_text(body), response_model_name(body)
        for containing, model, fault in rules:
            if containing in text and (model is None or model == name):
                return fault
        return None

    def chat_requests(self, name: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            reqs = [r for r in self.requests if "messages" in r]
        return [r for r in reqs if name is None or response_model_name(r) == name]

    def embedding_requests(self) -> list[dict[str, Any]]:
        with self._lock:
            return [r for r in self.requests if "input" in r and "messages" not in r]

    def embeddings(self, body: dict[str, Any]) -> tuple[int, bytes]:
        """Status and body for one /v1/embeddings request."""
        texts = body.get("input")
        if isinstance(texts, str):
            texts = [texts]
        if not isinstance(texts, list) or not all(isinstance(t, str) and t for t in texts):
            return 400, _error("input must be a non-empty string or list of them", "bad_request")
        data = [
            {"object": "embedding", "index": i, "embedding": self.embed_text(t)}
            for i, t in enumerate(texts)
        ]
        tokens = sum(len(t) // 4 + 1 for t in texts)
        payload = {
            "object": "list",
            "data": data[::-1],  # out of order on purpose: clients must sort by index
            "model": body.get("model") or self.model,
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }
        return 200, json.dumps(payload).encode()

    def slot_info(self, route: str) -> Any:
        """llama.cpp's answer to GET /props or GET /slots (the fields annotate reads, and a
        few around them, as tools/server/README.md shows them)."""
        slot = {"id": 0, "id_task": -1, "n_ctx": 4096, "speculative": False}
        if route == "/props":
            return {
                "default_generation_settings": {**slot, "is_processing": False},
                "total_slots": self.slots,
                "model_path": f"models/{self.model}.gguf",
                "chat_template": "...",
                "modalities": {"vision": False},
                "build_info": "b0000-fake",
            }
        return [{**slot, "id": n, "is_processing": False} for n in range(self.slots or 0)]

    # -- lifecycle
    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def start(self) -> FakeChatServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> FakeChatServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- protocol
    def _next_fault(self) -> Fault | None:
        with self._lock:
            return self._faults.popleft() if self._faults else None

    def answer(self, body: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
        """Status, headers and body for one chat-completions request."""
        fault = self._next_fault() or self._standing_fault(body)
        if self.latency:
            time.sleep(self.latency)
        if fault and fault.kind == "429":
            headers = {"Retry-After": f"{fault.retry_after:g}"} if fault.retry_after else {}
            return 429, headers, _error("rate limited", "rate_limit_exceeded")
        if fault and fault.kind == "500":
            return 500, {}, _error("internal error", "server_error")
        if fault and fault.kind == "503":  # vLLM's and OpenAI's overloaded answer
            return 503, {}, _error("The server is overloaded, try again later", "overloaded")
        if fault and fault.kind == "401":
            return (
                401,
                {},
                _error("Incorrect API key provided: sk-te****. ", "invalid_api_key"),
            )
        for param, body_ in (
            ("max_tokens", MAX_TOKENS_REJECTED),
            ("temperature", TEMPERATURE_REJECTED),
        ):
            if param in self.reject_params and param in body:
                return 400, {}, json.dumps({"error": body_}).encode()
        rejected = self.reject_params & set(body) - {"max_tokens", "temperature"}
        if rejected:
            name = sorted(rejected)[0]
            return (
                400,
                {},
                json.dumps(
                    {
                        "error": {
                            "message": f"Unsupported parameter: '{name}' is not supported "
                            "with this model.",
                            "type": "invalid_request_error",
                            "param": name,
                            "code": "unsupported_parameter",
                        }
                    }
                ).encode(),
            )
        if self.context_tokens:
            prompt = len(messages_text(body)) // 4 + 20
            limit = body.get("max_completion_tokens") or body.get("max_tokens") or 0
            if prompt + limit > self.context_tokens:
                # vLLM's (and OpenAI's) words for it, HTTP 400
                message = (
                    f"This model's maximum context length is {self.context_tokens} tokens. "
                    f"However, you requested {prompt + limit} tokens ({prompt} in the "
                    f"messages, {limit} in the completion). Please reduce the length of "
                    "the messages or completion."
                )
                return (
                    400,
                    {},
                    json.dumps(
                        {
                            "object": "error",
                            "message": message,
                            "type": "BadRequestError",
                            "param": None,
                            "code": 400,
                        }
                    ).encode(),
                )
        if self.require_strict:
            for tool in body.get("tools") or []:
                fn = tool.get("function", {})
                problem = None if fn.get("strict") else "strict is not true"
                problem = problem or strict_schema_problem(fn.get("parameters"))
                if problem:
                    body_ = {  # OpenAI's body for it
                        "message": f"Invalid schema for function '{fn.get('name')}': {problem}",
                        "type": "invalid_request_error",
                        "param": "tools[0].function.parameters",
                        "code": "invalid_function_parameters",
                    }
                    return 400, {}, json.dumps({"error": body_}).encode()
            fmt = body.get("response_format") or {}
            if fmt.get("type") == "json_schema":
                spec = fmt.get("json_schema") or {}
                problem = None if spec.get("strict") else "strict is not true"
                problem = problem or strict_schema_problem(spec.get("schema"))
                if problem:
                    return (
                        400,
                        {},
                        _error(
                            f"Invalid schema for response_format '{spec.get('name')}': {problem}",
                            "invalid_request_error",
                        ),
                    )
        if fault and fault.kind == "hang":
            time.sleep(fault.hang_seconds)
        fmt = (body.get("response_format") or {}).get("type")
        if self.reject_json_schema and fmt == "json_schema":
            # what llama-cpp-python's server answers (measured): HTTP 500
            return (
                500,
                {},
                _error(
                    "[{'type': 'literal_error', 'loc': ('body', 'response_format', 'type'), "
                    "'msg': \"Input should be 'text' or 'json_object'\"}]",
                    "server_error",
                ),
            )
        name = response_model_name(body)
        responder = self.responders.get(name or "")
        if responder is None:
            return 400, {}, _error(f"fake server has no responder for {name!r}", "bad_request")
        answer = responder(body)
        strict_schema = strict_request(body)
        if strict_schema is not None:
            answer = fill_required(answer, strict_schema, strict_schema.get("$defs", {}))
        payload = json.dumps(answer, ensure_ascii=False)
        if self.ignore_schema:
            payload = json.dumps({"answer": "I ignored your schema."})
        finish = "stop"
        if fault and fault.kind in ("truncated", "length"):
            payload = payload[: max(1, len(payload) // 2)]
            finish = "length" if fault.kind == "length" else "stop"
        if fault and fault.kind == "invalid_json":
            payload = "Sure! Here is the JSON you asked for: {speakers: [oops"
        message: dict[str, Any] = {"role": "assistant", "content": None}
        if fault and fault.kind == "refusal":
            message["refusal"] = "I'm sorry, I can't help with that request."
            finish = "stop"
        elif fault and fault.kind == "content_filter":
            finish = "content_filter"
        elif (bool(body.get("tools")) != self.swap_wire_formats) and not self.ignore_schema:
            message["tool_calls"] = [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": name, "arguments": payload},
                }
            ]
        else:
            message["content"] = payload
        prompt_tokens = len(messages_text(body)) // 4
        completion_tokens = max(1, len(payload) // 4)
        data = {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": 0,
            "model": body.get("model") or self.model,
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
                "prompt_tokens_details": {"cached_tokens": 0},
            },
        }
        with self._lock:
            self.responses.append(data)
        return 200, {}, json.dumps(data).encode()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # headers and body go out in separate writes: with Nagle's algorithm on, the
            # body would wait for the client's delayed ACK (~40 ms per request)
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                with server._lock:
                    server.gets.append(self.path)
                route = self.path.split("?")[0].rstrip("/")
                if server.slots and route.lstrip("/") in server.slot_routes:
                    self._send(200, {}, json.dumps(server.slot_info(route)).encode())
                elif self.path.rstrip("/").endswith("/models"):
                    entry: dict[str, Any] = {"id": server.model, "object": "model", "owned_by": "t"}
                    if server.max_model_len:
                        entry["max_model_len"] = server.max_model_len  # as vLLM lists it
                    data = {"object": "list", "data": [entry]}
                    self._send(200, {}, json.dumps(data).encode())
                else:
                    self._send(404, {}, _error("not found", "not_found"))

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw or b"{}")
                except json.JSONDecodeError:
                    self._send(400, {}, _error("invalid JSON body", "bad_request"))
                    return
                with server._lock:
                    server.requests.append(body)
                    server.headers.append({k.lower(): v for k, v in self.headers.items()})
                if self.path.rstrip("/").endswith("/embeddings"):
                    status, payload = server.embeddings(body)
                    self._send(status, {}, payload)
                    return
                if not self.path.rstrip("/").endswith("/chat/completions"):
                    self._send(404, {}, _error("not found", "not_found"))
                    return
                queued = server._faults[0].kind if server._faults else None
                standing = server._standing_fault(body) if queued is None else None
                if "disconnect" in (queued, standing and standing.kind):
                    if queued:
                        server._next_fault()
                    self.close_connection = True
                    self.connection.close()
                    return
                with server._lock:
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                try:
                    status, headers, payload = server.answer(body)
                finally:
                    with server._lock:
                        server.in_flight -= 1
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self._send(status, headers, payload)

        return Handler


def _error(message: str, code: str) -> bytes:
    return json.dumps({"error": {"message": message, "type": code, "code": code}}).encode()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--fixtures", type=Path, default=Path("fixtures/llm"))
    parser.add_argument("--latency", type=float, default=0.0, help="seconds per request")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--reject-json-schema", action="store_true")
    args = parser.parse_args(argv)
    server = FakeChatServer(
        args.fixtures,
        latency=args.latency,
        port=args.port,
        reject_json_schema=args.reject_json_schema,
    )
    print(f"READY {server.base_url}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server._httpd.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
