"""A sheet whose cells span far beyond the form (issue 12 item 4): one stray value in XFD1048576, left
by a Ctrl+End accident or another program, makes a grid reader allocate 17 billion cells. An .xlsx is then
read by streaming only the cells the template defines, scored as usual, with a warning naming the sheet;
an .ods is refused, but every refused file whose hidden metadata can be read safely names its district,
which is then needs_correction, never missing."""

from __future__ import annotations

import io
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest
from badfiles import (
    BILLION_LAUGHS,
    deflate_bomb_zip,
    edit_workbook,
    far_apart_ods,
    insert_rows_at_top,
    rename_entry_sheet,
    stray_cell,
    with_far_apart_cells,
    with_stray_cell,
    write_zip,
    zip_members,
)
from openpyxl.utils.datetime import CALENDAR_MAC_1904
from python_calamine import CalamineWorkbook

from cdd_scorer.demo import synthetic_answers
from cdd_scorer.filling import fill_template
from cdd_scorer.metadata import META_SHEET
from cdd_scorer.reading import read_input_file
from cdd_scorer.round import run_round
from cdd_scorer.safety import check_file, open_checked
from cdd_scorer.template import ENTRY_SHEET, write_templates
from cdd_scorer.thai import Status
from cdd_scorer.validation import check_values
from cdd_scorer.workers import WorkerReader
from cdd_scorer.xlsx_values import CellValues, format_date_kind
from cdd_scorer.xlsx_xml import xlsx_rows, xlsx_sheet_parts

WHOLE_SHEET = "1,048,576 rows × 16,384 columns"


@pytest.fixture(scope="module")
def areas(khon_kaen_areas):
    return khon_kaen_areas[:3]


@pytest.fixture(scope="module")
def filled(tmp_path_factory, kpi_set, areas) -> dict[str, Path]:
    """Each district's template filled with its synthetic answers, as it came back (no stray cell)."""
    out = tmp_path_factory.mktemp("huge-filled")
    templates = write_templates(kpi_set, areas, out / "templates")
    return {a.district_code: fill_template(t, synthetic_answers(kpi_set, a), out / f"{a.district_code}.xlsx")
            for a, t in zip(areas, templates)}


@pytest.fixture(scope="module")
def stray(tmp_path_factory, filled, areas) -> Path:
    """The first district's filled form with one stray value in the entry sheet's last cell."""
    code = areas[0].district_code
    return with_stray_cell(filled[code], tmp_path_factory.mktemp("huge-stray") / f"{code}_stray.xlsx")


def test_the_stray_cell_makes_the_extent_huge_but_the_file_safe_to_stream(stray):
    check = check_file(stray, stray.name)
    assert (check.format, check.problem) == ("xlsx", None)
    [extent] = check.huge_sheets
    assert (extent.describe(), extent.last_cell) == (WHOLE_SHEET, "XFD1048576")


def test_a_stray_value_in_the_last_cell_is_ignored_and_the_form_read_in_full(stray, filled, areas, kpi_set):
    plain = read_input_file(filled[areas[0].district_code], "plain.xlsx", kpi_set).submission
    raw = read_input_file(stray, stray.name, kpi_set).submission
    assert raw.cells == plain.cells and raw.metadata == plain.metadata
    [warning] = raw.problems
    assert (warning.code, warning.severity, warning.sheet, warning.cell) == (
        "stray_cells_ignored", "warning", ENTRY_SHEET, "XFD1048576")
    assert warning.district_code == areas[0].district_code
    assert WHOLE_SHEET in warning.message_en and ENTRY_SHEET in warning.message_th
    assert "XFD1048576" in warning.type.district_action_th.format(**warning.params)


def test_moved_and_renamed_rows_are_found_in_a_streamed_sheet(tmp_path, filled, areas, kpi_set):
    source = filled[areas[0].district_code]
    plain = read_input_file(source, "plain.xlsx", kpi_set).submission
    for edit, sheet in ((insert_rows_at_top, ENTRY_SHEET), (rename_entry_sheet, "ข้อมูลอำเภอ")):
        def edit_and_stray(wb, edit=edit, sheet=sheet):
            edit(wb)
            stray_cell(sheet)(wb)
        edited = edit_workbook(source, tmp_path / f"{edit.__name__}.xlsx", edit)
        calamine = read_input_file(edited, edited.name, kpi_set).submission
        strayed = edit_workbook(source, tmp_path / f"{edit.__name__}_stray.xlsx", edit_and_stray)
        streamed = read_input_file(strayed, strayed.name, kpi_set).submission
        assert streamed.cells == calamine.cells != plain.cells
        assert [p.code for p in streamed.problems] == ["stray_cells_ignored"] + [p.code for p in calamine.problems]
        assert {p.code for p in calamine.problems} == {"layout_changed"}


def test_a_far_apart_sheet_without_the_form_reports_its_cells_missing(tmp_path, filled, areas, kpi_set):
    """The entry sheet replaced by A1 and XFD1048576 only: every input is reported missing, not guessed."""
    far = with_far_apart_cells(filled[areas[0].district_code], tmp_path / "far.xlsx")
    raw = read_input_file(far, far.name, kpi_set).submission
    assert {p.code for p in raw.problems} == {"stray_cells_ignored", "field_cell_missing"}
    assert not raw.cells


# ---- a streamed cell reads as calamine reads it

def _probe_workbook(path: Path, epoch=None) -> Path:
    """Numbers under every kind of number format (dates, times, elapsed times, Excel's day 60, the last
    date there is), then a sheet of hand-written cells: shared and inline rich text, phonetic runs,
    whitespace, booleans, errors, formula text, ISO dates, rows and cells without ``r``."""
    wb = openpyxl.Workbook()
    if epoch:
        wb.epoch = epoch
    formats = ["General", "0.00", "d/m/yyyy", "[$-D07041E]d mmm yyyy", "h:mm:ss", "[h]:mm", "[mm]:ss", "mmm-yy",
               "yyyy-mm-dd hh:mm", '"day "0', "0.00;[Red]-d", "[Blue]0", "am/pm 0", "dd\\d", "_d0", "*d0", "a0"]
    serials = [-1, 0, 0.25, 0.9999999, 1, 1.5, 59, 60, 60.5, 61, 44793, 44793.999994, 2958465, 2958466]
    for r, serial in enumerate(serials, 1):
        for c, number_format in enumerate(formats, 1):
            wb.active.cell(r, c, serial).number_format = number_format
    wb.create_sheet("typed")
    wb.save(path)
    members = zip_members(path)
    members["xl/worksheets/sheet2.xml"] = (
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1">'
        b'<c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="C1" t="inlineStr"><is><r><t>ab</t></r>'
        b'<r><t xml:space="preserve"> c </t></r><rPh><t>PH</t></rPh></is></c><c r="D1" t="b"><v>1</v></c>'
        b'<c r="E1" t="b"><v>0</v></c><c r="F1" t="e"><v>#DIV/0!</v></c><c r="G1" t="str"><f>A1</f><v> s </v></c>'
        b'<c r="H1"><f>1+1</f></c><c r="I1" t="d"><v>2022-08-20</v></c><c r="J1" t="d"><v>2022-08-20T10:30:00</v>'
        b'</c><c r="K1"><v></v></c><c r="L1" t="inlineStr"><is><t> trimmed </t></is></c></row><row><c t="s">'
        b'<v>2</v></c><c><v>7</v></c></row></sheetData></worksheet>')
    members["xl/sharedStrings.xml"] = (
        '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t> a </t></si><si><r><t>'
        'rich</t></r><r><t xml:space="preserve"> text</t></r><rPh><t>ZZ</t></rPh></si><si><t>ก_x000D_ข&amp;</t>'
        '</si></sst>').encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


@pytest.mark.parametrize("epoch", [None, CALENDAR_MAC_1904], ids=["1900", "1904"])
def test_every_kind_of_cell_streams_as_calamine_reads_it(tmp_path, epoch):
    probe = _probe_workbook(tmp_path / "probe.xlsx", epoch)
    check, content = open_checked(probe, probe.name)
    assert check.problem is None
    calamine = CalamineWorkbook.from_filelike(io.BytesIO(content.data))
    values, compared = CellValues(content), 0
    for sheet, member in xlsx_sheet_parts(content).items():
        grid = calamine.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
        for row, cells in xlsx_rows(content.open(member)):
            for col, cell in cells:
                streamed = values.value(cell)
                assert (type(streamed), streamed) == (type(grid[row][col]), grid[row][col]), (sheet, row, col)
                compared += 1
    assert compared == 14 * 17 + 14


@pytest.mark.parametrize("code, kind", [
    ("d/m/yyyy", "datetime"), ("[$-D07041E]d mmm yyyy", "datetime"), ("h:mm AM/PM", "datetime"),
    ("[h]:mm:ss", "timedelta"), ("[Blue]\\+[h]:mm", "timedelta"), ("[ss].00", "timedelta"),
    ("#,##0.00", None), ('"day "0', None), ("0;[Red]-d", None), ("[Red]#,##0", None), ("General", None),
    ("\\d0", None), ("* #,##0", None), ("[>=100][Magenta].00", None),
])
def test_a_number_format_is_a_date_when_its_first_section_shows_one(code, kind):
    assert format_date_kind(code) == kind


def test_the_form_of_a_libreoffice_saved_file_streams_as_calamine_reads_it(libreoffice, tmp_path, stray, filled,
                                                                           areas, kpi_set):
    """LibreOffice keeps the stray cell and writes shared strings and its own styles."""
    plain = shutil.copy(filled[areas[0].district_code], tmp_path / "plain.xlsx")
    saved = libreoffice.convert([plain, stray], "xlsx", tmp_path / "lo")
    calamine = read_input_file(saved[0], "plain.xlsx", kpi_set).submission
    streamed = read_input_file(saved[1], "stray.xlsx", kpi_set).submission
    assert check_file(saved[1], "stray.xlsx").huge_sheets
    assert streamed.cells == calamine.cells
    assert [p.code for p in streamed.problems] == ["stray_cells_ignored"]


# ---- refused, but named: the district needs correction, it is not missing

def test_a_huge_ods_is_refused_on_the_district_its_metadata_names(tmp_path, filled, areas, kpi_set):
    meta = read_input_file(filled[areas[1].district_code], "f.xlsx", kpi_set).submission.metadata
    named = read_input_file(far_apart_ods(tmp_path / "named.ods", meta), "named.ods", kpi_set).problem
    anonymous = read_input_file(far_apart_ods(tmp_path / "anonymous.ods"), "anonymous.ods", kpi_set).problem
    assert (named.code, named.province_code, named.district_code) == ("sheet_too_large", "40", meta.district_code)
    assert named.params["member"] == "Sheet1" and named.params["extent"] == WHOLE_SHEET
    assert (anonymous.code, anonymous.district_code) == ("sheet_too_large", "")


def test_a_bomb_whose_metadata_is_intact_names_its_district(tmp_path, filled, areas):
    bomb = deflate_bomb_zip(tmp_path / "b.xlsx", filled[areas[0].district_code], "xl/styles.xml", 50)
    problem = check_file(bomb, bomb.name).problem
    assert (problem.code, problem.district_code) == ("decompression_bomb", areas[0].district_code)


def test_metadata_that_is_itself_hostile_names_no_district(tmp_path, filled, areas):
    source = filled[areas[0].district_code]
    with zipfile.ZipFile(source) as archive:
        meta_part = xlsx_sheet_parts(archive)[META_SHEET]
    members = {**zip_members(source), meta_part: BILLION_LAUGHS}
    problem = check_file(write_zip(tmp_path / "l.xlsx", members), "l.xlsx").problem
    assert (problem.code, problem.params["member"], problem.district_code) == ("xml_entities", meta_part, "")


def test_the_round_scores_the_stray_file_and_asks_the_ods_district_to_correct(libreoffice, tmp_path, stray,
                                                                              filled, areas, kpi_set):
    """One round through worker processes: district 1 sent an .xlsx with a stray cell (complete, with the
    warning), district 2 the same accident saved as .ods (refused, needs correction), district 3 its form."""
    first, second, third = (a.district_code for a in areas)
    folder = tmp_path / "input"
    folder.mkdir()
    shutil.copy(stray, folder / stray.name)
    libreoffice.convert([with_stray_cell(filled[second], tmp_path / f"{second}.xlsx")], "ods", folder)
    shutil.copy(filled[third], folder / f"{third}.xlsx")
    result = run_round(folder, kpi_set, province="40", reader=WorkerReader(jobs=1))
    rows = {d.area.district_code: d for d in result.districts}
    assert (rows[first].status, rows[second].status, rows[third].status) == (
        Status.COMPLETE, Status.NEEDS_CORRECTION, Status.COMPLETE)
    plain = read_input_file(filled[first], "plain.xlsx", kpi_set).submission
    assert rows[first].checked.values == check_values(kpi_set, plain.cells, {}).values
    assert rows[first].score.overall_percent is not None
    assert "stray_cells_ignored" in {p.code for p in rows[first].problems}
    refusal = next(p for p in rows[second].problems if p.code == "sheet_too_large")
    assert (refusal.file, refusal.params["member"]) == (f"{second}.ods", ENTRY_SHEET)
    assert all(d.status != Status.MISSING for d in result.districts if d.area.district_code in (first, second))
