"""An .ods workbook's content.xml, read without a spreadsheet library: what calamine cannot show of a
cell (an error value such as #DIV/0!, a formula without a saved value).
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from defusedxml import ElementTree

from cdd_scorer.cell_refs import cell_index

if TYPE_CHECKING:
    from cdd_scorer.safety import FileContent

_TABLE_NS = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
_OFFICE_NS = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"
_CALCEXT_NS = "{urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0}"


def ods_hidden_values(content: FileContent, sheet: str, cells: set[str]) -> dict[str, tuple[str, str]]:
    wanted = {cell_index(c): c for c in cells}
    found: dict[str, tuple[str, str]] = {}
    in_sheet, row, col = False, 0, 0
    for event, element in ElementTree.iterparse(io.BytesIO(content.read("content.xml")), events=("start", "end")):
        tag = element.tag
        if tag == f"{_TABLE_NS}table":
            in_sheet = event == "start" and element.get(f"{_TABLE_NS}name") == sheet
            row = 0
        elif not in_sheet:
            continue
        elif tag == f"{_TABLE_NS}table-row" and event == "start":
            col = 0
        elif tag == f"{_TABLE_NS}table-row":
            row += int(element.get(f"{_TABLE_NS}number-rows-repeated", "1"))
            element.clear()
        elif tag in (f"{_TABLE_NS}table-cell", f"{_TABLE_NS}covered-table-cell") and event == "end":
            ref = wanted.get((row, col))
            if ref and element.get(f"{_CALCEXT_NS}value-type") == "error":
                found[ref] = ("error", "".join(element.itertext()).strip())
            elif ref and element.get(f"{_TABLE_NS}formula") and not element.get(f"{_OFFICE_NS}value-type"):
                found[ref] = ("formula", element.get(f"{_TABLE_NS}formula", "").removeprefix("of:"))
            col += int(element.get(f"{_TABLE_NS}number-columns-repeated", "1"))
            element.clear()
    return found
