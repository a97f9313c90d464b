"""One union-find (disjoint sets) for reconcile: clusters of statements, entities of names.

The smaller key becomes the root, so the sets and their roots do not depend on the order
of the unions.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import Any, Generic, TypeVar

K = TypeVar("K", bound=Hashable)


class UnionFind(Generic[K]):
    def __init__(self, keys: Iterable[K]) -> None:
        self.parent: dict[K, K] = {k: k for k in keys}

    def find(self, key: K) -> K:
        root = key
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[key] != root:  # path compression
            self.parent[key], key = root, self.parent[key]
        return root

    def union(self, a: K, b: K) -> tuple[K, K] | None:
        """Join the sets of a and b; returns (new root, absorbed root), None if one set."""
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return None
        lo, hi = (ra, rb) if _less(ra, rb) else (rb, ra)
        self.parent[hi] = lo
        return lo, hi


def _less(a: Any, b: Any) -> bool:
    return bool(a < b)
