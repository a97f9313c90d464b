"""The shared union-find: roots are the smallest key, whatever the merge order."""

from __future__ import annotations

import itertools
import random

from annotator.core.unionfind import UnionFind


def test_union_keeps_smallest_key_as_root_and_reports_what_merged() -> None:
    uf = UnionFind(range(6))
    assert uf.union(4, 2) == (2, 4)
    assert uf.union(2, 4) is None  # already one set
    assert uf.union(5, 4) == (2, 5)
    assert uf.find(5) == 2 and uf.same(4, 5) and not uf.same(0, 5)
    assert uf.groups() == {0: [0], 1: [1], 2: [2, 4, 5], 3: [3]}


def test_same_unions_in_any_order_give_the_same_roots() -> None:
    keys = [("a", "source", f"s{i}") for i in range(8)]
    pairs = [(keys[0], keys[3]), (keys[3], keys[5]), (keys[7], keys[1]), (keys[6], keys[5])]
    results = set()
    for order in itertools.permutations(pairs):
        uf = UnionFind(keys)
        for a, b in order:
            uf.union(b, a)
        results.add(tuple(uf.find(k) for k in keys))
    assert len(results) == 1
    roots = results.pop()
    assert roots[5] == roots[6] == keys[0] and roots[7] == keys[1]


def test_path_compression_flattens_long_chains() -> None:
    n = 2000
    uf: UnionFind[int] = UnionFind()
    for i in range(n):
        uf.add(i)
    for i in range(n - 1, 0, -1):  # chain n-1 -> ... -> 0 built from the top
        uf.union(i, i - 1)
    assert uf.find(n - 1) == 0
    assert all(uf.parent[i] == 0 for i in range(n))  # one find flattened the path
    assert len(uf) == n and 5 in uf and n not in uf


def test_random_unions_match_a_brute_force_partition() -> None:
    rng = random.Random(7)
    n = 60
    uf = UnionFind(range(n))
    label = list(range(n))
    for _ in range(80):
        a, b = rng.randrange(n), rng.randrange(n)
        uf.union(a, b)
        la, lb = label[a], label[b]
        label = [la if x == lb else x for x in label]
    for a in range(n):
        members = [b for b in range(n) if label[b] == label[a]]
        assert uf.find(a) == min(members)
