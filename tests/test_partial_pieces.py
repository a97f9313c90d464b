"""A long article split into pieces, one of which never gets a usable answer: the record
keeps the other pieces' claims and says which characters are missing, the run reports the
article as partial (manifest, summary line, exit code 1), and a later run asks only the
missing piece again. Against the fake endpoint, over a real socket."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from annotator.core.models import ArticleAnnotation, EventSummary
from annotator.core.settings import EndpointConfig, resolve_endpoint
from annotator.core.yamlio import load_yaml
from annotator.extract.llm.extract import MIN_CHUNK_CHARS
from annotator.extract.llm.pieces import PieceFailed, gap_flags
from annotator.pipeline.batch import prepare, status, submit
from annotator.pipeline.batch_collect import collect
from annotator.pipeline.run import RunOptions, RunResult, run_pipeline
from tests.conftest import ROOT, subprocess_env
from tests.fake_batches import FakeBatchServer
from tests.fake_llm import FakeChatServer, messages_text

DEPARTMENTS = [
    ("road maintenance", "Pothole repairs on the ring road would be brought forward"),
    ("public libraries", "Two branch libraries would open on Sundays from April"),
    ("parks and green spaces", "The riverside park would get new lighting and benches"),
    ("social housing", "Forty flats on Mill Lane would be refurbished before winter"),
    ("bus subsidies", "Evening services on three rural routes would be restored"),
    ("water and drainage", "Storm drains in the lower town would be cleared twice a year"),
    ("school transport", "Free passes would be extended to pupils living two miles away"),
    ("waste collection", "Food waste would be collected weekly in every district"),
    ("fire prevention", "Smoke alarms would be fitted free in homes of older residents"),
    ("youth services", "The closed youth centre in Eastfield would reopen in May"),
    ("adult care", "Home visits would be lengthened from fifteen to thirty minutes"),
    ("planning enforcement", "Two more inspectors would be hired to check building sites"),
]
SPEAKERS = [
    "Councillor Maria Okafor",
    "Councillor Tom Reyes",
    "Finance director Helen Brandt",
    "Opposition leader Sunil Varma",
]
# the sentence of the piece the fake endpoint never answers in full
MARKER = "The auditor said the reserve fund had fallen to its lowest level in twelve years."


def council_budget_story() -> str:
    """A long report of a city council budget meeting (about 30,000 characters): one
    attributed, dated, numbered statement per sentence, and MARKER near the middle."""
    paragraphs = [
        "# City council agrees next year's budget after a six-hour meeting\n\n"
        "date 2025-02-26\n\nThe city council approved its budget for the coming year on "
        "Wednesday night after a six-hour meeting in the town hall."
    ]
    n = 0
    for round_ in range(7):
        for dept, detail in DEPARTMENTS:
            n += 1
            who = SPEAKERS[n % len(SPEAKERS)]
            pct = 2 + (n * 7) % 11
            amount = 3 + (n * 13) % 40
            verb = "rise" if n % 3 else "fall"
            paragraphs.append(
                f"{who} said the {dept} budget would {verb} by {pct} percent to "
                f"{amount}.{n % 10} million pounds in round {round_ + 1} of the plan. "
                f"{detail}, according to the budget papers published on Monday. "
                f"Residents who spoke at the meeting said item {n} had not been explained "
                f"well enough in the public consultation last autumn."
            )
            if round_ == 3 and dept == "road maintenance":
                paragraphs.append(MARKER)
    return "\n\n".join(paragraphs) + "\n"


def said_sentences(text: str) -> list[str]:
    return [m.group(0).strip() for m in re.finditer(r"[^.\n]*\bsaid\b[^\n]*?\.(?= |\n|$)", text)]


def article_piece(body: dict[str, Any]) -> str:
    """The text of the article (piece) a request asks about (the prompt puts it on lines
    of its own between <article> and </article>)."""
    text = messages_text(body)
    return text[text.rindex("<article>\n") + len("<article>\n") : text.rindex("\n</article>")]


def answer_said_sentences(body: dict[str, Any]) -> dict[str, Any]:
    """A model that reports every 'said' sentence of the text it is given, verbatim."""
    piece = article_piece(body)
    claims = [
        {"statement": s, "quote": s, "speaker": None, "sources": [], "stance": "confirm"}
        for s in said_sentences(piece)
    ]
    return {"speakers": [], "sources": [], "claims": claims}


@pytest.fixture
def story_dir(tmp_path: Path) -> Path:
    d = tmp_path / "council"
    d.mkdir()
    (d / "budget.txt").write_text(council_budget_story(), "utf-8")
    (d / "short.txt").write_text(
        "Councillor Tom Reyes said the new parking charges would start in June.\n", "utf-8"
    )
    return d


@pytest.fixture
def council_llm() -> Any:
    with FakeChatServer() as server:
        server.add_responder("Extraction", answer_said_sentences)
        server.add_responder("QuoteFixes", lambda body: {"fixes": []})
        server.add_responder("SameClaim", lambda body: {"same": False, "reason": "test"})
        yield server


def annotate_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "annotator", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=subprocess_env(),
        timeout=300,
    )


def run_cli(data: Path, out: Path, server: FakeChatServer) -> subprocess.CompletedProcess[str]:
    return annotate_cli(
        "run", str(data), "--out", str(out), "--backend", "llm", "--base-url",
        server.base_url, "--model", "m", "--mode", "tools",
    )  # fmt: skip


def run(data: Path, out: Path, server: FakeChatServer, **opts: Any) -> RunResult:
    cfg = resolve_endpoint(base_url=server.base_url, model="m", mode="tools")
    return asyncio.run(run_pipeline(RunOptions(data, out, "llm", cfg, **opts)))


def record(run_dir: Path, aid: str = "budget") -> ArticleAnnotation:
    path = run_dir / "articles" / f"{aid}.yaml"
    return ArticleAnnotation.model_validate(load_yaml(path.read_text("utf-8")))


def manifest_row(run_dir: Path, aid: str = "budget") -> dict[str, Any]:
    data = load_yaml((run_dir / "manifest.yaml").read_text("utf-8"))
    return next(r for r in data["articles"] if r["id"] == aid)


def extraction_requests(server: FakeChatServer, since: int = 0) -> list[str]:
    """The article text of each extraction request sent since request number `since`."""
    return [article_piece(body) for body in server.chat_requests("Extraction")[since:]]


GAP = re.compile(r"^partial: characters (\d+)-(\d+) of (\d+) not annotated \((.+)\)$")


def gap_of(rec: ArticleAnnotation) -> tuple[int, int, int, str]:
    (flag,) = [f for f in rec.article.flags if f.startswith("partial:")]
    m = GAP.match(flag)
    assert m, flag
    return int(m[1]), int(m[2]), int(m[3]), m[4]


def test_middle_piece_cut_at_the_budget_keeps_the_other_pieces_claims(
    story_dir: Path, tmp_path: Path, council_llm: FakeChatServer
) -> None:
    text = (story_dir / "budget.txt").read_text("utf-8")
    assert len(text) > 2 * 12_000  # three pieces at the default 12,000 characters
    council_llm.fail_requests("length", containing=MARKER)
    out = tmp_path / "out"
    proc = run_cli(story_dir, out, council_llm)
    run_dir = out / "council"

    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "(1 annotated, 1 partial)" in proc.stderr  # the run's summary line
    start, end, total, reason = gap_of(record(run_dir))
    assert f"annotate: partial {story_dir.name}" not in proc.stderr  # paths are relative
    assert re.search(r"annotate: partial budget\.txt: partial: characters \d+-\d+", proc.stderr)
    # the gap is the smallest piece holding the sentence that never got an answer
    assert total == len(text) and reason == "answer exceeded the token budget"
    assert MARKER in text[start:end] and end - start <= MIN_CHUNK_CHARS
    sent = extraction_requests(council_llm)
    assert text[start:end] in sent  # the range is exactly a piece that was sent
    assert len([t for t in sent if MARKER in t]) > 3  # 12,000 -> ... -> <= 1,500 characters

    # every other 'said' sentence of the article is a claim, grounded where it is
    rec = record(run_dir)
    outside = [
        s
        for s in said_sentences(text)
        if not start <= text.index(s) < end and not start < text.index(s) + len(s) <= end
    ]
    assert outside and len(rec.claims) == len(outside)
    assert [c.quote for c in rec.claims] == outside
    for c in rec.claims:
        assert c.grounding == "exact" and c.span is not None
        assert c.span[1] <= start or c.span[0] >= end

    row = manifest_row(run_dir)
    assert row["status"] == "partial" and row["output"] == "written"
    assert row["error"].startswith(f"partial: characters {start}-{end} of {total}")
    assert row["claims"] == len(outside)
    manifest = load_yaml((run_dir / "manifest.yaml").read_text("utf-8"))
    assert manifest["totals"]["partial"] == 1 and manifest["totals"]["annotated"] == 1
    # grounding and reconcile take the partial record as any other
    event = EventSummary.model_validate(load_yaml((run_dir / "event.yaml").read_text("utf-8")))
    quoted = {p.quote for c in event.claims for p in c.provenance if p.article == "budget"}
    assert quoted == set(outside)

    # a second run asks again for the failed piece only, and still reports it
    before = len(council_llm.chat_requests("Extraction"))
    record_bytes = (run_dir / "articles" / "budget.yaml").read_bytes()
    proc = run_cli(story_dir, out, council_llm)
    assert proc.returncode == 1, proc.stderr
    assert extraction_requests(council_llm, before) == [text[start:end]]
    assert (run_dir / "articles" / "budget.yaml").read_bytes() == record_bytes
    assert manifest_row(run_dir)["status"] == "partial"
    assert manifest_row(run_dir, "short")["status"] == "cached"

    # once the endpoint answers it, the third run completes the article with one call,
    # and the record is the one a run without any failure writes
    council_llm.clear_standing_faults()
    before = len(council_llm.chat_requests("Extraction"))
    proc = run_cli(story_dir, out, council_llm)
    assert proc.returncode == 0, proc.stderr
    assert extraction_requests(council_llm, before) == [text[start:end]]
    done = record(run_dir)
    assert not [f for f in done.article.flags if f.startswith("partial")]
    assert manifest_row(run_dir)["status"] == "annotated" and "error" not in manifest_row(run_dir)
    fresh = run(story_dir, tmp_path / "fresh", council_llm, force=True)
    assert [s.status for s in fresh.statuses] == ["annotated", "annotated"]
    whole = record(fresh.run_dir)
    assert [c.model_dump() for c in done.claims] == [c.model_dump() for c in whole.claims]
    assert len(done.claims) == len(said_sentences(text))


@pytest.mark.parametrize(
    ("kind", "said"),
    [("refusal", "refused"), ("length", "cut at the token limit")],
)
def test_every_piece_failing_fails_the_article_as_before(
    story_dir: Path, tmp_path: Path, council_llm: FakeChatServer, kind: str, said: str
) -> None:
    council_llm.fail_requests(kind, containing="<article>")
    result = run(story_dir, tmp_path / "out", council_llm)
    assert [s.status for s in result.statuses] == ["failed", "failed"]
    assert not result.partial
    budget = next(s for s in result.statuses if s.id == "budget")
    assert budget.error is not None and said in budget.error
    assert not budget.error.startswith("partial")
    if kind == "refusal":  # not split: each of the three pieces is asked once
        assert len(council_llm.chat_requests("Extraction")) == 4  # and the short text
    assert not (result.run_dir / "articles" / "budget.yaml").exists()
    assert not (result.run_dir / "articles" / "short.yaml").exists()


def test_adjacent_failed_pieces_are_one_gap() -> None:
    failed = [
        PieceFailed(3_000, 4_500, "answer exceeded the token budget"),
        PieceFailed(1_500, 3_000, "answer exceeded the token budget"),
        PieceFailed(4_500, 6_000, "the model refused"),
        PieceFailed(9_000, 10_000, "the model refused"),
    ]
    assert gap_flags(failed, 12_000) == [
        "partial: characters 1500-4500 of 12000 not annotated (answer exceeded the token budget)",
        "partial: characters 4500-6000 of 12000 not annotated (the model refused)",
        "partial: characters 9000-10000 of 12000 not annotated (the model refused)",
    ]


def test_invalid_answer_for_one_piece_is_a_gap_with_its_reason(
    story_dir: Path, tmp_path: Path, council_llm: FakeChatServer
) -> None:
    text = (story_dir / "budget.txt").read_text("utf-8")
    council_llm.fail_requests("invalid_json", containing=MARKER)
    result = run(story_dir, tmp_path / "out", council_llm, chunk_chars=4_000)
    (partial,) = result.partial
    start, end, total, reason = gap_of(record(result.run_dir))
    assert reason == "answer did not match the schema" and total == len(text)
    # not split: an invalid answer is re-asked (twice), then the whole piece is the gap
    assert MARKER in text[start:end] and 3_000 < end - start <= 4_000
    assert len([t for t in extraction_requests(council_llm) if MARKER in t]) == 3
    assert partial.error == record(result.run_dir).article.flags[-1]


def test_hand_edited_partial_record_is_kept_until_force(
    story_dir: Path, tmp_path: Path, council_llm: FakeChatServer
) -> None:
    council_llm.fail_requests("length", containing=MARKER)
    out = tmp_path / "out"
    first = run(story_dir, out, council_llm, chunk_chars=4_000)
    path = first.run_dir / "articles" / "budget.yaml"
    edited = path.read_text("utf-8").replace("statement: ", "statement: (checked) ", 1)
    path.write_text(edited, "utf-8")
    before = len(council_llm.chat_requests("Extraction"))

    second = run(story_dir, out, council_llm, chunk_chars=4_000)
    row = next(s for s in second.statuses if s.id == "budget")
    assert row.status == "kept" and path.read_text("utf-8") == edited
    assert len(council_llm.chat_requests("Extraction")) == before  # nothing asked

    third = run(story_dir, out, council_llm, chunk_chars=4_000, force=True)
    assert next(s for s in third.statuses if s.id == "budget").status == "partial"
    assert "(checked)" not in path.read_text("utf-8")


def test_batch_collect_then_run_treats_a_failed_piece_the_same_way(
    story_dir: Path, tmp_path: Path
) -> None:
    text = (story_dir / "budget.txt").read_text("utf-8")
    out = tmp_path / "out"
    with FakeBatchServer(polls=0) as server:
        server.add_responder("Extraction", answer_said_sentences)
        server.add_responder("QuoteFixes", lambda body: {"fixes": []})
        server.add_responder("SameClaim", lambda body: {"same": False, "reason": "test"})
        server.fail_requests("length", containing=MARKER)
        cfg = EndpointConfig(base_url=server.base_url, model="m", api_key="k", mode="tools")
        opts = RunOptions(story_dir, out, "llm", cfg)
        prepared = prepare(opts, cfg)
        asyncio.run(submit(prepared.run_dir, cfg))
        asyncio.run(status(prepared.run_dir, cfg))
        collected = asyncio.run(collect(prepared.run_dir, cfg))
        assert collected.annotated == ["short"] and not collected.failed
        ((where, gaps),) = collected.partial
        assert where == "budget.txt" and gaps.startswith("partial: characters ")

        # `run` takes the answered pieces from the cache and asks the failed one again
        before = len(server.chat_requests("Extraction"))
        result = run(story_dir, out, server)
        start, end, total, _ = gap_of(record(result.run_dir))
        assert total == len(text) and MARKER in text[start:end]
        assert extraction_requests(server, before) == [text[start:end]]
        statuses = {s.id: s.status for s in result.statuses}
        assert statuses == {"budget": "partial", "short": "cached"}
        assert record(result.run_dir).claims


def test_batch_prepare_again_asks_only_the_failed_piece(story_dir: Path, tmp_path: Path) -> None:
    text = (story_dir / "budget.txt").read_text("utf-8")
    out = tmp_path / "out"
    with FakeBatchServer(polls=0) as server:
        server.add_responder("Extraction", answer_said_sentences)
        server.add_responder("QuoteFixes", lambda body: {"fixes": []})
        server.add_responder("SameClaim", lambda body: {"same": False, "reason": "test"})
        server.fail_requests("length", containing=MARKER)
        cfg = EndpointConfig(base_url=server.base_url, model="m", api_key="k", mode="tools")
        opts = RunOptions(story_dir, out, "llm", cfg)
        first = prepare(opts, cfg)
        assert (first.requests, first.cached) == (4, 0)  # three pieces and the short text
        asyncio.run(submit(first.run_dir, cfg))
        asyncio.run(status(first.run_dir, cfg))
        ((_, gaps),) = asyncio.run(collect(first.run_dir, cfg)).partial
        start, end = (int(x) for x in re.findall(r"\d+", gaps)[:2])

        # the next batch holds one request: the failed piece, as `run` would send it
        server.clear_standing_faults()
        again = prepare(opts, cfg)
        assert (again.requests, again.articles, again.cached) == (1, 1, 1)
        (line,) = again.files[0].read_text("utf-8").splitlines()
        assert article_piece(json.loads(line)["body"]) == text[start:end]
        asyncio.run(submit(again.run_dir, cfg))
        asyncio.run(status(again.run_dir, cfg))
        collected = asyncio.run(collect(again.run_dir, cfg))
        assert collected.annotated == ["budget"] and not collected.partial
        assert collected.live_calls == 0

        before = len(server.chat_requests("Extraction"))
        result = run(story_dir, out, server)
        assert {s.id: s.status for s in result.statuses} == {"budget": "cached", "short": "cached"}
        assert len(server.chat_requests("Extraction")) == before  # all from the cache
        assert len(record(result.run_dir).claims) == len(said_sentences(text))
        assert not record(result.run_dir).article.flags


def test_batch_collect_cli_reports_partial_and_exits_non_zero(
    story_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    with FakeBatchServer(polls=0) as server:
        server.add_responder("Extraction", answer_said_sentences)
        server.add_responder("QuoteFixes", lambda body: {"fixes": []})
        server.fail_requests("length", containing=MARKER)
        endpoint = ["--base-url", server.base_url, "--model", "m", "--mode", "tools"]
        env_key = {"OPENAI_API_KEY": "k"}
        proc = subprocess.run(
            [sys.executable, "-m", "annotator", "batch", "prepare", str(story_dir),
             "--out", str(out), *endpoint],
            capture_output=True, text=True, cwd=ROOT, env=subprocess_env(**env_key),
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        run_dir = out / "council"
        for step in (["submit"], ["status", "--wait", "30"], ["collect"]):
            proc = subprocess.run(
                [sys.executable, "-m", "annotator", "batch", step[0], str(run_dir), *step[1:]],
                capture_output=True, text=True, cwd=ROOT, env=subprocess_env(**env_key),
            )  # fmt: skip
        said = proc.stdout + proc.stderr
        assert proc.returncode == 1, said
        assert "partial budget.txt: partial: characters " in said
        assert "1 articles collected, 0 already cached, 1 partial, 0 failed" in said
