"""Cluster claim statements that say the same thing, across articles, by meaning.

Each distinct statement gets a sentence embedding (`embeddings.Embedder`), centred on
the input's mean (what all statements share is no evidence that two say the same), and
its `statement_features`. Candidate pairs are each statement's nearest neighbours
(`neighbours.nearest_pairs`), never all pairs. A pair scores by
`pair_scorer.ClusterScorer` (embedding, word overlap, penalties); a pair whose anchors
clash (dates, numbers of one unit, before/after, a disposition or possibility vs the
fact, news time, "last year" counted from the article) scores `linkage.CLASH_SCORE`.

Clusters form by average linkage (`linkage.AverageLinkage`) over records: the mean pair
score between two clusters must reach THRESHOLD, so one loose pair cannot chain two
claims, and a member that contradicts the other cluster pulls the link down. News time:
with the articles' dates, an undated "they spoke" refers to the event its article
reports (an undated article: the folder's event, see `summary`), so it cannot join
"they spoke after 2021" or "they have spoken since he left office". An optional
`judge` (a cached, bounded model call) decides the candidate pairs in the uncertain band
around THRESHOLD before clusters form: its answer replaces the pair's score (1: one
claim, `CLASH_SCORE`: two), so a "no" can split what the embedding would have merged as
well as a "yes" join. Each cluster says what merged it.

Deterministic: the result depends only on the statements and their order, and the
caller passes them in a content-derived order. The representative wording (and so the
claim id) is chosen by plain cosine among the cluster's own wordings.
"""

from __future__ import annotations

from array import array
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits

from annotator.core.models import MergedBy
from annotator.reconcile.anchors import Anchors
from annotator.reconcile.embeddings import BundledEmbedder, Embedder, normalise
from annotator.reconcile.features import (
    StatementFeatures,
    in_article_year,
    spell_out_acronyms,
    statement_features,
)
from annotator.reconcile.forked import in_two
from annotator.reconcile.judged_pairs import PairJudge, adjudicate, is_uncertain
from annotator.reconcile.linkage import CLASH_SCORE, AverageLinkage
from annotator.reconcile.near_words import NearIncidence
from annotator.reconcile.neighbours import nearest_pairs
from annotator.reconcile.overlaps import WordIncidence
from annotator.reconcile.pair_scorer import (
    BARE_PENALTY,
    IRREALIS_PENALTY,
    NAME_PENALTY,
    NEGATION_PENALTY,
    ONE_EVENT,
    OVERLAP_MAX,
    SLOT_PENALTY,
    ClusterScorer,
)

__all__ = [
    "BARE_PENALTY",
    "IRREALIS_PENALTY",
    "NAME_PENALTY",
    "NEGATION_PENALTY",
    "SLOT_PENALTY",
    "ClusterScorer",
    "MergedBy",
    "PairJudge",
    "StatementCluster",
    "cluster_statements",
    "statement_features",
]

THRESHOLD = 0.2  # mean pair score at or above which two clusters are one claim
# Subtract the mean vector of the input (what all statements share, e.g. the event's
# protagonists, is no evidence that two say the same thing), shrunk towards zero for small
# inputs, whose mean is mostly the statements themselves: weight n / (n + CENTER_PRIOR)
CENTER_PRIOR = 20.0
NEIGHBOURS = 15  # candidates per statement
NEIGHBOUR_FLOOR = 0.2  # cosine below which a neighbour is not a candidate
# distinct texts, and candidate pairs, from which the second half goes to a forked child
# (`forked.in_two`): below, a fork costs more than half the loop saves
FORK_TEXTS = 5_000
FORK_PAIRS = 50_000
MEDOID_MAX = 60  # distinct wordings above which a cluster's most frequent one represents it
_RANK: dict[MergedBy, int] = {"rule": 0, "embedding": 1, "model": 2}


@dataclass(frozen=True, slots=True)
class StatementCluster:
    members: list[int]  # indices into the statements given, increasing
    representative: int  # index of the statement closest to all the others (medoid)
    merged_by: MergedBy | None = None  # None: one wording only


# BLAS on one thread: the products here are small (blocks of 1,024 rows, one cluster's
# links), where more threads mostly wait for each other (100k statements: 59 s -> 51 s on
# 2 busy cores, the same vectors and clusters)
@threadpool_limits.wrap(limits=1, user_api="blas")
def cluster_statements(
    statements: Sequence[str],
    *,
    embedder: Embedder | None = None,
    judge: PairJudge | None = None,
    published: Sequence[str | None] | None = None,
) -> list[StatementCluster]:
    """Group statements into claims; clusters are ordered by their first member.

    `published` (YYYY-MM-DD or None, one per statement): the date of the article each
    statement comes from; an undated "they spoke" then refers to the event it reports.
    """
    unique: dict[tuple[str, int | None], int] = {}
    owner: list[int] = []  # statement -> distinct (text, year of its article)
    for k, s in enumerate(statements):
        year = _year(published[k]) if published is not None else None
        owner.append(unique.setdefault((" ".join(s.split()), year), len(unique)))
    by_feature: dict[StatementFeatures, int] = {}
    text_feature: list[int] = []  # distinct text -> feature (same words and anchors: one claim)
    keys = list(unique)
    written: dict[str, str] = {}  # content word's stem -> its first spelling a-z
    for part, spelt_as in in_two(len(keys), lambda lo, hi: _features(keys[lo:hi]), FORK_TEXTS):
        text_feature.extend(by_feature.setdefault(f, len(by_feature)) for f in part)
        for stem, spelling in spelt_as.items():
            if stem not in written or spelling < written[stem]:
                written[stem] = spelling
    feats = list(by_feature)
    texts = [t for t, _ in unique]
    text_of = [""] * len(feats)
    for t, u in zip(reversed(texts), reversed(range(len(texts))), strict=True):
        text_of[text_feature[u]] = t  # the first text with these features
    embedder = embedder or BundledEmbedder()
    spelt = spell_out_acronyms(text_of, feats)  # the embedding does not know "EMA"
    raw = embedder.embed(spelt) if spelt else np.zeros((0, 1), dtype=np.float32)
    vectors, embed_weight = raw, 1.0 - OVERLAP_MAX
    if len(vectors) > 1:
        n = len(vectors)
        mean = vectors.mean(axis=0, dtype=np.float64)
        topical = max(0.0, (n * float(mean @ mean) - 1.0) / (n - 1))  # mean pair cosine
        embed_weight = 1.0 - OVERLAP_MAX * min(1.0, topical / ONE_EVENT)
        vectors = normalise(vectors - (mean * n / (n + CENTER_PRIOR)).astype(np.float32))
    scorer = ClusterScorer(feats, vectors, embedder, embed_weight, written)
    pairs = nearest_pairs(vectors, NEIGHBOURS, NEIGHBOUR_FLOOR)
    cos_all = np.empty(len(pairs), dtype=np.float32)
    for start in range(0, len(pairs), 65536):  # in chunks: no (pairs x dim) matrix
        chunk = pairs[start : start + 65536]
        cos_all[start : start + len(chunk)] = np.einsum(
            "ij,ij->i", vectors[chunk[:, 0]], vectors[chunk[:, 1]]
        )
    kinds: dict[Anchors, int] = {}  # distinct anchors, by number
    kind_of = [kinds.setdefault(f.anchors, len(kinds)) for f in feats]
    distinct = list(kinds)
    plain = [a.plain for a in distinct]
    words = [f.words for f in feats]
    # per pair, read one at a time: flat arrays, not lists of 900k Python objects (a
    # forked child reading those would copy every page of them, to count references)
    left, right = _view(pairs[:, 0]), _view(pairs[:, 1])
    cosines = _view(cos_all)
    shared = _view(WordIncidence(words, scorer.weight).shared(pairs))
    near = _view(NearIncidence(words, scorer.near, scorer.weight).credits(pairs))

    def score_pairs(lo: int, hi: int) -> tuple[array[float], bytes]:
        """Each pair's extra and whether its anchors clash, for pairs[lo:hi]."""
        clash_of: dict[tuple[int, int], bool] = {}
        extras: array[float] = array("d")
        clashes = bytearray()
        for k in range(lo, hi):
            i, j = left[k], right[k]
            a, b = kind_of[i], kind_of[j]
            clash = False
            if a != b and not (plain[a] and plain[b]):
                hit = clash_of.get((a, b))
                if hit is None:
                    hit = clash_of[(a, b)] = not distinct[a].compatible(distinct[b])
                clash = hit
            if clash:
                extra = 0.0  # the linkage counts it CLASH_SCORE, by its anchors
            elif scorer.countries_clash(i, j):
                extra = CLASH_SCORE - embed_weight * cosines[k]  # the pair scores CLASH_SCORE
            else:
                extra = scorer.extra(i, j, shared[k], near[k])
            extras.append(extra)
            clashes.append(clash)
        return extras, bytes(clashes)

    edges: list[tuple[int, int, float, float, bool]] = []
    uncertain: list[tuple[float, int, int, int]] = []
    for extras, clashes in in_two(len(pairs), score_pairs, FORK_PAIRS):
        for extra, clash in zip(extras, clashes, strict=True):
            k = len(edges)
            i, j, cos = left[k], right[k], cosines[k]
            if judge is not None and not clash:
                score = embed_weight * cos + extra
                if is_uncertain(score, THRESHOLD):
                    uncertain.append((abs(score - THRESHOLD), i, j, len(edges)))
            edges.append((i, j, cos, extra, bool(clash)))
    judged_same = adjudicate(judge, uncertain, edges, text_of, embed_weight) if judge else []
    counts = [0] * len(feats)
    for u in owner:
        counts[text_feature[u]] += 1
    linkage = AverageLinkage(
        vectors,
        embed_weight,
        edges,
        counts,
        kind_of,
        lambda x, y: not distinct[x].compatible(distinct[y]),
        plain,
    )
    del edges
    merged_by: list[MergedBy | None] = [None] * len(feats)
    for a, b in linkage.run(THRESHOLD):
        merged_by[a] = merged_by[b] = "embedding"
    for i, j in judged_same:
        if linkage.find(i) == linkage.find(j):  # the model's answer held in the linkage
            merged_by[i] = merged_by[j] = "model"
    strongest: dict[int, MergedBy] = {}  # what merged a cluster: the strongest of its merges
    for i, how in enumerate(merged_by):
        if how is not None:
            root = linkage.find(i)
            if root not in strongest or _RANK[how] > _RANK[strongest[root]]:
                strongest[root] = how
    roots = [linkage.find(i) for i in range(len(feats))]
    return _result(statements, owner, text_feature, texts, roots, strongest, raw)


def _view(values: np.ndarray) -> memoryview:
    """A flat array read item by item as Python numbers (exactly: float32 as float)."""
    return np.ascontiguousarray(values).data


def _features(
    keys: Sequence[tuple[str, int | None]],
) -> tuple[list[StatementFeatures], dict[str, str]]:
    """Each (text, year of its article)'s features, and its content words as written."""
    written: dict[str, str] = {}
    found = []
    for text, year in keys:
        f = statement_features(text, written)
        found.append(f if year is None else in_article_year(f, year))
    return found, written


def _year(published: str | None) -> int | None:
    if published and len(published) >= 4 and published[:4].isdigit():
        return int(published[:4])
    return None


def _result(
    statements: Sequence[str],
    owner: list[int],
    text_feature: list[int],
    texts: list[str],
    roots: list[int],
    merged_by: dict[int, MergedBy],
    raw: np.ndarray,
) -> list[StatementCluster]:
    groups: dict[int, list[int]] = defaultdict(list)
    for idx, u in enumerate(owner):
        groups[roots[text_feature[u]]].append(idx)
    result = []
    for root, members in sorted(groups.items(), key=lambda g: g[1][0]):
        counts: dict[int, int] = defaultdict(int)  # distinct text -> statements
        first: dict[int, int] = {}
        for idx in members:
            counts[owner[idx]] += 1
            first.setdefault(owner[idx], idx)
        # plain cosine of the texts: the representative, and so the claim id, depends on
        # the cluster's wordings only, not on what else is in the input
        best = _medoid(
            counts, texts, lambda a, b: float(raw[text_feature[a]] @ raw[text_feature[b]])
        )
        how = merged_by.get(root)
        if how is None and len({texts[u] for u in counts}) > 1:
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
