"""The weight of the words two statements share, for many candidate pairs at once.

`ClusterScorer.overlap` needs, for each candidate pair, the sum of the IDF weights of the
words both statements contain. One set intersection per pair in Python is most of the
time of scoring 1M candidate pairs; here the pairs are done in vectorised chunks: every
(statement, word) incidence becomes one integer key, the words of each pair's first
statement are looked up among the second's keys by binary search, and the weights of the
hits are summed per pair.

Deterministic: the words of a pair are summed in a fixed order (by word, a-z), so the
same statements give the same sums, bit for bit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

CHUNK = 65536  # pairs per vectorised step: bounds the temporary arrays


class WordIncidence:
    """Which statement contains which word, as sorted integer keys."""

    def __init__(self, words: Sequence[frozenset[str]], weight: Mapping[str, float]) -> None:
        vocabulary = sorted(weight)
        index = {w: k for k, w in enumerate(vocabulary)}
        self.size = max(1, len(vocabulary))
        self.weight = np.array([weight[w] for w in vocabulary], dtype=np.float64)
        lengths = np.fromiter((len(ws) for ws in words), dtype=np.int64, count=len(words))
        self.start = np.concatenate(([0], np.cumsum(lengths)[:-1])).astype(np.int64)
        self.length = lengths
        self.word = np.fromiter(
            (k for ws in words for k in sorted(index[w] for w in ws)),
            dtype=np.int64,
            count=int(lengths.sum()),
        )
        owner = np.repeat(np.arange(len(words), dtype=np.int64), lengths)
        self.keys = owner * self.size + self.word  # sorted: by statement, then word

    def shared(self, pairs: np.ndarray) -> np.ndarray:
        """For each (i, j) row of `pairs`: the summed weight of the words both contain."""
        out = np.zeros(len(pairs), dtype=np.float64)
        if not len(self.keys):
            return out
        for begin in range(0, len(pairs), CHUNK):
            i = pairs[begin : begin + CHUNK, 0]
            j = pairs[begin : begin + CHUNK, 1]
            count = self.length[i]
            pair = np.repeat(np.arange(len(i), dtype=np.int64), count)
            first = np.repeat(self.start[i] - (np.cumsum(count) - count), count)
            word = self.word[first + np.arange(len(pair), dtype=np.int64)]
            query = j[pair] * self.size + word
            at = np.minimum(np.searchsorted(self.keys, query), len(self.keys) - 1)
            hit = self.keys[at] == query
            out[begin : begin + len(i)] = np.bincount(
                pair[hit], weights=self.weight[word[hit]], minlength=len(i)
            )
        return out
