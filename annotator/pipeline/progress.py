"""Progress display for long runs: a rich bar on a terminal, nothing otherwise."""

from __future__ import annotations

from typing import Protocol

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


class ProgressSink(Protocol):
    def start(self, total: int) -> None: ...
    def advance(self, status: str, tokens: int) -> None: ...
    def stop(self) -> None: ...


class NoProgress:
    def start(self, total: int) -> None:
        pass

    def advance(self, status: str, tokens: int) -> None:
        pass

    def stop(self) -> None:
        pass


class RichProgress:
    """done / failed / cached counts and tokens used, on stderr."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.counts = {"done": 0, "partial": 0, "failed": 0, "cached": 0}
        self.tokens = 0
        self._progress = Progress(
            TextColumn("[bold]annotating"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[stats]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        )
        self._task = self._progress.add_task("articles", total=0, stats="")

    def _stats(self) -> str:
        c = self.counts
        partial = f"  partial {c['partial']}" if c["partial"] else ""
        return (
            f"done {c['done']}{partial}  failed {c['failed']}  cached {c['cached']}  "
            f"tokens {self.tokens:,}"
        )

    def start(self, total: int) -> None:
        self._progress.update(self._task, total=total, stats=self._stats())
        self._progress.start()

    def advance(self, status: str, tokens: int) -> None:
        key = {"cached": "cached", "partial": "partial", "failed": "failed"}.get(status, "done")
        self.counts[key] += 1
        self.tokens += tokens
        self._progress.update(self._task, advance=1, stats=self._stats())

    def stop(self) -> None:
        self._progress.stop()


def make_progress(console: Console, enabled: bool = True) -> ProgressSink:
    return RichProgress(console) if enabled and console.is_terminal else NoProgress()
