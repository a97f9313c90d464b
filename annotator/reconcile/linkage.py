"""Average-linkage clustering over a sparse graph of scored pairs, with hard conflicts.

A pair score is `weight` x the cosine of two unit vectors plus an extra term known only
for the graph's edges (the candidate pairs: nearest neighbours, never all pairs; a pair
that is not a candidate is far apart and gets no extra). The link between two clusters
is the mean pair score over ALL their item pairs: the cosine part exactly, from each
cluster's sum of vectors, the extra part from the edges between them. A candidate pair
whose anchors clash (another date, "ready to speak" vs "spoke") scores `CLASH_SCORE`
instead. Clusters merge best link first while it reaches the threshold: one loose pair
cannot chain two claims together, and members that contradict the other cluster pull the
link down in proportion. Every edge sum is additive, so a merge just adds them.

A merge folds the smaller cluster's edges into the larger's and pushes the merged
cluster's links afresh; heap entries of clusters that have merged since are skipped, and
dropped in bulk once about half the heap is such. Scores and clash counts are computed
for all of a cluster's links at once (numpy), and for all edges at once in the first
pass; whether two kinds of anchors clash is asked once and kept in a matrix.

Deterministic: ties are broken by node index; the cluster with more neighbours keeps its
index.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Sequence

import numpy as np

CLASH_SCORE = -1.0  # a pair whose anchors disagree: counts as this in the average
_CHUNK = 65536  # edges per vectorised step of the first pass
COMPACT_MIN = 4096  # heap entries below which stale ones are left to be popped
MATRIX_KINDS = 4096  # distinct anchors up to which their clashes are kept in a matrix


class AverageLinkage:
    def __init__(
        self,
        vectors: np.ndarray,
        weight: float,
        edges: Iterable[tuple[int, int, float, float, bool]],
        counts: Sequence[int] | None = None,
        kinds: Sequence[int] | None = None,
        clash: Callable[[int, int], bool] | None = None,
        plain: Sequence[bool] = (),
    ) -> None:
        """`edges`: (i, j, cosine, extra, clash) for the candidate pairs. With `kinds` and
        `clash` (which kinds of node clash), clashing pairs are counted over ALL item
        pairs of two clusters, not just the candidates; two `plain` kinds never clash."""
        n = len(vectors)
        self.weight = weight
        # a node stands for `counts` items (records with this wording): the means are
        # over items, as if each record were its own node
        self.size = list(counts) if counts is not None else [1] * n
        self._size = np.asarray(self.size, dtype=np.float64)  # the same, for vector steps
        self.sums = np.asarray(vectors, dtype=np.float32) * np.asarray(
            self.size, dtype=np.float32
        ).reshape(-1, 1)  # each cluster's sum of vectors
        self.parent = list(range(n))
        # root -> {other root: [sum of the pairs' extras, pairs, clashing pairs]}
        self.adj: list[dict[int, list[float]]] = [{} for _ in range(n)]
        self.version = [0] * n
        self.kinds = (
            [{k: c} for k, c in zip(kinds, self.size, strict=True)] if kinds is not None else None
        )
        # each cluster's one kind, -1 once it holds several: most clusters hold one, so
        # most clash counts are one cached lookup, done for many links at once
        self._single = np.asarray(kinds if kinds is not None else [-1] * n, dtype=np.int64)
        self._clash = clash
        self._plain = list(plain)
        self._clashes: dict[tuple[int, int], bool] = {}
        # kind x kind: 1 clash, 0 none, -1 not asked yet; for a cluster of one kind (most
        # are) its clash counts with all its neighbours are one lookup of a row
        n_kinds = int(self._single.max(initial=-1)) + 1
        self._matrix = (
            np.full((n_kinds, n_kinds), -1, dtype=np.int8)
            if kinds is not None and n_kinds <= MATRIX_KINDS
            else None
        )
        for i, j, cos, extra, clashing in edges:
            items = self.size[i] * self.size[j]
            if self.kinds is not None:
                term = 0.0 if clashing else extra  # clashes: counted from the kinds
            else:  # a clashing pair scores CLASH_SCORE: its extra undoes its cosine part
                term = CLASH_SCORE - weight * cos if clashing else extra
            edge = [term * items, 1.0, float(items) if clashing else 0.0]
            self.adj[i][j] = edge
            self.adj[j][i] = edge

    def find(self, i: int) -> int:
        root = i
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[i] != root:
            self.parent[i], i = root, self.parent[i]
        return root

    def clashes(self, a: int, b: int) -> int:
        """How many item pairs across two clusters (roots) clash (without kinds: among the
        candidate pairs)."""
        if self.kinds is None or self._clash is None:
            edge = self.adj[a].get(b)
            return 0 if edge is None else int(edge[2])
        ka, kb = self.kinds[a], self.kinds[b]
        if len(ka) == 1 and len(kb) == 1 and ka.keys() == kb.keys():
            return 0
        clashes = 0
        for y, cb in kb.items():
            clashes += cb * self._clashing_items(ka, y)
        return clashes

    def _kinds_clash(self, x: int, y: int) -> bool:
        if x == y or (self._plain and self._plain[x] and self._plain[y]):
            return False
        key = (x, y) if x < y else (y, x)
        hit = self._clashes.get(key)
        if hit is None:
            assert self._clash is not None
            hit = self._clashes[key] = self._clash(x, y)
        return hit

    def _clashing_items(self, ka: dict[int, int], y: int) -> int:
        """Items of a cluster (its kind counts `ka`) whose kind clashes with kind `y`."""
        return sum([ca for x, ca in ka.items() if self._kinds_clash(x, y)])

    def _clash_row(self, x: int, ys: np.ndarray) -> np.ndarray:
        """1.0 where kind x clashes with kind ys[k], else 0.0 (each pair asked once)."""
        assert self._matrix is not None
        row = self._matrix[x]
        flags = row[ys]
        if (flags < 0).any():
            for y in np.unique(ys[flags < 0]).tolist():
                row[y] = self._matrix[y, x] = self._kinds_clash(x, y)
            flags = row[ys]
        return flags.astype(np.float64)

    def _clash_counts(self, root: int, others: np.ndarray) -> np.ndarray:
        """`clashes(root, c)` for each c of `others`, as floats (exact)."""
        if self.kinds is None or self._clash is None:
            return np.array([self.clashes(root, c) for c in others.tolist()], dtype=np.float64)
        out = np.zeros(len(others), dtype=np.float64)
        ka = self.kinds[root]
        ys = self._single[others]
        x = int(self._single[root])
        if x >= 0 and bool((ys == x).all()):
            return out  # all of one kind: nothing clashes
        memo: dict[int, int] = {}  # kind -> items of root that clash with it
        if x >= 0 and self._matrix is not None:  # one kind: a row of the matrix
            one = ys >= 0
            flags = self._clash_row(x, ys[one])
            out[one] = flags * (float(self.size[root]) * self._size[others[one]])
            if bool(one.all()):
                return out
            ys = np.where(one, -2, ys)  # done: only the clusters of several kinds are left
        for y in set(ys.tolist()):
            if y < 0:
                continue
            items = memo[y] = self._clashing_items(ka, y)
            if items:
                sel = ys == y
                out[sel] = items * self._size[others[sel]]
        for k in np.flatnonzero(ys == -1).tolist():  # several kinds: each kind once per root
            total = 0
            for y, cb in self.kinds[int(others[k])].items():
                if y not in memo:
                    memo[y] = self._clashing_items(ka, y)
                total += cb * memo[y]
            out[k] = total
        return out

    def link(self, a: int, b: int, edge: list[float] | None = None) -> float | None:
        """Mean pair score between two clusters (roots); None: no edge between them."""
        if edge is None:
            edge = self.adj[a].get(b)
            if edge is None:
                return None
        pairs = self.size[a] * self.size[b]
        mean = (self.weight * float(self.sums[a] @ self.sums[b]) + edge[0]) / pairs
        if self.kinds is None:
            return mean
        x = self.clashes(a, b)
        return mean if not x else mean + (CLASH_SCORE - mean) * x / pairs

    def run(self, threshold: float) -> list[tuple[int, int]]:
        """Merge while the best link reaches `threshold`; returns the merges (roots)."""
        heap = self._first_links(threshold)
        heapq.heapify(heap)
        merges = []
        version = self.version
        # entries in the heap per cluster, and about how many are stale (a side merged
        # since: an entry of both sides counts twice, so this errs towards compacting)
        queued = [0] * len(version)
        for _, a, b, _, _ in heap:
            queued[a] += 1
            queued[b] += 1
        stale = 0
        while heap:
            _, a, b, va, vb = heapq.heappop(heap)
            if version[a] != va or version[b] != vb:
                stale -= 1
                continue  # a side has merged since: its fresh links were pushed then
            merges.append((a, b))
            stale += queued[a] + queued[b] - 2
            root = self.merge(a, b)
            queued[a] = queued[b] = 0
            fresh: list[tuple[float, int, int, int, int]] = []
            self._push_links(fresh, root, threshold)
            queued[root] = len(fresh)
            for entry in fresh:
                heapq.heappush(heap, entry)
                queued[entry[1] if entry[2] == root else entry[2]] += 1
            if stale > len(heap) // 2 and len(heap) > COMPACT_MIN:
                # most entries are stale (a side merged): dropping them all at once is far
                # cheaper than popping each; the live ones keep their order
                heap = [e for e in heap if version[e[1]] == e[3] and version[e[2]] == e[4]]
                heapq.heapify(heap)
                stale = 0
        return merges

    def _first_links(self, threshold: float) -> list[tuple[float, int, int, int, int]]:
        """The heap entries of all links between the nodes that reach the threshold, in
        vectorised steps over all edges (each node is its own cluster yet)."""
        lo: list[int] = []
        hi: list[int] = []
        terms: list[float] = []
        for a, adj in enumerate(self.adj):
            for c, edge in adj.items():
                if c > a:
                    lo.append(a)
                    hi.append(c)
                    terms.append(edge[0])
        if not lo:
            return []
        left, right = np.asarray(lo, dtype=np.int64), np.asarray(hi, dtype=np.int64)
        dots = np.empty(len(left), dtype=np.float64)
        for start in range(0, len(left), _CHUNK):  # no (edges x dim) matrix
            rows, cols = left[start : start + _CHUNK], right[start : start + _CHUNK]
            dots[start : start + len(rows)] = np.einsum(
                "ij,ij->i", self.sums[rows], self.sums[cols]
            )
        pairs = self._size[left] * self._size[right]
        scores = (self.weight * dots + np.asarray(terms, dtype=np.float64)) / pairs
        reach = np.flatnonzero(scores >= threshold)
        if not len(reach):
            return []
        left, right, scores, pairs = left[reach], right[reach], scores[reach], pairs[reach]
        if self.kinds is not None:
            if self._clash is None:
                pairs_ab = zip(left.tolist(), right.tolist(), strict=True)
                x = np.array([self.clashes(a, b) for a, b in pairs_ab], dtype=np.float64)
            else:  # one kind per node: a pair's items all clash or none does
                x = self._kind_pairs_clash(self._single[left], self._single[right]) * pairs
            hit = x > 0
            if hit.any():
                scores[hit] += (CLASH_SCORE - scores[hit]) * x[hit] / pairs[hit]
                keep = ~hit | (scores >= threshold)
                left, right, scores = left[keep], right[keep], scores[keep]
        version = self.version
        return [
            (-score, a, b, version[a], version[b])
            for a, b, score in zip(left.tolist(), right.tolist(), scores.tolist(), strict=True)
        ]

    def _kind_pairs_clash(self, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
        """1.0 where kinds xs[k] and ys[k] clash, else 0.0 (each distinct pair asked once)."""
        codes = xs * (int(max(xs.max(initial=0), ys.max(initial=0))) + 1) + ys
        order = np.argsort(codes, kind="stable")
        ordered = codes[order]
        first = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
        flags = np.array(
            [self._kinds_clash(int(xs[order[k]]), int(ys[order[k]])) for k in first.tolist()],
            dtype=np.float64,
        )
        out = np.empty(len(codes), dtype=np.float64)
        out[order] = np.repeat(flags, np.diff(np.append(first, len(codes))))
        return out

    def _push_links(
        self,
        out: list[tuple[float, int, int, int, int]],
        root: int,
        threshold: float,
        above: int = -1,
    ) -> None:
        """Append the heap entries of a merged cluster's links that reach the threshold:
        all scores before clashes in one vectorised step; clashes (which only lower a link)
        only where the rest reaches it. `above`: only the links to clusters of a higher
        index (the first pass)."""
        adj = self.adj[root]
        if not adj:
            return
        others = [c for c in adj if c > above] if above >= 0 else list(adj)
        if not others:
            return
        extras = np.fromiter((adj[c][0] for c in others), dtype=np.float64, count=len(others))
        dots = (self.sums[others] @ self.sums[root]).astype(np.float64)
        size = self.size[root]
        pairs = self._size[others] * float(size)  # exact: item counts are far below 2**53
        scores = (self.weight * dots + extras) / pairs
        reach = np.flatnonzero(scores >= threshold)
        if not len(reach):
            return
        near = np.asarray(others, dtype=np.int64)[reach]
        scores = scores[reach]
        if self.kinds is not None:
            x = self._clash_counts(root, near)
            hit = x > 0
            if hit.any():
                # a clashing item pair counts as CLASH_SCORE instead of its share of the mean
                scores[hit] += (CLASH_SCORE - scores[hit]) * x[hit] / pairs[reach][hit]
                keep = ~hit | (scores >= threshold)
                near, scores = near[keep], scores[keep]
        version = self.version
        for c, score in zip(near.tolist(), scores.tolist(), strict=True):
            lo, hi = (root, c) if root < c else (c, root)
            out.append((-score, lo, hi, version[lo], version[hi]))

    def merge(self, a: int, b: int) -> int:
        """Join two clusters (roots); the one with more neighbours stays the root."""
        if (len(self.adj[a]), b) < (len(self.adj[b]), a):
            a, b = b, a
        root, gone = a, b
        self.parent[gone] = root
        if self.kinds is not None:
            kinds = self.kinds[root]
            for k, c in self.kinds[gone].items():
                kinds[k] = kinds.get(k, 0) + c
            self.kinds[gone] = {}
            if self._single[root] != self._single[gone]:
                self._single[root] = -1
        self.sums[root] += self.sums[gone]
        self.size[root] += self.size[gone]
        self._size[root] = self.size[root]
        big, small = self.adj[root], self.adj[gone]
        big.pop(gone, None)
        for c, edge in small.items():
            if c == root:
                continue
            other = self.adj[c]
            del other[gone]
            mine = big.get(c)
            if mine is not None:
                mine[0] += edge[0]  # shared with other[root]
                mine[1] += edge[1]
                mine[2] += edge[2]
            else:
                big[c] = edge
                other[root] = edge
        self.adj[gone] = {}
        self.version[root] += 1
        self.version[gone] = -1
        return root
