"""`annotate batch collect` reports a hand-edited record that is still partial the way
`annotate run` does (`kept-but-partial`, the same line, exit 1): whatever the batch
answered, `run` keeps the person's file as it is until --force. Every step is the CLI in
its own process, against the fake chat + Batches server."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT, subprocess_env
from tests.fake_batches import FakeBatchServer
from tests.test_partial_pieces import (
    MARKER,
    answer_said_sentences,
    council_budget_story,
    extraction_requests,
    said_sentences,
)

SHORT = "Harbour master Ines Duarte said the ferry would run twice a day from May.\n"
KEPT = re.compile(
    r"annotate: kept-but-partial budget\.txt: hand-edited record kept as it is, still "
    r"partial: characters (\d+)-(\d+) of \d+ not annotated \(server error 503 after 2 "
    r"attempts\); (.+) annotates it again"
)


def annotate(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "annotator", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=subprocess_env(OPENAI_API_KEY="sk-test-batch-key-0123456789"),
        timeout=300,
    )


def test_collect_reports_a_kept_partial_record_like_run_and_exits_1(tmp_path: Path) -> None:
    data = tmp_path / "council"
    data.mkdir()
    text = council_budget_story()
    (data / "budget.txt").write_text(text, "utf-8")
    (data / "short.txt").write_text(SHORT, "utf-8")
    out = tmp_path / "out"
    run_dir = out / "council"
    with FakeBatchServer(polls=0) as server:
        server.add_responder("Extraction", answer_said_sentences)
        server.add_responder("QuoteFixes", lambda body: {"fixes": []})
        endpoint = ["--base-url", server.base_url, "--model", "m", "--mode", "tools"]
        run = ["run", str(data), "--out", str(out), "--backend", "llm", *endpoint]
        run += ["--max-attempts", "2", "--max-adjudications", "0"]

        # a live run leaves the budget story partial; a person edits its record
        server.fail_requests("503", containing=MARKER)
        assert annotate(*run).returncode == 1
        path = run_dir / "articles" / "budget.yaml"
        edited = path.read_text("utf-8").replace("statement: ", "statement: (checked) ", 1)
        path.write_text(edited, "utf-8")
        server.clear_standing_faults()

        # the missing piece goes into a batch, which answers it
        proc = annotate("batch", "prepare", str(data), "--out", str(out), *endpoint)
        assert proc.returncode == 0, proc.stderr
        assert "1 requests for 1 articles (1 already cached)" in proc.stderr
        for step in (["submit"], ["status", "--wait", "30"]):
            proc = annotate("batch", step[0], str(run_dir), *step[1:])
            assert proc.returncode == 0, proc.stderr
        before = len(server.chat_requests("Extraction"))
        collected = annotate("batch", "collect", str(run_dir))
        said = collected.stdout + collected.stderr
        assert collected.returncode == 1, said
        assert "Traceback" not in said
        m = KEPT.search(collected.stderr)
        assert m and m[3] == "`annotate run --force`", collected.stderr
        assert MARKER in text[int(m[1]) : int(m[2])]
        assert (
            "1 articles collected, 0 already cached, 1 kept-but-partial, 0 failed, "
            "0 waiting; 0 live calls"
        ) in collected.stderr
        assert path.read_text("utf-8") == edited  # collect writes no record

        # `run` says the same of it, the same way, and asks nothing
        proc = annotate(*run)
        assert proc.returncode == 1, proc.stderr
        assert "(1 cached, 1 kept-but-partial)" in proc.stdout + proc.stderr
        m_run = KEPT.search(proc.stderr)
        assert m_run and m_run.group(1, 2) == m.group(1, 2) and m_run[3] == "--force", proc.stderr
        assert path.read_text("utf-8") == edited
        assert len(server.chat_requests("Extraction")) == before

        # the batch answer is in the cache: without the edit, `run` writes the whole record
        # with no model call
        path.unlink()
        proc = annotate(*run)
        assert proc.returncode == 0, proc.stderr
        assert "(2 cached)" in proc.stdout + proc.stderr
        assert extraction_requests(server, before) == []
        assert path.read_text("utf-8").count("  quote: ") == len(said_sentences(text))

        # a collect with no edit left that is still partial exits 0
        proc = annotate("batch", "collect", str(run_dir))
        assert proc.returncode == 0, proc.stderr
        assert "kept-but-partial" not in proc.stderr
