"""How the reader looks up a template's cells in a workbook, however it was read: ``Sheets`` is the lookup
(a cell by position, a row by the field id its key column holds), ``find_key`` finds a moved row, and
``GridSheets`` answers from calamine's grid of each sheet (``streamed_sheets`` from the sheet XML, for a
workbook whose grid would be too large).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from cdd_scorer.cell_refs import column_number
from cdd_scorer.metadata import KEY_COLUMN, META_SHEET

if TYPE_CHECKING:
    from python_calamine import CalamineWorkbook

KEY_INDEX = column_number(KEY_COLUMN) - 1  # the zero-based column where each input row names its field


class Sheets(Protocol):
    """A workbook's cells as the reader looks them up: by zero-based position (``None`` when empty), and by
    the field id that the key column of a row holds."""

    sheet_names: list[str]

    def value(self, sheet: str, row: int, col: int) -> Any: ...

    def key_row(self, sheet: str, field_id: str) -> int | None: ...


def find_key(sheets: Sheets, field_id: str, prefer: str) -> tuple[str, int] | None:
    """The sheet and zero-based row whose key column holds ``field_id``: the expected sheet first (rows
    inserted or deleted), then the others (the sheet was renamed or copied)."""
    others = [s for s in sheets.sheet_names if s not in (prefer, META_SHEET)]
    for sheet in [prefer, *others]:
        row = sheets.key_row(sheet, field_id)
        if row is not None:
            return sheet, row
    return None


class GridSheets:
    """Each sheet's rows read at most once by calamine, and where each value sits in the key column."""

    def __init__(self, workbook: CalamineWorkbook):
        self.workbook = workbook
        self.sheet_names = workbook.sheet_names
        self._rows: dict[str, list[list[Any]] | None] = {}
        self._keys: dict[str, dict[Any, int]] = {}

    def rows(self, sheet: str) -> list[list[Any]] | None:
        if sheet not in self._rows:
            found = self.workbook.get_sheet_by_name(sheet) if sheet in self.sheet_names else None
            self._rows[sheet] = found.to_python(skip_empty_area=False) if found is not None else None
        return self._rows[sheet]

    def value(self, sheet: str, row: int, col: int) -> Any:
        rows = self.rows(sheet) or []
        if row < len(rows) and col < len(rows[row]):
            value = rows[row][col]
            return None if value == "" else value
        return None

    def key_row(self, sheet: str, field_id: str) -> int | None:
        """Key column value → first row holding it, indexed once per sheet."""
        if sheet not in self._keys:
            index: dict[Any, int] = {}
            for r in range(len(self.rows(sheet) or [])):
                index.setdefault(self.value(sheet, r, KEY_INDEX), r)
            self._keys[sheet] = index
        return self._keys[sheet].get(field_id)
