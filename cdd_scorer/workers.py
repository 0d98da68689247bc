"""Reading input files in worker processes, so that a crash in a native reader costs one file, not the batch.

python-calamine is Rust: an allocation failure aborts the whole process instead of raising, and a hostile
file can make it try. ``WorkerReader`` is a ``round.Reader`` that reads each file in one of ``jobs``
worker processes started with "spawn" on every OS (so Linux tests what Windows does). Each worker has a
memory limit where the OS offers one (``RLIMIT_AS`` on Linux, a Job Object on Windows: ``winlimits``;
macOS may refuse ``RLIMIT_AS``) and each file a time limit. A worker that dies or overruns is replaced; its
file gets a ``reader_crashed`` or ``read_timeout`` problem, which quotes the memory limit only when it
applied and names the district whose hidden metadata sheet can still be read safely (``identity``), and
the batch goes on. Results come back in input order,
so two runs over the same folder give the same outputs.

A worker costs about 0.2 s to start, so by default there is one per ``FILES_PER_WORKER`` files (a province
of 32 districts gets one), and each holds a few files in hand so it never waits for this process between
two files.
"""

from __future__ import annotations

import math
import os
import signal
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing import get_context
from multiprocessing.connection import Connection, wait
from pathlib import Path

from cdd_scorer import winlimits
from cdd_scorer.identity import attributed_file
from cdd_scorer.kpi import KpiSet
from cdd_scorer.parallel import worker_count
from cdd_scorer.problems import Problem
from cdd_scorer.reading import FileOutcome, read_input_file
from cdd_scorer.safety import DEFAULT_LIMITS, MB, SafetyLimits

try:
    import resource
except ImportError:  # Windows
    resource = None

ReadFile = Callable[[Path, str, KpiSet, SafetyLimits], FileOutcome]
FILES_PER_WORKER = 50
_READY = "ready"
_MAX_START_FAILURES = 3
_IN_HAND = 3
NO_MEMORY_LIMIT = "no limit"  # what a crash message quotes as the memory limit where none applied
# Windows exit codes of a process that crashed (NTSTATUS); calamine's abort is a fast fail.
_WINDOWS_CRASHES = {0xC0000005: "STATUS_ACCESS_VIOLATION", 0xC0000017: "STATUS_NO_MEMORY",
                    0xC00000FD: "STATUS_STACK_OVERFLOW", 0xC0000409: "STATUS_STACK_BUFFER_OVERRUN: abort"}
_HANDLES_PER_WORKER = 2  # its pipe and its process sentinel, both passed to wait(): 31 workers on Windows


@dataclass(frozen=True)
class WorkerLimits:
    """Per-file time limit and per-worker memory (``None`` = no limit)."""

    seconds_per_file: float = 60.0
    memory_bytes: int | None = 768 * MB


@dataclass(frozen=True)
class WorkerReader:
    """Read files in ``jobs`` worker processes (never more than files; default: one per
    ``FILES_PER_WORKER`` files, at most one per core); ``jobs=0`` reads in this process (same safety
    checks, but no protection from a native crash).

    ``read_file`` is what a worker runs per file; it must be a top-level function (it is pickled by
    name), which is also how tests inject a crash.
    """

    jobs: int | None = None
    limits: WorkerLimits = field(default_factory=WorkerLimits)
    safety: SafetyLimits = DEFAULT_LIMITS
    read_file: ReadFile = read_input_file

    def __call__(self, files: Iterable[tuple[Path, str]], kpi_set: KpiSet) -> Iterator[FileOutcome]:
        tasks = list(files)
        if self.jobs == 0:
            yield from (self.read_file(path, name, kpi_set, self.safety) for path, name in tasks)
            return
        if not tasks:
            return
        count = worker_count(self.jobs, len(tasks) if self.jobs else math.ceil(len(tasks) / FILES_PER_WORKER),
                             handles_per_worker=_HANDLES_PER_WORKER, own_handles=0)
        pool = _Pool(count, (kpi_set, self.limits, self.safety, self.read_file))
        try:
            yield from pool.run(tasks, self.limits)
        finally:
            pool.close()


def read_in_worker(conn: Connection, kpi_set: KpiSet, limits: WorkerLimits, safety: SafetyLimits,
                   read_file: ReadFile) -> None:
    """A worker's life: limit itself, say which memory limit applies, then read the files it is sent, one
    answer per file, until told to stop."""
    _silence_stderr()
    memory = limit_memory(limits.memory_bytes)
    conn.send((_READY, memory))
    while (task := conn.recv()) is not None:
        path, name = task
        conn.send(_read_contained(read_file, path, name, kpi_set, memory, safety))


def _read_contained(read_file: ReadFile, path: Path, name: str, kpi_set: KpiSet, memory: str,
                    safety: SafetyLimits) -> FileOutcome:
    """Any exception, including a Rust panic (a ``BaseException``), becomes this file's problem, on the
    district its metadata names (the memory the reader took is free again by then)."""
    try:
        return read_file(path, name, kpi_set, safety)
    except MemoryError:
        problem = Problem("reader_crashed", file=name, params={"detail": "out of memory", "memory": memory})
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # noqa: BLE001 — one file's failure must never stop the worker
        detail = f"{type(exc).__name__}: {exc}".splitlines()[0][:200]
        problem = Problem("read_failed", file=name, params={"detail": detail})
    return FileOutcome.unread(attributed_file(problem, path, safety))


def _silence_stderr() -> None:
    """A native crash prints a backtrace to stderr; the clerk gets the problem row instead."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)
    sys.stderr = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 — lives as long as the worker


def limit_memory(limit: int | None) -> str:
    """Limit this process's memory to ``limit`` bytes where the OS allows it; the limit as a crash message
    quotes it (``NO_MEMORY_LIMIT`` when none applies)."""
    if limit is None:
        return NO_MEMORY_LIMIT
    applied = winlimits.limit_this_process(limit) if os.name == "nt" else _limit_address_space(limit)
    return f"{limit // MB:,} MB" if applied else NO_MEMORY_LIMIT


def _limit_address_space(limit: int) -> bool:
    if resource is None:
        return False
    try:
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        soft = limit if hard == resource.RLIM_INFINITY else min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
    except (ValueError, OSError):  # macOS may refuse RLIMIT_AS; the time limit still applies
        return False
    return True


@contextmanager
def _main_script_hidden(read_file: ReadFile) -> Iterator[None]:
    """"spawn" runs the parent's main script again in each worker so that functions defined there can be
    unpickled. Under the ``cdd-scorer`` console script that imports the whole CLI (pandas, openpyxl,
    xlsxwriter: ≈ 0.7 s per worker); workers need none of it, unless ``read_file`` itself lives there."""
    main = sys.modules.get("__main__")
    script = getattr(main, "__file__", None)
    if script is None or getattr(read_file, "__module__", None) == "__main__":
        yield
        return
    del main.__file__
    try:
        yield
    finally:
        main.__file__ = script


class _Worker:
    def __init__(self, context, setup: tuple) -> None:
        self.conn, child = context.Pipe()
        self.process = context.Process(target=read_in_worker, args=(child, *setup), daemon=True,
                                       name="cdd-scorer-reader")
        with _main_script_hidden(setup[-1]):
            self.process.start()
        child.close()
        self.ready = False
        self.memory = NO_MEMORY_LIMIT  # the memory limit it reports once ready
        self.tasks: deque[tuple[int, str]] = deque()  # sent, not answered yet, in the order sent
        self.deadline = 0.0

    def give(self, index: int, path: Path, name: str, seconds: float) -> None:
        self.conn.send((path, name))
        if not self.tasks:
            self.deadline = time.monotonic() + seconds
        self.tasks.append((index, name))

    def answered(self, seconds: float) -> int:
        """The index of the file just answered; the next file's time starts now."""
        index, _ = self.tasks.popleft()
        self.deadline = time.monotonic() + seconds
        return index

    def send_stop(self) -> None:
        try:
            if self.process.is_alive():
                self.conn.send(None)
        except OSError:
            pass

    def finish(self) -> None:
        """Wait briefly for the worker to leave after ``send_stop``, then make sure it is gone."""
        self.process.join(timeout=2)
        self.kill()

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join()
        self.conn.close()


class _Pool:
    """Workers handed a few files at a time; a dead or late worker is replaced, the file it was reading
    explained and the files it still held handed out again."""

    def __init__(self, count: int, setup: tuple) -> None:
        self.context = get_context("spawn")
        self.setup = setup
        _, _, self.safety, _ = setup  # (kpi_set, limits, safety, read_file), as read_in_worker takes them
        self.workers = [_Worker(self.context, setup) for _ in range(count)]
        self.start_failures = 0

    def run(self, tasks: list[tuple[Path, str]], limits: WorkerLimits) -> Iterator[FileOutcome]:
        queue = deque(enumerate(tasks))
        results: dict[int, FileOutcome] = {}
        next_out = 0
        while next_out < len(tasks):
            for worker in self.workers:
                while worker.ready and len(worker.tasks) < _IN_HAND and queue:
                    index, (path, name) = queue.popleft()
                    worker.give(index, path, name, limits.seconds_per_file)
            self._collect(results, queue, tasks, limits)
            if self.start_failures > _MAX_START_FAILURES:
                for index, (_, name) in queue:
                    results[index] = FileOutcome.unread(Problem("reader_crashed", file=name, params={
                        "detail": "the reader process could not start", "memory": NO_MEMORY_LIMIT}))
                queue.clear()
            while next_out in results:
                yield results.pop(next_out)
                next_out += 1

    def _collect(self, results: dict[int, FileOutcome], queue: deque, tasks: list[tuple[Path, str]],
                 limits: WorkerLimits) -> None:
        busy = [w.deadline for w in self.workers if w.tasks]
        timeout = max(0.0, min(busy) - time.monotonic()) if busy else None
        ready = set(wait([w.conn for w in self.workers] + [w.process.sentinel for w in self.workers],
                         timeout))
        for worker in list(self.workers):
            if worker.conn in ready or worker.process.sentinel in ready:
                try:
                    message = worker.conn.recv()
                except (EOFError, OSError):
                    worker.process.join(timeout=5)  # the pipe closes before the exit status is known
                    self._replace(worker, results, queue, tasks, "reader_crashed",
                                  {"detail": _exit_text(worker.process.exitcode), "memory": worker.memory})
                    continue
                if isinstance(message, tuple) and message[0] == _READY:
                    worker.ready, worker.memory = True, message[1]
                elif worker.tasks:
                    results[worker.answered(limits.seconds_per_file)] = message
            elif worker.tasks and time.monotonic() >= worker.deadline:
                self._replace(worker, results, queue, tasks, "read_timeout",
                              {"seconds": f"{limits.seconds_per_file:g}"})

    def _replace(self, worker: _Worker, results: dict[int, FileOutcome], queue: deque, tasks: list[tuple[Path, str]],
                 code: str, params: dict) -> None:
        worker.kill()
        if worker.tasks:
            index, name = worker.tasks.popleft()
            problem = Problem(code, file=name, params=params)
            results[index] = FileOutcome.unread(attributed_file(problem, tasks[index][0], self.safety))
            queue.extendleft((i, tasks[i]) for i, _ in reversed(worker.tasks))
        elif not worker.ready:
            self.start_failures += 1
        self.workers[self.workers.index(worker)] = _Worker(self.context, self.setup)

    def close(self) -> None:
        for worker in self.workers:
            worker.send_stop()  # all at once: they leave in parallel
        for worker in self.workers:
            worker.finish()


def _exit_text(exitcode: int | None) -> str:
    """How a worker ended: the signal that stopped it (POSIX), the crash status Windows gives (e.g.
    ``stopped by 0xC0000409 STATUS_STACK_BUFFER_OVERRUN: abort``), else its exit code."""
    if exitcode is not None and exitcode < 0:
        try:
            return f"stopped by {signal.Signals(-exitcode).name}"
        except ValueError:
            pass
    if exitcode is not None and exitcode >= 0xC0000000:
        return f"stopped by 0x{exitcode:08X} {_WINDOWS_CRASHES.get(exitcode, 'crash')}"
    return f"exit code {exitcode}"
