"""The embedding cache finds every vector it wrote, including those whose key (a sha256
digest) ends in a zero byte, which numpy's fixed-width bytes type strips on reading."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from annotator.reconcile.embeddings import CachedEmbedder, text_key


class CountingEmbedder:
    model_id = "counting-test-model"

    def __init__(self) -> None:
        self.seen: list[str] = []

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.seen.extend(texts)
        return np.array([[len(t), 1.0] for t in texts], dtype=np.float32)


def test_a_key_ending_in_a_zero_byte_is_found_again(tmp_path: Path) -> None:
    texts = [f"statement {i}" for i in range(2000)]
    zero = [t for t in texts if text_key(CountingEmbedder.model_id, t)[-1] == 0]
    assert zero  # about 1 in 256 keys
    texts = [*zero, "the harbour bridge reopened"]
    first = CountingEmbedder()
    vectors = CachedEmbedder(first, tmp_path).embed(texts)
    assert first.seen == sorted(texts, key=lambda t: text_key(first.model_id, t))

    again = CountingEmbedder()
    assert np.array_equal(CachedEmbedder(again, tmp_path).embed(texts), vectors)
    assert again.seen == []  # every vector came from the shard on disk
