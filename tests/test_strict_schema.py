"""The strict schema variants follow OpenAI's documented strict-mode rules (see
annotator/extract/llm/strict.py for the rules and their source), and the checker
really checks each rule."""

from __future__ import annotations

from typing import Any

import pytest
from instructor.v2.core.schema import generate_openai_schema
from pydantic import BaseModel

from annotator.extract.llm.probe import ProbeAnswer
from annotator.extract.llm.stance import StanceJudgement
from annotator.extract.llm.strict import (
    MAX_NESTING,
    MAX_PROPERTIES,
    strict_model,
    strict_violations,
)
from annotator.extract.schema import AnsweredExtraction, Extraction, QuoteFixes

MODELS: list[type[BaseModel]] = [AnsweredExtraction, QuoteFixes, StanceJudgement, ProbeAnswer]


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_strict_variant_follows_every_rule(model: type[BaseModel]) -> None:
    variant = strict_model(model)
    assert strict_violations(variant.model_json_schema()) == []
    # what instructor actually sends as the tool's parameters
    assert strict_violations(generate_openai_schema(variant)["parameters"]) == []
    assert variant.__name__ == model.__name__ and issubclass(variant, model)


def test_lenient_schemas_break_the_rules_the_checker_finds() -> None:
    problems = strict_violations(Extraction.model_json_schema())
    assert any("properties not in required: sources, speakers" in p for p in problems)
    assert any("'default'" in p for p in problems)
    stance = strict_violations(StanceJudgement.model_json_schema())
    assert any("'maxLength'" in p for p in stance)


def test_optional_fields_are_required_and_nullable() -> None:
    schema = strict_model(Extraction).model_json_schema()
    claim = schema["$defs"]["ExtractedClaim"]
    assert set(claim["required"]) == set(claim["properties"])
    assert {"type": "null"} in claim["properties"]["speaker"]["anyOf"]
    assert claim["additionalProperties"] is False


def test_strict_answers_validate_to_the_lenient_types_with_the_same_checks() -> None:
    variant = strict_model(AnsweredExtraction)
    answer = variant.model_validate(
        {
            "speakers": [{"id": "p1", "name": "A", "role": None, "affiliation": None}],
            "sources": [],
            "claims": [
                {"statement": "s", "quote": "q", "speaker": "p1", "sources": [], "stance": "Denied"}
            ],
        }
    )
    assert isinstance(answer, Extraction) and answer.claims[0].stance == "deny"
    with pytest.raises(ValueError, match="ids not listed"):
        variant.model_validate(
            {
                "speakers": [],
                "sources": [],
                "claims": [
                    {
                        "statement": "s",
                        "quote": "q",
                        "speaker": "p9",
                        "sources": [],
                        "stance": "deny",
                    }
                ],
            }
        )


def _nested(depth: int) -> dict[str, Any]:
    node: dict[str, Any] = {"type": "string"}
    for _ in range(depth):
        node = {
            "type": "object",
            "properties": {"x": node},
            "required": ["x"],
            "additionalProperties": False,
        }
    return node


def test_limits_on_nesting_and_property_count() -> None:
    assert strict_violations(_nested(MAX_NESTING)) == []
    assert any("nesting" in p for p in strict_violations(_nested(MAX_NESTING + 1)))
    many = {f"p{i}": {"type": "string"} for i in range(MAX_PROPERTIES + 1)}
    wide = {
        "type": "object",
        "properties": many,
        "required": list(many),
        "additionalProperties": False,
    }
    assert any("object properties" in p for p in strict_violations(wide))


def test_root_must_be_an_object() -> None:
    assert strict_violations({"anyOf": [{"type": "string"}, {"type": "null"}]})
