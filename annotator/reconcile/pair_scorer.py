"""How alike two claim statements are: the pair score clustering links by.

A pair of statements scores
    (1 - w) x cosine + w x IDF-weighted word overlap - penalties,
where a word only one statement has counts, in the overlap, for a word of like meaning
only the other has ("ahead" / "advance", by the words' own embeddings: `near_words`),
where w grows with how topical the input is (the mean cosine of its statements: one
event's claims all share the event, so the embedding tells its propositions apart less
and the words count more; headlines of many stories lean on the embedding). Penalties:
the main clauses differ in polarity; one predicts or is disposed ("would end", "wants to
end") where the other reports (in proportion to topicality); they share no word but
names, so the embedding alone links them (in proportion to topicality: one event's
claims all name its protagonists); all they share is what each says first, and each goes
on to say something else ("goalkeeper X received 30,000 euros" / "goalkeeper X remains
in custody": two predicates about one subject; in proportion to topicality); each names
someone the other does not (a name is its words, "Vladimir Putin" is "Putin"; an
acronym its initials, "HP" is "Hewlett-Packard");
both fill one role ("spoke with X" / "spoke with Y", "X congratulated" / "Y took the
call") with different people (names compared by spelling and by their own embedding:
Zelensky = Zelenskyy, Kiev = Kyiv; a country is its name, capital and demonym, from a
gazetteer package: Kyiv = Ukrainian = Ukraine, never Russian, see `places`). Two
countries, and only countries, in one role ("British regulators recalled it" / "German
regulators recalled it") are two claims however alike the rest (`countries_clash`: the
caller scores the pair `linkage.CLASH_SCORE`), as is a pair whose anchors clash (see
`clustering`).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from rapidfuzz import fuzz

from annotator.reconcile.embeddings import Embedder
from annotator.reconcile.features import StatementFeatures
from annotator.reconcile.names import fold
from annotator.reconcile.near_words import near_credit, near_words
from annotator.reconcile.places import country_core, country_of, is_place
from annotator.reconcile.words import stem

__all__ = ["ClusterScorer"]

# score = w x word overlap + (1 - w) x cosine, minus penalties. The more the input is
# about one topic (mean cosine of its statements: ~0.05 for headlines of 30 stories,
# 0.2-0.4 for the claims of one event), the less the embedding tells its propositions
# apart, so the more the words count: w = OVERLAP_MAX x min(1, mean cosine / ONE_EVENT)
OVERLAP_MAX = 0.6
ONE_EVENT = 0.3
NEGATION_PENALTY = 0.1
IRREALIS_PENALTY = 0.1  # at full topicality; see ClusterScorer
# at full topicality: the pair shares no word but names. The largest of 0.05/0.1/0.15
# that lowers none of Emergent, FNC-1 and the fixtures of other events (0.1 lowers Emergent)
BARE_PENALTY = 0.05
NAME_PENALTY = 0.2
SLOT_PENALTY = 0.2
NAME_SIMILAR = 0.3  # name embeddings at least this close: the same name (Kiev ~ Kyiv)
NAME_SPELLING = 80  # or spellings this close (rapidfuzz ratio, folded)
IDF_POWER = 2.0
# at full topicality: all the pair shares is what each says first, a subject ending in a
# name ("goalkeeper X received 30,000 euros" / "goalkeeper X remains in custody"). Measured
# 0.05-0.3: 0.05 and 0.1 lift the ransomware fixture alike (0.806 -> 0.828) and lower no
# set; from 0.07 the samples' claim ids follow an article dropped less (22 of 25 kept,
# not 23: `test_ids_follow_content`); from 0.15 the shoal fixture falls (0.865 -> 0.836)
SUBJECT_PENALTY = 0.05


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
        self.subject_penalty = SUBJECT_PENALTY * (1.0 - embed_weight) / OVERLAP_MAX

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

    def shares_only_subject(self, i: int, j: int) -> bool:
        """What the two share is what each says first, a subject that ends in a name, and
        each then says something the other does not: "goalkeeper X received 30,000 euros"
        / "goalkeeper X remains in custody". A word of the rest that has a near word in
        the other's rest counts as shared ("Moss apologised" / "Moss said she was sorry");
        a figure both state makes them one claim ("cut 1,200 jobs" / "eliminate 1,200
        positions")."""
        fi, fj = self.feats[i], self.feats[j]
        oi, oj = fi.order, fj.order
        common = fi.words & fj.words
        shared = len(common)  # content words both have: the first `shared` of each
        for w in common:
            if w[0] == "#":
                if w[1] == "n":
                    return False
                shared -= 1
        if not shared or len(oi) <= shared or len(oj) <= shared:
            return False  # nothing shared, or one says no more than the other
        if not all(w in common for w in oi[:shared]) or not all(w in common for w in oj[:shared]):
            return False  # a word both have comes after one only one has
        if oi[shared - 1] not in self.name_words[i] or oj[shared - 1] not in self.name_words[j]:
            return False  # the shared part goes on past a name: "X and Y spoke" / "... spoke"
        near = self.near
        for rest, other in ((oi[shared:], fj.words), (oj[shared:], fi.words)):
            for w in rest:
                if any(v in other and v not in common for v, _ in near.get(w, ())):
                    return False
        return True

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
        first = fi.order[0] if fi.order else None  # most pairs: another first word
        if self.subject_penalty and first in fj.words and self.shares_only_subject(i, j):
            s -= self.subject_penalty
        return s


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
