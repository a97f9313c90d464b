"""What a mode probe found (`ModeResult`, `ProbeReport`) and its cache.

The cache keeps the probe per endpoint and model in `<cache>/probe/<sha256>.json`
(written atomically; only endpoint URL, model and statuses, never the API key), so
`run --mode auto` probes once and `annotate doctor` can save what it found.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from annotator.core.settings import EndpointConfig
from annotator.core.yamlio import atomic_write_text

ProbeStatus = Literal["works", "fails", "ignores_schema"]
StructuredMode = Literal["tools", "json_schema", "json"]  # a concrete mode: not "auto"
PROBE_ORDER: tuple[StructuredMode, ...] = ("tools", "json_schema", "json")
PROBE_FORMAT = "annotator/probe/v2"


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
