"""Reading returned workbooks (.xlsx, .xlsm, .xls, .ods) with python-calamine.

``read_input_file`` turns one file of the input folder into a ``FileOutcome``: a ``RawSubmission`` (the
template's metadata and the raw value of every input cell, with the sheet and cell it came from), or the
problem that kept the file from being read. Every file is checked by ``safety.open_checked`` before
calamine opens it, and is opened by its content, not its name. It never raises for a bad file, so one
broken file never costs the batch. (A native crash is contained one level up, by ``workers``.) The file
is read from disk once: the checks, the hash, the saved time and calamine all use the same bytes.

calamine reads error values (#DIV/0!) and formulas without a saved value as empty strings, so for
input cells that come back empty the sheet XML is looked at directly (.xlsx/.xlsm and .ods).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
import zipfile
from dataclasses import dataclass, field
from html import unescape
from pathlib import Path
from typing import Any

from defusedxml import ElementTree
from python_calamine import CalamineError, CalamineWorkbook, PasswordError

from cdd_scorer.kpi import Field, KpiSet
from cdd_scorer.metadata import KEY_COLUMN, META_SHEET, TemplateMetadata, split_address
from cdd_scorer.problems import Problem
from cdd_scorer.safety import (
    DEFAULT_LIMITS,
    FileContent,
    SafetyLimits,
    SpreadsheetFormat,
    column_number,
    open_checked,
)

SPREADSHEET_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")
NOT_SPREADSHEET_KINDS = {".pdf": "PDF", ".doc": "Word", ".docx": "Word", ".csv": "CSV", ".txt": "text",
                         ".jpg": "image", ".jpeg": "image", ".png": "image", ".zip": "zip", ".eml": "e-mail"}
_XLSX_SHEET = re.compile(r"<(?:\w+:)?sheet\s([^>]*)>")
_XLSX_RELATIONSHIP = re.compile(r"<(?:\w+:)?Relationship\s([^>]*)>")
_XML_ATTRIBUTE = re.compile(r"""([\w.-]+(?::[\w.-]+)?)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_XLSX_CELL = re.compile(rb"<(?:\w+:)?c\s([^>]*?)(?:/>|>(.*?)</(?:\w+:)?c>)", re.DOTALL)
_XLSX_VALUE = re.compile(r"<(?:\w+:)?v>(.*?)</(?:\w+:)?v>", re.DOTALL)
_XLSX_FORMULA = re.compile(r"<(?:\w+:)?f\b[^>]*?(?:/>|>(.*?)</(?:\w+:)?f>)", re.DOTALL)
_TABLE_NS = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
_OFFICE_NS = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"
_CALCEXT_NS = "{urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0}"


@dataclass(frozen=True)
class SourceFile:
    """A file from the input folder, as the sources sheet lists it."""

    path: Path
    name: str
    sha256: str
    size: int
    saved_at: dt.datetime | None


@dataclass(frozen=True)
class RawCell:
    sheet: str
    cell: str
    value: Any


@dataclass
class RawSubmission:
    """What one template file holds, before parsing and validation."""

    source: SourceFile
    metadata: TemplateMetadata
    cells: dict[str, RawCell]
    problems: list[Problem] = field(default_factory=list)


@dataclass(frozen=True)
class FileOutcome:
    """What reading one input file gave: the submission it holds, or the one problem that kept it from
    being read (a lock file, not a spreadsheet, damaged, not a template, a reader that crashed)."""

    name: str
    submission: RawSubmission | None = None
    problem: Problem | None = None

    @classmethod
    def read(cls, submission: RawSubmission) -> FileOutcome:
        return cls(submission.source.name, submission=submission)

    @classmethod
    def unread(cls, problem: Problem) -> FileOutcome:
        return cls(problem.file, problem=problem)


def is_lock_file(path: Path) -> bool:
    """Office's owner files (``~$name.xlsx``) and LibreOffice's (``.~lock.name#``)."""
    return path.name.startswith("~$") or path.name.startswith(".~lock.")


def describe_source(path: Path, name: str, content: FileContent) -> SourceFile:
    """The sources-sheet row of a file whose bytes were read (``content``)."""
    return SourceFile(path, name, hashlib.sha256(content.data).hexdigest(), len(content.data),
                      saved_time(path, content))


_SAVED_STAMP = {"docProps/core.xml": re.compile(r"<dcterms:modified\b[^>]*>([^<]+)<"),
                "meta.xml": re.compile(r"<dc:date>([^<]+)<")}


def saved_time(path: Path, content: FileContent) -> dt.datetime | None:
    """When the workbook was last saved: its own properties when it has them, else the file's."""
    for member, pattern in _SAVED_STAMP.items():
        try:
            found = pattern.search(content.read(member)[:20000].decode("utf-8", "replace"))
            if found:
                return dt.datetime.fromisoformat(found.group(1).strip().replace("Z", "+00:00"))
        except (KeyError, ValueError, zipfile.BadZipFile):
            continue
    try:
        return dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC)
    except OSError:
        return None


def read_input_file(path: Path, name: str, kpi_set: KpiSet, limits: SafetyLimits = DEFAULT_LIMITS
                    ) -> FileOutcome:
    """Read one file of the input folder: lock files and non-spreadsheets become a problem."""
    if is_lock_file(path):
        return FileOutcome.unread(Problem("lock_file", file=name))
    suffix = path.suffix.lower()
    if suffix not in SPREADSHEET_SUFFIXES:
        kind = NOT_SPREADSHEET_KINDS.get(suffix, suffix or "no extension")
        return FileOutcome.unread(Problem("not_spreadsheet", file=name, params={"detail": kind}))
    return read_workbook(path, name, kpi_set, limits)


def read_workbook(path: Path, name: str, kpi_set: KpiSet, limits: SafetyLimits = DEFAULT_LIMITS
                  ) -> FileOutcome:
    """Check one workbook, then read its metadata and input cells, or return why it cannot be read."""
    check, content = open_checked(path, name, limits)
    if content is None:
        return FileOutcome.unread(check.problem)
    try:
        return _read_checked(path, name, kpi_set, check.format, check.has_macros, content)
    finally:
        content.close()


def _read_checked(path: Path, name: str, kpi_set: KpiSet, fmt: SpreadsheetFormat, has_macros: bool,
                  content: FileContent) -> FileOutcome:
    try:
        source = describe_source(path, name, content)
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(content.data))
        try:
            found = _read_open_workbook(workbook, source, kpi_set)
        finally:
            workbook.close()
    except PasswordError:
        return FileOutcome.unread(Problem("encrypted_file", file=name))
    except OSError as exc:
        return FileOutcome.unread(Problem("read_failed", file=name, params={"detail": exc.strerror or str(exc)}))
    except (CalamineError, ValueError, zipfile.BadZipFile) as exc:
        detail = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        if "password" in detail.lower() or "encrypt" in detail.lower():
            return FileOutcome.unread(Problem("encrypted_file", file=name))
        return FileOutcome.unread(Problem("corrupt_file", file=name, params={"detail": detail}))
    if found.submission is not None:
        if has_macros:
            found.submission.problems.insert(0, Problem("macro_workbook", file=name))
        _explain_empty_cells(found.submission, fmt, kpi_set, content)
    return found


def _sheet_rows(workbook: CalamineWorkbook, sheet: str) -> list[list[Any]] | None:
    if sheet not in workbook.sheet_names:
        return None
    data = workbook.get_sheet_by_name(sheet)
    rows = data.to_python(skip_empty_area=False)
    return rows


def _read_open_workbook(workbook: CalamineWorkbook, source: SourceFile, kpi_set: KpiSet
                        ) -> FileOutcome:
    meta_rows = _sheet_rows(workbook, META_SHEET)
    metadata = TemplateMetadata.from_rows(
        (r[0], r[1]) for r in meta_rows if len(r) >= 2) if meta_rows else None
    if metadata is None:
        return FileOutcome.unread(Problem("not_template", file=source.name))
    problems: list[Problem] = []
    cells: dict[str, RawCell] = {}
    sheets = _SheetCache(workbook)
    for fld in kpi_set.fields:
        address = metadata.cells.get(fld.id)
        if address is None:
            continue  # a card/template mismatch is reported by the fingerprint check
        sheet, cell = split_address(address)
        row, col = _cell_index(cell)
        where = dict(file=source.name, province_code=metadata.province_code,
                     district_code=metadata.district_code, field=fld.id)
        rows = sheets.rows(sheet)
        if rows is None or _at(rows, row, sheets.key_col) != fld.id:
            moved = sheets.find_key(fld.id, prefer=sheet)
            if moved is None:
                problems.append(Problem("field_cell_missing", sheet=sheet, cell=cell, **where))
                continue
            new_sheet, row = moved
            new_cell = f"{cell.rstrip('0123456789')}{row + 1}"
            found = new_cell if new_sheet == sheet else f"{new_sheet}!{new_cell}"
            problems.append(Problem("layout_changed", sheet=new_sheet, cell=new_cell, **where,
                                    params={"expected": cell if new_sheet == sheet else address,
                                            "found": found}))
            sheet, cell, rows = new_sheet, new_cell, sheets.rows(new_sheet)
        cells[fld.id] = RawCell(sheet, cell, _at(rows, row, col))
    return FileOutcome.read(RawSubmission(source, metadata, cells, problems))


class _SheetCache:
    """Each sheet's rows read at most once, and where each field id sits in the key column."""

    def __init__(self, workbook: CalamineWorkbook):
        self.workbook = workbook
        self.key_col = ord(KEY_COLUMN) - ord("A")
        self._rows: dict[str, list[list[Any]] | None] = {}
        self._keys: dict[str, dict[Any, int]] = {}

    def rows(self, sheet: str) -> list[list[Any]] | None:
        if sheet not in self._rows:
            self._rows[sheet] = _sheet_rows(self.workbook, sheet)
        return self._rows[sheet]

    def find_key(self, field_id: str, prefer: str) -> tuple[str, int] | None:
        """The sheet and zero-based row whose key column holds ``field_id``: the expected sheet
        first (rows inserted or deleted), then the others (the sheet was renamed or copied)."""
        others = [s for s in self.workbook.sheet_names if s not in (prefer, META_SHEET)]
        for sheet in [prefer, *others]:
            row = self._key_rows(sheet).get(field_id)
            if row is not None:
                return sheet, row
        return None

    def _key_rows(self, sheet: str) -> dict[Any, int]:
        """Key column value → first row holding it, indexed once per sheet."""
        if sheet not in self._keys:
            rows = self.rows(sheet) or []
            index: dict[Any, int] = {}
            for r in range(len(rows)):
                index.setdefault(_at(rows, r, self.key_col), r)
            self._keys[sheet] = index
        return self._keys[sheet]


def _at(rows: list[list[Any]], row: int, col: int) -> Any:
    if row < len(rows) and col < len(rows[row]):
        value = rows[row][col]
        return None if value == "" else value
    return None


def _cell_index(cell: str) -> tuple[int, int]:
    """``D12`` → (11, 3), zero-based."""
    letters = cell.rstrip("0123456789")
    return int(cell[len(letters):]) - 1, column_number(letters) - 1


# ---- what calamine shows as empty: error values and formulas without a saved value

def _explain_empty_cells(raw: RawSubmission, fmt: SpreadsheetFormat, kpi_set: KpiSet, content: FileContent) -> None:
    """Give an empty input cell its error value (#DIV/0!…) as raw value, or note a formula without
    a saved value (left empty). Optional cells too: a blank note costs a byte search, and an error or a
    formula there is as wrong as anywhere. Only the sheets holding empty input cells are looked at."""
    inspect = {"xlsx": _xlsx_hidden_values, "ods": _ods_hidden_values}.get(fmt)
    empty = {f.id: raw.cells[f.id] for f in kpi_set.fields if f.id in raw.cells and raw.cells[f.id].value is None}
    if inspect is None or not empty:
        return
    by_id = {f.id: f for f in kpi_set.fields}
    for sheet in sorted({c.sheet for c in empty.values()}):
        wanted = {c.cell: field_id for field_id, c in empty.items() if c.sheet == sheet}
        try:
            hidden = inspect(content, sheet, set(wanted))
        except (zipfile.BadZipFile, KeyError, ElementTree.ParseError):
            continue  # the values calamine read stand; nothing more can be learnt
        for cell, (kind, text) in sorted(hidden.items()):
            field_id = wanted[cell]
            if kind == "error":
                raw.cells[field_id] = RawCell(sheet, cell, text)
            else:
                raw.problems.append(_formula_without_value(raw, by_id[field_id], sheet, cell, text))


def _formula_without_value(raw: RawSubmission, fld: Field, sheet: str, cell: str, formula: str) -> Problem:
    return Problem("formula_without_value", file=raw.source.name, province_code=raw.metadata.province_code,
                   district_code=raw.metadata.district_code, sheet=sheet, cell=cell, field=fld.id,
                   value=formula, params={"label": fld.label_th, "label_en": fld.label_en})


def _xlsx_hidden_values(content: FileContent, sheet: str, cells: set[str]) -> dict[str, tuple[str, str]]:
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


def _ods_hidden_values(content: FileContent, sheet: str, cells: set[str]) -> dict[str, tuple[str, str]]:
    wanted = {_cell_index(c): c for c in cells}
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
