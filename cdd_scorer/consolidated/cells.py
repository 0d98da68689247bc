"""Writing cells of the consolidated workbook: live formulas that cache the engine's values, typed
data values, row labels, page set-up and the conditional colours every sheet shares."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction
from typing import Any

from cdd_scorer import excel_formulas as xf
from cdd_scorer import xlsx
from cdd_scorer.consolidated.layout import UNSCORABLE_TH
from cdd_scorer.consolidated.styles import RATING_COLORS, add_formats
from cdd_scorer.kpi import Field, KpiSet
from cdd_scorer.results import DistrictResult
from cdd_scorer.thai import Status


class Book:
    """The workbook being written: its card, font and formats, and the value cached in every cell
    computed so far, which a reference from a later sheet caches again."""

    def __init__(self, wb: xlsx.Workbook, ks: KpiSet, font: str, linear: bool):
        self.wb = wb
        self.ks = ks
        self.font = font
        self.linear = linear
        self.f = add_formats(wb, font, linear)
        self.cached: dict[tuple[str, int, int], Any] = {}

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

    def district_label(self, ws, row: int, d: DistrictResult) -> None:
        f = self.f
        ws.write_string(row, 0, d.area.province_name_th, f["cell"])
        ws.write_string(row, 1, d.area.district_code, f["cell"])
        ws.write_string(row, 2, d.area.district_name_th, f["cell"])
        ws.write_string(row, 3, d.status.th, f["cell"])

    def aggregate_label(self, ws, row: int, label: str) -> None:
        ws.merge_range(row, 0, row, 2, label, self.f["aggregate"])
        ws.write_string(row, 3, "รวม / เฉลี่ย", self.f["aggregate"])

    # ------------------------------------------------------------------ sheets
    def page(self, ws, header_rows: int, title: str) -> None:
        ws.set_landscape()
        ws.set_paper(9)
        ws.fit_to_pages(1, 0)
        ws.set_margins(0.4, 0.4, 0.6, 0.6)
        ws.repeat_rows(max(header_rows - 1, 0), max(header_rows - 1, 0))
        ws.set_header(f"&L&\"{self.font}\"&12{title}&R&\"{self.font}\"&12{self.ks.round_th}")
        ws.set_footer(f"&C&\"{self.font}\"&12หน้า &P / &N")

    def title(self, ws, title_th: str, title_en: str) -> None:
        ws.set_default_row(22)
        ws.set_row(0, 32)
        ws.set_row(1, 24)
        ws.write_string(0, 0, f"{title_th} / {title_en}", self.f["title"])
        ws.write_string(1, 0, f"{self.ks.title_th} — {self.ks.round_th}", self.f["subtitle"])

    # ------------------------------------------------------------------ conditional formats
    def level_colors(self, ws, r1: int, c1: int, r2: int, c2: int) -> None:
        ws.conditional_format(r1, c1, r2, c2, {
            "type": "3_color_scale", "min_type": "num", "min_value": 0, "min_color": "#F8696B",
            "mid_type": "num", "mid_value": 2.5, "mid_color": "#FFEB84",
            "max_type": "num", "max_value": 5, "max_color": "#63BE7B"})
        ws.conditional_format(r1, c1, r2, c2, {
            "type": "cell", "criteria": "==", "value": xf.text(UNSCORABLE_TH),
            "format": self.wb.add_format({"bg_color": "#F8CBAD", "font_color": "#9C0006"})})

    def status_colors(self, ws, r1: int, c1: int, r2: int, c2: int) -> None:
        for status, color in (("complete", "#E2EFDA"), ("needs_correction", "#F8CBAD"), ("missing", "#D9D9D9")):
            ws.conditional_format(r1, c1, r2, c2, {
                "type": "cell", "criteria": "==", "value": xf.text(Status(status).th),
                "format": self.wb.add_format({"bg_color": color})})

    def rating_colors(self, ws, r1: int, c1: int, r2: int, c2: int) -> None:
        for band, color in zip(self.ks.rating_bands, RATING_COLORS):
            font = "#FFFFFF" if color in RATING_COLORS[:2] else "#000000"
            ws.conditional_format(r1, c1, r2, c2, {
                "type": "cell", "criteria": "==", "value": xf.text(band.name_th),
                "format": self.wb.add_format({"bg_color": color, "font_color": font})})
