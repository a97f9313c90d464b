"""Reconcile's model judge asks its pairs concurrently (--concurrency), against the fake
endpoint over a real socket, and decides exactly what it decided one pair at a time: the
first N pairs in reconcile's order (cached answers count), answers applied in that order,
a failed call leaves its pair, a fatal endpoint error stops the asking, Ctrl-C cancels
what is in flight. Only sooner."""

from __future__ import annotations

import hashlib
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from annotator.core.models import ArticleAnnotation
from annotator.core.settings import resolve_endpoint
from annotator.extract.llm.adjudicate import AdjudicationInterrupted, ModelJudge
from annotator.pipeline.endpoint_reconcile import endpoint_helpers, reconcile_records
from annotator.reconcile.summary import reconcile
from annotator.records.store import event_summary_yaml, load_article_records
from tests.fake_llm import FakeChatServer
from tests.test_adjudication import RECORDS, asked_pair

LATENCY = 0.2


def scripted(a: str, b: str) -> bool:
    """A fixed answer per pair, yes for about a third of them, whichever way round."""
    first, second = sorted((a, b))
    return int(hashlib.sha256(f"{first}\n{second}".encode()).hexdigest(), 16) % 3 == 0


def answer_scripted(body: dict[str, Any]) -> dict[str, Any]:
    return {"same": scripted(*asked_pair(body)), "reason": "scripted"}


@pytest.fixture(scope="module")
def records() -> list[ArticleAnnotation]:
    return load_article_records(RECORDS)


@pytest.fixture(scope="module")
def order(records: list[ArticleAnnotation]) -> list[tuple[str, str]]:
    """The uncertain pairs in reconcile's order (nearest the threshold first)."""
    asked: list[tuple[str, str]] = []

    def judge(a: str, b: str) -> bool:
        first, second = sorted((a, b))
        asked.append((first, second))
        return False

    reconcile(records, judge=judge)
    assert len(asked) >= 60
    return asked


def helpers(
    server_url: str, cache: Path, *, limit: int, concurrency: int, max_attempts: int = 6
) -> Any:
    config = resolve_endpoint(base_url=server_url, model="judge-m", max_attempts=max_attempts)
    return endpoint_helpers(
        config, "tools", cache, max_adjudications=limit, concurrency=concurrency
    )


def cache_files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.json"))}


def first_n_judge(n: int, undecided: frozenset[tuple[str, str]] = frozenset()) -> Any:
    """A plain (pair by pair) judge giving the scripted answers to the first n pairs."""
    seen = [0]

    def judge(a: str, b: str) -> bool | None:
        seen[0] += 1
        if seen[0] > n or tuple(sorted((a, b))) in undecided:
            return None
        return scripted(a, b)

    return judge


def test_concurrent_answers_give_the_sequential_summary_and_cache_sooner(
    records: list[ArticleAnnotation], order: list[tuple[str, str]], tmp_path: Path
) -> None:
    runs: dict[int, dict[str, Any]] = {}
    with FakeChatServer(latency=LATENCY) as server:  # one endpoint: the same cache keys
        server.add_responder("SameClaim", answer_scripted)
        for concurrency in (1, 8):
            sent = len(server.chat_requests("SameClaim"))
            server.max_in_flight = 0
            cache = tmp_path / str(concurrency)
            h = helpers(server.base_url, cache, limit=40, concurrency=concurrency)
            started = time.monotonic()
            summary = reconcile_records(records, h)
            runs[concurrency] = {
                "seconds": time.monotonic() - started,
                "yaml": event_summary_yaml(summary),
                "cache": cache_files(cache),
                "asked": [asked_pair(c) for c in server.chat_requests("SameClaim")[sent:]],
                "in_flight": server.max_in_flight,
                "tally": {k: v for k, v in h.judge.describe().items() if k != "concurrency"},
            }
    one, eight = runs[1], runs[8]
    print(
        f"\n40 pairs at {LATENCY} s: concurrency 1 {one['seconds']:.2f} s, "
        f"8 {eight['seconds']:.2f} s"
    )
    assert one["asked"] == order[:40]  # one at a time: reconcile's order, the first 40
    assert sorted(eight["asked"]) == sorted(order[:40])  # the same pairs, each once
    assert one["in_flight"] == 1 and 1 < eight["in_flight"] <= 8
    assert eight["yaml"] == one["yaml"]  # byte-identical event summary
    assert eight["cache"] == one["cache"] and len(one["cache"]) == 40  # and cache
    assert eight["tally"] == one["tally"]
    assert one["tally"]["calls"] == 40 and one["tally"]["skipped_over_budget"] == len(order) - 40
    # the same as a plain judge answering pair by pair (judged_pairs' sequential path)
    assert event_summary_yaml(reconcile(records, judge=first_n_judge(40))) == one["yaml"]
    # 40 x 0.2 s = 8 s one at a time; 5 rounds of 8 = 1 s: a clear speed-up, with slack
    assert one["seconds"] >= 40 * LATENCY
    assert eight["seconds"] < one["seconds"] / 3


def test_budget_takes_the_first_pairs_and_cached_answers_count(
    records: list[ArticleAnnotation], order: list[tuple[str, str]], tmp_path: Path
) -> None:
    with FakeChatServer() as server:
        server.add_responder("SameClaim", answer_scripted)
        h = helpers(server.base_url, tmp_path, limit=10, concurrency=8)
        reconcile_records(records, h)
        assert sorted(asked_pair(c) for c in server.chat_requests("SameClaim")) == sorted(
            order[:10]
        )
        assert h.judge.tally.skipped == len(order) - 10

        # 10 cached + 10 asked: the budget covers the first 20, whatever the cache holds
        h20 = helpers(server.base_url, tmp_path, limit=20, concurrency=8)
        twenty = reconcile_records(records, h20)
        asked = [asked_pair(c) for c in server.chat_requests("SameClaim")]
        assert sorted(asked[10:]) == sorted(order[10:20])
        tally = h20.judge.tally
        assert (tally.cached, tally.calls, tally.decided) == (10, 10, 20)
        assert event_summary_yaml(twenty) == event_summary_yaml(
            reconcile(records, judge=first_n_judge(20))
        )

        again = helpers(server.base_url, tmp_path, limit=20, concurrency=8)
        assert event_summary_yaml(reconcile_records(records, again)) == event_summary_yaml(twenty)
        assert len(server.chat_requests("SameClaim")) == 20  # no new call
        assert again.judge.tally.cached == 20 and again.judge.tally.calls == 0


def test_rejected_key_stops_the_asking(
    records: list[ArticleAnnotation], order: list[tuple[str, str]], tmp_path: Path
) -> None:
    with FakeChatServer(latency=0.05) as server:
        server.add_responder("SameClaim", answer_scripted)
        server.fail_requests("401", model="SameClaim")
        h = helpers(server.base_url, tmp_path, limit=100, concurrency=8)
        summary = reconcile_records(records, h)
        # the requests already in flight when the first 401 came, no more
        assert 1 <= len(server.chat_requests("SameClaim")) <= 8
    tally = h.judge.tally
    assert tally.calls == 0 and tally.decided == 0 and tally.failed == 100
    assert "401" in (tally.error or "") or "key" in (tally.error or "")
    assert event_summary_yaml(summary) == event_summary_yaml(reconcile(records))


def test_unreachable_endpoint_stops_the_asking(
    records: list[ArticleAnnotation], tmp_path: Path
) -> None:
    with FakeChatServer() as server:
        url = server.base_url  # a port nothing listens on once the server stops
    h = helpers(url, tmp_path, limit=50, concurrency=8, max_attempts=2)
    summary = reconcile_records(records, h)
    tally = h.judge.tally
    assert tally.calls == 0 and tally.failed == 50 and tally.error
    assert event_summary_yaml(summary) == event_summary_yaml(reconcile(records))


def test_server_errors_on_some_pairs_leave_those_undecided(
    records: list[ArticleAnnotation], order: list[tuple[str, str]], tmp_path: Path
) -> None:
    # a statement found in two or three of the first 40 pairs: the server fails on those
    counts: dict[str, int] = {}
    for pair in order[:40]:
        for statement in pair:
            counts[statement] = counts.get(statement, 0) + 1
    crashing = next(s for s, n in sorted(counts.items()) if 2 <= n <= 3)
    failing = frozenset(p for p in order[:40] if crashing in p)
    with FakeChatServer() as server:
        server.add_responder("SameClaim", answer_scripted)
        server.fail_requests("500", containing=crashing, model="SameClaim")
        h = helpers(server.base_url, tmp_path, limit=40, concurrency=8, max_attempts=2)
        summary = reconcile_records(records, h)
    tally = h.judge.tally
    assert tally.failed == len(failing) and tally.decided == 40 - len(failing)
    assert "500" in (tally.error or "")
    expected = reconcile(records, judge=first_n_judge(40, failing))
    assert event_summary_yaml(summary) == event_summary_yaml(expected)
    assert f"{len(failing)} pair(s) not decided" in (h.summary_line() or "")


def test_interrupt_cancels_the_calls_in_flight(
    records: list[ArticleAnnotation], order: list[tuple[str, str]], tmp_path: Path
) -> None:
    with FakeChatServer(latency=5.0) as server:
        server.add_responder("SameClaim", answer_scripted)
        h = helpers(server.base_url, tmp_path, limit=100, concurrency=4)
        judge: ModelJudge = h.judge
        raised: list[BaseException] = []

        def work() -> None:
            try:
                judge.judge_all(order)
            except BaseException as exc:  # checked below
                raised.append(exc)
            finally:
                h.client.close()

        worker = threading.Thread(target=work)
        worker.start()
        deadline = time.monotonic() + 10
        while len(server.chat_requests("SameClaim")) < 4 and time.monotonic() < deadline:
            time.sleep(0.02)
        started = time.monotonic()
        judge.interrupt()
        worker.join(timeout=10)
        assert not worker.is_alive()
        assert time.monotonic() - started < 2  # not the 5 s the answers would take
        assert len(server.chat_requests("SameClaim")) == 4  # nothing sent after it
    assert len(raised) == 1 and isinstance(raised[0], AdjudicationInterrupted)
    assert judge.tally.calls == 0
