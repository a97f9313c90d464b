"""The `llm` backend: one structured call per article (per chunk when long), then, per
chunk, one re-ask for the quotes that grounding could not find in that chunk's text.

Chunks are sized up front from the model's context window when it is known
(`--context-tokens`, or the server's `max_model_len`): the prompt, the text and the
answer budget must fit together. An answer cut at the token limit, or a request the
server rejects as longer than its context (HTTP 400 "maximum context length"), is split
in two and each half asked again, never parsed or retried as is.

A piece that fails even so (cut at the smallest size, invalid after the re-asks, refused,
or transport faults that outlasted every retry: see `PIECE_FAILURES`) does not sink the
article: the other pieces' claims are kept and the gap is reported
(`ExtractionOutcome.gaps`), and the piece log lets a later run ask only that piece again.
When pieces in a row get no answer at all, the rest of the article is not sent
(`breaker.py`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from annotator.core.errors import (
    ContextTooLong,
    EndpointError,
    ExtractionInvalid,
    ModelRefused,
    OutputTruncated,
    TransportFailed,
)
from annotator.core.models import Usage
from annotator.extract.llm.breaker import TransportBreaker
from annotator.extract.llm.pieces import (
    PIECE_FAILURES,
    PieceDone,
    PieceFailed,
    PieceLog,
    PieceSplit,
    failure_reason,
    gap_flags,
)
from annotator.extract.llm.prompts import Prompt
from annotator.extract.schema import AnsweredExtraction, Extraction, QuoteFixes
from annotator.ground import ground_quote
from annotator.load.articles import Article

if TYPE_CHECKING:
    from annotator.extract.llm.client import StructuredClient

EXTRACT_PROMPT = "extract_v1"
REQUOTE_PROMPT = "requote_v1"
DEFAULT_CHUNK_CHARS = 12_000
MIN_CHUNK_CHARS = 1_500
CHARS_PER_TOKEN = 3  # conservative for English news text (tokenizers give ~4)
MIN_ANSWER_TOKENS = 512


@dataclass
class ExtractionOutcome:
    extraction: Extraction
    usage: Usage  # every request made for the article: answered, cut, failed
    attempts: int  # requests sent in this call (answers reused from `earlier` cost none)
    model: str | None
    chunks: int = 0  # parts of the text that were sent (more than one for long articles)
    requoted: int = 0  # claims sent back once because their quote was not found
    pieces: PieceLog = field(default_factory=PieceLog)
    answered_now: int = 0  # pieces the model answered in this call (not taken from earlier)
    length: int = 0  # characters of article text
    breaker: TransportBreaker = field(default_factory=TransportBreaker)

    @property
    def gaps(self) -> list[str]:
        """The record flags of a partial article: the stretches left unannotated."""
        return gap_flags(self.pieces.failed, self.length)


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
        self.context_tokens = client.config.context_tokens
        self._asked_server = self.context_tokens is not None

    async def extract(self, article: Article, earlier: PieceLog | None = None) -> ExtractionOutcome:
        """Annotate every piece of the article. `earlier`: the piece log of a partial
        earlier run; its answered pieces are reused, its failed ones asked again.

        A piece that still fails leaves a gap (`outcome.gaps`) while the other pieces go
        on; when no piece at all is answered, the first piece's error is raised."""
        if not self._asked_server:  # once, on the first model call of the run
            self._asked_server = True
            self.context_tokens = await self.client.context_window()
        outcome = ExtractionOutcome(Extraction.empty(), Usage(), 0, self.client.config.model)
        outcome.length = len(article.text)
        chunk_chars, _ = self._sizes(article)
        start = 0
        for chunk in split_text(article.text, chunk_chars):
            await self._extract_chunk(article, start, chunk, outcome, earlier)
            start += len(chunk)
        outcome.usage = outcome.pieces.usage
        failed = outcome.pieces.failed
        if failed and not outcome.pieces.done and failed[0].error is not None:
            error = failed[0].error
            error.attempts, error.usage = outcome.attempts, outcome.usage  # the article's
            if outcome.breaker.not_sent:
                error.args = (f"{error}; {outcome.breaker.note()}",)
            raise error
        return outcome

    def _sizes(self, article: Article) -> tuple[int, int | None]:
        """(characters of text per chunk, answer token budget) for this model."""
        budget = self.client.config.max_tokens
        if not self.context_tokens:
            return self.chunk_chars, budget
        overhead = sum(len(m["content"]) for m in self._messages(article, "")) // CHARS_PER_TOKEN
        room = max(0, self.context_tokens - overhead - 64)
        answer = min(budget or room // 2, max(MIN_ANSWER_TOKENS, room // 2))
        text_tokens = max(MIN_CHUNK_CHARS // CHARS_PER_TOKEN, room - answer)
        return min(self.chunk_chars, text_tokens * CHARS_PER_TOKEN), answer

    def first_requests(self, article: Article) -> list[dict[str, Any]]:
        """The request body of the first call for each part of the article: what
        `extract` sends before any re-ask or split (written to batch files)."""
        chunk_chars, budget = self._sizes(article)
        return [
            self.client.request_body(
                self._messages(article, chunk), AnsweredExtraction, max_tokens=budget
            )
            for chunk in split_text(article.text, chunk_chars)
        ]

    def retry_requests(self, article: Article, earlier: PieceLog) -> list[dict[str, Any]]:
        """The request body of the first call for each failed piece of a partial article:
        what `extract(article, earlier)` sends (written to batch files)."""
        _, budget = self._sizes(article)
        return [
            self.client.request_body(
                self._messages(article, article.text[f.start : f.end]),
                AnsweredExtraction,
                max_tokens=budget,
            )
            for f in earlier.failed
        ]

    def _messages(self, article: Article, chunk: str) -> list[dict[str, Any]]:
        return self.prompt.render(
            article=chunk, title=article.title or "unknown", outlet=article.outlet or "unknown"
        )

    async def _extract_chunk(
        self,
        article: Article,
        start: int,
        chunk: str,
        out: ExtractionOutcome,
        earlier: PieceLog | None,
    ) -> None:
        """Annotate the piece `chunk`, which starts at character `start` of the article."""
        end = start + len(chunk)
        if earlier is not None:
            known = earlier.known(start, end)
            if known is not None:
                self._add(out, known)
                return
            split = earlier.was_split(start, end)
            if split is not None and len(chunk) > MIN_CHUNK_CHARS:
                # cut at the token budget last time: ask for the halves straight away
                out.pieces.split.append(split)
                await self._split(article, start, chunk, out, earlier)
                return
        breaker = out.breaker
        if breaker.stopped:  # the endpoint stopped answering: a gap, asked next run
            out.pieces.failed.append(PieceFailed(start, end, breaker.skip()))
            return
        chunk_chars, budget = self._sizes(article)
        try:
            if len(chunk) > chunk_chars:  # the context became known after the split
                raise ContextTooLong("chunk longer than the context allows")
            done = await self.client.complete(
                self._messages(article, chunk),
                AnsweredExtraction,
                max_tokens=budget,
                validation_retries=2,
                max_attempts=1 if breaker.probing else None,
            )
        except OutputTruncated as exc:
            # The answer did not fit the token budget, or the request did not fit the
            # context: split the text and try each piece.
            breaker.answered()
            out.attempts += exc.attempts
            if isinstance(exc, ContextTooLong) and exc.context_tokens:
                self.context_tokens = exc.context_tokens
            if len(chunk) <= MIN_CHUNK_CHARS:
                self._fail(out, start, end, exc)
                return
            out.pieces.split.append(PieceSplit(start, end, exc.usage or Usage()))
            await self._split(article, start, chunk, out, earlier)
            return
        except PIECE_FAILURES as exc:  # invalid after the re-asks, refused, transport
            out.attempts += exc.attempts
            breaker.failed(exc)
            self._fail(out, start, end, exc)
            return
        breaker.answered()
        out.attempts += done.attempts
        try:
            spent, requoted = await self._requote(chunk, done.value, out)
        except TransportFailed as exc:
            # the answer is not kept without its quotes checked: the piece is asked again
            out.attempts += exc.attempts
            exc.usage = done.usage + (exc.usage or Usage())
            breaker.failed(exc)
            self._fail(out, start, end, exc)
            return
        out.model = done.model
        out.answered_now += 1
        self._add(out, PieceDone(start, end, done.value, done.usage + spent, requoted))

    @staticmethod
    def _fail(out: ExtractionOutcome, start: int, end: int, exc: EndpointError) -> None:
        usage = exc.usage or Usage()
        out.pieces.failed.append(PieceFailed(start, end, failure_reason(exc), exc, usage))

    async def _split(
        self,
        article: Article,
        start: int,
        chunk: str,
        out: ExtractionOutcome,
        earlier: PieceLog | None,
    ) -> None:
        size = min(self._sizes(article)[0], len(chunk) // 2 + 1)
        for piece in split_text(chunk, max(MIN_CHUNK_CHARS, size)):
            await self._extract_chunk(article, start, piece, out, earlier)
            start += len(piece)

    @staticmethod
    def _add(out: ExtractionOutcome, piece: PieceDone) -> None:
        out.requoted += piece.requoted
        _merge(out.extraction, piece.extraction, prefix=f"k{out.chunks}_" if out.chunks else "")
        out.chunks += 1
        out.pieces.done.append(piece)

    async def _requote(
        self, text: str, part: Extraction, out: ExtractionOutcome
    ) -> tuple[Usage, int]:
        """Re-ask, with this chunk's text only, for quotes not found in it; returns the
        tokens spent and how many claims were sent back."""
        claims = part.claims
        missing = [i for i, c in enumerate(claims) if ground_quote(text, c.quote).span is None]
        if not missing:
            return Usage(), 0
        listing = "\n".join(
            f"{n}. statement: {claims[i].statement!r}; quote given: {claims[i].quote!r}"
            for n, i in enumerate(missing, start=1)
        )
        messages = self.requote_prompt.render(article=text, claims=listing)
        try:
            done = await self.client.complete(messages, QuoteFixes, validation_retries=1)
        except (OutputTruncated, ExtractionInvalid, ModelRefused) as exc:
            # the re-ask is a second chance, not a requirement: the claims stay, and
            # grounding marks their quotes 'none'
            out.attempts += exc.attempts
            return exc.usage or Usage(), len(missing)
        out.attempts += done.attempts
        for fix in done.value.fixes:
            if 1 <= fix.index <= len(missing) and fix.quote.strip():
                claims[missing[fix.index - 1]].quote = fix.quote
        return done.usage, len(missing)


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
