"""Average linkage over a sparse candidate graph: exact mean cosine, clashes counted in
proportion, no chaining through one loose pair, deterministic."""

from __future__ import annotations

import numpy as np
import pytest

import annotator.reconcile.linkage as linkage
from annotator.reconcile.linkage import CLASH_SCORE, AverageLinkage


def unit(*rows: list[float]) -> np.ndarray:
    v = np.array(rows, dtype=np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def edge(v: np.ndarray, i: int, j: int, extra: float = 0.0, clash: bool = False) -> tuple:  # type: ignore[type-arg]
    return (i, j, float(v[i] @ v[j]), extra, clash)


def test_link_is_the_mean_over_all_member_pairs() -> None:
    v = unit([1, 0], [1, 0.1], [0, 1])
    link = AverageLinkage(v, 1.0, [edge(v, 0, 1), edge(v, 1, 2, extra=0.3)])
    root = link.merge(0, 1)
    # the cosine of {0, 1} with 2 over both pairs, though only (1, 2) is an edge; the
    # extra of the one edge, spread over both
    expected = float((v[0] @ v[2] + v[1] @ v[2] + 0.3) / 2)
    assert abs(link.link(root, 2) - expected) < 1e-6  # type: ignore[operator]


def test_one_loose_pair_does_not_chain_two_groups() -> None:
    v = unit(*[[1, 0, 0]] * 3, *[[0, 1, 0]] * 3)
    edges = [edge(v, 0, 1), edge(v, 1, 2), edge(v, 3, 4), edge(v, 4, 5), edge(v, 2, 3, 0.9)]
    link = AverageLinkage(v, 1.0, edges)
    link.run(0.5)
    assert len({link.find(i) for i in range(6)}) == 2


def test_clashing_members_pull_the_link_down_in_proportion() -> None:
    v = unit([1, 0], [1, 0], [1, 0])
    edges = [edge(v, 0, 1), edge(v, 1, 2, clash=True), edge(v, 0, 2, clash=True)]
    link = AverageLinkage(v, 1.0, edges)
    assert link.link(1, 2) == CLASH_SCORE
    link.run(0.5)
    assert link.find(0) == link.find(1) != link.find(2)
    assert link.clashes(link.find(0), 2) == 2


def test_counts_weigh_a_wording_by_its_records() -> None:
    v = unit([1, 0], [0.6, 0.8], [0, 1])
    # node 0 written by 5 records: the cluster {0, 1} leans towards 0
    link = AverageLinkage(v, 1.0, [edge(v, 0, 1), edge(v, 1, 2)], [5, 1, 1])
    root = link.merge(0, 1)
    expected = float((5 * v[0] @ v[2] + v[1] @ v[2]) / 6)
    assert abs(link.link(root, 2) - expected) < 1e-6  # type: ignore[operator]


def _replay(eager: AverageLinkage, n: int, threshold: float) -> list[tuple[int, int]]:
    """Merges made greedily, every link recomputed before each."""
    replay = []
    while True:
        roots = sorted({eager.find(i) for i in range(n)})
        best = max(
            ((eager.link(a, b), -a, -b) for a in roots for b in roots if a < b),
            key=lambda t: (t[0] if t[0] is not None else -9, t[1], t[2]),
        )
        if best[0] is None or best[0] < threshold:
            return replay
        replay.append((-best[1], -best[2]))
        eager.merge(-best[1], -best[2])


def test_lazy_merges_match_a_full_recomputation() -> None:
    rng = np.random.default_rng(1)
    v = unit(*rng.normal(size=(40, 8)).tolist())
    edges = [edge(v, i, j) for i in range(40) for j in range(i + 1, min(40, i + 6))]
    lazy = AverageLinkage(v, 1.0, edges)
    merges = lazy.run(0.2)
    assert merges == AverageLinkage(v, 1.0, edges).run(0.2)  # deterministic
    # replay greedily, recomputing every link: the same merges in the same order
    eager = AverageLinkage(v, 1.0, edges)
    replay = _replay(eager, 40, 0.2)
    assert [tuple(sorted(m)) for m in merges] == [tuple(sorted(m)) for m in replay]


def _kinds_graph(n: int = 300) -> tuple[np.ndarray, list[tuple], list[int]]:  # type: ignore[type-arg]
    rng = np.random.default_rng(5)
    centres = rng.normal(size=(12, 8))
    v = unit(*(centres[rng.integers(0, 12, n)] + 0.6 * rng.normal(size=(n, 8))).tolist())
    edges = [edge(v, i, j) for i in range(n) for j in range(i + 1, min(n, i + 25))]
    kinds = rng.integers(0, 9, n).tolist()  # kinds clash where they differ by 4 or more
    return v, edges, kinds


def _clash(x: int, y: int) -> bool:
    return abs(x - y) >= 4


def test_compacting_the_heap_and_the_clash_matrix_change_no_merge(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    v, edges, kinds = _kinds_graph()

    def merges() -> list[tuple[int, int]]:
        return AverageLinkage(v, 1.0, edges, None, kinds, _clash).run(0.2)

    default = merges()
    assert len(default) > 100
    monkeypatch.setattr(linkage, "COMPACT_MIN", 0)  # compacts whenever half looks stale
    assert merges() == default
    monkeypatch.setattr(linkage, "COMPACT_MIN", 10**9)  # never: every stale entry popped
    assert merges() == default
    monkeypatch.setattr(linkage, "MATRIX_KINDS", 0)  # clash counts from the kinds' dicts
    assert merges() == default


def test_merges_with_clashing_kinds_match_a_full_recomputation() -> None:
    v, edges, kinds = _kinds_graph(60)
    merges = AverageLinkage(v, 1.0, edges, None, kinds, _clash).run(0.2)
    eager = AverageLinkage(v, 1.0, edges, None, kinds, _clash)
    replay = _replay(eager, 60, 0.2)
    assert len(replay) > 10
    assert [tuple(sorted(m)) for m in merges] == [tuple(sorted(m)) for m in replay]
