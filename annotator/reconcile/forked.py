"""A pure loop's second half done at once in a forked child process, on another core.

Reconcile's statement features and pair scores are pure Python over data already in
memory. A forked child sees that data without a copy (copy on write), does the second
half and sends back only its result, pickled, while this process does the first half.
Fork, not spawn: a spawned worker would need all that data pickled across, which for
100k statements costs more than the half saves.

Only where it is safe and pays: on Linux, for loops of at least `min_items`, with free
memory at least this process's resident size, and never with `ANNOTATE_WORKERS=1`. The
child starts no thread and takes no lock that a thread of this process may hold (the
tokeniser's, the HTTP client's): it runs the loop, writes to a pipe and leaves by
`os._exit`, so no exit handler or buffered output of this process runs twice; it writes
nothing else, not even a warning. If the child fails in any way, or is still not done
well after this process has done its own half (stuck, or starved of CPU), it is killed
and this process does that half itself: the same result, later. Interrupted here, the
child is killed and reaped.
"""

from __future__ import annotations

import gc
import os
import pickle
import selectors
import signal
import sys
import time
import warnings
from collections.abc import Callable
from typing import TypeVar

from annotator.core.yaml_pool import workers

__all__ = ["in_two"]

T = TypeVar("T")

# how long this process waits for the child once its own half is done: PATIENCE x the
# time its half took, and at least PATIENCE_MIN seconds
PATIENCE = 3.0
PATIENCE_MIN = 10.0


def in_two(n: int, work: Callable[[int, int], T], min_items: int) -> list[T]:
    """`[work(0, n)]`, or `[work(0, mid), work(mid, n)]` with the second done by a
    forked child at the same time. `work(lo, hi)` must be pure (what it changes in
    memory is lost in the child) and its result picklable."""
    if n < max(2, min_items) or not _can_fork():
        return [work(0, n)]
    mid = n // 2
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        os.close(read_end)
        _child(write_end, lambda: work(mid, n))
    os.close(write_end)
    data = None
    try:
        started = time.monotonic()
        first = work(0, mid)
        # the child's half is as long as this one: a child far later than that is stuck
        # (or starved of CPU), and this process does its half rather than wait for ever
        patience = max(PATIENCE_MIN, PATIENCE * (time.monotonic() - started))
        data = _read_all(read_end, time.monotonic() + patience)
    finally:
        os.close(read_end)
        if data is None:  # interrupted, failed or out of patience: the child is killed
            os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
    if data and os.waitstatus_to_exitcode(status) == 0:
        return [first, pickle.loads(data)]
    return [first, work(mid, n)]  # the child failed: its half here


def _read_all(fd: int, deadline: float) -> bytes | None:
    """All the pipe holds until the child closes it, or None at the deadline."""
    chunks: list[bytes] = []
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not selector.select(left):
                return None
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)


def _can_fork() -> bool:
    return (
        sys.platform.startswith("linux")
        and hasattr(os, "fork")
        and workers() > 1
        and _memory_to_spare()
    )


def _memory_to_spare() -> bool:
    """The machine has free memory at least this process's resident size: a child copies
    each page it writes to, and reading a Python object writes its reference count, so
    at worst it copies all of them (1M statements: 15 GB resident, and the child is
    not worth a swap)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            resident = next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            free = next(
                int(line.split()[1]) for line in meminfo if line.startswith("MemAvailable:")
            )
    except (OSError, StopIteration, ValueError, IndexError):
        return False
    return free >= resident


def _child(write_end: int, job: Callable[[], object]) -> None:
    code = 1
    try:
        gc.disable()  # short-lived: collecting would touch (and so copy) the parent's pages
        warnings.simplefilter("ignore")  # never write: a thread of the parent held stderr
        data = pickle.dumps(job(), protocol=pickle.HIGHEST_PROTOCOL)
        with os.fdopen(write_end, "wb") as pipe:
            pipe.write(data)
        code = 0
    except BaseException:  # any failure: the parent does this half
        code = 1
    finally:
        os._exit(code)
