"""Shared-word weights of candidate pairs, vectorised: the same sums as set intersections."""

from __future__ import annotations

import random

import numpy as np
import pytest

from annotator.reconcile import overlaps
from annotator.reconcile.overlaps import WordIncidence


def _python_shared(words: list[frozenset[str]], weight: dict[str, float], i: int, j: int) -> float:
    return sum(weight[w] for w in words[i] & words[j])


def test_shared_weights_match_set_intersections(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(overlaps, "CHUNK", 7)  # several chunks, one of them partial
    rng = random.Random(3)
    vocabulary = [f"w{k}" for k in range(40)]
    weight = {w: rng.uniform(0.1, 9.0) for w in vocabulary}
    words = [frozenset(rng.sample(vocabulary, rng.randint(0, 9))) for _ in range(60)]
    pairs = np.array(sorted({tuple(sorted(rng.sample(range(60), 2))) for _ in range(200)}))
    shared = WordIncidence(words, weight).shared(pairs)
    expected = [_python_shared(words, weight, i, j) for i, j in pairs.tolist()]
    assert np.allclose(shared, expected, rtol=0, atol=1e-12)
    assert (shared == WordIncidence(words, weight).shared(pairs)).all()  # deterministic


def test_no_shared_words_and_empty_statements() -> None:
    words = [frozenset({"spoke", "putin"}), frozenset(), frozenset({"met", "zelensky"})]
    weight = {"spoke": 1.0, "putin": 2.0, "met": 0.5, "zelensky": 3.0}
    pairs = np.array([[0, 1], [0, 2], [1, 2], [0, 0]])
    assert WordIncidence(words, weight).shared(pairs).tolist() == [0.0, 0.0, 0.0, 3.0]
    empty = WordIncidence([frozenset(), frozenset()], {})
    assert empty.shared(np.array([[0, 1]])).tolist() == [0.0]
    assert WordIncidence(words, weight).shared(np.zeros((0, 2), dtype=np.int64)).shape == (0,)
