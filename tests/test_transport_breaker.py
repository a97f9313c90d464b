"""The breaker (extract/llm/breaker.py): once two pieces of an article in a row got no
answer through all their retries, one more piece is sent once as a probe, and if that
fails too the article's remaining pieces are not sent. Answered pieces are kept, the
pieces not sent are gaps the next run asks; pieces that fail on their own text do not
stop the others. Against the fake endpoint over a real socket, with a five-piece report
of an event unlike the sample articles (a river flood)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from annotator.core.settings import resolve_endpoint
from annotator.extract.llm import breaker
from annotator.extract.llm.extract import split_text
from annotator.pipeline.run import RunOptions, RunResult, run_pipeline
from tests.fake_llm import FakeChatServer
from tests.test_partial_pieces import (
    answer_said_sentences,
    extraction_requests,
    manifest_row,
    record,
    said_sentences,
)

CHUNK_CHARS = 1_750
TOWNS = ["Lowmoor", "Ashby Ferry", "Kelling", "Stanwick", "Orford Bridge"]
OFFICIALS = [
    "River authority engineer Dana Whitlock",
    "Mayor Peter Osei",
    "Fire chief Lena Marsh",
    "Relief coordinator Amir Haddad",
]


def flood_report() -> str:
    """A report in five sections of about 1,650 characters, one town each: five pieces of
    at most CHUNK_CHARS characters."""
    sections = []
    for n, town in enumerate(TOWNS):
        lines = [f"Section on {town}."]
        for k in range(6):
            who = OFFICIALS[(n + k) % len(OFFICIALS)]
            level = 3 + (n * 5 + k * 3) % 9
            homes = 20 + (n * 37 + k * 11) % 300
            lines.append(
                f"{who} said the water in {town} rose {level}.{k} metres above the flood "
                f"line on day {k + 1} and reached {homes} homes near the embankment."
            )
            lines.append(
                f"Volunteers filled sandbags at the {town} depot through the night, and "
                f"buses took residents of street {k + 1} to the school hall."
            )
        sections.append(" ".join(lines))
    return "\n\n".join(sections) + "\n"


@pytest.fixture
def flood_dir(tmp_path: Path) -> Path:
    d = tmp_path / "flood"
    d.mkdir()
    (d / "report.txt").write_text(flood_report(), "utf-8")
    return d


@pytest.fixture
def llm() -> Any:
    with FakeChatServer() as server:
        server.add_responder("Extraction", answer_said_sentences)
        server.add_responder("QuoteFixes", lambda body: {"fixes": []})
        server.add_responder("SameClaim", lambda body: {"same": False, "reason": "test"})
        yield server


def run(data: Path, out: Path, server: FakeChatServer) -> RunResult:
    cfg = resolve_endpoint(base_url=server.base_url, model="m", mode="tools", max_attempts=2)
    opts = RunOptions(data, out, "llm", cfg, concurrency=1, chunk_chars=CHUNK_CHARS)
    return asyncio.run(run_pipeline(opts))


def pieces() -> list[str]:
    text = flood_report()
    parts = split_text(text, CHUNK_CHARS)
    assert len(parts) == 5
    return parts


@pytest.mark.parametrize("with_breaker", [True, False])
def test_every_piece_503_stops_after_two_pieces_and_a_probe(
    flood_dir: Path,
    tmp_path: Path,
    llm: FakeChatServer,
    monkeypatch: pytest.MonkeyPatch,
    with_breaker: bool,
) -> None:
    """Five pieces, a server that answers 503 to everything, two attempts per request:
    without the breaker 5 x 2 = 10 requests; with it 2 + 2 + a probe of 1 = 5."""
    if not with_breaker:  # what the run sent before the breaker existed
        monkeypatch.setattr(breaker, "FAILURES_IN_A_ROW", 1_000)
    llm.fail_requests("503", containing="<article>")
    result = run(flood_dir, tmp_path / "out", llm)

    (row,) = result.statuses
    parts = pieces()
    sent = extraction_requests(llm)
    assert row.status == "failed" and row.error is not None
    assert row.error.startswith(f"{llm.base_url} answered HTTP 503 after 2 attempt(s)")
    assert not (result.run_dir / "articles" / "report.yaml").exists()
    if with_breaker:
        assert sent == [parts[0], parts[0], parts[1], parts[1], parts[2]]
        assert row.attempts == 5
        assert row.error.endswith("; 2 more piece(s) not sent after 3 in a row got no answer")
    else:
        assert sent == [p for p in parts for _ in range(2)]
        assert row.attempts == 10


def test_endpoint_down_mid_article_keeps_the_answered_piece_and_resumes_the_rest(
    flood_dir: Path, tmp_path: Path, llm: FakeChatServer
) -> None:
    text = flood_report()
    parts = pieces()
    for part in parts[1:]:
        llm.fail_requests("503", containing=part)
    out = tmp_path / "out"
    result = run(flood_dir, out, llm)

    (row,) = result.partial
    assert extraction_requests(llm) == [parts[0], parts[1], parts[1], parts[2], parts[2], parts[3]]
    assert row.attempts == 6
    rec = record(result.run_dir, "report")
    assert [c.quote for c in rec.claims] == said_sentences(parts[0])
    a, b, c = (len(parts[0]), len(parts[0]) + len(parts[1]) + len(parts[2]), len(text))
    d = b + len(parts[3])
    assert [f for f in rec.article.flags if f.startswith("partial:")] == [
        f"partial: characters {a}-{b} of {c} not annotated (server error 503 after 2 attempts)",
        f"partial: characters {b}-{d} of {c} not annotated (server error 503 after 1 attempt)",
        f"partial: characters {d}-{c} of {c} not annotated (not sent after 3 pieces in a row "
        "got no answer (server error 503 after 2 attempts))",
    ]
    assert row.error == "; ".join(f for f in rec.article.flags if f.startswith("partial:"))

    # the endpoint is back: the next run sends the four missing pieces, each once
    llm.clear_standing_faults()
    before = len(llm.chat_requests("Extraction"))
    again = run(flood_dir, out, llm)
    assert extraction_requests(llm, before) == parts[1:]
    assert manifest_row(again.run_dir, "report")["status"] == "annotated"
    done = record(again.run_dir, "report")
    assert [c.quote for c in done.claims] == said_sentences(text)
    assert not done.article.flags


def test_pieces_failing_on_their_own_text_do_not_stop_the_others(
    flood_dir: Path, tmp_path: Path, llm: FakeChatServer
) -> None:
    """The first two pieces always get a 500 (say, text that crashes the server): the
    probe (the third piece, sent once) is answered, so the breaker closes and the rest of
    the article is asked as usual."""
    text = flood_report()
    parts = pieces()
    for part in parts[:2]:
        llm.fail_requests("500", containing=part)
    result = run(flood_dir, tmp_path / "out", llm)

    (row,) = result.partial
    assert extraction_requests(llm) == [parts[0], parts[0], parts[1], parts[1], *parts[2:]]
    assert row.attempts == 7
    rec = record(result.run_dir, "report")
    gap = len(parts[0]) + len(parts[1])
    assert [c.quote for c in rec.claims] == said_sentences(text[gap:])
    assert [f for f in rec.article.flags if f.startswith("partial:")] == [
        f"partial: characters 0-{gap} of {len(text)} not annotated "
        "(server error 500 after 2 attempts)"
    ]
