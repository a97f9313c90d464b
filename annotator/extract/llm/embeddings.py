"""Statement embeddings from an endpoint's `/v1/embeddings` (`--embed-model NAME`).

`EndpointEmbedder` is a reconcile `Embedder` (the protocol in `reconcile.embeddings`,
matched by shape: this layer does not import reconcile): texts go out in batches through
the same client as everything else (retries, one-line errors) and come back as
L2-normalised float32 rows in input order. The pipeline wraps it in reconcile's
`CachedEmbedder`, so each statement is sent once per model.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import TYPE_CHECKING

import numpy as np

from annotator.core.errors import EndpointError
from annotator.core.models import Usage
from annotator.extract.llm.blocking import BlockingClient

if TYPE_CHECKING:
    from annotator.extract.llm.client import StructuredClient

EMBED_BATCH = 256  # texts per request: well under the input limits of common servers


class EndpointEmbedder:
    """Vectors from `model` on the client's endpoint."""

    def __init__(self, client: BlockingClient, model: str) -> None:
        self.client = client
        self.model = model
        self.requests = 0
        self.usage = Usage()

    @property
    def model_id(self) -> str:
        # another endpoint may serve other weights under the same name: both name the vectors
        return f"{self.model}@{self.client.config.public_url}"

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        rows: list[list[float]] = []
        for start in range(0, len(texts), EMBED_BATCH):
            # servers refuse empty inputs; a blank statement has no meaning to embed anyway
            batch = [t if t.strip() else "-" for t in texts[start : start + EMBED_BATCH]]
            try:
                vectors, usage = self.client.run(partial(_embed, texts=batch, model=self.model))
            except EndpointError as exc:
                raise EndpointError(
                    f"embeddings from {self.client.config.public_url} with --embed-model "
                    f"{self.model!r} failed: {exc}",
                    attempts=exc.attempts,
                    endpoint=exc.endpoint,
                ) from None
            if len(vectors) != len(batch):
                raise EndpointError(
                    f"{self.client.config.public_url} returned {len(vectors)} embeddings for "
                    f"{len(batch)} texts (--embed-model {self.model!r})",
                    endpoint=self.client.config.public_url,
                )
            self.requests += 1
            self.usage = self.usage + usage
            rows.extend(vectors)
        if not rows:
            return np.zeros((0, 1), dtype=np.float32)
        if len({len(r) for r in rows}) != 1 or not rows[0]:
            raise EndpointError(
                f"{self.client.config.public_url} returned empty embeddings or embeddings of "
                "different lengths "
                f"(--embed-model {self.model!r})",
                endpoint=self.client.config.public_url,
            )
        vectors_out = np.asarray(rows, dtype=np.float32)
        norms = np.linalg.norm(vectors_out, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return np.ascontiguousarray(vectors_out / norms, dtype=np.float32)


async def _embed(
    client: StructuredClient, *, texts: list[str], model: str
) -> tuple[list[list[float]], Usage]:
    return await client.embed(texts, model)
