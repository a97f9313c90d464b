"""Words of like meaning within one input, for a soft word overlap.

Two wordings of one claim share most of their words; where they differ, they mostly
differ by a word of like meaning ("informed ahead of" / "told in advance of", "talked"
/ "spoke"), while two claims that share a template differ by words of other meanings
("was informed ahead of the call" / "did not object to the call"). So a content word of
one statement that the other lacks counts, in the word overlap, for a word of the other
that the first lacks, in proportion to how alike the two words are: the cosine of the
words' own embeddings, if at least `NEAR_WORD` (soft TF-IDF, Cohen et al. 2003).

Each distinct content word is embedded once, as written (the first spelling a-z of its
stem), and its near words are its nearest neighbours in the input's vocabulary (never
all pairs). Names are left out: they are compared as names (`ClusterScorer.same_name`).

`NEAR_WORD` 0.5: F1 on Emergent, FNC-1 and every fixture is the same for any value from
0.2 to 0.6; 0.5 keeps out the antonyms measured near 0.4 (bought / sold 0.39, closed /
opened 0.38), keeping killed / died 0.71, ahead / advance 0.62, quickly / swiftly 0.60.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence

import numpy as np

from annotator.reconcile.embeddings import Embedder
from annotator.reconcile.neighbours import nearest_pairs

NEAR_WORD = 0.5  # cosine of two words' embeddings from which one stands for the other
NEAR_WORDS = 5  # near words kept per word
CHUNK = 65536  # pairs per vectorised step

Near = Mapping[str, Sequence[tuple[str, float]]]


def near_words(
    written: Mapping[str, str], exclude: frozenset[str], embedder: Embedder
) -> dict[str, tuple[tuple[str, float], ...]]:
    """stem -> its near words (stem, cosine), from stem -> the word as written."""
    vocabulary = sorted(s for s in written if s not in exclude)
    if len(vocabulary) < 2:
        return {}
    vectors = np.asarray(embedder.embed([written[s] for s in vocabulary]), dtype=np.float32)
    pairs = nearest_pairs(vectors, NEAR_WORDS, NEAR_WORD)
    if not len(pairs):
        return {}
    sims = np.einsum("ij,ij->i", vectors[pairs[:, 0]], vectors[pairs[:, 1]]).tolist()
    near: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for (a, b), sim in zip(pairs.tolist(), sims, strict=True):
        if sim >= NEAR_WORD:
            near[vocabulary[a]].append((vocabulary[b], sim))
            near[vocabulary[b]].append((vocabulary[a], sim))
    return {w: tuple(sorted(v)) for w, v in sorted(near.items())}


def near_credit(
    mine: frozenset[str], theirs: frozenset[str], near: Near, weight: Mapping[str, float]
) -> float:
    """The weight the words of each side that the other lacks earn from a near word the
    other has and the first lacks (cosine x the smaller weight), both ways, halved."""
    total = 0.0
    for a, b in ((mine, theirs), (theirs, mine)):
        for u in a - b:
            for v, sim in near.get(u, ()):
                if v in b and v not in a:
                    total += sim * min(weight[u], weight[v])
    return total / 2.0


class NearIncidence:
    """`near_credit` for many candidate pairs at once, vectorised like `WordIncidence`:
    every (statement, word, near word) becomes one row, looked up among the other
    statement's words by binary search."""

    def __init__(
        self, words: Sequence[frozenset[str]], near: Near, weight: Mapping[str, float]
    ) -> None:
        vocabulary = sorted(weight)
        index = {w: k for k, w in enumerate(vocabulary)}
        self.size = max(1, len(vocabulary))
        word_keys = [np.array(sorted(index[w] for w in ws), dtype=np.int64) for ws in words]
        lengths = np.fromiter((len(k) for k in word_keys), dtype=np.int64, count=len(words))
        owner = np.repeat(np.arange(len(words), dtype=np.int64), lengths)
        self.keys = owner * self.size + (np.concatenate(word_keys) if word_keys else owner)
        rows: list[tuple[int, int, int, float]] = []  # (statement, word, near word, credit)
        for i, ws in enumerate(words):
            for u in sorted(ws):
                for v, sim in near.get(u, ()):
                    if v not in ws:
                        rows.append((i, index[u], index[v], sim * min(weight[u], weight[v])))
        table = np.array(rows, dtype=np.float64).reshape(-1, 4)
        self.owner = table[:, 0].astype(np.int64)
        self.word = table[:, 1].astype(np.int64)
        self.other = table[:, 2].astype(np.int64)
        self.credit = table[:, 3]
        self.start = np.searchsorted(self.owner, np.arange(len(words)))
        self.length = np.searchsorted(self.owner, np.arange(len(words)), side="right") - self.start

    def credits(self, pairs: np.ndarray) -> np.ndarray:
        """For each (i, j) row of `pairs`: `near_credit` of statements i and j."""
        out = np.zeros(len(pairs), dtype=np.float64)
        if not len(self.credit) or not len(pairs):
            return out
        for begin in range(0, len(pairs), CHUNK):
            chunk = pairs[begin : begin + CHUNK]
            for mine, theirs in ((chunk[:, 0], chunk[:, 1]), (chunk[:, 1], chunk[:, 0])):
                count = self.length[mine]
                pair = np.repeat(np.arange(len(mine), dtype=np.int64), count)
                first = np.repeat(self.start[mine] - (np.cumsum(count) - count), count)
                row = first + np.arange(len(pair), dtype=np.int64)
                base = theirs[pair] * self.size
                ok = self._holds(base + self.other[row]) & ~self._holds(base + self.word[row])
                out[begin : begin + len(chunk)] += np.bincount(
                    pair[ok], weights=self.credit[row[ok]], minlength=len(chunk)
                )
        return out / 2.0

    def _holds(self, query: np.ndarray) -> np.ndarray:
        at = np.minimum(np.searchsorted(self.keys, query), len(self.keys) - 1)
        return self.keys[at] == query
