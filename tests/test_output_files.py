"""Writes that survive a Windows desktop (issue 16): antivirus and OneDrive holding a fresh file for a
moment, Excel holding an output, a writer failing in %TEMP%, and the outputs of one run replaced
together or not at all. Windows' answers are simulated by a patched ``os.replace``."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
import xlsxwriter.workbook
from click.testing import CliRunner

from cdd_scorer import output_files
from cdd_scorer.cli import main
from cdd_scorer.output_files import (
    OutputError,
    atomic_output,
    remove_temporary_folder,
    replace_together,
    temporary_folder,
)

ERROR_SHARING_VIOLATION = 32
real_replace = os.replace


def sharing_violation(path: object) -> PermissionError:
    """What Windows raises while another program holds ``path``."""
    error = PermissionError(13, "The process cannot access the file because it is being used by another process",
                            str(path))
    error.winerror = ERROR_SHARING_VIOLATION
    return error


class HeldFile:
    """``os.replace`` refused while ``holds(source, target)`` says the file is held, ``times`` times
    (``None``: for ever); records every attempt."""

    def __init__(self, holds, times: int | None = None):
        self.holds, self.times, self.attempts = holds, times, []

    def __call__(self, source, target):
        if self.holds(Path(source), Path(target)):
            self.attempts.append(time.monotonic())
            if self.times is None or len(self.attempts) <= self.times:
                raise sharing_violation(target)
        real_replace(source, target)


def any_rename(source: Path, target: Path) -> bool:
    return True


@pytest.fixture(scope="module")
def input_folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("round")
    assert CliRunner().invoke(main, ["demo", "--dir", str(folder)]).exit_code == 0
    return folder / "input"


def score(input_folder: Path, out: Path):
    return CliRunner().invoke(main, ["score", str(input_folder), "--out", str(out), "--jobs", "0"])


def test_a_brief_hold_by_antivirus_is_waited_out(tmp_path, monkeypatch):
    held = HeldFile(any_rename, times=3)
    monkeypatch.setattr(os, "replace", held)
    with atomic_output(tmp_path / "scores.csv") as tmp:
        tmp.write_text("ok")
    assert (tmp_path / "scores.csv").read_text() == "ok"
    assert len(held.attempts) == 4
    assert [p.name for p in tmp_path.iterdir()] == ["scores.csv"]


def test_a_file_held_for_good_is_reported_as_open_after_about_a_second_and_a_half(tmp_path, monkeypatch):
    held = HeldFile(any_rename)
    monkeypatch.setattr(os, "replace", held)
    with pytest.raises(OutputError, match="Excel"), atomic_output(tmp_path / "scores.csv") as tmp:
        tmp.write_text("ok")
    assert len(held.attempts) == len(output_files.RETRY_DELAYS) + 1
    assert 1.0 <= held.attempts[-1] - held.attempts[0] <= 2.0
    assert list(tmp_path.iterdir()) == []


def test_a_refusal_that_is_not_a_sharing_violation_is_not_retried(tmp_path, monkeypatch):
    attempts = []

    def refused(source, target):
        attempts.append(target)
        raise PermissionError(13, "Permission denied")  # POSIX: no winerror

    monkeypatch.setattr(os, "replace", refused)
    with pytest.raises(OutputError, match="Excel"), atomic_output(tmp_path / "scores.csv") as tmp:
        tmp.write_text("ok")
    assert len(attempts) == 1


def test_a_temporary_file_that_cannot_be_removed_does_not_hide_the_message(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "replace", HeldFile(any_rename))
    monkeypatch.setattr(output_files, "RETRY_DELAYS", ())

    def held_by_antivirus(self, missing_ok=False):
        raise sharing_violation(self)

    monkeypatch.setattr(Path, "unlink", held_by_antivirus)
    with pytest.raises(OutputError, match="Excel"), atomic_output(tmp_path / "scores.csv") as tmp:
        tmp.write_text("ok")


def test_xlsxwriter_failing_in_the_temporary_folder_exits_3_with_the_clean_message(input_folder, tmp_path,
                                                                                 monkeypatch):
    def temp_refused(self):
        raise PermissionError(13, "Access is denied", r"C:\Users\clerk\AppData\Local\Temp\tmpa1b2c3")

    monkeypatch.setattr(xlsxwriter.workbook.Workbook, "_store_workbook", temp_refused)
    result = score(input_folder, tmp_path / "out")
    assert result.exit_code == 3, result.output
    assert "consolidated.xlsx" in result.output and "Access is denied" in result.output
    assert "Traceback" not in result.output
    assert list((tmp_path / "out").iterdir()) == []


def test_score_replaces_its_three_outputs_together_or_not_at_all(input_folder, tmp_path, monkeypatch):
    out = tmp_path / "out"
    out.mkdir()
    names = ("consolidated.xlsx", "scores.csv", "issues.csv")
    for name in names:
        (out / name).write_text(f"previous {name}")
    held = HeldFile(lambda source, target: source == out / "issues.csv")  # issues.csv is open in Excel
    monkeypatch.setattr(os, "replace", held)
    monkeypatch.setattr(output_files, "RETRY_DELAYS", ())
    result = score(input_folder, out)
    assert result.exit_code == 3 and "issues.csv" in result.output and "Excel" in result.output
    assert {p.name: p.read_text() for p in out.iterdir()} == {name: f"previous {name}" for name in names}

    monkeypatch.setattr(os, "replace", real_replace)  # Excel closed: the rerun replaces all three
    assert score(input_folder, out).exit_code == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(names)
    assert (out / "consolidated.xlsx").read_bytes().startswith(b"PK")


def test_replace_together_writes_nothing_when_a_writer_fails(tmp_path):
    (tmp_path / "a.csv").write_text("previous")
    with pytest.raises(OutputError, match="No space"), \
            replace_together([tmp_path / "a.csv", tmp_path / "b.csv"]) as (a, b):
        a.write_text("new")
        raise OSError(28, "No space left on device")
    assert [(p.name, p.read_text()) for p in tmp_path.iterdir()] == [("a.csv", "previous")]


def test_writers_inside_replace_together_name_the_real_output_in_their_messages(tmp_path):
    with pytest.raises(OutputError) as raised, replace_together([tmp_path / "scores.csv"]) as (staged,), \
            atomic_output(staged):
        raise OSError(28, "No space left on device")
    assert str(raised.value).endswith(f"cannot write {tmp_path / 'scores.csv'}: No space left on device")


def test_temporary_folders_are_removed_with_errors_ignored(monkeypatch):
    def held_by_antivirus(path, *args, **kwargs):
        raise sharing_violation(path)

    with temporary_folder("cdd-test-") as folder:
        (folder / "template.xlsx").write_bytes(b"PK")
        monkeypatch.setattr(os, "unlink", held_by_antivirus)
    monkeypatch.undo()
    assert (folder / "template.xlsx").exists()  # left behind, not raised
    remove_temporary_folder(folder)
    assert not folder.exists()


@pytest.mark.skipif(os.name == "nt", reason="POSIX permission bits")
def test_outputs_feedback_and_collected_inputs_are_readable_by_colleagues(input_folder, tmp_path):
    """Files get the mode a plain open() gives (0o666 less the umask), not a temporary file's 0o600."""
    umask = os.umask(0o022)
    os.umask(umask)
    expected = 0o666 & ~umask
    assert score(input_folder, tmp_path / "out").exit_code == 0
    result = CliRunner().invoke(main, ["feedback", str(input_folder), "--out", str(tmp_path / "feedback")])
    assert result.exit_code == 0, result.output
    written = [*(tmp_path / "out").iterdir(), *(tmp_path / "feedback").iterdir()]
    assert len(written) >= 5
    assert {p.name: p.stat().st_mode & 0o777 for p in written} == {p.name: expected for p in written}
    with atomic_output(tmp_path / "one.txt") as tmp:
        tmp.write_text("x")
    assert (tmp_path / "one.txt").stat().st_mode & 0o777 == expected
