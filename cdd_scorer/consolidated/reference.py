"""The reference sheets: the editable criteria (เกณฑ์), the KPIs by responsible group (กลุ่มงาน), the
checked data (ข้อมูล), the problems found (ปัญหา) and the files read (ที่มา)."""

from __future__ import annotations

import datetime as dt

from cdd_scorer import excel_formulas as xf
from cdd_scorer import xlsx
from cdd_scorer.consolidated import paper
from cdd_scorer.consolidated.cells import LABEL_HEADS, Book
from cdd_scorer.consolidated.detail import MEAN_TH
from cdd_scorer.consolidated.layout import (
    CRITERIA_SHEET,
    FIRST_ROW,
    METHOD_TH,
    DetailColumns,
    Layout,
    rating_label_defined_name,
    rating_min_defined_name,
)
from cdd_scorer.geography import area_of
from cdd_scorer.kpi import Condition, Kpi
from cdd_scorer.metadata import template_id
from cdd_scorer.problems import Problem
from cdd_scorer.reading import SourceFile
from cdd_scorer.thai import Severity, thai_wall_clock

COMPARISON_TH = {">=": "ไม่น้อยกว่า", ">": "มากกว่า", "<=": "ไม่เกิน", "<": "น้อยกว่า", "==": "เท่ากับ"}
COMPARED_TH = "เทียบจำนวน"  # a level that compares two counts has no threshold cell of its own
# Widths (digits) of the issues and sources sheets' columns; their long texts wrap.
ISSUE_WIDTHS = [11, 10, 7, 13, 22, 15, 18, 14, 40, 36, 30]
SOURCE_MAX_WIDTH = 40.0  # longer file names wrap; the SHA-256 is one line of 10-point type (styles "hash")
DATA_HEAD_LINES, DATA_MAX_WIDTH = 4, 40.0  # the data sheet's heads wrap into 4 lines; longer texts too


def write_criteria(book: Book, ws, method: str) -> None:
    """Weights, rating bands and every level's threshold in named yellow cells the formulas read."""
    f, ks, wb = book.f, book.ks, book.wb
    book.title(ws, "เกณฑ์การประเมิน", "Criteria (edit the yellow cells: everything recalculates)")
    ws.set_column(0, 0, max(8.0, paper.widest([sc.id for sc in ks.scorecards] + [k.id for k in ks.kpis], bold=True)))
    ws.set_column(1, 1, 60)
    ws.set_column(2, 2, 10)
    ws.set_column(3, 3, 40)
    ws.set_column(4, 4, max(16.0, paper.widest([paper.shown_value(ks.round_end)], bold=True)))
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
        name(rating_min_defined_name(i), row, 2)
        name(rating_label_defined_name(i), row, 3)
        row += 1
    row += 1
    ws.write_string(row, 0, f"วิธีคิดระดับ / level method: {METHOD_TH[method]};  "
                            f"ทศนิยม: ผลลัพธ์ {ks.result_decimals}, คะแนน {ks.score_decimals}, "
                            f"ร้อยละ {ks.percent_decimals} ตำแหน่ง (ปัดแบบ ROUND)", f["note"])
    row += 1
    ws.write_string(row, 0, "ค่าเกณฑ์ที่แก้ได้คือช่องสีเหลือง ส่วนเครื่องหมายเปรียบเทียบกำหนดในไฟล์ตัวชี้วัด / "
                            "Yellow cells are editable; the comparisons come from the KPI card file.",
                    f["note"])
    row += 2
    heads = ["ตัวชี้วัด\nKPI", "เกณฑ์การให้คะแนน (ตามบัตรตัวชี้วัด)\nLevel text", "ระดับ\nLevel",
             "เงื่อนไข\nCondition", "ค่าเกณฑ์\nThreshold", "Level text (English)"]
    book.header_row(ws, row, 0, heads)
    ws.freeze_panes(row + 1, 0)
    row += 1
    card_of = {sc.id: sc for sc in ks.scorecards}
    for kpi in ks.kpis:
        ws.write_string(row, 0, kpi.id, f["kpi_header"])
        ws.write_string(row, 1, f"{kpi.number_th} ({card_of[kpi.scorecard].name_th}) {kpi.title_th}",
                        f["kpi_header"])
        ws.write_string(row, 2, "น้ำหนัก", f["kpi_header"])
        ws.write_string(row, 3, f"{kpi.group_th} / {kpi.title_en}", f["kpi_header"])
        ws.write_number(row, 4, kpi.weight, f["input"])
        name(xf.weight_name(kpi), row, 4)
        ws.write_string(row, 5, "น้ำหนัก / weight", f["kpi_header"])
        book.fit_row(ws, row, [(1, 1, f"{kpi.number_th} ({card_of[kpi.scorecard].name_th}) {kpi.title_th}"),
                               (3, 3, f"{kpi.group_th} / {kpi.title_en}")])
        row += 1
        for lv in kpi.levels:
            ws.write_string(row, 0, kpi.id, f["cell"])
            ws.write_string(row, 1, lv.text_th, f["wrap"])
            ws.write_number(row, 2, lv.number, f["level"])
            ws.write_string(row, 3, _condition_words(kpi, lv.condition), f["wrap"])
            cond = lv.condition
            if cond.kind == "deadline":
                ws.write_datetime(row, 4, dt.datetime.combine(cond.deadline, dt.time()), f["input_date"])
                name(xf.crit_name(kpi, lv.number), row, 4)
            elif cond.is_numeric:
                ws.write_number(row, 4, cond.value, f["input"])
                name(xf.crit_name(kpi, lv.number), row, 4)
            elif cond.kind == "fields":
                ws.write_string(row, 4, COMPARED_TH, f["cell"])
            else:
                ws.write_string(row, 4, xf.YES_TH, f["cell"])
            ws.write_string(row, 5, lv.text_en, f["wrap"])
            book.fit_row(ws, row, [(1, 1, lv.text_th), (3, 3, _condition_words(kpi, cond)), (5, 5, lv.text_en)],
                         bold=False)
            row += 1
    book.page(ws, 0, "เกณฑ์การประเมิน")


def _condition_words(kpi: Kpi, cond: Condition) -> str:
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


def write_groups(book: Book, ws, layout: Layout, details: dict[str, DetailColumns]) -> None:
    """Each responsible group's KPIs: result and level of every row, read from the detail sheets."""
    f, ks = book.f, book.ks
    book.title(ws, "ผลรายกลุ่มงานที่รับผิดชอบ", "KPIs by responsible group")
    groups: dict[str, list[Kpi]] = {}
    for kpi in ks.kpis:
        groups.setdefault(kpi.group_th, []).append(kpi)
    book.label_columns(ws, layout)
    ws.set_column(4, 3 + 2 * max(len(k) for k in groups.values()), max(11.0, paper.widest([MEAN_TH, "100.00"])))
    row = 3
    blocks = []
    for group, kpis in groups.items():
        top = row
        ws.merge_range(row, 0, row, 3 + 2 * len(kpis), f"{group} / {kpis[0].group_en}", f["section"])
        row += 1
        heads = list(LABEL_HEADS)
        for kpi in kpis:
            heads += [f"{kpi.id} ผลลัพธ์\nResult %", f"{kpi.id} ระดับ\nLevel"]
        book.header_row(ws, row, 0, heads)
        row += 1
        first = row
        for d in layout.districts:
            book.district_label(ws, row, d)
            if d.score is not None:
                _group_cells(book, ws, row, kpis, details, layout.row_of[d.area.district_code])
            row += 1
        for agg in layout.aggregates:
            book.aggregate_label(ws, row, agg.label)
            _group_cells(book, ws, row, kpis, details, agg.row)
            row += 1
        book.status_colors(ws, first, 3, row - 1, 3)
        for i in range(len(kpis)):
            book.level_colors(ws, first, 5 + 2 * i, row - 1, 5 + 2 * i)
        blocks.append((top if blocks else 0, row - 1))  # the first with the title above it
        row += 1
    ws.freeze_panes(3, 3)
    book.page(ws, 0, "ผลรายกลุ่มงาน", keep_rows=blocks)


def _group_cells(book: Book, ws, row: int, kpis: list[Kpi], details: dict[str, DetailColumns], src: int) -> None:
    for i, kpi in enumerate(kpis):
        cols = details[kpi.scorecard]
        if kpi.id in cols.result:
            book.reference(ws, row, 4 + 2 * i, cols.sheet, src, cols.result[kpi.id], book.f["result"])
        else:
            ws.write_blank(row, 4 + 2 * i, None, book.f["cell"])
        book.reference(ws, row, 5 + 2 * i, cols.sheet, src, cols.level[kpi.id], book.f["level"])


def write_data(book: Book, ws, layout: Layout) -> None:
    """Every district's checked values as an Excel table."""
    f, ks = book.f, book.ks
    book.title(ws, "ข้อมูลที่อำเภอกรอก (หลังตรวจสอบ)", "Data entered by the districts (checked values)")
    fields = list(ks.fields)
    heads = ["รหัสจังหวัด", "จังหวัด", "รหัสอำเภอ", "อำเภอ", "สถานะ", "ไฟล์"]
    heads += [f"{fld.label_th} [{fld.id}]" for fld in fields]
    ws.add_table(3, 0, max(layout.last_district_row, FIRST_ROW), len(heads) - 1,
                 {"columns": [{"header": h, "header_format": f["header"]} for h in heads],
                  "style": "Table Style Light 9", "name": "district_data"})
    for i, d in enumerate(layout.districts):
        row = FIRST_ROW + i
        for col, text in enumerate([d.area.province_code, d.area.province_name_th, d.area.district_code,
                                    d.area.district_name_th, d.status.th,
                                    d.source.name if d.source else ""]):
            ws.write_string(row, col, text, f["cell"])
        values = d.checked.values if d.checked else {}
        for j, fld in enumerate(fields):
            book.value(ws, row, 6 + j, values.get(fld.id), fld, f["wrap"] if fld.type == "text" else None)
    texts = [[d.area.province_code, d.area.province_name_th, d.area.district_code, d.area.district_name_th,
              d.status.th, d.source.name if d.source else ""] for d in layout.districts]
    texts = [list(column) for column in zip(*texts)] if texts else [[]] * 6
    texts += [[paper.shown_value(d.checked.values.get(fld.id), fld.type) for d in layout.districts if d.checked]
              for fld in fields]
    for col, (head, shown) in enumerate(zip(heads, texts)):
        ws.set_column(col, col, max(paper.width_to_wrap(head, DATA_HEAD_LINES, 8.0, 24.0),
                                    min(paper.widest(shown), DATA_MAX_WIDTH)))
    book.fit_row(ws, 3, [(col, col, head) for col, head in enumerate(heads)])
    for i, d in enumerate(layout.districts):  # officer text wraps in its column
        book.fit_row(ws, FIRST_ROW + i, [(6 + j, 6 + j, str(d.checked.values.get(fld.id) or "")) for j, fld
                                         in enumerate(fields) if fld.type == "text" and d.checked], bold=False)
    ws.freeze_panes(FIRST_ROW, 4)
    owner = {fid: kpi.id for kpi in ks.kpis for fid in (f.id for f in kpi.fields)}
    runs: list[tuple[int, int]] = []  # a KPI's fields side by side, never split over two pages
    for col, fld in enumerate(fields, start=6):
        if runs and owner.get(fld.id) == owner.get(fields[runs[-1][0] - 6].id):
            runs[-1] = (runs[-1][0], col)
        else:
            runs.append((col, col))
    book.page(ws, FIRST_ROW, "ข้อมูล", repeat_columns=(0, 3), keep_columns=[(4, 5)] + runs)


def write_issues(book: Book, ws, problems: list[Problem]) -> None:
    """Every problem found, with where it is and what to do."""
    f = book.f
    book.title(ws, "ปัญหาที่พบ", "Issues found")
    heads = ["ความรุนแรง\nSeverity", "จังหวัด\nProvince", "รหัสอำเภอ\nCode", "อำเภอ\nDistrict",
             "ไฟล์\nFile", "ตำแหน่ง\nSheet!cell", "ช่อง\nField", "ค่าที่พบ\nValue", "ปัญหา\nProblem (Thai)",
             "Problem (English)", "สิ่งที่ต้องทำ\nAction"]
    ws.set_column(0, 0, max(ISSUE_WIDTHS[0], paper.widest([s.th for s in Severity])))
    for col, width in enumerate(ISSUE_WIDTHS[1:], start=1):
        ws.set_column(col, col, width)
    book.header_row(ws, 3, 0, heads)
    for i, p in enumerate(problems):
        area = area_of(p.district_code) if p.district_code else None
        texts = [p.severity.th, area.province_name_th if area else p.province_code,
                 p.district_code, area.district_name_th if area else "", p.file,
                 f"{p.sheet}!{p.cell}" if p.sheet and p.cell else p.sheet or p.cell, p.field, p.value,
                 p.message_th, p.message_en, p.action_th]
        for col, text in enumerate(texts):
            ws.write_string(FIRST_ROW + i, col, text, f["wrap"] if col >= 4 else f["cell"])
        book.fit_row(ws, FIRST_ROW + i, [(col, col, text) for col, text in enumerate(texts) if col >= 4], bold=False)
    last = FIRST_ROW + max(len(problems), 1) - 1
    for severity, color in (("error", "#F8CBAD"), ("warning", "#FFE699")):
        ws.conditional_format(FIRST_ROW, 0, last, 0, {
            "type": "cell", "criteria": "==", "value": xf.text(Severity(severity).th),
            "format": book.wb.add_format({"bg_color": color})})
    ws.freeze_panes(FIRST_ROW, 0)
    ws.autofilter(3, 0, last, len(heads) - 1)
    book.page(ws, FIRST_ROW, "ปัญหาที่พบ")


def write_sources(book: Book, ws, layout: Layout, sources: list[SourceFile]) -> None:
    """Every file read: its hash, size, template id, saved time, the district that used it, and for a
    file that does not count because another file of its district does, that file."""
    f = book.f
    book.title(ws, "ไฟล์ที่อ่าน", "Source files read")
    heads = ["ไฟล์\nFile", "SHA-256", "ขนาด (ไบต์)\nSize (bytes)", "รหัสแบบฟอร์ม\nTemplate id",
             "บันทึกล่าสุด (เวลาไทย)\nSaved", "อำเภอที่ใช้ข้อมูล\nUsed for district",
             "ถูกแทนด้วยไฟล์\nSuperseded by"]
    used = {d.source.name: d for d in layout.districts if d.source is not None}
    superseded = {name: by for d in layout.districts for name, by in d.superseded.items()}
    rows = [[s.name, None, None, template_id(book.ks, used[s.name].area) if s.name in used else "", None,
             f"{used[s.name].area.district_code} {used[s.name].area.district_name_th}" if s.name in used else "—",
             superseded.get(s.name, "")] for s in sources]
    shown = [[text or "" for text in column] for column in zip(*rows)] if rows else [[]] * len(heads)
    shown[1] = [s.sha256 for s in sources]
    shown[4] = [paper.shown_value(thai_wall_clock(s.saved_at)) for s in sources if s.saved_at]
    for col, (head, texts) in enumerate(zip(heads, shown)):
        width = paper.widest(texts, 10) if col == 1 else min(SOURCE_MAX_WIDTH, paper.widest(texts))
        ws.set_column(col, col, max(width, paper.head_width(head), 10.0))
    book.header_row(ws, 3, 0, heads)
    for i, (s, texts) in enumerate(zip(sources, rows)):
        row = FIRST_ROW + i
        for col, text in enumerate(texts):
            if text is not None:
                ws.write_string(row, col, text, f["wrap"])
        ws.write_string(row, 1, s.sha256, f["hash"])
        ws.write_number(row, 2, s.size, f["count"])
        book.value(ws, row, 4, thai_wall_clock(s.saved_at) if s.saved_at else None)
        book.fit_row(ws, row, [(col, col, text) for col, text in enumerate(texts) if text], bold=False)
    ws.freeze_panes(FIRST_ROW, 0)
    ws.autofilter(3, 0, FIRST_ROW + max(len(sources), 1) - 1, len(heads) - 1)
    book.page(ws, FIRST_ROW, "ไฟล์ที่อ่าน")
