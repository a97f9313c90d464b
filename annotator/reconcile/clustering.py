"""Cluster claim statements that say the same thing, across articles, by meaning.

Each distinct statement gets a sentence embedding (`embeddings.Embedder`), centred on
the input's mean (what all statements share is no evidence that two say the same), and
its `statement_features`. Candidate pairs are each statement's nearest neighbours
(`neighbours.nearest_pairs`), never all pairs. A pair scores
    (1 - w) x cosine + w x IDF-weighted word overlap - penalties,
where a word only one statement has counts, in the overlap, for a word of like meaning
only the other has ("ahead" / "advance", by the words' own embeddings: `near_words`),
where w grows with how topical the input is (the mean cosine of its statements: one
event's claims all share the event, so the embedding tells its propositions apart less
and the words count more; headlines of many stories lean on the embedding). Penalties:
the main clauses differ in polarity; one predicts or is disposed ("would end", "wants to
end") where the other reports (in proportion to topicality); they share no word but
names, so the embedding alone links them (in proportion to topicality: one event's
claims all name its protagonists); each names someone the other does not (a name is its
words, "Vladimir Putin" is "Putin"; an acronym its initials, "HP" is "Hewlett-Packard");
both fill one role ("spoke with X" / "spoke with Y", "X congratulated" / "Y took the
call") with different people (names compared by spelling and by their own embedding:
Zelensky = Zelenskyy, Kiev = Kyiv; a country is its name, capital and demonym, from a
gazetteer package: Kyiv = Ukrainian = Ukraine, never Russian, see `places`). A pair
whose anchors clash (dates, numbers of one unit, before/after, a disposition or
possibility vs the fact, news time, "last year" counted from the article) scores
`linkage.CLASH_SCORE`.

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

import math
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from rapidfuzz import fuzz
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
from annotator.reconcile.judged_pairs import PairJudge, adjudicate, is_uncertain
from annotator.reconcile.linkage import CLASH_SCORE, AverageLinkage
from annotator.reconcile.names import fold
from annotator.reconcile.near_words import NearIncidence, near_credit, near_words
from annotator.reconcile.neighbours import nearest_pairs
from annotator.reconcile.overlaps import WordIncidence
from annotator.reconcile.places import country_core, country_of, is_place
from annotator.reconcile.words import stem

__all__ = [
    "ClusterScorer",
    "MergedBy",
    "PairJudge",
    "StatementCluster",
    "cluster_statements",
    "statement_features",
]

# score = w x word overlap + (1 - w) x cosine, minus penalties. The more the input is
# about one topic (mean cosine of its statements: ~0.05 for headlines of 30 stories,
# 0.2-0.4 for the claims of one event), the less the embedding tells its propositions
# apart, so the more the words count: w = OVERLAP_MAX x min(1, mean cosine / ONE_EVENT)
OVERLAP_MAX = 0.6
ONE_EVENT = 0.3
THRESHOLD = 0.2  # mean pair score at or above which two clusters are one claim
NEGATION_PENALTY = 0.1
IRREALIS_PENALTY = 0.1  # at full topicality; see ClusterScorer
# at full topicality: the pair shares no word but names. The largest of 0.05/0.1/0.15
# that lowers none of Emergent, FNC-1 and the fixtures of other events (0.1 lowers Emergent)
BARE_PENALTY = 0.05
NAME_PENALTY = 0.2
SLOT_PENALTY = 0.2
NAME_SIMILAR = 0.3  # name embeddings at least this close: the same name (Kiev ~ Kyiv)
NAME_SPELLING = 80  # or spellings this close (rapidfuzz ratio, folded)
# Subtract the mean vector of the input (what all statements share, e.g. the event's
# protagonists, is no evidence that two say the same thing), shrunk towards zero for small
# inputs, whose mean is mostly the statements themselves: weight n / (n + CENTER_PRIOR)
CENTER_PRIOR = 20.0
IDF_POWER = 2.0
NEIGHBOURS = 15  # candidates per statement
NEIGHBOUR_FLOOR = 0.2  # cosine below which a neighbour is not a candidate
MEDOID_MAX = 60  # distinct wordings above which a cluster's most frequent one represents it

_RANK: dict[MergedBy, int] = {"rule": 0, "embedding": 1, "model": 2}


@dataclass(frozen=True, slots=True)
class StatementCluster:
    members: list[int]  # indices into the statements given, increasing
    representative: int  # index of the statement closest to all the others (medoid)
    merged_by: MergedBy | None = None  # None: one wording only


class ClusterScorer:
    """Pair scores over distinct statements: embeddings, word overlap, soft signals."""

    def __init__(
        self,
        feats: Sequence[StatementFeatures],
        vectors: np.ndarray,
        embedder: Embedder,
        embed_weight: float = 1.0 - OVERLAP_MAX,
        written: Mapping[str, str] | None = None,
    ) -> None:
        """`written`: each content word's stem -> its spelling (`statement_features`);
        without it, words count in the overlap only where both statements have them."""
        self.feats = feats
        self.vectors = vectors
        self.embed_weight = embed_weight
        # a prediction against a report ("would end" / "ended") tells two claims of one
        # event apart; headlines of many stories write one event either way ("X to split",
        # "X splits"): the penalty grows with how topical the input is, as the overlap does
        self.irrealis_penalty = IRREALIS_PENALTY * (1.0 - embed_weight) / OVERLAP_MAX
        # two claims of one event that share nothing but its names: the embedding alone
        # links them, the weaker evidence in proportion to topicality
        self.bare_penalty = BARE_PENALTY * (1.0 - embed_weight) / OVERLAP_MAX
        n = len(feats)
        df: dict[str, int] = defaultdict(int)
        for f in feats:
            for w in f.words:
                df[w] += 1
        self.weight = {w: math.log(1.0 + n / c) ** IDF_POWER for w, c in df.items()}
        self.totals = [sum(self.weight[w] for w in f.words) for f in feats]
        # a capitalised first word is a name if it is capitalised mid-sentence somewhere,
        # or a country's name, capital or demonym
        vocabulary = {w for f in feats for w in f.names}
        vocabulary.update(f.lead for f in feats if f.lead is not None and is_place(f.lead))
        self.names = [
            f.names | {f.lead} if f.lead is not None and f.lead in vocabulary else f.names
            for f in feats
        ]
        self.name_stems = [[(a, stem(a)) for a in sorted(ns)] for ns in self.names]
        self.name_words = [frozenset(sa for _, sa in ns) for ns in self.name_stems]
        # who each statement names, for telling people apart: each name's words (a
        # capitalised first word only if it is a name elsewhere)
        self.runs = [
            f.runs
            if f.lead is None or f.lead in vocabulary
            else frozenset(r for r in (_drop_lead(run, f.lead) for run in f.runs) if r)
            for f in feats
        ]
        self.acronyms: dict[str, set[str]] = defaultdict(set)  # word of a name -> its initials
        for f in feats:
            for letters, head in f.initials:
                self.acronyms[head].add(letters)
        self.slots = [
            frozenset(
                (slot, name)
                for slot, name in f.slots
                if slot != "^" or name != f.lead or name in vocabulary
            )
            for f in feats
        ]
        self._clash_cache: dict[tuple[frozenset[Any], frozenset[Any], bool], bool] = {}
        self.country_slots = [_country_slots(slots) for slots in self.slots]
        distinct = sorted(
            {w for ns in self.names for w in ns}
            | {w for s in self.slots for _, w in s}
            | {w for rs in self.runs for r in rs for w in r}
        )
        self.name_index = {w: i for i, w in enumerate(distinct)}
        self.name_vectors = embedder.embed(distinct) if distinct else np.zeros((0, 1))
        self._same_name: dict[tuple[str, str], bool] = {}
        all_names = frozenset(w for ws in self.name_words for w in ws)
        self.near = near_words(written, all_names, embedder) if written else {}

    def overlap(
        self, i: int, j: int, shared: float | None = None, near: float | None = None
    ) -> float:
        """`shared`: the weight of the words both contain, if known (`overlaps`); `near`:
        what the words only one side has earn from near words of the other, if known
        (`near_words`)."""
        denom = self.totals[i] + self.totals[j]
        if not denom:
            return 1.0
        wi, wj = self.feats[i].words, self.feats[j].words
        weight = self.weight
        total = sum([weight[w] for w in wi & wj]) if shared is None else shared
        total += near_credit(wi, wj, self.near, weight) if near is None else near
        if self.names[i] == self.names[j]:
            return min(1.0, 2.0 * total / denom)
        # a name spelt another way is the same word ("Kiev" / "Kyiv")
        mine = [(a, sa) for a, sa in self.name_stems[i] if sa not in wj]
        if mine:
            theirs = [(b, sb) for b, sb in self.name_stems[j] if sb not in wi]
            for a, sa in mine:
                for b, sb in theirs:
                    if sa in self.weight and sb in self.weight and self.same_name(a, b):
                        total += min(self.weight[sa], self.weight[sb])
                        break
        return min(1.0, 2.0 * total / denom)

    def shares_only_names(self, i: int, j: int, shared: float | None = None) -> bool:
        """`shared`: the weight of the words both contain, if known."""
        if shared is not None:
            if not shared:
                return True
            if not self.name_words[i] and not self.name_words[j]:
                return False
        common = self.feats[i].words & self.feats[j].words
        return not common or common <= self.name_words[i] | self.name_words[j]

    def same_name(self, a: str, b: str) -> bool:
        key = (a, b) if a < b else (b, a)
        hit = self._same_name.get(key)
        if hit is None:
            ca, cb = country_of(a), country_of(b)
            if ca is not None and cb is not None:
                hit = ca == cb  # "Kyiv" / "Ukrainian"; never Russia / Ukraine
            elif ca is not None or cb is not None:  # "Kiev" / "Ukrainian": Kiev ~ Kyiv
                country, other = (ca, b) if ca is not None else (cb, a)
                hit = self._alike(a, b) or any(
                    _spelt_alike(fold(other), form) for form in country_core(str(country))
                )
            else:
                hit = self._alike(a, b)
            self._same_name[key] = hit
        return hit

    def _alike(self, a: str, b: str) -> bool:
        va, vb = self.name_vectors[self.name_index[a]], self.name_vectors[self.name_index[b]]
        return (
            b in self.acronyms.get(a, ())
            or a in self.acronyms.get(b, ())
            or _spelt_alike(fold(a), fold(b))
            or float(va @ vb) >= NAME_SIMILAR
        )

    def names_clash(self, i: int, j: int) -> bool:
        """Each names someone the other does not: "spoke with Zelensky" / "with Putin"."""
        mine, theirs = self.runs[i], self.runs[j]
        if not mine or not theirs or mine == theirs:
            return False
        key = (mine, theirs, False)
        hit = self._clash_cache.get(key)
        if hit is None:
            hit = self._clash_cache[key] = self._names_clash(mine, theirs)
        return hit

    def _names_clash(
        self, mine: frozenset[tuple[str, ...]], theirs: frozenset[tuple[str, ...]]
    ) -> bool:
        def one(x: tuple[str, ...], y: tuple[str, ...]) -> bool:
            return any(self.same_name(a, b) for a in x for b in y)

        def unmatched(ours: frozenset[tuple[str, ...]], other: frozenset[tuple[str, ...]]) -> bool:
            words = {w for y in other for w in y}  # most names match word for word
            return any(
                not any(w in words for w in x) and not any(one(x, y) for y in other)
                for x in ours - other
            )

        return unmatched(mine, theirs) and unmatched(theirs, mine)

    def slots_clash(self, i: int, j: int) -> bool:
        """Both put someone in one slot and no one is the same: "spoke with Zelensky" /
        "spoke with Putin", "Putin congratulated Trump" / "Trump took the call"."""
        mine, theirs = self.slots[i], self.slots[j]
        if not mine or not theirs or mine == theirs:
            return False
        key = (mine, theirs, True)
        hit = self._clash_cache.get(key)
        if hit is None:
            hit = self._clash_cache[key] = self._slots_clash(mine, theirs)
        return hit

    def _slots_clash(
        self, mine_pairs: frozenset[tuple[str, str]], their_pairs: frozenset[tuple[str, str]]
    ) -> bool:
        mine: dict[str, set[str]] = defaultdict(set)
        for slot, name in mine_pairs:
            mine[slot].add(name)
        theirs: dict[str, set[str]] = defaultdict(set)
        for slot, name in their_pairs:
            theirs[slot].add(name)
        for slot in mine.keys() & theirs.keys():
            a, b = mine[slot], theirs[slot]
            if not (a & b) and not any(self.same_name(x, y) for x in a for y in b):
                return True
        return False

    def countries_clash(self, i: int, j: int) -> bool:
        """Both put countries, and only countries, in one slot, and no country is the
        same: "British regulators recalled it" / "German regulators recalled it". The
        gazetteer knows two countries differ, where two other names may be one."""
        mine = self.country_slots[i]
        if not mine:
            return False
        theirs = self.country_slots[j]
        return any(slot in theirs and not (c & theirs[slot]) for slot, c in mine.items())

    def score(self, i: int, j: int) -> float:
        if i == j:
            return 1.0
        return self.embed_weight * float(self.vectors[i] @ self.vectors[j]) + self.extra(i, j)

    def extra(
        self, i: int, j: int, shared: float | None = None, near: float | None = None
    ) -> float:
        """The score without its cosine part: word overlap minus penalties."""
        fi, fj = self.feats[i], self.feats[j]
        s = (1.0 - self.embed_weight) * self.overlap(i, j, shared, near)
        if fi.negated != fj.negated:
            s -= NEGATION_PENALTY
        if (fi.irrealis or fi.anchors.modal) != (fj.irrealis or fj.anchors.modal):
            s -= self.irrealis_penalty
        if self.bare_penalty and self.shares_only_names(i, j, shared):
            s -= self.bare_penalty
        if self.names_clash(i, j):
            s -= NAME_PENALTY
        if self.slots_clash(i, j):
            s -= SLOT_PENALTY
        return s


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
    written: dict[str, str] = {}
    for t, year in unique:
        f = statement_features(t, written)
        if year is not None:
            f = in_article_year(f, year)
        text_feature.append(by_feature.setdefault(f, len(by_feature)))
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
    cosines: list[float] = []
    for start in range(0, len(pairs), 65536):  # in chunks: no (pairs x dim) matrix
        chunk = pairs[start : start + 65536]
        cosines.extend(np.einsum("ij,ij->i", vectors[chunk[:, 0]], vectors[chunk[:, 1]]).tolist())
    kinds: dict[Anchors, int] = {}  # distinct anchors, by number
    kind_of = [kinds.setdefault(f.anchors, len(kinds)) for f in feats]
    distinct = list(kinds)
    plain = [a.plain for a in distinct]
    clash_of: dict[tuple[int, int], bool] = {}
    edges: list[tuple[int, int, float, float, bool]] = []
    uncertain: list[tuple[float, int, int, int]] = []
    words = [f.words for f in feats]
    shared = WordIncidence(words, scorer.weight).shared(pairs).tolist()
    near = NearIncidence(words, scorer.near, scorer.weight).credits(pairs).tolist()
    for (i, j), cos, common, alike in zip(pairs.tolist(), cosines, shared, near, strict=True):
        a, b = kind_of[i], kind_of[j]
        clash = False
        if a != b and not (plain[a] and plain[b]):
            key = (a, b)
            hit = clash_of.get(key)
            if hit is None:
                hit = clash_of[key] = not distinct[a].compatible(distinct[b])
            clash = hit
        if clash:
            extra = 0.0  # the linkage counts it CLASH_SCORE, by its anchors
        elif scorer.countries_clash(i, j):
            extra = CLASH_SCORE - embed_weight * cos  # the pair scores CLASH_SCORE
        else:
            extra = scorer.extra(i, j, common, alike)
        score = embed_weight * cos + extra
        if judge is not None and not clash and is_uncertain(score, THRESHOLD):
            uncertain.append((abs(score - THRESHOLD), i, j, len(edges)))
        edges.append((i, j, cos, extra, clash))
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


def _country_slots(slots: frozenset[tuple[str, str]]) -> dict[str, frozenset[str]]:
    """Each slot whose names are all countries -> those countries ({} for most)."""
    found: dict[str, set[str]] = defaultdict(set)
    other: set[str] = set()
    for slot, name in slots:
        country = country_of(name)
        if country is None:
            other.add(slot)
        else:
            found[slot].add(country)
    return {slot: frozenset(c) for slot, c in found.items() if slot not in other}


def _spelt_alike(a: str, b: str) -> bool:
    """Two folded name words spelt alike: one name ("Zelensky" / "Zelenskyy")."""
    return a == b or fuzz.ratio(a, b) >= NAME_SPELLING


def _drop_lead(run: tuple[str, ...], lead: str) -> tuple[str, ...]:
    return run[1:] if run and run[0] == lead else run


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
