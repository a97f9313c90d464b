"""The run manifest: inputs with hashes, settings, per-article status, timings, usage,
errors. It is the run's log, so unlike the records it carries times."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from annotator.core.yamlio import load_yaml, write_yaml

MANIFEST_SCHEMA = "annotator/run-manifest/v1"
# partial: written with some pieces' claims only; `error` says which characters are missing
ArticleOutcome = Literal["annotated", "cached", "kept", "partial", "failed", "duplicate"]
OUTCOMES = ("annotated", "cached", "kept", "partial", "failed", "duplicate")


@dataclass
class ArticleStatus:
    id: str
    path: str
    sha256: str
    status: ArticleOutcome
    output: str | None = None  # written | unchanged | kept_hand_edit
    attempts: int = 0
    seconds: float = 0.0
    tokens: dict[str, int] = field(default_factory=dict)
    claims: int = 0
    grounding: dict[str, int] = field(default_factory=dict)
    encoding: str | None = None
    encoding_confidence: float | None = None
    duplicate_of: str | None = None
    error: str | None = None
    output_sha256: str | None = None
    batch: str | None = None  # the batch (id or result file) the model answer came from

    @property
    def label(self) -> str:
        """The status as the run's summary line names it: a kept hand edit that still has
        gaps (its `partial:` flags in `error`) is `kept-but-partial`."""
        if self.status == "kept" and (self.error or "").startswith("partial:"):
            return "kept-but-partial"
        return self.status


@dataclass
class PreviousManifest:
    rows: list[dict[str, Any]] = field(default_factory=list)
    input_resolved: str | None = None

    @property
    def output_hashes(self) -> dict[str, str]:
        """Per-article sha256 of the records an earlier run wrote (before the ownership log
        existed, this was the only record of them)."""
        return {
            str(r["id"]): str(r["output_sha256"])
            for r in self.rows
            if r.get("id") and r.get("output_sha256")
        }


def previous_manifest(path: Path) -> PreviousManifest:
    """The last manifest in a run folder; an unreadable one counts as none."""
    try:
        data = load_yaml(path.read_text(encoding="utf-8"))
    except Exception:
        return PreviousManifest()
    if not isinstance(data, dict) or not str(data.get("schema", "")).startswith(
        "annotator/run-manifest"
    ):
        return PreviousManifest()
    rows = [r for r in data.get("articles") or [] if isinstance(r, dict)]
    run = data.get("run")
    resolved = run.get("input_resolved") if isinstance(run, dict) else None
    return PreviousManifest(rows=rows, input_resolved=str(resolved) if resolved else None)


def write_manifest(
    path: Path,
    *,
    run: dict[str, Any],
    statuses: list[ArticleStatus],
    input_errors: list[str],
    skipped: list[str],
    earlier: list[dict[str, Any]] | None = None,
) -> None:
    """earlier: rows of the last manifest to keep for articles this run did not finish
    (an interrupted run must not forget what earlier runs did)."""
    counts: dict[str, int] = {}
    for s in statuses:
        counts[s.status] = counts.get(s.status, 0) + 1
    rows = {s.id: _row(s) for s in statuses}
    for row in earlier or []:
        rows.setdefault(str(row.get("id")), row)
    tokens = sum(s.tokens.get("total_tokens", 0) for s in statuses)
    data = {
        "schema": MANIFEST_SCHEMA,
        "run": run,
        "totals": {
            "articles": len(statuses),
            **{k: counts.get(k, 0) for k in OUTCOMES},
            "input_errors": len(input_errors),
            "total_tokens": tokens,
        },
        "articles": [rows[k] for k in sorted(rows)],
        "input_errors": input_errors,
        "skipped": skipped,
    }
    write_yaml(path, data)


def _row(s: ArticleStatus) -> dict[str, Any]:
    return {k: v for k, v in asdict(s).items() if v not in (None, {}, [])}
