"""The committee's adjustments in the managers' workbook: the การปรับแก้ sheet (each decision, before → after,
reason, who decided and when) and, in the detail sheets, each adjusted cell marked with a fill and a
comment. A corrected value is already the detail sheet's input; a decided level replaces the level's
formula with the level itself, so points, scores, ranks and charts follow it when they recalculate."""

from __future__ import annotations

from collections.abc import Sequence

from cdd_scorer.consolidated.cells import Book
from cdd_scorer.consolidated.layout import FIRST_ROW, DetailColumns, Layout
from cdd_scorer.consolidated.styles import MONEY
from cdd_scorer.geography import area_of
from cdd_scorer.history import Adjustment
from cdd_scorer.thai import DATE_FORMAT_BE, be_date
from cdd_scorer.xlsx import COUNT_FORMAT

ADJUSTMENTS_SHEET = "การปรับแก้"
ADJUSTED_FILL = "#E4DFEC"  # lilac: not a level colour, not a status colour
HEADS = ["รหัสอำเภอ\nCode", "อำเภอ\nDistrict", "ตัวชี้วัด\nKPI", "ช่องข้อมูล / ระดับ\nField or level", "ก่อน\nBefore",
         "หลัง\nAfter", "เหตุผล\nReason", "ผู้วินิจฉัย\nDecided by", "วันที่วินิจฉัย\nDecided on"]
WIDTHS = [12, 18, 10, 40, 14, 14, 50, 24, 18]


def write_adjustments(book: Book, ws, adjustments: Sequence[Adjustment]) -> None:
    """The การปรับแก้ sheet: a row per decision applied in the run."""
    f, ks = book.f, book.ks
    book.title(ws, "การปรับแก้ผลตามมติคณะกรรมการกลั่นกรองผลการประเมิน", "Adjustments decided by the screening committee")
    ws.merge_range(2, 0, 2, len(HEADS) - 1, "ค่าหลังปรับแก้ใช้คิดคะแนนแทนค่าในไฟล์ของอำเภอ (ไฟล์ของอำเภอไม่ถูกแก้ไข) ช่องที่ปรับแก้ใน"
                   "แผ่นงานทีมและรายบุคคลมีสีม่วงและความเห็นกำกับ / The values after are scored instead of the district's "
                   "(its file is unchanged); adjusted cells in the detail sheets are lilac with a comment", f["wrap"])
    ws.set_row(2, 44)
    ws.write_row(3, 0, HEADS, f["header"])
    for row, a in enumerate(adjustments, start=FIRST_ROW):
        area = area_of(a.district_code)
        what = "ระดับที่วินิจฉัย / decided level" if a.is_level else f"{ks.field(a.field).label_th} ({a.field})"
        texts = [a.district_code, area.district_name_th if area else "", a.kpi_id or "", what, a.before or "",
                 a.after or "", a.reason, a.decided_by]
        for col, text in enumerate(texts):
            ws.write_string(row, col, text, f["wrap"] if col in (3, 6) else f["cell"])
        if a.decided_on:
            ws.write_datetime(row, len(texts), a.decided_on, f["date"])
        else:
            ws.write_blank(row, len(texts), None, f["cell"])
    for col, width in enumerate(WIDTHS):
        ws.set_column(col, col, width)
    ws.set_row(3, 60)
    ws.freeze_panes(FIRST_ROW, 2)
    ws.autofilter(3, 0, max(3, FIRST_ROW + len(adjustments) - 1), len(HEADS) - 1)
    book.page(ws, FIRST_ROW, ADJUSTMENTS_SHEET)


def mark_adjusted_cells(book: Book, sheets: dict[str, object], details: dict[str, DetailColumns], layout: Layout,
                        adjustments: Sequence[Adjustment]) -> None:
    """In the detail sheets already written (``sheets`` and ``details`` by scorecard id): each corrected
    input and each decided level filled and commented; a decided level written as a number in place of
    its formula (the points, scores and charts read that cell)."""
    marked = _formats(book)
    districts = {d.area.district_code: d for d in layout.districts}
    for a in adjustments:
        district, row = districts[a.district_code], layout.row_of[a.district_code]
        for sc_id, cols in details.items():
            ws = sheets[sc_id]
            if a.is_level and a.kpi_id in cols.level:
                col, level = cols.level[a.kpi_id], district.score.kpis[a.kpi_id].level
                ws.write_number(row, col, float(level), marked["level"])
                book.cached[(ws.get_name(), row, col)] = float(level)
            elif not a.is_level and a.field in cols.fields:
                col, fld = cols.fields[a.field], book.ks.field(a.field)
                book.value(ws, row, col, district.checked.values.get(a.field), fld,
                           marked.get(fld.type, marked["cell"]))
            else:
                continue
            ws.write_comment(row, col, comment(a), {"font_name": book.font, "font_size": 12, "x_scale": 2.5,
                                                    "y_scale": 2, "author": "cdd-scorer"})


def comment(a: Adjustment) -> str:
    """The comment on an adjusted cell: what it was, why, who decided and when (Thai, then English)."""
    when = f" {be_date(a.decided_on)}" if a.decided_on else ""
    return (f"ปรับแก้ตามมติคณะกรรมการ: {a.before or '-'} → {a.after}\nเหตุผล: {a.reason}\n"
            f"ผู้วินิจฉัย: {a.decided_by}{when}\nAdjusted by the committee ({a.item}): {a.before or '-'} → {a.after}")


def _formats(book: Book) -> dict[str, object]:
    """The detail sheets' formats of inputs and levels, filled: an adjusted cell reads as the others do."""
    base = {"font_name": book.font, "font_size": 14, "valign": "top", "border": 1, "border_color": "#BFBFBF",
            "bg_color": ADJUSTED_FILL, "bold": True}
    number_formats = {"money": MONEY, "count": COUNT_FORMAT, "date": DATE_FORMAT_BE, "cell": None,
                      "level": "0.0000" if book.linear else "0"}
    return {name: book.wb.add_format({**base, **({"num_format": fmt} if fmt else {}),
                                      **({"align": "center"} if name == "level" else {})})
            for name, fmt in number_formats.items()}
