"""Reading input files in worker processes, so that a crash in a native reader costs one file, not the batch.

python-calamine is Rust: an allocation failure aborts the whole process instead of raising, and a hostile
file can make it try. ``WorkerReader`` is a ``batch.Reader`` that reads each file in one of ``jobs``
worker processes started with "spawn" on every OS (so Linux tests what Windows does). Each worker has an
address-space limit where the OS offers one (``RLIMIT_AS`` on Linux; macOS may refuse it, Windows has no
such limit here) and each file a time limit. A worker that dies or overruns is replaced; its file gets a
``reader_crashed`` or ``read_timeout`` problem and the batch goes on. Results come back in input order,
so two runs over the same folder give the same outputs.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from multiprocessing import get_context
from multiprocessing.connection import Connection, wait
from pathlib import Path

from cdd_scorer.kpi import KpiSet
from cdd_scorer.parallel import worker_count
from cdd_scorer.problems import Problem
from cdd_scorer.reading import RawSubmission, read_input_file
from cdd_scorer.safety import DEFAULT_LIMITS, MB, SafetyLimits

try:
    import resource
except ImportError:  # Windows
    resource = None

Outcome = RawSubmission | list[Problem]
ReadFile = Callable[[Path, str, KpiSet, SafetyLimits], Outcome]
_READY = "ready"
_MAX_START_FAILURES = 3


@dataclass(frozen=True)
class WorkerLimits:
    """Per-file time limit and per-worker memory (address space; ``None`` = no limit)."""

    seconds_per_file: float = 60.0
    memory_bytes: int | None = 768 * MB

    @property
    def memory_text(self) -> str:
        return f"{self.memory_bytes // MB:,} MB" if self.memory_bytes else "-"


@dataclass(frozen=True)
class WorkerReader:
    """Read files in ``jobs`` worker processes (default: one per core, never more than files);
    ``jobs=0`` reads in this process (same safety checks, but no protection from a native crash).

    ``read_file`` is what a worker runs per file; it must be a top-level function (it is pickled by
    name), which is also how tests inject a crash.
    """

    jobs: int | None = None
    limits: WorkerLimits = field(default_factory=WorkerLimits)
    safety: SafetyLimits = DEFAULT_LIMITS
    read_file: ReadFile = read_input_file

    def __call__(self, files: Iterable[tuple[Path, str]], kpi_set: KpiSet) -> Iterator[Outcome]:
        tasks = list(files)
        if self.jobs == 0:
            yield from (self.read_file(path, name, kpi_set, self.safety) for path, name in tasks)
            return
        if not tasks:
            return
        count = worker_count(self.jobs, len(tasks))
        pool = _Pool(count, (kpi_set, self.limits, self.safety, self.read_file))
        try:
            yield from pool.run(tasks, self.limits)
        finally:
            pool.close()


def read_in_worker(conn: Connection, kpi_set: KpiSet, limits: WorkerLimits, safety: SafetyLimits,
                   read_file: ReadFile) -> None:
    """A worker's life: limit itself, then read one file per message until told to stop."""
    _silence_stderr()
    _limit_memory(limits.memory_bytes)
    conn.send(_READY)
    while (task := conn.recv()) is not None:
        path, name = task
        conn.send(_read_contained(read_file, path, name, kpi_set, limits, safety))


def _read_contained(read_file: ReadFile, path: Path, name: str, kpi_set: KpiSet, limits: WorkerLimits,
                    safety: SafetyLimits) -> Outcome:
    """Any exception, including a Rust panic (a ``BaseException``), becomes this file's problem."""
    try:
        return read_file(path, name, kpi_set, safety)
    except MemoryError:
        return [Problem("reader_crashed", file=name,
                        params={"detail": "out of memory", "memory": limits.memory_text})]
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # noqa: BLE001 — one file's failure must never stop the worker
        detail = f"{type(exc).__name__}: {exc}".splitlines()[0][:200]
        return [Problem("read_failed", file=name, params={"detail": detail})]


def _silence_stderr() -> None:
    """A native crash prints a backtrace to stderr; the clerk gets the problem row instead."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)
    sys.stderr = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 — lives as long as the worker


def _limit_memory(limit: int | None) -> None:
    if limit is None or resource is None:
        return
    try:
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        soft = limit if hard == resource.RLIM_INFINITY else min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
    except (ValueError, OSError):  # macOS may refuse RLIMIT_AS; the time limit still applies
        pass


class _Worker:
    def __init__(self, context, setup: tuple) -> None:
        self.conn, child = context.Pipe()
        self.process = context.Process(target=read_in_worker, args=(child, *setup), daemon=True,
                                       name="cdd-scorer-reader")
        self.process.start()
        child.close()
        self.ready = False
        self.task: tuple[int, str] | None = None
        self.deadline = 0.0

    def give(self, index: int, path: Path, name: str, seconds: float) -> None:
        self.conn.send((path, name))
        self.task = (index, name)
        self.deadline = time.monotonic() + seconds

    def stop(self) -> None:
        try:
            if self.process.is_alive():
                self.conn.send(None)
            self.process.join(timeout=2)
        except OSError:
            pass
        self.kill()

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join()
        self.conn.close()


class _Pool:
    """Workers handed one file at a time; a dead or late worker is replaced and its file explained."""

    def __init__(self, count: int, setup: tuple) -> None:
        self.context = get_context("spawn")
        self.setup = setup
        self.workers = [_Worker(self.context, setup) for _ in range(count)]
        self.start_failures = 0

    def run(self, tasks: list[tuple[Path, str]], limits: WorkerLimits) -> Iterator[Outcome]:
        queue = deque(enumerate(tasks))
        results: dict[int, Outcome] = {}
        next_out = 0
        while next_out < len(tasks):
            for worker in self.workers:
                if worker.ready and worker.task is None and queue:
                    index, (path, name) = queue.popleft()
                    worker.give(index, path, name, limits.seconds_per_file)
            self._collect(results, limits)
            if self.start_failures > _MAX_START_FAILURES:
                for index, (_, name) in queue:
                    results[index] = [Problem("reader_crashed", file=name, params={
                        "detail": "the reader process could not start", "memory": limits.memory_text})]
                queue.clear()
            while next_out in results:
                yield results.pop(next_out)
                next_out += 1

    def _collect(self, results: dict[int, Outcome], limits: WorkerLimits) -> None:
        busy = [w.deadline for w in self.workers if w.task]
        timeout = max(0.0, min(busy) - time.monotonic()) if busy else None
        ready = set(wait([w.conn for w in self.workers] + [w.process.sentinel for w in self.workers],
                         timeout))
        for worker in list(self.workers):
            if worker.conn in ready or worker.process.sentinel in ready:
                try:
                    message = worker.conn.recv()
                except (EOFError, OSError):
                    worker.process.join(timeout=5)  # the pipe closes before the exit status is known
                    self._replace(worker, results, "reader_crashed",
                                  {"detail": _exit_text(worker.process.exitcode), "memory": limits.memory_text})
                    continue
                if message == _READY:
                    worker.ready = True
                elif worker.task:
                    results[worker.task[0]] = message
                    worker.task = None
            elif worker.task and time.monotonic() >= worker.deadline:
                self._replace(worker, results, "read_timeout", {"seconds": f"{limits.seconds_per_file:g}"})

    def _replace(self, worker: _Worker, results: dict[int, Outcome], code: str, params: dict) -> None:
        worker.kill()
        if worker.task:
            index, name = worker.task
            results[index] = [Problem(code, file=name, params=params)]
        elif not worker.ready:
            self.start_failures += 1
        self.workers[self.workers.index(worker)] = _Worker(self.context, self.setup)

    def close(self) -> None:
        for worker in self.workers:
            worker.stop()


def _exit_text(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            return f"stopped by {signal.Signals(-exitcode).name}"
        except ValueError:
            pass
    return f"exit code {exitcode}"
