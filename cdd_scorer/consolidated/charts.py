"""The charts sheet (แผนภูมิ): charts first (what a manager reads), their live tables below them."""

from __future__ import annotations

import math
from collections.abc import Sequence

from cdd_scorer import excel_formulas as xf
from cdd_scorer import xlsx
from cdd_scorer.consolidated import paper
from cdd_scorer.consolidated.cells import Book
from cdd_scorer.consolidated.layout import (
    CHARTS_SHEET,
    FIRST_ROW,
    SUMMARY_SHEET,
    DetailColumns,
    Layout,
    SummaryColumns,
)
from cdd_scorer.consolidated.styles import LEVEL_COLORS

WIDE_CHART, NARROW_CHART = 960, 760  # pixels: a chart of every district's points, the others


def sorted_positions(values: Sequence[float | None]) -> list[int]:
    """Chart order: highest first, ties in district order, districts without a score last."""
    scored = sorted((i for i, v in enumerate(values) if v is not None), key=lambda i: -values[i])
    order = scored + [i for i, v in enumerate(values) if v is None]
    positions = [0] * len(values)
    for position, i in enumerate(order, start=1):
        positions[i] = position
    return positions


def write_charts(book: Book, ws, layout: Layout, details: dict[str, DetailColumns], summary: SummaryColumns
                 ) -> None:
    """Charts first (what a manager reads), their live tables below them."""
    ks, wb, font = book.ks, book.wb, book.font
    book.title(ws, "แผนภูมิ", "Charts (their tables below are formulas: they follow the criteria)")
    if not layout.districts:
        ws.write_string(3, 0, "ยังไม่มีข้อมูลอำเภอ / no district data yet", book.f["note"])
        return
    first, last = FIRST_ROW, layout.last_district_row
    heights = _chart_heights(ws, len(ks.scorecards))
    # One chart per page: a page starts on the row after the last the previous chart covers, and its chart
    # a row lower, clear of the page above (the first under the sheet's title).
    starts, anchors = [], [3]
    for height in heights:
        starts.append(anchors[-1] + math.ceil(height / paper.row_points(ws, 3)))
        anchors.append(starts[-1] + 1)
    anchors.pop()
    table_top = starts[-1]
    names = [d.area.district_name_th for d in layout.districts] + [a.label for a in layout.aggregates]
    ws.set_column(0, 1, 10)
    ws.set_column(2, 2, max(12.0, paper.widest(names)))
    ws.set_column(3, 6 + len(layout.aggregates), 12)
    sorted_rows = _sorted_table(book, ws, layout, summary, table_top)
    dist_rows = _level_table(book, ws, layout, details, sorted_rows.stop + 2)
    avg_rows = _province_level_table(book, ws, layout, details, dist_rows.stop + 2)
    charts = []
    chart = wb.add_chart({"type": "column"})
    chart.add_series({"name": "ร้อยละภาพรวม",
                      "categories": [CHARTS_SHEET, sorted_rows.start, 2, sorted_rows.stop - 1, 2],
                      "values": [CHARTS_SHEET, sorted_rows.start, 3, sorted_rows.stop - 1, 3],
                      "fill": {"color": "#2E75B6"}, "gap": 40,
                      "data_labels": {"value": True, "num_format": "0.00",
                                      "font": {"name": font, "size": 10, "rotation": -90}}})
    _chart_style(chart, font, "ร้อยละภาพรวมรายอำเภอ เรียงจากมากไปน้อย / Overall % by district (sorted)")
    chart.set_x_axis({"interval_unit": 1, "num_font": {"name": font, "size": 11, "rotation": -45}})
    chart.set_y_axis({"min": 0, "max": 100, "major_gridlines": {"visible": True},
                      "num_font": {"name": font, "size": 11}})
    chart.set_legend({"none": True})
    charts.append((chart, WIDE_CHART))
    for sc in ks.scorecards:
        cols = details[sc.id]
        chart = wb.add_chart({"type": "column", "subtype": "stacked"})
        for kpi in sc.kpis:
            chart.add_series({"name": f"{kpi.id} (น้ำหนัก {xf.number(kpi.weight)})",
                              "categories": [SUMMARY_SHEET, first, 2, last, 2],
                              "values": [cols.sheet, first, cols.points[kpi.id], last, cols.points[kpi.id]],
                              "gap": 60})
        _chart_style(chart, font, f"คะแนนถ่วงน้ำหนักรายตัวชี้วัด ({sc.name_th}) / "
                                  f"{sc.name_en}: weighted KPI points per district")
        chart.set_y_axis({"min": 0, "max": 500, "num_font": {"name": font, "size": 11}})
        chart.set_x_axis({"interval_unit": 1, "num_font": {"name": font, "size": 11, "rotation": -45}})
        charts.append((chart, WIDE_CHART))
    chart = wb.add_chart({"type": "bar", "subtype": "stacked"})
    for k in range(6):
        chart.add_series({"name": [CHARTS_SHEET, dist_rows.start - 1, 1 + k],
                          "categories": [CHARTS_SHEET, dist_rows.start, 0, dist_rows.stop - 1, 0],
                          "values": [CHARTS_SHEET, dist_rows.start, 1 + k, dist_rows.stop - 1, 1 + k],
                          "fill": {"color": LEVEL_COLORS[k]}, "gap": 50})
    _chart_style(chart, font, "จำนวนอำเภอในแต่ละระดับ รายตัวชี้วัด / Districts per level, by KPI")
    chart.set_y_axis({"reverse": True, "interval_unit": 1, "num_font": {"name": font, "size": 11}})
    chart.set_x_axis({"num_font": {"name": font, "size": 11}})
    charts.append((chart, NARROW_CHART))
    chart = wb.add_chart({"type": "column"})
    for j in range(len(layout.aggregates)):
        chart.add_series({"name": [CHARTS_SHEET, avg_rows.start - 1, 1 + j],
                          "categories": [CHARTS_SHEET, avg_rows.start, 0, avg_rows.stop - 1, 0],
                          "values": [CHARTS_SHEET, avg_rows.start, 1 + j, avg_rows.stop - 1, 1 + j],
                          "data_labels": {"value": True, "num_format": "0.00",
                                          "font": {"name": font, "size": 10}}})
    _chart_style(chart, font, "ระดับของจังหวัดรายตัวชี้วัด (สัดส่วนรวม / เฉลี่ยระดับ) / Province level per KPI")
    chart.set_y_axis({"min": 0, "max": 5, "major_unit": 1, "num_font": {"name": font, "size": 11}})
    chart.set_x_axis({"interval_unit": 1, "num_font": {"name": font, "size": 11}})
    charts.append((chart, NARROW_CHART))
    for (chart, width), height, row in zip(charts, heights, anchors):
        chart.set_size({"width": width, "height": math.floor(height / paper.POINTS_PER_PIXEL)})
        ws.insert_chart(row, 0, chart)
    book.page(ws, 0, "แผนภูมิ", row_breaks=starts,
              width_points=WIDE_CHART * paper.POINTS_PER_PIXEL)


def _chart_heights(ws, scorecards: int) -> list[float]:
    """Each chart's height in points, at most a page's (the first page's less the title rows above it):
    tall enough for the program to label every category."""
    page = paper.printable()[1] - 2 * paper.row_points(ws, 3)  # the row above it, and the rows rounding up
    first_page = page - sum(paper.row_points(ws, r) for r in range(3))
    return [min(first_page, 380.0)] + [min(page, 330.0)] * scorecards + [min(page, 400.0), min(page, 300.0)]


def _sorted_table(book: Book, ws, layout: Layout, summary: SummaryColumns, top: int) -> range:
    """Overall % sorted live: each district's position (rank, ties in district order, unscored
    last), then row k looks the district at position k up. A copy sorted in Python would keep
    its order when a manager edits a criterion; this one follows."""
    f = book.f
    first, last = FIRST_ROW, layout.last_district_row
    overall_col = summary.overall
    overall = [d.score.overall_percent if d.score else None for d in layout.districts]
    positions = sorted_positions(overall)
    at_position = {p: i for i, p in enumerate(positions)}
    ws.write_string(top, 0, "ร้อยละภาพรวมเรียงลำดับ / Overall % sorted", f["section"])
    book.header_row(ws, top + 1, 0, ["ตำแหน่ง\n(ช่วยเรียง)", "ลำดับ\nOrder", "อำเภอ\nDistrict",
                              "ร้อยละภาพรวม\nOverall %"])
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
        book.formula(ws, row, 0, f"IF(ISNUMBER({v}),RANK({v},{everyone},0)+COUNTIF({upto},{v})-1,"
                                 f"COUNT({everyone})+{i + 1}-COUNT({upto}))", positions[i], f["count"])
        ws.write_number(row, 1, i + 1, f["count"])
        match = f"MATCH({xlsx.cell_ref(row, 1)},{positions_range},0)"
        book.formula(ws, row, 2, f"INDEX({names},{match})",
                     layout.districts[at_position[i + 1]].area.district_name_th, f["cell"])
        picked = f"INDEX({everyone},{match})"
        book.formula(ws, row, 3, f'IF(ISNUMBER({picked}),{picked},"")', overall[at_position[i + 1]],
                     f["percent"])
    return range(start, start + len(overall))


def _level_table(book: Book, ws, layout: Layout, details: dict[str, DetailColumns], top: int) -> range:
    """Districts per level and KPI (COUNTIFS over the detail sheets; linear levels by their floor)."""
    f, ks = book.f, book.ks
    first, last = FIRST_ROW, layout.last_district_row
    ws.write_string(top, 0, "จำนวนอำเภอในแต่ละระดับ / Districts per level", f["section"])
    book.header_row(ws, top + 1, 0, ["ตัวชี้วัด\nKPI"] + [f"ระดับ {k}" for k in range(6)])
    start = top + 2
    for i, kpi in enumerate(ks.kpis):
        row = start + i
        cols = details[kpi.scorecard]
        col = cols.level[kpi.id]
        levels = (f"'{cols.sheet}'!{xlsx.absolute_ref(first, col)}:"
                  f"{xlsx.absolute_ref(last, col)}")
        ws.write_string(row, 0, kpi.id, f["cell"])
        found = [d.score.kpis[kpi.id].level for d in layout.districts
                 if d.score and d.score.kpis[kpi.id].level is not None]
        for k in range(6):
            if k < 5:
                formula = f'COUNTIFS({levels},">={k}",{levels},"<{k + 1}")'
                count = sum(1 for v in found if k <= v < k + 1)
            else:
                formula = f'COUNTIFS({levels},">=5")'
                count = sum(1 for v in found if v >= 5)
            book.formula(ws, row, 1 + k, formula, count, f["count"])
    return range(start, start + len(ks.kpis))


def _province_level_table(book: Book, ws, layout: Layout, details: dict[str, DetailColumns], top: int) -> range:
    """The province (and national) row's level per KPI, read from the detail sheets."""
    f, ks = book.f, book.ks
    ws.write_string(top, 0, "ระดับของจังหวัดรายตัวชี้วัด / Province level per KPI", f["section"])
    book.header_row(ws, top + 1, 0, ["ตัวชี้วัด\nKPI"] + [a.label for a in layout.aggregates])
    start = top + 2
    for i, kpi in enumerate(ks.kpis):
        row = start + i
        ws.write_string(row, 0, kpi.id, f["cell"])
        cols = details[kpi.scorecard]
        for j, agg in enumerate(layout.aggregates):
            book.reference(ws, row, 1 + j, cols.sheet, agg.row, cols.level[kpi.id], f["level"])
    return range(start, start + len(ks.kpis))


def _chart_style(chart, font: str, title: str) -> None:
    chart.set_title({"name": title, "name_font": {"name": font, "size": 14, "bold": True}})
    chart.set_legend({"position": "bottom", "font": {"name": font, "size": 11}})
    chart.set_chartarea({"border": {"none": True}})
