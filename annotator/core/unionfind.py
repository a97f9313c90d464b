"""Disjoint sets with path compression, whose result does not depend on merge order.

The smallest key of a set is always its root, so the same unions in any order give the
same roots: reconcile's outputs stay byte-identical however candidate pairs are ordered.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import Any, Generic, Protocol, TypeVar


class _Ordered(Hashable, Protocol):
    def __lt__(self, other: Any, /) -> bool: ...


K = TypeVar("K", bound=_Ordered)


class UnionFind(Generic[K]):
    """Union-find over hashable, ordered keys (ints, strings, tuples of them)."""

    def __init__(self, keys: Iterable[K] = ()) -> None:
        self.parent: dict[K, K] = {k: k for k in keys}

    def __contains__(self, key: object) -> bool:
        return key in self.parent

    def __len__(self) -> int:
        return len(self.parent)

    def add(self, key: K) -> None:
        self.parent.setdefault(key, key)

    def find(self, key: K) -> K:
        """The root of key's set (KeyError for a key never added)."""
        root = key
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[key] != root:  # path compression
            self.parent[key], key = root, self.parent[key]
        return root

    def union(self, a: K, b: K) -> tuple[K, K] | None:
        """Merge the sets of a and b: (kept root, absorbed root), or None if already one."""
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return None
        lo, hi = (ra, rb) if ra < rb else (rb, ra)
        self.parent[hi] = lo
        return lo, hi

    def same(self, a: K, b: K) -> bool:
        return self.find(a) == self.find(b)

    def groups(self) -> dict[K, list[K]]:
        """Root -> members, members in insertion order."""
        out: dict[K, list[K]] = {}
        for key in self.parent:
            out.setdefault(self.find(key), []).append(key)
        return out
