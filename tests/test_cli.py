"""The command line as a clerk meets it: help everywhere, clear errors, exit codes of SPEC §8."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from cdd_scorer import __version__
from cdd_scorer.cli import main

README = Path(__file__).resolve().parents[1] / "README.md"


def invoke(*args: str, **kwargs):
    return CliRunner().invoke(main, list(args), **kwargs)


@pytest.fixture(autouse=True)
def in_a_fresh_folder(tmp_path, monkeypatch):
    """Each command runs in a folder of its own, so that the default history.sqlite lands there."""
    monkeypatch.chdir(tmp_path)


def test_version():
    result = invoke("--version")
    assert result.exit_code == 0 and __version__ in result.output


@pytest.mark.parametrize("command", sorted(main.commands))
def test_every_command_has_help_and_is_in_the_readme(command):
    result = invoke(command, "--help")
    assert result.exit_code == 0
    assert main.commands[command].help, command
    assert f"cdd-scorer {command}" in README.read_text(encoding="utf-8")


def test_generate_writes_one_ascii_named_workbook_per_district(tmp_path):
    result = invoke("generate", "--province", "ขอนแก่น", "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    files = sorted(p.name for p in tmp_path.iterdir())
    assert len(files) == 26
    assert files[0] == "4001_Mueang_Khon_Kaen.xlsx"
    assert all(name.isascii() and " " not in name for name in files)


@pytest.mark.parametrize(("province", "hint"), [("กรุงเทพมหานคร", "Bangkok"), ("10", "Bangkok"),
                                                ("ขอนแกน", "ขอนแก่น"), ("Atlantis", "2-digit")])
def test_generate_refuses_bangkok_and_unknown_provinces_with_a_hint(province, hint, tmp_path):
    result = invoke("generate", "--province", province, "--out", str(tmp_path))
    assert result.exit_code == 2
    assert hint in result.output and "Traceback" not in result.output


def test_kpis_shows_the_card_in_thai_and_english():
    result = invoke("kpis")
    assert result.exit_code == 0
    assert "ร้อยละของการใช้จ่ายเงินงบประมาณ" in result.output and "Budget disbursement" in result.output


def test_kpis_with_an_invalid_card_lists_every_problem_and_exits_2(tmp_path):
    card = tmp_path / "card.toml"
    card.write_text('id = "x"\n[[kpis]]\nid = "A"\nweight = -1\n', encoding="utf-8")
    result = invoke("kpis", "--kpi-set", str(card))
    assert result.exit_code == 2
    assert result.output.count("\n  - ") >= 5 and "Traceback" not in result.output


def test_kpis_with_a_missing_card_file_exits_2(tmp_path):
    result = invoke("kpis", "--kpi-set", str(tmp_path / "nope.toml"))
    assert result.exit_code == 2 and "cannot read" in result.output


def test_score_of_a_missing_folder_exits_2(tmp_path):
    result = invoke("score", str(tmp_path / "nowhere"), "--out", str(tmp_path / "out"))
    assert result.exit_code == 2 and "not found" in result.output


def test_score_into_an_unwritable_output_exits_3(tmp_path):
    (tmp_path / "in").mkdir()
    blocker = tmp_path / "out"
    blocker.write_text("a file where the output folder should be")
    result = invoke("score", str(tmp_path / "in"), "--out", str(blocker / "results"))
    assert result.exit_code == 3 and "Traceback" not in result.output


def test_output_locked_by_excel_exits_3_and_leaves_no_temporary_file(tmp_path, monkeypatch):
    (tmp_path / "in").mkdir()
    out = tmp_path / "out"

    def locked(src, dst):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "replace", locked)
    result = invoke("score", str(tmp_path / "in"), "--out", str(out))
    assert result.exit_code == 3
    assert "Excel" in result.output
    assert list(out.iterdir()) == []


def test_demo_runs_the_whole_round_trip(tmp_path):
    result = invoke("demo", "--dir", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert (tmp_path / "output" / "consolidated.xlsx").exists()
    scores = (tmp_path / "output" / "scores.csv").read_text(encoding="utf-8-sig")
    assert "needs_correction" in scores and "missing" in scores and "complete" in scores
    assert "consolidated.xlsx" in result.output


def test_generate_puts_clerk_and_deadline_on_the_instructions_sheet(tmp_path):
    import openpyxl

    result = invoke("generate", "--province", "40", "--out", str(tmp_path), "--clerk-name", "นายสมชาย ใจดี",
                    "--clerk-email", "clerk@example.org", "--deadline", "14/10/2565")
    assert result.exit_code == 0, result.output
    sheet = openpyxl.load_workbook(tmp_path / "4001_Mueang_Khon_Kaen.xlsx").worksheets[0]
    text = " ".join(str(c.value) for row in sheet.iter_rows() for c in row if c.value)
    assert "นายสมชาย ใจดี" in text and "clerk@example.org" in text and "๒๕๖๕" in text


def test_generate_refuses_an_unreadable_deadline(tmp_path):
    result = invoke("generate", "--province", "40", "--out", str(tmp_path), "--deadline", "44/10/2565")
    assert result.exit_code == 2 and "--deadline" in result.output
    assert not tmp_path.exists() or not any(tmp_path.iterdir())


def test_score_of_an_empty_folder_still_writes_every_output(tmp_path):
    (tmp_path / "in").mkdir()
    result = invoke("score", str(tmp_path / "in"), "--out", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    assert {p.name for p in (tmp_path / "out").iterdir()} == {"consolidated.xlsx", "scores.csv", "issues.csv"}
    assert "no spreadsheet found (the folder is empty)" in result.output


@pytest.fixture(scope="module")
def demo_round(tmp_path_factory) -> Path:
    """The demo's Khon Kaen round: 25 districts answered, one with errors."""
    folder = tmp_path_factory.mktemp("demo")
    assert invoke("demo", "--dir", str(folder)).exit_code == 0
    return folder / "input"


@pytest.mark.parametrize("command", ["score", "status", "feedback"])
def test_a_province_without_files_names_the_provinces_found_on_every_command(command, demo_round, tmp_path):
    result = invoke(command, str(demo_round), "--province", "41", "--out", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    first = result.output.splitlines()[0]
    assert first.startswith("ไม่พบแบบฟอร์มของจังหวัดอุดรธานี มีแต่ไฟล์ของจังหวัดอื่น: ขอนแก่น (40): 25")
    assert "did you mean --province 40?" in result.output


def test_a_province_without_files_is_the_first_issue_too(demo_round, tmp_path):
    import csv

    assert invoke("score", str(demo_round), "--province", "41", "--out", str(tmp_path)).exit_code == 0
    with open(tmp_path / "issues.csv", encoding="utf-8-sig", newline="") as fh:
        first = next(csv.DictReader(fh))
    assert (first["code"], first["severity"], first["province_code"]) == ("province_not_in_folder", "warning", "41")


@pytest.mark.parametrize("command", ["score", "status", "feedback"])
def test_a_folder_without_templates_names_what_it_holds_on_every_command(command, tmp_path):
    import openpyxl

    folder = tmp_path / "in"
    folder.mkdir()
    wb = openpyxl.Workbook()
    wb.active["A1"] = "งบประมาณ"
    wb.save(folder / "budget.xlsx")
    (folder / "notes.txt").write_text("x")
    result = invoke(command, str(folder), "--out", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    assert "no usable workbook was found; the folder holds:" in result.output
    assert "budget.xlsx" in result.output and "is not a template made by cdd-scorer" in result.output
    assert "notes.txt" in result.output


def test_the_score_summary_names_the_files_with_errors(demo_round, tmp_path):
    result = invoke("score", str(demo_round), "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    named = result.output.split("files with errors:")[1].splitlines()[1]
    assert named.startswith("  4025_Non_Sila.xlsx (4025 โนนศิลา): ") and named.endswith("(+1)")  # two errors


def test_generate_all_provinces_writes_every_district_of_each(tmp_path, monkeypatch):
    import cdd_scorer.cli.setup_commands as cli
    from cdd_scorer.geography import districts_of, find_province

    two_small = [find_province("75"), find_province("26")]  # สมุทรสงคราม, นครนายก
    monkeypatch.setattr(cli, "cd_provinces", lambda: two_small)
    result = invoke("generate", "--province", "all", "--out", str(tmp_path), "--jobs", "1")
    assert result.exit_code == 0, result.output
    expected = {a.district_code for p in two_small for a in districts_of(p)}
    assert {p.name.split("_")[0] for p in tmp_path.iterdir()} == expected
    assert "2 provinces" in result.output


def test_score_records_the_run_in_history_sqlite_of_the_current_folder_unless_no_history(demo_round, tmp_path):
    result = invoke("score", str(demo_round), "--out", "out", "--jobs", "0")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "history.sqlite").exists() and "recorded in the history: history.sqlite (run 1)" in result.output
    (tmp_path / "history.sqlite").unlink()
    result = invoke("score", str(demo_round), "--out", "out", "--jobs", "0", "--no-history")
    assert result.exit_code == 0 and not (tmp_path / "history.sqlite").exists()
    assert "recorded in the history" not in result.output
    result = invoke("score", str(demo_round), "--no-history", "--reopen", "x")
    assert result.exit_code == 2 and "--reopen needs the history" in result.output


def test_the_demo_shows_a_trend_against_an_earlier_example_round(demo_round):
    import openpyxl

    folder = demo_round.parent
    card = (folder / "example-earlier-round" / "example_card.toml").read_text(encoding="utf-8")
    assert 'id = "example-fy2564-r2"' in card and "NOT a real card" in card
    workbook = openpyxl.load_workbook(folder / "output" / "consolidated.xlsx", read_only=True)
    assert "แนวโน้ม" in workbook.sheetnames
    history = invoke("history", "--history", str(folder / "history.sqlite"))
    assert history.exit_code == 0 and "example-fy2564-r2" in history.output and "cdd-fy2565-r2" in history.output


def test_history_commands_without_a_history_or_a_manifest_exit_2(tmp_path):
    assert invoke("history").exit_code == 2
    result = invoke("close")
    assert result.exit_code == 2 and "no run of round cdd-fy2565-r2" in result.output
    result = invoke("verify")
    assert result.exit_code == 2 and "no manifest in output" in result.output
    assert invoke("history", "--district", "9999", "--history", "x.sqlite").exit_code == 2


def test_the_adjustments_template_never_replaces_a_file(tmp_path):
    from cdd_scorer.adjustments import read_adjustments
    from cdd_scorer.kpi import load_kpi_set

    result = invoke("adjustments-template", "--province", "40")
    assert result.exit_code == 0, result.output
    assert read_adjustments(tmp_path / "adjustments.xlsx", load_kpi_set()) == ()  # empty, and readable
    again = invoke("adjustments-template", "--province", "40")
    assert again.exit_code == 2 and "was not replaced" in again.output
