"""The clerk's Windows PC (issue 16), simulated on Linux CI: ANSI code pages on redirected output,
``os.name == "nt"`` limits, sharing violations raised by a patched ``os.replace``, system files in input/."""

from __future__ import annotations

import io
import os
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

import cdd_scorer
from cdd_scorer import input_files
from cdd_scorer.batch import list_input_files, score_folder
from cdd_scorer.cli import main
from cdd_scorer.console import safe_stream

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
    result = score_folder(tmp_path, kpi_set)
    assert not result.problems and not result.sources
