"""Which files of an input folder are read, and why the others are not.

Only regular files inside the input folder are read. A symbolic link is followed only to a
file inside the folder; a link out of it, a dangling link, a FIFO, a socket or a device is
reported, never opened. Hidden entries are reported and left alone. This tool's own
outputs (a run folder with its manifest, a report it rendered, an output or cache folder
placed inside the input) are never read back as articles.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from annotator.core.errors import InputError
from annotator.core.text import encodable

# render.report writes this into every report.html (kept equal by a test); a file that
# carries it is this tool's output
REPORT_MARKER = '<meta name="generator" content="annotate report">'
_LEGACY_REPORT = ".claim{border:1px solid #ddd;border-radius:6px;padding:.6em 1em"
_OWN_SCHEMA = b"schema: annotator/"


@dataclass
class InputFiles:
    files: list[Path] = field(default_factory=list)  # sorted by path relative to the root
    problems: list[InputError] = field(default_factory=list)  # reported, one line each
    skipped: list[str] = field(default_factory=list)  # not articles; one line each


def is_own_output(path: Path) -> bool:
    """A file this tool wrote: a report.html (marker) or YAML/JSON naming our schema."""
    try:
        with path.open("rb") as fh:
            head = fh.read(4096)
    except OSError:
        return False
    if REPORT_MARKER.encode() in head or _LEGACY_REPORT.encode() in head:
        return True
    return head.lstrip().startswith(_OWN_SCHEMA) or b'"schema": "annotator/' in head[:200]


def _is_run_folder(path: Path) -> bool:
    manifest = path / "manifest.yaml"
    return manifest.is_file() and not manifest.is_symlink() and is_own_output(manifest)


def walk_inputs(root: Path, exclude: Iterable[Path] = ()) -> InputFiles:
    """Files to read under `root` (or `root` itself when it is a file)."""
    found = InputFiles()
    if root.is_file():
        found.files.append(root)
        return found
    real_root = root.resolve()
    skip = {p.resolve() for p in exclude}
    _walk(root, root, real_root, skip, found)
    found.files.sort(key=lambda p: p.relative_to(root).as_posix())
    return found


def _walk(folder: Path, root: Path, real_root: Path, skip: set[Path], found: InputFiles) -> None:
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError as exc:
        rel = folder.relative_to(root).as_posix()
        found.problems.append(InputError(f"{rel}/", f"cannot list folder: {exc.strerror}"))
        return
    for entry in entries:
        path = Path(entry.path)
        rel = path.relative_to(root).as_posix()
        if not encodable(rel):
            found.problems.append(InputError(_printable(rel), "file name is not valid UTF-8"))
            continue
        if entry.name.startswith("."):
            kind = "folder" if entry.is_dir(follow_symlinks=False) else "file"
            found.skipped.append(f"{rel}: hidden {kind}, not read")
            continue
        if entry.is_symlink():
            _link(path, rel, real_root, found)
            continue
        try:
            mode = entry.stat(follow_symlinks=False).st_mode
        except OSError as exc:
            found.problems.append(InputError(rel, f"cannot stat: {exc.strerror}"))
            continue
        if stat.S_ISDIR(mode):
            if path.resolve() in skip:
                continue  # this run's own output or cache folder
            if _is_run_folder(path):
                found.skipped.append(f"{rel}/: output of an earlier annotate run, not read")
                continue
            _walk(path, root, real_root, skip, found)
        elif stat.S_ISREG(mode):
            found.files.append(path)
        else:
            found.problems.append(InputError(rel, f"not a regular file ({_kind(mode)})"))


def _link(path: Path, rel: str, real_root: Path, found: InputFiles) -> None:
    target = path.resolve()
    if not target.exists():
        found.problems.append(InputError(rel, "dangling symbolic link"))
    elif not target.is_relative_to(real_root):
        found.problems.append(
            InputError(rel, "symbolic link to a file outside the input folder, not followed")
        )
    elif not target.is_file():
        found.skipped.append(f"{rel}: symbolic link to a folder, not followed")
    else:
        found.files.append(path)


def _printable(name: str) -> str:
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a file"
