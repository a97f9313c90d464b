"""The two annotation backends behind one interface: `annotate(article)` returns an
`Annotated` (extraction, annotation info, attempts, cached, gaps). `rules` runs offline in
worker processes with a per-article time budget; `llm` asks the endpoint through the
response cache."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from annotator.core.errors import UsageError
from annotator.core.models import AnnotationInfo, Usage
from annotator.core.settings import EndpointConfig
from annotator.extract.schema import Extraction
from annotator.load.articles import Article
from annotator.pipeline.rules_worker import DEFAULT_TARGET, RulesWorkerPool

if TYPE_CHECKING:
    from annotator.extract.llm.pieces import PieceLog
    from annotator.pipeline.run import RunOptions


@dataclass
class Annotated:
    """One article's answer from a backend."""

    extraction: Extraction
    info: AnnotationInfo
    attempts: int = 0
    cached: bool = False
    # a partial article: one flag line per stretch of text no piece answer covers
    gaps: list[str] = field(default_factory=list)


class RulesBackend:
    """The offline extractor, each article in a worker process within `budget` seconds."""

    notices: list[str]

    def __init__(self, budget: float, target: str = DEFAULT_TARGET) -> None:
        from annotator.extract.rules.extract import RULES_VERSION

        self.version = RULES_VERSION
        self.notices = []
        self.budget = budget
        self.pool = RulesWorkerPool(budget=budget, target=target)

    async def annotate(self, article: Article) -> Annotated:
        info = AnnotationInfo(backend="rules", prompt=self.version)
        return Annotated(await asyncio.to_thread(self.pool.extract, article), info)

    def describe(self) -> dict[str, Any]:
        return {"model": None, "endpoint": None, "prompts": {"rules": self.version}}

    async def aclose(self) -> None:
        await asyncio.to_thread(self.pool.close)


class LLMBackend:
    """Model answers through the cache. The network client (openai + instructor, slow to
    import) is only built on the first cache miss, so a fully cached re-run never loads it."""

    def __init__(self, opts: RunOptions, config: EndpointConfig, mode: str) -> None:
        from annotator.extract.llm.extract import EXTRACT_PROMPT, REQUOTE_PROMPT
        from annotator.extract.llm.prompts import load_prompt
        from annotator.extract.schema import QuoteFixes
        from annotator.pipeline.cache import ResponseCache, schema_sha256

        self.config = config
        self.mode = mode
        self.force = opts.force
        self.chunk_chars = opts.chunk_chars
        self.concurrency = opts.concurrency
        self.answers: Any = None  # batch results looked up before a live call (batch.py)
        self.batch_of: Callable[[Article], str | None] | None = None  # for the cache entry
        self.io: Executor | None = None  # threads for cache writes (None: asyncio's default)
        self.batches: dict[str, str] = {}  # article sha256 -> batch(es) its answer came from
        self.notices: list[str] = []
        self.prompt = load_prompt(EXTRACT_PROMPT)
        self.requote = load_prompt(REQUOTE_PROMPT)
        self._extractor: Any = None
        self._client: Any = None
        self.cache = ResponseCache(opts.cache_dir or opts.out_root / ".cache")
        self.key_base = {
            "endpoint": config.public_url,
            "model": config.model,
            "mode": mode,
            "prompts": [self.prompt.sha256, self.requote.sha256],
            "schema": [schema_sha256(Extraction), schema_sha256(QuoteFixes)],
            "sampling": {
                "temperature": config.temperature,
                "max_tokens": config.max_tokens,
                "chunk_chars": opts.chunk_chars,
                "context_tokens": config.context_tokens,  # sizes the chunks too
            },
        }

    @property
    def extractor(self) -> Any:
        if self._extractor is None:
            from annotator.extract.llm.client import StructuredClient
            from annotator.extract.llm.extract import LLMExtractor

            self._client = StructuredClient(
                self.config, mode=self.mode, concurrency=self.concurrency, answers=self.answers
            )
            self._extractor = LLMExtractor(
                self._client, self.prompt, self.requote, chunk_chars=self.chunk_chars
            )
        return self._extractor

    async def annotate(self, article: Article) -> Annotated:
        from annotator.pipeline.cache import cache_key

        fields = {**self.key_base, "article": article.sha256}
        key = cache_key(fields)
        hit = None if self.force else self.cache.get(key)
        earlier = earlier_pieces(hit)  # a partial answer: its failed pieces are asked again
        if hit is not None and "pieces" not in hit:
            try:
                extraction = Extraction.model_validate(hit["extraction"])
                if hit.get("batch"):
                    self.batches[article.sha256] = str(hit["batch"])
                return Annotated(extraction, self._info(hit), 0, True)
            except (KeyError, ValueError):
                pass  # a damaged entry is recomputed, never trusted
        outcome = await self.extractor.extract(article, earlier)
        value = {
            "extraction": outcome.extraction.model_dump(mode="json"),
            "usage": outcome.usage.model_dump(),
            "model": outcome.model,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "attempts": outcome.attempts,
            "chunks": outcome.chunks,
            "requoted": outcome.requoted,
        }
        if hit is not None and earlier is not None and not outcome.answered_now:
            # nothing new was answered: the record stays byte-identical
            value.update(model=hit.get("model"), created=hit.get("created"))
        if outcome.gaps:
            # not a finished answer: the piece log lets the next run resume it
            value["pieces"] = outcome.pieces.to_json()
        if self.batch_of is not None and (label := self.batch_of(article)):
            value["batch"] = label
        await asyncio.get_running_loop().run_in_executor(
            self.io, self.cache.put, key, fields, value
        )
        return Annotated(
            outcome.extraction, self._info(value), outcome.attempts, False, outcome.gaps
        )

    def _info(self, value: dict[str, Any]) -> AnnotationInfo:
        return AnnotationInfo(
            backend="llm",
            model=value.get("model") or self.config.model,
            endpoint=self.config.public_url,
            prompt=self.prompt.id,
            prompt_sha256=self.prompt.sha256,
            created=value.get("created"),
            usage=Usage.model_validate(value.get("usage") or {}),
            mode=self.mode,
        )

    def describe(self) -> dict[str, Any]:
        return {
            "model": self.config.model,
            "endpoint": self.config.public_url,
            "mode": self.mode,
            "prompts": {self.prompt.id: self.prompt.sha256, self.requote.id: self.requote.sha256},
            # token-limit name and sampling parameters dropped for this endpoint and model
            "request": self._client.describe() if self._client is not None else None,
        }

    async def aclose(self) -> None:
        if self._client is not None:
            self.notices.append(self._client.usage_line())  # tokens and estimated cost
            await self._client.aclose()


def earlier_pieces(entry: dict[str, Any] | None) -> PieceLog | None:
    """The piece log of a cached partial answer; None for a whole answer, none at all, or
    a damaged log (then the article is asked afresh)."""
    if entry is None or "pieces" not in entry:
        return None
    from annotator.extract.llm.pieces import PieceLog

    try:
        return PieceLog.from_json(entry["pieces"])
    except (KeyError, ValueError, TypeError):
        return None


async def make_backend(opts: RunOptions) -> RulesBackend | LLMBackend:
    if opts.backend == "rules":
        return RulesBackend(opts.rules_budget, opts.rules_target)
    config = opts.endpoint
    if config is None:
        raise UsageError("the llm backend needs an endpoint: pass --base-url or set OPENAI_API_KEY")
    from annotator.extract.llm.probe import ready_endpoint

    config, mode = await ready_endpoint(config, opts.cache_dir or opts.out_root / ".cache")
    return LLMBackend(opts, config, mode)
