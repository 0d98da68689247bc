"""The clerk's Windows PC (issue 16), simulated on Linux CI: ANSI code pages on redirected output,
``os.name == "nt"`` limits, sharing violations raised by a patched ``os.replace``, system files in input/."""

from __future__ import annotations

import ctypes
import io
import os
import stat
import subprocess
import sys
import types
import zipfile
from concurrent.futures import Future
from multiprocessing.connection import wait as real_wait
from pathlib import Path

import pytest
from badfiles import read_or_crash, which_worker
from click.testing import CliRunner

import cdd_scorer
from cdd_scorer import input_files, parallel, winlimits, workers
from cdd_scorer.cli import main
from cdd_scorer.console import safe_stream
from cdd_scorer.input_files import list_input_files
from cdd_scorer.round import run_round
from cdd_scorer.safety import MB

PACKAGE_ROOT = Path(cdd_scorer.__file__).resolve().parents[1]
ANSI_CODE_PAGES = ("cp874", "cp1252")  # a Thai and an English Windows


@pytest.fixture(scope="module")
def round_folder(tmp_path_factory) -> Path:
    """A folder after ``cdd-scorer demo``: templates/, input/ and output/."""
    folder = tmp_path_factory.mktemp("round")
    result = CliRunner().invoke(main, ["demo", "--dir", str(folder)])
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(folder / "replies.zip", "w") as archive:
        for path in sorted((folder / "input").glob("*.xlsx"))[:2]:
            archive.write(path, path.name)
    return folder


def command_lines(folder: Path, work: Path) -> dict[str, list[str]]:
    """One run of every command, writing into ``work``."""
    return {
        "demo": ["demo", "--dir", str(work)],
        "generate": ["generate", "--province", "ขอนแก่น", "--out", str(work / "templates")],
        "score": ["score", str(folder / "input"), "--out", str(work / "output")],
        "status": ["status", str(folder / "input"), "--out", str(work / "output")],
        "collect": ["collect", str(folder / "replies.zip"), "--into", str(work / "input")],
        "feedback": ["feedback", str(folder / "input"), "--out", str(work / "feedback")],
        "kpis": ["kpis"],
        "help": ["--help"],
    }


def run_redirected(args: list[str], encoding: str, work: Path) -> tuple[int, str, str]:
    """``python -m cdd_scorer ARGS > stdout.txt 2> stderr.txt`` as Windows runs it with ``encoding`` as
    its ANSI code page; returns the exit code and both files' text."""
    stdout, stderr = work / "stdout.txt", work / "stderr.txt"
    env = {**os.environ, "PYTHONIOENCODING": encoding, "PYTHONPATH": str(PACKAGE_ROOT)}
    with stdout.open("wb") as out, stderr.open("wb") as err:
        code = subprocess.run([sys.executable, "-m", "cdd_scorer", *args], stdout=out, stderr=err,
                              env=env, timeout=300).returncode
    return code, stdout.read_bytes().decode("utf-8"), stderr.read_bytes().decode("utf-8")


@pytest.mark.parametrize("encoding", ANSI_CODE_PAGES)
@pytest.mark.parametrize("command", ["demo", "generate", "score", "status", "collect", "feedback", "kpis",
                                     "help"])
def test_every_command_writes_thai_into_a_redirected_ansi_console(command, encoding, round_folder, tmp_path):
    code, out, err = run_redirected(command_lines(round_folder, tmp_path)[command], encoding, tmp_path)
    assert code == 0, err
    assert "Traceback" not in err and "Traceback" not in out
    assert any("\u0e00" <= ch <= "\u0e7f" for ch in out), out  # the Thai came through, as UTF-8


@pytest.mark.parametrize("encoding", ANSI_CODE_PAGES)
def test_an_error_message_in_thai_keeps_its_exit_code_when_redirected(encoding, tmp_path):
    code, _, err = run_redirected(["score", str(tmp_path / "nowhere")], encoding, tmp_path)
    assert code == 2
    assert "ไม่พบโฟลเดอร์" in err and "Traceback" not in err


class _Terminal(io.TextIOWrapper):
    def isatty(self) -> bool:
        return True


def test_a_redirected_stream_in_an_ansi_code_page_is_switched_to_utf8():
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="cp874")
    safe_stream(stream)
    stream.write("ร้อยละ → ≥ 80")
    stream.flush()
    assert raw.getvalue().decode("utf-8") == "ร้อยละ → ≥ 80"


def test_a_terminal_in_an_ansi_code_page_replaces_what_it_cannot_show():
    raw = io.BytesIO()
    stream = _Terminal(raw, encoding="cp874")
    safe_stream(stream)
    stream.write("ร้อยละ → 80")
    stream.flush()
    assert stream.encoding == "cp874"
    assert raw.getvalue().decode("cp874") == "ร้อยละ ? 80"


def test_a_utf8_stream_is_left_alone():
    stream = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="strict")
    safe_stream(stream)
    assert (stream.encoding, stream.errors) == ("utf-8", "strict")


SYSTEM_FILES = ("desktop.ini", "Thumbs.db", ".DS_Store", ".gitkeep", "sub/desktop.ini", "sub/deeper/Thumbs.db",
                "sub/._4001_Mueang_Khon_Kaen.xlsx", "__MACOSX/4001_Mueang_Khon_Kaen.xlsx",
                "$RECYCLE.BIN/S-1-5-21/4001.xlsx", ".hidden/4001.xlsx")
KEPT_FILES = ("4001_Mueang_Khon_Kaen.xlsx", "sub/notes.pdf", "~$4001_Mueang_Khon_Kaen.xlsx",
              ".~lock.4001_Mueang_Khon_Kaen.xlsx#")


def make_files(folder: Path, names: tuple[str, ...]) -> None:
    for name in names:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(b"x")


def test_system_files_at_any_depth_are_not_input_files_but_lock_files_are(tmp_path):
    make_files(tmp_path, SYSTEM_FILES + KEPT_FILES)
    assert [p.relative_to(tmp_path).as_posix() for p in list_input_files(tmp_path)] == sorted(KEPT_FILES)


def test_a_file_windows_marks_system_is_skipped(tmp_path, monkeypatch):
    make_files(tmp_path, ("Folder.jpg", "4001.xlsx"))
    monkeypatch.setattr(input_files, "_file_attributes",
                        lambda path: stat.FILE_ATTRIBUTE_SYSTEM if path.name == "Folder.jpg" else 0)
    assert [p.name for p in list_input_files(tmp_path)] == ["4001.xlsx"]


def test_system_files_in_the_input_folder_give_no_problem(tmp_path, kpi_set):
    make_files(tmp_path, SYSTEM_FILES)
    result = run_round(tmp_path, kpi_set)
    assert not result.problems and not result.sources


# ---- limits of Windows itself, with os.name patched where the code asks it


class WindowsOs(types.SimpleNamespace):
    """``os`` as a module sees it on a 128-core Windows PC (only what the modules patched here use)."""

    def __init__(self):
        super().__init__(name="nt", cpu_count=lambda: 128)


def test_worker_counts_stay_within_what_one_windows_wait_can_watch(monkeypatch):
    monkeypatch.setattr(parallel, "os", WindowsOs())
    assert parallel.worker_count(None, 1000) == 61  # ProcessPoolExecutor's own limit on Windows
    assert parallel.worker_count(None, 1000, handles_per_worker=2, own_handles=0) == 31  # 62 handles ≤ 63
    assert parallel.worker_count(4, 1000) == 4


def test_worker_counts_elsewhere_are_not_capped(monkeypatch):
    monkeypatch.setattr(parallel, "available_cores", lambda: 128)
    assert parallel.worker_count(None, 1000) == 128


def test_score_jobs_64_on_windows_starts_31_readers(monkeypatch, kpi_set, tmp_path):
    started = []

    class Pool:
        def __init__(self, count, setup):
            started.append(count)

        def run(self, tasks, limits):
            return iter(())

        def close(self):
            pass

    monkeypatch.setattr(parallel, "os", WindowsOs())
    monkeypatch.setattr(workers, "_Pool", Pool)
    list(workers.WorkerReader(jobs=64)([(tmp_path / f"{i}.xlsx", f"{i}.xlsx") for i in range(100)], kpi_set))
    assert started == [31]


def test_map_in_processes_asks_windows_for_at_most_61_workers(monkeypatch):
    asked = []

    class Executor:
        def __init__(self, max_workers, **kwargs):
            asked.append(max_workers)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def submit(self, function, task):
            future = Future()
            future.set_result(function(task))
            return future

    monkeypatch.setattr(parallel, "os", WindowsOs())
    monkeypatch.setattr(parallel, "ProcessPoolExecutor", Executor)
    assert list(parallel.map_in_processes(abs, [-1, -2], 100)) == [1, 2]
    assert asked == [61]


def test_a_reader_worker_passes_two_handles_to_wait(monkeypatch, kpi_set, tmp_path):
    """What the Windows cap counts on: ``workers._HANDLES_PER_WORKER`` handles per worker in each wait."""
    sizes = []

    def counting_wait(handles, timeout=None):
        sizes.append(len(handles))
        return real_wait(handles, timeout)

    monkeypatch.setattr(workers, "wait", counting_wait)
    files = [(tmp_path / f"{i}.xlsx", f"{i}.xlsx") for i in range(4)]
    list(workers.WorkerReader(jobs=2, read_file=which_worker)(files, kpi_set))
    assert max(sizes) == 2 * workers._HANDLES_PER_WORKER


def test_job_object_structures_have_the_windows_sdk_layout():
    extended = winlimits.JOBOBJECT_EXTENDED_LIMIT_INFORMATION
    if ctypes.sizeof(ctypes.c_void_p) == 8:
        assert ctypes.sizeof(winlimits.JOBOBJECT_BASIC_LIMIT_INFORMATION) == 64
        assert ctypes.sizeof(extended) == 144
        assert extended.ProcessMemoryLimit.offset == 112
    else:
        assert ctypes.sizeof(extended) == 112
    assert ctypes.sizeof(winlimits.IO_COUNTERS) == 48
    assert winlimits.JOB_OBJECT_LIMIT_PROCESS_MEMORY == 0x100
    assert winlimits.JOB_OBJECT_EXTENDED_LIMIT_INFORMATION_CLASS == 9


class FakeKernel32:
    """kernel32 as far as ``winlimits`` calls it, recording the calls."""

    JOB, CURRENT_PROCESS = 0x1234, -1

    def __init__(self, refuse: str = ""):
        self.refuse, self.calls = refuse, []

    def __getattr__(self, function):
        def call(*args):
            if function == "SetInformationJobObject":
                info = args[2]._obj
                args = (args[0], args[1], info.BasicLimitInformation.LimitFlags, info.ProcessMemoryLimit, args[3])
            self.calls.append((function, *args))
            if function == self.refuse:
                return 0
            return {"CreateJobObjectW": self.JOB, "GetCurrentProcess": self.CURRENT_PROCESS}.get(function, 1)
        return call


def test_a_reader_worker_on_windows_joins_a_job_that_limits_its_memory(monkeypatch):
    kernel32 = FakeKernel32()
    monkeypatch.setattr(winlimits, "os", WindowsOs())
    monkeypatch.setattr(winlimits, "_kernel32", lambda: kernel32)
    monkeypatch.setattr(winlimits, "_job_handle", None)
    assert winlimits.limit_this_process(768 * MB)
    size = ctypes.sizeof(winlimits.JOBOBJECT_EXTENDED_LIMIT_INFORMATION)
    assert kernel32.calls == [("CreateJobObjectW", None, None),
                              ("SetInformationJobObject", FakeKernel32.JOB, 9, 0x100, 768 * MB, size),
                              ("GetCurrentProcess",),
                              ("AssignProcessToJobObject", FakeKernel32.JOB, FakeKernel32.CURRENT_PROCESS)]
    assert winlimits._job_handle == FakeKernel32.JOB


def test_a_job_windows_refuses_is_closed_and_reported(monkeypatch):
    kernel32 = FakeKernel32(refuse="AssignProcessToJobObject")
    monkeypatch.setattr(winlimits, "os", WindowsOs())
    monkeypatch.setattr(winlimits, "_kernel32", lambda: kernel32)
    assert not winlimits.limit_this_process(768 * MB)
    assert kernel32.calls[-1] == ("CloseHandle", FakeKernel32.JOB)


@pytest.mark.skipif(os.name == "nt", reason="off Windows only")
def test_there_is_no_job_object_off_windows(monkeypatch):
    monkeypatch.setattr(winlimits, "_kernel32", lambda: pytest.fail("kernel32 called off Windows"))
    assert not winlimits.limit_this_process(768 * MB)


@pytest.mark.parametrize(("applied", "quoted"), [(True, "768 MB"), (False, workers.NO_MEMORY_LIMIT)])
def test_a_worker_on_windows_quotes_its_memory_limit_only_when_the_job_applied_it(applied, quoted, monkeypatch):
    monkeypatch.setattr(workers, "os", WindowsOs())
    monkeypatch.setattr(winlimits, "limit_this_process", lambda limit: applied)
    assert workers.limit_memory(768 * MB) == quoted


@pytest.mark.parametrize(("memory_bytes", "quoted"), [(None, workers.NO_MEMORY_LIMIT), (768 * MB, "768 MB")])
def test_a_reader_crash_quotes_the_memory_limit_that_applied(memory_bytes, quoted, kpi_set, tmp_path):
    if memory_bytes and sys.platform != "linux":
        pytest.skip("RLIMIT_AS applies on Linux")
    files = [(tmp_path / "b_crash.xlsx", "b_crash.xlsx")]
    reader = workers.WorkerReader(jobs=1, limits=workers.WorkerLimits(memory_bytes=memory_bytes),
                                  read_file=read_or_crash)
    [outcome] = list(reader(files, kpi_set))
    assert outcome.problem.code == "reader_crashed" and outcome.problem.params["memory"] == quoted


@pytest.mark.parametrize(("exitcode", "text"), [
    (-6, "stopped by SIGABRT"),
    (0xC0000409, "stopped by 0xC0000409 STATUS_STACK_BUFFER_OVERRUN: abort"),  # calamine's abort on Windows
    (0xC0000017, "stopped by 0xC0000017 STATUS_NO_MEMORY"),
    (0xC0001234, "stopped by 0xC0001234 crash"),
    (70, "exit code 70"),
])
def test_how_a_worker_ended_is_told_on_every_os(exitcode, text):
    assert workers._exit_text(exitcode) == text
