"""An .xlsx workbook's XML, read without a spreadsheet library: which zip member holds a sheet, and
what calamine cannot show of a cell (an error value such as #DIV/0!, a formula without a saved value).

Every function here takes a workbook that passed the safety checks (``safety.open_checked``): its parts
are bounded and declare no entities.
"""

from __future__ import annotations

import re
import zipfile
from html import unescape
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cdd_scorer.safety import FileContent

_XLSX_SHEET = re.compile(r"<(?:\w+:)?sheet\s([^>]*)>")
_XLSX_RELATIONSHIP = re.compile(r"<(?:\w+:)?Relationship\s([^>]*)>")
_XML_ATTRIBUTE = re.compile(r"""([\w.-]+(?::[\w.-]+)?)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_XLSX_CELL = re.compile(rb"<(?:\w+:)?c\s([^>]*?)(?:/>|>(.*?)</(?:\w+:)?c>)", re.DOTALL)
_XLSX_VALUE = re.compile(r"<(?:\w+:)?v>(.*?)</(?:\w+:)?v>", re.DOTALL)
_XLSX_FORMULA = re.compile(r"<(?:\w+:)?f\b[^>]*?(?:/>|>(.*?)</(?:\w+:)?f>)", re.DOTALL)


def xlsx_hidden_values(content: FileContent, sheet: str, cells: set[str]) -> dict[str, tuple[str, str]]:
    """Error values and value-less formulas among ``cells``, from the sheet XML (the file passed the
    safety checks, so the part is bounded and declares no entities)."""
    part = xlsx_sheet_part(content, sheet)
    if part is None:
        return {}
    xml = content.read(part)
    found: dict[str, tuple[str, str]] = {}
    for ref, (attributes, body) in _xlsx_cells(xml, cells).items():
        value = _XLSX_VALUE.search(body)
        value_text = unescape(value[1]) if value else ""
        formula = _XLSX_FORMULA.search(body)
        if 't="e"' in attributes and value_text:
            found[ref] = ("error", value_text)
        elif formula and not value_text:
            found[ref] = ("formula", "=" + (unescape(formula[1] or "") or "…"))
    return found


def _xlsx_cells(xml: bytes, refs: set[str]) -> dict[str, tuple[str, str]]:
    """The attributes and content of the ``<c>`` elements ``refs`` that have content (an empty styled
    input cell is ``<c r="C20" s="5"/>``): a byte search per cell, not a parse of the sheet."""
    start = max(xml.find(b"sheetData"), 0)  # <selection sqref="C20"> comes before the cells
    cells: dict[str, tuple[str, str]] = {}
    for ref in refs:
        needle = f'r="{ref}"'.encode()
        at = xml.find(needle, start)
        while at >= 0:
            cell = _XLSX_CELL.match(xml, xml.rfind(b"<", start, at))
            if cell and cell.start(1) <= at < cell.end(1) and xml[at - 1:at].isspace():
                if cell[2]:
                    cells[ref] = (cell[1].decode("utf-8", "replace"), cell[2].decode("utf-8", "replace"))
                break
            at = xml.find(needle, at + 1)
    return cells


def _xml_attributes(tag_text: str) -> dict[str, str]:
    """An element's attributes by local name (``r:id`` → ``id``), entities resolved."""
    return {key.rpartition(":")[2]: unescape(double or single) for key, double, single in
            _XML_ATTRIBUTE.findall(tag_text)}


def xlsx_sheet_part(content: FileContent | zipfile.ZipFile, sheet: str) -> str | None:
    """The zip member of the worksheet called ``sheet``, from workbook.xml and its relationships."""
    workbook = content.read("xl/workbook.xml").decode("utf-8", "replace")
    rel_id = next((attrs.get("id") for attrs in map(_xml_attributes, _XLSX_SHEET.findall(workbook))
                   if attrs.get("name") == sheet), None)
    rels = content.read("xl/_rels/workbook.xml.rels").decode("utf-8", "replace")
    target = next((attrs.get("Target") for attrs in map(_xml_attributes, _XLSX_RELATIONSHIP.findall(rels))
                   if rel_id and attrs.get("Id") == rel_id), None)
    if not target:
        return None
    return target.lstrip("/") if target.startswith("/") else f"xl/{target}"
