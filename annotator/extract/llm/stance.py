"""LLM stance of a text toward a claim, for `annotate eval --backend llm`.

Uses the versioned prompt `prompts/stance_v1.yaml` through the same client code as
extraction (`StructuredClient`: retries, structured-output modes, one-line errors).
The text goes to the model only inside <text> delimiters, as data.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from annotator.core.models import Usage
from annotator.core.settings import EndpointConfig
from annotator.extract.llm.client import StructuredClient
from annotator.extract.llm.prompts import Prompt, load_prompt
from annotator.extract.schema import STANCE_WORDS

STANCE_PROMPT = "stance_v1"
STANCE_MAX_TOKENS = 256
MAX_TEXT_CHARS = 12_000  # an eval body longer than this is cut (FNC-1 bodies are ~2k)

_STANCE_WORDS: dict[str, str] = {
    **STANCE_WORDS,
    "unrelated": "unrelated",
    "irrelevant": "unrelated",
}


class StanceJudgement(BaseModel):
    """The stance a news text takes toward one claim."""

    stance: Literal["confirm", "deny", "unverified", "unrelated"] = Field(
        description="confirm, deny, unverified (reported or discussed without taking a "
        "side) or unrelated (the text does not address the claim)."
    )
    evidence: str = Field(
        default="",
        max_length=600,
        description="The words of the text that decided the stance; at most one sentence.",
    )

    @field_validator("stance", mode="before")
    @classmethod
    def _stance_word(cls, v: Any) -> Any:
        if isinstance(v, str):
            word = v.strip().lower()
            return _STANCE_WORDS.get(word, word)
        return v

    @field_validator("evidence", mode="before")
    @classmethod
    def _short_evidence(cls, v: Any) -> Any:
        return v[:600] if isinstance(v, str) else v


@dataclass
class StanceTally:
    usage: Usage
    calls: int = 0
    attempts: int = 0


class LLMStancePredictor:
    """Predicts stances with one structured call per (claim, text) pair."""

    def __init__(
        self, client: StructuredClient, prompt: Prompt | None = None, *, allow_unrelated: bool
    ) -> None:
        self.client = client
        self.prompt = prompt or load_prompt(STANCE_PROMPT)
        self.allow_unrelated = allow_unrelated
        self.tally = StanceTally(usage=Usage())

    def messages(self, claim: str, text: str) -> list[dict[str, Any]]:
        return self.prompt.render(claim=claim.strip(), text=text.strip()[:MAX_TEXT_CHARS])

    async def predict(self, claim: str, text: str) -> str:
        done = await self.client.complete(
            self.messages(claim, text), StanceJudgement, max_tokens=STANCE_MAX_TOKENS
        )
        self.tally.usage = self.tally.usage + done.usage
        self.tally.calls += 1
        self.tally.attempts += done.attempts
        stance = done.value.stance
        if stance == "unrelated" and not self.allow_unrelated:
            # the task has no such class (every text addresses its claim): the model saw
            # no stance, which is what "unverified" means here
            return "unverified"
        return stance

    async def predict_all(
        self, pairs: Sequence[tuple[str, str]], *, concurrency: int = 4
    ) -> list[str]:
        """Predictions in input order, at most `concurrency` requests in flight."""
        gate = asyncio.Semaphore(max(1, concurrency))

        async def one(claim: str, text: str) -> str:
            async with gate:
                return await self.predict(claim, text)

        return list(await asyncio.gather(*(one(c, t) for c, t in pairs)))


async def predict_with_llm(
    config: EndpointConfig,
    pairs: Sequence[tuple[str, str]],
    *,
    allow_unrelated: bool,
    concurrency: int = 4,
) -> tuple[list[str], dict[str, Any]]:
    """Stances for (claim, text) pairs, and what was used (model, mode, prompt, usage)."""
    from annotator.extract.llm.probe import ready_endpoint

    config, mode = await ready_endpoint(config, None)
    client = StructuredClient(config, mode=mode)
    predictor = LLMStancePredictor(client, allow_unrelated=allow_unrelated)
    try:
        predictions = await predictor.predict_all(pairs, concurrency=concurrency)
    finally:
        await client.aclose()
    info = {
        "model": config.model,
        "endpoint": config.base_url,
        "mode": mode,
        "prompt": predictor.prompt.id,
        "prompt_sha256": predictor.prompt.sha256,
        "usage": predictor.tally.usage.model_dump(),
        "calls": predictor.tally.calls,
    }
    return predictions, info
