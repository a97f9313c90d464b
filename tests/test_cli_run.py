"""`annotate run` as a user runs it: a separate process, over a real socket."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import typer
from typer.testing import CliRunner

from annotator.cli import app
from annotator.core.models import ArticleAnnotation, EventSummary
from annotator.core.yamlio import load_yaml
from tests.conftest import LLM_FIXTURES, ROOT, subprocess_env
from tests.fake_llm import FakeChatServer, fixture_responders, messages_text

ANNOTATE = [sys.executable, "-m", "annotator"]
LLM_RESPONDER = fixture_responders(LLM_FIXTURES)["Extraction"]


def annotate(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*ANNOTATE, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env or subprocess_env(),
        timeout=timeout,
    )


def test_run_against_the_fake_endpoint_in_a_separate_process(
    articles_dir: Path, tmp_path: Path, fake_llm: FakeChatServer
) -> None:
    out = tmp_path / "out"
    proc = annotate(
        "run",
        str(articles_dir),
        "--out",
        str(out),
        "--base-url",
        fake_llm.base_url,
        "--model",
        "m",
        "--backend",
        "llm",
        "--mode",
        "tools",
    )
    assert proc.returncode == 0, proc.stderr
    files = sorted((out / "data" / "articles").glob("*.yaml"))
    assert len(files) == 5
    for f in files:
        ArticleAnnotation.model_validate(load_yaml(f.read_text("utf-8")))
    EventSummary.model_validate(load_yaml((out / "data" / "event.yaml").read_text("utf-8")))
    assert "claims grounded exact 26, fuzzy 1, none 2" in proc.stderr
    assert "Traceback" not in proc.stderr
    # the tokens spent are said once, after the summary (no price is known for model "m")
    assert proc.stderr.count("annotate: model usage: ") == 1, proc.stderr
    assert proc.stderr.index("model usage") > proc.stderr.index("event summary")


def test_missing_key_is_one_line_saying_what_to_set(articles_dir: Path, tmp_path: Path) -> None:
    proc = annotate("run", str(articles_dir), "--backend", "llm", "--out", str(tmp_path))
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0
    assert "OPENAI_API_KEY" in proc.stderr and "--base-url" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_unreachable_endpoint_is_one_line(articles_dir: Path, tmp_path: Path) -> None:
    proc = annotate(
        "run",
        str(articles_dir),
        "--base-url",
        "http://127.0.0.1:9/v1",
        "--model",
        "m",
        "--mode",
        "tools",
        "--max-attempts",
        "2",
        "--out",
        str(tmp_path),
    )
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("annotate: error: cannot connect to")
    assert "Traceback" not in proc.stderr


def test_exit_code_is_1_when_an_article_fails(
    articles_dir: Path, tmp_path: Path, fake_llm: FakeChatServer
) -> None:
    (articles_dir / "extra.txt").write_text(
        "Officials said nothing at all happened today.", "utf-8"
    )
    fake_llm.add_responder(
        "Extraction",
        lambda body: (
            {"claims": [{"statement": "broken"}]}
            if "nothing at all" in messages_text(body)
            else LLM_RESPONDER(body)
        ),
    )
    args = [
        "run",
        str(articles_dir),
        "--out",
        str(tmp_path),
        "--base-url",
        fake_llm.base_url,
        "--model",
        "m",
        "--mode",
        "tools",
        "-q",
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1
    assert "failed extra.txt" in result.output
    proc = annotate(*args)  # and through the console entry point, as a user runs it
    assert proc.returncode == 1
    assert "annotate: failed extra.txt: " in proc.stderr and "Traceback" not in proc.stderr


def test_usage_errors_exit_2_without_traceback(tmp_path: Path) -> None:
    proc = annotate("run", str(tmp_path), "--no-such-option")
    assert proc.returncode == 2 and "No such option" in proc.stderr
    proc = annotate("run", str(tmp_path / "missing"))
    assert proc.returncode == 2
    assert (
        proc.stderr.strip()
        == f"annotate: error: input {str(tmp_path / 'missing')!r} does not exist"
    )


def test_offline_default_says_so_in_one_line(articles_dir: Path, tmp_path: Path) -> None:
    proc = annotate("run", str(articles_dir), "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert "using the offline rules backend" in proc.stderr
    assert len(list((tmp_path / "data" / "articles").glob("*.yaml"))) == 5


def test_every_option_has_help_text() -> None:
    command = typer.main.get_command(app)
    commands = command.commands  # type: ignore[attr-defined]
    assert {"run", "reconcile", "eval", "doctor"} <= set(commands)
    for name, sub in commands.items():
        assert sub.help, name
        for param in sub.params:
            if param.param_type_name == "option":
                assert param.help, f"{name} {param.opts}"


def test_killed_run_resumes_without_asking_again(articles_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    with FakeChatServer(LLM_FIXTURES, latency=0.6) as server:
        proc = subprocess.Popen(
            [
                *ANNOTATE,
                "run",
                str(articles_dir),
                "--out",
                str(out),
                "--base-url",
                server.base_url,
                "--model",
                "m",
                "--mode",
                "tools",
                "--concurrency",
                "1",
                "-q",
            ],
            cwd=ROOT,
            env=subprocess_env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        articles = out / "data" / "articles"
        deadline = time.monotonic() + 60
        while len(list(articles.glob("*.yaml"))) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        done = sorted(p.stem for p in articles.glob("*.yaml"))
        assert 2 <= len(done) < 5
        leftovers = [p for p in out.rglob("*") if p.name.endswith(".tmp")]
        assert not leftovers
        for p in out.rglob("*.yaml"):
            load_yaml(p.read_text("utf-8"))  # every file written parses
        asked_before = len(server.chat_requests())
        proc2 = annotate(
            "run",
            str(articles_dir),
            "--out",
            str(out),
            "--base-url",
            server.base_url,
            "--model",
            "m",
            "--mode",
            "tools",
        )
        assert proc2.returncode == 0, proc2.stderr
        second = server.chat_requests()[asked_before:]
        finished_texts = [(articles_dir / f"{stem}.txt").read_text("utf-8")[:200] for stem in done]
        for body in second:
            text = messages_text(body)
            assert not any(t in text for t in finished_texts)
        assert len(list(articles.glob("*.yaml"))) == 5
