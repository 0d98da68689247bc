"""A scorecard's detail sheet (ทีม, รายบุคคล): the raw inputs and every formula of its KPIs, a row per
district, then the province rows (ratio KPIs pooled from summed fields, the others the mean of levels)
and the national row."""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from typing import Any

from cdd_scorer import excel_formulas as xf
from cdd_scorer import xlsx
from cdd_scorer.consolidated import paper
from cdd_scorer.consolidated.cells import LABEL_HEADS, NOT_ASSESSED_LEGEND, Book
from cdd_scorer.consolidated.layout import FIRST_ROW, UNSCORABLE_TH, Aggregate, DetailColumns, Layout
from cdd_scorer.exact import exact
from cdd_scorer.kpi import Field, Kpi, Scorecard
from cdd_scorer.results import DistrictResult
from cdd_scorer.scoring import kpi_result, pools_fields, step_level
from cdd_scorer.thai import Status

MEAN_TH = "เฉลี่ยระดับ"


def status_guard(status_ref: str, formula: str) -> str:
    """A district score exists only when its status is complete (errors block the scores)."""
    return f'IF({status_ref}<>{xf.text(Status.COMPLETE.th)},"",{formula})'


def write_detail(book: Book, ws, sc: Scorecard, layout: Layout) -> DetailColumns:
    """The detail sheet of one scorecard; returns where each of its quantities lives."""
    f = book.f
    book.title(ws, f"{sc.name_th}: ข้อมูล → ผลลัพธ์ → ระดับ → คะแนน", f"{sc.name_en}: inputs → result → level → points")
    cols = _headers(book, ws, sc, layout)
    for d in layout.districts:
        _district_row(book, ws, sc, cols, d, layout.row_of[d.area.district_code])
    ws.write_string(layout.last_district_row + 1, 0, NOT_ASSESSED_LEGEND, f["note"])
    ws.write_string(layout.notes_row, 0, "แถวจังหวัด: ตัวชี้วัดเชิงสัดส่วนคำนวณจากผลรวม (Σ) ของอำเภอที่ข้อมูลถูกต้อง ส่วนตัวชี้วัดอื่นใช้"
                                         "ค่าเฉลี่ยระดับ / Province rows: ratio KPIs pooled from the summed fields of "
                                         "districts with valid data; other KPIs the mean of district levels", f["note"])
    for agg in layout.aggregates:
        _aggregate_row(book, ws, sc, cols, agg)
    last = layout.aggregates[-1].row if layout.aggregates else layout.notes_row
    for kpi in sc.kpis:
        book.level_colors(ws, FIRST_ROW, cols.level[kpi.id], last, cols.level[kpi.id])
        book.not_assessed_grey(ws, FIRST_ROW, cols.points[kpi.id], last, cols.points[kpi.id])
    book.status_colors(ws, FIRST_ROW, 3, layout.last_district_row, 3)
    ws.freeze_panes(FIRST_ROW, 4)
    ws.autofilter(3, 0, layout.last_district_row, cols.percent)
    # Printed across pages: the district columns and both head rows on every page, a KPI never split.
    book.page(ws, FIRST_ROW, sc.name_th, repeat_rows=(2, 3), repeat_columns=(0, 3),
              keep_columns=[cols.kpi_span(kpi) for kpi in sc.kpis] + [(cols.score, cols.percent)],
              keep_rows=[(layout.notes_row, last)])
    return cols


FIELD_HEAD_LINES = 5  # a field's head wraps into at most this many lines …
FIELD_WIDTHS = (10.0, 22.0)  # … in a column this wide (digits), at the least and the most


def _headers(book: Book, ws, sc: Scorecard, layout: Layout) -> DetailColumns:
    """The two header rows: a merged title per KPI over a column per quantity, each column as wide as
    its widest value and its head wrapped into a few lines."""
    f = book.f
    fields, result, step, level, points, weight = {}, {}, {}, {}, {}, {}
    heads = dict(enumerate(LABEL_HEADS))
    widths = {}
    book.label_columns(ws, layout)
    col = 4
    titles = []
    level_texts = [UNSCORABLE_TH, "N/A", "0.0000" if book.linear else "0"]
    for kpi in sc.kpis:
        first = col
        for fld in kpi.fields:
            if fld.type == "text":
                continue
            fields[fld.id] = col
            heads[col] = f"{fld.label_th}\n{fld.label_en}"
            widths[col] = max(_value_width(layout, fld), paper.width_to_wrap(heads[col], FIELD_HEAD_LINES,
                                                                               *FIELD_WIDTHS))
            col += 1
        if kpi.result is not None:
            result[kpi.id] = col
            heads[col], widths[col] = "ผลลัพธ์ (ร้อยละ)\nResult %", paper.widest([MEAN_TH, "100.00"], bold=True)
            col += 1
        if book.linear:
            step[kpi.id] = col
            heads[col], widths[col] = "ระดับขั้น\nStep level", paper.widest(level_texts, bold=True)
            col += 1
        most = xf.number(kpi.weight * 5) + (".00" if book.linear else "")
        for columns, head, texts in ((level, "ระดับ\nLevel", level_texts), (points, "คะแนน\nPoints", [most]),
                                     (weight, "น้ำหนักที่ใช้\nWeight used", [xf.number(kpi.weight)])):
            columns[kpi.id] = col
            heads[col], widths[col] = head, paper.widest(texts, bold=True)
            col += 1
        titles.append((first, col - 1, f"{kpi.id} {kpi.number_th} {kpi.title_th} (น้ำหนัก {xf.number(kpi.weight)})"))
    heads[col] = f"คะแนน{sc.name_th} (0–5)\n{sc.name_en} score"
    heads[col + 1] = f"ร้อยละ{sc.name_th}\n{sc.name_en} %"
    widths[col], widths[col + 1] = paper.widest(["0.0000"], bold=True), paper.widest(["100.00"], bold=True)
    titles.append((col, col + 1, sc.name_th))
    for c, width in widths.items():
        ws.set_column(c, c, max(width, paper.width_to_wrap(heads[c], FIELD_HEAD_LINES, 7.0, FIELD_WIDTHS[1])))
    book.header_row(ws, 3, 0, [heads[c] for c in range(col + 2)])
    ws.merge_range(2, 0, 2, 3, "", f["kpi_header"])
    for first, last, title in titles:
        ws.merge_range(2, first, 2, last, title, f["kpi_header"])
    book.fit_row(ws, 2, titles)
    return DetailColumns(ws.get_name(), fields, result, step, level, points, weight, score=col, percent=col + 1)


def _value_width(layout: Layout, fld: Field) -> float:
    """The width the field's values need as the sheet shows them (the province rows' sums in bold)."""
    typed = [paper.shown_value(d.checked.values.get(fld.id), fld.type) for d in layout.districts if d.checked]
    sums = [paper.shown_value(sums.get(fld.id), fld.type) for a in layout.aggregates
            for sums in a.score.pooled_sums.values()]
    return max(paper.widest(typed), paper.widest(sums, bold=True))


def _district_row(book: Book, ws, sc: Scorecard, cols: DetailColumns, d: DistrictResult, row: int) -> None:
    f, ks = book.f, book.ks
    book.district_label(ws, row, d)
    if d.score is None or d.checked is None:
        return
    values = d.checked.values
    for fid, c in cols.fields.items():
        book.value(ws, row, c, values.get(fid), ks.field(fid))

    def ref(field_id: str) -> str:
        return xlsx.cell_ref(row, cols.fields[field_id])

    for kpi in sc.kpis:
        score = d.score.kpis[kpi.id]
        wcell = (row, cols.weight[kpi.id])
        if not score.scorable:
            for computed in (cols.result, cols.step, cols.level, cols.points):
                if kpi.id in computed:
                    book.marker(ws, row, computed[kpi.id], UNSCORABLE_TH, f["level"])
            book.formula(ws, *wcell, xf.weight_name(kpi), kpi.weight, f["weight"])
            continue
        _kpi_cells(book, ws, row, cols, kpi, ref, values, score.level)
        book.formula(ws, *wcell, xf.applicable_weight(kpi, ref, xf.weight_name(kpi)),
                     kpi.weight if score.applicable else 0, f["weight"])
    card = d.score.scorecards[sc.id]
    status_ref = xlsx.cell_ref(row, 3)
    _scorecard_cells(book, ws, row, cols, sc, card.score, card.percent,
                     guard=lambda formula: status_guard(status_ref, formula))


def _kpi_cells(book: Book, ws, row: int, cols: DetailColumns, kpi: Kpi, ref: Callable[[str], str],
               values: dict[str, Any], level: float | None, guard: Callable[[str], str] = lambda x: x) -> None:
    """Result, step level, level and points of one KPI computed from the inputs of this row."""
    f, ks = book.f, book.ks
    result_ref = None
    result = kpi_result(kpi, values, ks.result_decimals)
    if kpi.id in cols.result:
        result_ref = xlsx.cell_ref(row, cols.result[kpi.id])
        book.formula(ws, row, cols.result[kpi.id], xf.result(kpi, ref, ks.result_decimals), result, f["result"])
    level_col = cols.level[kpi.id]
    step_formula = guard(xf.level(kpi, ref, result_ref, xf.crit_name))
    if book.linear:
        step_col = cols.step[kpi.id]
        step_ref = xlsx.cell_ref(row, step_col)
        step = None if level is None else step_level(kpi, values, result)
        book.formula(ws, row, step_col, step_formula, step, f["level"])
        linear = xf.linear_level(kpi, step_ref, result_ref, xf.crit_name) if result_ref else step_ref
        book.formula(ws, row, level_col, f'IF(ISNUMBER({step_ref}),{linear},"")', level, f["level"])
    else:
        book.formula(ws, row, level_col, step_formula, level, f["level"])
    level_ref = xlsx.cell_ref(row, level_col)
    points = None if level is None else exact(kpi.weight) * level
    book.formula(ws, row, cols.points[kpi.id], xf.points(level_ref, xf.weight_name(kpi)), points, f["points"])


def _scorecard_cells(book: Book, ws, row: int, cols: DetailColumns, sc: Scorecard, score: Fraction | None,
                     percent: Fraction | None, guard: Callable[[str], str] = lambda x: x) -> None:
    points = [xlsx.cell_ref(row, cols.points[k.id]) for k in sc.kpis]
    weights = [xlsx.cell_ref(row, cols.weight[k.id]) for k in sc.kpis]
    book.formula(ws, row, cols.score, guard(xf.scorecard_score(points, weights)), score, book.f["score"])
    score_ref = xlsx.cell_ref(row, cols.score)
    book.formula(ws, row, cols.percent, xf.scorecard_percent(score_ref), percent, book.f["percent"])


def _aggregate_row(book: Book, ws, sc: Scorecard, cols: DetailColumns, agg: Aggregate) -> None:
    """A province or national row: formulas over its districts' rows, caching the engine's scores."""
    f, ks, row = book.f, book.ks, agg.row
    book.aggregate_label(ws, row, agg.label)
    first, last = agg.rows.start, agg.rows.stop - 1

    def span(col: int) -> str:
        return f"{xlsx.absolute_ref(first, col)}:{xlsx.absolute_ref(last, col)}"

    def ref(field_id: str) -> str:
        return xlsx.cell_ref(row, cols.fields[field_id])

    # Without a scored district every weight cell the row's formula reads is blank: its weight is 0.
    any_scored = any(d.score and d.checked for d in agg.districts)
    for kpi in sc.kpis:
        score = agg.score.kpis[kpi.id]
        levels = span(cols.level[kpi.id])
        weight = xf.weight_name(kpi)
        # The weight a province row uses: the KPI's own when any district has a level, else the
        # weight as long as some district could apply it (0 when it is N/A everywhere).
        fallback = f'IF(COUNTIF({span(cols.weight[kpi.id])},">0")>0,{weight},0)'
        if pools_fields(kpi):
            # No district with a level to pool: each SUMIFS sums nothing.
            sums = agg.score.pooled_sums.get(kpi.id, dict.fromkeys(kpi.result.fields, 0))
            for fid, total in sums.items():
                fmt = f["aggregate_money"] if ks.field(fid).type == "money" else f["aggregate_count"]
                # SUMIFS, not SUMPRODUCT(ISNUMBER(…)*1, …): the same in every spreadsheet program.
                book.formula(ws, row, cols.fields[fid], f'SUMIFS({span(cols.fields[fid])},{levels},">=0")', total, fmt)
            _kpi_cells(book, ws, row, cols, kpi, ref, sums, score.level,
                       guard=lambda formula, levels=levels: f'IF(COUNT({levels})=0,"",{formula})')
            used = xf.applicable_weight(kpi, ref, weight)
        else:
            if kpi.id in cols.result:
                book.marker(ws, row, cols.result[kpi.id], MEAN_TH, f["aggregate"])
            book.formula(ws, row, cols.level[kpi.id], f'IF(COUNT({levels})=0,"",AVERAGE({levels}))',
                         score.level, f["level"])
            level_ref = xlsx.cell_ref(row, cols.level[kpi.id])
            book.formula(ws, row, cols.points[kpi.id], xf.points(level_ref, weight), score.points, f["points"])
            used = weight
        book.formula(ws, row, cols.weight[kpi.id], f"IF(COUNT({levels})>0,{used},{fallback})",
                     kpi.weight if score.applicable and any_scored else 0, f["weight"])
    card = agg.score.scorecards[sc.id]
    _scorecard_cells(book, ws, row, cols, sc, card.score, card.percent)
