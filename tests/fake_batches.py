"""A real local HTTP server speaking the OpenAI Files and Batches APIs, for tests.

It is the chat-completions fake (tests/fake_llm.py) plus:
    POST /v1/files                 multipart upload (purpose=batch) -> file object
    POST /v1/batches               create a batch from an uploaded request file
    GET  /v1/batches/{id}          the batch; "executes" it once polled `polls` times
    GET  /v1/files/{id}/content    an uploaded, output or error file
Executing a batch answers each request line with the chat fake (same responders, same
scripted faults, consumed in line order), writes 200 answers to the output file and the
others to the error file, in the order `order` gives (e.g. shuffled), and counts them.
"""

from __future__ import annotations

import contextlib
import json
import random
import threading
import uuid
from email.parser import BytesParser
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from tests.fake_llm import FakeChatServer, _error


class FakeBatchServer(FakeChatServer):
    def __init__(
        self,
        fixtures_dir: Path | None = None,
        *,
        polls: int = 1,
        shuffle_seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(fixtures_dir, **kwargs)
        self.files: dict[str, dict[str, Any]] = {}
        self.batches: dict[str, dict[str, Any]] = {}
        self.polls = polls  # retrieves that see the batch in progress before it completes
        self.shuffle_seed = shuffle_seed
        self.batch_lock = threading.Lock()
        self.api_calls: list[str] = []
        self.fail_batches = False  # end batches as "failed" (input rejected), no output

    # -- Files
    def add_file(self, data: bytes, filename: str, purpose: str) -> dict[str, Any]:
        fid = f"file-{len(self.files) + 1}"
        obj = {
            "id": fid,
            "object": "file",
            "bytes": len(data),
            "created_at": 0,
            "filename": filename,
            "purpose": purpose,
            "status": "processed",
        }
        self.files[fid] = {**obj, "data": data}
        return obj

    # -- Batches
    def create_batch(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        fid = body.get("input_file_id")
        if fid not in self.files:
            return 400, {"error": {"message": f"no file {fid!r}", "code": "invalid_file"}}
        bid = f"batch_{len(self.batches) + 1}"
        batch = {
            "id": bid,
            "object": "batch",
            "endpoint": body.get("endpoint"),
            "completion_window": body.get("completion_window"),
            "input_file_id": fid,
            "status": "validating",
            "created_at": 0,
            "output_file_id": None,
            "error_file_id": None,
            "request_counts": {"total": 0, "completed": 0, "failed": 0},
            "metadata": body.get("metadata") or {},
            "_polls": 0,
        }
        self.batches[bid] = batch
        return 200, _public(batch)

    def retrieve_batch(self, bid: str) -> tuple[int, dict[str, Any]]:
        with self.batch_lock:
            batch = self.batches.get(bid)
            if batch is None:
                return 404, {"error": {"message": f"no batch {bid!r}", "code": "not_found"}}
            if batch["status"] not in ("completed", "failed"):
                batch["_polls"] += 1
                if self.fail_batches:
                    batch["status"] = "failed"
                    batch["errors"] = {
                        "object": "list",
                        "data": [{"code": "invalid_request", "message": "model not found"}],
                    }
                elif batch["_polls"] > self.polls:
                    self._execute(batch)
                else:
                    batch["status"] = "in_progress"
            return 200, _public(batch)

    def _execute(self, batch: dict[str, Any]) -> None:
        lines = self.files[batch["input_file_id"]]["data"].decode("utf-8").splitlines()
        ok: list[str] = []
        failed: list[str] = []
        for n, line in enumerate(x for x in lines if x.strip()):
            req = json.loads(line)
            status, _, payload = self.answer(req["body"])
            result = {
                "id": f"batch_req_{n + 1}",
                "custom_id": req["custom_id"],
                "response": {
                    "status_code": status,
                    "request_id": f"req_{n + 1}",
                    "body": json.loads(payload),
                },
                "error": None,
            }
            (ok if status == 200 else failed).append(json.dumps(result))
        if self.shuffle_seed is not None:
            random.Random(self.shuffle_seed).shuffle(ok)
        if ok:
            batch["output_file_id"] = self.add_file(
                ("\n".join(ok) + "\n").encode(), f"{batch['id']}_output.jsonl", "batch_output"
            )["id"]
        if failed:
            batch["error_file_id"] = self.add_file(
                ("\n".join(failed) + "\n").encode(), f"{batch['id']}_error.jsonl", "batch_output"
            )["id"]
        batch["request_counts"] = {
            "total": len(ok) + len(failed),
            "completed": len(ok),
            "failed": len(failed),
        }
        batch["status"] = "completed"

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self
        chat_handler = super()._handler_class()

        class Handler(chat_handler):  # type: ignore[valid-type, misc]
            def _json(self, status: int, data: dict[str, Any]) -> None:
                self._send(status, {}, json.dumps(data).encode())

            def do_GET(self) -> None:
                path = self.path.split("?")[0].rstrip("/")
                parts = path.split("/")
                with server._lock:
                    server.api_calls.append(f"GET {path}")
                if len(parts) >= 2 and parts[-2] == "batches":
                    self._json(*server.retrieve_batch(parts[-1]))
                elif path.endswith("/content") and parts[-2] in server.files:
                    data = server.files[parts[-2]]["data"]
                    self.send_response(200)
                    self.send_header("Content-Type", "application/octet-stream")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                        self.wfile.write(data)
                else:
                    super().do_GET()

            def do_POST(self) -> None:
                path = self.path.split("?")[0].rstrip("/")
                if path.endswith("/files"):
                    length = int(self.headers.get("Content-Length") or 0)
                    raw = self.rfile.read(length)
                    with server._lock:
                        server.api_calls.append(f"POST {path}")
                    fields = _multipart(self.headers.get("Content-Type", ""), raw)
                    if "file" not in fields:
                        self._send(400, {}, _error("no file field", "bad_request"))
                        return
                    data, filename = fields["file"]
                    purpose = fields.get("purpose", (b"", None))[0].decode()
                    self._json(200, server.add_file(data, filename or "upload.jsonl", purpose))
                elif path.endswith("/batches"):
                    length = int(self.headers.get("Content-Length") or 0)
                    body = json.loads(self.rfile.read(length) or b"{}")
                    with server._lock:
                        server.api_calls.append(f"POST {path}")
                    self._json(*server.create_batch(body))
                else:
                    super().do_POST()

        return Handler


def _public(batch: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in batch.items() if not k.startswith("_")}


def _multipart(content_type: str, raw: bytes) -> dict[str, tuple[bytes, str | None]]:
    message = BytesParser(policy=default_policy).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + raw
    )
    fields: dict[str, tuple[bytes, str | None]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if name:
            payload = part.get_payload(decode=True) or b""
            fields[str(name)] = (payload, part.get_filename())
    return fields


def vllm_line(custom_id: str, completion: dict[str, Any] | None, error: str | None) -> str:
    """One line as vllm/entrypoints/openai/run_batch.py writes it (BatchRequestOutput)."""
    if completion is None:
        response = {
            "status_code": 400,
            "request_id": f"vllm-batch-{uuid.uuid4().hex}",
            "body": None,
        }
    else:
        choice = completion["choices"][0]
        choice["message"]["tool_calls"][0]["index"] = 0
        choice["message"]["reasoning_content"] = None
        choice.update(logprobs=None, stop_reason=None, finish_reason="tool_calls")
        completion.update(
            prompt_logprobs=None, kv_transfer_params=None, id=f"chatcmpl-{uuid.uuid4().hex}"
        )
        completion["usage"]["prompt_tokens_details"] = None
        response = {
            "status_code": 200,
            "request_id": f"vllm-batch-{uuid.uuid4().hex}",
            "body": completion,
        }
    line = {
        "id": f"vllm-{uuid.uuid4().hex}",
        "custom_id": custom_id,
        "response": response,
        "error": error,
    }
    return json.dumps(line)
