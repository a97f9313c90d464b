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
and model (`probe_report.py`).
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

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
from annotator.extract.llm.params import remember_params
from annotator.extract.llm.probe_report import (
    PROBE_FORMAT as PROBE_FORMAT,
)
from annotator.extract.llm.probe_report import (
    PROBE_ORDER,
    ModeResult,
    ProbeReport,
    StructuredMode,
    read_cached_probe,
    write_cached_probe,
)
from annotator.extract.llm.probe_report import (  # re-exported: the probe's public API
    probe_cache_path as probe_cache_path,
)

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


@dataclass
class EndpointCheck:
    """What `ready_endpoint` found out, for `annotate doctor` to print."""

    config: EndpointConfig  # model filled in, `strict` decided by the probe
    mode: StructuredMode | None  # None only from a fresh probe in which no mode works
    models: list[str] = field(default_factory=list)
    listing_error: str | None = None  # reachable, but /models missing or refused
    report: ProbeReport | None = None  # None: mode pinned, or taken from the cache
    strict_check: ModeResult | None = None  # the strict variant, when the choice is lenient


async def inspect_endpoint(
    config: EndpointConfig, cache_dir: Path | None, *, fresh: bool = False
) -> EndpointCheck:
    """The readiness steps of `run`, reporting what they found. `fresh` (doctor): list
    the models even when one is named, ignore the cached probe, and try the strict schema
    for the chosen mode when the lenient one was chosen."""
    from annotator.extract.llm.client import StructuredClient  # slow import: only when used

    models: list[str] = []
    listing_error = None
    if fresh or not config.model:
        client = StructuredClient(config, mode="tools")
        try:
            models = await client.list_models()
        except (EndpointUnreachable, EndpointAuthError):
            raise
        except EndpointError as exc:
            if not config.model:
                raise
            listing_error = " ".join(str(exc).removeprefix(config.base_url).split())
        finally:
            await client.aclose()
    if not config.model:
        if not models:
            raise UsageError(f"{config.base_url} lists no models: pass --model")
        config = replace(config, model=models[0])
    remember_params(config, cache_dir)  # what earlier runs learned; saves what this one does
    check = EndpointCheck(config, "tools", models, listing_error)
    if fresh:
        report = await probe_endpoint(config)
        check.report = report
        if report.chosen is None:
            check.mode = None  # the caller prints the report, then fails
            return check
        mode = report.chosen
        strict: bool | None = report.chosen_strict
        if not strict and mode in STRICT_MODES and config.strict is None:
            check.strict_check = await _probe_mode(config, mode, strict=True)
        if cache_dir is not None:
            write_cached_probe(cache_dir, report)
    else:
        mode, strict = await resolve_probe(config, cache_dir)
    if strict is not None and config.strict is None:
        config = replace(config, strict=strict)
    check.config, check.mode = config, mode
    return check


async def ready_endpoint(
    config: EndpointConfig, cache_dir: Path | None
) -> tuple[EndpointConfig, StructuredMode]:
    """Make an endpoint usable: fill in the model (the endpoint's first listed one) when
    none was given, and turn `--mode auto` into a concrete mode and schema variant
    (`resolve_probe`; the returned config's `strict` says which variant worked)."""
    check = await inspect_endpoint(config, cache_dir)
    if check.mode is None:  # pragma: no cover - resolve_probe raises instead
        raise UsageError("no structured-output mode")
    return check.config, check.mode
