"""Which structured-output mode does an endpoint really honour? Ask it, once.

Servers differ: llama-cpp-python's server answers `response_format: json_schema` with
HTTP 500 while tool calling works; some vLLM and llama.cpp releases accept a schema and
silently ignore it. The probe sends one tiny structured request per mode, whose right
answer is spelled out in the prompt, and records for each mode:

- `works`: the answer validated against the probe schema;
- `ignores_schema`: the server answered, but not in the schema's shape (the schema was
  ignored, or not enforced and the model did not follow it);
- `fails`: the server rejected the mode or cut the answer.

`tools` and `json_schema` are tried with the strict schema variant (`strict.py`, sent
with `strict: true`) and the lenient one: strict first on the OpenAI API, lenient first
elsewhere; the other only when the first does not work. `strict` in the result says
which one worked. The probe model has an optional field, as the extraction model does,
so a server that insists on strict schemas rejects the lenient probe as it would
reject the lenient extraction request.

Transport faults (429, 5xx, timeouts) are retried with the run's policy (--max-attempts,
--deadline); when they persist, or the key is rejected, the probe stops with one line
saying so and nothing is cached: that is a fact about the moment, not about the mode.

`resolve_mode` turns `--mode auto` into a concrete mode, caching the probe per endpoint
and model in `<cache>/probe/<sha256>.json` (written atomically; never the API key).
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from annotator.core.errors import (
    EndpointAuthError,
    EndpointError,
    EndpointUnreachable,
    ExtractionInvalid,
    ModelRefused,
    ModeUnsupported,
    OutputTruncated,
    ParameterRejected,
    UsageError,
)
from annotator.core.settings import EndpointConfig
from annotator.core.yamlio import atomic_write_text

ProbeStatus = Literal["works", "fails", "ignores_schema"]
StructuredMode = Literal["tools", "json_schema", "json"]  # a concrete mode: not "auto"
PROBE_ORDER: tuple[StructuredMode, ...] = ("tools", "json_schema", "json")
PROBE_FORMAT = "annotator/probe/v2"
PROBE_MAX_TOKENS = 128  # the right answer is ~20 tokens; room for a model's preamble
STRICT_MODES: tuple[StructuredMode, ...] = ("tools", "json_schema")
PROBE_CITY = "Lisbon"
PROBE_YEAR = 1755
NO_MODE_ADVICE = (
    "use a model that supports tool calling or JSON schema output, check --model, "
    "or use --backend rules offline"
)


class ProbeAnswer(BaseModel):
    """The probe's response model: both right values are given in the prompt."""

    model_config = ConfigDict(extra="forbid")

    city: str = Field(description="The city named in the request.")
    year: int = Field(description="The year named in the request, as a number.")
    note: str | None = Field(default=None, description="Anything to add; null if nothing.")


PROBE_MESSAGES: list[dict[str, Any]] = [
    {"role": "system", "content": "You fill in structured data exactly as asked."},
    {
        "role": "user",
        "content": f'Fill in the answer: city is "{PROBE_CITY}", year is {PROBE_YEAR}.',
    },
]


@dataclass(frozen=True)
class ModeResult:
    mode: StructuredMode
    status: ProbeStatus
    latency: float  # seconds, all attempts of the probe request
    detail: str  # one line
    strict: bool = False  # the strict schema variant was the one that worked
    completion_tokens: int = 0
    # the other schema variant may fare better: this one was refused as a schema (not
    # the mode itself) or not followed
    try_other_variant: bool = False

    @property
    def tokens_per_second(self) -> float | None:
        if self.status != "works" or not self.completion_tokens or self.latency <= 0:
            return None
        return self.completion_tokens / self.latency

    def to_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "status": self.status,
            "strict": self.strict,
            "latency": round(self.latency, 3),
            "detail": self.detail,
        }


@dataclass
class ProbeReport:
    base_url: str
    model: str | None
    results: list[ModeResult] = field(default_factory=list)
    probed_at: str = ""  # ISO-8601 UTC

    @property
    def chosen(self) -> StructuredMode | None:
        """The first working mode in the order tools, json_schema, json; None if none."""
        working = {r.mode for r in self.results if r.status == "works"}
        return next((m for m in PROBE_ORDER if m in working), None)

    def result(self, mode: str) -> ModeResult | None:
        return next((r for r in self.results if r.mode == mode), None)

    @property
    def chosen_strict(self) -> bool:
        found = self.result(self.chosen) if self.chosen else None
        return bool(found and found.strict)

    def summary(self) -> str:
        """One line: each mode's status and detail."""
        return "; ".join(f"{r.mode}: {r.status} ({r.detail})" for r in self.results)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": PROBE_FORMAT,
            "base_url": self.base_url,
            "model": self.model,
            "probed_at": self.probed_at,
            "chosen": self.chosen,
            "results": [r.to_dict() for r in self.results],
        }


async def probe_endpoint(
    config: EndpointConfig, *, modes: Sequence[StructuredMode] = PROBE_ORDER
) -> ProbeReport:
    """Send the probe once per mode, one mode at a time (latencies stay comparable).

    Raises EndpointUnreachable at once when no connection can be made: that says
    nothing about modes, and must not be recorded (or cached) as if it did.
    """
    if not config.model:
        raise EndpointError("no model name to probe: pass --model or set ANNOTATE_MODEL")
    for mode in modes:
        if mode not in PROBE_ORDER:
            raise ValueError(f"unknown mode {mode!r}; one of {PROBE_ORDER}")
    report = ProbeReport(
        base_url=config.base_url,
        model=config.model,
        probed_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    for mode in modes:
        variants = [config.is_openai, not config.is_openai] if mode in STRICT_MODES else [False]
        if config.strict is not None and mode in STRICT_MODES:
            variants = [config.strict]
        first = await _probe_mode(config, mode, strict=variants[0])
        if first.try_other_variant and len(variants) > 1:
            second = await _probe_mode(config, mode, strict=variants[1])
            if second.status == "works":
                first = second
        report.results.append(first)
    return report


async def _probe_mode(config: EndpointConfig, mode: StructuredMode, *, strict: bool) -> ModeResult:
    from annotator.extract.llm.client import StructuredClient  # slow import: only when used

    client = StructuredClient(config, mode=mode, strict=strict)
    started = time.monotonic()
    try:
        done = await client.complete(
            PROBE_MESSAGES, ProbeAnswer, max_tokens=PROBE_MAX_TOKENS, validation_retries=0
        )
    except (EndpointUnreachable, EndpointAuthError, ParameterRejected):
        raise
    except ModeUnsupported as exc:
        schema_refused = "invalid schema" in str(exc).lower()
        return ModeResult(
            mode,
            "fails",
            time.monotonic() - started,
            ("server rejected the schema: " if schema_refused else "server rejected the mode: ")
            + _short(str(exc), config.base_url),
            strict,
            try_other_variant=schema_refused,
        )
    except ExtractionInvalid as exc:
        return ModeResult(
            mode,
            "ignores_schema",
            time.monotonic() - started,
            "answer not in the schema's shape: " + _invalid_detail(str(exc)),
            strict,
            try_other_variant=True,
        )
    except OutputTruncated:
        return ModeResult(
            mode,
            "fails",
            time.monotonic() - started,
            f"answer cut at {PROBE_MAX_TOKENS} tokens: output not constrained",
        )
    except ModelRefused as exc:
        return ModeResult(mode, "fails", time.monotonic() - started, _short(str(exc), None))
    except EndpointError as exc:
        if exc.transport:  # rate limited, server errors, timeouts: no verdict on the mode
            raise EndpointError(
                f"probe of mode {mode!r} could not finish: {' '.join(str(exc).split())}; "
                "nothing was cached, run again later or pass --mode",
                attempts=exc.attempts,
                endpoint=config.base_url,
            ) from None
        return ModeResult(
            mode, "fails", time.monotonic() - started, _short(str(exc), config.base_url)
        )
    except Exception as exc:  # an odd answer the SDKs choke on is a fact about the mode
        return ModeResult(
            mode,
            "fails",
            time.monotonic() - started,
            _short(f"{type(exc).__name__}: {exc}", config.base_url),
        )
    finally:
        await client.aclose()
    latency = time.monotonic() - started
    answer = done.value
    tokens = done.usage.completion_tokens
    kind = "strict schema" if client.strict else "schema"
    if answer.city.strip().lower() == PROBE_CITY.lower() and answer.year == PROBE_YEAR:
        return ModeResult(
            mode, "works", latency, f"{kind}-valid answer with the right values", strict, tokens
        )
    return ModeResult(
        mode,
        "works",
        latency,
        f"{kind}-valid answer, but values {answer.city!r}/{answer.year} "
        f"differ from those asked for (a weak model?)",
        strict,
        tokens,
    )


_MSG = re.compile(r"""'msg':\s*(?:"([^"]*)"|'([^']*)')""")


def _short(message: str, base_url: str | None, limit: int = 120) -> str:
    """A table-sized, one-line version of an error message."""
    text = " ".join(message.split())
    if base_url:
        text = text.removeprefix(base_url).strip()
    text = text.removesuffix("; use --mode auto or --mode tools")
    m = _MSG.search(text)  # pydantic-style validation detail, as llama-cpp-python sends
    if m:
        status = re.search(r"HTTP \d{3}", text)
        text = f"{status.group(0) + ': ' if status else ''}{m.group(1) or m.group(2)}"
    return text if len(text) <= limit else text[: limit - 3] + "..."


_INVALID_PREFIX = re.compile(r"^model output did not match the \w+ schema .*? in mode '\w+': ")
_VALIDATION = re.compile(r"^(\d+ validation errors? for \w+)")


def _invalid_detail(message: str) -> str:
    """`ExtractionInvalid` text without the client's preamble, pydantic's list summarised."""
    text = _INVALID_PREFIX.sub("", " ".join(message.split()))
    m = _VALIDATION.match(text)
    return m.group(1) if m else _short(text, None, limit=90)


# ------------------------------------------------------------------ cache


def probe_cache_path(cache_dir: Path, base_url: str, model: str | None) -> Path:
    key = json.dumps(
        {"format": PROBE_FORMAT, "base_url": base_url.rstrip("/"), "model": model}, sort_keys=True
    )
    return cache_dir / "probe" / f"{hashlib.sha256(key.encode()).hexdigest()}.json"


def read_cached_probe(cache_dir: Path, config: EndpointConfig) -> ProbeReport | None:
    """The cached report for this endpoint and model, or None (missing, corrupt, foreign)."""
    path = probe_cache_path(cache_dir, config.base_url, config.model)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if (
            data.get("format") != PROBE_FORMAT
            or data.get("base_url") != config.base_url
            or data.get("model") != config.model
        ):
            return None
        results = [
            ModeResult(
                r["mode"],
                r["status"],
                float(r["latency"]),
                str(r["detail"]),
                bool(r.get("strict", False)),
            )
            for r in data["results"]
            if r["mode"] in PROBE_ORDER and r["status"] in ("works", "fails", "ignores_schema")
        ]
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None
    report = ProbeReport(config.base_url, config.model, results, str(data.get("probed_at", "")))
    return report if report.chosen else None


def write_cached_probe(cache_dir: Path, report: ProbeReport) -> Path:
    """Save a report (only endpoint URL, model, statuses: never the key); returns the path."""
    path = probe_cache_path(cache_dir, report.base_url, report.model)
    atomic_write_text(path, json.dumps(report.to_dict(), ensure_ascii=False, indent=1) + "\n")
    return path


def no_mode_error(report: ProbeReport) -> ModeUnsupported:
    return ModeUnsupported(
        f"no structured-output mode works with {report.base_url} and model "
        f"{report.model!r} ({report.summary()}): {NO_MODE_ADVICE}",
        endpoint=report.base_url,
    )


async def resolve_mode(config: EndpointConfig, cache_dir: Path | None) -> StructuredMode:
    """`config.mode` unless it is auto; else the cached or freshly probed first working mode.

    A probe in which no mode works is not cached (the next run asks again) and raises
    ModeUnsupported with one-line advice.
    """
    return (await resolve_probe(config, cache_dir))[0]


async def resolve_probe(
    config: EndpointConfig, cache_dir: Path | None
) -> tuple[StructuredMode, bool | None]:
    """(mode, strict) for the endpoint: strict None when the mode was given, not probed."""
    if config.mode != "auto":
        return config.mode, None
    if cache_dir is not None:
        cached = read_cached_probe(cache_dir, config)
        if cached is not None and cached.chosen:
            return cached.chosen, cached.chosen_strict
    report = await probe_endpoint(config)
    chosen = report.chosen
    if chosen is None:
        raise no_mode_error(report)
    if cache_dir is not None:
        write_cached_probe(cache_dir, report)
    return chosen, report.chosen_strict


async def ready_endpoint(
    config: EndpointConfig, cache_dir: Path | None
) -> tuple[EndpointConfig, StructuredMode]:
    """Make an endpoint usable: fill in the model (the endpoint's first listed one) when
    none was given, and turn `--mode auto` into a concrete mode and schema variant
    (`resolve_probe`; the returned config's `strict` says which variant worked)."""
    if not config.model:
        from annotator.extract.llm.client import StructuredClient  # slow import: only when used

        client = StructuredClient(config, mode="tools")
        try:
            models = await client.list_models()
        finally:
            await client.aclose()
        if not models:
            raise UsageError(f"{config.base_url} lists no models: pass --model")
        config = replace(config, model=models[0])
    mode, strict = await resolve_probe(config, cache_dir)
    if strict is not None and config.strict is None:
        config = replace(config, strict=strict)
    return config, mode
