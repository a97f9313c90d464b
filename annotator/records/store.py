"""Read per-article records (as `run` wrote them or as a person corrected them) and write
the event summary.

A record that breaks the contract is a `RecordError` naming the file and the dotted path
of the field (`claims.2.stance`), so a hand edit can be fixed without guessing.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from annotator.core.errors import RecordError
from annotator.core.models import ARTICLE_SCHEMA, ArticleAnnotation, Contract, EventSummary
from annotator.core.yaml_pool import YamlWorkers
from annotator.core.yamlio import atomic_write_text, dump_yaml, load_yaml
from annotator.reconcile.summary import paused_gc

_DUMP_CHUNK = 256  # list items per YAML dump call (bounds the node graph in memory)
_DUMP_BLOCK = 64  # chunks dumped at once (by the workers, for a large summary)
_LOAD_BLOCK = 16_000_000  # bytes of record YAML parsed at once

# `schema` prefixes of the other documents annotate writes; such files are not records
_OTHER_DOCUMENTS = (
    "annotator/event-summary/",
    "annotator/gold-",
    "annotator/run-manifest",
    "annotator/manifest",
)


def record_paths(directory: Path) -> list[Path]:
    """Every `*.yaml` file in the folder (not hidden ones), sorted by name."""
    return sorted(
        (p for p in directory.glob("*.yaml") if p.is_file() and not p.name.startswith(".")),
        key=lambda p: p.name,
    )


class _NotARecord(Exception):
    """The file is another annotate document (an event summary, gold labels): skipped."""


@dataclass
class RecordFolder:
    """Every valid record of a folder, and one error per bad file (file and field)."""

    records: list[ArticleAnnotation] = field(default_factory=list)
    errors: list[RecordError] = field(default_factory=list)


def read_article_records(directory: Path) -> RecordFolder:
    """Load every per-article record in `directory`, sorted by file name; a bad file is
    listed in `errors` and the rest still load. Other annotate documents are skipped."""
    if not directory.is_dir():
        raise RecordError(str(directory), "", "not a folder of per-article records")
    found = RecordFolder()
    seen: dict[str, Path] = {}
    with paused_gc(), YamlWorkers() as pool:
        for path, text, data in _parsed(record_paths(directory), pool):
            try:
                if isinstance(text, RecordError):
                    raise text
                record = _record(str(path), text, data)
            except _NotARecord:
                continue
            except RecordError as exc:
                found.errors.append(exc)
                continue
            first = seen.setdefault(record.article.id, path)
            if first is not path:
                found.errors.append(
                    RecordError(
                        str(path),
                        "article.id",
                        f"article id {record.article.id!r} is also in {first.name}",
                    )
                )
                continue
            found.records.append(record)
    if not found.records and not found.errors:
        raise RecordError(str(directory), "", "no per-article records (*.yaml) in this folder")
    return found


def load_article_records(directory: Path) -> list[ArticleAnnotation]:
    """Like `read_article_records`, but the first bad file is raised as a RecordError."""
    found = read_article_records(directory)
    if found.errors:
        raise found.errors[0]
    return found.records


def _balanced(items: list[Any], weights: list[int]) -> list[list[Any]]:
    """`items` in order, cut into groups of at most `_DUMP_CHUNK` items and about a
    sixteenth of the total weight each (one group per dump call)."""
    target = max(1, sum(weights) // 16)
    groups: list[list[Any]] = [[]]
    weight = 0
    for item, w in zip(items, weights, strict=True):
        if groups[-1] and (weight + w > target or len(groups[-1]) >= _DUMP_CHUNK):
            groups.append([])
            weight = 0
        groups[-1].append(item)
        weight += w
    return groups


def _parsed(
    paths: Sequence[Path], pool: YamlWorkers
) -> Iterator[tuple[Path, str | RecordError, Any]]:
    """(path, its text or why it cannot be read, its YAML or None), in order; parsed in
    blocks of about `_LOAD_BLOCK` bytes (by the workers where the folder is large), so the
    parsed documents of a large folder are never all held at once."""
    block: list[tuple[Path, str | RecordError]] = []
    size = 0
    for k, path in enumerate(paths):
        text = _read(path)
        block.append((path, text))
        size += len(text) if isinstance(text, str) else 0
        if size >= _LOAD_BLOCK or k == len(paths) - 1:
            texts = [t for _, t in block if isinstance(t, str)]
            parsed = iter(pool.load(texts))
            for p, t in block:
                yield p, t, next(parsed) if isinstance(t, str) else None
            block, size = [], 0


def _read(path: Path) -> str | RecordError:
    where = str(path)
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        reason = f"not UTF-8 text ({exc.reason} at byte {exc.start})"
        return RecordError(where, "", reason)
    except OSError as exc:
        return RecordError(where, "", f"cannot read: {exc.strerror or exc}")


def _record(where: str, text: str, data: Any) -> ArticleAnnotation:
    """The record in `text`; `data`: its YAML if parsed already (None: parse it here)."""
    try:
        if data is None:
            data = load_yaml(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = exc.problem or exc.context or "invalid YAML"
        raise RecordError(where, "", f"YAML syntax error{at}: {problem}") from exc
    except yaml.YAMLError as exc:
        raise RecordError(where, "", f"YAML syntax error: {exc}") from exc
    if not isinstance(data, Mapping):
        raise RecordError(where, "", "expected a YAML mapping (an article record)")
    schema = data.get("schema")
    if isinstance(schema, str) and schema.startswith(_OTHER_DOCUMENTS):
        raise _NotARecord(where)
    if schema != ARTICLE_SCHEMA:
        reason = "missing" if schema is None else f"is {schema!r}"
        raise RecordError(where, "schema", f"{reason}; expected {ARTICLE_SCHEMA!r}")
    try:
        return ArticleAnnotation.model_validate(data)
    except ValidationError as exc:
        raise _record_error(where, data, exc) from exc


def _record_error(where: str, data: Mapping[str, Any], exc: ValidationError) -> RecordError:
    errors = exc.errors(include_url=False)
    first = errors[0]
    loc = [str(part) for part in first["loc"]]
    msg = first["msg"]
    if not loc:  # a whole-record rule: find the reference that does not resolve
        loc = _dangling_reference(data) or []
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    shown = first.get("input")
    value = ""
    if loc and not isinstance(shown, Mapping | list) and first["type"] != "missing":
        value = f" (got {shown!r})"
    return RecordError(where, ".".join(loc), f"{msg}{value}{more}")


def _dangling_reference(data: Mapping[str, Any]) -> list[str] | None:
    """Dotted path of the first speaker, source or cited_via id that names nothing."""

    def ids(key: str) -> set[Any]:
        items = data.get(key)
        if not isinstance(items, Sequence):
            return set()
        return {x.get("id") for x in items if isinstance(x, Mapping)}

    speakers, sources = ids("speakers"), ids("sources")
    for i, src in enumerate(data.get("sources") or []):
        if isinstance(src, Mapping) and src.get("cited_via") not in (None, *sources):
            return ["sources", str(i), "cited_via"]
    for i, claim in enumerate(data.get("claims") or []):
        if not isinstance(claim, Mapping):
            continue
        if claim.get("speaker") is not None and claim.get("speaker") not in speakers:
            return ["claims", str(i), "speaker"]
        for j, sid in enumerate(claim.get("sources") or []):
            if sid not in sources:
                return ["claims", str(i), "sources", str(j)]
    return None


def write_event_summary(summary: EventSummary, path: Path) -> None:
    """Write `event.yaml` atomically (temp file + rename).

    The text is the same as `dump_yaml(summary.to_yaml_dict())`, built list item by list
    item so that a summary of 100,000 records never holds one YAML node graph for all.
    """
    with paused_gc():
        text = event_summary_yaml(summary)
    atomic_write_text(path, text)


def event_summary_yaml(summary: EventSummary) -> str:
    head = summary.model_dump(mode="json", by_alias=True, exclude={"claims", "conflicts"})
    parts = [dump_yaml(head)]
    with YamlWorkers() as pool:
        for key in ("claims", "conflicts"):
            items: Sequence[Contract] = getattr(summary, key)
            if not items:
                parts.append(dump_yaml({key: []}))
                continue
            parts.append(f"{key}:\n")
            step = _DUMP_CHUNK * _DUMP_BLOCK
            for begin in range(0, len(items), step):  # a block of items at a time
                dumped = [item.model_dump(mode="json") for item in items[begin : begin + step]]
                # a list's YAML is its items' YAML one after the other: the items are
                # grouped by their weight (provenance entries), so the groups are alike
                weights = [len(x.get("provenance") or ()) + 1 for x in dumped]
                # about 400 bytes of YAML per provenance entry
                parts.extend(pool.dump(_balanced(dumped, weights), 400 * sum(weights)))
    return "".join(parts)
