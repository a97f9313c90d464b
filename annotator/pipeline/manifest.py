"""The run manifest: inputs with hashes, settings, per-article status, timings, usage,
errors. It is the run's log, so unlike the records it carries times."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from annotator.core.yamlio import load_yaml, write_yaml

MANIFEST_SCHEMA = "annotator/run-manifest/v1"
ArticleOutcome = Literal["annotated", "cached", "failed", "duplicate"]


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
    duplicate_of: str | None = None
    error: str | None = None
    output_sha256: str | None = None
    batch: str | None = None  # the batch (id or result file) the model answer came from


def previous_output_hashes(path: Path) -> dict[str, str]:
    """Per-article sha256 of the record files the last run wrote (to spot hand edits)."""
    try:
        data = load_yaml(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, Exception):
        return {}
    rows = data.get("articles") if isinstance(data, dict) else None
    out: dict[str, str] = {}
    for row in rows or []:
        if isinstance(row, dict) and row.get("id") and row.get("output_sha256"):
            out[str(row["id"])] = str(row["output_sha256"])
    return out


def write_manifest(
    path: Path,
    *,
    run: dict[str, Any],
    statuses: list[ArticleStatus],
    input_errors: list[str],
    skipped: list[str],
) -> None:
    counts: dict[str, int] = {}
    for s in statuses:
        counts[s.status] = counts.get(s.status, 0) + 1
    tokens = sum(s.tokens.get("total_tokens", 0) for s in statuses)
    data = {
        "schema": MANIFEST_SCHEMA,
        "run": run,
        "totals": {
            "articles": len(statuses),
            **{k: counts.get(k, 0) for k in ("annotated", "cached", "failed", "duplicate")},
            "input_errors": len(input_errors),
            "total_tokens": tokens,
        },
        "articles": [_row(s) for s in sorted(statuses, key=lambda s: s.id)],
        "input_errors": input_errors,
        "skipped": skipped,
    }
    write_yaml(path, data)


def _row(s: ArticleStatus) -> dict[str, Any]:
    return {k: v for k, v in asdict(s).items() if v not in (None, {}, [])}
