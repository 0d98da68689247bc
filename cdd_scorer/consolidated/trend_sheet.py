"""The trend sheet (แนวโน้ม): each district's overall % and rating in the earlier rounds of the history and
in this run, the change since the previous round, its KPI levels compared with the previous round's
where the two cards share the KPI id, and a line chart of the province and the districts that moved most.

Earlier rounds are what the history recorded (the final run of a closed round, else its latest run);
this run's figures are references to the summary sheet and the changes are formulas, so they follow the
criteria when a manager edits them.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from fractions import Fraction

from cdd_scorer import xlsx
from cdd_scorer.consolidated.cells import Book
from cdd_scorer.consolidated.layout import FIRST_ROW, SUMMARY_SHEET, Layout, Summary
from cdd_scorer.history import ProvinceTrend, RoundRun

TREND_SHEET = "แนวโน้ม"
MOVERS = 5  # districts charted besides the provinces: those whose overall % changed most
CHANGE_FORMAT = "+0.00;-0.00;0.00"


def write_trend(book: Book, ws, layout: Layout, summary: Summary, trend: Mapping[str, ProvinceTrend]) -> None:
    """The trend sheet of the provinces in ``trend`` (each with its earlier rounds)."""
    f, ks = book.f, book.ks
    fmt = {"percent": book.wb.add_format({**_base(book), "num_format": "0.00"}),
           "change": book.wb.add_format({**_base(book), "num_format": CHANGE_FORMAT}),
           "level": book.wb.add_format({**_base(book), "num_format": "General", "align": "center"}),
           "level_change": book.wb.add_format({**_base(book), "num_format": "+General;-General;0", "align": "center"})}
    rounds = sorted({r.card_id: r for t in trend.values() for r in t.rounds}.values(),
                    key=lambda r: (r.fiscal_year_be, r.round_start, r.card_id))
    previous = rounds[-1].card_id
    shared = [k for k in ks.kpis if any(k.id in p.levels for t in trend.values() for points in t.districts.values()
                                         for p in points if p.round.card_id == previous)]
    n = len(rounds)
    pct, change, rating = 3, 4 + n, 5 + n
    kpi_first = rating + n + 1
    book.title(ws, "แนวโน้มเทียบกับรอบก่อน", "Trend: earlier rounds and this one")
    heads = ["จังหวัด\nProvince", "รหัสอำเภอ\nCode", "อำเภอ\nDistrict"]
    labels = [r.card_id for r in rounds] + [f"{ks.id} (รอบนี้ / this round)"]
    ws.write_row(3, 0, heads + labels + ["เปลี่ยนจากรอบก่อน\nchange"] + labels, f["header"])
    ws.merge_range(2, 0, 2, 2, "", f["kpi_header"])
    ws.merge_range(2, pct, 2, change, "ร้อยละภาพรวม / Overall %", f["kpi_header"])
    ws.merge_range(2, rating, 2, rating + n, "ผลการประเมิน / Rating", f["kpi_header"])
    for i, kpi in enumerate(shared):
        first = kpi_first + 3 * i
        ws.merge_range(2, first, 2, first + 2, f"{kpi.id} ระดับ / level", f["kpi_header"])
        ws.write_row(3, first, [previous, "รอบนี้\nthis round", "เปลี่ยน\nchange"], f["header"])
    rows = []
    districts = [d for d in layout.districts if d.area.province_code in trend]
    for row, d in enumerate(districts, start=FIRST_ROW):
        code = d.area.district_code
        points = {p.round.card_id: p for p in trend[d.area.province_code].districts.get(code, ())}
        book.district_label(ws, row, d)
        now = d.score.overall_percent if d.score else None
        _figures(book, ws, row, fmt, rounds, {c: (p.overall_percent, p.rating) for c, p in points.items()},
                 now, (layout.row_of[code], summary), pct)
        rows.append((row, _moved(now, points[previous].overall_percent if previous in points else None)))
        for i, kpi in enumerate(shared):
            first = kpi_first + 3 * i
            before = points[previous].levels.get(kpi.id) if previous in points else None
            now = d.score.kpis[kpi.id].level if d.score else None
            book.value(ws, row, first, before, fmt=fmt["level"])
            _this_run(book, ws, row, first + 1, (layout.row_of[code], summary.columns.level + ks.kpis.index(kpi)),
                      fmt["level"])
            _difference(book, ws, row, first + 2, first + 1, first, fmt["level_change"], now, before)
    province_rows = []
    for row, agg in enumerate((a for a in layout.aggregates if not a.national and a.provinces[0].code in trend),
                              start=FIRST_ROW + len(districts) + 1):
        earlier = trend[agg.provinces[0].code].rounds
        runs = {r.card_id: (r.overall_percent, r.rating) for r in earlier}
        book.aggregate_label(ws, row, agg.label)
        _figures(book, ws, row, fmt, rounds, runs, agg.score.overall_percent, (agg.row, summary), pct)
        province_rows.append((row, _moved(agg.score.overall_percent, earlier[-1].overall_percent)))
    last = province_rows[-1][0] if province_rows else FIRST_ROW + len(districts) - 1
    book.rating_colors(ws, FIRST_ROW, rating, last, rating + n)
    _chart(book, ws, province_rows, rows, pct, n, last + 3)
    ws.set_column(0, 1, 10)
    ws.set_column(2, 2, 18)
    ws.set_column(pct, rating + n, 14)
    if shared:
        ws.set_column(kpi_first, kpi_first + 3 * len(shared) - 1, 11)
    ws.set_row(3, 80)
    ws.freeze_panes(FIRST_ROW, 3)
    # Wide like the detail sheets: across pages at a readable scale, a round's block never cut, the
    # district columns and the heads on every page; the chart starts a page of its own.
    book.page(ws, FIRST_ROW, TREND_SHEET, repeat_rows=(2, 3), repeat_columns=(0, 2),
              keep_columns=[(pct, rating + n)] + [(kpi_first + 3 * i, kpi_first + 3 * i + 2)
                                                  for i in range(len(shared))],
              row_breaks=[last + 2])


def _base(book: Book) -> dict:
    return {"font_name": book.font, "font_size": 14, "valign": "top", "border": 1, "border_color": "#BFBFBF"}


def _figures(book: Book, ws, row: int, fmt: dict, rounds: list[RoundRun],
             earlier: dict[str, tuple[Decimal | None, str | None]], now: Decimal | None,
             source: tuple[int, Summary], pct: int) -> None:
    """One row's overall % and rating in each earlier round, this run's (``now``) from the summary sheet's
    row of ``source``, and the change since the previous round."""
    n = len(rounds)
    summary_row, summary = source
    for i, r in enumerate(rounds):
        percent, rating = earlier.get(r.card_id, (None, None))
        book.value(ws, row, pct + i, percent, fmt=fmt["percent"])
        book.value(ws, row, pct + n + 2 + i, rating, fmt=book.f["cell"])
    _this_run(book, ws, row, pct + n, (summary_row, summary.columns.overall), fmt["percent"])
    _this_run(book, ws, row, pct + 2 * n + 2, (summary_row, summary.columns.rating), book.f["cell"])
    before = earlier.get(rounds[-1].card_id, (None, None))[0]
    _difference(book, ws, row, pct + n + 1, pct + n, pct + n - 1, fmt["change"], now, before)


def _this_run(book: Book, ws, row: int, col: int, source: tuple[int, int], fmt) -> None:
    """A summary cell of this run shown here, empty when it is (a bare reference would show 0)."""
    target = f"'{SUMMARY_SHEET}'!{xlsx.absolute_ref(*source)}"
    book.formula(ws, row, col, f'IF({target}="","",{target})', book.cached.get((SUMMARY_SHEET, *source), ""), fmt)


def _difference(book: Book, ws, row: int, col: int, now_col: int, before_col: int, fmt, now, before) -> None:
    """``now − before`` as a formula, empty unless both are numbers."""
    now_ref, before_ref = xlsx.cell_ref(row, now_col), xlsx.cell_ref(row, before_col)
    value = None if now is None or before is None else Fraction(now) - Fraction(before)
    book.formula(ws, row, col, f'IF(AND(ISNUMBER({now_ref}),ISNUMBER({before_ref})),{now_ref}-{before_ref},"")',
                 value, fmt)


def _moved(now: Decimal | None, before: Decimal | None) -> Decimal | None:
    """How far an overall % moved since the previous round (None: not scored in both)."""
    return None if now is None or before is None else abs(now - before)


def _most_moved(rows: list[tuple[int, Decimal | None]]) -> list[int]:
    """The rows (in sheet order) of the ``MOVERS`` that moved most; every row when there are no more."""
    if len(rows) <= MOVERS:
        return [row for row, _ in rows]
    return sorted(row for row, _ in sorted((r for r in rows if r[1] is not None), key=lambda r: (-r[1], r[0]))[:MOVERS])


def _chart(book: Book, ws, province_rows: list[tuple[int, Decimal | None]],
           district_rows: list[tuple[int, Decimal | None]], pct: int, n: int, top: int) -> None:
    """A line per province (the ones that moved most when there are many) and per district that moved
    most, over the rounds."""
    provinces = _most_moved(province_rows)
    chart = book.wb.add_chart({"type": "line"})
    for row in provinces + _most_moved([r for r in district_rows if r[1] is not None]):
        chart.add_series({"name": [TREND_SHEET, row, 0 if row in provinces else 2],
                          "categories": [TREND_SHEET, 3, pct, 3, pct + n],
                          "values": [TREND_SHEET, row, pct, row, pct + n], "marker": {"type": "circle"},
                          "line": {"width": 3.5 if row in provinces else 1.75}})
    font = {"name": book.font, "size": 11}
    chart.set_title({"name": "ร้อยละภาพรวม: จังหวัดและอำเภอที่เปลี่ยนมากที่สุด / Overall %: the province and the "
                             "districts that moved most", "name_font": {"name": book.font, "size": 14}})
    chart.set_x_axis({"num_font": font})
    chart.set_y_axis({"min": 0, "max": 100, "major_gridlines": {"visible": True}, "num_font": font})
    chart.set_legend({"position": "right", "font": font})
    chart.set_size({"width": 1100, "height": 480})
    ws.write_string(top - 1, 0, "รอบก่อนหน้ามาจากฐานข้อมูลประวัติ: ผลครั้งสุดท้ายเมื่อปิดรอบ หรือครั้งล่าสุด / Earlier "
                                "rounds come from the history: the final run of a closed round, else its latest run",
                    book.f["note"])
    ws.insert_chart(top, 0, chart)
