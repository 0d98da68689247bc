"""The input folder and the log as ``collect`` writes them: concurrent runs, write failures, interrupted
runs, Windows paths (issue 17 findings 1, 2, 3; issue 16 item 6)."""

from __future__ import annotations

import csv
import errno
import multiprocessing
import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_collect import mail, read_log, save_eml, workbook

from cdd_scorer import collect as collect_module
from cdd_scorer import collect_log, collect_run, intake_folder
from cdd_scorer.cli import main
from cdd_scorer.collect import collect
from cdd_scorer.intake_folder import IntakeFolder
from cdd_scorer.output_files import OutputError


def mails(folder: Path, count: int, tag: str, name: str = "report.xlsx") -> list[Path]:
    """``count`` mails, each with one different workbook, all called ``name``."""
    return [save_eml(folder / f"{tag}-{n:03}.eml", mail([(name, workbook(f"{tag}-{n}"))], subject=f"{tag} {n}"))
            for n in range(count)]


def submissions(into: Path) -> list[Path]:
    return sorted(p for p in into.iterdir() if p.is_file())


def run_cli(*args: str):
    return CliRunner().invoke(main, ["collect", *args])


# ---- two runs at once (finding 1)

def test_two_collects_at_once_keep_every_attachment_and_log_each_once(tmp_path):
    into = tmp_path / "input"
    batches = [mails(tmp_path / tag, 60, tag) for tag in ("a", "b")]
    context = multiprocessing.get_context("spawn")
    runs = [context.Process(target=collect, args=([tmp_path / tag], into)) for tag in ("a", "b")]
    for run in runs:
        run.start()
    for run in runs:
        run.join(120)
    assert [run.exitcode for run in runs] == [0, 0]

    files = submissions(into)
    assert len(files) == sum(len(b) for b in batches) == 120
    assert len({f.read_bytes() for f in files}) == 120
    rows = read_log(into)
    saved = [r["saved_file"] for r in rows if r["outcome"] == "saved"]
    assert sorted(saved) == sorted(f.name for f in files)  # every file logged, each once


def test_a_name_taken_after_the_folder_was_listed_is_never_replaced(tmp_path):
    into = tmp_path / "input"
    into.mkdir()
    inbox = IntakeFolder(into, into / ".cdd-scorer")
    (into / "report.xlsx").write_bytes(b"written by someone else meanwhile")

    target = inbox.save("report.xlsx", workbook("mine"), "digest", None)

    assert target.name == "report (2).xlsx"
    assert (into / "report.xlsx").read_bytes() == b"written by someone else meanwhile"


def test_choosing_a_free_name_stays_constant_time(tmp_path, monkeypatch):
    into = tmp_path / "input"
    into.mkdir()
    inbox = IntakeFolder(into, into / ".cdd-scorer")
    tries = []
    real = IntakeFolder._fitted
    monkeypatch.setattr(IntakeFolder, "_fitted", lambda self, *a: tries.append(a) or real(self, *a))

    for n in range(2000):
        inbox.save("report.xlsx", workbook(str(n)), str(n), None)

    assert (into / "report (2000).xlsx").exists()
    assert len(tries) <= 2 * 2000


def test_a_second_run_that_waits_too_long_for_the_lock_stops_cleanly(tmp_path, monkeypatch):
    from filelock import FileLock

    source = save_eml(tmp_path / "m.eml", mail([("a.xlsx", workbook("a"))]))
    (tmp_path / "input" / ".cdd-scorer").mkdir(parents=True)
    monkeypatch.setattr(intake_folder, "LOCK_WAIT_SECONDS", 0.1)

    with FileLock(tmp_path / "input" / ".cdd-scorer" / intake_folder.LOCK_NAME):
        result = run_cli(str(source), "--into", str(tmp_path / "input"))

    assert result.exit_code == 3
    assert "another collect run" in result.output
    assert submissions(tmp_path / "input") == []


# ---- a write failure is a write failure (finding 3; issue 16 item 6)

def test_a_full_disk_stops_the_run_with_exit_3_naming_the_write_and_what_was_saved(tmp_path, monkeypatch):
    sources = mails(tmp_path / "mails", 5, "m")
    creates = []

    def full_after_two(path, mode="r", *args, **kwargs):
        if mode == "xb":
            creates.append(path)
            if len(creates) > 2:
                raise OSError(errno.ENOSPC, "No space left on device")
        return open(path, mode, *args, **kwargs)

    monkeypatch.setattr(intake_folder, "open", full_after_two, raising=False)

    result = run_cli(*map(str, sources), "--into", str(tmp_path / "input"))

    assert result.exit_code == 3, result.output
    assert "No space left on device" in result.output and "cannot write" in result.output
    assert "could not be read" not in result.output and "resave" not in result.output
    assert "after saving 2 files" in result.output
    assert len(creates) == 3  # the remaining mails were not tried
    rows = read_log(tmp_path / "input")
    assert [r["outcome"] for r in rows] == ["saved", "saved", "failed"]
    assert {r["saved_file"] for r in rows[:2]} == {p.name for p in submissions(tmp_path / "input")}


def test_a_log_that_cannot_be_written_stops_the_run_and_the_next_run_records_the_file(tmp_path, monkeypatch):
    sources = mails(tmp_path / "mails", 3, "m")
    real_writer = csv.writer
    rows_written = []

    class LockedAfterTheHeaderAndOneRow:
        def __init__(self, f, **kwargs):
            self.writer = real_writer(f, **kwargs)

        def writerow(self, row):
            rows_written.append(row)
            if len(rows_written) > 2:
                raise PermissionError(errno.EACCES, "Permission denied")
            self.writer.writerow(row)

    monkeypatch.setattr(collect_log.csv, "writer", LockedAfterTheHeaderAndOneRow)
    result = run_cli(str(tmp_path / "mails"), "--into", str(tmp_path / "input"))
    monkeypatch.undo()

    assert result.exit_code == 3
    assert "collect_log.csv" in result.output and "Excel" in result.output
    assert len(submissions(tmp_path / "input")) == 2  # the second file was saved, its row was lost
    assert len(read_log(tmp_path / "input")) == 1

    rerun = collect(sources, tmp_path / "input")

    assert [e.code for e in rerun.entries] == ["attachment_duplicate", "attachment_recorded", "attachment_saved"]
    saved = {r["saved_file"] for r in read_log(tmp_path / "input") if r["outcome"] == "saved"}
    assert saved == {p.name for p in submissions(tmp_path / "input")}


# ---- an interrupted run leaves a true log (finding 2)

def test_an_interrupted_run_leaves_a_log_row_for_every_saved_file(tmp_path, monkeypatch):
    mails(tmp_path / "mails", 5, "m")
    real = collect_module.parse_mail
    parsed = []

    def interrupted(data: bytes):
        parsed.append(data)
        if len(parsed) == 4:
            raise KeyboardInterrupt
        return real(data)

    monkeypatch.setattr(collect_module, "parse_mail", interrupted)

    with pytest.raises(KeyboardInterrupt):
        collect([tmp_path / "mails"], tmp_path / "input")

    files = submissions(tmp_path / "input")
    assert len(files) == 3
    assert sorted(r["saved_file"] for r in read_log(tmp_path / "input")) == [f.name for f in files]


def test_a_run_killed_between_saving_and_logging_is_made_whole_by_the_next_run(tmp_path, monkeypatch):
    mails(tmp_path / "mails", 3, "m")
    real = collect_run.CollectRun.record

    def killed_on_the_second_save(self, entry):
        if entry.code == "attachment_saved" and len(self.report.entries) == 1:
            raise KeyboardInterrupt
        real(self, entry)

    monkeypatch.setattr(collect_run.CollectRun, "record", killed_on_the_second_save)
    with pytest.raises(KeyboardInterrupt):
        collect([tmp_path / "mails"], tmp_path / "input")
    monkeypatch.undo()

    collect([tmp_path / "mails"], tmp_path / "input")

    files = submissions(tmp_path / "input")
    assert len(files) == 3
    saved = [r["saved_file"] for r in read_log(tmp_path / "input") if r["outcome"] == "saved"]
    assert sorted(saved) == [f.name for f in files]


# ---- Windows paths (issue 16 item 6)

def test_names_are_shortened_to_keep_the_path_under_windows_max_path(tmp_path, monkeypatch):
    monkeypatch.setattr(intake_folder, "ON_WINDOWS", True)
    into = tmp_path
    while len(str(into)) < 200:
        into = into / "โฟลเดอร์รับไฟล์ของจังหวัด"
    long_name = "แบบรายงานผลการดำเนินงานตัวชี้วัด อำเภอเมืองขอนแก่น " * 3 + ".xlsx"
    sources = [save_eml(tmp_path / f"{n}.eml", mail([(long_name, workbook(str(n)))])) for n in range(3)]

    report = collect(sources, into)

    assert len(report.saved) == 3
    for path in report.saved:
        assert len(str(path.absolute())) <= intake_folder.WINDOWS_MAX_PATH - 1
        assert path.suffix == ".xlsx" and path.stem.startswith("แบบรายงาน")
    assert report.saved[2].name.endswith(" (3).xlsx")


def test_an_input_folder_too_deep_for_windows_is_a_write_failure(tmp_path, monkeypatch):
    monkeypatch.setattr(intake_folder, "ON_WINDOWS", True)
    into = tmp_path
    while len(str(into)) < intake_folder.WINDOWS_MAX_PATH:
        into = into / "deeper-folder"
    source = save_eml(tmp_path / "m.eml", mail([("a.xlsx", workbook("a"))]))

    with pytest.raises(OutputError, match="path longer than 259 characters"):
        collect([source], into)

    rows = read_log(into)
    assert [(r["outcome"], r["attachment"]) for r in rows] == [("failed", "a.xlsx")]


def test_saved_files_get_the_mode_a_plain_open_gives(tmp_path):
    source = save_eml(tmp_path / "m.eml", mail([("a.xlsx", workbook("a"))]))
    umask = os.umask(0o022)
    try:
        report = collect([source], tmp_path / "input")
    finally:
        os.umask(umask)

    assert report.saved[0].stat().st_mode & 0o777 == 0o644
