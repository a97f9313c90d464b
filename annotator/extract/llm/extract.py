"""The `llm` backend: one structured call per article (per chunk when long), then one
re-ask for the quotes that grounding could not find in the text."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from annotator.core.errors import ExtractionInvalid, OutputTruncated
from annotator.core.models import Usage
from annotator.extract.llm.prompts import Prompt
from annotator.extract.schema import Extraction, QuoteFixes
from annotator.ground import ground_quote
from annotator.load.articles import Article

if TYPE_CHECKING:
    from annotator.extract.llm.client import StructuredClient

EXTRACT_PROMPT = "extract_v1"
REQUOTE_PROMPT = "requote_v1"
DEFAULT_CHUNK_CHARS = 12_000
MIN_CHUNK_CHARS = 1_500


@dataclass
class ExtractionOutcome:
    extraction: Extraction
    usage: Usage
    attempts: int
    model: str | None
    chunks: int = 0  # parts of the text that were sent (more than one for long articles)
    requoted: int = 0  # claims sent back once because their quote was not found


def split_text(text: str, max_chars: int) -> list[str]:
    """Split at paragraph (else sentence, else space) boundaries into pieces <= max_chars.
    The pieces concatenate back to the text exactly."""
    if len(text) <= max_chars:
        return [text]
    pieces: list[str] = []
    start = 0
    while start < len(text):
        end = min(len(text), start + max_chars)
        if end < len(text):
            window = text[start:end]
            cut = max(window.rfind("\n\n"), window.rfind(". "), window.rfind("\n"))
            if cut < max_chars // 3:
                cut = window.rfind(" ")
            if cut > 0:
                end = start + cut + 1
        pieces.append(text[start:end])
        start = end
    return pieces


class LLMExtractor:
    def __init__(
        self,
        client: StructuredClient,
        prompt: Prompt,
        requote_prompt: Prompt,
        *,
        chunk_chars: int = DEFAULT_CHUNK_CHARS,
    ) -> None:
        self.client = client
        self.prompt = prompt
        self.requote_prompt = requote_prompt
        self.chunk_chars = chunk_chars

    async def extract(self, article: Article) -> ExtractionOutcome:
        outcome = ExtractionOutcome(Extraction(), Usage(), 0, self.client.config.model)
        for chunk in split_text(article.text, self.chunk_chars):
            await self._extract_chunk(article, chunk, outcome)
        await self._requote(article, outcome)
        return outcome

    def first_requests(self, article: Article) -> list[list[dict[str, Any]]]:
        """The messages of the first call for each part of the article: what `extract`
        sends before any re-ask (written to batch files)."""
        return [self._messages(article, c) for c in split_text(article.text, self.chunk_chars)]

    def _messages(self, article: Article, chunk: str) -> list[dict[str, Any]]:
        return self.prompt.render(
            article=chunk, title=article.title or "unknown", outlet=article.outlet or "unknown"
        )

    async def _extract_chunk(self, article: Article, chunk: str, out: ExtractionOutcome) -> None:
        messages = self._messages(article, chunk)
        try:
            done = await self.client.complete(messages, Extraction, validation_retries=2)
        except OutputTruncated:
            # The answer did not fit the token budget: halve the text and try each half.
            if len(chunk) <= MIN_CHUNK_CHARS:
                raise
            for half in split_text(chunk, max(MIN_CHUNK_CHARS, len(chunk) // 2 + 1)):
                await self._extract_chunk(article, half, out)
            return
        _merge(out.extraction, done.value, prefix=f"k{out.chunks}_" if out.chunks else "")
        out.chunks += 1
        out.usage = out.usage + done.usage
        out.attempts += done.attempts
        out.model = done.model

    async def _requote(self, article: Article, out: ExtractionOutcome) -> None:
        claims = out.extraction.claims
        missing = [
            i for i, c in enumerate(claims) if ground_quote(article.text, c.quote).span is None
        ]
        if not missing:
            return
        listing = "\n".join(
            f"{n}. statement: {claims[i].statement!r}; quote given: {claims[i].quote!r}"
            for n, i in enumerate(missing, start=1)
        )
        messages = self.requote_prompt.render(article=article.text, claims=listing)
        out.requoted = len(missing)
        try:
            done = await self.client.complete(messages, QuoteFixes, validation_retries=1)
        except (OutputTruncated, ExtractionInvalid):
            # the re-ask is a second chance, not a requirement: the claims stay, and
            # grounding marks their quotes 'none'
            return
        out.usage = out.usage + done.usage
        out.attempts += done.attempts
        for fix in done.value.fixes:
            if 1 <= fix.index <= len(missing) and fix.quote.strip():
                claims[missing[fix.index - 1]].quote = fix.quote


def _merge(into: Extraction, part: Extraction, *, prefix: str) -> None:
    """Append a chunk's extraction, keeping its ids apart from earlier chunks'."""
    if not prefix:
        into.speakers.extend(part.speakers)
        into.sources.extend(part.sources)
        into.claims.extend(part.claims)
        return
    for sp in part.speakers:
        into.speakers.append(sp.model_copy(update={"id": prefix + sp.id}))
    for src in part.sources:
        via = prefix + src.cited_via if src.cited_via else None
        into.sources.append(src.model_copy(update={"id": prefix + src.id, "cited_via": via}))
    for c in part.claims:
        into.claims.append(
            c.model_copy(
                update={
                    "speaker": prefix + c.speaker if c.speaker else None,
                    "sources": [prefix + s for s in c.sources],
                }
            )
        )
