"""Reading returned workbooks (.xlsx, .xlsm, .xls, .ods) with python-calamine.

``read_workbook`` turns one file into a ``RawSubmission``: the template's metadata and the raw
value of every input cell, with the sheet and cell it came from. It never raises for a bad file:
it returns the problems instead, so one broken file never costs the batch.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from python_calamine import CalamineError, CalamineWorkbook, PasswordError

from cdd_scorer.kpi import KpiSet
from cdd_scorer.metadata import KEY_COLUMN, META_SHEET, TemplateMetadata, split_address
from cdd_scorer.problems import Problem

SPREADSHEET_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")
MACRO_SUFFIXES = (".xlsm",)


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


def is_lock_file(path: Path) -> bool:
    """Office's owner files (``~$name.xlsx``) and LibreOffice's (``.~lock.name#``)."""
    return path.name.startswith("~$") or path.name.startswith(".~lock.")


def describe_source(path: Path, name: str) -> SourceFile:
    data = path.read_bytes()
    return SourceFile(path, name, hashlib.sha256(data).hexdigest(), len(data), saved_time(path))


def saved_time(path: Path) -> dt.datetime | None:
    """When the workbook was last saved: its own properties when it has them, else the file's."""
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            for member, tag in (("docProps/core.xml", "modified>"), ("meta.xml", "date>")):
                if member in names:
                    text = zf.read(member)[:20000].decode("utf-8", "replace")
                    start = text.find(tag)
                    if start >= 0:
                        stamp = text[start + len(tag):].split("<", 1)[0].strip()
                        return dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except (zipfile.BadZipFile, OSError, ValueError, KeyError):
        pass
    try:
        return dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC)
    except OSError:
        return None


def read_workbook(path: Path, name: str, kpi_set: KpiSet) -> RawSubmission | list[Problem]:
    """Read one file's metadata and input cells, or return why it cannot be read."""
    try:
        source = describe_source(path, name)
    except OSError as exc:
        return [Problem("read_failed", file=name, params={"detail": exc.strerror or str(exc)})]
    if source.size == 0:
        return [Problem("empty_file", file=name)]
    try:
        workbook = CalamineWorkbook.from_path(str(path))
        try:
            return _read_open_workbook(workbook, source, kpi_set)
        finally:
            workbook.close()
    except PasswordError:
        return [Problem("encrypted_file", file=name)]
    except (CalamineError, ValueError, OSError, zipfile.BadZipFile) as exc:
        detail = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        if "password" in detail.lower() or "encrypt" in detail.lower():
            return [Problem("encrypted_file", file=name)]
        return [Problem("corrupt_file", file=name, params={"detail": detail})]


def _sheet_rows(workbook: CalamineWorkbook, sheet: str) -> list[list[Any]] | None:
    if sheet not in workbook.sheet_names:
        return None
    data = workbook.get_sheet_by_name(sheet)
    rows = data.to_python(skip_empty_area=False)
    return rows


def _read_open_workbook(workbook: CalamineWorkbook, source: SourceFile, kpi_set: KpiSet
                        ) -> RawSubmission | list[Problem]:
    meta_rows = _sheet_rows(workbook, META_SHEET)
    metadata = TemplateMetadata.from_rows(
        (r[0], r[1]) for r in meta_rows if len(r) >= 2) if meta_rows else None
    if metadata is None:
        return [Problem("not_template", file=source.name)]
    problems: list[Problem] = []
    if source.path.suffix.lower() in MACRO_SUFFIXES:
        problems.append(Problem("macro_workbook", file=source.name))
    cells: dict[str, RawCell] = {}
    sheets: dict[str, list[list[Any]] | None] = {}
    key_col = ord(KEY_COLUMN) - ord("A")
    for fld in kpi_set.fields:
        address = metadata.cells.get(fld.id)
        if address is None:
            continue  # a card/template mismatch is reported by the fingerprint check
        sheet, cell = split_address(address)
        if sheet not in sheets:
            sheets[sheet] = _sheet_rows(workbook, sheet)
        rows = sheets[sheet]
        row, col = _cell_index(cell)
        where = dict(file=source.name, province_code=metadata.province_code,
                     district_code=metadata.district_code, field=fld.id)
        if rows is None:
            problems.append(Problem("field_cell_missing", sheet=sheet, cell=cell, **where))
            continue
        if _at(rows, row, key_col) != fld.id:
            moved = next((r for r, values in enumerate(rows) if _at(rows, r, key_col) == fld.id),
                         None)
            if moved is None:
                problems.append(Problem("field_cell_missing", sheet=sheet, cell=cell, **where))
                continue
            new_cell = f"{cell.rstrip('0123456789')}{moved + 1}"
            problems.append(Problem("layout_changed", sheet=sheet, cell=new_cell, **where,
                                    params={"expected": cell, "found": new_cell}))
            row, cell = moved, new_cell
        cells[fld.id] = RawCell(sheet, cell, _at(rows, row, col))
    return RawSubmission(source, metadata, cells, problems)


def _at(rows: list[list[Any]], row: int, col: int) -> Any:
    if row < len(rows) and col < len(rows[row]):
        value = rows[row][col]
        return None if value == "" else value
    return None


def _cell_index(cell: str) -> tuple[int, int]:
    """``D12`` → (11, 3), zero-based."""
    letters = cell.rstrip("0123456789")
    col = 0
    for ch in letters.upper():
        col = col * 26 + ord(ch) - ord("A") + 1
    return int(cell[len(letters):]) - 1, col - 1
