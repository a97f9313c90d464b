"""The JSONL format of the OpenAI Batch API, which vLLM's `run_batch` reads and writes too.

A request line is `{custom_id, method, url, body}`; a result line is `{id, custom_id,
response: {status_code, request_id, body}, error}` (the OpenAI output and error files and
vLLM's output file alike). Pure: no network, no files.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from annotator.core.errors import AnnotatorError, EndpointError

CHAT_URL = "/v1/chat/completions"
MAX_REQUESTS_PER_FILE = 50_000  # Batch API limits, per input file
MAX_BYTES_PER_FILE = 200_000_000


class AnswerMissing(AnnotatorError):
    """A request has no batch answer and live calls are off (`collect --no-live`)."""

    def __init__(self, body: dict[str, Any]) -> None:
        super().__init__("no batch answer for a request and live calls are off")
        self.body = body


class BatchRequestFailed(EndpointError):
    """The batch engine answered one request with an error."""


@dataclass(frozen=True)
class BatchAnswer:
    custom_id: str
    completion: dict[str, Any] | None  # the chat-completion body, when status 200
    error: str | None  # one line, when the request failed


def request_line(custom_id: str, body: dict[str, Any]) -> str:
    line = {"custom_id": custom_id, "method": "POST", "url": CHAT_URL, "body": body}
    return json.dumps(line, ensure_ascii=False, separators=(",", ":"))


def split_lines(lines: Iterable[str], *, max_requests: int, max_bytes: int) -> Iterator[list[str]]:
    """Group request lines into files under both limits (each line ends in a newline)."""
    part: list[str] = []
    size = 0
    for line in lines:
        n = len(line.encode("utf-8")) + 1
        if n > max_bytes:
            raise AnnotatorError(
                f"one batch request is {n} bytes, over the {max_bytes}-byte file limit"
            )
        if part and (len(part) >= max_requests or size + n > max_bytes):
            yield part
            part, size = [], 0
        part.append(line)
        size += n
    if part:
        yield part


def parse_result_line(line: str) -> BatchAnswer | None:
    """One line of an output or error file; None for a blank line. Raises ValueError for
    a line that is not a batch result."""
    if not line.strip():
        return None
    data = json.loads(line)
    if not isinstance(data, dict) or not isinstance(data.get("custom_id"), str):
        raise ValueError("not a batch result line (no custom_id)")
    custom_id = data["custom_id"]
    response = data.get("response") or {}
    status = response.get("status_code") if isinstance(response, dict) else None
    body = response.get("body") if isinstance(response, dict) else None
    error = data.get("error")
    if error is None and status in (None, 200) and _is_completion(body):
        return BatchAnswer(custom_id, body, None)
    return BatchAnswer(custom_id, None, _error_text(error, status, body))


def _is_completion(body: Any) -> bool:
    return isinstance(body, dict) and isinstance(body.get("choices"), list)


def _error_text(error: Any, status: Any, body: Any) -> str:
    detail = error
    if isinstance(detail, dict) and "error" in detail:  # vLLM ErrorResponse, OpenAI body
        detail = detail["error"]
    if detail is None and isinstance(body, dict):
        detail = body.get("error", body)
    if isinstance(detail, dict):
        code = detail.get("code") or detail.get("type")
        message = detail.get("message") or json.dumps(detail)[:200]
        detail = f"{code}: {message}" if code else message
    text = " ".join(str(detail or "no answer").split())[:300]
    return f"HTTP {status}: {text}" if status not in (None, 200) else text
