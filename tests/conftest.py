"""Shared fixtures. A guard forbids connections to anything but loopback: tests never
reach a real model API (the fake endpoint and the local llama.cpp server are on 127.0.0.1)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fake_llm import FakeChatServer

ROOT = Path(__file__).resolve().parent.parent
ARTICLES = ROOT / "fixtures" / "articles"
LLM_FIXTURES = ROOT / "fixtures" / "llm"

_real_connect = socket.socket.connect


def _loopback_only(self: socket.socket, address: object) -> None:
    host = address[0] if isinstance(address, tuple) else None
    if host is not None and host not in ("127.0.0.1", "::1", "localhost"):
        raise RuntimeError(f"test tried to reach {host!r}: tests must not use the network")
    _real_connect(self, address)  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket.socket, "connect", _loopback_only)
    for var in (
        "OPENAI_API_KEY",
        "OPENAI_BASE_URL",
        "ANNOTATE_BASE_URL",
        "ANNOTATE_MODEL",
        "ANNOTATE_BACKEND",
        "ANNOTATE_MODE",
        "ANNOTATE_OUT",
        "ANNOTATE_CACHE",
    ):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture(autouse=True)
def _fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    import annotator.extract.llm.retries as retries

    monkeypatch.setattr(retries, "BACKOFF_BASE", 0.02)


@pytest.fixture
def fake_llm() -> Iterator[FakeChatServer]:
    with FakeChatServer(LLM_FIXTURES) as server:
        yield server


@pytest.fixture
def articles_dir(tmp_path: Path) -> Path:
    """A copy of the five sample articles in a folder named `data`."""
    d = tmp_path / "data"
    shutil.copytree(ARTICLES, d)
    return d


def subprocess_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "ANNOTATE_"))}
    env.update(extra)
    return env


def start_annotate(*args: str) -> subprocess.Popen[str]:
    """`annotate ARGS` in the background, its stderr piped, ready for a Ctrl-C."""
    return subprocess.Popen(
        [sys.executable, "-m", "annotator", *args],
        cwd=ROOT,
        env=subprocess_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        # a shell without job control starts background jobs with SIGINT ignored, and
        # a child inherits that: give it the default, as a terminal would
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
