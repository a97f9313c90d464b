"""The network layer over a real socket: the openai client, instructor and tenacity run
for real against the local fake endpoint, scripted to fail."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
from pydantic import BaseModel

from annotator.core.errors import (
    EndpointError,
    EndpointUnreachable,
    ExtractionInvalid,
    ModeUnsupported,
    OutputTruncated,
)
from annotator.core.settings import resolve_endpoint
from annotator.extract.llm.client import StructuredClient, retry_after_seconds
from tests.fake_llm import FakeChatServer


class Answer(BaseModel):
    word: str
    n: int


MESSAGES = [{"role": "user", "content": "Say hi and give the number 3."}]


def ask(server: FakeChatServer, mode: str = "tools", **cfg: Any) -> Any:
    async def go() -> Any:
        client = StructuredClient(
            resolve_endpoint(base_url=server.base_url, model="m", mode=mode, **cfg)
        )  # type: ignore[arg-type]
        try:
            return await client.complete(MESSAGES, Answer)
        finally:
            await client.aclose()

    return asyncio.run(go())


@pytest.fixture
def server() -> Any:
    with FakeChatServer() as s:
        s.add_responder("Answer", lambda body: {"word": "hi", "n": 3})
        yield s


@pytest.mark.parametrize("mode", ["tools", "json_schema", "json"])
def test_each_mode_round_trips_with_usage(server: FakeChatServer, mode: str) -> None:
    done = ask(server, mode)
    assert done.value.model_dump() == {"word": "hi", "n": 3}
    assert done.attempts == 1
    assert done.usage.total_tokens > 0
    body = server.chat_requests()[-1]
    if mode == "tools":
        assert body["tools"][0]["function"]["name"] == "Answer"
    elif mode == "json_schema":
        assert body["response_format"]["type"] == "json_schema"
    else:
        assert body["response_format"]["type"] == "json_object"


@pytest.mark.parametrize("mode", ["tools", "json_schema", "json"])
def test_the_fake_answers_each_mode_in_its_own_wire_format(
    server: FakeChatServer, mode: str
) -> None:
    ask(server, mode)
    message = server.responses[-1]["choices"][0]["message"]
    if mode == "tools":
        assert message["tool_calls"][0]["function"]["name"] == "Answer"
        assert message["content"] is None
    else:
        assert "tool_calls" not in message and json.loads(message["content"])["n"] == 3


@pytest.mark.parametrize("mode", ["tools", "json_schema"])
def test_an_answer_in_another_mode_s_wire_format_is_not_accepted(mode: str) -> None:
    """So a test that every mode gives the same records can fail: the client only takes
    a tool call in tools mode and only content in json_schema mode."""
    with FakeChatServer(swap_wire_formats=True) as s:
        s.add_responder("Answer", lambda body: {"word": "hi", "n": 3})
        with pytest.raises(EndpointError):
            ask(s, mode)


def test_429_honours_retry_after_then_succeeds(server: FakeChatServer) -> None:
    server.enqueue_fault("429", retry_after=0.6)
    t0 = time.perf_counter()
    done = ask(server)
    assert done.attempts == 2
    assert time.perf_counter() - t0 >= 0.6


def test_500s_are_retried_with_backoff(server: FakeChatServer) -> None:
    server.enqueue_fault("500", count=3)
    assert ask(server).attempts == 4
    assert len(server.chat_requests()) == 4


def test_retries_stop_at_max_attempts_with_one_line_error(server: FakeChatServer) -> None:
    server.enqueue_fault("500", count=10)
    with pytest.raises(EndpointError) as info:
        ask(server, max_attempts=3)
    assert "HTTP 500 after 3 attempt(s)" in str(info.value)
    assert "\n" not in str(info.value)
    assert len(server.chat_requests()) == 3


def test_hang_times_out_and_is_retried(server: FakeChatServer) -> None:
    server.enqueue_fault("hang", hang_seconds=3)
    t0 = time.perf_counter()
    done = ask(server, timeout=1.0)
    assert done.attempts == 2
    assert time.perf_counter() - t0 < 3


def test_total_deadline_bounds_all_attempts(server: FakeChatServer) -> None:
    server.enqueue_fault("hang", count=10, hang_seconds=2)
    t0 = time.perf_counter()
    with pytest.raises(EndpointError, match="timed out") as info:
        ask(server, timeout=1.0, deadline=2.5, max_attempts=10)
    assert time.perf_counter() - t0 < 6
    # the line says what to change for a server that answers one request at a time
    assert "--concurrency 1" in str(info.value) and "\n" not in str(info.value)


def test_dropped_connection_is_retried(server: FakeChatServer) -> None:
    server.enqueue_fault("disconnect")
    assert ask(server).attempts == 2


def test_invalid_json_is_reasked_by_instructor(server: FakeChatServer) -> None:
    server.enqueue_fault("invalid_json")
    assert ask(server).value.n == 3
    reask = server.chat_requests()[-1]["messages"]
    assert len(reask) > len(MESSAGES)  # the error went back to the model


def test_truncated_json_every_time_is_an_extraction_error(server: FakeChatServer) -> None:
    server.enqueue_fault("truncated", count=5)
    with pytest.raises(ExtractionInvalid) as info:
        ask(server)
    assert "Answer schema" in str(info.value) and "\n" not in str(info.value)


def test_finish_reason_length_is_never_parsed(server: FakeChatServer) -> None:
    server.enqueue_fault("length")
    with pytest.raises(OutputTruncated, match="finish_reason 'length'"):
        ask(server)


def test_tool_call_cut_at_the_token_limit_is_truncation_even_without_length() -> None:
    # llama-cpp-python reports finish_reason "tool_calls" for a call cut at max_tokens
    with FakeChatServer() as s:
        s.add_responder("Answer", lambda body: {"word": "x" * 400, "n": 3})
        s.enqueue_fault("truncated", count=3)

        async def go() -> None:
            cfg = resolve_endpoint(base_url=s.base_url, model="m", mode="tools", max_tokens=64)
            client = StructuredClient(cfg)
            try:
                await client.complete(MESSAGES, Answer)
            finally:
                await client.aclose()

        with pytest.raises(OutputTruncated, match="token limit"):
            asyncio.run(go())


def test_rejected_mode_is_not_retried_and_says_what_to_do() -> None:
    with FakeChatServer(reject_json_schema=True) as s:
        s.add_responder("Answer", lambda body: {"word": "hi", "n": 3})
        with pytest.raises(ModeUnsupported) as info:
            ask(s, "json_schema")
        assert len(s.chat_requests()) == 1
    msg = str(info.value)
    assert "'json_schema'" in msg and "--mode auto" in msg and "--mode tools" in msg


def test_unreachable_endpoint_says_what_to_check() -> None:
    async def go() -> None:
        client = StructuredClient(
            resolve_endpoint(base_url="http://127.0.0.1:9/v1", model="m", max_attempts=2)
        )
        try:
            await client.complete(MESSAGES, Answer)
        finally:
            await client.aclose()

    with pytest.raises(EndpointUnreachable, match="--base-url"):
        asyncio.run(go())


def test_api_key_is_sent_but_never_in_errors(
    server: FakeChatServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = "sk-test-SECRET-abcdef0123456789"
    monkeypatch.setenv("OPENAI_API_KEY", key)
    server.enqueue_fault("500", count=10)
    with pytest.raises(EndpointError) as info:
        ask(server, max_attempts=2)
    assert server.headers[-1]["authorization"] == f"Bearer {key}"
    assert key not in str(info.value) and key[:8] not in str(info.value)


def test_retry_after_parsing() -> None:
    class R:
        def __init__(self, headers: dict[str, str]) -> None:
            self.headers = headers

    class E(Exception):
        def __init__(self, headers: dict[str, str]) -> None:
            self.response = R(headers)

    assert retry_after_seconds(E({"retry-after": "2"})) == 2.0
    assert retry_after_seconds(E({"retry-after-ms": "1500"})) == 1.5
    assert retry_after_seconds(E({})) is None
    assert retry_after_seconds(ValueError()) is None
