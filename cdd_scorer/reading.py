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
from pathlib import Path
from typing import Any

from defusedxml import ElementTree
from python_calamine import CalamineError, CalamineWorkbook, PasswordError

from cdd_scorer.cell_refs import cell_index
from cdd_scorer.kpi import Field, KpiSet
from cdd_scorer.metadata import KEY_COLUMN, META_SHEET, TemplateMetadata, split_address
from cdd_scorer.ods_xml import ods_hidden_values
from cdd_scorer.problems import Problem
from cdd_scorer.safety import DEFAULT_LIMITS, FileContent, SafetyLimits, SpreadsheetFormat, open_checked
from cdd_scorer.xlsx_xml import xlsx_hidden_values

SPREADSHEET_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")
NOT_SPREADSHEET_KINDS = {".pdf": "PDF", ".doc": "Word", ".docx": "Word", ".csv": "CSV", ".txt": "text",
                         ".jpg": "image", ".jpeg": "image", ".png": "image", ".zip": "zip", ".eml": "e-mail"}


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
        row, col = cell_index(cell)
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


# ---- what calamine shows as empty: error values and formulas without a saved value

def _explain_empty_cells(raw: RawSubmission, fmt: SpreadsheetFormat, kpi_set: KpiSet, content: FileContent) -> None:
    """Give an empty input cell its error value (#DIV/0!…) as raw value, or note a formula without
    a saved value (left empty). Optional cells too: a blank note costs a byte search, and an error or a
    formula there is as wrong as anywhere. Only the sheets holding empty input cells are looked at."""
    inspect = {"xlsx": xlsx_hidden_values, "ods": ods_hidden_values}.get(fmt)
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
