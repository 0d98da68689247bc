"""The summary sheet (สรุป: scores, rating and rank of every district, province and national row, then
the districts counted by status) and the national sheet (ระดับประเทศ: a row per province)."""

from __future__ import annotations

import datetime as dt

from cdd_scorer import excel_formulas as xf
from cdd_scorer import xlsx
from cdd_scorer.consolidated import paper
from cdd_scorer.consolidated.cells import LABEL_HEADS, NOT_ASSESSED_LEGEND, Book
from cdd_scorer.consolidated.layout import (
    FIRST_ROW,
    METHOD_TH,
    SUMMARY_SHEET,
    UNSCORABLE_TH,
    DetailColumns,
    Layout,
    Summary,
    SummaryColumns,
    rating_label_defined_name,
    rating_min_defined_name,
)
from cdd_scorer.scoring import DistrictScore, competition_ranks
from cdd_scorer.thai import Status

COUNT_HEADS = ["จังหวัด\nProvince", "ทั้งหมด\nExpected", "ส่งแล้ว\nReceived", "ครบถ้วน\nComplete",
               "ต้องแก้ไข\nNeeds correction", "ยังไม่ส่ง\nMissing"]


def write_summary(book: Book, ws, layout: Layout, details: dict[str, DetailColumns], method: str,
                  when: dt.datetime, generated: bool) -> Summary:
    """The summary sheet, reading the detail sheets' scorecard and level cells; returns where its
    scores and counts are."""
    f, ks = book.f, book.ks
    book.title(ws, "สรุปผลการประเมินรายอำเภอ", "Summary by district")
    ws.write_string(2, 0, f"{ks.position_th} — วิธีคิดระดับ {METHOD_TH[method]}", f["note"])
    heads = list(LABEL_HEADS)
    scores = []
    for sc in ks.scorecards:
        scores.append(len(heads))
        heads += [f"คะแนน{sc.name_th}\n(0–5)", f"ร้อยละ{sc.name_th}\n{sc.name_en} %"]
    overall_col = len(heads)
    heads += ["ร้อยละภาพรวม\nOverall %", "ผลการประเมิน\nRating", "ลำดับ\nRank"]
    level_col = len(heads)
    heads += [f"ระดับ {k.id}\nLevel" for k in ks.kpis]
    columns = SummaryColumns(tuple(scores), overall_col, level_col)
    _summary_widths(book, ws, layout, columns, heads)
    book.header_row(ws, 3, 0, heads)
    _data_time(book, ws, level_col + len(ks.kpis) - 1, when, generated)
    for agg in layout.aggregates:
        if agg.national:
            continue
        overall_range = (f"{xlsx.absolute_ref(agg.rows.start, overall_col)}:"
                         f"{xlsx.absolute_ref(agg.rows[-1], overall_col)}")
        for d in agg.districts:
            row = layout.row_of[d.area.district_code]
            book.district_label(ws, row, d)
            if d.score is None:
                continue
            _score_cells(book, ws, row, d.score, details, columns)
            overall_ref = xlsx.cell_ref(row, overall_col)
            book.formula(ws, row, columns.rank, xf.rank(overall_ref, overall_range), d.rank, f["rank"])
    for agg in layout.aggregates:
        book.aggregate_label(ws, agg.row, agg.label)
        _score_cells(book, ws, agg.row, agg.score, details, columns)
    ws.write_string(layout.notes_row, 0,
                    "แถวจังหวัด: ตัวชี้วัดเชิงสัดส่วนคำนวณจากผลรวมของอำเภอที่ข้อมูลถูกต้อง ตัวชี้วัดอื่นใช้ค่าเฉลี่ยระดับ "
                    "(ดูแผ่นงานทีม/รายบุคคล) / Province rows: ratio KPIs pooled, others the mean of levels",
                    f["note"])
    last = layout.last_row
    counts = _counts(book, ws, layout, last + 2)
    ws.write_string(layout.last_district_row + 1, 0, NOT_ASSESSED_LEGEND, f["note"])
    book.status_colors(ws, FIRST_ROW, 3, layout.last_district_row, 3)
    book.rating_colors(ws, FIRST_ROW, columns.rating, last, columns.rating)
    book.level_colors(ws, FIRST_ROW, level_col, last, level_col + len(ks.kpis) - 1)
    ws.conditional_format(FIRST_ROW, overall_col, last, overall_col,
                          {"type": "data_bar", "bar_color": "#9BC2E6", "min_type": "num", "min_value": 0,
                           "max_type": "num", "max_value": 100, "bar_solid": True})
    ws.freeze_panes(FIRST_ROW, 3)
    ws.autofilter(3, 0, layout.last_district_row, level_col + len(ks.kpis) - 1)
    book.page(ws, FIRST_ROW, "สรุปผลการประเมิน",
              keep_rows=[(layout.notes_row, last), (last + 2, last + 3 + len(layout.aggregates))])
    return Summary(columns, counts)


def _summary_widths(book: Book, ws, layout: Layout, columns: SummaryColumns, heads: list[str]) -> None:
    """Columns as wide as their widest value, and their heads wrapped only between words."""
    ks = book.ks
    book.label_columns(ws, layout)
    level_texts = [UNSCORABLE_TH, "N/A", "0.0000" if book.linear else "0"]
    values = {col: ["0.0000"] for col in columns.scores} | {col + 1: ["100.00"] for col in columns.scores}
    values |= {columns.overall: ["100.00"], columns.rating: [b.name_th for b in ks.rating_bands],
               columns.rank: [str(max(len(layout.districts), 1))]}
    values |= {columns.level + i: level_texts for i in range(len(ks.kpis))}
    for col, texts in values.items():
        ws.set_column(col, col, max(paper.head_width(heads[col]), paper.widest(texts, bold=True), 7.0))


def _data_time(book: Book, ws, last_col: int, when: dt.datetime, generated: bool) -> None:
    """When the data is from, at the right end of the method note's row: the date merged over as many of the
    last columns as it needs, its label right-aligned over as many before it."""
    label = "สร้างเมื่อ / generated" if generated else "ข้อมูล ณ (ไฟล์ล่าสุด) / data as of"
    date_first = last_col
    while paper.span_points(ws, date_first, last_col) < paper.text_points(paper.shown_value(when)) + paper.CELL_MARGINS:
        date_first -= 1
    first, needed = date_first - 1, paper.text_points(label, 13) + paper.CELL_MARGINS
    while first > 1 and paper.span_points(ws, first, date_first - 1) < needed:
        first -= 1
    ws.merge_range(2, first, 2, date_first - 1, label, book.f["note_right"])
    ws.merge_range(2, date_first, 2, last_col, "", book.f["datetime"])
    ws.write_datetime(2, date_first, when, book.f["datetime"])


def _score_cells(book: Book, ws, row: int, score: DistrictScore, details: dict[str, DetailColumns],
                 columns: SummaryColumns) -> None:
    """Scorecards (read from the detail sheets), overall %, rating and KPI levels of a row."""
    f, ks = book.f, book.ks
    percent_refs = []
    for sc, col in zip(ks.scorecards, columns.scores):
        cols = details[sc.id]
        book.reference(ws, row, col, cols.sheet, row, cols.score, f["score"])
        book.reference(ws, row, col + 1, cols.sheet, row, cols.percent, f["percent"])
        percent_refs.append(xlsx.cell_ref(row, col + 1))
    weights = [xf.scorecard_weight_name(sc.id) for sc in ks.scorecards]
    book.formula(ws, row, columns.overall, xf.overall_percent(percent_refs, weights, ks.percent_decimals),
                 score.overall_percent, f["percent"])
    bands = range(1, len(ks.rating_bands) + 1)
    book.formula(ws, row, columns.rating, xf.rating(xlsx.cell_ref(row, columns.overall), ks.rating_bands,
                                                    [rating_min_defined_name(i) for i in bands],
                                                    [rating_label_defined_name(i) for i in bands]),
                 score.rating.name_th if score.rating else None, f["cell"])
    for i, kpi in enumerate(ks.kpis):
        cols = details[kpi.scorecard]
        book.reference(ws, row, columns.level + i, cols.sheet, row, cols.level[kpi.id], f["level"])


def _counts(book: Book, ws, layout: Layout, row: int) -> dict[str, tuple[int, int]]:
    """Expected / received / complete / needs correction / missing per province and for the nation
    (COUNTIFS, caching the engine's counts); returns each row's first count cell by aggregate label."""
    f = book.f
    ws.write_string(row, 0, "จำนวนอำเภอ / Districts", f["section"])
    ws.merge_range(row + 1, 0, row + 1, 2, COUNT_HEADS[0], f["header"])
    book.header_row(ws, row + 1, 3, COUNT_HEADS[1:])
    names = f"$A${FIRST_ROW + 1}:$A${layout.last_district_row + 1}"
    statuses = f"$D${FIRST_ROW + 1}:$D${layout.last_district_row + 1}"
    out = {}
    row += 2
    for agg in layout.aggregates:
        label, key = ("ทั้งประเทศ", "*") if agg.national else (agg.label, agg.provinces[0].name_th)
        ws.merge_range(row, 0, row, 2, label, f["aggregate"])
        where = f"{names},{xf.text(key)}"
        expected = len(agg.districts)
        counts = [
            (f"COUNTIFS({where})", expected),
            (f"COUNTIFS({where},{statuses},\"<>\"&{xf.text(Status.MISSING.th)})",
             expected - agg.count("missing")),
        ] + [(f"COUNTIFS({where},{statuses},{xf.text(Status(s).th)})", agg.count(s))
             for s in ("complete", "needs_correction", "missing")]
        for i, (formula, value) in enumerate(counts):
            book.formula(ws, row, 3 + i, formula, value, f["count"])
        out[agg.label] = (row, 3)
        row += 1
    return out


def write_national(book: Book, ws, layout: Layout, summary: Summary) -> None:
    """A row per province and the national row, read from the summary sheet."""
    f, ks = book.f, book.ks
    book.title(ws, "สรุประดับประเทศ: รายจังหวัด", "National roll-up by province")
    heads = list(COUNT_HEADS)
    heads += [f"ร้อยละ{sc.name_th}\n{sc.name_en} %" for sc in ks.scorecards]
    heads += ["ร้อยละภาพรวม\nOverall %", "ผลการประเมิน\nRating", "ลำดับ\nRank"]
    first_level = len(heads)
    heads += [f"ระดับ {k.id}\nLevel" for k in ks.kpis]
    provinces = [a for a in layout.aggregates if not a.national]
    ws.set_column(0, 0, max(paper.head_width(heads[0]), paper.widest([a.label for a in layout.aggregates], bold=True)))
    level_texts = [UNSCORABLE_TH, "N/A", "0.0000" if book.linear else "0"]
    values = [["0,000"]] * 5 + [["100.00"]] * (len(ks.scorecards) + 1) + [[b.name_th for b in ks.rating_bands], ["00"]]
    for col, texts in enumerate(values + [level_texts] * len(ks.kpis), start=1):
        ws.set_column(col, col, max(paper.head_width(heads[col]), paper.widest(texts, bold=True), 7.0))
    book.header_row(ws, 3, 0, heads)
    overall_col = 6 + len(ks.scorecards)
    last_province = FIRST_ROW + len(provinces) - 1
    ranks = competition_ranks([a.score.overall_percent for a in provinces])
    for i, agg in enumerate(layout.aggregates):
        row = FIRST_ROW + i + (1 if agg.national else 0)
        ws.write_string(row, 0, agg.label, f["aggregate"] if agg.national else f["cell"])
        count_row, count_col = summary.counts[agg.label]
        for j in range(5):
            book.reference(ws, row, 1 + j, SUMMARY_SHEET, count_row, count_col + j, f["count"])
        for j, score_col in enumerate(summary.columns.scores):
            book.reference(ws, row, 6 + j, SUMMARY_SHEET, agg.row, score_col + 1, f["percent"])
        book.reference(ws, row, overall_col, SUMMARY_SHEET, agg.row, summary.columns.overall, f["percent"])
        book.reference(ws, row, overall_col + 1, SUMMARY_SHEET, agg.row, summary.columns.rating, f["cell"])
        if not agg.national:
            overall_range = (f"{xlsx.absolute_ref(FIRST_ROW, overall_col)}:"
                             f"{xlsx.absolute_ref(last_province, overall_col)}")
            book.formula(ws, row, overall_col + 2, xf.rank(xlsx.cell_ref(row, overall_col), overall_range),
                         ranks[i], f["rank"])
        for j in range(len(ks.kpis)):
            book.reference(ws, row, first_level + j, SUMMARY_SHEET, agg.row, summary.columns.level + j,
                           f["level"])
    last = FIRST_ROW + len(layout.aggregates)
    book.rating_colors(ws, FIRST_ROW, overall_col + 1, last, overall_col + 1)
    book.level_colors(ws, FIRST_ROW, first_level, last, first_level + len(ks.kpis) - 1)
    ws.freeze_panes(FIRST_ROW, 1)
    ws.autofilter(3, 0, last_province, first_level + len(ks.kpis) - 1)
    book.page(ws, FIRST_ROW, "สรุประดับประเทศ")
