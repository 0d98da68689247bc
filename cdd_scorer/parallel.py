"""Running independent pieces of work in worker processes, the same way on every OS.

Workers are started with "spawn" everywhere (Windows has nothing else, so Linux tests what Windows
does): the function must be a top-level function and its arguments small and picklable. On Windows a
parent watches its workers with one ``WaitForMultipleObjects`` call, which takes at most 63 handles:
``worker_count`` never asks for more workers than that allows.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from typing import TypeVar

Task = TypeVar("Task")
Result = TypeVar("Result")
Item = TypeVar("Item")

# Handles one WaitForMultipleObjects call accepts in Python (MAXIMUM_WAIT_OBJECTS 64, less one it keeps).
WINDOWS_MAX_WAIT_HANDLES = 63
# ProcessPoolExecutor waits on one handle per worker and two of its own: at most 61 workers on Windows.
POOL_HANDLES_PER_WORKER, POOL_OWN_HANDLES = 1, 2


def available_cores() -> int:
    """The cores this process may run on (all of them unless the OS restricts it)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


def worker_count(jobs: int | None, tasks: int, handles_per_worker: int = POOL_HANDLES_PER_WORKER,
                 own_handles: int = POOL_OWN_HANDLES) -> int:
    """``jobs`` workers (default: one per core), never more than there are tasks nor than
    ``most_workers`` allows, at least one."""
    return max(1, min(jobs or available_cores(), tasks, most_workers(handles_per_worker, own_handles)))


def most_workers(handles_per_worker: int = POOL_HANDLES_PER_WORKER, own_handles: int = POOL_OWN_HANDLES) -> int:
    """How many workers one wait can watch when each needs ``handles_per_worker`` handles and the parent
    ``own_handles`` more: on Windows 61 for ``map_in_processes``; elsewhere no limit (``sys.maxsize``)."""
    if os.name != "nt":
        return sys.maxsize
    return (WINDOWS_MAX_WAIT_HANDLES - own_handles) // handles_per_worker


def split(items: Sequence[Item], parts: int) -> list[Sequence[Item]]:
    """``items`` cut into at most ``parts`` consecutive pieces of nearly equal length, in order."""
    parts = max(1, min(parts, len(items)))
    size, extra = divmod(len(items), parts)
    bounds = [i * size + min(i, extra) for i in range(parts + 1)]
    return [items[start:end] for start, end in zip(bounds, bounds[1:])]


def map_in_processes(function: Callable[[Task], Result], tasks: Iterable[Task], workers: int) -> Iterator[Result]:
    """``function`` over ``tasks`` in ``workers`` spawned processes; results come back in task order.

    An exception raised by a task is raised here, and the tasks not yet started are cancelled. Workers
    ignore Ctrl-C: this process receives it too, stops handing out tasks and reports it once.
    """
    with ProcessPoolExecutor(max_workers=min(workers, most_workers()), mp_context=get_context("spawn"),
                             initializer=_ignore_ctrl_c) as pool:
        futures = [pool.submit(function, task) for task in tasks]
        try:
            for future in futures:
                yield future.result()
        finally:
            for future in futures:
                future.cancel()


def _ignore_ctrl_c() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
