"""Running independent pieces of work in worker processes, the same way on every OS.

Workers are started with "spawn" everywhere (Windows has nothing else, so Linux tests what Windows
does): the function must be a top-level function and its arguments small and picklable.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from typing import TypeVar

Task = TypeVar("Task")
Result = TypeVar("Result")
Item = TypeVar("Item")


def available_cores() -> int:
    """The cores this process may run on (all of them unless the OS restricts it)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


def worker_count(jobs: int | None, tasks: int) -> int:
    """``jobs`` workers (default: one per core), never more than there are tasks, at least one."""
    return max(1, min(jobs or available_cores(), tasks))


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
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn"), initializer=_ignore_ctrl_c) as pool:
        futures = [pool.submit(function, task) for task in tasks]
        try:
            for future in futures:
                yield future.result()
        finally:
            for future in futures:
                future.cancel()


def _ignore_ctrl_c() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
