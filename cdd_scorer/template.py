"""The district entry workbook, written with xlsxwriter.

One workbook per district: an entry sheet grouped by scorecard and KPI with the card's level texts
beside yellow input cells, a live preview of results, levels and scores computed by formulas, and
a very hidden metadata sheet that identifies the template (see ``metadata``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import xlsxwriter
from xlsxwriter.utility import xl_rowcol_to_cell

from cdd_scorer import __version__
from cdd_scorer import excel_formulas as xf
from cdd_scorer.geography import Area
from cdd_scorer.kpi import Field, KpiSet
from cdd_scorer.metadata import META_SHEET, TemplateMetadata, join_address
from cdd_scorer.output_files import atomic_output, ensure_folder

ENTRY_SHEET = "กรอกข้อมูล"
INPUT_COL = 3  # column D
LEVEL_TEXT_COL = 5  # column F
DATE_FORMAT_BE = "[$-D07041E]d mmm yyyy"
MONEY_FORMAT = "#,##0.00"
COUNT_FORMAT = "#,##0"


@dataclass(frozen=True)
class TemplateOptions:
    font: str = "TH Sarabun New"
    password: str = ""
    generated_at: dt.datetime | None = None


def template_file_name(area: Area) -> str:
    """ASCII-safe file name: ``<district code>_<English name>.xlsx``."""
    name = re.sub(r"[^A-Za-z0-9]+", "_", area.district_name_en).strip("_")
    return f"{area.district_code}_{name or 'district'}.xlsx"


def template_id(kpi_set: KpiSet, area: Area) -> str:
    digest = hashlib.sha256(f"{kpi_set.id}|{kpi_set.fingerprint}|{area.district_code}".encode())
    return f"{kpi_set.id}-{area.district_code}-{digest.hexdigest()[:8]}"


def write_templates(kpi_set: KpiSet, areas: Iterable[Area], out_dir: Path,
                    options: TemplateOptions = TemplateOptions()) -> list[Path]:
    """Write one entry workbook per district into ``out_dir``; return their paths."""
    ensure_folder(out_dir)
    return [write_template(kpi_set, area, out_dir / template_file_name(area), options)
            for area in areas]


def write_template(kpi_set: KpiSet, area: Area, path: Path,
                   options: TemplateOptions = TemplateOptions()) -> Path:
    """Write one district's entry workbook to ``path`` (atomically)."""
    with atomic_output(path) as tmp:
        _TemplateWriter(kpi_set, area, options).write(tmp)
    return path


class _TemplateWriter:
    def __init__(self, kpi_set: KpiSet, area: Area, options: TemplateOptions):
        self.kpi_set = kpi_set
        self.area = area
        self.options = options
        self.cells: dict[str, str] = {}

    def ref(self, field_id: str) -> str:
        return self.cells[field_id]

    def write(self, path: Path) -> None:
        generated = self.options.generated_at or dt.datetime.now().replace(microsecond=0)
        wb = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False,
                                             "strings_to_numbers": False})
        wb.set_properties({
            "title": f"{self.kpi_set.title_th} — {self.area.district_name_th}",
            "subject": self.kpi_set.round_th,
            "company": "กรมการพัฒนาชุมชน",
            "keywords": template_id(self.kpi_set, self.area),
            "created": generated,
        })
        self.formats = self._formats(wb)
        ws = wb.add_worksheet(ENTRY_SHEET)
        self._entry_sheet(wb, ws)
        meta = wb.add_worksheet(META_SHEET)
        metadata = TemplateMetadata(
            template_id=template_id(self.kpi_set, self.area), kpi_set_id=self.kpi_set.id,
            kpi_fingerprint=self.kpi_set.fingerprint, province_code=self.area.province_code,
            province_name_th=self.area.province_name_th,
            province_name_en=self.area.province_name_en,
            district_code=self.area.district_code, district_name_th=self.area.district_name_th,
            district_name_en=self.area.district_name_en, tool_version=__version__,
            generated_at=generated.isoformat(), cells={
                f: join_address(ENTRY_SHEET, c.split("!")[1].replace("$", ""))
                for f, c in self.cells.items()})
        for row, (key, value) in enumerate(metadata.rows()):
            meta.write_string(row, 0, key)
            meta.write_string(row, 1, value)
        meta.very_hidden()
        meta.protect(self.options.password)
        wb.protect_workbook = None
        ws.activate()
        wb.close()

    def _formats(self, wb: xlsxwriter.Workbook) -> dict[str, object]:
        base = {"font_name": self.options.font, "font_size": 14, "valign": "top",
                "text_wrap": True}
        unlocked = {**base, "locked": False, "bg_color": "#FFF2CC", "border": 1}
        return {
            "text": wb.add_format(base),
            "title": wb.add_format({**base, "bold": True, "font_size": 18}),
            "kpi": wb.add_format({**base, "bold": True, "bg_color": "#DDEBF7", "border": 1}),
            "card": wb.add_format({**base, "bold": True, "font_size": 16, "bg_color": "#BDD7EE"}),
            "level": wb.add_format({**base, "font_size": 12, "font_color": "#404040"}),
            "money": wb.add_format({**unlocked, "num_format": MONEY_FORMAT}),
            "count": wb.add_format({**unlocked, "num_format": COUNT_FORMAT}),
            "yesno": wb.add_format(unlocked),
            "date": wb.add_format({**unlocked, "num_format": DATE_FORMAT_BE}),
            "input_text": wb.add_format(unlocked),
            "preview": wb.add_format({**base, "bold": True, "num_format": "0.00",
                                      "bg_color": "#E2EFDA", "border": 1}),
            "preview_level": wb.add_format({**base, "bold": True, "num_format": "0",
                                            "bg_color": "#E2EFDA", "border": 1}),
        }

    def _input(self, wb, ws, row: int, field: Field) -> None:
        f = self.formats
        ws.write_string(row, 0, field.id)
        ws.write_string(row, 1, field.label_th, f["text"])
        ws.write_string(row, 2, field.label_en, f["text"])
        fmt = f["input_text"] if field.type == "text" else f[field.type]
        ws.write_blank(row, INPUT_COL, None, fmt)
        cell = xl_rowcol_to_cell(row, INPUT_COL, row_abs=True, col_abs=True)
        self.cells[field.id] = f"'{ENTRY_SHEET}'!{cell}"
        wb.define_name(field.id, f"='{ENTRY_SHEET}'!{cell}")
        self._validation(ws, row, field)

    def _validation(self, ws, row: int, field: Field) -> None:
        start, end = self.kpi_set.fiscal_year_start, self.kpi_set.fiscal_year_end
        rules = {
            "money": {"validate": "decimal", "criteria": ">=", "value": 0,
                      "input_message": "จำนวนเงิน (บาท) ตั้งแต่ 0 ขึ้นไป",
                      "error_message": "กรุณากรอกจำนวนเงินเป็นตัวเลขตั้งแต่ 0 ขึ้นไป"},
            "count": {"validate": "integer", "criteria": ">=", "value": 0,
                      "input_message": "จำนวนเต็มตั้งแต่ 0 ขึ้นไป",
                      "error_message": "กรุณากรอกจำนวนเต็มตั้งแต่ 0 ขึ้นไป"},
            "yesno": {"validate": "list", "source": [xf.YES_TH, xf.NO_TH],
                      "input_message": "เลือก ใช่ หรือ ไม่ใช่",
                      "error_message": "กรุณาเลือก ใช่ หรือ ไม่ใช่ จากรายการ"},
            "date": {"validate": "date", "criteria": "between",
                     "minimum": dt.datetime.combine(start, dt.time()),
                     "maximum": dt.datetime.combine(end, dt.time()),
                     "input_message": "วันที่ในปีงบประมาณ เช่น 31/8/2565 (เว้นว่างถ้ายังไม่ได้ทำ)",
                     "error_message": "กรุณากรอกวันที่ในปีงบประมาณ เช่น 31/8/2565"},
        }
        rule = rules.get(field.type)
        if rule:
            ws.data_validation(row, INPUT_COL, row, INPUT_COL, {
                **rule, "input_title": field.label_th[:32], "error_title": "ข้อมูลไม่ถูกต้อง",
                "error_type": "stop", "ignore_blank": True})

    def _entry_sheet(self, wb, ws) -> None:
        f = self.formats
        ks = self.kpi_set
        ws.set_column(0, 0, 4, None, {"hidden": True})
        ws.set_column(1, 1, 48)
        ws.set_column(2, 2, 34)
        ws.set_column(3, 3, 20)
        ws.set_column(4, 4, 2)
        ws.set_column(5, 5, 70)
        ws.write_string(0, 1, ks.title_th, f["title"])
        ws.write_string(1, 1, f"{ks.round_th}   จังหวัด{self.area.province_name_th} "
                              f"อำเภอ{self.area.district_name_th}", f["text"])
        ws.write_string(2, 1, "กรอกข้อมูลในช่องสีเหลือง / fill in the yellow cells", f["text"])
        row = 4
        level_refs: dict[str, tuple[str, str]] = {}
        for sc in ks.scorecards:
            ws.merge_range(row, 1, row, 5, f"{sc.name_th} / {sc.name_en}", f["card"])
            row += 1
            for kpi in sc.kpis:
                ws.merge_range(row, 1, row, 3, f"{kpi.number_th} {kpi.title_th}", f["kpi"])
                ws.write_string(row, 5, f"น้ำหนัก {xf.number(kpi.weight)} / {kpi.title_en}", f["kpi"])
                row += 1
                first = row
                for fld in kpi.fields:
                    self._input(wb, ws, row, fld)
                    row += 1
                self._input(wb, ws, row, next(x for x in ks.fields if x.id == kpi.note_field))
                row += 1
                for i, lv in enumerate(kpi.levels):
                    ws.write_string(first + i, LEVEL_TEXT_COL,
                                    f"ระดับ {lv.number}: {lv.text_th}", f["level"])
                row = max(row, first + len(kpi.levels))
                result_ref = None
                if kpi.result is not None:
                    ws.write_string(row, 1, "ผลลัพธ์ (ร้อยละ)", f["text"])
                    ws.write_string(row, 2, "Result (%)", f["text"])
                    ws.write_formula(row, INPUT_COL, "=" + xf.result(kpi, self.ref, ks.result_decimals),
                                     f["preview"], "")
                    result_ref = xl_rowcol_to_cell(row, INPUT_COL)
                    row += 1
                ws.write_string(row, 1, "ระดับที่ได้ (คำนวณอัตโนมัติ)", f["text"])
                ws.write_string(row, 2, "Level (computed)", f["text"])
                ws.write_formula(row, INPUT_COL, "=" + xf.level(kpi, self.ref, result_ref,
                                                                xf.literal_crit),
                                 f["preview_level"], "")
                level_cell = xl_rowcol_to_cell(row, INPUT_COL, row_abs=True, col_abs=True)
                wb.define_name(f"preview_{kpi.id}_level", f"='{ENTRY_SHEET}'!{level_cell}")
                row += 1
                ws.write_string(row, 1, "คะแนน (น้ำหนัก × ระดับ)", f["text"])
                ws.write_string(row, 2, "Points (weight × level)", f["text"])
                ws.write_formula(row, INPUT_COL, "=" + xf.points(level_cell, xf.number(kpi.weight)),
                                 f["preview"], "")
                points_cell = xl_rowcol_to_cell(row, INPUT_COL)
                ws.write_formula(row, 4, "=" + xf.applicable_weight(kpi, self.ref,
                                                                    xf.number(kpi.weight)),
                                 f["text"], kpi.weight)
                level_refs[kpi.id] = (points_cell, xl_rowcol_to_cell(row, 4))
                row += 2
        row = self._summary(wb, ws, row, level_refs)
        ws.set_column(4, 4, 2, None, {"hidden": True})
        ws.merge_range(row + 1, 1, row + 1, 5, "ผู้รายงาน / Reporter", f["card"])
        row += 2
        for fld in ks.reporter_fields:
            self._input(wb, ws, row, fld)
            row += 1
        ws.freeze_panes(4, 0)
        ws.set_paper(9)
        ws.fit_to_pages(1, 0)
        ws.repeat_rows(0, 3)
        ws.protect(self.options.password, {"select_locked_cells": True,
                                           "select_unlocked_cells": True})

    def _summary(self, wb, ws, row: int, refs: dict[str, tuple[str, str]]) -> int:
        f = self.formats
        ks = self.kpi_set
        ws.merge_range(row, 1, row, 5, "สรุปคะแนน (คำนวณอัตโนมัติ) / Score preview", f["card"])
        row += 1
        percent_refs = []
        for sc in ks.scorecards:
            points = [refs[k.id][0] for k in sc.kpis]
            weights = [refs[k.id][1] for k in sc.kpis]
            ws.write_string(row, 1, f"คะแนน{sc.name_th} (0–5)", f["text"])
            ws.write_string(row, 2, f"{sc.name_en} score (0–5)", f["text"])
            ws.write_formula(row, INPUT_COL, "=" + xf.scorecard_score(points, weights,
                                                                      ks.score_decimals),
                             f["preview"], "")
            score_cell = xl_rowcol_to_cell(row, INPUT_COL, row_abs=True, col_abs=True)
            wb.define_name(f"preview_{sc.id}_score", f"='{ENTRY_SHEET}'!{score_cell}")
            row += 1
            ws.write_string(row, 1, f"ร้อยละ{sc.name_th}", f["text"])
            ws.write_string(row, 2, f"{sc.name_en} %", f["text"])
            ws.write_formula(row, INPUT_COL, "=" + xf.scorecard_percent(score_cell,
                                                                        ks.percent_decimals),
                             f["preview"], "")
            percent_refs.append(xl_rowcol_to_cell(row, INPUT_COL))
            row += 1
        ws.write_string(row, 1, "ร้อยละภาพรวม", f["text"])
        ws.write_string(row, 2, "Overall %", f["text"])
        weights = [xf.number(ks.scorecard_weights[sc.id]) for sc in ks.scorecards]
        ws.write_formula(row, INPUT_COL, "=" + xf.overall_percent(percent_refs, weights,
                                                                  ks.percent_decimals),
                         f["preview"], "")
        overall = xl_rowcol_to_cell(row, INPUT_COL, row_abs=True, col_abs=True)
        wb.define_name("preview_overall_percent", f"='{ENTRY_SHEET}'!{overall}")
        row += 1
        ws.write_string(row, 1, "ผลการประเมิน", f["text"])
        ws.write_string(row, 2, "Rating", f["text"])
        ws.write_formula(row, INPUT_COL, "=" + xf.rating(overall, ks.rating_bands), f["preview"], "")
        return row + 1
