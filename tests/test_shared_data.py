"""A missing shared data set skips a test on a developer machine and fails it under CI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.shared_data import ROOT

PROBE = """
from tests.shared_data import shared_data

def test_needs_shared_eval():
    assert shared_data("eval", "fnc1_body_stance_eval.jsonl").is_file()
"""


def _run(tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    test = tmp_path / "test_probe_shared.py"
    test.write_text(PROBE, "utf-8")
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test)],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(("ci", "outcome"), [("true", "1 failed"), ("", "1 skipped")])
def test_missing_shared_data_fails_only_under_ci(tmp_path: Path, ci: str, outcome: str) -> None:
    missing = tmp_path / "no-shared-here"
    proc = _run(tmp_path, {"CI": ci, "ANNOTATE_SHARED_DIR": str(missing)})
    assert outcome in proc.stdout, proc.stdout + proc.stderr
    if ci:
        assert "CI=true: the shared data must be there" in proc.stdout


def test_present_shared_data_is_used(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    (shared / "eval").mkdir(parents=True)
    (shared / "eval" / "fnc1_body_stance_eval.jsonl").write_text("{}\n", "utf-8")
    proc = _run(tmp_path, {"CI": "true", "ANNOTATE_SHARED_DIR": str(shared)})
    assert "1 passed" in proc.stdout, proc.stdout + proc.stderr
