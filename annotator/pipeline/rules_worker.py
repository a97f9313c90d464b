"""Run the offline rules backend in worker processes, each article within a time budget.

A regular expression runs in C while holding the GIL, so a thread cannot stop one and an
event loop cannot even notice; a separate process can simply be killed. Workers are
forked from a forkserver (one interpreter that has already imported the rules modules),
so a worker costs milliseconds, and the one that overran its budget is replaced.
"""

from __future__ import annotations

import importlib
import multiprocessing
import multiprocessing.connection
import threading
from collections.abc import Callable
from typing import Any

from annotator.core.errors import AnnotatorError
from annotator.extract.schema import Extraction
from annotator.load.articles import Article

DEFAULT_TARGET = "annotator.extract.rules.extract:extract_rules"


class BudgetExceeded(AnnotatorError):
    """One article took longer than its time budget; its worker was stopped."""


def _resolve(target: str) -> Callable[[Article], Extraction]:
    module, _, name = target.partition(":")
    fn: Callable[[Article], Extraction] = getattr(importlib.import_module(module), name)
    return fn


def _serve(conn: multiprocessing.connection.Connection, target: str) -> None:
    extract = _resolve(target)
    while True:
        try:
            article = conn.recv()
        except EOFError:
            return
        try:
            conn.send(("ok", extract(article).model_dump(mode="json")))
        except Exception as exc:  # reported as the article's error; the worker lives on
            conn.send(("error", f"{type(exc).__name__}: {' '.join(str(exc).split())}"))


class _Worker:
    def __init__(self, ctx: Any, target: str) -> None:
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_serve, args=(child, target), daemon=True)
        self.process.start()
        child.close()

    def stop(self) -> None:
        self.conn.close()
        if self.process.is_alive():
            self.process.kill()
        self.process.join(timeout=5)


class RulesWorkerPool:
    """`extract(article)` runs the rules extractor in a worker process and raises
    `BudgetExceeded` when it takes longer than `budget` seconds. Thread-safe."""

    def __init__(self, *, budget: float, target: str = DEFAULT_TARGET) -> None:
        self.budget = budget
        self.target = target
        self._ctx = multiprocessing.get_context("forkserver")
        self._ctx.set_forkserver_preload([target.partition(":")[0]])
        self._idle: list[_Worker] = []
        self._lock = threading.Lock()
        self._closed = False

    def _take(self) -> _Worker:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        return _Worker(self._ctx, self.target)

    def _give_back(self, worker: _Worker) -> None:
        with self._lock:
            if not self._closed:
                self._idle.append(worker)
                return
        worker.stop()

    def extract(self, article: Article) -> Extraction:
        worker = self._take()
        try:
            worker.conn.send(article)
            if not worker.conn.poll(self.budget):
                worker.stop()
                raise BudgetExceeded(
                    f"rules backend stopped after its {self.budget:g} s time budget "
                    f"({len(article.text):,} characters); the article is not annotated"
                )
            kind, value = worker.conn.recv()
        except (EOFError, OSError) as exc:
            worker.stop()
            raise AnnotatorError(
                f"rules worker process died: {exc or type(exc).__name__}"
            ) from None
        self._give_back(worker)
        if kind == "error":
            raise AnnotatorError(f"rules backend failed: {value}")
        return Extraction.model_validate(value)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.stop()
