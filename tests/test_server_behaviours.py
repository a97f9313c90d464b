"""`run` against the fake endpoint scripted to behave like real servers, with their real
error bodies: a schema-ignoring server, an 8k-context server, OpenAI reasoning models that
reject `max_tokens` or `temperature`, a server that requires strict schemas, a refusal and
a content filter. Each ends in the documented behaviour and the other articles complete."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from annotator.core.errors import ParameterRejected
from annotator.core.settings import resolve_endpoint
from annotator.core.yamlio import load_yaml
from annotator.pipeline.run import RunOptions, RunResult, run_pipeline
from tests.conftest import LLM_FIXTURES, ROOT, subprocess_env
from tests.fake_llm import FakeChatServer, messages_text

# another event than the samples', long enough to need splitting on an 8k-context model
LONG_PARAGRAPH = (
    "The harbour authority of Port Alden said on Tuesday that the new container crane, "
    "delivered in {n} sections by barge, would start work within the month. Union "
    "representative Mara Holt told the Alden Courier that crews had not been consulted "
    "about the schedule, a claim the authority denied in a written statement. "
)


def long_article(chars: int) -> str:
    parts, n = [], 0
    while sum(len(p) for p in parts) < chars:
        n += 1
        parts.append(LONG_PARAGRAPH.format(n=n) + "\n\n")
    return "Crane arrives in Port Alden\n\n" + "".join(parts)


def run(data: Path, out: Path, server: FakeChatServer, mode: str = "tools", **kw: Any) -> RunResult:
    endpoint_kw = {k: kw.pop(k) for k in ("context_tokens", "max_attempts") if k in kw}
    cfg = resolve_endpoint(base_url=server.base_url, model="m", mode=mode, **endpoint_kw)  # type: ignore[arg-type]
    kw.setdefault("max_adjudications", 0)  # these tests count extraction calls and entries
    return asyncio.run(run_pipeline(RunOptions(data, out, "llm", cfg, **kw)))


def manifest(result: RunResult) -> dict[str, Any]:
    data = load_yaml((result.run_dir / "manifest.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def cache_entries(out: Path) -> list[Path]:
    return [p for p in (out / ".cache").rglob("*.json") if "probe" not in p.parts]


def done(result: RunResult) -> list[str]:
    return sorted(s.id for s in result.statuses if s.status == "annotated")


# ------------------------------------------------------------------ schema-ignoring server


def test_schema_ignoring_server_fails_every_article_exit_1_nothing_cached(
    articles_dir: Path, tmp_path: Path
) -> None:
    """A server that ignores the schema in json mode answers `{"answer": ...}`: that must
    not become an "annotated" record with 0 claims (CLI in a subprocess)."""
    out = tmp_path / "out"
    with FakeChatServer(LLM_FIXTURES, ignore_schema=True) as server:
        proc = subprocess.run(
            [
                *(sys.executable, "-m", "annotator", "run", str(articles_dir), "-o", str(out)),
                *("--base-url", server.base_url, "--model", "m", "--mode", "json", "-q"),
            ],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=subprocess_env(),
            timeout=120,
        )
    assert proc.returncode == 1, proc.stderr
    failed = [ln for ln in proc.stderr.splitlines() if ln.startswith("annotate: failed ")]
    assert len(failed) == 5
    assert all("did not match the Extraction schema" in ln for ln in failed)
    assert "Traceback" not in proc.stderr
    assert cache_entries(out) == []  # never cache an answer that failed validation
    assert not list((out / "data" / "articles").glob("*.yaml"))


def test_ids_the_answer_does_not_list_are_re_asked(articles_dir: Path, tmp_path: Path) -> None:
    with FakeChatServer(LLM_FIXTURES) as server:
        original = server.responders["Extraction"]
        calls: list[int] = []

        def unlisted_once(body: dict[str, Any]) -> dict[str, Any]:
            answer = original(body)
            if "The Epoch Times contacted" in str(body["messages"]) and not calls:
                calls.append(1)
                answer = json.loads(json.dumps(answer))
                answer["claims"][0]["speaker"] = "p99"
            return answer

        server.add_responder("Extraction", unlisted_once)
        result = run(articles_dir, tmp_path / "out", server)
        asked = [
            r
            for r in server.chat_requests("Extraction")
            if "The Epoch Times contacted" in str(r["messages"])
        ]
    assert len(done(result)) == 5
    assert len(asked) == 2  # re-asked once, with the error in the messages
    assert "ids not listed" in json.dumps(asked[1]["messages"])


# ------------------------------------------------------------------ context window


def test_context_overflow_400_splits_the_article_and_completes(
    articles_dir: Path, tmp_path: Path
) -> None:
    (articles_dir / "harbour.txt").write_text(long_article(24_000), encoding="utf-8")
    with FakeChatServer(LLM_FIXTURES, context_tokens=8192) as server:
        # chunks of 20k characters: the samples go whole, the long article does not fit
        result = run(articles_dir, tmp_path / "out", server, max_attempts=2, chunk_chars=20_000)
        overflowing = [
            r
            for r in server.chat_requests("Extraction")
            if len(messages_text(r)) // 4 + 20 + r.get("max_tokens", 0) > 8192
        ]
    assert result.failed == []
    assert len(done(result)) == 6
    assert overflowing  # the first request did overflow and came back as HTTP 400
    harbour = next(s for s in result.statuses if s.id.startswith("harbour"))
    assert harbour.status == "annotated"


@pytest.mark.parametrize("how", ["option", "server"])
def test_known_context_window_sizes_chunks_up_front(
    articles_dir: Path, tmp_path: Path, how: str
) -> None:
    (articles_dir / "harbour.txt").write_text(long_article(24_000), encoding="utf-8")
    listed = 8192 if how == "server" else None
    with FakeChatServer(LLM_FIXTURES, context_tokens=8192, max_model_len=listed) as server:
        kw = {"context_tokens": 8192} if how == "option" else {}
        result = run(articles_dir, tmp_path / "out", server, **kw)
        sizes = [
            len(messages_text(r)) // 4 + 20 + r.get("max_tokens", 0) for r in server.chat_requests()
        ]
    assert result.failed == []
    assert max(sizes) <= 8192  # no request had to be refused first


# ------------------------------------------------------------------ rejected parameters


def test_rejected_max_tokens_switches_once_and_is_remembered(
    articles_dir: Path, tmp_path: Path
) -> None:
    with FakeChatServer(LLM_FIXTURES, reject_params={"max_tokens"}) as server:
        result = run(articles_dir, tmp_path / "out", server, concurrency=1)
        requests = server.chat_requests()
    assert len(done(result)) == 5
    rejected = [r for r in requests if "max_tokens" in r]
    assert len(rejected) == 1  # once for the endpoint, not once per article
    assert all("max_completion_tokens" in r for r in requests if "max_tokens" not in r)
    assert manifest(result)["run"]["request"]["token_limit"] == "max_completion_tokens"


def test_rejected_temperature_is_dropped_and_recorded(articles_dir: Path, tmp_path: Path) -> None:
    with FakeChatServer(LLM_FIXTURES, reject_params={"temperature"}) as server:
        result = run(articles_dir, tmp_path / "out", server, concurrency=1)
        requests = server.chat_requests()
    assert len(done(result)) == 5
    assert sum("temperature" in r for r in requests) == 1
    assert manifest(result)["run"]["request"]["omitted"] == ["temperature"]


def test_a_parameter_that_cannot_be_dropped_is_one_line_and_never_retried(
    articles_dir: Path, tmp_path: Path
) -> None:
    with FakeChatServer(
        LLM_FIXTURES, reject_params={"max_tokens", "max_completion_tokens"}
    ) as server:
        with pytest.raises(ParameterRejected) as caught:
            run(articles_dir, tmp_path / "out", server, concurrency=1)
        requests = server.chat_requests()
    message = str(caught.value)
    assert "'max_completion_tokens'" in message and "\n" not in message
    per_article: dict[str, list[str]] = {}
    for r in requests:
        per_article.setdefault(messages_text(r), []).append(
            "max_tokens" if "max_tokens" in r else "max_completion_tokens"
        )
    # max_tokens, then max_completion_tokens, then stop: no retry loop
    assert max(len(v) for v in per_article.values()) <= 2
    assert ["max_tokens", "max_completion_tokens"] in per_article.values()


# ------------------------------------------------------------------ strict schemas


def test_server_requiring_strict_schemas_gets_them_after_the_probe(
    articles_dir: Path, tmp_path: Path
) -> None:
    with FakeChatServer(LLM_FIXTURES, require_strict=True) as server:
        server.add_responder("ProbeAnswer", lambda body: {"city": "Lisbon", "year": 1755})
        result = run(articles_dir, tmp_path / "out", server, mode="auto")
        extraction = server.chat_requests("Extraction")
    assert result.failed == [] and len(done(result)) == 5
    assert extraction and all(r["tools"][0]["function"]["strict"] is True for r in extraction)
    assert manifest(result)["run"]["request"]["strict"] is True
    probe = json.loads(next((tmp_path / "out" / ".cache" / "probe").glob("*.json")).read_text())
    assert probe["chosen"] == "tools" and probe["results"][0]["strict"] is True


# ------------------------------------------------------------------ refusals


@pytest.mark.parametrize(
    ("fault", "words"), [("refusal", "refused"), ("content_filter", "content filter")]
)
def test_refusal_or_content_filter_is_one_line_not_reasked(
    articles_dir: Path, tmp_path: Path, fault: str, words: str
) -> None:
    with FakeChatServer(LLM_FIXTURES) as server:
        server.enqueue_fault(fault)
        result = run(articles_dir, tmp_path / "out", server, concurrency=1)
        requests = server.chat_requests("Extraction")
    assert len(result.failed) == 1
    error = result.failed[0].error or ""
    assert words in error and "\n" not in error
    assert len(done(result)) == 4
    assert len(requests) == 5  # the refused article was asked once: no re-ask
    assert len(cache_entries(tmp_path / "out")) == 4


# ------------------------------------------------------------------ deadline (issue 10 #13)


def test_deadline_is_a_hard_cap_per_article(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "one.txt").write_text(long_article(600), encoding="utf-8")
    with FakeChatServer(LLM_FIXTURES) as server:
        server.enqueue_fault("hang", count=5, hang_seconds=30)
        started = time.monotonic()
        proc = subprocess.run(
            [
                *(sys.executable, "-m", "annotator", "run", str(data), "-o", str(tmp_path / "o")),
                *("--base-url", server.base_url, "--model", "m", "--mode", "tools", "-q"),
                *("--timeout", "5", "--deadline", "6"),
            ],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=subprocess_env(),
            timeout=60,
        )
        elapsed = time.monotonic() - started
    assert proc.returncode == 1
    assert "--deadline 6s" in proc.stderr
    # the article's own time, as the manifest records it: 6 s, not 12 (two 5 s attempts);
    # the wall time adds the interpreter's start, which a busy machine stretches
    manifest = load_yaml((tmp_path / "o" / "data" / "manifest.yaml").read_text("utf-8"))
    (row,) = manifest["articles"]
    assert row["status"] == "failed"
    assert 5.5 <= row["seconds"] < 8.0, row
    assert elapsed < 30


def test_learned_parameters_are_remembered_by_the_next_run(
    articles_dir: Path, tmp_path: Path
) -> None:
    """Like the probe's mode, what a server rejected is kept in the cache folder: a
    second run (a new process would start with an empty memory) does not send it again."""
    from annotator.extract.llm import params

    with FakeChatServer(LLM_FIXTURES, reject_params={"max_tokens"}) as server:
        run(articles_dir, tmp_path / "out", server, concurrency=1)
        first = len(server.chat_requests())
        params._KNOWN.clear()  # as in a new process
        run(articles_dir, tmp_path / "out", server, concurrency=1, force=True)
        second = server.chat_requests()[first:]
    assert second and all("max_tokens" not in r for r in second)
    saved = list((tmp_path / "out" / ".cache" / "params").glob("*.json"))
    assert len(saved) == 1
    assert json.loads(saved[0].read_text())["token_limit"] == "max_completion_tokens"


def test_probe_under_rate_limit_says_so_in_one_line_and_caches_nothing(tmp_path: Path) -> None:
    """Issue 10 item 14, through the CLI: not "use a model that supports tool calling"."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "one.txt").write_text(long_article(600), encoding="utf-8")
    out = tmp_path / "o"
    with FakeChatServer(LLM_FIXTURES) as server:
        server.enqueue_fault("429", count=50, retry_after=0.01)
        proc = subprocess.run(
            [
                *(sys.executable, "-m", "annotator", "run", str(data), "-o", str(out)),
                *("--base-url", server.base_url, "--model", "m", "--mode", "auto"),
                *("--max-attempts", "3", "-q"),
            ],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=subprocess_env(),
            timeout=60,
        )
        probe_requests = len(server.chat_requests("ProbeAnswer"))
    assert proc.returncode == 1
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    assert "rate-limiting (HTTP 429) after 3 attempt(s)" in lines[0]
    assert "tool calling" not in lines[0]
    assert probe_requests == 3  # the run's --max-attempts, not a probe's own 2
    assert not (out / ".cache" / "probe").exists() or not any((out / ".cache" / "probe").iterdir())
