"""Average linkage over a sparse candidate graph: exact mean cosine, clashes counted in
proportion, no chaining through one loose pair, deterministic."""

from __future__ import annotations

import numpy as np

from annotator.reconcile.linkage import CLASH_SCORE, AverageLinkage


def unit(*rows: list[float]) -> np.ndarray:
    v = np.array(rows, dtype=np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def never(a: object, b: object) -> bool:
    return False


def test_link_is_the_mean_over_all_member_pairs() -> None:
    vectors = unit([1, 0], [1, 0.1], [0, 1])
    link = AverageLinkage(vectors, 1.0, [0, 0, 0], [(0, 1, 0.0), (1, 2, 0.0)], never)
    link.merge(0, 1)
    # cosine of {0, 1} with 2, averaged over both pairs, though only (1, 2) is an edge
    expected = float((vectors[0] @ vectors[2] + vectors[1] @ vectors[2]) / 2)
    assert abs(link.link(0, 2) - expected) < 1e-6  # type: ignore[operator]


def test_one_loose_pair_does_not_chain_two_groups() -> None:
    a = [[1, 0, 0]] * 3
    b = [[0, 1, 0]] * 3
    vectors = unit(*a, *b)
    edges = [(0, 1, 0.0), (1, 2, 0.0), (3, 4, 0.0), (4, 5, 0.0), (2, 3, 0.9)]  # a bridge
    link = AverageLinkage(vectors, 1.0, [0] * 6, edges, never)
    link.run(0.5)
    assert len({link.find(i) for i in range(6)}) == 2


def test_clashing_members_pull_the_link_down_in_proportion() -> None:
    vectors = unit([1, 0], [1, 0], [1, 0])
    kinds = ["fact", "fact", "possibility"]
    clash = lambda x, y: {x, y} == {"fact", "possibility"}  # noqa: E731
    link = AverageLinkage(vectors, 1.0, kinds, [(0, 1, 0.0), (1, 2, 0.0), (0, 2, 0.0)], clash)
    assert link.link(1, 2) == CLASH_SCORE
    link.run(0.5)
    assert link.find(0) == link.find(1) != link.find(2)
    assert link.clashes(0, 2) == 2


def test_counts_weigh_a_wording_by_its_records() -> None:
    vectors = unit([1, 0], [0.6, 0.8], [0, 1])
    # node 0 written by 5 records: the cluster {0, 1} leans towards 0
    link = AverageLinkage(vectors, 1.0, [0] * 3, [(0, 1, 0.0), (1, 2, 0.0)], never, [5, 1, 1])
    link.merge(0, 1)
    expected = float((5 * vectors[0] @ vectors[2] + vectors[1] @ vectors[2]) / 6)
    assert abs(link.link(0, 2) - expected) < 1e-6  # type: ignore[operator]


def test_same_input_same_merges() -> None:
    rng = np.random.default_rng(1)
    vectors = unit(*rng.normal(size=(40, 8)).tolist())
    edges = [(i, j, 0.0) for i in range(40) for j in range(i + 1, min(40, i + 6))]
    runs = [AverageLinkage(vectors, 1.0, [0] * 40, edges, never).run(0.2) for _ in range(2)]
    assert runs[0] == runs[1]
