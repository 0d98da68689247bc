"""The entry workbook's guard rails: its locked structure and sheets, and the data validation of every
input, with Thai input messages and error alerts."""

from __future__ import annotations

from collections.abc import Mapping

from xlsxwriter.worksheet import Worksheet

from cdd_scorer import excel_formulas as xf
from cdd_scorer import xlsx
from cdd_scorer.kpi import KpiSet
from cdd_scorer.template.grid import VALUE_COL
from cdd_scorer.template.inputs import InputCell
from cdd_scorer.thai import BE_OFFSET, be_date


def password_hash(password: str) -> str:
    """The legacy Office protection hash (ECMA-376 Part 4, §18.2.29), as Excel and LibreOffice read it."""
    digest = 0
    for char in reversed(password):
        digest = ((digest >> 14) & 0x01) | ((digest << 1) & 0x7FFF)
        digest ^= ord(char)
    digest = ((digest >> 14) & 0x01) | ((digest << 1) & 0x7FFF)
    return f"{digest ^ len(password) ^ 0xCE4B:X}"


class LockedWorkbook(xlsx.Workbook):
    """A workbook whose structure is locked (no sheet added, deleted, renamed or unhidden).

    XlsxWriter has no API for it, so the ``workbookProtection`` element is written after ``workbookPr``
    (its place in ECMA-376), which saves unzipping and rezipping every file. Should a new XlsxWriter
    rename ``_write_workbook_pr``, the protection tests fail.
    """

    def __init__(self, filename: str, options: dict, structure_password: str = ""):
        super().__init__(filename, options)
        self.structure_password = structure_password

    def _write_workbook_pr(self) -> None:
        super()._write_workbook_pr()
        attributes = [("lockStructure", 1)]
        if self.structure_password:
            attributes.append(("workbookPassword", password_hash(self.structure_password)))
        self._xml_empty_tag("workbookProtection", attributes)


def protect_sheet(ws: Worksheet, password: str) -> None:
    """Lock every cell but the unlocked (yellow) ones; rows and columns may still be resized."""
    ws.protect(password, {"select_locked_cells": True, "select_unlocked_cells": True,
                          "format_rows": True, "format_columns": True})


def validate_input(ws: Worksheet, entry: InputCell, inputs: Mapping[str, InputCell], kpi_set: KpiSet) -> None:
    """Data validation with a Thai input message and a Thai error alert; ``inputs`` (every input by field
    id) gives the cells of the wholes it may not exceed and of the parts that may not exceed it."""
    fld, cell = entry.field, entry.cell
    wholes = [kpi_set.field(fld.at_most)] if fld.at_most else []
    parts = [p for k in kpi_set.kpis for p in k.fields if p.at_most == fld.id]
    limits = [f"OR(NOT(ISNUMBER({inputs[w.id].cell})),{cell}<={inputs[w.id].cell})" for w in wholes]
    limits += [f"OR(NOT(ISNUMBER({inputs[p.id].cell})),{cell}>={inputs[p.id].cell})" for p in parts]
    limit_th = "".join(f" และไม่เกิน{w.label_th}" for w in wholes)
    limit_th += "".join(f" และไม่น้อยกว่า{p.label_th}" for p in parts)
    lowest = ">0" if fld.positive else ">=0"
    lowest_th = "มากกว่า 0" if fld.positive else "ตั้งแต่ 0 ขึ้นไป"
    start, end = kpi_set.fiscal_year_start, kpi_set.fiscal_year_end
    rule: dict[str, object]
    if fld.type in ("money", "count"):
        exact = f"ROUND({cell},2)={cell}" if fld.type == "money" else f"INT({cell})={cell}"
        kind_th = "จำนวนเงิน (บาท) ทศนิยมไม่เกิน 2 ตำแหน่ง" if fld.type == "money" else "จำนวนเต็ม"
        rule = {"validate": "custom",
                "value": f"=AND(ISNUMBER({cell}),{cell}{lowest},{exact}{''.join(',' + x for x in limits)})",
                "input_message": f"{kind_th} {lowest_th}{limit_th} ไม่ต้องพิมพ์หน่วยหรือจุลภาค",
                "error_message": f"กรุณากรอก{kind_th} {lowest_th}{limit_th}"}
    elif fld.type == "yesno":
        rule = {"validate": "list", "source": [xf.YES_TH, xf.NO_TH],
                "input_message": "เลือก ใช่ หรือ ไม่ใช่ จากรายการ (ลูกศรทางขวาของช่อง)",
                "error_message": "กรุณาเลือก ใช่ หรือ ไม่ใช่ จากรายการเท่านั้น"}
    elif fld.type == "date":
        in_year = (f"AND({cell}>=DATE({start.year},{start.month},{start.day}),"
                   f"{cell}<=DATE({end.year},{end.month},{end.day}))")
        # A BE year typed into an AD calendar (31/8/2565 → year 2565) is accepted, as the reader accepts it.
        typed_be = (f"AND({cell}>=DATE({start.year + BE_OFFSET},{start.month},{start.day}),"
                    f"{cell}<=DATE({end.year + BE_OFFSET},{end.month},{end.day}))")
        period = f"{be_date(start)} ถึง {be_date(end)}"
        blank = " เว้นว่างถ้ายังไม่ได้ดำเนินการ" if fld.optional else ""
        rule = {"validate": "custom", "value": f"=AND(ISNUMBER({cell}),OR({in_year},{typed_be}))",
                "error_type": "warning",
                "input_message": f"พิมพ์วันที่ วัน/เดือน/ปี พ.ศ. เช่น 31/8/2565 ในปีงบประมาณ ({period}){blank}",
                "error_message": f"วันที่ควรอยู่ในปีงบประมาณ ({period}) พิมพ์แบบ 31/8/2565 "
                                 "ถ้าวันที่ถูกต้องแล้วกด ใช่ (Yes) เพื่อยืนยัน"}
    else:
        rule = {"validate": "length", "criteria": "<=", "value": 1000,
                "input_message": ("ข้อความ (ไม่บังคับ) เช่น คำอธิบาย เลขที่หนังสือ หรือลิงก์หลักฐาน"
                                  if fld.optional else f"พิมพ์{fld.label_th}"),
                "error_message": "ข้อความยาวเกิน 1,000 ตัวอักษร"}
    ws.data_validation(entry.row, VALUE_COL, entry.row, VALUE_COL, {
        "error_type": "stop", **rule,
        "input_title": _clip(fld.label_th, 32), "error_title": "ข้อมูลไม่ถูกต้อง / invalid",
        "input_message": _clip(str(rule["input_message"]), 255),
        "error_message": _clip(str(rule["error_message"]), 255), "ignore_blank": True})


def _clip(text: str, limit: int) -> str:
    """Excel's limits on validation titles and messages (longer ones are dropped by XlsxWriter)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
