"""Model adjudication for reconcile: do two claim statements state the same proposition?

Reconcile asks its judge only about statement pairs in the uncertain band around the
merge threshold (`reconcile.clustering`), nearest the threshold first, each pair once;
an answer scores the pair as one claim or as two before clusters form, so a "no" can
also keep apart what the embedding alone would have merged.
`ModelJudge` answers with one structured call per pair (prompt `prompts/same_claim_v2`,
the statements inside delimiters, as data) through the same client as extraction
(retries, structured-output modes, one-line errors), and keeps every answer in the
answer cache under a key of both statements (sorted), model, endpoint, prompt version and
hash, so a second reconcile makes no call.

The budget (`--max-adjudications N`) bounds the pairs decided in one reconcile, cached
answers included: the first N pairs in reconcile's order are decided and the rest keep
their embedding score, so the result does not depend on what the cache happens to hold.
A pair whose call fails keeps its score too; after an error that would repeat for every pair
(unreachable endpoint, bad key, --deadline spent) no further pair is asked, nor after
transport faults that outlast the retries of a whole window of requests in a row (the
endpoint is down for now); one such fault alone is that pair's (a server crashing on one
text) and the other pairs go on.

The pairs are asked concurrently (`judge_all`, at most `concurrency` requests in flight on
the client's event loop): the budget is taken in reconcile's order before anything is
sent, and the answers go back in that order, so the outcome is the one the pairs asked one
by one would give, only sooner. Ctrl-C (`interrupt()`, from any thread) cancels the
requests in flight at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import BaseModel, Field

from annotator.core.errors import (
    AnnotatorError,
    EndpointError,
    ExtractionInvalid,
    ModelRefused,
    OutputTruncated,
    TransportFailed,
)
from annotator.core.models import Usage
from annotator.core.settings import EndpointConfig
from annotator.extract.llm.blocking import BlockingClient
from annotator.extract.llm.breaker import FAILURES_IN_A_ROW
from annotator.extract.llm.prompts import Prompt, load_prompt

if TYPE_CHECKING:
    from annotator.extract.llm.client import Completion, StructuredClient

ADJUDICATE_PROMPT = "same_claim_v2"
ADJUDICATE_MAX_TOKENS = 256
DEFAULT_MAX_ADJUDICATIONS = 200
DEFAULT_CONCURRENCY = 8
# this pair's failure only: the others are still asked
PAIR_FAILURES = (ExtractionInvalid, OutputTruncated, ModelRefused, TransportFailed)
MAX_STATEMENT_CHARS = 2_000  # a statement is one sentence; longer is not a claim


class AdjudicationInterrupted(AnnotatorError):
    """The run was interrupted (Ctrl-C) while reconcile was asking the model."""


class SameClaim(BaseModel):
    """Whether two claim statements state the same proposition."""

    same: bool = Field(
        description="true if both statements state the same proposition (the same event or "
        "fact), false if they differ in event, time, place, number, modality or polarity."
    )
    reason: str = Field(default="", description="Why, in at most one sentence.")


class AnswerStore(Protocol):
    """Where answers are kept (the pipeline's content-addressed `ResponseCache`)."""

    def get(self, key: str) -> dict[str, Any] | None: ...

    def put(self, key: str, fields: dict[str, Any], value: dict[str, Any]) -> None: ...


@dataclass
class AdjudicationTally:
    """What the judge did in one reconcile (for the manifest and the CLI)."""

    limit: int
    decided: int = 0  # pairs answered: by a model call or from the cache
    calls: int = 0  # model calls made
    cached: int = 0  # answers taken from the cache
    same: int = 0  # pairs judged the same proposition (scored as one claim in the linkage)
    skipped: int = 0  # pairs past the budget: not asked, left to their embedding score
    failed: int = 0  # pairs whose call failed, or not asked after a fatal endpoint error
    usage: Usage = field(default_factory=Usage)
    error: str | None = None  # the first error, one line

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "max_adjudications": self.limit,
            "decided": self.decided,
            "calls": self.calls,
            "cached": self.cached,
            "same": self.same,
            "skipped_over_budget": self.skipped,
            "failed": self.failed,
            "total_tokens": self.usage.total_tokens,
        }
        if self.error:
            out["error"] = self.error
        return out


def answer_key(fields: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()


def _schema_sha256() -> str:
    schema = json.dumps(SameClaim.model_json_schema(), sort_keys=True)
    return hashlib.sha256(schema.encode()).hexdigest()


class ModelJudge:
    """A reconcile `BatchPairJudge`: `judge(a, b)` is True (same claim), False, or None (not
    decided: over budget or the call failed); `judge_all(pairs)` answers many at once."""

    def __init__(
        self,
        client: BlockingClient,
        store: AnswerStore,
        *,
        limit: int = DEFAULT_MAX_ADJUDICATIONS,
        concurrency: int = DEFAULT_CONCURRENCY,
        prompt: Prompt | None = None,
    ) -> None:
        self.client = client
        self.store = store
        self.prompt = prompt or load_prompt(ADJUDICATE_PROMPT)
        self.tally = AdjudicationTally(limit=max(0, limit))
        self.concurrency = max(1, concurrency)
        self._stopped = False
        self._interrupted = False
        self._faults_in_a_row = 0  # transport faults that outlasted their retries
        self._running: tuple[asyncio.AbstractEventLoop, asyncio.Task[Any]] | None = None
        config: EndpointConfig = client.config
        self._key_base = {
            "task": "same_claim",
            "endpoint": config.public_url,  # never a secret in the URL
            "model": config.model,
            "prompt": self.prompt.id,
            "prompt_version": self.prompt.version,
            "prompt_sha256": self.prompt.sha256,
            "schema": _schema_sha256(),
            "temperature": config.temperature,
        }

    def describe(self) -> dict[str, Any]:
        return {
            "model": self.client.config.model,
            "endpoint": self.client.config.public_url,
            "prompt": self.prompt.id,
            "prompt_sha256": self.prompt.sha256,
            "concurrency": self.concurrency,
            **self.tally.describe(),
        }

    def key_fields(self, a: str, b: str) -> dict[str, Any]:
        return {**self._key_base, "statements": sorted((a, b))}

    def messages(self, a: str, b: str) -> list[dict[str, Any]]:
        first, second = sorted((a, b))  # the same question whichever way round it came
        return self.prompt.render(
            statement_a=first.strip()[:MAX_STATEMENT_CHARS],
            statement_b=second.strip()[:MAX_STATEMENT_CHARS],
        )

    def interrupt(self) -> None:
        """Ask nothing more and cancel the requests in flight: the judge raises
        `AdjudicationInterrupted` (callable from any thread: the run's Ctrl-C stops a
        reconcile running in a worker thread)."""
        self._interrupted = True
        running = self._running
        if running is not None:
            loop, task = running
            with contextlib.suppress(RuntimeError):  # the loop has just finished
                loop.call_soon_threadsafe(task.cancel)

    def __call__(self, a: str, b: str) -> bool | None:
        return self.judge_all([(a, b)])[0]

    def judge_all(self, pairs: Sequence[tuple[str, str]]) -> list[bool | None]:
        """Answers for `pairs`, given in reconcile's order: the pairs within the budget
        (cached answers count) are decided, from the cache or by a model call, at most
        `concurrency` calls in flight; None for the rest (over budget, or not decided)."""
        tally = self.tally
        verdicts: list[bool | None] = [None] * len(pairs)
        to_ask: list[tuple[int, dict[str, Any]]] = []
        for n, (a, b) in enumerate(pairs):
            self._check_interrupted()
            if self._stopped:
                tally.failed += 1
                continue
            if tally.decided + tally.failed + len(to_ask) >= tally.limit:
                tally.skipped += 1
                continue
            fields = self.key_fields(a, b)
            hit = self.store.get(answer_key(fields))
            if hit is not None and isinstance(hit.get("same"), bool):
                tally.cached += 1
                verdicts[n] = self._decided(bool(hit["same"]))
            else:
                to_ask.append((n, fields))
        if not to_ask:
            return verdicts
        outcomes: dict[int, Completion[SameClaim] | EndpointError] = {}
        try:
            self.client.run(lambda c: self._ask_all(c, pairs, to_ask, outcomes))
        except asyncio.CancelledError:
            if not self._interrupted:
                raise
        except KeyboardInterrupt:  # Ctrl-C on this thread: cancel what is in flight
            self.interrupt()
            raise
        for n, _ in to_ask:  # in reconcile's order: the tally reads as if asked one by one
            outcome = outcomes.get(n)
            if outcome is None:  # not sent: the endpoint failed for good, or Ctrl-C
                tally.failed += 1
            elif isinstance(outcome, EndpointError):
                self._fail(outcome)
            else:
                tally.calls += 1
                tally.usage = tally.usage + outcome.usage
                verdicts[n] = self._decided(outcome.value.same)
        self._check_interrupted()
        return verdicts

    async def _ask_all(
        self,
        client: StructuredClient,
        pairs: Sequence[tuple[str, str]],
        to_ask: list[tuple[int, dict[str, Any]]],
        outcomes: dict[int, Completion[SameClaim] | EndpointError],
    ) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._running = (asyncio.get_running_loop(), task)
        slots = asyncio.Semaphore(self.concurrency)

        async def one(n: int, fields: dict[str, Any]) -> None:
            async with slots:
                if self._stopped or self._interrupted:
                    return
                outcomes[n] = await self._ask(client, *pairs[n], fields)

        jobs = [asyncio.ensure_future(one(n, fields)) for n, fields in to_ask]
        try:
            if self._interrupted:  # Ctrl-C came before this task could be cancelled
                raise asyncio.CancelledError
            await asyncio.gather(*jobs)
        finally:
            self._running = None
            for job in jobs:
                job.cancel()
            await asyncio.gather(*jobs, return_exceptions=True)

    async def _ask(
        self, client: StructuredClient, a: str, b: str, fields: dict[str, Any]
    ) -> Completion[SameClaim] | EndpointError:
        """One model call; its answer is cached as soon as it comes (an interrupted
        reconcile keeps it). A failure is returned; one that would repeat for every pair
        stops the asking."""
        try:
            done = await client.complete(
                self.messages(a, b), SameClaim, max_tokens=ADJUDICATE_MAX_TOKENS
            )
        except PAIR_FAILURES as exc:
            if isinstance(exc, TransportFailed):
                self._faults_in_a_row += 1
                # a whole window of requests in flight failed: the endpoint is down
                if self._faults_in_a_row >= max(FAILURES_IN_A_ROW, self.concurrency):
                    self._stopped = True
            return exc
        except EndpointError as exc:  # would fail the same way for every pair
            self._stopped = True
            return exc
        self._faults_in_a_row = 0
        value = {
            "same": done.value.same,
            "reason": done.value.reason,
            "model": done.model,
            "usage": done.usage.model_dump(),
        }
        self.store.put(answer_key(fields), fields, value)
        return done

    def _check_interrupted(self) -> None:
        if self._interrupted:
            raise AdjudicationInterrupted("interrupted while adjudicating claim pairs")

    def _decided(self, same: bool) -> bool:
        self.tally.decided += 1
        self.tally.same += same
        return same

    def _fail(self, exc: EndpointError) -> None:
        self.tally.failed += 1
        if self.tally.error is None:
            self.tally.error = " ".join(str(exc).split())
