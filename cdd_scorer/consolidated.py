"""The managers' consolidated workbook, written with xlsxwriter (SPEC §7).

Every derived number is a live formula built by ``excel_formulas`` that reads the criteria sheet's
named cells (``crit_T1_L1``, ``deadline_T3_L5``, ``weight_T1``, ``weight_team``, ``rating_1_min`` …),
and carries the Python engine's value as its cached result, so a manager who edits a threshold
sees everything recalculate while a phone preview still shows the engine's numbers.

Layout: the district rows sit on the same worksheet rows in สรุป, ทีม and รายบุคคล; the detail
sheets hold the raw inputs and every formula of a KPI, the summary reads their scorecard cells.
Under the districts come the province rows (ratio KPIs pooled from summed fields, the others the
mean of levels) and, with several provinces, the national row.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

from cdd_scorer import excel_formulas as xf
from cdd_scorer import xlsx
from cdd_scorer.batch import STATUS_TH, DistrictResult, ProvinceResult, RoundResult
from cdd_scorer.exact import exact
from cdd_scorer.geography import area_of
from cdd_scorer.kpi import Condition, Field, Kpi, KpiSet, Scorecard
from cdd_scorer.output_files import atomic_output
from cdd_scorer.parsing import as_thai_time
from cdd_scorer.problems import Problem
from cdd_scorer.scoring import (
    DistrictScore,
    competition_ranks,
    kpi_result,
    pools_fields,
    step_level,
)
from cdd_scorer.template import COUNT_FORMAT, DATE_FORMAT_BE, template_id

SUMMARY_SHEET = "สรุป"
CRITERIA_SHEET = "เกณฑ์"
DATA_SHEET = "ข้อมูล"
ISSUES_SHEET = "ปัญหา"
SOURCES_SHEET = "ที่มา"
GROUPS_SHEET = "กลุ่มงาน"
CHARTS_SHEET = "แผนภูมิ"
NATIONAL_SHEET = "ระดับประเทศ"
DETAIL_SHEETS = {"team": "ทีม", "individual": "รายบุคคล"}

FIRST_ROW = 4  # the first district row of the summary and detail sheets (0-based)
ROW_PIXELS = 29  # rows are 22 pt high
DATETIME_BE = "[$-D07041E]d mmm yyyy hh:mm"
MONEY = '#,##0.00" บาท"'
UNSCORABLE_TH = "แก้ไข"  # a KPI whose inputs have an error: no level (SPEC §4, last paragraph)
MEAN_TH = "เฉลี่ยระดับ"
SEVERITY_TH = {"error": "ข้อผิดพลาด", "warning": "คำเตือน", "info": "แจ้งให้ทราบ"}
METHOD_TH = {"step": "ขั้นบันได (step)", "linear": "เส้นตรงระหว่างเกณฑ์ (linear)"}
COMPARISON_TH = {">=": "ไม่น้อยกว่า", ">": "มากกว่า", "<=": "ไม่เกิน", "<": "น้อยกว่า", "==": "เท่ากับ"}
COMPARED_TH = "เทียบจำนวน"  # a level that compares two counts has no threshold cell of its own
LEVEL_COLORS = ["#C00000", "#F4B183", "#FFE699", "#C5E0B4", "#70AD47", "#375623"]
RATING_COLORS = ["#375623", "#70AD47", "#C5E0B4", "#FFE699", "#F4B183"]


def rating_min_name(band: int) -> str:
    return f"rating_{band}_min"


def rating_name_name(band: int) -> str:
    return f"rating_{band}_name"


def status_guard(status_ref: str, formula: str) -> str:
    """A district score exists only when its status is complete (errors block the scores)."""
    return f'IF({status_ref}<>{xf.text(STATUS_TH["complete"])},"",{formula})'


def sorted_positions(values: Sequence[float | None]) -> list[int]:
    """Chart order: highest first, ties in district order, districts without a score last."""
    scored = sorted((i for i, v in enumerate(values) if v is not None), key=lambda i: -values[i])
    order = scored + [i for i, v in enumerate(values) if v is None]
    positions = [0] * len(values)
    for position, i in enumerate(order, start=1):
        positions[i] = position
    return positions


@dataclass
class _Columns:
    """Where each quantity of a detail sheet lives (0-based columns)."""

    fields: dict[str, int] = field(default_factory=dict)
    result: dict[str, int] = field(default_factory=dict)
    step: dict[str, int] = field(default_factory=dict)
    level: dict[str, int] = field(default_factory=dict)
    points: dict[str, int] = field(default_factory=dict)
    weight: dict[str, int] = field(default_factory=dict)
    score: int = 0
    percent: int = 0


@dataclass
class _Aggregate:
    """A province or national row: a label, its districts' sheet rows, the engine's scores."""

    label: str
    rows: range
    districts: list[DistrictResult]
    score: DistrictScore
    province: ProvinceResult | None = None


def write_consolidated(result: RoundResult, path: Path, *, generated_at: dt.datetime | None = None,
                       font: str = "TH Sarabun New") -> Path:
    """Write the consolidated workbook of a round to ``path`` (atomically).

    Without ``generated_at`` the document time is the newest input file's saved time, so the same
    inputs always give a byte-identical workbook."""
    with atomic_output(path) as tmp:
        _Writer(result, generated_at, font).write(tmp)
    return path


class _Writer:
    def __init__(self, result: RoundResult, generated_at: dt.datetime | None, font: str):
        self.result = result
        self.ks: KpiSet = result.kpi_set
        self.linear = result.method == "linear"
        self.generated_at = generated_at
        self.font = font
        self.districts = list(result.districts)
        self.row_of = {d.area.district_code: FIRST_ROW + i for i, d in enumerate(self.districts)}
        self.last_district_row = FIRST_ROW + len(self.districts) - 1
        self.cached: dict[tuple[str, int, int], Any] = {}
        self.columns: dict[str, _Columns] = {}
        self.aggregates = self._aggregates()
        self.aggregate_row: dict[str, int] = {}  # label → row in summary/detail sheets

    # ------------------------------------------------------------------ cells
    def formula(self, ws, row: int, col: int, formula: str, value: Any, fmt=None) -> None:
        """A live formula with the engine's value cached (None is an empty result; exact numbers are
        cached as the nearest float, as a spreadsheet holds them)."""
        cached = "" if value is None else float(value) if isinstance(value, Decimal | Fraction) else value
        ws.write_formula(row, col, "=" + formula, fmt, cached)
        self.cached[(ws.get_name(), row, col)] = cached

    def reference(self, ws, row: int, col: int, sheet: str, src_row: int, src_col: int, fmt=None
                  ) -> None:
        """A formula that shows another sheet's cell, with that cell's cached value."""
        target = f"'{sheet}'!{xlsx.absolute_ref(src_row, src_col)}"
        self.formula(ws, row, col, target, self.cached.get((sheet, src_row, src_col), ""), fmt)

    def marker(self, ws, row: int, col: int, text: str, fmt=None) -> None:
        """A fixed text in a computed column (a KPI without a level); references copy it."""
        ws.write_string(row, col, text, fmt)
        self.cached[(ws.get_name(), row, col)] = text

    def value(self, ws, row: int, col: int, value: Any, fld: Field | None = None, fmt=None) -> None:
        """A data value by type; officer text always as a string, never a formula."""
        f = self.f
        if value is None:
            ws.write_blank(row, col, None, fmt or f["cell"])
        elif isinstance(value, bool):
            ws.write_string(row, col, xf.YES_TH if value else xf.NO_TH, fmt or f["cell"])
        elif isinstance(value, dt.datetime):
            ws.write_datetime(row, col, value, fmt or f["datetime"])
        elif isinstance(value, dt.date):
            ws.write_datetime(row, col, dt.datetime.combine(value, dt.time()), fmt or f["date"])
        elif isinstance(value, int | float | Decimal):
            kind = fld.type if fld is not None and fld.type in ("money", "count") else "number"
            ws.write_number(row, col, float(value), fmt or f[kind])
        else:
            ws.write_string(row, col, str(value), fmt or f["cell"])

    # ------------------------------------------------------------------ workbook
    def write(self, path: Path) -> None:
        when = self._document_time()
        wb = xlsx.Workbook(str(path), {"strings_to_formulas": False, "strings_to_numbers": False,
                                       "strings_to_urls": False})
        wb.set_properties({"title": f"{self.ks.title_th} — สรุปผล", "subject": self.ks.round_th,
                           "company": "กรมการพัฒนาชุมชน", "created": when})
        self.wb = wb
        self.f = self._formats(wb)
        summary = wb.add_worksheet(SUMMARY_SHEET)
        details = {sc.id: wb.add_worksheet(DETAIL_SHEETS.get(sc.id, sc.name_th[:31]))
                   for sc in self.ks.scorecards}
        self.sheet_of = {sc_id: ws.get_name() for sc_id, ws in details.items()}
        national = wb.add_worksheet(NATIONAL_SHEET) if self.result.national is not None else None
        charts = wb.add_worksheet(CHARTS_SHEET)
        groups = wb.add_worksheet(GROUPS_SHEET)
        criteria = wb.add_worksheet(CRITERIA_SHEET)
        data = wb.add_worksheet(DATA_SHEET)
        issues = wb.add_worksheet(ISSUES_SHEET)
        sources = wb.add_worksheet(SOURCES_SHEET)
        self._criteria(criteria)
        for sc in self.ks.scorecards:
            self._detail(details[sc.id], sc)
        self._summary(summary, when)
        if national is not None:
            self._national(national)
        self._groups(groups)
        self._charts(charts)
        self._data(data)
        self._issues(issues)
        self._sources(sources)
        summary.activate()
        wb.close()

    def _document_time(self) -> dt.datetime:
        if self.generated_at is not None:
            return self.generated_at.replace(microsecond=0, tzinfo=None)
        saved = [_thai_time(s.saved_at) for s in self.result.sources if s.saved_at is not None]
        return max(saved) if saved else dt.datetime.combine(self.ks.round_end, dt.time())

    def _formats(self, wb) -> dict[str, Any]:
        base = {"font_name": self.font, "font_size": 14, "valign": "top"}
        cell = {**base, "border": 1, "border_color": "#BFBFBF"}
        level = "0.0000" if self.linear else "0"
        out = {
            "text": {**base},
            "wrap": {**base, "text_wrap": True},
            "title": {**base, "bold": True, "font_size": 20},
            "subtitle": {**base, "font_size": 15, "font_color": "#404040"},
            "header": {**cell, "bold": True, "text_wrap": True, "bg_color": "#DDEBF7", "align": "center",
                       "valign": "vcenter"},
            "kpi_header": {**cell, "bold": True, "text_wrap": True, "bg_color": "#BDD7EE",
                           "align": "center", "valign": "vcenter"},
            "cell": cell,
            "number": {**cell, "num_format": "0.00"},
            "money": {**cell, "num_format": MONEY},
            "count": {**cell, "num_format": COUNT_FORMAT},
            "date": {**cell, "num_format": DATE_FORMAT_BE},
            "datetime": {**cell, "num_format": DATETIME_BE},
            "result": {**cell, "num_format": "0.00"},
            "level": {**cell, "num_format": level, "align": "center"},
            "points": {**cell, "num_format": "0.00" if self.linear else "0"},
            "weight": {**cell, "num_format": "0", "font_color": "#7F7F7F"},
            "score": {**cell, "num_format": "0.0000", "bold": True},
            "percent": {**cell, "num_format": "0.00", "bold": True},
            "rank": {**cell, "num_format": "0", "align": "center"},
            "aggregate": {**cell, "bold": True, "bg_color": "#F2F2F2"},
            "aggregate_money": {**cell, "bold": True, "bg_color": "#F2F2F2", "num_format": MONEY},
            "aggregate_count": {**cell, "bold": True, "bg_color": "#F2F2F2", "num_format": COUNT_FORMAT},
            "note": {**base, "italic": True, "font_color": "#595959", "font_size": 13},
            "note_right": {**base, "italic": True, "font_color": "#595959", "font_size": 13, "align": "right"},
            "input": {**cell, "bg_color": "#FFF2CC", "locked": False, "bold": True},
            "input_date": {**cell, "bg_color": "#FFF2CC", "locked": False, "bold": True,
                           "num_format": DATE_FORMAT_BE},
            "section": {**base, "bold": True, "font_size": 16, "bg_color": "#BDD7EE"},
        }
        return {k: wb.add_format(v) for k, v in out.items()}

    def _page(self, ws, header_rows: int, title: str) -> None:
        ws.set_landscape()
        ws.set_paper(9)
        ws.fit_to_pages(1, 0)
        ws.set_margins(0.4, 0.4, 0.6, 0.6)
        ws.repeat_rows(max(header_rows - 1, 0), max(header_rows - 1, 0))
        ws.set_header(f"&L&\"{self.font}\"&12{title}&R&\"{self.font}\"&12{self.ks.round_th}")
        ws.set_footer(f"&C&\"{self.font}\"&12หน้า &P / &N")

    def _title(self, ws, title_th: str, title_en: str) -> None:
        ws.set_default_row(22)
        ws.set_row(0, 32)
        ws.set_row(1, 24)
        ws.write_string(0, 0, f"{title_th} / {title_en}", self.f["title"])
        ws.write_string(1, 0, f"{self.ks.title_th} — {self.ks.round_th}", self.f["subtitle"])

    # ------------------------------------------------------------------ criteria
    def _criteria(self, ws) -> None:
        f, ks, wb = self.f, self.ks, self.wb
        self._title(ws, "เกณฑ์การประเมิน", "Criteria (edit the yellow cells: everything recalculates)")
        ws.set_column(0, 0, 8)
        ws.set_column(1, 1, 60)
        ws.set_column(2, 2, 10)
        ws.set_column(3, 3, 34)
        ws.set_column(4, 4, 16)
        ws.set_column(5, 5, 40)

        def name(defined: str, row: int, col: int) -> None:
            wb.define_name(defined, f"='{CRITERIA_SHEET}'!{xlsx.absolute_ref(row, col)}")

        row = 3
        ws.write_string(row, 0, "น้ำหนักรายการประเมิน / Scorecard weights (ร้อยละ, รวม 100)", f["section"])
        row += 1
        for sc in ks.scorecards:
            ws.write_string(row, 0, sc.id, f["cell"])
            ws.write_string(row, 1, f"{sc.name_th} / {sc.name_en}", f["cell"])
            ws.write_number(row, 2, ks.scorecard_weights[sc.id], f["input"])
            name(xf.scorecard_weight_name(sc.id), row, 2)
            row += 1
        row += 1
        ws.write_string(row, 0, "ระดับผลการประเมิน / Rating bands (ร้อยละภาพรวมตั้งแต่ / overall % from)",
                        f["section"])
        row += 1
        for i, band in enumerate(ks.rating_bands, start=1):
            ws.write_number(row, 0, i, f["cell"])
            ws.write_string(row, 1, f"{band.name_th} / {band.name_en}", f["cell"])
            ws.write_number(row, 2, band.min_percent, f["input"])
            ws.write_string(row, 3, band.name_th, f["input"])
            name(rating_min_name(i), row, 2)
            name(rating_name_name(i), row, 3)
            row += 1
        row += 1
        ws.write_string(row, 0, f"วิธีคิดระดับ / level method: {METHOD_TH[self.result.method]};  "
                                f"ทศนิยม: ผลลัพธ์ {ks.result_decimals}, คะแนน {ks.score_decimals}, "
                                f"ร้อยละ {ks.percent_decimals} ตำแหน่ง (ปัดแบบ ROUND)", f["note"])
        row += 1
        ws.write_string(row, 0, "ค่าเกณฑ์ที่แก้ได้คือช่องสีเหลือง ส่วนเครื่องหมายเปรียบเทียบกำหนดในไฟล์ตัวชี้วัด / "
                                "Yellow cells are editable; the comparisons come from the KPI card file.",
                        f["note"])
        row += 2
        heads = ["ตัวชี้วัด\nKPI", "เกณฑ์การให้คะแนน (ตามบัตรตัวชี้วัด)\nLevel text", "ระดับ\nLevel",
                 "เงื่อนไข\nCondition", "ค่าเกณฑ์\nThreshold", "Level text (English)"]
        ws.write_row(row, 0, heads, f["header"])
        ws.set_row(row, 40)
        ws.freeze_panes(row + 1, 0)
        row += 1
        for kpi in ks.kpis:
            ws.write_string(row, 0, kpi.id, f["kpi_header"])
            ws.write_string(row, 1, f"{kpi.number_th} ({self._card_of(kpi).name_th}) {kpi.title_th}",
                            f["kpi_header"])
            ws.write_string(row, 2, "น้ำหนัก", f["kpi_header"])
            ws.write_string(row, 3, f"{kpi.group_th} / {kpi.title_en}", f["kpi_header"])
            ws.write_number(row, 4, kpi.weight, f["input"])
            name(xf.weight_name(kpi), row, 4)
            ws.write_string(row, 5, "น้ำหนัก / weight", f["kpi_header"])
            row += 1
            for lv in kpi.levels:
                ws.write_string(row, 0, kpi.id, f["cell"])
                ws.write_string(row, 1, lv.text_th, f["wrap"])
                ws.write_number(row, 2, lv.number, f["level"])
                ws.write_string(row, 3, self._condition_words(kpi, lv.condition), f["wrap"])
                cond = lv.condition
                if cond.kind == "deadline":
                    ws.write_datetime(row, 4, dt.datetime.combine(cond.deadline, dt.time()),
                                      f["input_date"])
                    name(xf.crit_name(kpi, lv.number), row, 4)
                elif cond.is_numeric:
                    ws.write_number(row, 4, cond.value, f["input"])
                    name(xf.crit_name(kpi, lv.number), row, 4)
                elif cond.kind == "fields":
                    ws.write_string(row, 4, COMPARED_TH, f["cell"])
                else:
                    ws.write_string(row, 4, xf.YES_TH, f["cell"])
                ws.write_string(row, 5, lv.text_en, f["wrap"])
                row += 1
        self._page(ws, 0, "เกณฑ์การประเมิน")

    def _card_of(self, kpi: Kpi) -> Scorecard:
        return next(sc for sc in self.ks.scorecards if sc.id == kpi.scorecard)

    def _condition_words(self, kpi: Kpi, cond: Condition) -> str:
        def label(field_id: str) -> str:
            return next(f.label_th for f in kpi.fields if f.id == field_id)

        if cond.kind == "yes":
            return f"{label(cond.field)} = {xf.YES_TH}"
        if cond.kind == "deadline":
            return f"{label(cond.field)} ไม่เกินวันที่ (on or before)"
        if cond.kind == "fields":
            return f"{label(cond.field)} {COMPARISON_TH[cond.op]} {label(cond.other_field)} ({cond.op})"
        subject = "ผลลัพธ์ (ร้อยละ)" if cond.kind == "result" else label(cond.field)
        return f"{subject} {COMPARISON_TH[cond.op]} ({cond.op})"

    # ------------------------------------------------------------------ detail sheets
    def _detail(self, ws, sc: Scorecard) -> None:
        f = self.f
        cols = _Columns()
        self.columns[sc.id] = cols
        self._title(ws, f"{sc.name_th}: ข้อมูล → ผลลัพธ์ → ระดับ → คะแนน",
                    f"{sc.name_en}: inputs → result → level → points")
        heads = ["จังหวัด\nProvince", "รหัสอำเภอ\nCode", "อำเภอ\nDistrict", "สถานะ\nStatus"]
        ws.write_row(3, 0, heads, f["header"])
        ws.merge_range(2, 0, 2, 3, "", f["kpi_header"])
        col = 4
        for kpi in sc.kpis:
            first = col
            for fld in kpi.fields:
                if fld.type == "text":
                    continue
                cols.fields[fld.id] = col
                ws.write_string(3, col, f"{fld.label_th}\n{fld.label_en}", f["header"])
                ws.set_column(col, col, {"money": 18, "date": 14}.get(fld.type, 11))
                col += 1
            if kpi.result is not None:
                cols.result[kpi.id] = col
                ws.write_string(3, col, "ผลลัพธ์ (ร้อยละ)\nResult %", f["header"])
                col += 1
            if self.linear:
                cols.step[kpi.id] = col
                ws.write_string(3, col, "ระดับขั้น\nStep level", f["header"])
                col += 1
            for key, head, width in (("level", "ระดับ\nLevel", 9), ("points", "คะแนน\nPoints", 9),
                                     ("weight", "น้ำหนักที่ใช้\nWeight used", 10)):
                getattr(cols, key)[kpi.id] = col
                ws.write_string(3, col, head, f["header"])
                ws.set_column(col, col, width)
                col += 1
            ws.merge_range(2, first, 2, col - 1,
                           f"{kpi.id} {kpi.number_th} {kpi.title_th} (น้ำหนัก {xf.number(kpi.weight)})",
                           f["kpi_header"])
        cols.score, cols.percent = col, col + 1
        ws.write_string(3, col, f"คะแนน{sc.name_th} (0–5)\n{sc.name_en} score", f["header"])
        ws.write_string(3, col + 1, f"ร้อยละ{sc.name_th}\n{sc.name_en} %", f["header"])
        ws.merge_range(2, col, 2, col + 1, sc.name_th, f["kpi_header"])
        ws.set_column(col, col + 1, 13)
        ws.set_row(2, 60)
        ws.set_row(3, 80)
        ws.set_column(0, 1, 10)
        ws.set_column(2, 2, 16)
        ws.set_column(3, 3, 11)
        for d in self.districts:
            self._district_detail(ws, sc, cols, d)
        row = self.last_district_row + 2
        ws.write_string(row, 0, "แถวจังหวัด: ตัวชี้วัดเชิงสัดส่วนคำนวณจากผลรวม (Σ) ของอำเภอที่ข้อมูลถูกต้อง ส่วนตัวชี้วัดอื่นใช้"
                                "ค่าเฉลี่ยระดับ / Province rows: ratio KPIs pooled from the summed fields of districts "
                                "with valid data; other KPIs the mean of district levels", f["note"])
        for agg in self.aggregates:
            row += 1
            self.aggregate_row.setdefault(agg.label, row)
            self._aggregate_detail(ws, sc, cols, agg, self.aggregate_row[agg.label])
        level_cols = list(cols.level.values())
        for c in level_cols:
            self._level_colors(ws, FIRST_ROW, c, row, c)
        self._status_colors(ws, FIRST_ROW, 3, self.last_district_row, 3)
        ws.freeze_panes(FIRST_ROW, 4)
        ws.autofilter(3, 0, self.last_district_row, cols.percent)
        self._page(ws, FIRST_ROW, sc.name_th)

    def _district_detail(self, ws, sc: Scorecard, cols: _Columns, d: DistrictResult) -> None:
        f, ks = self.f, self.ks
        row = self.row_of[d.area.district_code]
        self._district_label(ws, row, d)
        if d.score is None or d.checked is None:
            return
        values = d.checked.values
        for fid, c in cols.fields.items():
            self.value(ws, row, c, values.get(fid), ks.field(fid))

        def ref(field_id: str) -> str:
            return xlsx.cell_ref(row, cols.fields[field_id])

        for kpi in sc.kpis:
            score = d.score.kpis[kpi.id]
            wcell = (row, cols.weight[kpi.id])
            if not score.scorable:
                for key in ("result", "step", "level", "points"):
                    if kpi.id in getattr(cols, key):
                        self.marker(ws, row, getattr(cols, key)[kpi.id], UNSCORABLE_TH, f["level"])
                self.formula(ws, *wcell, xf.weight_name(kpi), kpi.weight, f["weight"])
                continue
            self._kpi_cells(ws, row, cols, kpi, ref, values, score.level)
            self.formula(ws, *wcell, xf.applicable_weight(kpi, ref, xf.weight_name(kpi)),
                         kpi.weight if score.applicable else 0, f["weight"])
        card = d.score.scorecards[sc.id]
        status_ref = xlsx.cell_ref(row, 3)
        self._scorecard_cells(ws, row, cols, sc, card.score, card.percent,
                              guard=lambda formula: status_guard(status_ref, formula))

    def _kpi_cells(self, ws, row: int, cols: _Columns, kpi: Kpi, ref: Callable[[str], str],
                   values: dict[str, Any], level: float | None,
                   guard: Callable[[str], str] = lambda x: x) -> None:
        """Result, step level, level and points of one KPI computed from the inputs of this row."""
        f, ks = self.f, self.ks
        result_ref = None
        result = kpi_result(kpi, values, ks.result_decimals)
        if kpi.id in cols.result:
            result_ref = xlsx.cell_ref(row, cols.result[kpi.id])
            self.formula(ws, row, cols.result[kpi.id], xf.result(kpi, ref, ks.result_decimals), result,
                         f["result"])
        level_col = cols.level[kpi.id]
        step_formula = guard(xf.level(kpi, ref, result_ref, xf.crit_name))
        if self.linear:
            step_col = cols.step[kpi.id]
            step_ref = xlsx.cell_ref(row, step_col)
            step = None if level is None else step_level(kpi, values, result)
            self.formula(ws, row, step_col, step_formula, step, f["level"])
            linear = xf.linear_level(kpi, step_ref, result_ref, xf.crit_name) if result_ref else step_ref
            self.formula(ws, row, level_col, f'IF(ISNUMBER({step_ref}),{linear},"")', level, f["level"])
        else:
            self.formula(ws, row, level_col, step_formula, level, f["level"])
        level_ref = xlsx.cell_ref(row, level_col)
        points = None if level is None else exact(kpi.weight) * level
        self.formula(ws, row, cols.points[kpi.id], xf.points(level_ref, xf.weight_name(kpi)), points,
                     f["points"])

    def _scorecard_cells(self, ws, row: int, cols: _Columns, sc: Scorecard, score: Fraction | None,
                         percent: Fraction | None, guard: Callable[[str], str] = lambda x: x) -> None:
        points = [xlsx.cell_ref(row, cols.points[k.id]) for k in sc.kpis]
        weights = [xlsx.cell_ref(row, cols.weight[k.id]) for k in sc.kpis]
        self.formula(ws, row, cols.score, guard(xf.scorecard_score(points, weights)), score, self.f["score"])
        score_ref = xlsx.cell_ref(row, cols.score)
        self.formula(ws, row, cols.percent, xf.scorecard_percent(score_ref), percent, self.f["percent"])

    def _district_label(self, ws, row: int, d: DistrictResult) -> None:
        f = self.f
        ws.write_string(row, 0, d.area.province_name_th, f["cell"])
        ws.write_string(row, 1, d.area.district_code, f["cell"])
        ws.write_string(row, 2, d.area.district_name_th, f["cell"])
        ws.write_string(row, 3, STATUS_TH[d.status], f["cell"])

    def _aggregate_label(self, ws, row: int, agg: _Aggregate) -> None:
        ws.merge_range(row, 0, row, 2, agg.label, self.f["aggregate"])
        ws.write_string(row, 3, "รวม / เฉลี่ย", self.f["aggregate"])

    # ------------------------------------------------------------------ province and national rows
    def _aggregates(self) -> list[_Aggregate]:
        out = []
        for prov in self.result.provinces:
            rows = [self.row_of[d.area.district_code] for d in prov.districts]
            out.append(_Aggregate(f"จังหวัด{prov.name_th}", range(min(rows), max(rows) + 1),
                                  prov.districts, prov.summary, prov))
        if self.result.national is not None:
            out.append(_Aggregate("ทั้งประเทศ (รวมทุกจังหวัด)", range(FIRST_ROW, self.last_district_row + 1),
                                  self.districts, self.result.national))
        return out

    def _aggregate_detail(self, ws, sc: Scorecard, cols: _Columns, agg: _Aggregate, row: int) -> None:
        f, ks = self.f, self.ks
        self._aggregate_label(ws, row, agg)
        first, last = agg.rows.start, agg.rows.stop - 1

        def span(col: int) -> str:
            return f"{xlsx.absolute_ref(first, col)}:{xlsx.absolute_ref(last, col)}"

        def ref(field_id: str) -> str:
            return xlsx.cell_ref(row, cols.fields[field_id])

        for kpi in sc.kpis:
            score = agg.score.kpis[kpi.id]
            levels = span(cols.level[kpi.id])
            valid = [d for d in agg.districts if d.score and d.checked and d.score.kpis[kpi.id].applicable
                     and d.score.kpis[kpi.id].level is not None]
            any_applicable = any(d.score.kpis[kpi.id].applicable for d in agg.districts
                                 if d.score and d.checked)
            weight = xf.weight_name(kpi)
            # The weight a province row uses: the KPI's own when any district has a level, else the
            # weight as long as some district could apply it (0 when it is N/A everywhere).
            fallback = f'IF(COUNTIF({span(cols.weight[kpi.id])},">0")>0,{weight},0)'
            applicable = score.applicable if valid else any_applicable
            if pools_fields(kpi):
                sums = {fid: sum(d.checked.values[fid] for d in valid) for fid in kpi.result.fields}
                for fid, total in sums.items():
                    fmt = f["aggregate_money"] if ks.field(fid).type == "money" else f["aggregate_count"]
                    # SUMIFS, not SUMPRODUCT(ISNUMBER(…)*1, …): the same in every spreadsheet program.
                    self.formula(ws, row, cols.fields[fid],
                                 f'SUMIFS({span(cols.fields[fid])},{levels},">=0")', total, fmt)
                self._kpi_cells(ws, row, cols, kpi, ref, sums, score.level,
                                guard=lambda formula, levels=levels: f'IF(COUNT({levels})=0,"",{formula})')
                used = xf.applicable_weight(kpi, ref, weight)
            else:
                if kpi.id in cols.result:
                    self.marker(ws, row, cols.result[kpi.id], MEAN_TH, f["aggregate"])
                self.formula(ws, row, cols.level[kpi.id],
                             f'IF(COUNT({levels})=0,"",AVERAGE({levels}))',
                             score.level, f["level"])
                level_ref = xlsx.cell_ref(row, cols.level[kpi.id])
                self.formula(ws, row, cols.points[kpi.id], xf.points(level_ref, weight),
                             score.points, f["points"])
                used = weight
            self.formula(ws, row, cols.weight[kpi.id], f"IF(COUNT({levels})>0,{used},{fallback})",
                         kpi.weight if applicable else 0, f["weight"])
        card = agg.score.scorecards[sc.id]
        self._scorecard_cells(ws, row, cols, sc, card.score, card.percent)

    # ------------------------------------------------------------------ summary
    def _summary(self, ws, when: dt.datetime) -> None:
        f, ks = self.f, self.ks
        cards = self.ks.scorecards
        self._title(ws, "สรุปผลการประเมินรายอำเภอ", "Summary by district")
        ws.write_string(2, 0, f"{ks.position_th} — วิธีคิดระดับ {METHOD_TH[self.result.method]}", f["note"])
        label = "สร้างเมื่อ / generated" if self.generated_at else "ข้อมูล ณ (ไฟล์ล่าสุด) / data as of"
        heads = ["จังหวัด\nProvince", "รหัสอำเภอ\nCode", "อำเภอ\nDistrict", "สถานะ\nStatus"]
        for sc in cards:
            heads += [f"คะแนน{sc.name_th}\n(0–5)", f"ร้อยละ{sc.name_th}\n{sc.name_en} %"]
        overall_col = len(heads)
        heads += ["ร้อยละภาพรวม\nOverall %", "ผลการประเมิน\nRating", "ลำดับ\nRank"]
        level_col = len(heads)
        heads += [f"ระดับ {k.id}\nLevel" for k in ks.kpis]
        ws.write_row(3, 0, heads, f["header"])
        ws.merge_range(2, overall_col - 3, 2, overall_col - 1, label, f["note_right"])
        ws.merge_range(2, overall_col, 2, overall_col + 1, "", f["datetime"])
        ws.write_datetime(2, overall_col, when, f["datetime"])
        self.summary_cols = {"overall": overall_col, "rating": overall_col + 1, "rank": overall_col + 2,
                             "level": level_col}
        ws.set_row(3, 76)
        ws.set_column(0, 1, 11)
        ws.set_column(2, 2, 18)
        ws.set_column(3, 3, 11)
        ws.set_column(4, overall_col + 2, 12)
        ws.set_column(overall_col + 1, overall_col + 1, 14)
        ws.set_column(level_col, level_col + len(ks.kpis) - 1, 7)
        for prov in self.result.provinces:
            rows = [self.row_of[d.area.district_code] for d in prov.districts]
            overall_range = (f"{xlsx.absolute_ref(min(rows), overall_col)}:"
                             f"{xlsx.absolute_ref(max(rows), overall_col)}")
            for d in prov.districts:
                row = self.row_of[d.area.district_code]
                self._district_label(ws, row, d)
                if d.score is None:
                    continue
                self._score_cells(ws, row, d.score)
                overall_ref = xlsx.cell_ref(row, overall_col)
                self.formula(ws, row, overall_col + 2, xf.rank(overall_ref, overall_range), d.rank, f["rank"])
        for agg in self.aggregates:
            row = self.aggregate_row[agg.label]
            self._aggregate_label(ws, row, agg)
            self._score_cells(ws, row, agg.score)
        ws.write_string(self.last_district_row + 2, 0,
                        "แถวจังหวัด: ตัวชี้วัดเชิงสัดส่วนคำนวณจากผลรวมของอำเภอที่ข้อมูลถูกต้อง ตัวชี้วัดอื่นใช้ค่าเฉลี่ยระดับ "
                        "(ดูแผ่นงานทีม/รายบุคคล) / Province rows: ratio KPIs pooled, others the mean of levels",
                        f["note"])
        last = max(self.aggregate_row.values(), default=self.last_district_row)
        self.count_cells = self._counts(ws, last + 2)
        self._status_colors(ws, FIRST_ROW, 3, self.last_district_row, 3)
        self._rating_colors(ws, FIRST_ROW, overall_col + 1, last, overall_col + 1)
        self._level_colors(ws, FIRST_ROW, level_col, last, level_col + len(ks.kpis) - 1)
        ws.conditional_format(FIRST_ROW, overall_col, last, overall_col,
                              {"type": "data_bar", "bar_color": "#9BC2E6", "min_type": "num", "min_value": 0,
                               "max_type": "num", "max_value": 100, "bar_solid": True})
        ws.freeze_panes(FIRST_ROW, 3)
        ws.autofilter(3, 0, self.last_district_row, level_col + len(ks.kpis) - 1)
        self._page(ws, FIRST_ROW, "สรุปผลการประเมิน")

    def _score_cells(self, ws, row: int, score: DistrictScore) -> None:
        """Scorecards (read from the detail sheets), overall %, rating and KPI levels of a row."""
        f, ks = self.f, self.ks
        col = 4
        percent_refs = []
        for sc in ks.scorecards:
            cols, sheet = self.columns[sc.id], self.sheet_of[sc.id]
            self.reference(ws, row, col, sheet, row, cols.score, f["score"])
            self.reference(ws, row, col + 1, sheet, row, cols.percent, f["percent"])
            percent_refs.append(xlsx.cell_ref(row, col + 1))
            col += 2
        weights = [xf.scorecard_weight_name(sc.id) for sc in ks.scorecards]
        self.formula(ws, row, col, xf.overall_percent(percent_refs, weights, ks.percent_decimals),
                     score.overall_percent, f["percent"])
        bands = range(1, len(ks.rating_bands) + 1)
        self.formula(ws, row, col + 1, xf.rating(xlsx.cell_ref(row, col), ks.rating_bands,
                                                 [rating_min_name(i) for i in bands],
                                                 [rating_name_name(i) for i in bands]),
                     score.rating.name_th if score.rating else None, f["cell"])
        for i, kpi in enumerate(ks.kpis):
            sheet = self.sheet_of[kpi.scorecard]
            self.reference(ws, row, self.summary_cols["level"] + i, sheet, row,
                           self.columns[kpi.scorecard].level[kpi.id], f["level"])

    def _counts(self, ws, row: int) -> dict[str, tuple[int, int]]:
        """Expected / received / complete / needs correction / missing per province (COUNTIFS)."""
        f = self.f
        ws.write_string(row, 0, "จำนวนอำเภอ / Districts", f["section"])
        heads = ["จังหวัด\nProvince", "ทั้งหมด\nExpected", "ส่งแล้ว\nReceived", "ครบถ้วน\nComplete",
                 "ต้องแก้ไข\nNeeds correction", "ยังไม่ส่ง\nMissing"]
        ws.merge_range(row + 1, 0, row + 1, 2, heads[0], f["header"])
        ws.write_row(row + 1, 3, heads[1:], f["header"])
        ws.set_row(row + 1, 60)
        names = f"$A${FIRST_ROW + 1}:$A${self.last_district_row + 1}"
        statuses = f"$D${FIRST_ROW + 1}:$D${self.last_district_row + 1}"
        out = {}
        groups = [(f"จังหวัด{p.name_th}", p.name_th, p.districts) for p in self.result.provinces]
        if self.result.national is not None:
            groups.append(("ทั้งประเทศ", "*", self.districts))
        row += 2
        for label, key, districts in groups:
            ws.merge_range(row, 0, row, 2, label, f["aggregate"])
            where = f"{names},{xf.text(key)}"
            counts = [
                (f"COUNTIFS({where})", len(districts)),
                (f"COUNTIFS({where},{statuses},\"<>\"&{xf.text(STATUS_TH['missing'])})",
                 sum(1 for d in districts if d.status != "missing")),
            ] + [(f"COUNTIFS({where},{statuses},{xf.text(STATUS_TH[s])})",
                  sum(1 for d in districts if d.status == s))
                 for s in ("complete", "needs_correction", "missing")]
            for i, (formula, value) in enumerate(counts):
                self.formula(ws, row, 3 + i, formula, value, f["count"])
            out[label] = (row, 3)
            row += 1
        return out

    # ------------------------------------------------------------------ national
    def _national(self, ws) -> None:
        f, ks = self.f, self.ks
        self._title(ws, "สรุประดับประเทศ: รายจังหวัด", "National roll-up by province")
        heads = ["จังหวัด\nProvince", "ทั้งหมด\nExpected", "ส่งแล้ว\nReceived", "ครบถ้วน\nComplete",
                 "ต้องแก้ไข\nNeeds correction", "ยังไม่ส่ง\nMissing"]
        heads += [f"ร้อยละ{sc.name_th}\n{sc.name_en} %" for sc in ks.scorecards]
        heads += ["ร้อยละภาพรวม\nOverall %", "ผลการประเมิน\nRating", "ลำดับ\nRank"]
        first_level = len(heads)
        heads += [f"ระดับ {k.id}\nLevel" for k in ks.kpis]
        ws.write_row(3, 0, heads, f["header"])
        ws.set_row(3, 60)
        ws.set_column(0, 0, 24)
        ws.set_column(1, first_level - 1, 12)
        ws.set_column(first_level, first_level + len(ks.kpis) - 1, 8)
        provinces = [a for a in self.aggregates if a.province is not None]
        overall_col = 6 + len(ks.scorecards)
        last_province = FIRST_ROW + len(provinces) - 1
        ranks = competition_ranks([a.score.overall_percent for a in provinces])
        for i, agg in enumerate(self.aggregates):
            row = FIRST_ROW + i + (1 if agg.province is None else 0)
            src = self.aggregate_row[agg.label]
            count_label = agg.label if agg.province is not None else "ทั้งประเทศ"
            fmt = f["aggregate"] if agg.province is None else f["cell"]
            ws.write_string(row, 0, agg.label, fmt)
            count_row, count_col = self.count_cells[count_label]
            for j in range(5):
                self.reference(ws, row, 1 + j, SUMMARY_SHEET, count_row, count_col + j, f["count"])
            for j in range(len(ks.scorecards)):
                self.reference(ws, row, 6 + j, SUMMARY_SHEET, src, 5 + 2 * j, f["percent"])
            for j in range(2):
                self.reference(ws, row, overall_col + j, SUMMARY_SHEET, src, self.summary_cols["overall"] + j,
                               f["percent"] if j == 0 else f["cell"])
            if agg.province is not None:
                overall_range = (f"{xlsx.absolute_ref(FIRST_ROW, overall_col)}:"
                                 f"{xlsx.absolute_ref(last_province, overall_col)}")
                self.formula(ws, row, overall_col + 2, xf.rank(xlsx.cell_ref(row, overall_col), overall_range),
                             ranks[i], f["rank"])
            for j in range(len(ks.kpis)):
                self.reference(ws, row, first_level + j, SUMMARY_SHEET, src, self.summary_cols["level"] + j,
                               f["level"])
        last = FIRST_ROW + len(self.aggregates)
        self._rating_colors(ws, FIRST_ROW, overall_col + 1, last, overall_col + 1)
        self._level_colors(ws, FIRST_ROW, first_level, last, first_level + len(ks.kpis) - 1)
        ws.freeze_panes(FIRST_ROW, 1)
        ws.autofilter(3, 0, last_province, first_level + len(ks.kpis) - 1)
        self._page(ws, FIRST_ROW, "สรุประดับประเทศ")

    # ------------------------------------------------------------------ groups
    def _groups(self, ws) -> None:
        f, ks = self.f, self.ks
        self._title(ws, "ผลรายกลุ่มงานที่รับผิดชอบ", "KPIs by responsible group")
        groups: dict[str, list[Kpi]] = {}
        for kpi in ks.kpis:
            groups.setdefault(kpi.group_th, []).append(kpi)
        ws.set_column(0, 1, 11)
        ws.set_column(2, 2, 18)
        ws.set_column(3, 3, 11)
        ws.set_column(4, 4 + 2 * max(len(k) for k in groups.values()), 11)
        row = 3
        for group, kpis in groups.items():
            ws.merge_range(row, 0, row, 3 + 2 * len(kpis), f"{group} / {kpis[0].group_en}", f["section"])
            row += 1
            heads = ["จังหวัด\nProvince", "รหัสอำเภอ\nCode", "อำเภอ\nDistrict", "สถานะ\nStatus"]
            for kpi in kpis:
                heads += [f"{kpi.id} ผลลัพธ์\nResult %", f"{kpi.id} ระดับ\nLevel"]
            ws.write_row(row, 0, heads, f["header"])
            ws.set_row(row, 40)
            row += 1
            first = row
            for d in self.districts:
                self._district_label(ws, row, d)
                if d.score is not None:
                    self._group_cells(ws, row, kpis, self.row_of[d.area.district_code])
                row += 1
            for agg in self.aggregates:
                self._aggregate_label(ws, row, agg)
                self._group_cells(ws, row, kpis, self.aggregate_row[agg.label])
                row += 1
            self._status_colors(ws, first, 3, row - 1, 3)
            for i in range(len(kpis)):
                self._level_colors(ws, first, 5 + 2 * i, row - 1, 5 + 2 * i)
            row += 1
        ws.freeze_panes(3, 3)
        self._page(ws, 0, "ผลรายกลุ่มงาน")

    def _group_cells(self, ws, row: int, kpis: list[Kpi], src: int) -> None:
        for i, kpi in enumerate(kpis):
            cols, sheet = self.columns[kpi.scorecard], self.sheet_of[kpi.scorecard]
            if kpi.id in cols.result:
                self.reference(ws, row, 4 + 2 * i, sheet, src, cols.result[kpi.id], self.f["result"])
            else:
                ws.write_blank(row, 4 + 2 * i, None, self.f["cell"])
            self.reference(ws, row, 5 + 2 * i, sheet, src, cols.level[kpi.id], self.f["level"])

    # ------------------------------------------------------------------ charts
    def _charts(self, ws) -> None:
        """Charts first (what a manager reads), their live tables below them."""
        ks, wb = self.ks, self.wb
        self._title(ws, "แผนภูมิ", "Charts (their tables below are formulas: they follow the criteria)")
        if not self.districts:
            ws.write_string(3, 0, "ยังไม่มีข้อมูลอำเภอ / no district data yet", self.f["note"])
            return
        n = len(self.districts)
        first, last = FIRST_ROW, self.last_district_row
        heights = [max(320, 22 * n + 90)] + [420] * len(ks.scorecards) + [420, 380]
        table_top = 3 + math.ceil((sum(heights) + 20 * len(heights)) / ROW_PIXELS) + 2
        sorted_rows = self._sorted_table(ws, table_top)
        dist_rows = self._level_table(ws, sorted_rows.stop + 2)
        avg_rows = self._province_level_table(ws, dist_rows.stop + 2)
        charts = []
        chart = wb.add_chart({"type": "bar"})
        chart.add_series({"name": "ร้อยละภาพรวม",
                          "categories": [CHARTS_SHEET, sorted_rows.start, 2, sorted_rows.stop - 1, 2],
                          "values": [CHARTS_SHEET, sorted_rows.start, 3, sorted_rows.stop - 1, 3],
                          "fill": {"color": "#2E75B6"}, "gap": 40,
                          "data_labels": {"value": True, "num_format": "0.00",
                                          "font": {"name": self.font, "size": 10}}})
        self._chart_style(chart, "ร้อยละภาพรวมรายอำเภอ เรียงจากมากไปน้อย / Overall % by district (sorted)")
        chart.set_y_axis({"reverse": True, "num_font": {"name": self.font, "size": 11}})
        chart.set_x_axis({"min": 0, "max": 100, "major_gridlines": {"visible": True},
                          "num_font": {"name": self.font, "size": 11}})
        chart.set_legend({"none": True})
        charts.append((chart, 760))
        for sc in ks.scorecards:
            sheet, cols = self.sheet_of[sc.id], self.columns[sc.id]
            chart = wb.add_chart({"type": "column", "subtype": "stacked"})
            for kpi in sc.kpis:
                chart.add_series({"name": f"{kpi.id} (น้ำหนัก {xf.number(kpi.weight)})",
                                  "categories": [SUMMARY_SHEET, first, 2, last, 2],
                                  "values": [sheet, first, cols.points[kpi.id], last, cols.points[kpi.id]],
                                  "gap": 60})
            self._chart_style(chart, f"คะแนนถ่วงน้ำหนักรายตัวชี้วัด ({sc.name_th}) / "
                                     f"{sc.name_en}: weighted KPI points per district")
            chart.set_y_axis({"min": 0, "max": 500, "num_font": {"name": self.font, "size": 11}})
            chart.set_x_axis({"num_font": {"name": self.font, "size": 11, "rotation": -45}})
            charts.append((chart, 1000))
        chart = wb.add_chart({"type": "bar", "subtype": "stacked"})
        for k in range(6):
            chart.add_series({"name": [CHARTS_SHEET, dist_rows.start - 1, 1 + k],
                              "categories": [CHARTS_SHEET, dist_rows.start, 0, dist_rows.stop - 1, 0],
                              "values": [CHARTS_SHEET, dist_rows.start, 1 + k, dist_rows.stop - 1, 1 + k],
                              "fill": {"color": LEVEL_COLORS[k]}, "gap": 50})
        self._chart_style(chart, "จำนวนอำเภอในแต่ละระดับ รายตัวชี้วัด / Districts per level, by KPI")
        chart.set_y_axis({"reverse": True, "num_font": {"name": self.font, "size": 11}})
        chart.set_x_axis({"num_font": {"name": self.font, "size": 11}})
        charts.append((chart, 760))
        chart = wb.add_chart({"type": "column"})
        for j in range(len(self.aggregates)):
            chart.add_series({"name": [CHARTS_SHEET, avg_rows.start - 1, 1 + j],
                              "categories": [CHARTS_SHEET, avg_rows.start, 0, avg_rows.stop - 1, 0],
                              "values": [CHARTS_SHEET, avg_rows.start, 1 + j, avg_rows.stop - 1, 1 + j],
                              "data_labels": {"value": True, "num_format": "0.00",
                                              "font": {"name": self.font, "size": 10}}})
        self._chart_style(chart, "ระดับของจังหวัดรายตัวชี้วัด (สัดส่วนรวม / เฉลี่ยระดับ) / Province level per KPI")
        chart.set_y_axis({"min": 0, "max": 5, "major_unit": 1, "num_font": {"name": self.font, "size": 11}})
        chart.set_x_axis({"num_font": {"name": self.font, "size": 11}})
        charts.append((chart, 760))
        offset = 0
        for (chart, width), height in zip(charts, heights):
            chart.set_size({"width": width, "height": height})
            ws.insert_chart(3, 0, chart, {"y_offset": offset})
            offset += height + 20
        ws.set_column(0, 1, 9)
        ws.set_column(2, 2, 18)
        ws.set_column(3, 6, 12)
        self._page(ws, 0, "แผนภูมิ")

    def _sorted_table(self, ws, top: int) -> range:
        """Overall % sorted live: each district's position (rank, ties in district order, unscored
        last), then row k looks the district at position k up. A copy sorted in Python would keep
        its order when a manager edits a criterion; this one follows."""
        f = self.f
        first, last = FIRST_ROW, self.last_district_row
        overall_col = self.summary_cols["overall"]
        overall = [d.score.overall_percent if d.score else None for d in self.districts]
        positions = sorted_positions(overall)
        at_position = {p: i for i, p in enumerate(positions)}
        ws.write_string(top, 0, "ร้อยละภาพรวมเรียงลำดับ / Overall % sorted", f["section"])
        ws.write_row(top + 1, 0, ["ตำแหน่ง\n(ช่วยเรียง)", "ลำดับ\nOrder", "อำเภอ\nDistrict",
                                  "ร้อยละภาพรวม\nOverall %"], f["header"])
        ws.set_row(top + 1, 44)
        start = top + 2
        everyone = (f"'{SUMMARY_SHEET}'!{xlsx.absolute_ref(first, overall_col)}:"
                    f"{xlsx.absolute_ref(last, overall_col)}")
        names = (f"'{SUMMARY_SHEET}'!{xlsx.absolute_ref(first, 2)}:"
                 f"{xlsx.absolute_ref(last, 2)}")
        positions_range = (f"{xlsx.absolute_ref(start, 0)}:"
                           f"{xlsx.absolute_ref(start + len(overall) - 1, 0)}")
        for i in range(len(overall)):
            row = start + i
            v = f"'{SUMMARY_SHEET}'!{xlsx.cell_ref(first + i, overall_col)}"
            upto = (f"'{SUMMARY_SHEET}'!{xlsx.absolute_ref(first, overall_col)}:"
                    f"{xlsx.cell_ref(first + i, overall_col)}")
            self.formula(ws, row, 0, f"IF(ISNUMBER({v}),RANK({v},{everyone},0)+COUNTIF({upto},{v})-1,"
                                     f"COUNT({everyone})+{i + 1}-COUNT({upto}))", positions[i], f["count"])
            ws.write_number(row, 1, i + 1, f["count"])
            match = f"MATCH({xlsx.cell_ref(row, 1)},{positions_range},0)"
            self.formula(ws, row, 2, f"INDEX({names},{match})",
                         self.districts[at_position[i + 1]].area.district_name_th, f["cell"])
            picked = f"INDEX({everyone},{match})"
            self.formula(ws, row, 3, f'IF(ISNUMBER({picked}),{picked},"")', overall[at_position[i + 1]],
                         f["percent"])
        return range(start, start + len(overall))

    def _level_table(self, ws, top: int) -> range:
        """Districts per level and KPI (COUNTIFS over the detail sheets; linear levels by their floor)."""
        f, ks = self.f, self.ks
        first, last = FIRST_ROW, self.last_district_row
        ws.write_string(top, 0, "จำนวนอำเภอในแต่ละระดับ / Districts per level", f["section"])
        ws.write_row(top + 1, 0, ["ตัวชี้วัด\nKPI"] + [f"ระดับ {k}" for k in range(6)], f["header"])
        ws.set_row(top + 1, 44)
        start = top + 2
        for i, kpi in enumerate(ks.kpis):
            row = start + i
            sheet, col = self.sheet_of[kpi.scorecard], self.columns[kpi.scorecard].level[kpi.id]
            levels = (f"'{sheet}'!{xlsx.absolute_ref(first, col)}:"
                      f"{xlsx.absolute_ref(last, col)}")
            ws.write_string(row, 0, kpi.id, f["cell"])
            found = [d.score.kpis[kpi.id].level for d in self.districts
                     if d.score and d.score.kpis[kpi.id].level is not None]
            for k in range(6):
                if k < 5:
                    formula = f'COUNTIFS({levels},">={k}",{levels},"<{k + 1}")'
                    count = sum(1 for v in found if k <= v < k + 1)
                else:
                    formula = f'COUNTIFS({levels},">=5")'
                    count = sum(1 for v in found if v >= 5)
                self.formula(ws, row, 1 + k, formula, count, f["count"])
        return range(start, start + len(ks.kpis))

    def _province_level_table(self, ws, top: int) -> range:
        """The province (and national) row's level per KPI, read from the detail sheets."""
        f, ks = self.f, self.ks
        ws.write_string(top, 0, "ระดับของจังหวัดรายตัวชี้วัด / Province level per KPI", f["section"])
        ws.write_row(top + 1, 0, ["ตัวชี้วัด\nKPI"] + [a.label for a in self.aggregates], f["header"])
        ws.set_row(top + 1, 44)
        start = top + 2
        for i, kpi in enumerate(ks.kpis):
            row = start + i
            ws.write_string(row, 0, kpi.id, f["cell"])
            sheet, col = self.sheet_of[kpi.scorecard], self.columns[kpi.scorecard].level[kpi.id]
            for j, agg in enumerate(self.aggregates):
                self.reference(ws, row, 1 + j, sheet, self.aggregate_row[agg.label], col, f["level"])
        return range(start, start + len(ks.kpis))

    def _chart_style(self, chart, title: str) -> None:
        chart.set_title({"name": title, "name_font": {"name": self.font, "size": 14, "bold": True}})
        chart.set_legend({"position": "bottom", "font": {"name": self.font, "size": 11}})
        chart.set_chartarea({"border": {"none": True}})

    # ------------------------------------------------------------------ raw data, issues, sources
    def _data(self, ws) -> None:
        f, ks = self.f, self.ks
        self._title(ws, "ข้อมูลที่อำเภอกรอก (หลังตรวจสอบ)", "Data entered by the districts (checked values)")
        fields = list(ks.fields)
        heads = ["รหัสจังหวัด", "จังหวัด", "รหัสอำเภอ", "อำเภอ", "สถานะ", "ไฟล์"]
        heads += [f"{fld.label_th} [{fld.id}]" for fld in fields]
        last = FIRST_ROW + len(self.districts) - 1
        ws.add_table(3, 0, max(last, FIRST_ROW), len(heads) - 1,
                     {"columns": [{"header": h, "header_format": f["header"]} for h in heads],
                      "style": "Table Style Light 9", "name": "district_data"})
        for i, d in enumerate(self.districts):
            row = FIRST_ROW + i
            for col, text in enumerate([d.area.province_code, d.area.province_name_th, d.area.district_code,
                                        d.area.district_name_th, STATUS_TH[d.status],
                                        d.source.name if d.source else ""]):
                ws.write_string(row, col, text, f["cell"])
            values = d.checked.values if d.checked else {}
            for j, fld in enumerate(fields):
                self.value(ws, row, 6 + j, values.get(fld.id), fld)
        ws.set_row(3, 60)
        ws.set_column(0, 5, 12)
        ws.set_column(6, len(heads) - 1, 16)
        ws.freeze_panes(FIRST_ROW, 4)
        self._page(ws, FIRST_ROW, "ข้อมูล")

    def _issues(self, ws) -> None:
        f = self.f
        self._title(ws, "ปัญหาที่พบ", "Issues found")
        heads = ["ความรุนแรง\nSeverity", "จังหวัด\nProvince", "รหัสอำเภอ\nCode", "อำเภอ\nDistrict",
                 "ไฟล์\nFile", "ตำแหน่ง\nSheet!cell", "ช่อง\nField", "ค่าที่พบ\nValue", "ปัญหา\nProblem (Thai)",
                 "Problem (English)", "สิ่งที่ต้องทำ\nAction"]
        ws.write_row(3, 0, heads, f["header"])
        ws.set_row(3, 40)
        problems: list[Problem] = self.result.problems
        for i, p in enumerate(problems):
            area = area_of(p.district_code) if p.district_code else None
            texts = [SEVERITY_TH[p.severity], area.province_name_th if area else p.province_code,
                     p.district_code, area.district_name_th if area else "", p.file,
                     f"{p.sheet}!{p.cell}" if p.sheet and p.cell else p.sheet or p.cell, p.field, p.value,
                     p.message_th, p.message_en, p.action_th]
            for col, text in enumerate(texts):
                ws.write_string(FIRST_ROW + i, col, text, f["wrap"] if col >= 8 else f["cell"])
        last = FIRST_ROW + max(len(problems), 1) - 1
        for severity, color in (("error", "#F8CBAD"), ("warning", "#FFE699")):
            ws.conditional_format(FIRST_ROW, 0, last, 0, {
                "type": "cell", "criteria": "==", "value": xf.text(SEVERITY_TH[severity]),
                "format": self.wb.add_format({"bg_color": color})})
        for col, width in enumerate([12, 12, 11, 16, 26, 18, 22, 14, 50, 45, 40]):
            ws.set_column(col, col, width)
        ws.freeze_panes(FIRST_ROW, 0)
        ws.autofilter(3, 0, last, len(heads) - 1)
        self._page(ws, FIRST_ROW, "ปัญหาที่พบ")

    def _sources(self, ws) -> None:
        f = self.f
        self._title(ws, "ไฟล์ที่อ่าน", "Source files read")
        heads = ["ไฟล์\nFile", "SHA-256", "ขนาด (ไบต์)\nSize (bytes)", "รหัสแบบฟอร์ม\nTemplate id",
                 "บันทึกล่าสุด (เวลาไทย)\nSaved", "อำเภอที่ใช้ข้อมูล\nUsed for district"]
        ws.write_row(3, 0, heads, f["header"])
        ws.set_row(3, 40)
        used = {d.source.name: d for d in self.districts if d.source is not None}
        for i, s in enumerate(self.result.sources):
            row = FIRST_ROW + i
            d = used.get(s.name)
            ws.write_string(row, 0, s.name, f["cell"])
            ws.write_string(row, 1, s.sha256, f["cell"])
            ws.write_number(row, 2, s.size, f["count"])
            ws.write_string(row, 3, template_id(self.ks, d.area) if d else "", f["cell"])
            self.value(ws, row, 4, _thai_time(s.saved_at) if s.saved_at else None)
            ws.write_string(row, 5, f"{d.area.district_code} {d.area.district_name_th}" if d else "—", f["cell"])
        for col, width in enumerate([32, 68, 14, 34, 22, 24]):
            ws.set_column(col, col, width)
        ws.freeze_panes(FIRST_ROW, 0)
        ws.autofilter(3, 0, FIRST_ROW + max(len(self.result.sources), 1) - 1, len(heads) - 1)
        self._page(ws, FIRST_ROW, "ไฟล์ที่อ่าน")

    # ------------------------------------------------------------------ conditional formats
    def _level_colors(self, ws, r1: int, c1: int, r2: int, c2: int) -> None:
        ws.conditional_format(r1, c1, r2, c2, {
            "type": "3_color_scale", "min_type": "num", "min_value": 0, "min_color": "#F8696B",
            "mid_type": "num", "mid_value": 2.5, "mid_color": "#FFEB84",
            "max_type": "num", "max_value": 5, "max_color": "#63BE7B"})
        ws.conditional_format(r1, c1, r2, c2, {
            "type": "cell", "criteria": "==", "value": xf.text(UNSCORABLE_TH),
            "format": self.wb.add_format({"bg_color": "#F8CBAD", "font_color": "#9C0006"})})

    def _status_colors(self, ws, r1: int, c1: int, r2: int, c2: int) -> None:
        for status, color in (("complete", "#E2EFDA"), ("needs_correction", "#F8CBAD"), ("missing", "#D9D9D9")):
            ws.conditional_format(r1, c1, r2, c2, {
                "type": "cell", "criteria": "==", "value": xf.text(STATUS_TH[status]),
                "format": self.wb.add_format({"bg_color": color})})

    def _rating_colors(self, ws, r1: int, c1: int, r2: int, c2: int) -> None:
        for band, color in zip(self.ks.rating_bands, RATING_COLORS):
            font = "#FFFFFF" if color in RATING_COLORS[:2] else "#000000"
            ws.conditional_format(r1, c1, r2, c2, {
                "type": "cell", "criteria": "==", "value": xf.text(band.name_th),
                "format": self.wb.add_format({"bg_color": color, "font_color": font})})


def _thai_time(when: dt.datetime) -> dt.datetime:
    """A saved time as Thai wall-clock time without a time zone (Excel has none)."""
    return as_thai_time(when).replace(tzinfo=None, microsecond=0)
