"""The mode probe over a real socket: the fake endpoint rejects json_schema (as
llama-cpp-python's server does), ignores schemas (as some vLLM / llama.cpp releases did),
fails, or answers well, and the probe must classify each mode honestly."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from annotator.core.errors import EndpointError, EndpointUnreachable, ModeUnsupported
from annotator.core.settings import EndpointConfig, resolve_endpoint
from annotator.extract.llm.probe import (
    PROBE_CITY,
    PROBE_MAX_TOKENS,
    PROBE_YEAR,
    ProbeReport,
    probe_cache_path,
    probe_endpoint,
    resolve_mode,
)
from tests.fake_llm import FakeChatServer

RIGHT = {"city": PROBE_CITY, "year": PROBE_YEAR}


def right_answer(body: dict[str, Any]) -> dict[str, Any]:
    return dict(RIGHT)


def config(
    server: FakeChatServer, *, mode: str = "auto", model: str = "fake-model", **kw: Any
) -> EndpointConfig:
    return resolve_endpoint(
        base_url=server.base_url,
        model=model,
        mode=mode,  # type: ignore[arg-type]
        **kw,
    )


def probe(server: FakeChatServer, **kw: Any) -> ProbeReport:
    return asyncio.run(probe_endpoint(config(server), **kw))


@pytest.fixture
def llama_like() -> Iterator[FakeChatServer]:
    """Answers tools and json modes, rejects json_schema with HTTP 500."""
    with FakeChatServer(reject_json_schema=True) as s:
        s.add_responder("ProbeAnswer", right_answer)
        yield s


@pytest.fixture
def ignoring() -> Iterator[FakeChatServer]:
    """Answers every mode with JSON in its own shape, whatever the schema."""
    with FakeChatServer(ignore_schema=True) as s:
        s.add_responder("ProbeAnswer", right_answer)
        yield s


def statuses(report: ProbeReport) -> dict[str, str]:
    return {r.mode: r.status for r in report.results}


def test_llama_like_server_tools_works_json_schema_fails(llama_like: FakeChatServer) -> None:
    report = probe(llama_like)
    assert statuses(report) == {"tools": "works", "json_schema": "fails", "json": "works"}
    assert report.chosen == "tools"
    failed = report.result("json_schema")
    assert failed is not None
    assert "HTTP 500" in failed.detail and "json_object" in failed.detail
    assert "\n" not in failed.detail and len(failed.detail) <= 160
    assert all(r.latency >= 0 for r in report.results)
    assert report.model == "fake-model" and report.base_url == llama_like.base_url


def test_probe_requests_are_small_and_not_re_asked(ignoring: FakeChatServer) -> None:
    report = probe(ignoring)
    assert statuses(report) == {
        "tools": "ignores_schema",
        "json_schema": "ignores_schema",
        "json": "ignores_schema",
    }
    assert report.chosen is None
    requests = ignoring.chat_requests()
    # validation_retries=0: no re-ask; tools and json_schema are tried with the lenient
    # schema, then (as it did not work) the strict one
    assert len(requests) == 5
    assert all(r["max_tokens"] == PROBE_MAX_TOKENS for r in requests)
    assert [bool(r.get("tools")) for r in requests] == [True, True, False, False, False]
    assert [(r.get("response_format") or {}).get("type") for r in requests] == [
        None,
        None,
        "json_schema",
        "json_schema",
        "json_object",
    ]
    strict = [
        bool(r["tools"][0]["function"].get("strict"))
        if r.get("tools")
        else bool((r.get("response_format") or {}).get("json_schema", {}).get("strict"))
        for r in requests
    ]
    assert strict == [False, True, False, True, False]


def test_first_working_mode_in_order_is_chosen() -> None:
    with FakeChatServer() as s:
        # the tool call comes back in another shape; JSON content is right
        s.add_responder(
            "ProbeAnswer", lambda body: {"answer": "no"} if body.get("tools") else dict(RIGHT)
        )
        report = probe(s)
    assert statuses(report) == {"tools": "ignores_schema", "json_schema": "works", "json": "works"}
    assert report.chosen == "json_schema"


def test_chosen_follows_the_fixed_order_whatever_order_was_probed(
    llama_like: FakeChatServer,
) -> None:
    report = probe(llama_like, modes=("json", "tools"))
    assert [r.mode for r in report.results] == ["json", "tools"]
    assert report.chosen == "tools"


def test_schema_valid_but_wrong_values_still_works_and_says_so() -> None:
    with FakeChatServer() as s:
        s.add_responder("ProbeAnswer", lambda body: {"city": "Paris", "year": 1889})
        report = probe(s, modes=("tools",))
    assert statuses(report) == {"tools": "works"}
    assert "differ" in report.results[0].detail


def test_transient_server_errors_are_retried_with_the_run_policy() -> None:
    with FakeChatServer() as s:
        s.add_responder("ProbeAnswer", right_answer)
        s.enqueue_fault("500", count=2)  # the tools probe's first two attempts
        report = asyncio.run(probe_endpoint(config(s, max_attempts=3)))
        tools_requests = [r for r in s.chat_requests() if r.get("tools")]
    assert statuses(report) == {"tools": "works", "json_schema": "works", "json": "works"}
    assert len(tools_requests) == 3  # retried, then answered: a transient fault is no verdict
    assert report.chosen == "tools"


@pytest.mark.parametrize(
    ("fault", "words"),
    [("429", "rate-limiting (HTTP 429)"), ("500", "HTTP 500"), ("401", "rejected the API key")],
)
def test_persistent_transport_fault_or_bad_key_is_said_and_never_cached(
    tmp_path: Path, fault: str, words: str
) -> None:
    """Issue 10 item 14: a rate limit, server error or rejected key is reported as what it
    is, in one line, never as "mode fails", and nothing is cached."""
    with FakeChatServer() as s:
        s.add_responder("ProbeAnswer", right_answer)
        s.enqueue_fault(fault, count=1 if fault == "401" else 2, retry_after=0.01)
        cfg = config(s, max_attempts=2)
        with pytest.raises(EndpointError) as caught:
            asyncio.run(resolve_mode(cfg, tmp_path))
        message = str(caught.value)
        assert words in message and "\n" not in message
        assert "tool calling" not in message  # not the "use another model" advice
        assert not probe_cache_path(tmp_path, cfg.base_url, cfg.model).exists()
        # with the fault gone the next run probes afresh and succeeds
        assert asyncio.run(resolve_mode(cfg, tmp_path)) == "tools"


def test_unreachable_endpoint_raises_instead_of_recording_modes() -> None:
    cfg = resolve_endpoint(base_url="http://127.0.0.1:9/v1", model="m")
    with pytest.raises(EndpointUnreachable, match="cannot connect"):
        asyncio.run(probe_endpoint(cfg))


# ------------------------------------------------------------------ resolve_mode


def test_explicit_mode_is_returned_without_a_request(
    llama_like: FakeChatServer, tmp_path: Path
) -> None:
    assert asyncio.run(resolve_mode(config(llama_like, mode="json_schema"), tmp_path)) == (
        "json_schema"
    )
    assert llama_like.chat_requests() == []
    assert not (tmp_path / "probe").exists()


def test_auto_probes_once_then_uses_the_cache(
    llama_like: FakeChatServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROBE_TEST_KEY", "sk-probe-SECRET-0123456789")
    cfg = config(llama_like, api_key_env="PROBE_TEST_KEY")
    assert asyncio.run(resolve_mode(cfg, tmp_path)) == "tools"
    probed = len(llama_like.chat_requests())
    assert probed == 3
    path = probe_cache_path(tmp_path, cfg.base_url, cfg.model)
    assert path.parent == tmp_path / "probe"
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["chosen"] == "tools" and data["model"] == "fake-model"
    assert [r["status"] for r in data["results"]] == ["works", "fails", "works"]
    assert "SECRET" not in path.read_text(encoding="utf-8")
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp file left

    assert asyncio.run(resolve_mode(cfg, tmp_path)) == "tools"
    assert len(llama_like.chat_requests()) == probed  # cache hit: no request at all


def test_cache_is_per_endpoint_and_model(llama_like: FakeChatServer, tmp_path: Path) -> None:
    asyncio.run(resolve_mode(config(llama_like), tmp_path))
    asyncio.run(resolve_mode(config(llama_like, model="other-model"), tmp_path))
    assert len(llama_like.chat_requests()) == 6
    assert len(list((tmp_path / "probe").iterdir())) == 2


def test_corrupt_or_foreign_cache_entry_is_ignored(
    llama_like: FakeChatServer, tmp_path: Path
) -> None:
    cfg = config(llama_like)
    path = probe_cache_path(tmp_path, cfg.base_url, cfg.model)
    path.parent.mkdir(parents=True)
    path.write_text("{not json", encoding="utf-8")
    assert asyncio.run(resolve_mode(cfg, tmp_path)) == "tools"
    data = json.loads(path.read_text(encoding="utf-8"))  # rewritten, valid
    data["model"] = "someone-else"
    data["chosen"] = "json"
    path.write_text(json.dumps(data), encoding="utf-8")
    before = len(llama_like.chat_requests())
    assert asyncio.run(resolve_mode(cfg, tmp_path)) == "tools"
    assert len(llama_like.chat_requests()) == before + 3


def test_no_cache_dir_probes_every_time(llama_like: FakeChatServer) -> None:
    assert asyncio.run(resolve_mode(config(llama_like), None)) == "tools"
    assert asyncio.run(resolve_mode(config(llama_like), None)) == "tools"
    assert len(llama_like.chat_requests()) == 6


def test_no_working_mode_raises_one_line_advice_and_caches_nothing(
    ignoring: FakeChatServer, tmp_path: Path
) -> None:
    with pytest.raises(ModeUnsupported) as info:
        asyncio.run(resolve_mode(config(ignoring), tmp_path))
    message = str(info.value)
    assert "\n" not in message
    assert "no structured-output mode works" in message
    assert "tools: ignores_schema" in message and "json: ignores_schema" in message
    assert "--backend rules" in message
    assert not (tmp_path / "probe").exists()


def test_an_answer_the_sdk_chokes_on_is_a_failure_not_a_crash(
    llama_like: FakeChatServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from annotator.extract.llm.client import StructuredClient

    async def choke(self: StructuredClient, *args: Any, **kwargs: Any) -> Any:
        if self.mode == "tools":
            raise AttributeError("'NoneType' object has no attribute 'tool_calls'")
        return await real(self, *args, **kwargs)

    real = StructuredClient.complete
    monkeypatch.setattr(StructuredClient, "complete", choke)
    report = probe(llama_like)
    assert statuses(report) == {"tools": "fails", "json_schema": "fails", "json": "works"}
    assert report.results[0].detail.startswith("AttributeError:")
    assert report.chosen == "json"
