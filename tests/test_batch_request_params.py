"""Batch request bodies carry the endpoint's request parameters and strict schemas, and a
batch answer goes through the same refusal check as a live one (no network needed: the
answers hook answers before anything is sent)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from annotator.core.errors import ModelRefused
from annotator.core.settings import OPENAI_BASE_URL, EndpointConfig
from annotator.extract.llm.client import StructuredClient
from annotator.extract.llm.strict import strict_violations
from annotator.extract.llm.structured import completion_from_json
from annotator.extract.schema import AnsweredExtraction

MESSAGES = [{"role": "system", "content": "You annotate."}, {"role": "user", "content": "Text"}]


def openai_config(model: str, mode: str) -> EndpointConfig:
    return EndpointConfig(base_url=OPENAI_BASE_URL, model=model, api_key="sk-test", mode=mode)  # type: ignore[arg-type]


@pytest.mark.parametrize("mode", ["tools", "json_schema"])
def test_openai_batch_body_is_strict_with_max_completion_tokens(mode: str) -> None:
    client = StructuredClient(openai_config(f"batch-body-{mode}", mode))
    body = client.request_body(MESSAGES, AnsweredExtraction, max_tokens=1000)
    assert body["max_completion_tokens"] == 1000 and "max_tokens" not in body
    if mode == "tools":
        function = body["tools"][0]["function"]
        assert function["strict"] is True and function["name"] == "Extraction"
        schema = function["parameters"]
    else:
        fmt = body["response_format"]["json_schema"]
        assert fmt["strict"] is True
        schema = fmt["schema"]
    assert strict_violations(schema) == []
    # `complete` sends exactly this body first, so batch results map back to it
    seen: list[dict[str, Any]] = []

    async def answers(sent: dict[str, Any]) -> Any:
        seen.append(sent)
        return completion_from_json(_refusal())

    client.answers = answers
    with pytest.raises(ModelRefused, match="refused"):
        asyncio.run(client.complete(MESSAGES, AnsweredExtraction, max_tokens=1000))
    assert seen == [body]


def test_a_dropped_sampling_parameter_is_left_out_of_batch_bodies() -> None:
    client = StructuredClient(openai_config("batch-body-no-temperature", "tools"))
    assert "temperature" in client.request_body(MESSAGES, AnsweredExtraction)
    client.params.adapt("temperature", "value")
    assert "temperature" not in client.request_body(MESSAGES, AnsweredExtraction)


def _refusal() -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 0,
        "model": "m",
        "choices": [
            {
                "index": 0,
                "finish_reason": "stop",
                "message": {"role": "assistant", "content": None, "refusal": "I can't help."},
            }
        ],
        "usage": {"prompt_tokens": 10, "completion_tokens": 3, "total_tokens": 13},
    }
