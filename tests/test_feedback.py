"""Correction workbooks and e-mail texts for districts that must fix something (issue 7)."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import openpyxl
import pytest

from cdd_scorer.demo import WORKED_EXAMPLE
from cdd_scorer.feedback import FEEDBACK_SHEET, FILLS, write_feedback
from cdd_scorer.filling import fill_template
from cdd_scorer.metadata import Lineage
from cdd_scorer.reading import read_workbook
from cdd_scorer.round import run_round
from cdd_scorer.template import template_file_name, write_template

FORMULA_LOOKING_TEXT = "=HYPERLINK(\"http://x\",\"click\")"


def _stem(area) -> str:
    return Path(template_file_name(area)).stem


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def round_dir(tmp_path_factory, kpi_set, template_dir, khon_kaen_areas) -> Path:
    """A clean; B with errors (and text that looks like a formula); C with a warning only (a report date
    outside the fiscal year);
    D sent two different files (which conflict under --prefer error)."""
    a, b, c, d = khon_kaen_areas[:4]
    folder = tmp_path_factory.mktemp("input")
    fill_template(template_dir / template_file_name(a), WORKED_EXAMPLE, folder / template_file_name(a))
    wrong = {k: v for k, v in WORKED_EXAMPLE.items() if k != "i2_households_target"}
    wrong |= {"t1_budget_disbursed": 2_600_000, "i7_activities_done": "nine"}
    b_path = fill_template(template_dir / template_file_name(b), wrong, folder / template_file_name(b))
    wb = openpyxl.load_workbook(b_path)
    sheet, cell = next(iter(wb.defined_names["reporter_name"].destinations))
    wb[sheet][cell.replace("$", "")].value = FORMULA_LOOKING_TEXT
    wb[sheet][cell.replace("$", "")].data_type = "s"
    wb.save(b_path)
    outside_year = {**WORKED_EXAMPLE, "report_date": dt.date(2021, 1, 5)}  # dates the report only: a warning
    fill_template(template_dir / template_file_name(c), outside_year, folder / template_file_name(c))
    d_template = write_template(kpi_set, d, tmp_path_factory.mktemp("d") / template_file_name(d))
    fill_template(d_template, WORKED_EXAMPLE, folder / template_file_name(d))
    fill_template(d_template, {**WORKED_EXAMPLE, "t2_projects_achieved": 20}, folder / "resent.xlsx")
    return folder


@pytest.fixture(scope="module")
def result(round_dir, kpi_set):
    return run_round(round_dir, kpi_set, prefer="error")


@pytest.fixture(scope="module")
def feedback(tmp_path_factory, round_dir, result, kpi_set):
    """Feedback with warnings included, and the input hashes before it was written."""
    before = {p.name: _sha(p) for p in round_dir.iterdir()}
    out = tmp_path_factory.mktemp("feedback")
    return out, write_feedback(result, kpi_set, out, include_warnings=True), before


@pytest.fixture(scope="module")
def converted(feedback, libreoffice, tmp_path_factory):
    """Every correction workbook opened and saved again by LibreOffice, in one call."""
    _, paths, _ = feedback
    workbooks = [p for p in paths if p.suffix == ".xlsx"]
    return dict(zip(workbooks, libreoffice.convert(workbooks, "xlsx", tmp_path_factory.mktemp("lo"))))


def _district(result, area):
    return next(d for d in result.districts if d.area.district_code == area.district_code)


def _cell_of(wb, field_id: str) -> tuple[str, str]:
    sheet, cell = next(iter(wb.defined_names[field_id].destinations))
    return sheet, cell.replace("$", "")


def _comments(wb) -> dict[tuple[str, str], str]:
    return {(ws.title, c.coordinate): c.comment.text for ws in wb.worksheets for row in ws.iter_rows()
            for c in row if c.comment}


def _validated_cells(ws) -> dict[str, tuple]:
    """Each validated cell with its rule, whatever way the ranges are grouped."""
    cells = {}
    for dv in ws.data_validations.dataValidation:
        for rng in dv.sqref.ranges:
            for row in ws.iter_rows(min_row=rng.min_row, max_row=rng.max_row, min_col=rng.min_col,
                                    max_col=rng.max_col):
                for c in row:
                    operator = "" if dv.type in ("custom", "list") else dv.operator or ""  # LO adds one
                    cells[c.coordinate] = (dv.type, operator, dv.showErrorMessage, dv.errorStyle or "stop")
    return cells


def test_only_districts_with_errors_get_a_workbook_and_an_email(result, kpi_set, khon_kaen_areas, tmp_path):
    a, b, c, d = khon_kaen_areas[:4]
    errors_only = write_feedback(result, kpi_set, tmp_path)

    assert sorted(p.name for p in errors_only) == sorted(
        f"{_stem(x)}_{kind}" for x in (b, d) for kind in ("correction.xlsx", "email.txt"))
    assert _district(result, c).status == "complete"
    assert [p.severity for p in _district(result, c).problems] == ["warning"]


def test_warnings_are_included_on_request(feedback, khon_kaen_areas):
    _, paths, _ = feedback
    a, b, c, d = khon_kaen_areas[:4]
    assert {p.name.rsplit("_", 1)[0] for p in paths} == {_stem(b), _stem(c), _stem(d)}


def test_the_districts_originals_are_never_modified(feedback, round_dir):
    _, _, before = feedback
    assert {p.name: _sha(p) for p in round_dir.iterdir()} == before


def test_each_problem_cell_is_highlighted_and_explained(feedback, result, khon_kaen_areas):
    out, _, _ = feedback
    b = khon_kaen_areas[1]
    wb = openpyxl.load_workbook(out / f"{_stem(b)}_correction.xlsx")
    problems = [p for p in _district(result, b).problems if p.severity == "error"]
    assert {p.code for p in problems} >= {"part_exceeds_whole", "wrong_type", "required_missing"}

    comments = _comments(wb)
    assert set(comments) == {_cell_of(wb, p.field) for p in problems if p.cell}
    for p in problems:
        sheet, cell = _cell_of(wb, p.field)
        assert p.message_th in comments[(sheet, cell)] and p.action_th in comments[(sheet, cell)]
        assert wb[sheet][cell].fill.fgColor.rgb.endswith(FILLS["error"].fgColor.rgb[-6:])


def test_the_first_sheet_lists_every_problem_including_file_level_ones(feedback, result, khon_kaen_areas):
    out, _, _ = feedback
    for area in khon_kaen_areas[1:4]:
        wb = openpyxl.load_workbook(out / f"{_stem(area)}_correction.xlsx")
        listed = [str(v) for row in wb.worksheets[0].iter_rows(values_only=True) for v in row if v]
        expected = [p for p in _district(result, area).problems if p.severity in ("error", "warning")]
        assert wb.sheetnames[0] == FEEDBACK_SHEET and wb.active.title == FEEDBACK_SHEET
        assert all(p.message_th in listed for p in expected)
    conflict = openpyxl.load_workbook(out / f"{_stem(khon_kaen_areas[3])}_correction.xlsx")
    assert [p.code for p in _district(result, khon_kaen_areas[3]).problems] == ["duplicate_conflict"]
    assert _comments(conflict) == {}  # a file-level problem has no cell to mark


def test_the_copy_carries_the_districts_values_and_scores_like_the_original(feedback, round_dir, kpi_set,
                                                                            khon_kaen_areas, tmp_path):
    out, _, _ = feedback
    b, d = khon_kaen_areas[1], khon_kaen_areas[3]
    copy = out / f"{_stem(b)}_correction.xlsx"
    original = read_workbook(round_dir / template_file_name(b), "original", kpi_set).submission
    again = read_workbook(copy, "copy", kpi_set).submission
    assert {k: c.value for k, c in again.cells.items()} == {k: c.value for k, c in original.cells.items()}
    assert again.metadata.district_code == b.district_code

    (tmp_path / copy.name).write_bytes(copy.read_bytes())
    rescored = _district(run_round(tmp_path, kpi_set), b)
    assert sorted((p.code, p.field) for p in rescored.problems) == sorted(
        (p.code, p.field) for p in read_problems(round_dir / template_file_name(b), kpi_set, b))

    conflict = read_workbook(out / f"{_stem(d)}_correction.xlsx", "copy", kpi_set).submission
    sent = [read_workbook(round_dir / name, name, kpi_set).submission
            for name in (template_file_name(d), "resent.xlsx")]
    assert {k: c.value for k, c in conflict.cells.items()} in [{k: c.value for k, c in s.cells.items()} for s in sent]


def test_the_copy_names_the_file_it_was_made_from(feedback, result, kpi_set, khon_kaen_areas):
    out, _, _ = feedback
    b = khon_kaen_areas[1]
    source = _district(result, b).source
    copy = read_workbook(out / f"{_stem(b)}_correction.xlsx", "copy", kpi_set).submission
    assert copy.metadata.corrects == Lineage(source.sha256, source.saved_at.isoformat())
    assert read_workbook(source.path, "original", kpi_set).submission.metadata.corrects is None


def read_problems(path: Path, kpi_set, area):
    folder = path.parent.parent / f"alone-{area.district_code}"
    folder.mkdir(exist_ok=True)
    (folder / path.name).write_bytes(path.read_bytes())
    return _district(run_round(folder, kpi_set), area).problems


def test_text_that_looks_like_a_formula_stays_text(feedback, khon_kaen_areas):
    out, _, _ = feedback
    wb = openpyxl.load_workbook(out / f"{_stem(khon_kaen_areas[1])}_correction.xlsx")
    sheet, cell = _cell_of(wb, "reporter_name")
    assert wb[sheet][cell].value == FORMULA_LOOKING_TEXT and wb[sheet][cell].data_type == "s"


def test_validation_protection_and_metadata_match_a_fresh_template(feedback, kpi_set, khon_kaen_areas, tmp_path):
    out, _, _ = feedback
    b = khon_kaen_areas[1]
    fresh = openpyxl.load_workbook(write_template(kpi_set, b, tmp_path / "fresh.xlsx"))
    copy = openpyxl.load_workbook(out / f"{_stem(b)}_correction.xlsx")

    for ws in fresh.worksheets:
        mine = copy[ws.title]
        assert _validated_cells(mine) == _validated_cells(ws)
        assert mine.protection.sheet == ws.protection.sheet
        assert mine.sheet_state == ws.sheet_state
    entry, _ = _cell_of(copy, "t1_budget_allocated")
    assert copy[entry].protection.sheet and _validated_cells(copy[entry])
    assert copy.security.lockStructure
    assert copy.worksheets[0].protection.sheet


def test_libreoffice_opens_the_copies_with_comments_validation_and_protection(converted, feedback, kpi_set,
                                                                              khon_kaen_areas):
    for ours, theirs in converted.items():
        mine, lo = openpyxl.load_workbook(ours), openpyxl.load_workbook(theirs)
        assert {k: " ".join(v.split()) for k, v in _comments(lo).items()} == {
            k: " ".join(v.split()) for k, v in _comments(mine).items()}
        entry, _ = _cell_of(mine, "t1_budget_allocated")
        assert _validated_cells(lo[entry]) == _validated_cells(mine[entry])
        assert lo[entry].protection.sheet and lo[FEEDBACK_SHEET].protection.sheet
        # Workbook structure protection is checked with openpyxl only: LibreOffice 7.4 shows no
        # structure protection after converting any xlsx, even one Excel-style protected.
    assert any(_comments(openpyxl.load_workbook(p)) for p in converted.values())


def test_the_email_names_every_problem_and_the_attachment(feedback, result, khon_kaen_areas):
    out, _, _ = feedback
    b = khon_kaen_areas[1]
    raw = (out / f"{_stem(b)}_email.txt").read_bytes()
    text = raw.decode("utf-8-sig")
    assert raw.startswith(b"\xef\xbb\xbf") and "\r\n" in text.replace("\n", "\r\n")
    assert f"อำเภอ{b.district_name_th}" in text and f"{_stem(b)}_correction.xlsx" in text
    for p in _district(result, b).problems:
        if p.severity == "error":
            assert p.message_th in text and p.action_th in text


def test_the_email_lists_the_problems_in_the_order_of_the_sheet(feedback, result, khon_kaen_areas):
    """Row by row, as the officer scrolls the form (the catalogue order of checks is not the sheet's)."""
    import re

    out, _, _ = feedback
    text = (out / f"{_stem(khon_kaen_areas[1])}_email.txt").read_text(encoding="utf-8-sig")
    rows = [int(row) for row in re.findall(r"\(ช่อง [A-Z]+(\d+)\)", text)]
    assert len(rows) >= 3 and rows == sorted(rows)
