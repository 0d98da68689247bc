"""The entry sheet's inputs: each yellow cell with its field id, label, hint and defined name, and its
hidden reading and problem cells (``entry_formulas``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from cdd_scorer import xlsx
from cdd_scorer.kpi import Field, KpiSet
from cdd_scorer.template import entry_formulas as ef
from cdd_scorer.template.grid import COLUMN_WIDTHS, HELPER_COL, HINT_COL, ID_COL, LABEL_COL, PROBLEM_COL, VALUE_COL
from cdd_scorer.template.layout import Sheet, lines_height
from cdd_scorer.template.style import SMALL_SIZE


@dataclass(frozen=True)
class InputCell:
    """Where one input is: the yellow cell the officer types in and the hidden cells read from it."""

    field: Field
    row: int
    cell: str  # $C$7, also the field id's defined name
    reading: str  # what the batch reads from it, the cell the preview reads (the cell itself for text)
    problem: str  # the hidden cell naming what is wrong in it

    @property
    def address(self) -> str:
        """The cell as an officer reads it: C7."""
        return self.cell.replace("$", "")


def write_input(sheet: Sheet, row: int, fld: Field) -> InputCell:
    """One yellow input cell with its field id (column A), label, hint and defined name, and its hidden
    reading (what the batch reads from it). Its validation and problem cell come once every input has
    its cell (``write_problem``: part ≤ whole)."""
    ws, f = sheet.ws, sheet.formats
    ws.write_string(row, ID_COL, fld.id)
    sheet.bilingual(row, LABEL_COL, fld.label_th, fld.label_en, f["label"])
    ws.write_blank(row, VALUE_COL, None, f["text_input"] if fld.type == "text" else f[fld.type])
    hint = _hint(fld)
    ws.write_string(row, HINT_COL, hint, f["hint"])
    sheet.grow(row, lines_height(hint, COLUMN_WIDTHS[HINT_COL], SMALL_SIZE))
    cell = sheet.define(fld.id, row, VALUE_COL)
    reading = cell
    if fld.type != "text":
        ws.write_formula(row, HELPER_COL, "=" + ef.reading(fld, cell), f["helper"], "")
        reading = xlsx.absolute_ref(row, HELPER_COL)
    if fld.type == "date":
        ws.conditional_format(row, VALUE_COL, row, VALUE_COL, {
            "type": "formula", "criteria": f"=AND(ISNUMBER({cell}),YEAR({cell})>=2400)",
            "format": f["date_typed_be"]})
    return InputCell(fld, row, cell, reading, xlsx.absolute_ref(row, PROBLEM_COL))


def write_problem(sheet: Sheet, entry: InputCell, inputs: Mapping[str, InputCell], kpi_set: KpiSet) -> None:
    """The input's hidden problem cell (once every input has its reading: part ≤ whole); ``inputs`` holds
    every input by field id."""
    fld = entry.field
    whole = (kpi_set.field(fld.at_most), inputs[fld.at_most].reading) if fld.at_most else None
    formula = ef.problem(fld, entry.cell, entry.reading, kpi_set, whole)
    sheet.ws.write_formula(entry.row, PROBLEM_COL, "=" + formula, sheet.formats["helper"], "")


def _hint(fld: Field) -> str:
    """What to type, in a few words (the input message says more when the cell is selected)."""
    optional = " (ถ้ามี)" if fld.optional else ""
    if fld.type == "money":
        return "ทศนิยมไม่เกิน ๒" + optional
    if fld.type == "count":
        return ("จำนวนเต็ม > ๐" if fld.positive else "จำนวนเต็ม") + optional
    if fld.type == "yesno":
        return "เลือก ใช่/ไม่ใช่"
    if fld.type == "date":
        return "เช่น 31/8/2565" + (" ว่างได้" if fld.optional else "")
    return "ข้อความ" + optional
