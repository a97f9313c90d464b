"""The two annotation backends behind one interface: `annotate(article)` returns
(extraction, annotation info, attempts, cached). `rules` runs offline in worker processes
with a per-article time budget; `llm` asks the endpoint through the response cache."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from annotator.core.errors import UsageError
from annotator.core.models import AnnotationInfo, Usage
from annotator.core.settings import EndpointConfig
from annotator.extract.schema import Extraction
from annotator.load.articles import Article
from annotator.pipeline.rules_worker import DEFAULT_TARGET, RulesWorkerPool

if TYPE_CHECKING:
    from annotator.pipeline.run import RunOptions


class RulesBackend:
    """The offline extractor, each article in a worker process within `budget` seconds."""

    notices: list[str]

    def __init__(self, budget: float, target: str = DEFAULT_TARGET) -> None:
        from annotator.extract.rules.extract import RULES_VERSION

        self.version = RULES_VERSION
        self.notices = []
        self.budget = budget
        self.pool = RulesWorkerPool(budget=budget, target=target)

    async def annotate(self, article: Article) -> tuple[Extraction, AnnotationInfo, int, bool]:
        info = AnnotationInfo(backend="rules", prompt=self.version)
        return await asyncio.to_thread(self.pool.extract, article), info, 0, False

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
            },
        }

    @property
    def extractor(self) -> Any:
        if self._extractor is None:
            from annotator.extract.llm.client import StructuredClient
            from annotator.extract.llm.extract import LLMExtractor

            self._client = StructuredClient(self.config, mode=self.mode)
            self._extractor = LLMExtractor(
                self._client, self.prompt, self.requote, chunk_chars=self.chunk_chars
            )
        return self._extractor

    async def annotate(self, article: Article) -> tuple[Extraction, AnnotationInfo, int, bool]:
        from annotator.pipeline.cache import cache_key

        fields = {**self.key_base, "article": article.sha256}
        key = cache_key(fields)
        hit = None if self.force else self.cache.get(key)
        if hit is not None:
            try:
                extraction = Extraction.model_validate(hit["extraction"])
                return extraction, self._info(hit), 0, True
            except (KeyError, ValueError):
                pass  # a damaged entry is recomputed, never trusted
        outcome = await self.extractor.extract(article)
        value = {
            "extraction": outcome.extraction.model_dump(mode="json"),
            "usage": outcome.usage.model_dump(),
            "model": outcome.model,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "attempts": outcome.attempts,
            "chunks": outcome.chunks,
            "requoted": outcome.requoted,
        }
        await asyncio.to_thread(self.cache.put, key, fields, value)
        return outcome.extraction, self._info(value), outcome.attempts, False

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
        }

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()


async def make_backend(opts: RunOptions) -> RulesBackend | LLMBackend:
    if opts.backend == "rules":
        return RulesBackend(opts.rules_budget, opts.rules_target)
    config = opts.endpoint
    if config is None:
        raise UsageError("the llm backend needs an endpoint: pass --base-url or set OPENAI_API_KEY")
    from annotator.extract.llm.probe import ready_endpoint

    config, mode = await ready_endpoint(config, opts.cache_dir or opts.out_root / ".cache")
    return LLMBackend(opts, config, mode)
