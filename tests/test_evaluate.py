"""Stance metrics on plain data, and reading eval rows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from annotator.core.errors import InputError
from annotator.evaluate import (
    accuracy,
    confusion_matrix,
    default_labels,
    evaluate_rows,
    gold_labels,
    macro_f1,
    majority_baseline,
    per_class_scores,
    read_rows,
    row_text,
    score,
)

GOLD = ["confirm", "confirm", "deny", "unverified", "confirm"]
PRED = ["confirm", "deny", "deny", "confirm", "confirm"]


def test_confusion_matrix_counts_gold_rows_by_prediction() -> None:
    labels = ["confirm", "deny", "unverified"]
    assert confusion_matrix(GOLD, PRED, labels) == {
        "confirm": {"confirm": 2, "deny": 1, "unverified": 0},
        "deny": {"confirm": 0, "deny": 1, "unverified": 0},
        "unverified": {"confirm": 1, "deny": 0, "unverified": 0},
    }


def test_per_class_precision_recall_f1() -> None:
    scores = per_class_scores(GOLD, PRED, ["confirm", "deny", "unverified"])
    assert (scores["confirm"].precision, scores["confirm"].recall) == (0.6667, 0.6667)
    assert scores["confirm"].f1 == 0.6667
    assert (scores["deny"].precision, scores["deny"].recall, scores["deny"].f1) == (
        0.5,
        1.0,
        0.6667,
    )
    assert (scores["unverified"].f1, scores["unverified"].support) == (0.0, 1)


def test_accuracy_macro_f1_and_majority() -> None:
    assert accuracy(GOLD, PRED) == 0.6
    scores = per_class_scores(GOLD, PRED, ["confirm", "deny", "unverified", "unrelated"])
    # macro-F1 averages only the classes present in gold: 'unrelated' is left out
    assert macro_f1(scores, GOLD) == pytest.approx((0.6667 + 0.6667 + 0.0) / 3)
    assert majority_baseline(GOLD) == ("confirm", 0.6)
    assert majority_baseline(["deny", "confirm"]) == ("confirm", 0.5)  # ties: fixed order


def test_score_report_has_every_field() -> None:
    report = score(GOLD, PRED, file="x.jsonl")
    data = report.to_dict()
    assert {"accuracy", "macro_f1", "per_class", "n", "confusion", "majority_accuracy"} <= set(data)
    assert data["n"] == 5 and data["labels"] == ["confirm", "deny", "unverified"]
    assert data["per_class"]["deny"]["support"] == 1
    json.dumps(data)


def test_perfect_and_empty_predictions() -> None:
    assert score(GOLD, GOLD).macro_f1 == 1.0
    with pytest.raises(ValueError):
        confusion_matrix(GOLD, PRED[:2], ["confirm"])


def write_rows(path: Path, rows: list[object]) -> Path:
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


def test_read_rows_joins_headline_and_body(tmp_path: Path) -> None:
    f = write_rows(
        tmp_path / "e.jsonl",
        [
            {"claim": "c1", "headline": "H", "body": None, "stance": "confirm", "article_id": "a"},
            {"claim": "c2", "headline": None, "body": "B", "stance": "unrelated"},
            {"claim": "c3", "headline": "H3", "body": "B3", "stance": "deny"},
        ],
    )
    rows = read_rows(f)
    assert [r.text for r in rows] == ["H", "B", "H3\n\nB3"]
    assert rows[0].row_id == "a" and "unrelated" in default_labels(rows)
    assert len(read_rows(f, limit=2)) == 2
    assert row_text({"headline": " ", "body": "x"}) == "x"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "invalid JSON"),
        ('{"claim": "c", "headline": "h", "stance": "agree"}', "gold 'stance'"),
        ('{"claim": "c", "stance": "deny"}', "neither 'headline' nor 'body'"),
        ('{"headline": "h", "stance": "deny"}', "no 'claim'"),
    ],
)
def test_bad_rows_name_file_and_line(tmp_path: Path, line: str, message: str) -> None:
    f = tmp_path / "bad.jsonl"
    f.write_text('{"claim": "c", "headline": "h", "stance": "deny"}\n' + line + "\n")
    with pytest.raises(InputError, match=message) as err:
        gold_labels(read_rows(f))  # the gold is checked only when scoring
    assert "bad.jsonl:2" in str(err.value)


def test_evaluate_rows_runs_any_predictor(tmp_path: Path) -> None:
    f = write_rows(
        tmp_path / "e.jsonl",
        [
            {"claim": "c", "headline": "it is a hoax", "stance": "deny"},
            {"claim": "c", "headline": "it happened", "stance": "confirm"},
        ],
    )
    report = evaluate_rows(read_rows(f), lambda c, t: "deny" if "hoax" in t else "confirm")
    assert report.accuracy == 1.0 and report.n == 2
