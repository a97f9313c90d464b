"""`annotate eval-clusters` as a subprocess on rows written here and on the public file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

EVAL_DIRS = [p / "shared" / "eval" for p in Path(__file__).resolve().parents]
EMERGENT = next(
    (d / "emergent_stance_eval.jsonl" for d in EVAL_DIRS if d.is_dir()),
    EVAL_DIRS[1] / "emergent_stance_eval.jsonl",
)


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "annotator", "eval-clusters", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_scores_rows_of_another_event(tmp_path: Path) -> None:
    rows = [
        ("flood", "Floods closed the main road to Bergen"),
        ("flood", "The main road to Bergen was closed by flooding"),
        ("flood", "Flooding shut the main Bergen road"),
        ("mayor", "The mayor of Bergen resigned on Friday"),
        ("mayor", "Bergen's mayor stepped down on Friday"),
    ]
    path = tmp_path / "rows.jsonl"
    path.write_text(
        "".join(json.dumps({"claim_id": g, "headline": h}) + "\n" for g, h in rows),
        encoding="utf-8",
    )
    done = run(str(path), "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result == {
        "clusters": 2,
        "f1": 1.0,
        "gold_clusters": 2,
        "items": 5,
        "precision": 1.0,
        "recall": 1.0,
    }
    text = run(str(path))
    assert text.stdout.strip() == (
        "5 items, 2 gold clusters: 2 clusters; B-cubed precision 1.000 recall 1.000 F1 1.000"
    )


def test_bad_rows_are_a_one_line_error(tmp_path: Path) -> None:
    path = tmp_path / "rows.jsonl"
    path.write_text('{"headline": "no gold id"}\n', encoding="utf-8")
    done = run(str(path))
    assert done.returncode != 0
    assert done.stderr.strip().count("\n") == 0 and "claim_id" in done.stderr


@pytest.mark.skipif(
    not EMERGENT.exists() and os.environ.get("CI") != "true", reason="no shared eval data"
)
def test_emergent_headlines() -> None:
    done = run(str(EMERGENT), "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["items"] == 416 and result["gold_clusters"] == 30
    # measured: precision 0.929, recall 0.837, F1 0.880, 55 clusters (target 0.87)
    assert result["precision"] >= 0.91 and result["f1"] >= 0.87


FNC1 = EMERGENT.parent / "fnc1_body_stance_eval.jsonl"


@pytest.mark.skipif(
    not FNC1.exists() and os.environ.get("CI") != "true", reason="no shared eval data"
)
def test_held_out_emergent_claims_in_fnc1() -> None:
    """FNC-1's headlines of Emergent claims not in the Emergent file: the method was not
    tuned on them."""
    done = run(
        str(FNC1), "--text-field", "claim", "--gold-field", "emergent_claim", "--unique", "--json"
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["items"] == 109 and result["gold_clusters"] == 38
    assert result["f1"] >= 0.88  # measured: precision 0.912, recall 0.913, F1 0.913
