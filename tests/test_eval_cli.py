"""`annotate eval` in-process: the rules baseline on the shared public eval data, and the
llm backend end to end against the fake chat-completions server over a real socket."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from annotator.cli import app
from annotator.core.errors import ConfigurationError, UsageError
from annotator.extract.llm.probe import PROBE_CITY, PROBE_YEAR
from tests.fake_llm import FakeChatServer
from tests.shared_data import shared_data

ROWS = [
    {"claim": "The bridge will close", "headline": "Bridge closure is a hoax", "stance": "deny"},
    {
        "claim": "The bridge will close",
        "headline": "Bridge reportedly to close",
        "stance": "unverified",
    },
    {"claim": "The bridge will close", "headline": "City closes the bridge", "stance": "confirm"},
    {
        "claim": "The bridge will close",
        "body": "Rain is expected on Sunday.",
        "stance": "unrelated",
    },
]


@pytest.fixture
def rows_file(tmp_path: Path) -> Path:
    f = tmp_path / "rows.jsonl"
    f.write_text("\n".join(json.dumps(r) for r in ROWS) + "\n", encoding="utf-8")
    return f


def run_eval(*args: str) -> Any:
    return CliRunner().invoke(app, ["eval", *args], catch_exceptions=True)


def test_rules_json_has_the_metrics(rows_file: Path) -> None:
    result = run_eval(str(rows_file), "--backend", "rules", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {"accuracy", "macro_f1", "per_class", "n", "confusion", "majority_accuracy"} <= set(data)
    assert data["n"] == 4 and data["backend"] == "rules"
    assert data["accuracy"] == 1.0  # the four textbook cases


def test_rules_tables_for_humans(rows_file: Path) -> None:
    result = run_eval(str(rows_file), "--limit", "2")
    assert result.exit_code == 0, result.output
    assert "2 rows" in result.stdout and "macro-F1" in result.stdout
    assert "Confusion" in result.stdout and "Per class" in result.stdout


@pytest.mark.parametrize(
    ("name", "majority"),
    [("fnc1_body_stance_eval.jsonl", 0.27), ("emergent_stance_eval.jsonl", 0.52)],
)
def test_rules_beat_the_majority_baseline_on_public_data(name: str, majority: float) -> None:
    path = shared_data("eval", name)
    result = run_eval(str(path), "--backend", "rules", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["majority_accuracy"] == pytest.approx(majority, abs=0.01)
    assert data["accuracy"] > data["majority_accuracy"] + 0.1
    assert data["macro_f1"] > 0.5


def judge(body: dict[str, Any]) -> dict[str, Any]:
    """A scripted model: reads the text between the delimiters like a careful reader."""
    user = body["messages"][-1]["content"]
    match = re.search(r"<text>\n(.*)\n</text>", user, re.DOTALL)
    assert match, "the text must be sent inside <text> delimiters"
    text = match.group(1).lower()
    if "hoax" in text:
        return {"stance": "deny", "evidence": "is a hoax"}
    if "reportedly" in text:
        return {"stance": "unverified", "evidence": "reportedly"}
    if "bridge" not in text:
        return {"stance": "unrelated", "evidence": "about the weather"}
    return {"stance": "agree", "evidence": "City closes the bridge"}  # coerced to confirm


def test_llm_backend_end_to_end_against_a_fake_endpoint(rows_file: Path) -> None:
    with FakeChatServer() as server:
        server.add_responder("StanceJudgement", judge)
        result = run_eval(
            str(rows_file),
            "--backend",
            "llm",
            "--base-url",
            server.base_url,
            "--model",
            "fake-model",
            "--mode",
            "tools",
            "--json",
        )
        requests = server.chat_requests("StanceJudgement")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["backend"] == "llm" and data["n"] == 4
    assert data["accuracy"] == 1.0
    assert data["extra"]["prompt"] == "stance_v1" and len(data["extra"]["prompt_sha256"]) == 64
    assert data["extra"]["calls"] == 4 and data["extra"]["mode"] == "tools"
    assert len(requests) == 4
    assert all("CLAIM: The bridge will close" in r["messages"][-1]["content"] for r in requests)


def test_llm_backend_probes_mode_and_model_and_honours_env(
    rows_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeChatServer(reject_json_schema=True) as server:
        server.add_responder("StanceJudgement", judge)
        server.add_responder("ProbeAnswer", lambda b: {"city": PROBE_CITY, "year": PROBE_YEAR})
        monkeypatch.setenv("ANNOTATE_BASE_URL", server.base_url)
        result = run_eval(str(rows_file), "--backend", "llm", "--json", "--limit", "3")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["n"] == 3 and data["extra"]["mode"] == "tools"
    assert data["extra"]["model"] == "fake-model"


def test_unrelated_answer_is_unverified_when_the_task_has_no_such_class(tmp_path: Path) -> None:
    f = tmp_path / "emergent_like.jsonl"
    f.write_text(
        json.dumps(
            {"claim": "The bridge will close", "headline": "Weather news", "stance": "unverified"}
        )
        + "\n"
    )
    with FakeChatServer() as server:
        server.add_responder("StanceJudgement", judge)
        result = run_eval(
            str(f),
            "--backend",
            "llm",
            "--base-url",
            server.base_url,
            "--model",
            "m",
            "--mode",
            "json",
            "--json",
        )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["accuracy"] == 1.0


def test_bad_backend_and_missing_endpoint_are_clear_errors(rows_file: Path) -> None:
    result = run_eval(str(rows_file), "--backend", "magic")
    assert isinstance(result.exception, UsageError)
    result = run_eval(str(rows_file), "--backend", "llm")
    assert isinstance(result.exception, ConfigurationError)
    assert "OPENAI_API_KEY" in str(result.exception)


def test_hostile_rows_are_named_and_skipped_and_the_rest_scored(tmp_path: Path) -> None:
    """Issue 10 item 8: deep nesting, a 5,000-digit number, a lone surrogate."""
    import subprocess
    import sys

    from tests.conftest import subprocess_env

    good = {"claim": "The bridge reopened.", "body": "Officials said the bridge reopened."}
    lines = [
        json.dumps({**good, "stance": "confirm"}),
        "[" * 100_000,
        '{"claim": "x", "stance": "deny", "body": "y", "n": ' + "9" * 5000 + "}",
        '{"claim": "x \\ud800", "stance": "deny", "body": "The ministry denied it."}',
        json.dumps({**good, "stance": "confirm"}),
    ]
    path = tmp_path / "rows.jsonl"
    path.write_text("\n".join(lines) + "\n", "utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "annotator", "eval", str(path), "--json"],
        capture_output=True,
        text=True,
        env=subprocess_env(),
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    skipped = [ln for ln in proc.stderr.splitlines() if ln.startswith("annotate: skipped row")]
    assert [ln.split(f"{path}:")[1].split(":")[0] for ln in skipped] == ["2", "3", "4"]
    assert json.loads(proc.stdout)["n"] == 2
