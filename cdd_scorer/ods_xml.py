"""An .ods workbook's content.xml, read without a spreadsheet library, one cell at a time: the extent
each table's cells span (a grid reader allocates it), what calamine cannot show of a cell (an error value
such as #DIV/0!, a formula without a saved value), and the text of a small table such as ``_meta``.

ODF compresses runs of identical rows and cells (``number-rows-repeated``, ``number-columns-repeated``):
a stray value in the last cell of a sheet is a few hundred bytes, but a grid of 17 billion cells.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any
from xml.etree.ElementTree import Element

from defusedxml import ElementTree

from cdd_scorer.cell_refs import SheetExtent, cell_index

if TYPE_CHECKING:
    from cdd_scorer.safety import FileContent

CONTENT = "content.xml"
_TABLE_NS = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
_OFFICE_NS = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"
_TEXT_NS = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
_CALCEXT_NS = "{urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0}"
_TABLE, _ROW = f"{_TABLE_NS}table", f"{_TABLE_NS}table-row"
_CELLS = (f"{_TABLE_NS}table-cell", f"{_TABLE_NS}covered-table-cell")


@dataclass(frozen=True)
class OdsCell:
    """One cell element where it stands (zero-based), and how many rows and columns it repeats over."""

    table: str
    row: int
    col: int
    rows: int
    cols: int
    element: Element

    @property
    def has_content(self) -> bool:
        """A value or a formula: what a reader must place in its grid (an empty styled cell is not)."""
        return bool(self.element.get(f"{_OFFICE_NS}value-type") or self.element.get(f"{_TABLE_NS}formula"))


def ods_cells(stream: IO[bytes]) -> Iterator[OdsCell]:
    """Every cell of every table of a content.xml stream, in document order. A cell's element is freed
    once the next one is asked for, and each row once it ends, so memory stays flat on any sheet."""
    table, row, col, repeat = "", 0, 0, 1
    open_elements: list[Element] = []
    for event, element in ElementTree.iterparse(stream, events=("start", "end"), forbid_dtd=True):
        tag = element.tag
        if event == "start":
            open_elements.append(element)
            if tag == _TABLE:
                table, row = element.get(f"{_TABLE_NS}name", ""), 0
            elif tag == _ROW:
                col, repeat = 0, int(element.get(f"{_TABLE_NS}number-rows-repeated", "1"))
            continue
        open_elements.pop()
        if tag in _CELLS:
            cols = int(element.get(f"{_TABLE_NS}number-columns-repeated", "1"))
            yield OdsCell(table, row, col, repeat, cols, element)
            col += cols
            element.clear()
        elif tag == _ROW:
            row += repeat
            if open_elements:
                open_elements[-1].remove(element)


def ods_extents(stream: IO[bytes]) -> list[SheetExtent]:
    """The rectangle each table's cells with content span, named by the table."""
    bounds: dict[str, list[int]] = {}
    for cell in ods_cells(stream):
        if cell.has_content:
            first_row, last_row, first_col, last_col = bounds.setdefault(cell.table, [10**12, 0, 10**12, 0])
            bounds[cell.table] = [min(first_row, cell.row + 1), max(last_row, cell.row + cell.rows),
                                  min(first_col, cell.col + 1), max(last_col, cell.col + cell.cols)]
    return [SheetExtent(table, *box) for table, box in bounds.items()]


def ods_table_rows(stream: IO[bytes], table: str, columns: int, max_rows: int) -> list[list[Any]] | None:
    """The first ``columns`` cells of the first ``max_rows`` rows of ``table`` (text, or a number as a
    float; ``None`` when empty); ``None`` when there is no such table."""
    rows: dict[int, list[Any]] = {}
    seen = False
    for cell in ods_cells(stream):
        if cell.table != table:
            if seen:
                break
            continue
        seen = True
        if cell.row < max_rows and cell.col < columns and cell.has_content:
            rows.setdefault(cell.row, [None] * columns)[cell.col] = _value(cell.element)
    if not seen:
        return None
    return [rows.get(r, [None] * columns) for r in range(max(rows, default=-1) + 1)]


def _value(element: Element) -> Any:
    kind = element.get(f"{_OFFICE_NS}value-type")
    if kind in ("float", "percentage", "currency"):
        return float(element.get(f"{_OFFICE_NS}value", "nan"))
    return "\n".join("".join(p.itertext()) for p in element.iter(f"{_TEXT_NS}p"))


def ods_hidden_values(content: FileContent, sheet: str, cells: set[str]) -> dict[str, tuple[str, str]]:
    """Error values and value-less formulas among ``cells`` of ``sheet``: ``(kind, text)`` by cell."""
    wanted = {cell_index(c): c for c in cells}
    found: dict[str, tuple[str, str]] = {}
    for cell in ods_cells(content.open(CONTENT)):
        ref = wanted.get((cell.row, cell.col)) if cell.table == sheet else None
        if ref is None:
            continue
        element = cell.element
        if element.get(f"{_CALCEXT_NS}value-type") == "error":
            found[ref] = ("error", "".join(element.itertext()).strip())
        elif element.get(f"{_TABLE_NS}formula") and not element.get(f"{_OFFICE_NS}value-type"):
            found[ref] = ("formula", element.get(f"{_TABLE_NS}formula", "").removeprefix("of:"))
    return found
