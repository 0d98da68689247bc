"""The empty adjustments workbook (``cdd-scorer adjustments-template``): the columns ``read_adjustments``
reads, with Thai headers, drop-down lists of the districts, KPIs and fields, checked levels and dates,
and an instructions sheet. The first sheet is the one read; its rows start under the header row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import xlsxwriter

from cdd_scorer.adjustments import COLUMNS
from cdd_scorer.geography import Area
from cdd_scorer.kpi import KpiSet
from cdd_scorer.output_files import atomic_output
from cdd_scorer.thai import DATE_FORMAT_BE

DECISIONS_SHEET, INSTRUCTIONS_SHEET, LISTS_SHEET = "การปรับแก้", "คำชี้แจง", "รายการ"
ROWS = 300  # decision rows with drop-downs and checks
WIDTHS = {"district": 26, "kpi": 30, "field": 44, "value": 16, "level": 12, "reason": 50, "decided_by": 26,
          "decided_on": 16}
HELP = {
    "district": ("เลือกอำเภอจากรายการ (หรือพิมพ์รหัส ๔ หลัก)", "choose the district (or type its 4-digit code)"),
    "kpi": ("เลือกตัวชี้วัด (ไม่ต้องระบุเมื่อเลือกช่องข้อมูลแล้ว)", "choose the KPI (optional when a field is chosen)"),
    "field": ("ช่องข้อมูลที่คณะกรรมการแก้ไขค่า (เว้นว่างเมื่อวินิจฉัยระดับ)",
              "the field whose value the committee corrected (empty when it decided a level)"),
    "value": ("ค่าที่ถูกต้องของช่องข้อมูลนั้น: ตัวเลข ใช่/ไม่ใช่ หรือวันที่ เช่น 31/8/2565",
              "the field's correct value: a number, ใช่/ไม่ใช่, or a date such as 31/8/2565"),
    "level": ("ระดับที่คณะกรรมการวินิจฉัย ๐–๕ (เว้นว่างเมื่อแก้ค่าของช่องข้อมูล)",
              "the level the committee decided, 0-5 (empty when it corrected a field)"),
    "reason": ("เหตุผลของการปรับแก้ (ต้องระบุ)", "why (required)"),
    "decided_by": ("ผู้วินิจฉัย เช่น คณะกรรมการกลั่นกรองผลการประเมิน (ต้องระบุ)",
                   "who decided, e.g. the screening committee (required)"),
    "decided_on": ("วันที่วินิจฉัย เช่น 20/10/2565", "when it was decided, e.g. 20/10/2565"),
}


def write_adjustments_template(kpi_set: KpiSet, areas: Sequence[Area], path: Path, font: str = "TH Sarabun New"
                               ) -> Path:
    """Write an empty adjustments workbook for ``areas`` and the card to ``path`` (atomically)."""
    with atomic_output(path) as tmp:
        wb = xlsxwriter.Workbook(str(tmp), {"strings_to_formulas": False, "strings_to_numbers": False})
        base = {"font_name": font, "font_size": 14, "valign": "top"}
        header = wb.add_format({**base, "bold": True, "text_wrap": True, "bg_color": "#DDEBF7", "border": 1,
                                "align": "center", "valign": "vcenter"})
        cell = wb.add_format({**base, "bg_color": "#FFF2CC", "border": 1, "border_color": "#BFBFBF"})
        date = wb.add_format({**base, "bg_color": "#FFF2CC", "border": 1, "border_color": "#BFBFBF",
                              "num_format": DATE_FORMAT_BE})
        decisions, instructions, lists = (wb.add_worksheet(n) for n in (DECISIONS_SHEET, INSTRUCTIONS_SHEET,
                                                                          LISTS_SHEET))
        choices = {"district": [f"{a.district_code} {a.district_name_th}" for a in areas],
                   "kpi": [f"{k.id} {k.title_th[:60]}" for k in kpi_set.kpis],
                   "field": [f"{f.id} {f.label_th}" for f in kpi_set.fields if f.kpi_id and f.type != "text"]}
        for col, (key, items) in enumerate(choices.items()):
            lists.write_column(0, col, items)
            choices[key] = f"='{LISTS_SHEET}'!${chr(65 + col)}$1:${chr(65 + col)}${len(items)}"
        lists.hide()
        decisions.set_row(0, 60)
        decisions.freeze_panes(1, 0)
        for col, column in enumerate(COLUMNS):
            decisions.write_string(0, col, column.header, header)
            decisions.set_column(col, col, WIDTHS[column.key], date if column.key == "decided_on" else cell)
            th, en = HELP[column.key]
            check = _check(column.key, choices.get(column.key))
            decisions.data_validation(1, col, ROWS, col, {
                **check, "input_title": column.th[:32], "input_message": f"{th}\n{en}"[:255],
                "error_title": "ค่าไม่ถูกต้อง / invalid", "error_message": f"{th}\n{en}"[:255]})
        instructions.set_column(0, 0, 28)
        instructions.set_column(1, 1, 90)
        wrap = wb.add_format({**base, "text_wrap": True})
        bold = wb.add_format({**base, "bold": True})
        instructions.write_string(0, 0, f"การปรับแก้ตามมติคณะกรรมการ / committee adjustments — {kpi_set.id}", bold)
        instructions.write_string(1, 0, "หนึ่งแถวต่อหนึ่งการวินิจฉัย: แก้ค่าของช่องข้อมูล หรือวินิจฉัยระดับของตัวชี้วัด แล้วใช้ไฟล์นี้กับ "
                                        "cdd-scorer score --adjustments / one row per decision: a corrected field "
                                        "value or a decided KPI level; use it with cdd-scorer score --adjustments",
                                  wrap)
        for row, column in enumerate(COLUMNS, start=3):
            instructions.write_string(row, 0, column.header.replace("\n", " / "), wrap)
            instructions.write_string(row, 1, " / ".join(HELP[column.key]), wrap)
        wb.close()
    return path


def _check(key: str, source: str | None) -> dict:
    """The data validation of a column: a list, a level 0–5, a date, or any value."""
    if source:
        return {"validate": "list", "source": source}
    if key == "level":
        return {"validate": "integer", "criteria": "between", "minimum": 0, "maximum": 5}
    if key == "decided_on":
        return {"validate": "date", "criteria": "between", "minimum": dt.date(2000, 1, 1),
                "maximum": dt.date(2100, 12, 31)}
    return {"validate": "any"}
