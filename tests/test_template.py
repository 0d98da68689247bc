"""The district entry workbook: guard rails seen by openpyxl, and the live preview recalculated by
LibreOffice agreeing with the Python engine on the same answers."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from openpyxl.utils.protection import hash_password

from cdd_scorer.demo import NO, WORKED_EXAMPLE, YES
from cdd_scorer.exact import round_half_away
from cdd_scorer.filling import fill_template
from cdd_scorer.metadata import META_SHEET, TemplateMetadata, split_address
from cdd_scorer.output_files import OutputError
from cdd_scorer.paging import page_breaks
from cdd_scorer.round import run_round
from cdd_scorer.template import (
    ENTRY_SHEET,
    INSTRUCTIONS_SHEET,
    TemplateOptions,
    template_file_name,
    template_id,
    write_template,
    write_templates,
)
from cdd_scorer.template.grid import COLUMN_WIDTHS
from cdd_scorer.template.instructions import OPENING_STEPS
from cdd_scorer.template.layout import lines_height
from cdd_scorer.thai import DATE_FORMAT_BE

A4_POINTS = sorted((595, 842))


def _with(**changes: Any) -> dict[str, Any]:
    answers = dict(WORKED_EXAMPLE)
    for key, value in changes.items():
        if value is None:
            answers.pop(key, None)
        else:
            answers[key] = value
    return answers


# Each case is typed into its own district's template; the Python engine is the expectation.
CASES: dict[str, dict[str, Any]] = {
    "worked_example": dict(WORKED_EXAMPLE),
    "i4_not_applicable": _with(i4_overdue_debt_baseline=0, i4_overdue_debt_current=0),
    "t1_79_99_and_t2_exactly_75": _with(t1_budget_allocated=3_000_000, t1_budget_disbursed=2_399_700,
                                        t2_projects_planned=20, t2_projects_achieved=15),
    "t1_rounds_up_to_80_and_t2_75_01": _with(t1_budget_allocated=3_000_000, t1_budget_disbursed=2_399_900,
                                             t2_projects_planned=10_000, t2_projects_achieved=7_501),
    "late_deadlines": _with(t3_reported_to_executives=YES, t3_evidence_sent_date=dt.date(2022, 9, 1),
                            i1_households_recorded=3_100, i1_lao_qc_date=dt.date(2022, 8, 11),
                            i1_district_qc_date=dt.date(2022, 8, 12)),
    "cumulative_runs_broken": _with(t3_activities_done=NO, i3_mentor_team_active=NO, i3_groups_established=9,
                                    i7_action_plan_prepared=NO, i7_activities_done=15),
    "i5_not_applicable_i4_debt_grew_i6_award": _with(i5_online_sales_baseline=0, i4_overdue_debt_baseline=0,
                                                     i4_overdue_debt_current=5_000, i6_categories_submitted=5,
                                                     i6_award_received=YES),
    "everything_at_level_5": _with(t1_budget_disbursed=2_500_000, t2_projects_achieved=24,
                                   t3_reported_to_executives=YES, i1_households_recorded=3_001,
                                   i1_district_qc_date=dt.date(2022, 8, 15), i2_households_helped=150,
                                   i3_groups_established=8, i4_overdue_debt_current=180_000,
                                   i5_online_sales_current=92_000, i6_categories_submitted=4,
                                   i6_award_received=YES, i7_activities_done=15),
    "be_years_typed_into_an_ad_calendar": _with(t3_reported_to_executives=YES,
                                                t3_evidence_sent_date=dt.date(2565, 8, 31),
                                                i1_households_recorded=3_100, i1_lao_qc_date=dt.date(2565, 8, 10),
                                                i1_district_qc_date=dt.date(2565, 8, 16)),
    "answers_still_missing": _with(t2_projects_achieved=None, i3_progress_reported=None, reporter_phone=None),
}


def _every_input_wrong(kpi_set) -> dict[str, Any]:
    """A form full of problems: every input holds what the batch rejects, each with the longest message
    of its kind (a typed text where a number, a ใช่/ไม่ใช่ or a date belongs; an error value in a text)."""
    typed = {"money": "๑,๒๓๔ บาท", "count": "๑,๒๓๔ คน", "yesno": "อาจจะ", "date": "ไม่ทราบ", "text": "=1/0"}
    return {fld.id: typed[fld.type] for fld in kpi_set.fields}


def _value(cell_value: Any) -> Any:
    return None if cell_value in ("", None) else cell_value


def shown(value: Any, decimals: int) -> Any:
    """A number as the workbook shows it (rounded once); None stays None."""
    return None if value is None else round_half_away(value, decimals)


def _named_cell(wb: openpyxl.Workbook, name: str):
    ((sheet, address),) = wb.defined_names[name].destinations
    return wb[sheet][address.replace("$", "")]


@pytest.fixture(scope="module")
def template(template_dir: Path) -> Path:
    return sorted(template_dir.glob("*.xlsx"))[0]


@pytest.fixture(scope="module")
def workbook(template: Path) -> openpyxl.Workbook:
    return openpyxl.load_workbook(template)


@pytest.fixture(scope="module")
def round_trip(tmp_path_factory, kpi_set, khon_kaen_areas, libreoffice):
    """Every case filled into its district's template, recalculated by LibreOffice in one call."""
    root = tmp_path_factory.mktemp("preview")
    areas = khon_kaen_areas[: len(CASES)]
    templates = write_templates(kpi_set, areas, root / "templates")
    filled_dir = root / "filled"
    filled = [fill_template(t, answers, filled_dir / t.name) for t, answers in zip(templates, CASES.values())]
    recalculated = libreoffice.recalculate(filled, root / "recalculated")
    return {"areas": dict(zip(CASES, areas)), "filled_dir": filled_dir, "recalculated": dict(zip(CASES, recalculated)),
            "recalculated_dir": root / "recalculated"}


@pytest.fixture(scope="module")
def engine_scores(round_trip, kpi_set):
    """What `cdd-scorer score` makes of the filled workbooks, per district code."""
    result = run_round(round_trip["filled_dir"], kpi_set)
    return {d.area.district_code: d for d in result.districts}


@pytest.fixture(scope="module")
def check_texts(tmp_path_factory, template, kpi_set, libreoffice) -> dict[str, Path]:
    """The blank template, the worked example and a form full of problems, recalculated by LibreOffice."""
    root = tmp_path_factory.mktemp("check-texts")
    forms = {"blank": template,
             "worked_example": fill_template(template, WORKED_EXAMPLE, root / "worked_example.xlsx"),
             "full_of_problems": fill_template(template, _every_input_wrong(kpi_set), root / "full_of_problems.xlsx")}
    return dict(zip(forms, libreoffice.recalculate(list(forms.values()), root / "recalculated")))


@pytest.fixture(scope="module")
def pdf(tmp_path_factory, template_dir, kpi_set, khon_kaen_areas, libreoffice) -> Path:
    root = tmp_path_factory.mktemp("pdf")
    area = khon_kaen_areas[0]
    filled = fill_template(template_dir / template_file_name(area), WORKED_EXAMPLE, root / "worked_example.xlsx")
    (out,) = libreoffice.convert([filled], "pdf", root / "pdf")
    return out


# ---------------------------------------------------------------- guard rails (openpyxl)

def test_every_input_is_a_named_unlocked_validated_cell_with_its_field_id(workbook, kpi_set):
    entry = workbook[ENTRY_SHEET]
    for fld in kpi_set.fields:
        cell = _named_cell(workbook, fld.id)
        assert cell.parent.title == ENTRY_SHEET, fld.id
        assert cell.protection.locked is False, fld.id
        assert entry.cell(cell.row, 1).value == fld.id
        rules = [dv for dv in entry.data_validations.dataValidation if cell.coordinate in dv.sqref]
        assert len(rules) == 1, fld.id
        rule = rules[0]
        assert rule.showInputMessage and rule.prompt and rule.showErrorMessage and rule.error, fld.id


def test_only_the_inputs_are_unlocked(workbook, kpi_set):
    inputs = {_named_cell(workbook, f.id).coordinate for f in kpi_set.fields}
    for ws in workbook.worksheets:
        unlocked = {c.coordinate for row in ws.iter_rows() for c in row if c.has_style and not c.protection.locked}
        assert unlocked == (inputs if ws.title == ENTRY_SHEET else set()), ws.title


def test_every_sheet_and_the_workbook_structure_are_protected(workbook):
    assert all(ws.protection.sheet for ws in workbook.worksheets)
    assert workbook.security is not None and workbook.security.lockStructure


def test_a_password_protects_sheets_and_structure(tmp_path, kpi_set, khon_kaen_areas):
    path = write_template(kpi_set, khon_kaen_areas[0], tmp_path / "locked.xlsx", TemplateOptions(password="cdd"))
    wb = openpyxl.load_workbook(path)
    assert all(ws.protection.password == hash_password("cdd") for ws in wb.worksheets)
    assert wb.security.lockStructure and wb.security.workbookPassword == hash_password("cdd")


def test_metadata_sheet_is_very_hidden_and_locates_every_input(workbook, kpi_set):
    meta = workbook[META_SHEET]
    assert meta.sheet_state == "veryHidden"
    metadata = TemplateMetadata.from_rows(meta.iter_rows(values_only=True))
    for fld in kpi_set.fields:
        sheet, cell = split_address(metadata.cells[fld.id])
        assert (sheet, cell) == (ENTRY_SHEET, _named_cell(workbook, fld.id).coordinate)


def test_instructions_come_first_and_entry_sheet_second(workbook):
    assert workbook.sheetnames[:2] == [INSTRUCTIONS_SHEET, ENTRY_SHEET]
    assert workbook[ENTRY_SHEET].freeze_panes is not None


def test_preview_cells_carry_their_defined_names(workbook, kpi_set):
    names = [f"preview_{k.id}_level" for k in kpi_set.kpis]
    names += [f"preview_{sc.id}_score" for sc in kpi_set.scorecards] + ["preview_overall_percent"]
    for name in names:
        cell = _named_cell(workbook, name)
        assert str(cell.value).startswith("="), name
        assert cell.protection.locked, name


def test_yes_no_inputs_offer_exactly_the_two_answers(workbook, kpi_set):
    entry = workbook[ENTRY_SHEET]
    for fld in (f for f in kpi_set.fields if f.type == "yesno"):
        cell = _named_cell(workbook, fld.id).coordinate
        (rule,) = [dv for dv in entry.data_validations.dataValidation if cell in dv.sqref]
        assert rule.type == "list" and rule.formula1 == '"ใช่,ไม่ใช่"'


def test_a_part_is_validated_against_its_whole(workbook, kpi_set):
    entry = workbook[ENTRY_SHEET]
    parts = [f for f in kpi_set.fields if f.at_most]
    assert parts
    for part in parts:
        cell = _named_cell(workbook, part.id).coordinate
        whole = _named_cell(workbook, part.at_most).coordinate
        (rule,) = [dv for dv in entry.data_validations.dataValidation if cell in dv.sqref]
        formula = rule.formula1.replace("$", "")
        assert rule.type == "custom" and f"{cell}<={whole}" in formula


def test_dates_display_in_the_buddhist_era_and_money_with_two_decimals(workbook, kpi_set):
    for fld in kpi_set.fields:
        cell = _named_cell(workbook, fld.id)
        if fld.type == "date":
            assert cell.number_format == DATE_FORMAT_BE
        if fld.type == "money":
            assert cell.number_format == "#,##0.00"


def test_document_properties_identify_the_template(workbook, kpi_set, khon_kaen_areas):
    area = khon_kaen_areas[0]
    props = workbook.properties
    assert template_id(kpi_set, area) in props.keywords
    assert area.district_name_th in props.title and props.subject


def test_print_setup_is_a4_one_page_wide_with_titles_and_district_header(workbook, khon_kaen_areas):
    entry = workbook[ENTRY_SHEET]
    assert entry.page_setup.paperSize == 9
    assert entry.sheet_properties.pageSetUpPr.fitToPage
    assert (entry.page_setup.fitToWidth or 1) == 1  # absent means 1 in OOXML
    assert entry.page_setup.fitToHeight == 0  # as many pages tall as the breaks make: the breaks are kept
    assert entry.print_title_rows == "$3:$4"  # the status banner and the column headings
    assert khon_kaen_areas[0].district_name_th in entry.oddHeader.left.text
    assert "&P" in entry.oddFooter.right.text


def test_workers_write_the_same_workbooks_as_one_process_with_one_time_stamp(tmp_path, kpi_set, khon_kaen_areas):
    areas = khon_kaen_areas[:4]
    written: list[int] = []
    in_workers = write_templates(kpi_set, areas, tmp_path / "workers", jobs=2, progress=written.append)
    assert [p.name for p in in_workers] == [template_file_name(a) for a in areas]
    assert sum(written) == len(areas)
    stamps = {TemplateMetadata.from_rows(openpyxl.load_workbook(p)[META_SHEET].iter_rows(values_only=True)).generated_at
              for p in in_workers}
    assert len(stamps) == 1
    options = TemplateOptions(generated_at=dt.datetime.fromisoformat(stamps.pop()))
    in_one_process = write_templates(kpi_set, areas, tmp_path / "one", options, jobs=1)
    for one, worker in zip(in_one_process, in_workers):
        assert one.read_bytes() == worker.read_bytes(), one.name


def test_a_workbook_a_worker_cannot_write_is_reported_in_thai_and_english(tmp_path, kpi_set, khon_kaen_areas):
    areas = khon_kaen_areas[:3]
    (tmp_path / template_file_name(areas[1])).mkdir()  # a folder where the workbook should go
    with pytest.raises(OutputError, match=f"เขียนไฟล์ .*{template_file_name(areas[1])}.* cannot write"):
        write_templates(kpi_set, areas, tmp_path, jobs=2)


def test_file_names_are_ascii(khon_kaen_areas):
    for area in khon_kaen_areas:
        assert re.fullmatch(r"\d{4}_[A-Za-z0-9_]+\.xlsx", template_file_name(area))


def test_instructions_give_the_clerk_contact_and_the_deadline(tmp_path, kpi_set, khon_kaen_areas):
    options = TemplateOptions(clerk_name="นางสาวทดสอบ", clerk_phone="043-111222", clerk_email="clerk@example.go.th",
                              deadline=dt.date(2022, 10, 14))
    path = write_template(kpi_set, khon_kaen_areas[0], tmp_path / "x.xlsx", options)
    text = " ".join(str(c.value) for row in openpyxl.load_workbook(path)[INSTRUCTIONS_SHEET].iter_rows()
                    for c in row if c.value)
    for expected in ("นางสาวทดสอบ", "043-111222", "clerk@example.go.th", "๑๔ ตุลาคม ๒๕๖๕"):
        assert expected in text


def _kpi_blocks(workbook: openpyxl.Workbook, kpi_set) -> dict[str, tuple[int, int]]:
    """Each KPI's block, (title row, check row), 1-based: from the row above its first input to the first
    row after its level whose check formula says what is missing."""
    entry = workbook[ENTRY_SHEET]
    blocks = {}
    for kpi in kpi_set.kpis:
        first_input = min(_named_cell(workbook, fld.id).row for fld in kpi.fields)
        level_row = _named_cell(workbook, f"preview_{kpi.id}_level").row
        check_row = next(r for r in range(level_row + 1, entry.max_row + 1)
                         if "still missing" in str(entry.cell(r, 2).value))
        assert str(entry.cell(first_input - 1, 2).value).startswith(kpi.number_th), kpi.id
        blocks[kpi.id] = (first_input - 1, check_row)
    return blocks


def test_page_breaks_fall_between_kpi_blocks_only(workbook, kpi_set):
    breaks = [brk.id for brk in workbook[ENTRY_SHEET].row_breaks.brk]  # a page ends after row id (1-based)
    assert breaks
    for kpi_id, (title, check) in _kpi_blocks(workbook, kpi_set).items():
        assert not [b for b in breaks if title <= b < check], kpi_id


def test_a_group_taller_than_a_page_is_broken_where_it_must_and_the_others_are_kept_whole():
    heights = {row: 100.0 for row in range(20)}
    units = [(0, 2), (3, 9), (10, 13)]  # 300, 700 (taller than the 500 a page holds), 400 points
    assert page_breaks(units, heights.__getitem__, 50.0, 500.0) == [3, 8, 10]


def test_instructions_start_with_opening_the_file(workbook):
    steps = [row[2] for row in workbook[INSTRUCTIONS_SHEET].iter_rows(values_only=True)
             if row[1] and str(row[1]).endswith(".")]
    assert str(steps[0]).startswith(OPENING_STEPS[0][0])
    opening = " ".join(str(step) for step in steps[:len(OPENING_STEPS)])
    for words in ("มุมมองที่ได้รับการป้องกัน", "เปิดใช้งานการแก้ไข", "Protected View", "Enable Editing",
                  "LibreOffice", "WPS", "Google", "Microsoft Excel (.xlsx)"):
        assert words in opening, words


# ---------------------------------------------------------------- live preview (LibreOffice)

@pytest.mark.parametrize("case", list(CASES))
def test_preview_recalculated_by_libreoffice_equals_the_python_engine(case, round_trip, engine_scores, kpi_set):
    scored = engine_scores[round_trip["areas"][case].district_code].score
    wb = openpyxl.load_workbook(round_trip["recalculated"][case], data_only=True)
    for kpi in kpi_set.kpis:
        assert _value(_named_cell(wb, f"preview_{kpi.id}_level").value) == scored.kpis[kpi.id].level, kpi.id
    for sc in kpi_set.scorecards:
        assert shown(_value(_named_cell(wb, f"preview_{sc.id}_score").value), 4) == \
            shown(scored.scorecards[sc.id].score, 4), sc.id
    assert shown(_value(_named_cell(wb, "preview_overall_percent").value), 2) == scored.overall_percent
    rating = _value(_named_cell(wb, "preview_rating").value)
    assert rating == (scored.rating.name_th if scored.rating else None)


def test_worked_example_preview_is_the_spec_result(round_trip):
    wb = openpyxl.load_workbook(round_trip["recalculated"]["worked_example"], data_only=True)
    assert _named_cell(wb, "preview_team_score").value == 2.6
    assert _named_cell(wb, "preview_individual_score").value == 2.85
    assert _named_cell(wb, "preview_overall_percent").value == 54.5


def test_check_list_names_what_is_still_missing(round_trip, kpi_set):
    wb = openpyxl.load_workbook(round_trip["recalculated"]["answers_still_missing"], data_only=True)
    text = " ".join(str(c.value) for row in wb[ENTRY_SHEET].iter_rows() for c in row if c.value)
    assert "ยังไม่ได้กรอก 3 ช่อง" in text
    for field_id in ("t2_projects_achieved", "i3_progress_reported", "reporter_phone"):
        assert "• " + kpi_set.field(field_id).label_th in text
    complete = openpyxl.load_workbook(round_trip["recalculated"]["worked_example"], data_only=True)
    assert "still missing:" not in " ".join(str(c.value) for row in complete[ENTRY_SHEET].iter_rows()
                                            for c in row if c.value)


def test_filled_templates_round_trip_through_the_reader(engine_scores, round_trip):
    for case, area in round_trip["areas"].items():
        district = engine_scores[area.district_code]
        assert not [p for p in district.problems if p.code in ("field_cell_missing", "layout_changed")], case
        expected = "needs_correction" if case == "answers_still_missing" else "complete"
        assert district.status == expected, case


def test_templates_saved_by_libreoffice_score_the_same(round_trip, engine_scores, kpi_set):
    resaved = {d.area.district_code: d for d in run_round(round_trip["recalculated_dir"], kpi_set).districts}
    for area in round_trip["areas"].values():
        assert resaved[area.district_code].score == engine_scores[area.district_code].score


def test_libreoffice_prints_every_page_on_a4(pdf):
    boxes = re.findall(rb"/MediaBox\s*\[\s*([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s*\]", pdf.read_bytes())
    assert boxes
    for box in boxes:
        x0, y0, x1, y1 = map(float, box)
        assert sorted((round(x1 - x0), round(y1 - y0))) == A4_POINTS


def _pdf_pages(pdf: Path) -> list[str]:
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return text.split("\f")[:-1]


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) is not installed")
def test_libreoffice_prints_the_entry_sheet_on_at_most_six_pages_broken_only_between_blocks(pdf, workbook):
    entry_pages = [page for page in _pdf_pages(pdf) if "Criteria of levels" in page]  # the repeated headings
    assert len(entry_pages) <= 6
    # as many pages as our breaks make: LibreOffice needed no break of its own, which could split a block
    assert len(entry_pages) == len(workbook[ENTRY_SHEET].row_breaks.brk) + 1


def test_check_lists_and_the_banner_wrap_within_their_rows(check_texts, workbook, kpi_set):
    """Every text a formula shows (the banner, each KPI's check row, the summary's checks) fits the
    height its row was given, in the blank form (everything missing: I3's list is the longest), the worked
    example and a form full of problems."""
    entry = workbook[ENTRY_SHEET]
    spans = {(r.min_row, r.min_col): range(r.min_col, r.max_col + 1) for r in entry.merged_cells.ranges}
    formulas = [(c.row, c.column) for row in entry.iter_rows() for c in row
                if isinstance(c.value, str) and c.value.startswith("=")]
    for form, path in check_texts.items():
        shown = openpyxl.load_workbook(path, data_only=True)[ENTRY_SHEET]
        checked = 0
        for row, col in formulas:
            text = shown.cell(row, col).value
            if not isinstance(text, str) or not text or col > 5:  # hidden readings and problems
                continue
            width = sum(COLUMN_WIDTHS[c - 1] for c in spans.get((row, col), [col]))
            needed = lines_height(text, width, entry.cell(row, col).font.sz)
            assert entry.row_dimensions[row].height >= needed, (form, entry.cell(row, col).coordinate, text)
            checked += 1
        assert checked > 2 * len(kpi_set.kpis), form  # the banner, the check rows and the summary's checks


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) is not installed")
def test_libreoffice_shows_dates_in_the_buddhist_era_and_the_whole_sheet(pdf):
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "๒๐ ส.ค. ๒๕๖๕" in text  # WORKED_EXAMPLE's evidence date, 2022-08-20
    assert "ผลการประเมิน" in text  # the last rows are printed too
