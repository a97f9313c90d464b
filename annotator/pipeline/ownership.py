"""Which record files the tool wrote, and which a person edited: decided from a log that
survives any interruption, never from the last manifest alone.

Before each record is written, the sha256 of the exact bytes is appended (and fsync'd) to
`articles/.written.jsonl`. A record file whose bytes hash to something the tool wrote for
that id is the tool's own and may be replaced; any other bytes are a person's edit, kept
across any number of runs until `--force`. Logging before the rename means a run killed
between the two leaves a file whose hash is still in the log (old or new version).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
from collections.abc import Iterable
from pathlib import Path

from annotator.core.models import ArticleAnnotation
from annotator.core.yamlio import atomic_write_text, dump_yaml, load_yaml
from annotator.load.articles import Article
from annotator.records.verify import reground_record

LOG_NAME = ".written.jsonl"
STALE_DIR = ".stale"


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class OwnershipLog:
    def __init__(self, articles_dir: Path, legacy: dict[str, str] | None = None) -> None:
        """legacy: id -> sha256 from a manifest written before this log existed."""
        self.articles_dir = articles_dir
        self.path = articles_dir / LOG_NAME
        self.written: dict[str, set[str]] = {}
        for aid, sha in (legacy or {}).items():
            self.written.setdefault(aid, set()).add(sha)
        self._read()

    def _read(self) -> None:
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError):
            return
        for line in lines:
            with contextlib.suppress(ValueError, RecursionError):
                row = json.loads(line)
                if isinstance(row, dict) and isinstance(row.get("id"), str):
                    self.written.setdefault(row["id"], set()).add(str(row.get("sha256")))

    def owns(self, aid: str, data: bytes) -> bool:
        return sha256_bytes(data) in self.written.get(aid, ())

    def record(self, aid: str, sha: str) -> None:
        if sha in self.written.get(aid, ()):
            return
        self.articles_dir.mkdir(parents=True, exist_ok=True)
        line = json.dumps({"id": aid, "sha256": sha}, ensure_ascii=False) + "\n"
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
        try:
            os.write(fd, line.encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)
        self.written.setdefault(aid, set()).add(sha)

    def write(self, path: Path, aid: str, data: bytes) -> str:
        """Log, then write atomically; returns the sha256 of the bytes."""
        sha = sha256_bytes(data)
        self.record(aid, sha)
        atomic_write_text(path, data.decode("utf-8"))
        return sha


def move_aside(path: Path) -> Path:
    """Move a record into `articles/.stale/` (never overwriting an earlier one there)."""
    stale = path.parent / STALE_DIR
    stale.mkdir(parents=True, exist_ok=True)
    target = stale / path.name
    n = 2
    while target.exists():
        target = stale / f"{path.stem}.{n}{path.suffix}"
        n += 1
    shutil.move(str(path), str(target))
    return target


def orphan_records(articles_dir: Path, ids: Iterable[str]) -> list[Path]:
    """Record files whose article is no longer in the input."""
    if not articles_dir.is_dir():
        return []
    known = set(ids)
    return sorted(
        p
        for p in articles_dir.glob("*.yaml")
        if p.is_file() and not p.name.startswith(".") and p.stem not in known
    )


class RecordOutputs:
    """The record files of one run folder: write the tool's own, keep a person's edits."""

    def __init__(self, articles_dir: Path, force: bool, legacy: dict[str, str]) -> None:
        self.dir = articles_dir
        self.force = force
        self.log = OwnershipLog(articles_dir, legacy)
        self.notices: list[str] = []

    def path(self, aid: str) -> Path:
        return self.dir / f"{aid}.yaml"

    def retire_orphans(self, ids: set[str]) -> list[str]:
        """Move aside records whose article is no longer in the input."""
        notices = []
        for orphan in orphan_records(self.dir, ids):
            moved = move_aside(orphan)
            notices.append(
                f"moved {orphan.name} to {moved.parent.name}/: its input is no longer in "
                "the input folder"
            )
        return notices

    def hand_edit(self, article: Article) -> ArticleAnnotation | None:
        """The person-edited record of this article's id as it is on disk (nothing moved
        or re-grounded); None when there is none, it is the tool's own, or --force.
        Raises RecordError when the edit does not follow the contract."""
        path = self.path(article.id)
        if self.force or not path.is_file():
            return None
        data = path.read_bytes()
        if self.log.owns(article.id, data):
            return None
        return _load_kept_record(path, data)

    def kept_edit(self, article: Article) -> ArticleAnnotation | None:
        """The person-edited record to keep for this article, re-grounded; None when the
        tool should (re)write it. An edit of an older text is moved aside."""
        path = self.path(article.id)
        record = self.hand_edit(article)
        if record is None:
            return None
        if record.article.sha256 != article.sha256:
            moved = move_aside(path)
            self.notices.append(
                f"moved hand-edited {path.name} to {moved.parent.name}/: its article "
                f"{article.path} changed since; annotated afresh"
            )
            return None
        checked, changed = reground_record(record, article.text)
        note = f"; {changed} quote(s) re-grounded against the text" if changed else ""
        self.notices.append(f"kept hand-edited {path.name} (use --force to overwrite){note}")
        return checked

    def write(self, aid: str, record: ArticleAnnotation) -> tuple[str, str]:
        """(output status, sha256 of the bytes on disk)."""
        data = dump_yaml(record.to_yaml_dict()).encode("utf-8")
        path = self.path(aid)
        if path.is_file() and path.read_bytes() == data:
            self.log.record(aid, _sha(data))
            return "unchanged", _sha(data)
        return "written", self.log.write(path, aid, data)


def _sha(data: bytes) -> str:
    return sha256_bytes(data)


def _load_kept_record(path: Path, data: bytes) -> ArticleAnnotation:
    from pydantic import ValidationError

    from annotator.core.errors import RecordError

    try:
        return ArticleAnnotation.model_validate(load_yaml(data.decode("utf-8")))
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise RecordError(str(path), where, f"{err['msg']} (hand-edited file kept)") from None
    except Exception as exc:
        raise RecordError(str(path), "", f"unreadable: {' '.join(str(exc).split())}") from None
