"""The entry sheet's live verdict: the summary at its end (each KPI's level, points and check, the
scorecard scores, overall % and rating) and the status banner in its frozen header."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from cdd_scorer import excel_formulas as xf
from cdd_scorer import xlsx
from cdd_scorer.kpi import KpiSet
from cdd_scorer.template import entry_formulas as ef
from cdd_scorer.template.grid import (
    COLUMN_WIDTHS,
    HINT_COL,
    LABEL_COL,
    LEVEL_COL,
    PROBLEM_COL,
    READY_REF,
    STATUS_ROW,
    VALUE_COL,
)
from cdd_scorer.template.inputs import InputCell
from cdd_scorer.template.kpi_block import KpiBlock, check_row, empty_count, preview_row, write_short_check
from cdd_scorer.template.layout import Sheet, lines_height, longest_text
from cdd_scorer.template.style import BANNER_SIZE, CARD_SIZE

BANNER_SPLICED = 40  # characters the banner puts between its words: four counts, the overall % and a rating


def write_summary(sheet: Sheet, row: int, kpi_set: KpiSet, blocks: Mapping[str, KpiBlock],
                  reporter: Sequence[InputCell], reporter_required: Sequence[InputCell]) -> tuple[str, str, int]:
    """Before sending: each KPI's level, points and check in a line, the scorecard scores and %, the
    overall % and rating, and the reporter's check; returns the overall % and rating cells and its last row."""
    ws, f = sheet.ws, sheet.formats
    sheet.merged(row, LABEL_COL, LEVEL_COL, "ผลคะแนนเบื้องต้น และรายการที่ยังไม่ได้กรอก",
                 "Score preview and what is still missing — จังหวัดจะคิดคะแนนจริงจากข้อมูลที่ส่ง / "
                 "the province scores the data you send", f["card"], size=CARD_SIZE)
    row += 1
    for col, thai, english in [(LABEL_COL, "ตัวชี้วัด", "KPI"), (VALUE_COL, "ระดับที่ได้", "Level"),
                               (HINT_COL, "คะแนน", "Points"), (LEVEL_COL, "ความครบถ้วน", "Check")]:
        sheet.bilingual(row, col, thai, english, f["heading"], bold=True)
    row += 1
    percents = []
    for sc in kpi_set.scorecards:
        for kpi in sc.kpis:
            block = blocks[kpi.id]
            sheet.bilingual(row, LABEL_COL, f"{kpi.number_th} ({sc.name_th})", kpi.id, f["label"])
            ws.write_formula(row, VALUE_COL, f"={block.level}", f["whole"], "")
            ws.write_formula(row, HINT_COL, f"={block.points}", f["points"], "")
            write_short_check(sheet, row, LEVEL_COL, block.required, block.inputs)
            row += 1
        points = [blocks[k.id].points for k in sc.kpis]
        weights = [blocks[k.id].weight for k in sc.kpis]
        # The batch gives no scorecard score to a form with any error, so neither does the preview.
        score_ref = preview_row(sheet, row, f"คะแนน (๐–๕) · ร้อยละ {sc.name_th}", f"{sc.name_en} score (0–5) · %",
                                f'IF({READY_REF},{xf.scorecard_score(points, weights)},"")', f["score"])
        sheet.define(f"preview_{sc.id}_score", row, VALUE_COL)
        ws.write_formula(row, HINT_COL, "=" + xf.scorecard_percent(score_ref), f["result"], "")
        sheet.define(f"preview_{sc.id}_percent", row, HINT_COL)
        percents.append(xlsx.absolute_ref(row, HINT_COL))
        ws.write_blank(row, LEVEL_COL, None, f["label"])
        row += 1
    weights = [xf.number(kpi_set.scorecard_weights[sc.id]) for sc in kpi_set.scorecards]
    overall_ref = preview_row(sheet, row, "ร้อยละภาพรวม · ผลการประเมิน", "Overall % · rating",
                              xf.overall_percent(percents, weights, kpi_set.percent_decimals), f["result"])
    sheet.define("preview_overall_percent", row, VALUE_COL)
    ws.write_formula(row, HINT_COL, "=" + xf.rating(overall_ref, kpi_set.rating_bands), f["preview_text"], "")
    sheet.define("preview_rating", row, HINT_COL)
    rating_ref = xlsx.absolute_ref(row, HINT_COL)
    ws.write_blank(row, LEVEL_COL, None, f["label"])
    row += 1
    check_row(sheet, row, reporter_required, reporter, kpi_set)
    return overall_ref, rating_ref, row


def write_status_banner(sheet: Sheet, inputs: Sequence[InputCell], required: Sequence[InputCell],
                        required_by_batch: Sequence[InputCell], overall_ref: str, rating_ref: str) -> None:
    """The frozen header's live banner: what is still empty, which cells must be corrected, and, only
    when nothing the batch would call an error is left, "ready to send" with the overall preview.
    Its hidden neighbour is ``preview_ready``.

    ``required``: the inputs the check rows watch for being empty; ``required_by_batch``: of those, the
    ones `score` calls an error when empty."""
    ws, f = sheet.ws, sheet.formats
    empty, errors_empty = empty_count(required), empty_count(required_by_batch)
    problems = [entry.problem for entry in inputs]
    ws.write_formula(STATUS_ROW, PROBLEM_COL, f"=AND({errors_empty}=0,NOT({ef.has_problem(problems)}))",
                     f["helper"], False)
    sheet.define("preview_ready", STATUS_ROW, PROBLEM_COL)
    wrong = "+".join(f'({p}<>"")' for p in problems)
    cells = "&".join(f'IF({entry.problem}<>"",{xf.text(" " + entry.address)},"")' for entry in inputs)
    not_ready = (f'IF({empty}>0,"ยังไม่ได้กรอก "&({empty})&" ช่อง","")'
                 f'&IF({wrong}>0,IF({empty}>0," · ","")&"ต้องแก้ไข "&({wrong})&" ช่อง:"&{cells},"")'
                 f'&" (ดูรายการท้ายแผ่นงาน) / not ready: "&({empty})&" missing, "&({wrong})&" to correct"')
    overall = (f'IF(ISNUMBER({overall_ref}),"   ·   ร้อยละภาพรวม (เบื้องต้น) "&TEXT({overall_ref},"0.00")'
               f'&" "&{rating_ref},"")')
    formula = (f'=IF(AND({READY_REF},{empty}=0),"✓ กรอกครบทุกช่องแล้ว บันทึกไฟล์แล้วส่งกลับได้ / ready to send",'
               f'{not_ready})&{overall}')
    ws.merge_range(STATUS_ROW, LABEL_COL, STATUS_ROW, LEVEL_COL, "", f["status"])
    ws.write_formula(STATUS_ROW, LABEL_COL, formula, f["status"], "")
    width = sum(COLUMN_WIDTHS[c] for c in range(LABEL_COL, LEVEL_COL + 1))
    longest = longest_text(not_ready + overall, BANNER_SPLICED)  # the ready words are shorter than these
    sheet.grow(STATUS_ROW, lines_height(longest, width, BANNER_SIZE))
