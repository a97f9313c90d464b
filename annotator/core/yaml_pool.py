"""Parse and write many YAML documents on every core: a large folder of records, a large
event summary.

PyYAML's constructor and representer are Python, and they are most of the time of
loading 100,000 claim records (about 6 s of 36 MB) and of writing their summary (about 7
s). Each document is parsed (or written) on its own, so the work splits into chunks that
worker processes do at once; the results come back in input order, byte for byte what
one process gives. Workers are spawned, never forked (the parent may hold threads: the
tokeniser's, the HTTP client's), and only for inputs large enough to repay their start
(about 0.2 s); small inputs, one core, or `ANNOTATE_WORKERS=1` stay in this process.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from typing import Any

from annotator.core.yamlio import dump_yaml, load_yaml

__all__ = ["YamlWorkers", "workers"]

POOL_MIN_BYTES = 8_000_000  # YAML text below which one process is quicker
CHUNKS_PER_WORKER = 8  # chunks per worker: evens out documents of different sizes


def workers() -> int:
    """Worker processes for large inputs: `ANNOTATE_WORKERS`, else the usable cores."""
    value = os.environ.get("ANNOTATE_WORKERS", "").strip()
    if value.isdigit() and int(value) >= 1:
        return int(value)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


class YamlWorkers:
    """Worker processes for YAML, started at the first large request and kept for the
    next (a folder read in blocks); one process where workers would not repay their
    start. Use as a context manager."""

    def __init__(self) -> None:
        self._n = workers()
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> YamlWorkers:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None

    def load(self, texts: Sequence[str]) -> list[Any | None]:
        """Each text parsed as YAML, in order; None where it does not parse (the caller
        parses that one again itself, for the error and its line)."""
        if self._serial(len(texts), sum(len(t) for t in texts)):
            return [_parse(t) for t in texts]
        return self._map(_parse_chunk, list(texts))

    def dump(self, items: Sequence[Any], size_hint: int) -> list[str]:
        """Each item as YAML text (`dump_yaml`), in order. `size_hint`: about how many
        bytes the texts will take, to decide whether workers repay their start."""
        if self._serial(len(items), size_hint):
            return [dump_yaml(x) for x in items]
        return self._map(_dump_chunk, list(items))

    def _serial(self, count: int, size: int) -> bool:
        return count < 2 or self._n < 2 or (size < POOL_MIN_BYTES and self._pool is None)

    def _map(self, task: Any, items: list[Any]) -> list[Any]:
        if self._pool is None:
            context = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(max_workers=self._n, mp_context=context)
        size = max(1, -(-len(items) // (self._n * CHUNKS_PER_WORKER)))
        chunks = [items[k : k + size] for k in range(0, len(items), size)]
        return [x for part in self._pool.map(task, chunks) for x in part]


def _parse(text: str) -> Any | None:
    try:
        return load_yaml(text)
    except Exception:
        return None


def _parse_chunk(texts: list[str]) -> list[Any | None]:
    with _paused_gc():  # many small containers, none cyclic: the collector only costs
        return [_parse(t) for t in texts]


def _dump_chunk(items: list[Any]) -> list[str]:
    with _paused_gc():
        return [dump_yaml(x) for x in items]


@contextmanager
def _paused_gc() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
