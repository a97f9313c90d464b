"""Where the shared data (`../shared/seeds`, `../shared/eval`) is, and what a test does
when it is missing: skip on a developer machine, fail under CI (`CI=true`), where a
missing data set would otherwise turn a real check into a silent skip.

`ANNOTATE_SHARED_DIR` points at the shared folder from anywhere (a git worktree, say).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def shared_dir() -> Path:
    return Path(os.environ.get("ANNOTATE_SHARED_DIR") or ROOT.parent / "shared")


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def shared_data(*parts: str) -> Path:
    """The path of shared data, or skip the test (fail it under CI=true) if it is absent."""
    path = shared_dir().joinpath(*parts)
    if not path.exists():
        message = f"{path} is not present in this checkout"
        if in_ci():
            pytest.fail(f"{message} (CI=true: the shared data must be there)", pytrace=False)
        pytest.skip(message)
    return path
