"""An .xlsx workbook's XML, read without a spreadsheet library: which zip member holds each sheet, a
sheet's rows as they stream past, and what calamine cannot show of a cell (an error value such as
#DIV/0!, a formula without a saved value).

Every function here takes a workbook whose parts are bounded and declare no entities: one that passed the
safety checks (``safety.open_checked``), or members checked one by one (``identity``).
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from html import unescape
from typing import IO, TYPE_CHECKING
from xml.etree.ElementTree import Element

from defusedxml import ElementTree

from cdd_scorer.cell_refs import column_number
from cdd_scorer.xlsx_values import local_name

if TYPE_CHECKING:
    from cdd_scorer.safety import FileContent
    from cdd_scorer.xlsx_values import Parts

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


def xlsx_sheet_parts(content: Parts | zipfile.ZipFile) -> dict[str, str]:
    """Each sheet's name → the zip member of its worksheet, in the workbook's order, from workbook.xml and
    its relationships."""
    workbook = content.read("xl/workbook.xml").decode("utf-8", "replace")
    rels = content.read("xl/_rels/workbook.xml.rels").decode("utf-8", "replace")
    targets = {attrs.get("Id"): attrs.get("Target") for attrs in map(_xml_attributes, _XLSX_RELATIONSHIP.findall(rels))}
    parts: dict[str, str] = {}
    for attrs in map(_xml_attributes, _XLSX_SHEET.findall(workbook)):
        target = targets.get(attrs.get("id")) if attrs.get("id") else None
        if attrs.get("name") and target:
            parts[attrs["name"]] = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
    return parts


def xlsx_sheet_part(content: Parts | zipfile.ZipFile, sheet: str) -> str | None:
    """The zip member of the worksheet called ``sheet``."""
    return xlsx_sheet_parts(content).get(sheet)


def xlsx_rows(stream: IO[bytes]) -> Iterator[tuple[int, list[tuple[int, Element]]]]:
    """A worksheet's rows as they stream past: its zero-based number and its ``<c>`` elements with their
    zero-based columns (a row or cell without ``r`` follows the one before, as the format allows). Each
    row is freed once the next one is asked for, so memory stays flat on any sheet."""
    row, col, cells, sheet_data = -1, -1, None, None
    for event, element in ElementTree.iterparse(stream, events=("start", "end"), forbid_dtd=True):
        name = local_name(element.tag)
        if event == "start":
            if name == "sheetData":
                sheet_data = element
            elif name == "row" and sheet_data is not None:
                reference = element.get("r")
                row, col, cells = int(reference) - 1 if reference else row + 1, -1, []
        elif name == "c" and cells is not None:
            reference = element.get("r")
            col = column_number(reference.rstrip("0123456789")) - 1 if reference else col + 1
            cells.append((col, element))
        elif name == "row" and cells is not None:
            yield row, cells
            cells = None
            sheet_data.remove(element)
