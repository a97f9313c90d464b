"""Cluster claim statements that say the same thing, across articles, without a model.

Statements are compared by their content words and anchors (`claim_features`).
Candidate pairs come from blocking on each statement's rarest words (single rare words
and pairs of the four rarest), never from all pairs; a block too large to compare in
full is split by its members' next rarest words, and a sub-block still too large is
compared in a sliding window over a sorted order. Pairs are scored by IDF-weighted Dice
overlap and merged greedily from the most similar down; two clusters merge only if their
anchors are compatible and their average similarity is high enough, so one loose pair
cannot chain different claims together. An optional `judge` (e.g. a cached model call)
decides pairs in the ambiguous band just below the threshold.

Deterministic: the result depends only on the statements and their order, and the
caller passes them in a content-derived order.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from itertools import combinations

from annotator.core.unionfind import UnionFind
from annotator.reconcile.features import Anchors, StatementFeatures, statement_features

__all__ = [
    "Anchors",
    "PairJudge",
    "StatementCluster",
    "StatementFeatures",
    "candidate_pairs",
    "cluster_statements",
    "statement_features",
]

THRESHOLD = 0.5  # IDF-weighted Dice at or above which two statements are one claim
AMBIGUOUS_FROM = 0.35  # pairs from here to THRESHOLD go to the judge, when there is one
RARE_WORDS = 4  # blocking keys: pairs of a statement's four rarest words ...
SINGLE_KEY_MAX_DF = 30  # ... and each of its two rarest words when no commoner than this
BLOCK_MAX = 48  # blocks up to this size are compared in full, larger ones in a window
WINDOW = 8
SUB_KEYS = 3  # an oversized block is split by each member's next three rarest words
MEDOID_MAX = 60  # distinct wordings above which a cluster's most frequent one represents it
LINK_MIN = 0.4  # mean similarity two clusters need to merge ...
LINK_SAMPLE = 8  # ... over at most this many members of each

PairJudge = Callable[[str, str], bool]  # (statement, statement) -> same claim?


class _Clusters:
    """Union-find over statements that keeps each cluster's merged anchors and members."""

    def __init__(self, anchors: Sequence[Anchors], sim: Callable[[int, int], float]) -> None:
        self.sets: UnionFind[int] = UnionFind(range(len(anchors)))
        self.anchors = list(anchors)
        self.members = [[i] for i in range(len(anchors))]
        self.sim = sim

    def find(self, i: int) -> int:
        return self.sets.find(i)

    def try_union(self, i: int, j: int) -> bool:
        ri, rj = self.find(i), self.find(j)
        if ri == rj:
            return True
        if not self.anchors[ri].compatible(self.anchors[rj]):
            return False
        # average link over (a bounded sample of) the two clusters: one close pair must
        # not chain two different claims together
        left, right = self.members[ri][:LINK_SAMPLE], self.members[rj][:LINK_SAMPLE]
        if len(left) * len(right) > 1:
            mean = sum(self.sim(a, b) for a in left for b in right) / (len(left) * len(right))
            if mean < LINK_MIN:
                return False
        lo, hi = min(ri, rj), max(ri, rj)
        self.sets.union(ri, rj)  # the smaller root is kept
        self.anchors[lo] = self.anchors[lo].merged(self.anchors[hi])
        self.members[lo].extend(self.members[hi])
        self.members[hi] = []
        return True


def candidate_pairs(features: Sequence[StatementFeatures], df: dict[str, int]) -> set[int]:
    """Pairs (encoded i * n + j, i < j) worth scoring, found by blocking on rare words.

    A block larger than BLOCK_MAX is split by each member's next rarest words (paraphrases
    share more than two words); a sub-block still too large is compared in a window.
    """
    n = len(features)
    blocks: dict[object, list[int]] = defaultdict(list)
    ranked: list[list[str]] = []
    for i, f in enumerate(features):
        words = sorted(f.words, key=lambda w: (df[w], w))
        ranked.append(words)
        rare = words[:RARE_WORDS]
        for w in rare[:2]:
            if df[w] <= SINGLE_KEY_MAX_DF:
                blocks[w].append(i)
        for pair in combinations(sorted(rare), 2):
            blocks[pair].append(i)
    pairs: set[int] = set()
    for key, members in blocks.items():
        if len(members) <= BLOCK_MAX:
            _all_pairs(members, n, pairs)
            continue
        taken = set(key) if isinstance(key, tuple) else {key}
        sub: dict[str, list[int]] = defaultdict(list)
        for i in members:
            for w in [w for w in ranked[i] if w not in taken][:SUB_KEYS]:
                sub[w].append(i)
        for sub_members in sub.values():
            if len(sub_members) <= BLOCK_MAX:
                _all_pairs(sub_members, n, pairs)
            else:  # sorted neighbourhood: compare near neighbours only
                ordered = sorted(sub_members, key=lambda i: (ranked[i], i))
                for a, i in enumerate(ordered):
                    for j in ordered[a + 1 : a + 1 + WINDOW]:
                        pairs.add(i * n + j if i < j else j * n + i)
    return pairs


def _all_pairs(members: list[int], n: int, pairs: set[int]) -> None:
    for a, i in enumerate(members):  # members are in increasing order
        for j in members[a + 1 :]:
            pairs.add(i * n + j)


@dataclass(frozen=True, slots=True)
class StatementCluster:
    members: list[int]  # indices into the statements given, increasing
    representative: int  # index of the statement closest to all the others (medoid)


def cluster_statements(
    statements: Sequence[str], *, judge: PairJudge | None = None
) -> list[StatementCluster]:
    """Group statements into claims; clusters are ordered by their first member."""
    unique: dict[str, int] = {}
    owner: list[int] = []  # statement -> unique text
    for s in statements:
        owner.append(unique.setdefault(" ".join(s.split()), len(unique)))
    by_feature: dict[StatementFeatures, int] = {}
    text_feature: list[int] = []  # unique text -> feature (same words and anchors: one claim)
    for t in unique:
        text_feature.append(by_feature.setdefault(statement_features(t), len(by_feature)))
    feats = list(by_feature)
    # a capitalised first word is a name if it is capitalised mid-sentence somewhere
    vocabulary = {w for f in feats for w in f.anchors.names}
    anchors = [
        replace(f.anchors, names=f.anchors.names | {f.lead})
        if f.lead is not None and f.lead in vocabulary
        else f.anchors
        for f in feats
    ]
    text_of = [""] * len(feats)
    for t, u in zip(reversed(unique), reversed(range(len(unique))), strict=True):
        text_of[text_feature[u]] = t
    n = len(feats)
    df: dict[str, int] = defaultdict(int)
    for f in feats:
        for w in f.words:
            df[w] += 1
    weight = {w: math.log(1.0 + n / c) for w, c in df.items()}
    totals = [sum(weight[w] for w in f.words) for f in feats]

    def sim(i: int, j: int) -> float:
        if i == j:
            return 1.0
        denom = totals[i] + totals[j]
        shared = feats[i].words & feats[j].words
        return 2.0 * sum(weight[w] for w in shared) / denom if denom else 1.0

    edges: list[tuple[float, int, int]] = []
    ambiguous: list[tuple[float, int, int]] = []
    for code in candidate_pairs(feats, df):
        i, j = divmod(code, n)
        if not anchors[i].compatible(anchors[j]):
            continue
        score = sim(i, j)
        if score >= THRESHOLD:
            edges.append((-score, i, j))
        elif judge is not None and score >= AMBIGUOUS_FROM:
            ambiguous.append((-score, i, j))
    if judge is not None:
        for neg, i, j in sorted(ambiguous):
            if judge(text_of[i], text_of[j]):
                edges.append((neg, i, j))
    clusters = _Clusters(anchors, sim)
    for _, i, j in sorted(edges):
        clusters.try_union(i, j)
    groups: dict[int, list[int]] = defaultdict(list)
    for idx, u in enumerate(owner):
        groups[clusters.find(text_feature[u])].append(idx)
    texts = list(unique)
    result = []
    for members in sorted(groups.values(), key=lambda g: g[0]):
        counts: dict[int, int] = defaultdict(int)  # unique text -> statements
        first: dict[int, int] = {}
        for idx in members:
            counts[owner[idx]] += 1
            first.setdefault(owner[idx], idx)
        best = _medoid(counts, texts, lambda a, b: sim(text_feature[a], text_feature[b]))
        result.append(StatementCluster(members, first[best]))
    return result


def _medoid(counts: dict[int, int], texts: Sequence[str], sim: Callable[[int, int], float]) -> int:
    """The text most similar to all others (weighted by how often each was written); ties:
    the most frequent, then the shortest, then a-z. Large clusters: the most frequent."""
    order = sorted(counts, key=lambda u: (-counts[u], len(texts[u]), texts[u]))
    if len(order) == 1 or len(order) > MEDOID_MAX:
        return order[0]
    score = {u: sum((counts[v] - (v == u)) * sim(u, v) for v in order) for u in order}
    return min(order, key=lambda u: (-round(score[u], 9), order.index(u)))
