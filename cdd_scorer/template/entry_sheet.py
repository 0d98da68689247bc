"""The entry sheet (กรอกข้อมูล): grouped by scorecard and KPI, the card's title and five level texts beside
yellow input cells, each guarded by data validation; the live preview of results, levels, points and
scores, a check list of what is still missing, and the status banner in the frozen header."""

from __future__ import annotations

from collections.abc import Sequence

from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from cdd_scorer import excel_formulas as xf
from cdd_scorer.geography import Area
from cdd_scorer.kpi import Field, KpiSet
from cdd_scorer.template.grid import (
    COLUMN_WIDTHS,
    HEADER_ROWS,
    HIDDEN_COLUMNS,
    HINT_COL,
    LABEL_COL,
    LEVEL_COL,
    STATUS_ROW,
    VALUE_COL,
)
from cdd_scorer.template.inputs import InputCell, write_input, write_problem
from cdd_scorer.template.kpi_block import KpiBlock, write_kpi_block
from cdd_scorer.template.layout import Sheet, lines_height
from cdd_scorer.template.pages import HEADER_MARGIN, set_up_pages
from cdd_scorer.template.preview import write_status_banner, write_summary
from cdd_scorer.template.protection import protect_sheet, validate_input
from cdd_scorer.template.style import CARD_SIZE, Formats, TemplateOptions, page_header_footer
from cdd_scorer.thai import thai_digits

SPACER_HEIGHT = 6.0  # points between blocks


def write_entry_sheet(wb: Workbook, ws: Worksheet, formats: Formats, kpi_set: KpiSet, area: Area,
                      options: TemplateOptions) -> list[InputCell]:
    """Write the whole entry sheet; return its inputs, in the order of the sheet, for the ``_meta`` sheet."""
    sheet = Sheet(wb, ws, formats, COLUMN_WIDTHS)
    _heading(sheet, kpi_set, area)
    row = _spacer(sheet, HEADER_ROWS)
    blocks: dict[str, KpiBlock] = {}
    groups: list[tuple[int, int]] = []  # rows printed on one page: a KPI (the first with its scorecard's heading)
    for sc in kpi_set.scorecards:
        weight = thai_digits(xf.number(kpi_set.scorecard_weights[sc.id]))
        group_start = row
        sheet.merged(row, LABEL_COL, LEVEL_COL, f"{sc.name_th} (ร้อยละ {weight} ของคะแนนรวม)", sc.name_en,
                     formats["card"], size=CARD_SIZE)
        row += 1
        for kpi in sc.kpis:
            blocks[kpi.id] = block = write_kpi_block(sheet, row, kpi, kpi_set)
            row = _spacer(sheet, block.last_row + 1)
            groups.append((group_start, row - 1))
            group_start = row
    reporter, row = _reporter_block(sheet, row, kpi_set.reporter_fields)
    row = _spacer(sheet, row)
    groups.append((group_start, row - 1))
    inputs = [entry for block in blocks.values() for entry in block.inputs] + reporter
    by_field = {entry.field.id: entry for entry in inputs}
    for entry in inputs:
        validate_input(ws, entry, by_field, kpi_set)
        write_problem(sheet, entry, by_field, kpi_set)
    reporter_required = [entry for entry in reporter if not entry.field.optional]
    overall_ref, rating_ref, last_row = write_summary(sheet, row, kpi_set, blocks, reporter, reporter_required)
    groups.append((row, last_row))
    required_by_batch = [entry for block in blocks.values() for entry in block.required]
    required = required_by_batch + reporter_required
    write_status_banner(sheet, inputs, required, required_by_batch, overall_ref, rating_ref)
    sheet.set_heights()

    ws.freeze_panes(HEADER_ROWS, 0)
    # The banner and the column headings on top of every page; the page header names the district.
    set_up_pages(ws, COLUMN_WIDTHS, HIDDEN_COLUMNS, (STATUS_ROW, HEADER_ROWS - 1), groups, sheet.height)
    page_header_footer(ws, kpi_set, area, options.font, HEADER_MARGIN)
    protect_sheet(ws, options.password)
    return inputs


def _heading(sheet: Sheet, kpi_set: KpiSet, area: Area) -> None:
    """Hidden and sized columns, the title, the district and round, the column headings."""
    ws, f = sheet.ws, sheet.formats
    for col, width in COLUMN_WIDTHS.items():
        ws.set_column(col, col, width, None, {"hidden": col in HIDDEN_COLUMNS})
    ws.hide_gridlines(2)
    merged_width = sum(COLUMN_WIDTHS[c] for c in (LABEL_COL, VALUE_COL, HINT_COL, LEVEL_COL))
    ws.merge_range(0, LABEL_COL, 0, LEVEL_COL, kpi_set.title_th, f["title"])
    sheet.grow(0, lines_height(kpi_set.title_th, merged_width, 20))
    place = (f"จังหวัด{area.province_name_th} อำเภอ{area.district_name_th} · {kpi_set.round_th} · "
             f"ปีงบประมาณ พ.ศ. {thai_digits(kpi_set.fiscal_year_be)}")
    place_en = f"{area.district_name_en}, {area.province_name_en} · {kpi_set.round_en}"
    sheet.merged(1, LABEL_COL, LEVEL_COL, place, place_en, f["subtitle"], bold=True, size=16)
    headings = [(LABEL_COL, "รายการ", "Item"), (VALUE_COL, "ข้อมูลที่กรอก", "Your entry"),
                (HINT_COL, "วิธีกรอก", "How to fill"),
                (LEVEL_COL, "เกณฑ์การให้คะแนน (ระดับ ๑–๕) ตามตัวชี้วัด", "Criteria of levels 1–5")]
    for col, thai, english in headings:
        sheet.bilingual(3, col, thai, english, f["heading"], bold=True)


def _spacer(sheet: Sheet, row: int) -> int:
    """A thin empty row between blocks; returns the row after it."""
    sheet.grow(row, SPACER_HEIGHT)
    return row + 1


def _reporter_block(sheet: Sheet, row: int, fields: Sequence[Field]) -> tuple[list[InputCell], int]:
    """The reporter's heading and inputs from ``row`` on; returns the inputs and the row after them."""
    f = sheet.formats
    sheet.merged(row, LABEL_COL, LEVEL_COL, "ผู้รายงาน", "Reporter", f["card"], size=CARD_SIZE)
    row += 1
    inputs = []
    for fld in fields:
        inputs.append(write_input(sheet, row, fld))
        sheet.ws.write_blank(row, LEVEL_COL, None, f["level"])
        row += 1
    return inputs, row
