"""Transport faults that outlast the retries for one piece of a long article: the piece is a
gap like any other failed piece (record written with the other pieces' claims, flagged,
manifest `partial`, exit 1, the next run re-sends that piece only), while errors that
would fail every piece the same way (a rejected key, the --deadline) still fail the
article. Also: a kept hand edit that is still partial makes the run exit 1, and a
partial article counts every request made for it. Against the fake endpoint, over a real
socket (the CLI in a subprocess where the behaviour is the CLI's)."""

from __future__ import annotations

import asyncio
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from annotator.core.models import ArticleAnnotation
from annotator.core.settings import resolve_endpoint
from annotator.pipeline.run import RunOptions, RunResult, run_pipeline
from tests.fake_llm import FakeChatServer, messages_text
from tests.test_partial_pieces import (
    MARKER,
    annotate_cli,
    answer_said_sentences,
    council_budget_story,
    extraction_requests,
    gap_of,
    manifest_row,
    record,
    run,
    said_sentences,
)

SHORT = "Councillor Tom Reyes said the new parking charges would start in June.\n"


@pytest.fixture
def story_dir(tmp_path: Path) -> Path:
    d = tmp_path / "council"
    d.mkdir()
    (d / "budget.txt").write_text(council_budget_story(), "utf-8")
    (d / "short.txt").write_text(SHORT, "utf-8")
    return d


@pytest.fixture
def llm() -> Any:
    with FakeChatServer() as server:
        server.add_responder("Extraction", answer_said_sentences)
        server.add_responder("QuoteFixes", lambda body: {"fixes": []})
        server.add_responder("SameClaim", lambda body: {"same": False, "reason": "test"})
        yield server


def run_cli(
    data: Path, out: Path, server: FakeChatServer, *extra: str
) -> subprocess.CompletedProcess[str]:
    return annotate_cli(
        "run", str(data), "--out", str(out), "--backend", "llm", "--base-url",
        server.base_url, "--model", "m", "--mode", "tools", "--max-attempts", "2", *extra,
    )  # fmt: skip


def run_with(data: Path, out: Path, server: FakeChatServer, **endpoint: Any) -> RunResult:
    """An in-process run with these endpoint settings (attempts, timeouts)."""
    cfg = resolve_endpoint(base_url=server.base_url, model="m", mode="tools", **endpoint)
    return asyncio.run(run_pipeline(RunOptions(data, out, "llm", cfg, concurrency=1)))


def comparable(rec: ArticleAnnotation) -> dict[str, Any]:
    """A record as a dict without the time of its model answer."""
    data = rec.model_dump(mode="json")
    data["annotation"].pop("created")
    return data


def budget_requests(server: FakeChatServer, text: str, since: int = 0) -> list[str]:
    """The pieces of the budget story asked about (the short article's request left out)."""
    return [t for t in extraction_requests(server, since) if t in text]


def tokens_of_answers(server: FakeChatServer) -> int:
    """Tokens of every extraction answer the server gave (tools mode: a call of the
    `Extraction` tool), whether the client could use it or not."""
    return sum(
        r["usage"]["total_tokens"]
        for r in server.responses
        if r["choices"][0]["message"]["tool_calls"][0]["function"]["name"] == "Extraction"
    )


def test_middle_piece_503_is_a_gap_and_the_next_run_resends_it_alone(
    story_dir: Path, tmp_path: Path, llm: FakeChatServer
) -> None:
    text = (story_dir / "budget.txt").read_text("utf-8")
    llm.fail_requests("503", containing=MARKER)
    out = tmp_path / "out"
    proc = run_cli(story_dir, out, llm)
    run_dir = out / "council"

    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "(1 annotated, 1 partial)" in proc.stderr + proc.stdout
    start, end, total, reason = gap_of(record(run_dir))
    assert total == len(text) and reason == "server error 503 after 2 attempts"
    # not split (a 503 says nothing about the size): the gap is the middle 12,000-char piece
    sent = budget_requests(llm, text)
    assert len(sent) == 4 and sent[1] == sent[2] == text[start:end]
    assert sent[0] == text[:start] and sent[3] == text[end:] and MARKER in text[start:end]
    assert re.search(r"annotate: partial budget\.txt: partial: characters \d+-\d+", proc.stderr)

    rec = record(run_dir)
    outside = [s for s in said_sentences(text) if text.index(s) < start or text.index(s) >= end]
    assert outside and [c.quote for c in rec.claims] == outside
    assert all(c.grounding == "exact" for c in rec.claims)
    row = manifest_row(run_dir)
    assert row["status"] == "partial" and row["output"] == "written"
    assert row["error"] == rec.article.flags[-1]
    # every request made for the article counts, the two answered with 503 too
    assert row["attempts"] == 4
    short_tokens = record(run_dir, "short").annotation.usage
    assert short_tokens is not None and rec.annotation.usage is not None
    assert rec.annotation.usage.total_tokens == tokens_of_answers(llm) - short_tokens.total_tokens
    assert row["tokens"]["total_tokens"] == rec.annotation.usage.total_tokens

    # the server recovers: the next run sends exactly one request, the failed piece
    llm.clear_standing_faults()
    before = len(llm.chat_requests("Extraction"))
    proc = run_cli(story_dir, out, llm)
    assert proc.returncode == 0, proc.stderr
    assert extraction_requests(llm, before) == [text[start:end]]
    assert not llm.chat_requests("QuoteFixes")
    done = record(run_dir)
    assert manifest_row(run_dir)["status"] == "annotated"
    assert manifest_row(run_dir)["attempts"] == 1
    assert not [f for f in done.article.flags if f.startswith("partial")]
    # and the record is the one a run with no failure writes
    fresh = run(story_dir, tmp_path / "fresh", llm, force=True)
    assert comparable(done) == comparable(record(fresh.run_dir))
    assert len(done.claims) == len(said_sentences(text))


def test_dropped_connection_on_one_piece_is_a_gap(
    story_dir: Path, tmp_path: Path, llm: FakeChatServer
) -> None:
    text = (story_dir / "budget.txt").read_text("utf-8")
    llm.fail_requests("disconnect", containing=MARKER)
    result = run_with(story_dir, tmp_path / "out", llm, max_attempts=2)
    (partial,) = result.partial
    start, end, total, reason = gap_of(record(result.run_dir))
    assert reason == "connection failed after 2 attempts" and total == len(text)
    assert MARKER in text[start:end]
    assert partial.error == record(result.run_dir).article.flags[-1]
    assert {s.id: s.status for s in result.statuses} == {"budget": "partial", "short": "annotated"}


def test_piece_whose_every_attempt_times_out_is_a_gap_naming_the_timeout(
    story_dir: Path, tmp_path: Path, llm: FakeChatServer
) -> None:
    """Each attempt at the middle piece outlasts --timeout (the server answers after 3 s,
    the client waits 1 s): the piece is a gap whose flag names its characters and the
    timeout, the other pieces' claims are written, and the next run sends that piece only."""
    text = (story_dir / "budget.txt").read_text("utf-8")
    llm.fail_requests("hang", containing=MARKER, hang_seconds=3)
    out = tmp_path / "out"
    proc = run_cli(story_dir, out, llm, "--timeout", "1")
    run_dir = out / "council"

    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "(1 annotated, 1 partial)" in proc.stderr + proc.stdout
    rec = record(run_dir)
    (flag,) = [f for f in rec.article.flags if f.startswith("partial:")]
    start, end, total, reason = gap_of(rec)
    assert reason == "no answer in 2 attempts of 1s"
    assert flag == (
        f"partial: characters {start}-{end} of {len(text)} not annotated "
        "(no answer in 2 attempts of 1s)"
    )
    assert total == len(text) and MARKER in text[start:end]
    sent = budget_requests(llm, text)
    assert sent == [text[:start], text[start:end], text[start:end], text[end:]]
    outside = [s for s in said_sentences(text) if text.index(s) < start or text.index(s) >= end]
    assert outside and [c.quote for c in rec.claims] == outside
    row = manifest_row(run_dir)
    assert row["status"] == "partial" and row["error"] == flag and row["attempts"] == 4
    assert f"annotate: partial budget.txt: {flag}" in proc.stderr

    llm.clear_standing_faults()
    before = len(llm.chat_requests("Extraction"))
    proc = run_cli(story_dir, out, llm, "--timeout", "1")
    assert proc.returncode == 0, proc.stderr
    assert extraction_requests(llm, before) == [text[start:end]]
    assert manifest_row(run_dir)["status"] == "annotated"
    assert len(record(run_dir).claims) == len(said_sentences(text))
    assert not record(run_dir).article.flags


@pytest.mark.parametrize("containing", ["<article>", MARKER])
def test_rejected_key_fails_the_article_without_a_partial_record(
    story_dir: Path, tmp_path: Path, llm: FakeChatServer, containing: str
) -> None:
    """A 401 would fail every piece the same way: no record hides it, on every request or
    only on the middle piece (after the first piece was answered)."""
    llm.fail_requests("401", containing=containing)
    out = tmp_path / "out"
    proc = run_cli(story_dir, out, llm, "--concurrency", "1")
    assert proc.returncode != 0
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "rejected the API key (HTTP 401)" in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (out / "council" / "articles" / "budget.yaml").exists()
    assert not [ln for ln in proc.stderr.splitlines() if "partial" in ln]


def test_deadline_fails_the_article_not_just_the_piece(
    story_dir: Path, tmp_path: Path, llm: FakeChatServer
) -> None:
    """A server that outlasts --deadline on one piece would do so on every piece: the
    article fails (one line, the deadline named) instead of waiting once per piece."""
    (story_dir / "short.txt").unlink()
    llm.fail_requests("hang", containing=MARKER)
    result = run_with(story_dir, tmp_path / "out", llm, timeout=0.5, deadline=1.2)
    (row,) = result.statuses
    assert row.status == "failed" and row.error is not None and "--deadline" in row.error
    assert not (result.run_dir / "articles" / "budget.yaml").exists()


def test_every_piece_503_fails_the_article_counting_every_request(
    story_dir: Path, tmp_path: Path, llm: FakeChatServer
) -> None:
    llm.fail_requests("503", containing="<article>")
    result = run_with(story_dir, tmp_path / "out", llm, max_attempts=2)
    assert {s.id: s.status for s in result.statuses} == {"budget": "failed", "short": "failed"}
    budget = next(s for s in result.statuses if s.id == "budget")
    assert budget.error is not None and "HTTP 503 after 2 attempt(s)" in budget.error
    # two pieces with two attempts each, then the third sent once as the breaker's probe
    assert budget.attempts == 2 * 2 + 1
    assert not (result.run_dir / "articles" / "budget.yaml").exists()


def test_cut_answers_count_in_the_record_usage_and_attempts(
    story_dir: Path, tmp_path: Path, llm: FakeChatServer
) -> None:
    """A piece cut at the token budget at every size: the cut answers were paid for, so
    the record's usage and the manifest's attempts count them, like the answered ones."""
    text = (story_dir / "budget.txt").read_text("utf-8")
    llm.fail_requests("length", containing=MARKER)
    result = run(story_dir, tmp_path / "out", llm, chunk_chars=4_000)
    (partial,) = result.partial
    assert partial.attempts == len(budget_requests(llm, text)) > 3
    rec, short = record(result.run_dir), record(result.run_dir, "short")
    assert rec.annotation.usage is not None and short.annotation.usage is not None
    assert rec.annotation.usage.total_tokens == (
        tokens_of_answers(llm) - short.annotation.usage.total_tokens
    )
    assert partial.tokens["total_tokens"] == rec.annotation.usage.total_tokens


def test_kept_hand_edit_that_is_still_partial_exits_1(
    story_dir: Path, tmp_path: Path, llm: FakeChatServer
) -> None:
    llm.fail_requests("503", containing=MARKER)
    out = tmp_path / "out"
    assert run_cli(story_dir, out, llm).returncode == 1
    path = out / "council" / "articles" / "budget.yaml"
    edited = path.read_text("utf-8").replace("statement: ", "statement: (checked) ", 1)
    path.write_text(edited, "utf-8")
    llm.clear_standing_faults()
    before = len(llm.chat_requests("Extraction"))

    proc = run_cli(story_dir, out, llm)
    said = proc.stdout + proc.stderr
    assert proc.returncode == 1, said
    assert "(1 cached, 1 kept-but-partial)" in said
    assert re.search(
        r"annotate: kept-but-partial budget\.txt: hand-edited record kept as it is, still "
        r"partial: characters \d+-\d+ of \d+ not annotated \(server error 503 after 2 "
        r"attempts\); --force annotates it again",
        proc.stderr,
    )
    assert path.read_text("utf-8") == edited  # the person's file is not touched
    assert len(llm.chat_requests("Extraction")) == before  # nothing asked
    row = manifest_row(out / "council")
    assert row["status"] == "kept" and row["error"].startswith("partial: characters ")

    # a kept edit without gaps is kept as before, exit 0
    finished, n = re.subn(r"flags:\n *- .?partial: characters[^\n]*\n", "flags: []\n", edited)
    assert n == 1
    path.write_text(finished, "utf-8")
    proc = run_cli(story_dir, out, llm)
    assert proc.returncode == 0, proc.stderr
    assert "(1 cached, 1 kept)" in proc.stdout + proc.stderr


def test_requote_that_gets_503_leaves_its_piece_a_gap(
    story_dir: Path, tmp_path: Path, llm: FakeChatServer
) -> None:
    """The piece was answered, but the re-ask for its quotes failed on transport: the
    answer is not kept with its quotes unchecked; the piece is a gap, asked again later,
    and the tokens of its discarded answer still count."""
    text = (story_dir / "budget.txt").read_text("utf-8")

    def misquoting(body: dict[str, Any]) -> dict[str, Any]:
        answer = answer_said_sentences(body)
        if MARKER in messages_text(body):
            answer["claims"][0]["quote"] = "words that appear nowhere in this piece at all"
        return answer

    llm.add_responder("Extraction", misquoting)
    llm.fail_requests("503", containing=MARKER, model="QuoteFixes")
    result = run_with(story_dir, tmp_path / "out", llm, max_attempts=2)
    (partial,) = result.partial
    start, end, _, reason = gap_of(record(result.run_dir))
    assert reason == "server error 503 after 2 attempts" and MARKER in text[start:end]
    assert len(llm.chat_requests("QuoteFixes")) == 2
    assert partial.attempts == 3 + 2  # three pieces, and the re-ask sent twice
    rec, short = record(result.run_dir), record(result.run_dir, "short")
    assert rec.annotation.usage is not None and short.annotation.usage is not None
    assert rec.annotation.usage.total_tokens == (
        tokens_of_answers(llm) - short.annotation.usage.total_tokens
    )

    llm.clear_standing_faults()
    again = run_with(story_dir, tmp_path / "out", llm, max_attempts=2)
    assert {s.id: s.status for s in again.statuses} == {"budget": "annotated", "short": "cached"}
    assert len(llm.chat_requests("QuoteFixes")) == 3
