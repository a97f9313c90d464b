"""Average-linkage clustering over a sparse graph of scored pairs, with hard conflicts.

A pair score is `weight` x the cosine of two unit vectors plus an extra term known only
for the graph's edges (the candidate pairs: nearest neighbours, never all pairs; a pair
that is not a candidate is far apart and gets no extra). The link between two clusters
is the mean pair score over ALL their node pairs: the cosine part exactly, from each
cluster's sum of vectors, the extra part from the edges between them. Nodes carry a
`kind` (in clustering: their `Anchors`); two kinds may clash (another date, "ready to
speak" vs "spoke"): a clashing pair counts `CLASH_SCORE` instead, counted exactly from
each cluster's tally of kinds. Clusters merge best link first while it reaches the
threshold: one loose pair cannot chain two claims together, and members that contradict
the other cluster pull the link down in proportion.

Deterministic: ties are broken by node index, merged clusters keep the smaller index.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Callable, Iterable, Sequence

import numpy as np

CLASH_SCORE = -1.0  # a pair whose anchors disagree: counts as this in the average


class AverageLinkage:
    def __init__(
        self,
        vectors: np.ndarray,
        weight: float,
        kinds: Sequence[int],
        edges: Iterable[tuple[int, int, float]],
        clash: Callable[[int, int], bool],
        counts: Sequence[int] | None = None,
    ) -> None:
        n = len(kinds)
        self.weight = weight
        # a node stands for `counts` items (records with this wording): the means are
        # over items, as if each record were its own node
        self.size = list(counts) if counts is not None else [1] * n
        self.sums = [v.astype(np.float64) * c for v, c in zip(vectors, self.size, strict=True)]
        self.parent = list(range(n))
        self.kinds: list[Counter[int]] = [
            Counter({k: c}) for k, c in zip(kinds, self.size, strict=True)
        ]
        self.adj: list[dict[int, list[float]]] = [{} for _ in range(n)]  # root -> [sum, count]
        self.version = [0] * n
        self._clash = clash
        self._clashes: dict[tuple[int, int], bool] = {}
        for i, j, extra in edges:  # the pair score minus weight x cosine
            if self.kind_clash(kinds[i], kinds[j]):
                extra = 0.0  # counted from the kinds; the edge still makes them candidates
            self.adj[i][j] = [extra * self.size[i] * self.size[j], 1.0]
            self.adj[j][i] = self.adj[i][j]

    def kind_clash(self, a: int, b: int) -> bool:
        if a == b:
            return False
        key = (a, b)
        hit = self._clashes.get(key)
        if hit is None:
            hit = self._clash(a, b)
            self._clashes[key] = self._clashes[(b, a)] = hit
        return hit

    def find(self, i: int) -> int:
        root = i
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[i] != root:
            self.parent[i], i = root, self.parent[i]
        return root

    def clashes(self, a: int, b: int) -> int:
        """How many node pairs across two clusters (roots) clash."""
        ka, kb = self.kinds[a], self.kinds[b]
        clashes = 0
        for x, ca in ka.items():
            for y, cb in kb.items():
                if x != y and self.kind_clash(x, y):
                    clashes += ca * cb
        return clashes

    def link(self, a: int, b: int) -> float | None:
        """Mean pair score between two clusters (roots); None: no edge between them."""
        edge = self.adj[a].get(b)
        if edge is None:
            return None
        pairs = self.size[a] * self.size[b]
        mean = (self.weight * float(self.sums[a] @ self.sums[b]) + edge[0]) / pairs
        x = self.clashes(a, b)
        return mean if not x else mean + (CLASH_SCORE - mean) * x / pairs

    def run(self, threshold: float) -> list[tuple[int, int]]:
        """Merge while the best link reaches `threshold`; returns the merges (roots)."""
        heap: list[tuple[float, int, int, int, int]] = []
        for a in range(len(self.adj)):
            for b in self.adj[a]:
                if a < b:
                    self._push(heap, a, b, threshold)
        merges = []
        while heap:
            _, a, b, va, vb = heapq.heappop(heap)
            if self.version[a] != va or self.version[b] != vb:
                continue  # one side has merged since: a fresher entry exists
            root = self.merge(a, b)
            merges.append((a, b))
            for c in sorted(self.adj[root]):
                self._push(heap, min(root, c), max(root, c), threshold)
        return merges

    def _push(self, heap: list[tuple[float, int, int, int, int]], a: int, b: int, t: float) -> None:
        score = self.link(a, b)
        if score is not None and score >= t:
            heapq.heappush(heap, (-score, a, b, self.version[a], self.version[b]))

    def merge(self, a: int, b: int) -> int:
        """Join two clusters (roots); the smaller index stays the root."""
        lo, hi = min(a, b), max(a, b)
        self.parent[hi] = lo
        self.kinds[lo].update(self.kinds[hi])
        self.kinds[hi] = Counter()
        self.sums[lo] = self.sums[lo] + self.sums[hi]
        self.size[lo] += self.size[hi]
        big, small = self.adj[lo], self.adj[hi]
        if len(small) > len(big):
            big, small = small, big
        big.pop(lo, None)
        big.pop(hi, None)
        for c, (s, k) in small.items():
            if c in (lo, hi):
                continue
            mine = big.get(c)
            if mine is None:
                big[c] = [s, k]
            else:
                big[c] = [mine[0] + s, mine[1] + k]
        for c, edge in big.items():
            other = self.adj[c]
            other.pop(lo, None)
            other.pop(hi, None)
            other[lo] = edge
        self.adj[lo], self.adj[hi] = big, {}
        self.version[lo] += 1
        self.version[hi] = -1
        return lo
