"""Writing cells of the consolidated workbook: live formulas that cache the engine's values, typed
data values, row labels, rows as tall as their wrapped text, page set-up and the conditional colours
every sheet shares."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Any

from cdd_scorer import excel_formulas as xf
from cdd_scorer import xlsx
from cdd_scorer.consolidated import paper
from cdd_scorer.consolidated.layout import UNSCORABLE_TH, Layout
from cdd_scorer.consolidated.styles import NOT_ASSESSED_FORMAT, RATING_COLORS, add_formats
from cdd_scorer.kpi import Field, KpiSet
from cdd_scorer.results import DistrictResult
from cdd_scorer.thai import Status

ROW_HEIGHT = 22.5  # points: a row of one line of 14-point text (``paper.lines_height(1)``), 30 whole pixels
LABEL_HEADS = ["จังหวัด\nProvince", "รหัส\nอำเภอ\nCode", "อำเภอ\nDistrict", "สถานะ\nStatus"]
AGGREGATE_TH = "รวม / เฉลี่ย"
NOT_ASSESSED_LEGEND = ("N/A = ไม่ประเมิน (ตัวชี้วัดไม่เข้าเงื่อนไขการประเมิน ไม่นับน้ำหนัก) / not applicable, its weight "
                       f"not counted · {UNSCORABLE_TH} = ข้อมูลต้องแก้ไข / inputs to correct · ว่าง = ยังไม่ส่ง / blank: "
                       "not received")


class Book:
    """The workbook being written: its card, font and formats, and the value cached in every cell
    computed so far, which a reference from a later sheet caches again."""

    def __init__(self, wb: xlsx.Workbook, ks: KpiSet, font: str, linear: bool):
        self.wb = wb
        self.ks = ks
        self.font = font
        self.linear = linear
        self.f = add_formats(wb, font, linear)
        self.not_assessed = wb.add_format({"num_format": NOT_ASSESSED_FORMAT, "font_color": "#7F7F7F",
                                           "italic": True, "bg_color": "#EDEDED"})
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
        ws.write_string(row, 3, AGGREGATE_TH, self.f["aggregate"])

    def label_columns(self, ws, layout: Layout) -> None:
        """Widths of the province, code, district and status columns (``LABEL_HEADS``) for the round's
        names, and room for the province and national labels merged over the first three."""
        districts = layout.districts
        texts = [[d.area.province_name_th for d in districts], [d.area.district_code for d in districts],
                 [d.area.district_name_th for d in districts], [d.status.th for d in districts] + [AGGREGATE_TH]]
        widths = [max(paper.head_width(head), paper.widest(words), 5.0) for head, words in zip(LABEL_HEADS, texts)]
        labels = paper.widest([a.label for a in layout.aggregates], bold=True)
        widths[2] += max(0.0, labels - paper.merged_width(widths[:3]))
        for col, width in enumerate(widths):
            ws.set_column(col, col, width)

    # ------------------------------------------------------------------ sheets
    def page(self, ws, header_rows: int, title: str, **design: Any) -> int:
        """Print the sheet as ``paper.Pages`` says (``design``: its fields but the title); unless told
        otherwise the row above ``header_rows`` (the column heads) repeats on every page. Call it last: it
        reads the sheet's widths and heights. Returns the print scale."""
        heads = (header_rows - 1, header_rows - 1) if header_rows else None
        return paper.set_up_pages(ws, paper.Pages(title, **{"repeat_rows": heads, **design}), self.font,
                                  self.ks.round_th)

    def fit_row(self, ws, row: int, texts: Iterable[tuple[int, int, str]], bold: bool = True,
                size: float = paper.FONT_SIZE, minimum: float = ROW_HEIGHT) -> float:
        """Make ``row`` as tall as its tallest text (first column, last column, text), wrapped in the width
        those columns already have; returns the height."""
        height = max([minimum] + [paper.text_height(text, paper.span_points(ws, first, last), size, bold)
                                  for first, last, text in texts if text])
        ws.set_row(row, height)
        return height

    def header_row(self, ws, row: int, first_col: int, heads: Sequence[str], fmt=None) -> None:
        """Column heads from ``first_col`` (Thai in bold, the English line smaller, ``paper.head_parts``), the
        row as tall as the tallest wrapped head."""
        fmt = fmt or self.f["header"]
        for col, head in enumerate(heads, start=first_col):
            thai, english = paper.head_parts(head)
            if english:
                ws.write_rich_string(row, col, self.f["head_thai"], thai, self.f["head_english"], "\n" + english, fmt)
            else:
                ws.write_string(row, col, head, fmt)
        ws.set_row(row, max([ROW_HEIGHT] + [paper.head_height(h, paper.span_points(ws, c, c))
                                            for c, h in enumerate(heads, start=first_col) if h]))

    def title(self, ws, title_th: str, title_en: str) -> None:
        ws.set_default_row(ROW_HEIGHT)
        ws.set_row(0, paper.lines_height(1, 20))
        ws.set_row(1, paper.lines_height(1, 15))
        ws.write_string(0, 0, f"{title_th} / {title_en}", self.f["title"])
        ws.write_string(1, 0, f"{self.ks.title_th} — {self.ks.round_th}", self.f["subtitle"])

    # ------------------------------------------------------------------ conditional formats
    def level_colors(self, ws, r1: int, c1: int, r2: int, c2: int) -> None:
        """Levels red to green, a KPI to correct in red letters, a KPI not assessed in grey."""
        self.not_assessed_grey(ws, r1, c1, r2, c2)
        ws.conditional_format(r1, c1, r2, c2, {
            "type": "3_color_scale", "min_type": "num", "min_value": 0, "min_color": "#F8696B",
            "mid_type": "num", "mid_value": 2.5, "mid_color": "#FFEB84",
            "max_type": "num", "max_value": 5, "max_color": "#63BE7B"})
        ws.conditional_format(r1, c1, r2, c2, {
            "type": "cell", "criteria": "==", "value": xf.text(UNSCORABLE_TH),
            "format": self.wb.add_format({"bg_color": "#F8CBAD", "font_color": "#9C0006"})})

    def not_assessed_grey(self, ws, r1: int, c1: int, r2: int, c2: int) -> None:
        """A formula's empty result (a KPI not applicable to the district) shows "N/A" in grey; a blank
        cell (nothing received) stays blank. Only the display changes: the cell still holds "" for the
        formulas that read it."""
        first = xlsx.cell_ref(r1, c1)
        ws.conditional_format(r1, c1, r2, c2, {"type": "formula", "criteria": f'=AND(ISTEXT({first}),{first}="")',
                                               "format": self.not_assessed})

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
