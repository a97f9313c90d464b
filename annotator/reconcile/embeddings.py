"""Sentence embeddings for claim statements: the `Embedder` protocol, the bundled offline
model, and a content-addressed cache of vectors.

The default model is `wordllama` (its 256-dim weights and tokenizer ship inside the
wheel): loaded from the installed package folder with downloads disabled, so reconcile
never touches the network. An endpoint's `/v1/embeddings` is another `Embedder`, built
by the pipeline (extract/llm/) and injected; this module never imports a network client.

Vectors are L2-normalised float32 rows, so a dot product is the cosine similarity.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from annotator.core.errors import AnnotatorError

BUNDLED_MODEL = "wordllama/l2_supercat_256"
_BATCH = 4096  # texts per call to the model (bounds the padded token matrix)


class EmbeddingError(AnnotatorError):
    """Statement embeddings could not be computed (model missing or endpoint failed)."""


@runtime_checkable
class Embedder(Protocol):
    """Anything that turns texts into one vector each (rows in input order)."""

    @property
    def model_id(self) -> str: ...  # names the model in cache keys: another model, other vectors

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...  # (len(texts), dim) float32


def normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.ascontiguousarray(vectors / norms, dtype=np.float32)


@lru_cache(maxsize=1)
def _wordllama() -> Any:
    # importing wordllama calls logging.basicConfig(INFO) on the root logger: undo that,
    # so the CLI's output stays ours
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        import wordllama
        from wordllama import WordLlama
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise EmbeddingError(f"the bundled embedding model is not installed: {exc}") from None
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
    folder = Path(wordllama.__file__).parent
    try:
        return WordLlama.load(cache_dir=folder, disable_download=True)
    except (FileNotFoundError, OSError) as exc:
        raise EmbeddingError(f"wordllama's bundled weights not found in {folder}: {exc}") from None


class BundledEmbedder:
    """wordllama's static token embeddings, average-pooled: offline, deterministic, fast
    (about 100,000 short statements in 8 s on 2 cores)."""

    model_id = BUNDLED_MODEL

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        model = _wordllama()
        table = model.embedding
        out = np.zeros((len(texts), table.shape[1]), dtype=np.float32)
        for start in range(0, len(texts), _BATCH):
            encoded = model.tokenizer.encode_batch(
                list(texts[start : start + _BATCH]), add_special_tokens=False
            )
            ids = [[i for i, m in zip(e.ids, e.attention_mask, strict=True) if m] for e in encoded]
            counts = np.array([len(x) for x in ids], dtype=np.int64)
            flat = np.clip(np.fromiter((i for x in ids for i in x), dtype=np.int64), 0, None)
            if not flat.size:
                continue
            flat = np.minimum(flat, len(table) - 1)
            # each text's token vectors summed left to right, position by position for the
            # whole batch (one gather and one add per position, not one per text): the
            # vector of a statement does not depend on the batch it came in
            rows = np.repeat(np.arange(len(ids)), counts)
            position = np.arange(len(flat)) - np.repeat(np.cumsum(counts) - counts, counts)
            order = np.argsort(position, kind="stable")  # by position, then by text
            bounds = np.searchsorted(position[order], np.arange(int(counts.max()) + 1))
            sums = np.zeros((len(ids), table.shape[1]), dtype=np.float32)
            for p in range(len(bounds) - 1):
                at = order[bounds[p] : bounds[p + 1]]
                sums[rows[at]] += table[flat[at]]
            nonempty = counts > 0
            out[start + np.flatnonzero(nonempty)] = sums[nonempty] / counts[nonempty, None]
        return normalise(out)


def text_key(model_id: str, text: str) -> bytes:
    """Cache key of one statement under one model: sha256 of both."""
    return hashlib.sha256(f"{model_id}\x00{text}".encode()).digest()


class CachedEmbedder:
    """An `Embedder` that keeps every vector it computed in `folder`, keyed by
    sha256(model id, statement): a later reconcile embeds only statements it has not seen.

    Each call that computes new vectors adds one shard file (`<digest>.npz`, written
    atomically); shards are read once, on first use. Same statements, same vectors.
    """

    def __init__(self, inner: Embedder, folder: Path) -> None:
        self.inner = inner
        self.folder = folder / _slug(inner.model_id)
        self._known: dict[bytes, np.ndarray] | None = None

    @property
    def model_id(self) -> str:
        return self.inner.model_id

    def _load(self) -> dict[bytes, np.ndarray]:
        if self._known is None:
            self._known = {}
            for shard in sorted(self.folder.glob("*.npz")) if self.folder.is_dir() else []:
                try:
                    with np.load(shard) as data:
                        keys, vectors = data["keys"], data["vectors"]
                except (OSError, ValueError, KeyError):
                    continue  # a damaged shard is recomputed, never trusted
                for k, v in zip(keys, vectors, strict=True):
                    # numpy's bytes type drops a key's trailing zero bytes on the way back
                    # (1 key in 256): put them back, or that vector is never found again
                    self._known[bytes(k).ljust(32, b"\0")] = v
        return self._known

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        known = self._load()
        keys = [text_key(self.model_id, t) for t in texts]
        missing = sorted({k: t for k, t in zip(keys, texts, strict=True) if k not in known}.items())
        if missing:
            fresh = np.asarray(self.inner.embed([t for _, t in missing]), dtype=np.float32)
            for (k, _), v in zip(missing, fresh, strict=True):
                known[k] = v
            self._write([k for k, _ in missing], fresh)
        if not texts:
            return self.inner.embed([])
        return np.stack([known[k] for k in keys]).astype(np.float32, copy=False)

    def _write(self, keys: list[bytes], vectors: np.ndarray) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256(b"".join(keys)).hexdigest()[:16]
        target = self.folder / f"{digest}.npz"
        fd, tmp = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                np.savez(fh, keys=np.array(keys, dtype="S32"), vectors=vectors)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def _slug(model_id: str) -> str:
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in model_id)
    return f"{safe[:60]}-{hashlib.sha256(model_id.encode()).hexdigest()[:8]}"
