"""`annotate batch prepare|submit|status|collect` as a user runs them: separate processes
against the fake Files + Batches server (tests/fake_batches.py), then `annotate run`."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from annotator.core.yamlio import load_yaml
from tests.conftest import LLM_FIXTURES, ROOT, subprocess_env
from tests.fake_batches import FakeBatchServer, vllm_line

ANNOTATE = [sys.executable, "-m", "annotator"]


def annotate(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*ANNOTATE, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=subprocess_env(OPENAI_API_KEY="sk-test-batch-key-0123456789"),
        timeout=timeout,
    )


def ok(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 0, proc.stderr
    return proc.stderr


@pytest.fixture
def batch_server() -> Iterator[FakeBatchServer]:
    with FakeBatchServer(LLM_FIXTURES, polls=1) as server:
        yield server


# `run --backend llm` also asks the model "same claim?" for uncertain claim pairs (live
# calls, not batched): these tests count extraction calls, so the judge is off; README
# "Large runs" says so
NO_JUDGE = ("--max-adjudications", "0")


def endpoint(server: FakeBatchServer) -> list[str]:
    return ["--base-url", server.base_url, "--model", "m", "--mode", "tools"]


def run_files(run_dir: Path) -> dict[str, str]:
    """Records (minus the `created` time of the answer) and event.yaml, as text."""
    out = {
        p.name: re.sub(r"(?m)^  created: .*\n", "", p.read_text("utf-8"))
        for p in sorted((run_dir / "articles").glob("*.yaml"))
    }
    out["event.yaml"] = (run_dir / "event.yaml").read_text("utf-8")
    return out


def test_prepare_submit_status_collect_run_equals_a_live_run(
    articles_dir: Path, tmp_path: Path, batch_server: FakeBatchServer
) -> None:
    live_out, batch_out = tmp_path / "live", tmp_path / "batch"
    ok(
        annotate(
            "run",
            str(articles_dir),
            "--out",
            str(live_out),
            *endpoint(batch_server),
            *NO_JUDGE,
            "-q",
        )
    )
    live_calls = len(batch_server.chat_requests())
    requotes = len(batch_server.chat_requests("QuoteFixes"))
    assert live_calls == 5 + requotes and requotes > 0

    said = ok(
        annotate(
            "batch", "prepare", str(articles_dir), "--out", str(batch_out), *endpoint(batch_server)
        )
    )
    run_dir = batch_out / "data"
    assert "5 requests for 5 articles (0 already cached)" in said
    lines = (run_dir / "batch" / "requests.jsonl").read_text("utf-8").splitlines()
    assert len(lines) == 5
    # each line is exactly the body the live run sent, keyed by its cache key
    live_bodies = batch_server.chat_requests("Extraction")
    for line in lines:
        req = json.loads(line)
        assert req["method"] == "POST" and req["url"] == "/v1/chat/completions"
        assert re.fullmatch(r"[0-9a-f]{64}", req["custom_id"])
        assert req["body"] in live_bodies

    said = ok(annotate("batch", "submit", str(run_dir)))
    assert "submitted requests.jsonl as batch batch_1" in said
    said = ok(annotate("batch", "status", str(run_dir)))
    assert "batch batch_1: in_progress" in said
    said = ok(annotate("batch", "status", str(run_dir), "--wait", "30"))
    assert "batch batch_1: completed, 5/5 done, 0 failed" in said
    said = ok(annotate("batch", "collect", str(run_dir)))
    # quotes that grounding cannot find are re-asked, live, exactly as the live run did
    assert f"5 articles collected, 0 already cached, 0 failed, 0 waiting; {requotes} live" in said
    assert len(batch_server.chat_requests()) == live_calls + requotes

    before = len(batch_server.chat_requests())
    ok(
        annotate(
            "run",
            str(articles_dir),
            "--out",
            str(batch_out),
            *endpoint(batch_server),
            *NO_JUDGE,
            "-q",
        )
    )
    assert len(batch_server.chat_requests()) == before  # zero live calls
    assert run_files(run_dir) == run_files(live_out / "data")
    manifest = load_yaml((run_dir / "manifest.yaml").read_text("utf-8"))
    assert manifest["totals"]["cached"] == 5
    assert {row["batch"] for row in manifest["articles"]} == {"batch_1"}
    assert (run_dir / "report.html").exists()
    said = ok(
        annotate(
            "batch", "prepare", str(articles_dir), "--out", str(batch_out), *endpoint(batch_server)
        )
    )
    assert "0 requests for 0 articles (5 already cached)" in said  # cached: left out
    # the API key went in headers only
    assert "sk-test-batch" not in (run_dir / "batch" / "state.json").read_text("utf-8")


def test_killed_collect_can_be_run_again(
    articles_dir: Path, tmp_path: Path, batch_server: FakeBatchServer
) -> None:
    out = tmp_path / "out"
    ok(annotate("batch", "prepare", str(articles_dir), "--out", str(out), *endpoint(batch_server)))
    run_dir = out / "data"
    ok(annotate("batch", "submit", str(run_dir)))
    ok(annotate("batch", "status", str(run_dir), "--wait", "30"))
    batch_server.latency = 0.5  # the live quote re-ask is slow: kill collect during it
    proc = subprocess.Popen(
        [*ANNOTATE, "batch", "collect", str(run_dir), "--concurrency", "1"],
        cwd=ROOT,
        env=subprocess_env(OPENAI_API_KEY="sk-test-batch-key-0123456789"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    cache = out / ".cache"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(list(cache.glob("??/*.json"))) < 2:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    assert len(list(cache.glob("??/*.json"))) >= 2
    assert not [p for p in out.rglob("*") if p.name.startswith(".") and "tmp" in p.name]
    batch_server.latency = 0.0
    said = ok(annotate("batch", "collect", str(run_dir)))
    m = re.search(r"(\d+) articles collected, (\d+) already cached, 0 failed", said)
    assert m and int(m.group(1)) + int(m.group(2)) == 5 and int(m.group(2)) >= 1
    said = ok(annotate("batch", "collect", str(run_dir)))  # idempotent
    assert "0 articles collected, 5 already cached" in said
    before = len(batch_server.chat_requests())
    ok(
        annotate(
            "run", str(articles_dir), "--out", str(out), *endpoint(batch_server), *NO_JUDGE, "-q"
        )
    )
    assert len(batch_server.chat_requests()) == before


def test_collect_results_from_vllm_run_batch(
    articles_dir: Path, tmp_path: Path, batch_server: FakeBatchServer
) -> None:
    out = tmp_path / "out"
    ok(annotate("batch", "prepare", str(articles_dir), "--out", str(out), *endpoint(batch_server)))
    run_dir = out / "data"
    requests = [
        json.loads(x) for x in (run_dir / "batch" / "requests.jsonl").read_text().splitlines()
    ]
    lines = [
        vllm_line(r["custom_id"], json.loads(batch_server.answer(r["body"])[2]), None)
        for r in requests[1:]
    ]
    lines.append(vllm_line(requests[0]["custom_id"], None, "CUDA out of memory"))
    results = tmp_path / "results.jsonl"
    results.write_text("\n".join(lines) + "\n", encoding="utf-8")
    proc = annotate("batch", "collect", str(run_dir), "--results", str(results), "--no-live")
    assert proc.returncode == 1  # one article failed: reported, the others collected
    assert "failed 000_76eae113c55e03b6.txt: batch results." in proc.stderr
    assert "HTTP 400: CUDA out of memory" in proc.stderr
    assert "wrote follow-up requests" in proc.stderr and "0 live calls" in proc.stderr
    assert batch_server.chat_requests() == []
