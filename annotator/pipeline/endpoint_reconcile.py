"""Reconcile with a model endpoint's help: the pair judge and the embedder it injects.

Reconcile itself never imports the network layer; `run --backend llm` and
`reconcile --base-url/--model` build here a `ModelJudge` (uncertain pairs, cached in the
answer cache, bounded by `--max-adjudications`) and, with `--embed-model`, an endpoint
embedder (cached by statement hash and model id), and pass them in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from annotator.core.models import ArticleAnnotation, EventSummary
from annotator.core.settings import EndpointConfig
from annotator.reconcile.embeddings import CachedEmbedder, Embedder

if TYPE_CHECKING:
    from annotator.extract.llm.adjudicate import ModelJudge
    from annotator.extract.llm.blocking import BlockingClient

EMBEDDINGS_FOLDER = "embeddings"  # under the cache folder


@dataclass
class ReconcileHelpers:
    """What a reconcile is given beyond the records; `describe()` goes to the manifest."""

    judge: ModelJudge | None = None  # None: no adjudication
    embedder: Embedder | None = None  # None: the bundled offline model
    client: BlockingClient | None = None  # what both use; closed by `reconcile_records`
    embed_model: str | None = None
    concurrency_note: str | None = None  # the concurrency was lowered to the server's slots

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {"embeddings": self.embedder.model_id if self.embedder else None}
        if self.concurrency_note:
            out["concurrency_note"] = self.concurrency_note
        if self.judge is not None:
            out["adjudication"] = self.judge.describe()
        return out

    def interrupt(self) -> None:
        """Stop a reconcile that is asking the model, at its next pair."""
        if self.judge is not None:
            self.judge.interrupt()

    def summary_line(self) -> str | None:
        """One line for the CLI: what adjudication did, or None without a judge."""
        if self.judge is None:
            return None
        t = self.judge.tally
        line = (
            f"adjudicated {t.decided} uncertain pair(s) with {self.judge.client.config.model}"
            f" ({t.calls} model call(s), {t.cached} cached, {t.same} judged the same claim)"
        )
        if t.skipped:
            line += (
                f"; {t.skipped} pair(s) past --max-adjudications {t.limit} left to the "
                "embedding score"
            )
        if t.failed:
            line += f"; {t.failed} pair(s) not decided: {t.error}"
        return line


def endpoint_helpers(
    config: EndpointConfig,
    mode: str,
    cache_dir: Path,
    *,
    max_adjudications: int,
    concurrency: int = 8,
    embed_model: str | None = None,
) -> ReconcileHelpers:
    """A judge over `config`'s model (at most `concurrency` calls in flight) and, with
    `embed_model`, the endpoint's embeddings."""
    from annotator.extract.llm.adjudicate import ModelJudge
    from annotator.extract.llm.blocking import BlockingClient
    from annotator.extract.llm.embeddings import EndpointEmbedder
    from annotator.pipeline.cache import ResponseCache

    client = BlockingClient(config, mode)
    judge = ModelJudge(
        client, ResponseCache(cache_dir), limit=max_adjudications, concurrency=concurrency
    )
    embedder: Embedder | None = None
    if embed_model:
        embedder = CachedEmbedder(
            EndpointEmbedder(client, embed_model), cache_dir / EMBEDDINGS_FOLDER
        )
    return ReconcileHelpers(judge=judge, embedder=embedder, client=client, embed_model=embed_model)


async def ready_helpers(
    config: EndpointConfig,
    cache_dir: Path,
    *,
    max_adjudications: int,
    concurrency: int = 8,
    concurrency_given: bool = True,
    embed_model: str | None = None,
) -> ReconcileHelpers:
    """`endpoint_helpers` for a bare endpoint setting (`annotate reconcile --base-url`): the
    model filled in and `--mode auto` resolved first (a cached probe, as `run` does), and a
    default concurrency (not `concurrency_given`) lowered to a llama.cpp server's slots."""
    from annotator.extract.llm.probe import ready_endpoint
    from annotator.extract.llm.slots import fit_concurrency

    config, mode = await ready_endpoint(config, cache_dir)
    fitted = await fit_concurrency(config, concurrency, given=concurrency_given)
    helpers = endpoint_helpers(
        config,
        mode,
        cache_dir,
        max_adjudications=max_adjudications,
        concurrency=fitted.concurrency,
        embed_model=embed_model,
    )
    helpers.concurrency_note = fitted.note
    return helpers


def reconcile_records(
    records: Sequence[ArticleAnnotation], helpers: ReconcileHelpers | None = None
) -> EventSummary:
    """`reconcile` with the helpers injected, closing their client afterwards. Blocking:
    call it from a thread that runs no event loop (`asyncio.to_thread` in async code)."""
    from annotator.reconcile.summary import reconcile

    if helpers is None:
        return reconcile(records)
    try:
        return reconcile(records, judge=helpers.judge, embedder=helpers.embedder)
    finally:
        if helpers.client is not None:
            helpers.client.close()
