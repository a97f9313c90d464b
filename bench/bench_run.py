"""Throughput of `annotate run` against a local stub endpoint with a fixed latency.

    .venv/bin/python bench/bench_run.py [--articles 40] [--latency 0.5] [--concurrency 8]
    .venv/bin/python bench/bench_run.py --scaling [--latency 0.5] [--levels 8,64,128]

Measures (1) the wall time of N articles at concurrency C against the ideal
N x latency / C (one model call per article), plus the process start-up time measured
alone, and (2) a fully cached re-run of the same articles (zero model calls expected).
With --scaling: for each concurrency C, cold runs of N=80 and N=400 distinct articles;
wall time against the ideal ceil(N/C) x latency, and the marginal cost per call as the
slope between the two runs (start-up cancels out) against the ideal slope.
Not a test: it prints figures.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fake_llm import FakeChatServer, messages_text  # noqa: E402

ANNOTATE = [sys.executable, "-m", "annotator"]


def make_articles(folder: Path, n: int) -> None:
    folder.mkdir(parents=True)
    for i in range(n):
        (folder / f"article_{i:04d}.txt").write_text(
            f"# Bridge {i} Opens\n\nCity officials said on Monday that bridge number {i} "
            f"will open to traffic in May, according to the Daily Ledger. A spokesman "
            f"for the transport ministry denied that the bridge {i} had failed inspection.\n",
            encoding="utf-8",
        )


def responder(body: dict[str, Any]) -> dict[str, Any]:
    text = messages_text(body)
    m = re.search(r"bridge number (\d+)", text)
    n = m.group(1) if m else "0"
    return {
        "speakers": [
            {
                "id": "p1",
                "name": "a spokesman",
                "role": "spokesman",
                "affiliation": "transport ministry",
            }
        ],
        "sources": [{"id": "s1", "name": "Daily Ledger", "kind": "news_outlet"}],
        "claims": [
            {
                "statement": f"Bridge {n} will open to traffic in May.",
                "quote": f"bridge number {n} will open to traffic in May",
                "speaker": None,
                "sources": ["s1"],
                "stance": "confirm",
            },
            {
                "statement": f"Bridge {n} failed inspection.",
                "quote": f"denied that the bridge {n} had failed inspection",
                "speaker": "p1",
                "sources": [],
                "stance": "deny",
            },
        ],
    }


def timed(args: list[str]) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(args, capture_output=True, text=True, cwd=ROOT)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"annotate failed ({proc.returncode}):\n{proc.stderr}")
    return elapsed


def run_cmd(data: Path, out: Path, base_url: str, concurrency: int) -> list[str]:
    return [
        *ANNOTATE,
        "run",
        str(data),
        "--out",
        str(out),
        "--base-url",
        base_url,
        "--model",
        "bench",
        "--mode",
        "tools",
        "--concurrency",
        str(concurrency),
        "-q",
    ]


class TimedServer(FakeChatServer):
    """The stub, noting when it sent its last answer (to split a run's wall time into
    the request phase and the end of the run: reconcile, report, manifest, exit)."""

    last_answer = 0.0

    def answer(self, body: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
        out = super().answer(body)
        self.last_answer = time.perf_counter()
        return out


def timed_phases(args: list[str], server: TimedServer) -> tuple[float, float]:
    """(wall time, time from start to the stub's last answer)."""
    t0 = time.perf_counter()
    wall = timed(args)
    return wall, server.last_answer - t0


def scaling(latency: float, levels: list[int], sizes: tuple[int, int] = (80, 400)) -> None:
    """Wall time and marginal cost per call at each concurrency."""
    small, large = sizes
    with tempfile.TemporaryDirectory() as tmp, TimedServer(latency=latency) as server:
        server.add_responder("Extraction", responder)
        for n in sizes:
            make_articles(Path(tmp) / f"data{n}", n)
        print(f"latency={latency}s sizes N={small},{large}; load average {_load()}")
        for c in levels:
            walls, answered = {}, {}
            for n in sizes:
                server.max_in_flight = 0
                out = Path(tmp) / f"out_c{c}_n{n}"  # fresh output and cache: all calls live
                cmd = run_cmd(Path(tmp) / f"data{n}", out, server.base_url, c)
                walls[n], answered[n] = timed_phases(cmd, server)
                ideal = -(-n // c) * latency
                print(
                    f"C={c:<4d} N={n:<4d} wall {walls[n]:6.2f}s  ideal ceil(N/C)*lat "
                    f"{ideal:5.2f}s  last answer at {answered[n]:6.2f}s  "
                    f"max in flight {server.max_in_flight}"
                )
            ideal_slope = (-(-large // c) - -(-small // c)) * latency / (large - small)
            for what, times in (("wall", walls), ("to last answer", answered)):
                slope = (times[large] - times[small]) / (large - small)
                print(
                    f"C={c:<4d} marginal cost per call ({what}) {1000 * slope:6.2f} ms; ideal "
                    f"{1000 * ideal_slope:6.2f} ms; over ideal "
                    f"{100 * (slope / ideal_slope - 1):+.1f}%"
                )


def _load() -> str:
    try:
        return Path("/proc/loadavg").read_text().split(" ", 3)[:3].__str__()
    except OSError:
        return "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--articles", type=int, default=40)
    parser.add_argument("--latency", type=float, default=0.5)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--scaling", action="store_true", help="N=80/400 at each --levels")
    parser.add_argument("--levels", default="8,64,128", help="concurrencies for --scaling")
    args = parser.parse_args()
    if args.scaling:
        scaling(args.latency, [int(x) for x in args.levels.split(",")])
        return
    n, lat, c = args.articles, args.latency, args.concurrency

    cli_start = min(timed([*ANNOTATE, "--help"]) for _ in range(3))
    with tempfile.TemporaryDirectory() as tmp, FakeChatServer(latency=0.0) as server:
        server.add_responder("Extraction", responder)
        one = Path(tmp) / "one"
        make_articles(one, 1)
        # Fixed cost of a model run: process start, loading the openai + instructor stack
        # (about 1 s of imports in openai 3.x), the first request's lazy imports, writing,
        # reconciling. Measured as a whole one-article run at zero latency, fresh cache.
        startup = min(
            timed(
                [
                    *ANNOTATE,
                    "run",
                    str(one),
                    "--out",
                    str(Path(tmp) / f"o{i}"),
                    "--base-url",
                    server.base_url,
                    "--model",
                    "bench",
                    "--mode",
                    "tools",
                    "-q",
                ]
            )
            for i in range(3)
        )
        server.latency = lat
        data, out = Path(tmp) / "data", Path(tmp) / "out"
        make_articles(data, n)
        cmd = [
            *ANNOTATE,
            "run",
            str(data),
            "--out",
            str(out),
            "--base-url",
            server.base_url,
            "--model",
            "bench",
            "--mode",
            "tools",
            "--concurrency",
            str(c),
            "-q",
        ]
        calls0 = len(server.chat_requests())
        cold = timed(cmd)
        calls = len(server.chat_requests()) - calls0
        warm = timed(cmd)
        warm_calls = len(server.chat_requests()) - calls0 - calls

    ideal = n * lat / c
    waves = -(-n // c) * lat  # whole batches of C: the floor when N is not a multiple of C
    print(f"articles={n} latency={lat}s concurrency={c} model_calls={calls}")
    print(
        f"start-up, best of 3: `annotate --help` {cli_start:.2f}s; whole 1-article model "
        f"run at zero latency (fixed cost) {startup:.2f}s"
    )
    over = 100 * (cold / (ideal + startup) - 1)
    print(
        f"cold run: {cold:.2f}s; ideal N*latency/C = {ideal:.2f}s (+ start-up = "
        f"{ideal + startup:.2f}s); over ideal+start-up: {over:+.1f}%"
    )
    print(f"  (ceil(N/C) * latency = {waves:.2f}s)")
    print(f"fully cached re-run: {warm:.2f}s with {warm_calls} model calls")


if __name__ == "__main__":
    main()
