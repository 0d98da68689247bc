"""Reading returned workbooks (.xlsx, .xlsm, .xls, .ods) with python-calamine.

``read_input_file`` turns one file of the input folder into a ``FileOutcome``: a ``RawSubmission`` (the
template's metadata and the raw value of every input cell, with the sheet and cell it came from), or the
problem that kept the file from being read. Every file is checked by ``safety.open_checked`` before
calamine opens it, and is opened by its content, not its name. It never raises for a bad file, so one
broken file never costs the batch. (A native crash is contained one level up, by ``workers``.) The file
is read from disk once: the checks, the hash, the saved time and calamine all use the same bytes. A
problem that keeps a file from being read names the district of its hidden metadata sheet when that can
still be read safely (``identity``).

An .xlsx whose sheet spans too far for calamine's grid (a stray value in XFD1048576) is read without it:
only the template's cells, streamed from the sheet XML (``streamed_sheets``), with a ``stray_cells_ignored``
warning per such sheet. Both ways look cells up alike (``sheet_lookup``).

calamine reads error values (#DIV/0!) and formulas without a saved value as empty strings, so for
input cells that come back empty the sheet XML is looked at directly (.xlsx/.xlsm and .ods).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from defusedxml import ElementTree
from python_calamine import CalamineError, CalamineWorkbook, PasswordError

from cdd_scorer.cell_refs import SheetExtent, cell_index
from cdd_scorer.identity import attributed
from cdd_scorer.kpi import Field, KpiSet
from cdd_scorer.metadata import META_SHEET, TemplateMetadata, split_address
from cdd_scorer.ods_xml import ods_hidden_values
from cdd_scorer.problems import Problem
from cdd_scorer.safety import DEFAULT_LIMITS, FileCheck, FileContent, SafetyLimits, SpreadsheetFormat, open_checked
from cdd_scorer.sheet_lookup import KEY_INDEX, GridSheets, Sheets, find_key
from cdd_scorer.streamed_sheets import StreamedWorkbook
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
        found = _read_checked(path, name, kpi_set, check, content)
        if found.problem is not None:
            return FileOutcome.unread(attributed(found.problem, content.archive, limits))
        return found
    finally:
        content.close()


def _read_checked(path: Path, name: str, kpi_set: KpiSet, check: FileCheck, content: FileContent) -> FileOutcome:
    try:
        source = describe_source(path, name, content)
        if check.huge_sheets:
            found = _read_streaming(content, source, kpi_set, check.huge_sheets)
        else:
            found = _read_with_calamine(content, source, kpi_set)
    except PasswordError:
        return FileOutcome.unread(Problem("encrypted_file", file=name))
    except OSError as exc:
        return FileOutcome.unread(Problem("read_failed", file=name, params={"detail": exc.strerror or str(exc)}))
    except (CalamineError, ValueError, KeyError, zipfile.BadZipFile, zlib.error, EOFError,
            ElementTree.ParseError) as exc:
        detail = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        if "password" in detail.lower() or "encrypt" in detail.lower():
            return FileOutcome.unread(Problem("encrypted_file", file=name))
        return FileOutcome.unread(Problem("corrupt_file", file=name, params={"detail": detail}))
    if found.submission is not None:
        if check.has_macros:
            found.submission.problems.insert(0, Problem("macro_workbook", file=name))
        _explain_empty_cells(found.submission, check.format, kpi_set, content)
    return found


def _read_with_calamine(content: FileContent, source: SourceFile, kpi_set: KpiSet) -> FileOutcome:
    workbook = CalamineWorkbook.from_filelike(io.BytesIO(content.data))
    try:
        sheets = GridSheets(workbook)
        meta = sheets.rows(META_SHEET)
        meta_rows = [(r[0], r[1]) for r in meta if len(r) >= 2] if meta else None
        return _read_template(source, kpi_set, meta_rows, lambda _: sheets)
    finally:
        workbook.close()


def _read_streaming(content: FileContent, source: SourceFile, kpi_set: KpiSet,
                    huge_sheets: tuple[SheetExtent, ...]) -> FileOutcome:
    """An .xlsx whose sheets span too far for calamine's grid: only the template's cells are read, and each
    huge sheet is named in a warning (its extent, and the last cell, where Ctrl+End goes)."""
    workbook = StreamedWorkbook(content)
    found = _read_template(source, kpi_set, workbook.meta_rows(), lambda meta: workbook.template_cells(meta.cells))
    if found.submission is not None:
        names = {member: name for name, member in workbook.sheet_parts.items()}
        found.submission.problems[:0] = [_stray_cells(found.submission, names.get(e.sheet, e.sheet), e)
                                         for e in huge_sheets]
    return found


def _stray_cells(raw: RawSubmission, sheet: str, extent: SheetExtent) -> Problem:
    return Problem("stray_cells_ignored", file=raw.source.name, province_code=raw.metadata.province_code,
                   district_code=raw.metadata.district_code, sheet=sheet, cell=extent.last_cell,
                   params={"sheet": sheet, "extent": extent.describe(), "last_cell": extent.last_cell})


def _read_template(source: SourceFile, kpi_set: KpiSet, meta_rows: list[tuple[Any, Any]] | None,
                   open_sheets: Callable[[TemplateMetadata], Sheets]) -> FileOutcome:
    """The metadata, then each input cell where the metadata puts it, or where its row moved to."""
    metadata = TemplateMetadata.from_rows(meta_rows) if meta_rows else None
    if metadata is None:
        return FileOutcome.unread(Problem("not_template", file=source.name))
    problems: list[Problem] = []
    cells: dict[str, RawCell] = {}
    sheets = open_sheets(metadata)
    for fld in kpi_set.fields:
        address = metadata.cells.get(fld.id)
        if address is None:
            continue  # a card/template mismatch is reported by the fingerprint check
        sheet, cell = split_address(address)
        row, col = cell_index(cell)
        where = dict(file=source.name, province_code=metadata.province_code,
                     district_code=metadata.district_code, field=fld.id)
        if sheets.value(sheet, row, KEY_INDEX) != fld.id:
            moved = find_key(sheets, fld.id, prefer=sheet)
            if moved is None:
                problems.append(Problem("field_cell_missing", sheet=sheet, cell=cell, **where))
                continue
            new_sheet, row = moved
            new_cell = f"{cell.rstrip('0123456789')}{row + 1}"
            found = new_cell if new_sheet == sheet else f"{new_sheet}!{new_cell}"
            problems.append(Problem("layout_changed", sheet=new_sheet, cell=new_cell, **where,
                                    params={"expected": cell if new_sheet == sheet else address,
                                            "found": found}))
            sheet, cell = new_sheet, new_cell
        cells[fld.id] = RawCell(sheet, cell, sheets.value(sheet, row, col))
    return FileOutcome.read(RawSubmission(source, metadata, cells, problems))


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
