"""Estimated cost of model calls: one price table, with the date it was taken.

Prices are OpenAI's list prices for the Chat Completions API in US dollars per million
tokens (input, cached input, output), as published on openai.com/api/pricing in
August 2025. They change: the date is printed with every estimate, and a model that is
not in the table gets token counts only, never a guess. Batch API prices are half.
"""

from __future__ import annotations

from dataclasses import dataclass

from annotator.core.models import Usage

PRICES_AS_OF = "2025-08"


@dataclass(frozen=True)
class Price:
    input: float  # USD per 1M prompt tokens
    cached_input: float  # USD per 1M prompt tokens served from the prompt cache
    output: float  # USD per 1M completion tokens


PRICES: dict[str, Price] = {
    "gpt-4o-mini": Price(0.15, 0.075, 0.60),
    "gpt-4o": Price(2.50, 1.25, 10.00),
    "gpt-4.1": Price(2.00, 0.50, 8.00),
    "gpt-4.1-mini": Price(0.40, 0.10, 1.60),
    "gpt-4.1-nano": Price(0.10, 0.025, 0.40),
    "o3": Price(2.00, 0.50, 8.00),
    "o3-mini": Price(1.10, 0.55, 4.40),
    "o4-mini": Price(1.10, 0.275, 4.40),
    "gpt-5": Price(1.25, 0.125, 10.00),
    "gpt-5-mini": Price(0.25, 0.025, 2.00),
    "gpt-5-nano": Price(0.05, 0.005, 0.40),
}


def price_for(model: str | None) -> Price | None:
    """The table's price for a model name or a dated snapshot of it
    ("gpt-4o-mini-2024-07-18" is priced as "gpt-4o-mini"); None if unknown."""
    if not model:
        return None
    name = model.strip().lower().removeprefix("openai/")
    if name in PRICES:
        return PRICES[name]
    prefixes = [k for k in PRICES if name.startswith(k + "-") and name[len(k) + 1 :][:1].isdigit()]
    return PRICES[max(prefixes, key=len)] if prefixes else None


def estimate_cost(model: str | None, usage: Usage) -> float | None:
    """US dollars for this usage at the table's prices; None for an unknown model."""
    price = price_for(model)
    if price is None:
        return None
    cached = min(usage.cached_tokens, usage.prompt_tokens)
    dollars = (
        (usage.prompt_tokens - cached) * price.input
        + cached * price.cached_input
        + usage.completion_tokens * price.output
    ) / 1_000_000
    return round(dollars, 6)


def cost_fields(model: str | None, usage: Usage) -> dict[str, object]:
    """For the manifest: the tokens used and their estimated cost with its date."""
    cost = estimate_cost(model, usage)
    return {
        "usage": usage.model_dump(),
        "estimated_cost_usd": cost,
        "prices_as_of": PRICES_AS_OF if cost is not None else None,
    }


def usage_line(model: str | None, usage: Usage) -> str:
    """One line: tokens, and the estimated cost where the model's price is known."""
    tokens = (
        f"{usage.prompt_tokens} prompt tokens ({usage.cached_tokens} cached), "
        f"{usage.completion_tokens} completion tokens"
    )
    cost = estimate_cost(model, usage)
    if cost is None:
        return f"model usage: {tokens} (no price known for {model!r})"
    return (
        f"model usage: {tokens}; estimated cost ${cost:.4f} "
        f"({model} at list prices of {PRICES_AS_OF})"
    )
