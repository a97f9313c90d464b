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
(unreachable endpoint, bad key) no further pair is asked.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Protocol

from pydantic import BaseModel, Field

from annotator.core.errors import AnnotatorError, EndpointError, ExtractionInvalid, OutputTruncated
from annotator.core.models import Usage
from annotator.core.settings import EndpointConfig
from annotator.extract.llm.blocking import BlockingClient
from annotator.extract.llm.prompts import Prompt, load_prompt

ADJUDICATE_PROMPT = "same_claim_v2"
ADJUDICATE_MAX_TOKENS = 256
DEFAULT_MAX_ADJUDICATIONS = 200
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
    """A reconcile `PairJudge`: `judge(a, b)` is True (same claim), False, or None (not
    decided: over budget or the call failed)."""

    def __init__(
        self,
        client: BlockingClient,
        store: AnswerStore,
        *,
        limit: int = DEFAULT_MAX_ADJUDICATIONS,
        prompt: Prompt | None = None,
    ) -> None:
        self.client = client
        self.store = store
        self.prompt = prompt or load_prompt(ADJUDICATE_PROMPT)
        self.tally = AdjudicationTally(limit=max(0, limit))
        self._stopped = False
        self._interrupted = False
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
        """Ask nothing more: the next call raises `AdjudicationInterrupted` (from any
        thread: the run's Ctrl-C stops a reconcile running in a worker thread)."""
        self._interrupted = True

    def __call__(self, a: str, b: str) -> bool | None:
        tally = self.tally
        if self._interrupted:
            raise AdjudicationInterrupted("interrupted while adjudicating claim pairs")
        if self._stopped:
            tally.failed += 1
            return None
        if tally.decided + tally.failed >= tally.limit:
            tally.skipped += 1
            return None
        fields = self.key_fields(a, b)
        key = answer_key(fields)
        hit = self.store.get(key)
        if hit is not None and isinstance(hit.get("same"), bool):
            tally.cached += 1
            return self._decided(bool(hit["same"]))
        try:
            done = self.client.run(
                lambda c: c.complete(
                    self.messages(a, b), SameClaim, max_tokens=ADJUDICATE_MAX_TOKENS
                )
            )
        except (ExtractionInvalid, OutputTruncated) as exc:  # this pair's answer only
            self._fail(exc)
            return None
        except EndpointError as exc:  # would fail the same way for every pair
            self._fail(exc)
            self._stopped = True
            return None
        tally.calls += 1
        tally.usage = tally.usage + done.usage
        value = {
            "same": done.value.same,
            "reason": done.value.reason,
            "model": done.model,
            "usage": done.usage.model_dump(),
        }
        self.store.put(key, fields, value)
        return self._decided(done.value.same)

    def _decided(self, same: bool) -> bool:
        self.tally.decided += 1
        self.tally.same += same
        return same

    def _fail(self, exc: EndpointError) -> None:
        self.tally.failed += 1
        if self.tally.error is None:
            self.tally.error = " ".join(str(exc).split())
