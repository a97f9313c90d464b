"""The strict variant of a response model, for OpenAI's strict structured outputs.

With `strict: true` (a tool's `function.strict`, or `response_format.json_schema.strict`)
OpenAI accepts only a subset of JSON Schema. The rules this module follows are OpenAI's
"Supported schemas" section of the Structured Outputs guide
(platform.openai.com/docs/guides/structured-outputs#supported-schemas):

- the root is an object, not `anyOf`;
- every object has `additionalProperties: false` and lists ALL its properties in
  `required`; an optional field is written as required and nullable (`anyOf [T, null]`);
- keywords outside the subset are rejected (for strings `minLength`, `maxLength`,
  `pattern`, `format`; for numbers `minimum`, `maximum`, `multipleOf`; for objects
  `patternProperties`, `minProperties`, `maxProperties`; for arrays `minItems`,
  `maxItems`, `uniqueItems`, `contains`; composition other than `anyOf`; `default`);
- limits: at most 100 object properties in all and 5 levels of nesting (the limits the
  guide first documented; later models allow 5,000 and 10, so keeping to the first
  limits is valid for both), at most 500 enum values in all.

`strict_model(M)` derives the variant from the pydantic model itself: a subclass of M
(same name, same validators, so its answers ARE M instances) whose fields are all
required, with no defaults or length constraints. instructor's TOOLS mode then sends
it with `strict: true` (instructor's own strict support only sets the flag; it does not
rewrite the schema). `strict_violations(schema)` checks a schema against the rules.
"""

from __future__ import annotations

import types
import typing
from functools import cache
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, create_model

MAX_PROPERTIES = 100
MAX_NESTING = 5
MAX_ENUM_VALUES = 500
UNSUPPORTED_KEYWORDS = frozenset(
    {
        "default",
        "minLength",
        "maxLength",
        "pattern",
        "format",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "multipleOf",
        "patternProperties",
        "minProperties",
        "maxProperties",
        "unevaluatedProperties",
        "propertyNames",
        "minItems",
        "maxItems",
        "uniqueItems",
        "contains",
        "allOf",
        "oneOf",
        "not",
        "if",
        "then",
        "else",
    }
)


@cache
def strict_model(model: type[BaseModel]) -> type[BaseModel]:
    """A subclass of `model` whose JSON schema follows the strict-mode rules."""
    fields: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        annotation = _strict_annotation(info.annotation)
        fields[name] = (annotation, Field(..., description=info.description))
    variant = create_model(
        model.__name__,
        __base__=model,
        __module__=model.__module__,
        __doc__=model.__doc__,
        **fields,
    )
    variant.model_config = ConfigDict(**{**model.model_config, "extra": "forbid"})
    variant.model_rebuild(force=True)
    return typing.cast(type[BaseModel], variant)


def _strict_annotation(annotation: Any) -> Any:
    origin = get_origin(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return strict_model(annotation)
    if origin is list:
        (item,) = get_args(annotation)
        return list[_strict_annotation(item)]  # type: ignore[misc]
    if origin in (Union, types.UnionType):
        args = tuple(_strict_annotation(a) for a in get_args(annotation))
        return Union[args]  # noqa: UP007
    return annotation


def strict_violations(schema: dict[str, Any]) -> list[str]:
    """Every way `schema` breaks the strict-mode rules (empty when it follows them)."""
    problems: list[str] = []
    if schema.get("type") != "object" or "anyOf" in schema:
        problems.append("root: must be an object, not anyOf")
    defs = schema.get("$defs", {})
    counts = {"properties": 0, "enum": 0}

    def walk(node: Any, path: str, depth: int, seen: tuple[str, ...]) -> None:
        if not isinstance(node, dict):
            return
        for key in sorted(UNSUPPORTED_KEYWORDS & node.keys()):
            problems.append(f"{path}: unsupported keyword {key!r}")
        if "enum" in node:
            counts["enum"] += len(node["enum"])
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            name = ref.removeprefix("#/$defs/")
            if name not in seen:  # a recursive definition is walked once
                walk(defs.get(name), f"{path}->{name}", depth, (*seen, name))
        if node.get("type") == "object" or "properties" in node:
            depth += 1
            if depth > MAX_NESTING:
                problems.append(f"{path}: nesting deeper than {MAX_NESTING} levels")
            props = node.get("properties", {})
            counts["properties"] += len(props)
            if node.get("additionalProperties") is not False:
                problems.append(f"{path}: additionalProperties must be false")
            missing = sorted(set(props) - set(node.get("required", [])))
            if missing:
                problems.append(f"{path}: properties not in required: {', '.join(missing)}")
            for key, sub in props.items():
                walk(sub, f"{path}.{key}", depth, seen)
        for key in ("items", "anyOf"):
            sub = node.get(key)
            subs = sub if isinstance(sub, list) else [sub]
            for i, s in enumerate(subs):
                walk(s, f"{path}.{key}[{i}]" if isinstance(sub, list) else f"{path}[]", depth, seen)

    walk(schema, "root", 0, ())
    if counts["properties"] > MAX_PROPERTIES:
        problems.append(f"{counts['properties']} object properties (limit {MAX_PROPERTIES})")
    if counts["enum"] > MAX_ENUM_VALUES:
        problems.append(f"{counts['enum']} enum values (limit {MAX_ENUM_VALUES})")
    return problems
