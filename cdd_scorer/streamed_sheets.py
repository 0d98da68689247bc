"""The cells a template defines, read from an .xlsx by streaming its sheet XML, never as a grid.

For a workbook whose sheet extent is too large for calamine (one stray value in XFD1048576 makes it
allocate a grid of 17 billion cells, and abort the process): the hidden ``_meta`` sheet is small and lists
every input cell's address, and the entry sheet's key column names each input's field, so a reader needs
only a few hundred cells. Kept are columns A and B of ``_meta`` (its first ``META_ROWS`` rows) and, on the
other sheets, the key column and the input columns of the rows where an input is expected or where the key
column first names a field. A sheet is read until every field has been found and its last expected row is
past: a stray cell beyond the form is never reached. Values are python-calamine's (``xlsx_values``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cdd_scorer.cell_refs import cell_index
from cdd_scorer.metadata import META_SHEET, split_address
from cdd_scorer.sheet_lookup import KEY_INDEX
from cdd_scorer.xlsx_values import CellValues, Parts
from cdd_scorer.xlsx_xml import xlsx_rows, xlsx_sheet_parts

META_ROWS = 10_000  # a template's _meta sheet has a row per input and about a dozen more


class StreamedWorkbook:
    """An .xlsx read by streaming: its sheets, its metadata rows, and the template's cells."""

    def __init__(self, parts: Parts) -> None:
        self.parts = parts
        self.sheet_parts = xlsx_sheet_parts(parts)
        self.values = CellValues(parts)

    def meta_rows(self) -> list[tuple[Any, Any]] | None:
        """Key and value (columns A and B) of each row of ``_meta``; ``None`` when there is no such sheet."""
        member = self.sheet_parts.get(META_SHEET)
        if member is None:
            return None
        rows = []
        for row, cells in xlsx_rows(self.parts.open(member)):
            if row >= META_ROWS:
                break
            pair: list[Any] = [None, None]
            for col, cell in cells:
                if col < 2:
                    pair[col] = self.values.value(cell)
            rows.append((pair[0], pair[1]))
        return rows

    def template_cells(self, addresses: Mapping[str, str]) -> StreamedSheets:
        """The cells of the inputs at ``addresses`` (field id → ``sheet!cell``), wherever their rows moved."""
        return StreamedSheets(self, addresses)


class StreamedSheets:
    """The template's cells of each sheet, each sheet streamed at most once, looked up as ``sheet_lookup.Sheets``."""

    def __init__(self, workbook: StreamedWorkbook, addresses: Mapping[str, str]) -> None:
        self.workbook = workbook
        self.sheet_names = list(workbook.sheet_parts)
        self._field_ids = set(addresses)
        self._expected_rows: dict[str, set[int]] = {}
        self._columns = {KEY_INDEX}
        for address in addresses.values():
            sheet, cell = split_address(address)
            row, col = cell_index(cell)
            self._expected_rows.setdefault(sheet, set()).add(row)
            self._columns.add(col)
        self._cells: dict[str, dict[tuple[int, int], Any]] = {}
        self._key_rows: dict[str, dict[Any, int]] = {}

    def value(self, sheet: str, row: int, col: int) -> Any:
        """The value at zero-based ``row``, ``col``; ``None`` when empty (or not a cell the template needs)."""
        self._stream(sheet)
        return self._cells[sheet].get((row, col))

    def key_row(self, sheet: str, field_id: str) -> int | None:
        """The first zero-based row of ``sheet`` whose key column holds ``field_id``."""
        self._stream(sheet)
        return self._key_rows[sheet].get(field_id)

    def _stream(self, sheet: str) -> None:
        if sheet in self._cells:
            return
        cells: dict[tuple[int, int], Any] = {}
        keys: dict[Any, int] = {}
        self._cells[sheet], self._key_rows[sheet] = cells, keys
        member = self.workbook.sheet_parts.get(sheet)
        if member is None:
            return
        expected = self._expected_rows.get(sheet, set())
        last_expected = max(expected, default=-1)
        decode = self.workbook.values.value
        for row, row_cells in xlsx_rows(self.workbook.parts.open(member)):
            if row > last_expected and len(keys) == len(self._field_ids):
                break
            wanted = {col: cell for col, cell in row_cells if col in self._columns}
            key = decode(wanted[KEY_INDEX]) if KEY_INDEX in wanted else None
            names_a_field = key in self._field_ids and key not in keys
            if names_a_field:
                keys[key] = row
            if names_a_field or row in expected:
                for col, cell in wanted.items():
                    if (value := decode(cell)) != "":
                        cells[(row, col)] = value
