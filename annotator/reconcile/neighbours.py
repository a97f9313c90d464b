"""Nearest neighbours of unit vectors by cosine similarity, without comparing all pairs.

Up to `EXACT_MAX` vectors: exact top-k, in blocks of rows (a block of similarities is
`BLOCK` x n floats, never n x n). Above that: an inverted-file index (IVF): the vectors
are grouped around `sqrt(n)` centroids found by a few rounds of k-means on a sample, and
each vector is compared only with the members of its `PROBES` nearest groups. Work grows
as n^1.5 instead of n^2 (1M statements: about 3,000 comparisons each, not 1M).

Deterministic: k-means starts from evenly spaced rows and ties are broken by index, so
the same vectors in the same order give the same neighbours.
"""

from __future__ import annotations

import numpy as np

from annotator.reconcile.forked import in_two

EXACT_MAX = 20_000  # exact search up to this many vectors
BLOCK = 1024  # query rows per matrix product
PROBES = 4  # IVF groups searched per vector
KMEANS_ROUNDS = 6
KMEANS_SAMPLE = 50_000
FORK_GROUPS = 64  # IVF groups from which the second half is searched in a forked child


def nearest_pairs(vectors: np.ndarray, k: int, floor: float) -> np.ndarray:
    """Candidate pairs: each vector with its k nearest others of similarity >= floor.

    Returns an (m, 2) int64 array of (i, j) with i < j, sorted, each pair once.
    """
    n = len(vectors)
    if n < 2 or k < 1:
        return np.zeros((0, 2), dtype=np.int64)
    k = min(k, n - 1)
    if n <= EXACT_MAX:
        rows, cols = _exact(vectors, k, floor)
    else:
        rows, cols = _ivf(vectors, k, floor)
    lo, hi = np.minimum(rows, cols), np.maximum(rows, cols)
    keep = lo != hi
    codes = np.sort(lo[keep].astype(np.int64) * n + hi[keep])
    # each pair once (np.unique does the same, several times slower on numpy 2)
    if len(codes) > 1:
        codes = codes[np.concatenate(([True], codes[1:] != codes[:-1]))]
    return np.stack(np.divmod(codes, n), axis=1)


def _top_k(sims: np.ndarray, k: int) -> np.ndarray:
    """Column indices of each row's k largest values (ties: lower index first)."""
    if sims.shape[1] <= k:
        return np.broadcast_to(np.arange(sims.shape[1]), sims.shape).copy()
    part = np.argpartition(-sims, k - 1, axis=1)[:, :k]
    # argpartition picks any of the values tied with the k-th: where more are tied than
    # were picked, choose that row again, stably (equal vectors, e.g. texts that differ
    # only in punctuation, tie)
    picked = np.take_along_axis(sims, part, axis=1)
    kth = picked.min(axis=1, keepdims=True)
    tied = np.count_nonzero(sims == kth, axis=1) > np.count_nonzero(picked == kth, axis=1)
    for r in np.flatnonzero(tied).tolist():
        part[r] = np.argsort(-sims[r], kind="stable")[:k]
    return np.sort(part, axis=1)


def _exact(vectors: np.ndarray, k: int, floor: float) -> tuple[np.ndarray, np.ndarray]:
    n = len(vectors)
    rows_out, cols_out = [], []
    for start in range(0, n, BLOCK):
        block = vectors[start : start + BLOCK] @ vectors.T
        idx = np.arange(start, min(start + BLOCK, n))
        block[idx - start, idx] = -np.inf  # not itself
        top = _top_k(block, k)
        vals = np.take_along_axis(block, top, axis=1)
        r, c = np.nonzero(vals >= floor)
        rows_out.append(idx[r])
        cols_out.append(top[r, c])
    return np.concatenate(rows_out), np.concatenate(cols_out)


def _kmeans(vectors: np.ndarray, groups: int) -> np.ndarray:
    n = len(vectors)
    step = max(1, n // KMEANS_SAMPLE)
    sample = vectors[::step]
    centroids = sample[np.linspace(0, len(sample) - 1, groups).astype(np.int64)].copy()
    for _ in range(KMEANS_ROUNDS):
        assign = _assign(sample, centroids, 1)[:, 0]
        order = np.argsort(assign, kind="stable")
        bounds = np.searchsorted(assign[order], np.arange(groups + 1))
        members = sample[order]
        sums = np.zeros_like(centroids)
        for g in np.flatnonzero(bounds[1:] > bounds[:-1]).tolist():
            # row by row in sample order, as np.add.at would add them, only faster
            sums[g] = np.add.reduce(members[bounds[g] : bounds[g + 1]], axis=0)
        counts = np.bincount(assign, minlength=groups)
        filled = counts > 0
        centroids[filled] = sums[filled] / counts[filled, None]
        norms = np.linalg.norm(centroids, axis=1, keepdims=True)
        centroids /= np.where(norms == 0, 1.0, norms)
    return centroids


def _assign(vectors: np.ndarray, centroids: np.ndarray, probes: int) -> np.ndarray:
    out = np.empty((len(vectors), probes), dtype=np.int64)
    for start in range(0, len(vectors), 8 * BLOCK):
        sims = vectors[start : start + 8 * BLOCK] @ centroids.T
        if probes == 1:  # the nearest only (k-means rounds): ties to the lower index
            out[start : start + len(sims), 0] = sims.argmax(axis=1)
            continue
        top = np.argpartition(-sims, probes - 1, axis=1)[:, :probes]
        order = np.argsort(-np.take_along_axis(sims, top, axis=1), axis=1, kind="stable")
        out[start : start + len(sims)] = np.take_along_axis(top, order, axis=1)
    return out


def _ivf(vectors: np.ndarray, k: int, floor: float) -> tuple[np.ndarray, np.ndarray]:
    n = len(vectors)
    groups = max(2, int(np.sqrt(n)))
    centroids = _kmeans(vectors, groups)
    probes = _assign(vectors, centroids, min(PROBES, groups))
    home = probes[:, 0]  # each vector lives in its nearest group ...
    order = np.argsort(home, kind="stable")
    bounds = np.searchsorted(home[order], np.arange(groups + 1))
    # ... and is searched for in the groups it probes
    queries = np.argsort(probes.ravel(), kind="stable")
    qbounds = np.searchsorted(probes.ravel()[queries], np.arange(groups + 1))

    def search(first: int, last: int) -> tuple[np.ndarray, np.ndarray]:
        """Each vector's k best (similarities, indices) among groups first..last-1."""
        best_sim = np.full((n, k), -np.inf, dtype=np.float32)
        best_idx = np.full((n, k), -1, dtype=np.int64)
        for g in range(first, last):
            members = order[bounds[g] : bounds[g + 1]]
            asking = queries[qbounds[g] : qbounds[g + 1]] // probes.shape[1]
            if len(members) == 0 or len(asking) == 0:
                continue
            for start in range(0, len(asking), BLOCK):
                q = asking[start : start + BLOCK]
                sims = vectors[q] @ vectors[members].T
                sims[q[:, None] == members[None, :]] = -np.inf
                top = _top_k(sims, min(k, len(members)))
                _keep_best(best_sim, best_idx, q, np.take_along_axis(sims, top, 1), members[top])
        return best_sim, best_idx

    # the groups in two halves, the second in a forked child; each vector's k best of
    # both halves are its k best of all (each member lives in one group: no repeats)
    parts = in_two(groups, search, FORK_GROUPS)
    best_sim, best_idx = parts[0]
    for sims, idx in parts[1:]:
        _keep_best(best_sim, best_idx, np.arange(n), sims, idx)
    r, c = np.nonzero((best_sim >= floor) & (best_idx >= 0))
    return r.astype(np.int64), best_idx[r, c]


def _keep_best(
    best_sim: np.ndarray, best_idx: np.ndarray, q: np.ndarray, sims: np.ndarray, idx: np.ndarray
) -> None:
    """Rows q of (best_sim, best_idx) become the k best of themselves and (sims, idx)."""
    cand_sim = np.concatenate([best_sim[q], sims], axis=1)
    cand_idx = np.concatenate([best_idx[q], idx], axis=1)
    pick = _best(cand_sim, cand_idx, best_sim.shape[1])
    best_sim[q] = np.take_along_axis(cand_sim, pick, axis=1)
    best_idx[q] = np.take_along_axis(cand_idx, pick, axis=1)


def _best(sims: np.ndarray, idx: np.ndarray, k: int) -> np.ndarray:
    """Per row, positions of the k largest sims, ties broken by the smaller index."""
    key = np.where(np.isfinite(sims), sims, -2.0).astype(np.float64)
    # sims are cosines in [-1, 1]: fold the index into the key below float32 resolution
    key = key - idx.astype(np.float64) * 1e-12
    return np.argsort(-key, axis=1, kind="stable")[:, :k]
