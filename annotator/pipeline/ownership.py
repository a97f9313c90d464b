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

from annotator.core.yamlio import atomic_write_text

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
