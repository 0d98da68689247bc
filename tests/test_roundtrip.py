"""Generate → fill → score through real files, and the same answers saved by LibreOffice as
.xlsx, .ods and .xls score the same (SPEC §4, §5, §8)."""

from __future__ import annotations

import csv
import datetime as dt
import shutil
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from cdd_scorer.cli import main
from cdd_scorer.demo import WORKED_EXAMPLE
from cdd_scorer.filling import fill_template
from cdd_scorer.template import template_file_name

# The worked example typed the way people type: Thai digits, units, separators, stray spaces,
# yes/no words, text dates in BE, a BE year typed into an AD date cell, an Excel serial.
MESSY_WORKED_EXAMPLE = {
    **WORKED_EXAMPLE,
    "t1_budget_allocated": "๒,๕๐๐,๐๐๐.๐๐ บาท",
    "t1_budget_disbursed": " 2,212,500 ",
    "t2_projects_planned": "๒๔",
    "t2_projects_achieved": "21",
    "t3_activities_done": "Y",
    "t3_published_on_website": "✓",
    "t3_results_summarized": "มี",
    "t3_reported_to_executives": "no",
    "t3_evidence_sent_date": "20 ส.ค. 65",
    "i1_lao_qc_date": dt.datetime(2565, 8, 9),
    "i2_households_helped": "120.0",
    "i4_overdue_debt_baseline": "240000",
    "i5_online_sales_current": "฿90,000",
    "i6_award_received": "ไม่ใช่",
    "report_date": 44819,  # Excel serial of 2022-09-15
}
WORKED_ROW = {"T1": "2", "T2": "3", "T3": "3", "I1": "2", "I2": "3", "I3": "4", "I4": "3", "I5": "2", "I6": "2",
              "I7": "3", "team_score": "2.6", "individual_score": "2.85", "team_percent": "52",
              "individual_percent": "57", "overall_percent": "54.5", "rating": "ต้องปรับปรุง"}
KPI_COLUMNS = ["T1", "T2", "T3", "I1", "I2", "I3", "I4", "I5", "I6", "I7"]
SCORE_COLUMNS = ["province_code", "district_code", "district_name_th", "status", *KPI_COLUMNS, "team_score",
                 "individual_score", "team_percent", "individual_percent", "overall_percent", "rating", "rank",
                 "adjusted"]


@pytest.fixture(scope="module")
def filled_dir(tmp_path_factory, template_dir, khon_kaen_areas) -> Path:
    """Three Khon Kaen districts: the worked example clean, the same typed messily, and one with errors."""
    out = tmp_path_factory.mktemp("filled")
    a, b, c = khon_kaen_areas[:3]
    fill_template(template_dir / template_file_name(a), WORKED_EXAMPLE, out / template_file_name(a))
    fill_template(template_dir / template_file_name(b), MESSY_WORKED_EXAMPLE, out / template_file_name(b))
    wrong = {**WORKED_EXAMPLE, "t1_budget_disbursed": 2_600_000, "i2_households_helped": 151,
             "i7_activities_done": "nine"}
    fill_template(template_dir / template_file_name(c), wrong, out / template_file_name(c))
    return out


def run_score(input_dir: Path, out: Path, *args: str) -> tuple[int, list[dict], list[dict]]:
    result = CliRunner().invoke(main, ["score", str(input_dir), "--out", str(out), "--quiet", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    with open(out / "scores.csv", encoding="utf-8-sig", newline="") as fh:
        scores = list(csv.DictReader(fh))
    with open(out / "issues.csv", encoding="utf-8-sig", newline="") as fh:
        issues = list(csv.DictReader(fh))
    return result.exit_code, scores, issues


def test_scores_csv_has_every_column_for_clean_messy_wrong_and_missing(filled_dir, tmp_path, khon_kaen_areas):
    code, scores, issues = run_score(filled_dir, tmp_path)
    assert code == 0
    assert list(scores[0]) == SCORE_COLUMNS
    assert len(scores) == len(khon_kaen_areas) == 26
    by_code = {r["district_code"]: r for r in scores}
    a, b, c = (area.district_code for area in khon_kaen_areas[:3])
    for district in (a, b):
        row = by_code[district]
        assert row["status"] == "complete"
        assert {k: row[k] for k in WORKED_ROW} == WORKED_ROW
        assert row["rank"] == "1"  # both tie at 54.5: ties share rank 1
    wrong = by_code[c]
    assert wrong["status"] == "needs_correction"
    assert wrong["T1"] == wrong["I2"] == wrong["I7"] == ""  # cannot be scored
    assert wrong["T2"] == "3" and wrong["I4"] == "3"  # the rest keeps its levels
    assert wrong["team_score"] == wrong["overall_percent"] == wrong["rating"] == wrong["rank"] == ""
    missing = [r for r in scores if r["status"] == "missing"]
    assert len(missing) == 23 and all(r["T1"] == "" and r["rank"] == "" for r in missing)
    errors = {(i["district_code"], i["field"], i["code"]) for i in issues if i["severity"] == "error"}
    assert errors == {(c, "t1_budget_disbursed", "part_exceeds_whole"),
                      (c, "i2_households_helped", "part_exceeds_whole"),
                      (c, "i7_activities_done", "wrong_type")}
    wrong_cell = next(i for i in issues if i["code"] == "wrong_type")
    named = openpyxl.load_workbook(filled_dir / template_file_name(khon_kaen_areas[2])).defined_names
    sheet, cell = next(iter(named["i7_activities_done"].destinations))
    assert (wrong_cell["sheet"], wrong_cell["cell"]) == (sheet, cell.replace("$", ""))
    assert wrong_cell["value"] == "nine"
    assert wrong_cell["file"] == template_file_name(khon_kaen_areas[2])


def test_strict_exits_1_when_errors_were_found(filled_dir, tmp_path):
    code, _, _ = run_score(filled_dir, tmp_path, "--strict")
    assert code == 1


@pytest.mark.parametrize("fmt", ["xlsx", "ods", "xls"])
def test_libreoffice_saved_copies_score_the_same(fmt, libreoffice, filled_dir, tmp_path_factory):
    reference = tmp_path_factory.mktemp(f"ref-{fmt}")
    _, expected, _ = run_score(filled_dir, reference)
    converted = tmp_path_factory.mktemp(f"in-{fmt}")
    libreoffice.convert(sorted(filled_dir.glob("*.xlsx")), fmt, converted)
    out = tmp_path_factory.mktemp(f"out-{fmt}")
    _, scores, issues = run_score(converted, out)
    assert scores == expected
    _, _, reference_issues = run_score(filled_dir, reference)

    def errors(rows):
        return {(i["district_code"], i["field"], i["code"]) for i in rows if i["severity"] == "error"}

    assert errors(issues) == errors(reference_issues)


def test_junk_beside_good_files_does_not_cost_the_good_rows(filled_dir, tmp_path, khon_kaen_areas):
    folder = tmp_path / "input"
    shutil.copytree(filled_dir, folder)
    (folder / "~$4001_Mueang_Khon_Kaen.xlsx").write_bytes(b"lock")
    (folder / "notes.pdf").write_bytes(b"%PDF-1.4 junk")
    (folder / "broken.xlsx").write_bytes(b"PK\x03\x04 not really a zip")
    (folder / "empty.xlsx").write_bytes(b"")
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    code, scores, issues = run_score(folder, tmp_path / "out")
    assert code == 0
    row = next(r for r in scores if r["district_code"] == khon_kaen_areas[0].district_code)
    assert {k: row[k] for k in WORKED_ROW} == WORKED_ROW
    codes = {i["file"]: i["code"] for i in issues if i["file"]}
    assert codes["~$4001_Mueang_Khon_Kaen.xlsx"] == "lock_file"
    assert codes["notes.pdf"] == "not_spreadsheet"
    assert codes["broken.xlsx"] in ("corrupt_file", "not_spreadsheet", "unsafe_file")
    assert codes["empty.xlsx"] == "empty_file"
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


def test_identical_copy_counts_once_a_later_copy_supersedes_and_prefer_error_conflicts(
        filled_dir, tmp_path, khon_kaen_areas):
    folder = tmp_path / "input"
    shutil.copytree(filled_dir, folder)
    first = template_file_name(khon_kaen_areas[0])
    shutil.copy(folder / first, folder / "copy_of_first.xlsx")
    _, scores, issues = run_score(folder, tmp_path / "out1")
    assert scores[0]["status"] == "complete"
    assert any(i["code"] == "duplicate_identical" for i in issues)
    fill_template(folder / first, {"t1_budget_disbursed": 1_000_000}, folder / "copy_of_first.xlsx")
    _, scores, issues = run_score(folder, tmp_path / "out2")
    assert scores[0]["status"] == "complete"  # the later file counts, the earlier is noted
    assert scores[0]["T1"] == "0"  # 1,000,000 of 2,500,000: the copy's value
    assert any(i["code"].startswith("duplicate_") and i["severity"] == "info" for i in issues)
    _, scores, issues = run_score(folder, tmp_path / "out3", "--prefer", "error")
    assert scores[0]["status"] == "needs_correction"
    conflict = next(i for i in issues if i["code"] == "duplicate_conflict")
    assert first in conflict["message_en"] and "copy_of_first.xlsx" in conflict["message_en"]


def test_a_district_whose_only_file_is_refused_needs_correction_and_hears_why(
        filled_dir, tmp_path, kpi_set, khon_kaen_areas):
    import copy
    import tomllib

    from cdd_scorer.kpi import build_kpi_set, default_kpi_set_path
    from cdd_scorer.template import write_template

    raw = tomllib.loads(default_kpi_set_path().read_text(encoding="utf-8"))
    changed = copy.deepcopy(raw)
    changed["kpis"][0]["levels"][0]["when"]["value"] = 81  # last year's draft of the card
    old_card = build_kpi_set(changed)
    area = khon_kaen_areas[5]
    folder = tmp_path / "input"
    shutil.copytree(filled_dir, folder)
    old_template = write_template(old_card, area, tmp_path / "old.xlsx")
    fill_template(old_template, WORKED_EXAMPLE, folder / template_file_name(area))
    result = CliRunner().invoke(main, ["status", str(folder), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    _, scores, issues = run_score(folder, tmp_path / "out")
    row = next(r for r in scores if r["district_code"] == area.district_code)
    assert row["status"] == "needs_correction"
    refused = [i for i in issues if i["code"] == "fingerprint_mismatch"]
    assert len(refused) == 1 and refused[0]["district_code"] == area.district_code
    assert not any(i["code"] == "missing_submission" and i["district_code"] == area.district_code for i in issues)
    feedback = CliRunner().invoke(main, ["feedback", str(folder), "--out", str(tmp_path / "fb")])
    assert feedback.exit_code == 0, feedback.output
    assert any(p.name.startswith(area.district_code) for p in (tmp_path / "fb").iterdir())
