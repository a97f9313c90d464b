"""Cluster claim statements that say the same thing, across articles, by meaning.

Each distinct statement gets a sentence embedding (`embeddings.Embedder`) and its
`statement_features`. Candidate pairs are each statement's nearest neighbours in
embedding space (`neighbours.nearest_pairs`), never all pairs. A pair's score combines
the embedding cosine with an IDF-weighted overlap of content words, lowered when the
main clauses differ in polarity, when only one is a prediction ("will"), or when each
names someone the other does not (names compared by spelling and by their own
embedding, so Zelensky = Zelenskyy and Kiev = Kyiv without a table); a pair whose
anchors disagree (dates, numbers, before/after, readiness vs the event) is never merged.

Pairs at or above THRESHOLD are merged greedily from the best down, average-linkage
style: two clusters join only if their anchors agree and their mean pairwise score
(over a bounded sample of members) reaches LINK_MIN, so one loose pair cannot chain two
claims together. An optional `judge` (a cached, bounded model call) decides the pairs
in the uncertain band just below THRESHOLD. Each cluster says what merged it.

Deterministic: the result depends only on the statements and their order, and the
caller passes them in a content-derived order.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz

from annotator.core.models import MergedBy
from annotator.reconcile.embeddings import BundledEmbedder, Embedder, normalise
from annotator.reconcile.features import Anchors, StatementFeatures, statement_features
from annotator.reconcile.names import fold
from annotator.reconcile.neighbours import nearest_pairs
from annotator.reconcile.unionfind import UnionFind

__all__ = [
    "ClusterScorer",
    "MergedBy",
    "PairJudge",
    "StatementCluster",
    "cluster_statements",
    "statement_features",
]

EMBED_WEIGHT = 0.5  # score = this x cosine + the rest x word overlap, minus penalties
THRESHOLD = 0.3  # score at or above which two statements are one claim
LINK_MIN = 0.15  # mean score two clusters need to merge ...
LINK_SAMPLE = 8  # ... over at most this many members of each
JUDGE_BAND = 0.12  # pairs from THRESHOLD - this up to THRESHOLD go to the judge
NEGATION_PENALTY = 0.2
IRREALIS_PENALTY = 0.0
NAME_PENALTY = 0.35
NAME_SIMILAR = 0.3  # name embeddings at least this close: the same name (Kiev ~ Kyiv)
NAME_SPELLING = 80  # or spellings this close (rapidfuzz ratio, folded)
# Subtract the mean vector of the input (what all statements share, e.g. the event's
# protagonists, is no evidence that two say the same thing), shrunk towards zero for small
# inputs, whose mean is mostly the statements themselves: weight n / (n + CENTER_PRIOR)
CENTER_PRIOR = 20.0
IDF_POWER = 2.0
NEIGHBOURS = 20  # candidates per statement
NEIGHBOUR_FLOOR = 0.3  # cosine below which a neighbour is not a candidate
MEDOID_MAX = 60  # distinct wordings above which a cluster's most frequent one represents it

PairJudge = Callable[[str, str], bool | None]  # same claim? None: not asked (budget spent)
_RANK: dict[MergedBy, int] = {"rule": 0, "embedding": 1, "model": 2}


@dataclass(frozen=True, slots=True)
class StatementCluster:
    members: list[int]  # indices into the statements given, increasing
    representative: int  # index of the statement closest to all the others (medoid)
    merged_by: MergedBy | None = None  # None: one wording only


class ClusterScorer:
    """Pair scores over distinct statements: embeddings, word overlap, soft signals."""

    def __init__(
        self, feats: Sequence[StatementFeatures], vectors: np.ndarray, embedder: Embedder
    ) -> None:
        self.feats = feats
        self.vectors = vectors
        n = len(feats)
        df: dict[str, int] = defaultdict(int)
        for f in feats:
            for w in f.words:
                df[w] += 1
        self.weight = {w: math.log(1.0 + n / c) ** IDF_POWER for w, c in df.items()}
        self.totals = [sum(self.weight[w] for w in f.words) for f in feats]
        # a capitalised first word is a name if it is capitalised mid-sentence somewhere
        vocabulary = {w for f in feats for w in f.names}
        self.names = [
            f.names | {f.lead} if f.lead is not None and f.lead in vocabulary else f.names
            for f in feats
        ]
        distinct = sorted({w for ns in self.names for w in ns})
        self.name_index = {w: i for i, w in enumerate(distinct)}
        self.name_vectors = embedder.embed(distinct) if distinct else np.zeros((0, 1))
        self._same_name: dict[tuple[str, str], bool] = {}

    def overlap(self, i: int, j: int) -> float:
        denom = self.totals[i] + self.totals[j]
        if not denom:
            return 1.0
        shared = self.feats[i].words & self.feats[j].words
        return 2.0 * sum(self.weight[w] for w in shared) / denom

    def same_name(self, a: str, b: str) -> bool:
        key = (a, b) if a < b else (b, a)
        hit = self._same_name.get(key)
        if hit is None:
            va, vb = self.name_vectors[self.name_index[a]], self.name_vectors[self.name_index[b]]
            hit = (
                fold(a) == fold(b)
                or fuzz.ratio(fold(a), fold(b)) >= NAME_SPELLING
                or float(va @ vb) >= NAME_SIMILAR
            )
            self._same_name[key] = hit
        return hit

    def names_clash(self, i: int, j: int) -> bool:
        """Each names someone the other does not: "spoke with Zelensky" / "with Putin"."""
        mine, theirs = self.names[i], self.names[j]
        only_mine = [a for a in mine - theirs if not any(self.same_name(a, b) for b in theirs)]
        if not only_mine:
            return False
        return any(not any(self.same_name(b, a) for a in mine) for b in theirs - mine)

    def score(self, i: int, j: int) -> float:
        if i == j:
            return 1.0
        fi, fj = self.feats[i], self.feats[j]
        cos = float(self.vectors[i] @ self.vectors[j])
        s = EMBED_WEIGHT * cos + (1.0 - EMBED_WEIGHT) * self.overlap(i, j)
        if fi.negated != fj.negated:
            s -= NEGATION_PENALTY
        if fi.irrealis != fj.irrealis:
            s -= IRREALIS_PENALTY
        if self.names_clash(i, j):
            s -= NAME_PENALTY
        return s


class _Clusters:
    """Union-find over distinct statements keeping each cluster's anchors, members and
    what merged it."""

    def __init__(self, anchors: Sequence[Anchors], scorer: ClusterScorer) -> None:
        self.sets: UnionFind[int] = UnionFind(range(len(anchors)))
        self.anchors = list(anchors)
        self.members = [[i] for i in range(len(anchors))]
        self.merged_by: list[MergedBy | None] = [None] * len(anchors)
        self.scorer = scorer

    def try_union(self, i: int, j: int, how: MergedBy) -> bool:
        ri, rj = self.sets.find(i), self.sets.find(j)
        if ri == rj:
            return True
        if not self.anchors[ri].compatible(self.anchors[rj]):
            return False
        left, right = self.members[ri][:LINK_SAMPLE], self.members[rj][:LINK_SAMPLE]
        if len(left) * len(right) > 1:
            mean = sum(self.scorer.score(a, b) for a in left for b in right)
            if mean / (len(left) * len(right)) < LINK_MIN:
                return False
        joined = self.sets.union(ri, rj)
        assert joined is not None
        lo, hi = joined
        self.anchors[lo] = self.anchors[lo].merged(self.anchors[hi])
        self.members[lo].extend(self.members[hi])
        self.members[hi] = []
        self.merged_by[lo] = max(
            (m for m in (self.merged_by[lo], self.merged_by[hi], how) if m is not None),
            key=_RANK.__getitem__,
        )
        return True


def cluster_statements(
    statements: Sequence[str],
    *,
    embedder: Embedder | None = None,
    judge: PairJudge | None = None,
) -> list[StatementCluster]:
    """Group statements into claims; clusters are ordered by their first member."""
    unique: dict[str, int] = {}
    owner: list[int] = []  # statement -> distinct text
    for s in statements:
        owner.append(unique.setdefault(" ".join(s.split()), len(unique)))
    by_feature: dict[StatementFeatures, int] = {}
    text_feature: list[int] = []  # distinct text -> feature (same words and anchors: one claim)
    for t in unique:
        text_feature.append(by_feature.setdefault(statement_features(t), len(by_feature)))
    feats = list(by_feature)
    text_of = [""] * len(feats)
    for t, u in zip(reversed(unique), reversed(range(len(unique))), strict=True):
        text_of[text_feature[u]] = t  # the first text with these features
    embedder = embedder or BundledEmbedder()
    vectors = embedder.embed(text_of) if text_of else np.zeros((0, 1), dtype=np.float32)
    if len(vectors) > 1:
        shrink = len(vectors) / (len(vectors) + CENTER_PRIOR)
        mean = vectors.mean(axis=0, dtype=np.float64) * shrink
        vectors = normalise(vectors - mean.astype(np.float32))
    scorer = ClusterScorer(feats, vectors, embedder)
    edges: list[tuple[float, int, int]] = []
    uncertain: list[tuple[float, int, int]] = []
    for i, j in nearest_pairs(vectors, NEIGHBOURS, NEIGHBOUR_FLOOR).tolist():
        if not feats[i].anchors.compatible(feats[j].anchors):
            continue
        score = scorer.score(i, j)
        if score >= THRESHOLD:
            edges.append((-score, i, j))
        elif judge is not None and score >= THRESHOLD - JUDGE_BAND:
            uncertain.append((-score, i, j))
    clusters = _Clusters([f.anchors for f in feats], scorer)
    for _, i, j in sorted(edges):
        clusters.try_union(i, j, "embedding")
    if judge is not None:
        for _, i, j in sorted(uncertain):
            if clusters.sets.find(i) == clusters.sets.find(j):
                continue  # already one claim: no call
            if not clusters.anchors[clusters.sets.find(i)].compatible(
                clusters.anchors[clusters.sets.find(j)]
            ):
                continue
            if judge(text_of[i], text_of[j]):
                clusters.try_union(i, j, "model")
    return _result(statements, owner, text_feature, list(unique), clusters)


def _result(
    statements: Sequence[str],
    owner: list[int],
    text_feature: list[int],
    texts: list[str],
    clusters: _Clusters,
) -> list[StatementCluster]:
    groups: dict[int, list[int]] = defaultdict(list)
    for idx, u in enumerate(owner):
        groups[clusters.sets.find(text_feature[u])].append(idx)
    result = []
    for root, members in sorted(groups.items(), key=lambda g: g[1][0]):
        counts: dict[int, int] = defaultdict(int)  # distinct text -> statements
        first: dict[int, int] = {}
        for idx in members:
            counts[owner[idx]] += 1
            first.setdefault(owner[idx], idx)
        best = _medoid(
            counts, texts, lambda a, b: clusters.scorer.score(text_feature[a], text_feature[b])
        )
        how = clusters.merged_by[root]
        if how is None and len(counts) > 1:
            how = "rule"  # wordings with the same content words and anchors
        result.append(StatementCluster(members, first[best], how))
    return result


def _medoid(counts: dict[int, int], texts: Sequence[str], sim: Callable[[int, int], float]) -> int:
    """The text most similar to all others (weighted by how often each was written); ties:
    the most frequent, then the shortest, then a-z. Large clusters: the most frequent."""
    order = sorted(counts, key=lambda u: (-counts[u], len(texts[u]), texts[u]))
    if len(order) == 1 or len(order) > MEDOID_MAX:
        return order[0]
    score = {u: sum((counts[v] - (v == u)) * sim(u, v) for v in order) for u in order}
    return min(order, key=lambda u: (-round(score[u], 6), order.index(u)))
