"""`annotate doctor` in-process (typer's CliRunner) and through `main()` for the one-line
error path, against the real-socket fake endpoint."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from annotator.cli import app, main
from annotator.core.errors import EndpointUnreachable, ModeUnsupported
from annotator.core.settings import resolve_endpoint
from annotator.extract.llm.probe import PROBE_CITY, PROBE_YEAR, probe_cache_path, resolve_mode
from tests.fake_llm import FakeChatServer

runner = CliRunner()


@pytest.fixture
def llama_like() -> Iterator[FakeChatServer]:
    with FakeChatServer(reject_json_schema=True) as s:
        s.add_responder("ProbeAnswer", lambda body: {"city": PROBE_CITY, "year": PROBE_YEAR})
        yield s


def test_doctor_reports_each_mode_and_the_choice(
    llama_like: FakeChatServer, tmp_path: Path
) -> None:
    result = runner.invoke(
        app, ["doctor", "--base-url", llama_like.base_url, "--cache", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    out = result.output
    assert f"endpoint: {llama_like.base_url}" in out
    assert "reachable: yes" in out
    assert "models (1): fake-model" in out
    assert "model: fake-model" in out  # no --model: the first listed one
    rows = {
        line.split("│")[1].strip(): line
        for line in out.splitlines()
        if line.startswith("│") and line.split("│")[1].strip()
    }
    assert "works" in rows["tools"]
    assert "fails" in rows["json_schema"]
    assert "works" in rows["json"]
    assert "HTTP 500" in out
    assert "`annotate run --mode auto` will use: tools" in out
    # the saved probe is what `run --mode auto` reads: no further request
    cfg = resolve_endpoint(base_url=llama_like.base_url, model="fake-model")
    assert probe_cache_path(tmp_path, cfg.base_url, cfg.model).is_file()
    before = len(llama_like.chat_requests())
    assert asyncio.run(resolve_mode(cfg, tmp_path)) == "tools"
    assert len(llama_like.chat_requests()) == before


def test_doctor_cache_defaults_to_run_s_and_no_save_writes_nothing(
    llama_like: FakeChatServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["doctor", "--base-url", llama_like.base_url, "--no-save"])
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "outputs").exists()
    monkeypatch.setenv("ANNOTATE_OUT", "elsewhere")
    result = runner.invoke(app, ["doctor", "--base-url", llama_like.base_url])
    assert result.exit_code == 0, result.output
    saved = list((tmp_path / "elsewhere" / ".cache" / "probe").glob("*.json"))
    assert len(saved) == 1
    assert json.loads(saved[0].read_text(encoding="utf-8"))["chosen"] == "tools"


def test_doctor_uses_the_named_model_and_env_vars(
    llama_like: FakeChatServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("ANNOTATE_BASE_URL", llama_like.base_url)
    monkeypatch.setenv("ANNOTATE_MODEL", "my-model")
    monkeypatch.setenv("MY_KEY", "sk-doctor-SECRET-0123456789")
    result = runner.invoke(app, ["doctor", "--api-key-env", "MY_KEY", "--cache", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "model: my-model" in result.output
    assert "note: model 'my-model' is not in the listed models" in result.output
    assert {r["model"] for r in llama_like.chat_requests()} == {"my-model"}
    assert llama_like.headers[-1]["authorization"] == "Bearer sk-doctor-SECRET-0123456789"
    assert "SECRET" not in result.output
    assert all("SECRET" not in p.read_text() for p in tmp_path.rglob("*.json"))


def test_doctor_gives_advice_and_exit_1_when_no_mode_works(tmp_path: Path) -> None:
    with FakeChatServer(ignore_schema=True) as s:
        s.add_responder("ProbeAnswer", lambda body: {"city": PROBE_CITY, "year": PROBE_YEAR})
        result = runner.invoke(
            app, ["doctor", "--base-url", s.base_url, "--model", "m", "--cache", str(tmp_path)]
        )
    assert result.exit_code == 1
    assert result.output.count("ignores schema") == 3  # the table is printed first
    assert "will use" not in result.output
    assert isinstance(result.exception, ModeUnsupported)
    advice = str(result.exception)
    assert "\n" not in advice
    assert "no structured-output mode" in advice
    assert "tool calling" in advice and "--backend rules" in advice
    assert not (tmp_path / "probe").exists()


def test_main_prints_the_advice_as_one_line_and_exits_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with FakeChatServer(ignore_schema=True) as s:
        s.add_responder("ProbeAnswer", lambda body: {"city": PROBE_CITY, "year": PROBE_YEAR})
        monkeypatch.setattr(
            sys, "argv", ["annotate", "doctor", "--base-url", s.base_url, "--no-save"]
        )
        with pytest.raises(SystemExit) as info:
            main()
    assert info.value.code == 1
    captured = capsys.readouterr()
    assert "ignores schema" in captured.out
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("annotate: error: no structured-output mode")
    assert "Traceback" not in captured.err


def test_doctor_unreachable_raises_the_library_error_in_process() -> None:
    result = runner.invoke(
        app, ["doctor", "--base-url", "http://127.0.0.1:9/v1", "--no-save", "--timeout", "5"]
    )
    assert result.exit_code != 0
    assert isinstance(result.exception, EndpointUnreachable)


def test_main_prints_one_line_error_without_traceback_when_unreachable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(
        sys, "argv", ["annotate", "doctor", "--base-url", "http://127.0.0.1:9/v1", "--no-save"]
    )
    with pytest.raises(SystemExit) as info:
        main()
    assert info.value.code == 1
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("annotate: error: cannot connect to http://127.0.0.1:9/v1")
    assert "--base-url" in lines[0]
    assert "Traceback" not in err


def test_every_doctor_option_has_help() -> None:
    doctor = typer.main.get_command(app).commands["doctor"]  # type: ignore[attr-defined]
    options = [p for p in doctor.params if p.param_type_name == "option"]
    names = {o.name for o in options}
    assert {"base_url", "model", "api_key_env", "timeout"} <= names
    for option in options:
        assert option.help, f"--{option.name} has no help text"
    result = runner.invoke(app, ["doctor", "--help"])
    assert result.exit_code == 0
    assert "ANNOTATE_BASE_URL" in result.output and "ANNOTATE_MODEL" in result.output


def test_doctor_reports_token_limit_strict_support_and_speed(tmp_path: Path) -> None:
    """Doctor runs `run`'s readiness steps (`inspect_endpoint`) and says what it learned."""
    answer = {"city": PROBE_CITY, "year": PROBE_YEAR}
    with FakeChatServer(require_strict=True, reject_params={"max_tokens"}) as s:
        s.add_responder("ProbeAnswer", lambda body: dict(answer))
        result = runner.invoke(
            app, ["doctor", "--base-url", s.base_url, "--model", "m", "--cache", str(tmp_path)]
        )
    assert result.exit_code == 0, result.output
    out = result.output
    assert "token limit parameter accepted: max_completion_tokens" in out
    assert "strict schemas: accepted and used (tools)" in out
    assert "works (strict)" in out
    assert "tokens/s" in out
    saved = json.loads(next((tmp_path / "probe").glob("*.json")).read_text())
    assert saved["chosen"] == "tools" and saved["results"][0]["strict"] is True


def test_doctor_on_a_lenient_server_tries_strict_once_and_says_so(
    llama_like: FakeChatServer, tmp_path: Path
) -> None:
    result = runner.invoke(
        app, ["doctor", "--base-url", llama_like.base_url, "--cache", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    assert "token limit parameter accepted: max_tokens" in result.output
    assert "strict schemas: accepted (tools); the lenient schema is used" in result.output
    strict_sent = [
        r
        for r in llama_like.chat_requests()
        if r.get("tools") and r["tools"][0]["function"].get("strict")
    ]
    assert len(strict_sent) == 1
