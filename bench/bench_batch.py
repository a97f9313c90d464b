"""Batch files at scale: `annotate batch prepare` of N articles (time, file sizes), then
`annotate batch collect --results` of N answers (vLLM run_batch format) and `annotate
run` completing from the cache (time, zero model calls).

    .venv/bin/python bench/bench_batch.py [--articles 10000]

Not a test: it prints figures. The answers are written by this script, as run_batch
would write them; the endpoint is never called (the run's calls are counted to show it).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_run import make_articles, responder  # noqa: E402
from tests.fake_llm import FakeChatServer  # noqa: E402

ANNOTATE = [sys.executable, "-m", "annotator"]


def timed(args: list[str]) -> tuple[float, str]:
    t0 = time.perf_counter()
    proc = subprocess.run(args, capture_output=True, text=True, cwd=ROOT)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"annotate failed ({proc.returncode}):\n{proc.stderr}")
    return elapsed, proc.stderr.strip()


def result_line(n: int, request: dict) -> str:
    """The run_batch output line for one request: a tool call with the stub's answer."""
    body = request["body"]
    args = json.dumps(responder(body))
    completion = {
        "id": f"chatcmpl-{n}",
        "object": "chat.completion",
        "created": 0,
        "model": body["model"],
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": f"call_{n}",
                            "type": "function",
                            "function": {"name": "Extraction", "arguments": args},
                        }
                    ],
                },
                "finish_reason": "tool_calls",
            }
        ],
        "usage": {"prompt_tokens": 600, "completion_tokens": 120, "total_tokens": 720},
    }
    response = {"status_code": 200, "request_id": f"vllm-batch-{n}", "body": completion}
    line = {"id": f"vllm-{n}", "custom_id": request["custom_id"], "response": response}
    return json.dumps({**line, "error": None})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--articles", type=int, default=10_000)
    args = parser.parse_args()
    n = args.articles
    load = Path("/proc/loadavg").read_text().split()[:3]
    with tempfile.TemporaryDirectory() as tmp, FakeChatServer() as server:
        server.add_responder("Extraction", responder)
        data, out = Path(tmp) / "data", Path(tmp) / "out"
        make_articles(data, n)
        endpoint = ["--base-url", server.base_url, "--model", "bench", "--mode", "tools"]
        prep, said = timed([*ANNOTATE, "batch", "prepare", str(data), "--out", str(out), *endpoint])
        batch_dir = out / "data" / "batch"
        files = sorted(batch_dir.glob("requests*.jsonl"))
        sizes = ", ".join(f"{p.name} {p.stat().st_size / 1e6:.1f} MB" for p in files)
        print(f"articles={n}; load average {' '.join(load)}")
        print(f"prepare: {prep:.2f}s; {sizes}; {said.splitlines()[0]}")

        results = Path(tmp) / "results.jsonl"
        with results.open("w", encoding="utf-8") as fh:
            for f in files:
                for i, line in enumerate(f.read_text(encoding="utf-8").splitlines()):
                    fh.write(result_line(i, json.loads(line)) + "\n")
        print(f"results file (run_batch format): {results.stat().st_size / 1e6:.1f} MB")
        run_dir = out / "data"
        collect_s, said = timed(
            [*ANNOTATE, "batch", "collect", str(run_dir), "--results", str(results), "--no-live"]
        )
        print(f"collect --results --no-live: {collect_s:.2f}s; {said.splitlines()[-1]}")
        calls = len(server.chat_requests())
        run_s, _ = timed([*ANNOTATE, "run", str(data), "--out", str(out), *endpoint, "-q"])
        print(
            f"run from the cache: {run_s:.2f}s with {len(server.chat_requests()) - calls} "
            f"model calls; collect + run {collect_s + run_s:.2f}s"
        )


if __name__ == "__main__":
    main()
