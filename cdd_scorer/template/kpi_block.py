"""One KPI's block of the entry sheet: its title, its inputs beside the five level texts, its live result,
level and points, and its check row; and the preview, check and short check cells the summary reuses."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from xlsxwriter.format import Format

from cdd_scorer import excel_formulas as xf
from cdd_scorer import xlsx
from cdd_scorer.kpi import Kpi, KpiSet
from cdd_scorer.template import entry_formulas as ef
from cdd_scorer.template.grid import COLUMN_WIDTHS, HELPER_COL, HINT_COL, LABEL_COL, LEVEL_COL, VALUE_COL
from cdd_scorer.template.inputs import InputCell, write_input
from cdd_scorer.template.layout import Sheet, lines_height, longest_text
from cdd_scorer.template.style import CHECK_SIZE, LEVEL_SIZE
from cdd_scorer.thai import thai_digits

COMPLETE = "✓ กรอกครบแล้ว / complete"
MISSING_HEADING = "ยังไม่ได้กรอก / still missing:"
CORRECT_HEADING = "ต้องแก้ไข / to correct:"


@dataclass(frozen=True)
class KpiBlock:
    """What the summary, the status banner and the page breaks read from one KPI's block."""

    inputs: tuple[InputCell, ...]  # its fields, then its note
    required: tuple[InputCell, ...]  # the inputs `score` calls an error when empty
    level: str
    points: str
    weight: str  # the hidden cell holding the KPI's weight while it applies
    first_row: int  # its title
    last_row: int  # its check row


def write_kpi_block(sheet: Sheet, row: int, kpi: Kpi, kpi_set: KpiSet) -> KpiBlock:
    """One KPI from ``row`` on: its title; its inputs, then its result and its level and points, beside
    the five level texts; then its check row.

    Nothing is shown for a KPI while one of its inputs holds what the batch would reject."""
    ws, f = sheet.ws, sheet.formats
    first_row = row
    weight = thai_digits(xf.number(kpi.weight))
    thai = f"{kpi.number_th} {kpi.title_th}"
    english = f"{kpi.id}: {kpi.title_en} · น้ำหนัก / weight {weight} · {kpi.group_th} ({kpi.group_en})"
    sheet.merged(row, LABEL_COL, LEVEL_COL, thai, english, f["kpi"], bold=True)
    row += 1
    top = row
    inputs: dict[str, InputCell] = {}
    for fld in [*kpi.fields, kpi_set.field(kpi.note_field)]:
        inputs[fld.id] = write_input(sheet, row, fld)
        row += 1
    blocked = ef.has_problem([entry.problem for entry in inputs.values()])

    def reading(field_id: str) -> str:
        return inputs[field_id].reading

    not_applicable = xf.not_applicable(kpi, reading)
    not_applicable_note = (f'=IF(AND(NOT({blocked}),{not_applicable}),"ไม่ประเมิน (N/A) ไม่นำมาคิดคะแนน","")'
                           if not_applicable != "FALSE" else "")
    result_ref = None
    if kpi.result is not None:
        formula = f'IF({blocked},"",{xf.result(kpi, reading, kpi_set.result_decimals)})'
        result_ref = preview_row(sheet, row, "ผลลัพธ์ (ร้อยละ)", "Result (%)", formula, f["result"])
        sheet.define(f"preview_{kpi.id}_result", row, VALUE_COL)
    elif not_applicable_note:  # no result row to carry the note: it gets a row of its own
        sheet.bilingual(row, LABEL_COL, "การประเมิน", "Assessed", f["label"])
        ws.write_blank(row, VALUE_COL, None, f["whole"])
    if not_applicable_note or kpi.result is not None:
        _hint_cell(sheet, row, not_applicable_note)
        row += 1
    level_formula = xf.level(kpi, reading, result_ref, xf.literal_crit, blocked)
    level_ref = preview_row(sheet, row, "ระดับที่ได้ · คะแนน", "Level · points", level_formula, f["whole"])
    sheet.define(f"preview_{kpi.id}_level", row, VALUE_COL)
    ws.write_formula(row, HINT_COL, "=" + xf.points(level_ref, xf.number(kpi.weight)), f["points"], "")
    points_ref = xlsx.absolute_ref(row, HINT_COL)
    ws.write_formula(row, HELPER_COL, "=" + xf.applicable_weight(kpi, reading, xf.number(kpi.weight)),
                     f["helper"], kpi.weight)
    weight_ref = xlsx.absolute_ref(row, HELPER_COL)
    row += 1
    for lv in kpi.levels:
        level_row = top + lv.number - 1
        text = f"ระดับ {thai_digits(lv.number)}  {lv.text_th}"
        sheet.bilingual(level_row, LEVEL_COL, text, lv.text_en, f["level"], size=LEVEL_SIZE)
        ws.conditional_format(level_row, LEVEL_COL, level_row, LEVEL_COL, {
            "type": "formula", "criteria": f"={level_ref}={lv.number}", "format": f["level_reached"]})
    for blank_row in range(top + len(kpi.levels), row):
        ws.write_blank(blank_row, LEVEL_COL, None, f["level"])
    for blank_row in range(row, top + len(kpi.levels)):  # level texts below the last preview row
        for col in (LABEL_COL, VALUE_COL, HINT_COL):
            ws.write_blank(blank_row, col, None, f["label"])
    row = max(row, top + len(kpi.levels))
    required = tuple(inputs[fld.id] for fld in kpi.fields if fld.id in xf.required_fields(kpi))
    check_row(sheet, row, required, tuple(inputs.values()), kpi_set)
    return KpiBlock(tuple(inputs.values()), required, level_ref, points_ref, weight_ref, first_row, row)


def _hint_cell(sheet: Sheet, row: int, formula: str) -> None:
    """The hint column of a preview row: a formula (the N/A note) or a blank boxed cell."""
    if formula:
        sheet.ws.write_formula(row, HINT_COL, formula, sheet.formats["hint"], "")
    else:
        sheet.ws.write_blank(row, HINT_COL, None, sheet.formats["hint"])


def preview_row(sheet: Sheet, row: int, thai: str, english: str, formula: str, cell_format: Format) -> str:
    """A labelled green preview cell computing ``formula``; returns its reference."""
    sheet.bilingual(row, LABEL_COL, thai, english, sheet.formats["label"])
    sheet.ws.write_formula(row, VALUE_COL, "=" + formula, cell_format, "")
    return xlsx.absolute_ref(row, VALUE_COL)


def check_row(sheet: Sheet, row: int, required: Sequence[InputCell], watched: Sequence[InputCell],
              kpi_set: KpiSet) -> None:
    """A row across the sheet that says in Thai which required inputs are still empty and which inputs
    of ``watched`` hold what the batch would reject (naming the cell and what is wrong), as tall as the
    longest it can say (every watched input wrong), so that it wraps and never clips."""
    ws, f = sheet.ws, sheet.formats
    missing = [(entry.reading, "  • " + entry.field.label_th) for entry in required]
    pieces = "&".join(f'IF({ref}="",{xf.text(piece)},"")' for ref, piece in missing) or '""'
    empty, problems = empty_count(required), _problems(watched)
    formula = (f'=IF(AND({empty}=0,{problems}=""),{xf.text(COMPLETE)},'
               f'IF({empty}>0,{xf.text(MISSING_HEADING)}&{pieces},"")'
               f'&IF({problems}<>"",IF({empty}>0,CHAR(10),"")&{xf.text(CORRECT_HEADING)}&{problems},""))')
    ws.merge_range(row, LABEL_COL, row, LEVEL_COL, "", f["check"])
    ws.write_formula(row, LABEL_COL, formula, f["check"], "")
    width = sum(COLUMN_WIDTHS[c] for c in range(LABEL_COL, LEVEL_COL + 1))
    all_missing = MISSING_HEADING + "".join(piece for _, piece in missing) if missing else ""
    all_wrong = CORRECT_HEADING + "".join(ef.longest_problem(e.field, e.address, kpi_set) for e in watched)
    sheet.grow(row, lines_height("\n".join(filter(None, (all_missing, all_wrong))), width, CHECK_SIZE))


def write_short_check(sheet: Sheet, row: int, col: int, required: Sequence[InputCell],
                      watched: Sequence[InputCell]) -> None:
    """The check row in a few words, for the summary: complete, how many inputs are still empty, and which
    cells of ``watched`` to correct; its row as tall as the longest it can say."""
    empty, problems = empty_count(required), _problems(watched)
    cells = "&".join(f'IF({entry.problem}<>"",{xf.text(" " + entry.address)},"")' for entry in watched) or '""'
    incomplete = (f'IF({empty}>0,"ยังไม่ได้กรอก "&({empty})&" ช่อง","")'
                  f'&IF({problems}<>"",IF({empty}>0," · ","")&"ต้องแก้ไข:"&{cells},"")')
    sheet.ws.write_formula(row, col, f'=IF(AND({empty}=0,{problems}=""),{xf.text(COMPLETE)},{incomplete})',
                           sheet.formats["check"], "")
    longest = longest_text(incomplete, 2)  # the count of empty inputs; "complete" says less
    sheet.grow(row, lines_height(longest, sheet.column_widths[col], CHECK_SIZE))


def _problems(watched: Sequence[InputCell]) -> str:
    """The problem lines of the inputs, one after another (``""`` when there is none)."""
    return "&".join(entry.problem for entry in watched) or '""'


def empty_count(required: Sequence[InputCell]) -> str:
    """How many of the required inputs are still empty (as the batch reads them)."""
    return "+".join(f'({entry.reading}="")' for entry in required) or "0"
