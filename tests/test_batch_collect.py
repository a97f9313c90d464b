"""Collecting batch results: bad answers, per-request errors, shuffled order, follow-up
batches without live calls, and a result file in vLLM run_batch's output format."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from annotator.core.settings import EndpointConfig
from annotator.core.yamlio import load_yaml
from annotator.extract.llm.batch_format import parse_result_line, split_lines
from annotator.extract.llm.client import INSTRUCTOR_MODES
from annotator.extract.llm.structured import StructuredFormat
from annotator.extract.schema import Extraction, QuoteFixes
from annotator.pipeline.batch import prepare, status, submit
from annotator.pipeline.batch_collect import collect
from annotator.pipeline.run import RunOptions, run_pipeline
from tests.conftest import LLM_FIXTURES
from tests.fake_batches import FakeBatchServer, vllm_line


def config(server: FakeBatchServer) -> EndpointConfig:
    return EndpointConfig(base_url=server.base_url, model="m", api_key="k", mode="tools")


def options(data: Path, out: Path, server: FakeBatchServer) -> RunOptions:
    return RunOptions(data, out, "llm", config(server))


def test_invalid_truncated_failed_and_shuffled_results(articles_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    with FakeBatchServer(LLM_FIXTURES, polls=0, shuffle_seed=7) as server:
        cfg = config(server)
        prepared = prepare(options(articles_dir, out, server), cfg)
        run_dir = prepared.run_dir
        asyncio.run(submit(run_dir, cfg))
        # request lines are in article order: 000 invalid JSON, 001 cut at the token
        # limit, 002 an HTTP 500 for that one request; 003 and 004 answer normally
        server.enqueue_fault("invalid_json")
        server.enqueue_fault("length")
        server.enqueue_fault("500")
        (state,) = asyncio.run(status(run_dir, cfg))
        assert state.counts == {"total": 5, "completed": 4, "failed": 1}
        output = server.files[state.output_file_id]["data"].decode().splitlines()
        order = [json.loads(x)["custom_id"] for x in output]
        requested = [json.loads(x)["custom_id"] for x in prepared.files[0].read_text().splitlines()]
        assert order != [c for c in requested if c in order]  # really shuffled
        n_batch = len(server.chat_requests())

        result = asyncio.run(collect(run_dir, cfg))
        live = server.chat_requests()[n_batch:]
        assert sorted(result.annotated) == [
            "000_76eae113c55e03b6",
            "001_63f0ae8f90ffef72",
            "003_325c0eea4893e8c8",
            "004_5ac8e587453deaa2",
        ]
        # the per-request error is reported for its article, which is not cached
        ((path, error),) = result.failed
        assert path.startswith("002_") and "batch batch_1" in error and "HTTP 500" in error
        # the invalid answer was re-asked live with the validation error
        reasks = [b for b in live if any(m.get("role") == "tool" for m in b["messages"])]
        assert len(reasks) == 1 and "Validation Error" in reasks[0]["messages"][-1]["content"]
        # the truncated answer was not parsed: its article was re-done live in two halves
        text_001 = (articles_dir / "001_63f0ae8f90ffef72.txt").read_text("utf-8")
        halves = [
            b
            for b in live
            if b.get("tools", [{}])[0].get("function", {}).get("name") == "Extraction"
            and text_001[:40] in b["messages"][-1]["content"]
            and b not in reasks
        ]
        assert len(halves) == 1  # the first half; the second starts later in the text
        assert result.live_calls == len(live)

        # `run` does the failed article live and takes the rest from the cache
        before = len(server.chat_requests("Extraction"))
        run = asyncio.run(run_pipeline(options(articles_dir, out, server)))
        assert {s.id: s.status for s in run.statuses}["002_82074e89d2ff2d49"] == "annotated"
        assert sum(s.status == "cached" for s in run.statuses) == 4
        assert len(server.chat_requests("Extraction")) - before == 1


def test_no_live_writes_a_follow_up_batch(articles_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    with FakeBatchServer(LLM_FIXTURES, polls=0) as server:
        cfg = config(server)
        run_dir = prepare(options(articles_dir, out, server), cfg).run_dir
        asyncio.run(submit(run_dir, cfg))
        server.enqueue_fault("invalid_json")
        asyncio.run(status(run_dir, cfg))
        n = len(server.chat_requests())
        first = asyncio.run(collect(run_dir, cfg, live=False))
        assert len(server.chat_requests()) == n and first.live_calls == 0
        assert [p.name for p in first.followup] == ["requests-2.jsonl"]
        follow = [json.loads(x) for x in first.followup[0].read_text().splitlines()]
        # the re-ask of 000 and the quote re-asks of articles whose quotes were not found
        assert any(any(m["role"] == "tool" for m in r["body"]["messages"]) for r in follow)
        assert "000_76eae113c55e03b6" in first.pending
        again = asyncio.run(collect(run_dir, cfg, live=False))  # nothing new to send
        assert again.followup == [] and again.pending == first.pending
        rounds = 0
        while first.pending and rounds < 4:
            asyncio.run(submit(run_dir, cfg))
            asyncio.run(status(run_dir, cfg))
            first = asyncio.run(collect(run_dir, cfg, live=False))
            rounds += 1
        assert first.pending == [] and first.failed == []
        assert server.chat_requests() == [] and len(server.batches) >= 2  # never live
        run = asyncio.run(run_pipeline(options(articles_dir, out, server)))
        assert all(s.status == "cached" for s in run.statuses)
        manifest = load_yaml((run_dir / "manifest.yaml").read_text("utf-8"))
        assert any("batch_2" in row["batch"] for row in manifest["articles"])


def test_collect_results_file_in_vllm_run_batch_format(articles_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    with FakeBatchServer(LLM_FIXTURES) as server:
        cfg = config(server)
        prepared = prepare(options(articles_dir, out, server), cfg)
        requests = [json.loads(x) for x in prepared.files[0].read_text().splitlines()]
        lines = []
        for n, req in enumerate(requests):
            if n == 2:
                lines.append(
                    vllm_line(req["custom_id"], None, "Request must not be sent in stream mode")
                )
                continue
            _, _, payload = server.answer(req["body"])
            lines.append(vllm_line(req["custom_id"], json.loads(payload), None))
        results = tmp_path / "results.jsonl"
        results.write_text("\n".join(reversed(lines)) + "\n", encoding="utf-8")
        n = len(server.chat_requests())
        got = asyncio.run(collect(prepared.run_dir, cfg, results=[results], live=False))
        assert len(server.chat_requests()) == n  # no live call
        assert got.failed and "stream mode" in got.failed[0][1] and "HTTP 400" in got.failed[0][1]
        done = set(got.annotated) | set(got.pending)
        assert len(done) == 4 and got.followup  # quote re-asks go to a follow-up file
        # the result file is kept with the run, so later collects see it without --results
        assert list((prepared.run_dir / "batch" / "results").glob("results.*.jsonl"))


def test_vllm_and_openai_result_lines_parse_alike() -> None:
    ok = parse_result_line(
        vllm_line("a", {"choices": [{"message": {"tool_calls": [{}]}}], "usage": {}}, None)
    )
    assert ok is not None and ok.completion is not None and ok.error is None
    err = parse_result_line(vllm_line("b", None, "bad request"))
    assert err is not None and err.error == "HTTP 400: bad request"
    openai_err = {
        "id": "batch_req_1",
        "custom_id": "c",
        "response": {
            "status_code": 429,
            "request_id": "r",
            "body": {"error": {"message": "slow down", "code": "rate_limit"}},
        },
        "error": None,
    }
    parsed = parse_result_line(json.dumps(openai_err))
    assert parsed is not None and parsed.error == "HTTP 429: rate_limit: slow down"
    expired = {
        "id": "x",
        "custom_id": "d",
        "response": None,
        "error": {"code": "batch_expired", "message": "expired"},
    }
    parsed = parse_result_line(json.dumps(expired))
    assert parsed is not None and parsed.error == "batch_expired: expired"
    assert parse_result_line("  ") is None
    with pytest.raises(ValueError):
        parse_result_line('{"no": "id"}')


def test_files_split_under_both_limits() -> None:
    lines = [f'{{"custom_id":"{i:064d}"}}' for i in range(25)]
    by_count = list(split_lines(lines, max_requests=10, max_bytes=10**9))
    assert [len(p) for p in by_count] == [10, 10, 5]
    size = len(lines[0]) + 1
    by_bytes = list(split_lines(lines, max_requests=50_000, max_bytes=size * 7 + 3))
    assert [len(p) for p in by_bytes] == [7, 7, 7, 4]
    assert [x for p in by_bytes for x in p] == lines


@pytest.mark.parametrize("mode", ["tools", "json_schema", "json"])
@pytest.mark.parametrize("model", [Extraction, QuoteFixes])
def test_request_body_is_what_instructor_builds(mode: str, model: Any) -> None:
    from instructor.processing.response import handle_response_model

    messages = [{"role": "system", "content": "You annotate."}, {"role": "user", "content": "Text"}]
    params = {"model": "m", "temperature": 0.0, "max_tokens": 4096}
    fmt = StructuredFormat(model, INSTRUCTOR_MODES[mode])
    _, expected = handle_response_model(
        model, mode=INSTRUCTOR_MODES[mode], messages=messages, **params
    )
    assert fmt.body(messages, **params) == expected
    assert json.dumps(fmt.body(messages, **params)) == json.dumps(fmt.body(messages, **params))


def test_requests_split_over_files_and_batches(articles_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    with FakeBatchServer(LLM_FIXTURES, polls=0, shuffle_seed=3) as server:
        cfg = config(server)
        prepared = prepare(options(articles_dir, out, server), cfg, max_requests=2)
        assert [p.name for p in prepared.files] == [
            "requests.jsonl",
            "requests-2.jsonl",
            "requests-3.jsonl",
        ]
        assert [len(p.read_text().splitlines()) for p in prepared.files] == [2, 2, 1]
        submitted = asyncio.run(submit(prepared.run_dir, cfg))
        assert [e["batch_id"] for e in submitted] == ["batch_1", "batch_2", "batch_3"]
        assert asyncio.run(submit(prepared.run_dir, cfg)) == []  # nothing twice
        result = asyncio.run(collect(prepared.run_dir, cfg))
        assert len(result.annotated) == 5 and result.failed == [] and result.unknown == 0
        assert result.downloaded == ["batch_1", "batch_2", "batch_3"]
        run = asyncio.run(run_pipeline(options(articles_dir, out, server)))
        assert {s.batch for s in run.statuses} == {"batch_1", "batch_2", "batch_3"}


def test_a_failed_batch_is_reported_and_prepared_again(articles_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    with FakeBatchServer(LLM_FIXTURES, polls=0) as server:
        cfg = config(server)
        run_dir = prepare(options(articles_dir, out, server), cfg).run_dir
        asyncio.run(submit(run_dir, cfg))
        server.fail_batches = True
        first = asyncio.run(collect(run_dir, cfg))
        assert first.ended == ["batch_1 failed: model not found"]
        assert len(first.pending) == 5 and first.annotated == []
        server.fail_batches = False
        again = prepare(options(articles_dir, out, server), cfg)  # allowed: nothing open
        assert again.requests == 5
        asyncio.run(submit(run_dir, cfg))
        done = asyncio.run(collect(run_dir, cfg))
        assert len(done.annotated) == 5 and done.downloaded == ["batch_2"]
