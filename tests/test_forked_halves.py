"""`forked.in_two`: a loop's second half in a forked child, the same result whatever
happens to the child; and reconcile's clusters are the same with and without it."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import numpy as np
import pytest

import annotator.reconcile.clustering as clustering
import annotator.reconcile.forked as forked
import annotator.reconcile.neighbours as neighbours
from annotator.reconcile.clustering import cluster_statements
from annotator.reconcile.forked import in_two
from annotator.records.store import load_article_records

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


@pytest.fixture(autouse=True)
def _two_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANNOTATE_WORKERS", "2")  # as on a machine of two cores or more


def _squares(lo: int, hi: int) -> tuple[int, list[int]]:
    return os.getpid(), [k * k for k in range(lo, hi)]


def test_the_second_half_is_done_by_another_process() -> None:
    parts = in_two(10, _squares, min_items=2)
    assert [p[1] for p in parts] == [[0, 1, 4, 9, 16], [25, 36, 49, 64, 81]]
    assert parts[0][0] == os.getpid() and parts[1][0] != os.getpid()


def test_small_loops_one_worker_and_little_memory_stay_in_this_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    alone = [(os.getpid(), [k * k for k in range(10)])]
    assert in_two(10, _squares, min_items=11) == alone
    monkeypatch.setattr(forked, "_memory_to_spare", lambda: False)
    assert in_two(10, _squares, min_items=2) == alone
    monkeypatch.setattr(forked, "_memory_to_spare", lambda: True)
    monkeypatch.setenv("ANNOTATE_WORKERS", "1")
    assert in_two(10, _squares, min_items=2) == alone


def test_memory_to_spare_reads_this_machine() -> None:
    assert forked._memory_to_spare() is True  # a test process is small


@pytest.mark.parametrize("how", ["raises", "killed", "unpicklable"])
def test_a_failing_child_costs_time_not_results(how: str) -> None:
    parent = os.getpid()

    def work(lo: int, hi: int) -> object:
        if os.getpid() != parent:
            if how == "raises":
                raise RuntimeError("child failed")
            if how == "killed":
                os.kill(os.getpid(), signal.SIGKILL)
            return lambda: None  # cannot be pickled
        return list(range(lo, hi))

    assert in_two(8, work, min_items=2) == [[0, 1, 2, 3], [4, 5, 6, 7]]


def test_a_stuck_child_is_killed_and_its_half_done_here(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(forked, "PATIENCE_MIN", 0.5)
    parent = os.getpid()
    pid_file = tmp_path / "child.pid"

    def work(lo: int, hi: int) -> list[int]:
        if os.getpid() != parent:
            pid_file.write_text(str(os.getpid()))
            time.sleep(60)  # as a child deadlocked on a lock would
        return list(range(lo, hi))

    started = time.monotonic()
    assert in_two(8, work, min_items=2) == [[0, 1, 2, 3], [4, 5, 6, 7]]
    assert time.monotonic() - started < 10
    with pytest.raises(ProcessLookupError):
        os.kill(int(pid_file.read_text()), 0)


def test_an_error_here_kills_and_reaps_the_child(tmp_path: Path) -> None:
    parent = os.getpid()
    pid_file = tmp_path / "child.pid"

    def work(lo: int, hi: int) -> None:
        if os.getpid() != parent:
            pid_file.write_text(str(os.getpid()))
            time.sleep(60)
            return
        while not pid_file.exists():
            time.sleep(0.01)
        raise KeyboardInterrupt

    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        in_two(8, work, min_items=2)
    assert time.monotonic() - started < 30
    child = int(pid_file.read_text())
    with pytest.raises(ProcessLookupError):  # killed and reaped: no such process
        os.kill(child, 0)


def _statements() -> tuple[list[str], list[str | None]]:
    texts: list[str] = []
    dates: list[str | None] = []
    for name in ("records_takeover", "records_water", "records_quake"):
        for record in load_article_records(FIXTURES / name):
            for claim in record.claims:
                texts.append(claim.statement)
                dates.append(record.article.published)
    return texts, dates


def test_clusters_are_the_same_with_the_work_split_or_not(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    texts, dates = _statements()
    monkeypatch.setenv("ANNOTATE_WORKERS", "1")
    alone = cluster_statements(texts, published=dates)
    monkeypatch.setenv("ANNOTATE_WORKERS", "2")
    monkeypatch.setattr(clustering, "FORK_TEXTS", 2)  # split even this small input
    monkeypatch.setattr(clustering, "FORK_PAIRS", 2)
    calls: list[int] = []
    real = clustering.in_two

    def counted(n: int, work: object, min_items: int) -> object:
        calls.append(n)
        return real(n, work, min_items)  # type: ignore[arg-type]

    monkeypatch.setattr(clustering, "in_two", counted)
    split = cluster_statements(texts, published=dates)
    assert len(calls) == 2 and min(calls) > 50
    assert split == alone
    assert len(alone) < len(texts)  # something merged: the comparison means something


def test_nearest_neighbours_are_the_same_with_the_groups_split_or_not(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rng = np.random.default_rng(7)
    centres = rng.normal(size=(40, 32))
    vectors = centres[rng.integers(0, 40, 3000)] + 0.3 * rng.normal(size=(3000, 32))
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
    monkeypatch.setattr(neighbours, "EXACT_MAX", 1000)  # the inverted-file search
    monkeypatch.setenv("ANNOTATE_WORKERS", "1")
    alone = neighbours.nearest_pairs(vectors, 10, 0.2)
    monkeypatch.setenv("ANNOTATE_WORKERS", "2")
    monkeypatch.setattr(neighbours, "FORK_GROUPS", 2)
    split = neighbours.nearest_pairs(vectors, 10, 0.2)
    assert len(alone) > 10_000
    assert np.array_equal(split, alone)
