"""One KPI's block of the entry sheet: its title, its inputs beside the five level texts, then its live
result, level, points and check row; and the preview and check rows the summary reuses."""

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
from cdd_scorer.template.layout import Sheet, lines_height
from cdd_scorer.template.style import FONT_SIZE
from cdd_scorer.thai import thai_digits


@dataclass(frozen=True)
class KpiBlock:
    """What the summary and the status banner read from one KPI's block."""

    inputs: tuple[InputCell, ...]  # its fields, then its note
    required: tuple[InputCell, ...]  # the inputs `score` calls an error when empty
    level: str
    points: str
    weight: str  # the hidden cell holding the KPI's weight while it applies
    check: str
    last_row: int  # its check row


def write_kpi_block(sheet: Sheet, row: int, kpi: Kpi, kpi_set: KpiSet) -> KpiBlock:
    """One KPI from ``row`` on: title, inputs beside the five level texts, then result, level, points, check.

    Nothing is shown for a KPI while one of its inputs holds what the batch would reject."""
    ws, f = sheet.ws, sheet.formats
    weight = thai_digits(xf.number(kpi.weight))
    thai = f"{kpi.number_th} {kpi.title_th}"
    english = f"{kpi.id}: {kpi.title_en} · น้ำหนัก / weight {weight} · {kpi.group_th} ({kpi.group_en})"
    sheet.merged(row, LABEL_COL, LEVEL_COL, thai, english, f["kpi"], bold=True)
    row += 1
    first = row
    inputs: dict[str, InputCell] = {}
    for fld in [*kpi.fields, kpi_set.field(kpi.note_field)]:
        inputs[fld.id] = write_input(sheet, row, fld)
        row += 1
    blocked = ef.has_problem([entry.problem for entry in inputs.values()])

    def reading(field_id: str) -> str:
        return inputs[field_id].reading

    result_ref = None
    if kpi.result is not None:
        formula = f'IF({blocked},"",{xf.result(kpi, reading, kpi_set.result_decimals)})'
        result_ref = preview_row(sheet, row, "ผลลัพธ์ (ร้อยละ)", "Result (%)", formula, f["result"])
        sheet.define(f"preview_{kpi.id}_result", row, VALUE_COL)
        row += 1
    level_formula = xf.level(kpi, reading, result_ref, xf.literal_crit, blocked)
    level_ref = preview_row(sheet, row, "ระดับที่ได้", "Level reached (0–5)", level_formula, f["whole"])
    sheet.define(f"preview_{kpi.id}_level", row, VALUE_COL)
    not_applicable = xf.not_applicable(kpi, reading)
    if not_applicable != "FALSE":
        ws.write_formula(row, HINT_COL, f'=IF(AND(NOT({blocked}),{not_applicable}),'
                                        f'"ไม่ประเมิน (N/A) ไม่นำมาคิดคะแนน","")', f["hint"], "")
    else:
        ws.write_blank(row, HINT_COL, None, f["hint"])
    row += 1
    points_ref = preview_row(sheet, row, "คะแนน (น้ำหนัก × ระดับ)", "Points (weight × level)",
                             xf.points(level_ref, xf.number(kpi.weight)), f["points"])
    ws.write_formula(row, HELPER_COL, "=" + xf.applicable_weight(kpi, reading, xf.number(kpi.weight)),
                     f["helper"], kpi.weight)
    weight_ref = xlsx.absolute_ref(row, HELPER_COL)
    row += 1
    for lv in kpi.levels:
        level_row = first + lv.number - 1
        text = f"ระดับ {thai_digits(lv.number)}  {lv.text_th}"
        sheet.bilingual(level_row, LEVEL_COL, text, lv.text_en, f["level"])
        ws.conditional_format(level_row, LEVEL_COL, level_row, LEVEL_COL, {
            "type": "formula", "criteria": f"={level_ref}={lv.number}", "format": f["level_reached"]})
    for blank_row in range(first + len(kpi.levels), row):
        ws.write_blank(blank_row, LEVEL_COL, None, f["level"])
    row = max(row, first + len(kpi.levels))
    required = tuple(inputs[fld.id] for fld in kpi.fields if fld.id in xf.required_fields(kpi))
    check_ref = check_row(sheet, row, required, tuple(inputs.values()))
    return KpiBlock(tuple(inputs.values()), required, level_ref, points_ref, weight_ref, check_ref, row)


def preview_row(sheet: Sheet, row: int, thai: str, english: str, formula: str, cell_format: Format) -> str:
    """A labelled green preview cell computing ``formula``; returns its reference."""
    sheet.bilingual(row, LABEL_COL, thai, english, sheet.formats["label"])
    sheet.ws.write_formula(row, VALUE_COL, "=" + formula, cell_format, "")
    return xlsx.absolute_ref(row, VALUE_COL)


def check_row(sheet: Sheet, row: int, required: Sequence[InputCell], watched: Sequence[InputCell]) -> str:
    """A cell that says in Thai which required inputs are still empty and which inputs of
    ``watched`` hold what the batch would reject (naming the cell)."""
    ws, f = sheet.ws, sheet.formats
    missing = [(entry.reading, entry.field.label_th) for entry in required]
    pieces = "&".join(f'IF({ref}="",{xf.text("  • " + label)},"")' for ref, label in missing) or '""'
    empty = "+".join(f'({ref}="")' for ref, _ in missing) or "0"
    problems = "&".join(entry.problem for entry in watched) or '""'
    formula = (f'=IF(AND({empty}=0,{problems}=""),"✓ กรอกครบแล้ว / complete",'
               f'IF({empty}>0,"ยังไม่ได้กรอก / still missing:"&{pieces},"")'
               f'&IF({problems}<>"",IF({empty}>0,CHAR(10),"")&"ต้องแก้ไข / to correct:"&{problems},""))')
    sheet.bilingual(row, LABEL_COL, "ตรวจความครบถ้วน", "Check", f["label"])
    ws.merge_range(row, VALUE_COL, row, LEVEL_COL, "", f["preview_text"])
    ws.write_formula(row, VALUE_COL, formula, f["preview_text"], "")
    all_missing = "ยังไม่ได้กรอก: " + "  • ".join(entry.field.label_th for entry in required)
    width = sum(COLUMN_WIDTHS[c] for c in (VALUE_COL, HINT_COL, LEVEL_COL))
    sheet.grow(row, lines_height(all_missing, width, FONT_SIZE))
    return xlsx.absolute_ref(row, VALUE_COL)
