"""A llama.cpp server with fewer parallel slots than the default --concurrency gets no
more requests at once than it has slots (it would queue them until they time out), unless
the user chose the concurrency; any other server keeps it. Against the fake endpoint
taught llama.cpp's GET /props and GET /slots, with the CLI in a separate process."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from annotator.core.settings import resolve_endpoint
from annotator.core.yamlio import load_yaml
from annotator.extract.llm.slots import fit_concurrency, server_root, server_slots, slots_in
from tests.conftest import LLM_FIXTURES, ROOT, subprocess_env
from tests.fake_llm import FakeChatServer


def annotate(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "annotator", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=subprocess_env(COLUMNS="240", **env),
        timeout=180,
    )


def run_args(server: FakeChatServer, data: Path, out: Path, *extra: str) -> list[str]:
    return [
        "run", str(data), "-o", str(out), "--base-url", server.base_url, "--model", "m",
        "--mode", "tools", "--max-adjudications", "4", *extra,
    ]  # fmt: skip


def manifest_run(out: Path) -> dict[str, Any]:
    return dict(load_yaml((out / "data" / "manifest.yaml").read_text("utf-8"))["run"])


def slot_probes(server: FakeChatServer) -> list[str]:
    return [p for p in server.gets if p.rstrip("/").endswith(("/props", "/slots"))]


def test_run_sends_no_more_requests_than_the_server_has_slots(
    articles_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    with FakeChatServer(LLM_FIXTURES, latency=0.1, slots=1) as server:
        proc = annotate(*run_args(server, articles_dir, out))
        assert proc.returncode == 0, proc.stderr
        assert server.max_in_flight == 1  # extraction and the judge alike
        assert slot_probes(server) == ["/props"]  # probed once, at the root beside /v1
        assert len(server.chat_requests("SameClaim")) == 4
    line = (
        f"annotate: the server at {server.base_url} reports 1 slot(s): sending at most 1 "
        "request(s) at a time instead of 8; pass --concurrency to choose"
    )
    assert proc.stderr.count(line) == 1, proc.stderr  # run's progress and lines go to stderr
    run = manifest_run(out)
    assert run["concurrency"] == 1
    assert run["concurrency_note"] == line.removeprefix("annotate: ")
    assert run["reconcile"]["adjudication"]["concurrency"] == 1


@pytest.mark.parametrize("how", ["option", "env"])
def test_a_concurrency_the_user_chose_is_kept(articles_dir: Path, tmp_path: Path, how: str) -> None:
    out = tmp_path / "out"
    with FakeChatServer(LLM_FIXTURES, latency=0.3, slots=1) as server:
        if how == "option":
            proc = annotate(*run_args(server, articles_dir, out, "--concurrency", "3"))
        else:
            proc = annotate(*run_args(server, articles_dir, out), ANNOTATE_CONCURRENCY="3")
        assert proc.returncode == 0, proc.stderr
        assert slot_probes(server) == []  # not even asked
        assert 1 < server.max_in_flight <= 3
    assert "slot(s)" not in proc.stderr + proc.stdout
    run = manifest_run(out)
    assert run["concurrency"] == 3 and "concurrency_note" not in run


def test_other_servers_keep_the_default(articles_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    with FakeChatServer(LLM_FIXTURES) as server:  # 404 for /props and /slots
        proc = annotate(*run_args(server, articles_dir, out))
        assert proc.returncode == 0, proc.stderr
        assert slot_probes(server) == ["/props", "/slots"]
    assert "slot(s)" not in proc.stderr + proc.stdout
    run = manifest_run(out)
    assert run["concurrency"] == 8 and "concurrency_note" not in run


def test_reconcile_judges_with_at_most_the_slots(tmp_path: Path) -> None:
    articles = tmp_path / "run" / "articles"
    articles.mkdir(parents=True)
    for path in (ROOT / "fixtures" / "records").glob("0*.yaml"):
        shutil.copy(path, articles / path.name)
    with FakeChatServer(latency=0.1, slots=2, slot_routes=("slots",)) as server:
        server.add_responder("SameClaim", lambda body: {"same": False, "reason": "scripted"})
        endpoint = ["--base-url", server.base_url, "--model", "judge-m", "--mode", "tools"]
        proc = annotate("reconcile", str(articles), *endpoint, "--max-adjudications", "12")
        assert proc.returncode == 0, proc.stderr
        assert server.max_in_flight == 2 and len(server.chat_requests("SameClaim")) == 12
        assert slot_probes(server) == ["/props", "/slots"]  # /props 404 here: /slots told
    assert "reports 2 slot(s): sending at most 2 request(s) at a time instead of 8" in (proc.stdout)


def test_reconcile_help_documents_concurrency() -> None:
    proc = annotate("reconcile", "--help")
    assert proc.returncode == 0
    assert "--concurrency" in proc.stdout and "ANNOTATE_CONCURRENCY" in proc.stdout
    assert "llama.cpp server's parallel slots" in proc.stdout


# ------------------------------------------------------------------------ the probe itself


def test_slot_counts_are_read_only_from_well_formed_answers() -> None:
    assert slots_in("props", {"total_slots": 4, "model_path": "m.gguf"}) == 4
    for junk in ({"total_slots": "4"}, {"total_slots": 0}, {"total_slots": True}, {}, [1]):
        assert slots_in("props", junk) is None
    assert slots_in("slots", [{"id": 0}, {"id": 1}]) == 2
    for junk in ([], [1, 2], {"id": 0}, None):
        assert slots_in("slots", junk) is None
    assert server_root("http://127.0.0.1:8080/v1") == "http://127.0.0.1:8080"
    assert server_root("http://127.0.0.1:8080/v1/") == "http://127.0.0.1:8080"
    assert server_root("http://host/llama/v1") == "http://host/llama"


def test_more_slots_than_asked_change_nothing() -> None:
    with FakeChatServer(slots=16) as server:
        config = resolve_endpoint(base_url=server.base_url, model="m")
        fitted = asyncio.run(fit_concurrency(config, 8, given=False))
    assert (fitted.concurrency, fitted.server_slots, fitted.note) == (8, 16, None)


def test_a_failed_probe_is_no_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeChatServer() as server:
        url = server.base_url  # nothing listens there any more
    config = resolve_endpoint(base_url=url, model="m")
    assert asyncio.run(server_slots(config)) is None
    assert asyncio.run(fit_concurrency(config, 8, given=False)).concurrency == 8
    # the OpenAI API is not asked (the test guard forbids any non-loopback connection)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    openai_config = resolve_endpoint(base_url=None, model="gpt-4o-mini")
    assert openai_config.is_openai and asyncio.run(server_slots(openai_config)) is None
