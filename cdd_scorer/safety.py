"""Checking an untrusted file before any parser opens it.

Files come back by e-mail from hundreds of offices: a few are damaged, renamed or hostile. ``check_file``
looks at the bytes only (never a spreadsheet parser): the size, what the content really is
(``file_formats``: a PDF or a Word file renamed .xlsx, an HTML page saved as .xls, an encrypted Office
file), and for a zip the limits of ``zip_checks`` (member count, declared and real uncompressed sizes,
compression ratio, nested archives, XML entity declarations, and how far apart the cells of each sheet
are: a dense sheet grid is what a native reader allocates). An .xlsx whose sheet spans too far is still
safe to read by streaming (``FileCheck.huge_sheets``); an .ods, .xlsb or .xls one is refused
(``sheet_too_large``: ``binary_extents`` reads the extent each binary sheet declares).
A refused archive's problem names the district of its hidden ``_meta`` sheet when that sheet alone can be
read safely (``identity``).

``open_checked`` reads the file once and hands the reader what the checks already hold (the bytes, the open
zip archive, the XML parts they decompressed), so a file is opened and inflated once per run.
"""

from __future__ import annotations

import dataclasses
import io
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException

from cdd_scorer.binary_extents import xls_extents, xlsb_extents
from cdd_scorer.cell_refs import SheetExtent
from cdd_scorer.file_formats import (
    OLE2_SIGNATURE,
    ZIP_SIGNATURES,
    FileCheck,
    SpreadsheetFormat,
    check_ole2,
    check_other,
    ole2_stream_names,
    refuse,
    zip_format,
)
from cdd_scorer.identity import attributed
from cdd_scorer.ods_xml import CONTENT, ods_extents
from cdd_scorer.zip_checks import (
    DEFAULT_LIMITS,
    MB,
    SafetyLimits,
    content_problem,
    megabytes,
    structure_problem,
)

# What other modules import from here: the checks' results and limits, and the signatures they look for.
__all__ = ["DEFAULT_LIMITS", "MB", "OLE2_SIGNATURE", "ZIP_SIGNATURES", "FileCheck", "FileContent", "SafetyLimits",
           "SpreadsheetFormat", "check_file", "ole2_stream_names", "open_checked"]


@dataclass
class FileContent:
    """A file's bytes, read once; for a zip, its archive open over them and the XML parts the checks
    already decompressed."""

    data: bytes
    archive: zipfile.ZipFile | None = None
    parts: dict[str, bytes] = field(default_factory=dict)

    def read(self, member: str) -> bytes:
        """A member of the archive (``KeyError`` when it has none)."""
        if member in self.parts:
            return self.parts[member]
        if self.archive is None:
            raise KeyError(member)
        return self.archive.read(member)

    def open(self, member: str) -> IO[bytes]:
        """A member of the archive as a stream: the bytes the checks kept, else inflated as it is read."""
        if member in self.parts:
            return io.BytesIO(self.parts[member])
        if self.archive is None:
            raise KeyError(member)
        return self.archive.open(member)

    def close(self) -> None:
        if self.archive is not None:
            self.archive.close()


def check_file(path: Path, name: str, limits: SafetyLimits = DEFAULT_LIMITS) -> FileCheck:
    """Look at ``path`` without parsing it as a spreadsheet; ``name`` is how messages call it."""
    check, content = open_checked(path, name, limits)
    if content is not None:
        content.close()
    return check


def open_checked(path: Path, name: str, limits: SafetyLimits = DEFAULT_LIMITS
                 ) -> tuple[FileCheck, FileContent | None]:
    """``check_file``, keeping what it read: the content comes back when the file is safe to open, and the
    caller closes it."""
    try:
        size = path.stat().st_size
        if size <= limits.max_file_bytes:
            with path.open("rb") as stream:
                data = stream.read(limits.max_file_bytes + 1)  # it may have grown since stat()
            size = len(data)
    except OSError as exc:
        return refuse("read_failed", name, detail=exc.strerror or str(exc)), None
    if size == 0:
        return refuse("empty_file", name), None
    if size > limits.max_file_bytes:
        return refuse("file_too_large", name, size=megabytes(size), limit=megabytes(limits.max_file_bytes)), None
    if data.startswith(OLE2_SIGNATURE):
        check = check_ole2(data, path, name)
        if check.format == "xls":
            check = _bounded_xls(check, data, name, limits)
        return check, (FileContent(data) if check.problem is None else None)
    if data.startswith(ZIP_SIGNATURES):
        return _check_zip(data, path, name, limits)
    return check_other(data[:4096], path, name), None


def _bounded_xls(check: FileCheck, data: bytes, name: str, limits: SafetyLimits) -> FileCheck:
    """An .xls whose worksheets declare more than ``max_sheet_cells`` is refused, as an .ods is: calamine
    would allocate the grid and abort."""
    try:
        extents = xls_extents(data, limits.max_file_bytes)
    except ValueError as exc:
        return refuse("corrupt_file", name, detail=f"damaged .xls workbook: {str(exc)[:120]}")
    return _refused_if_huge(check, [e for e in extents if e.cells > limits.max_sheet_cells], name, limits)


def _refused_if_huge(check: FileCheck, huge: list[SheetExtent], name: str, limits: SafetyLimits) -> FileCheck:
    if not huge:
        return check
    return refuse("sheet_too_large", name, member=huge[0].sheet, extent=huge[0].describe(),
                  limit=f"{limits.max_sheet_cells:,}")


# ---- zip: .xlsx, .xlsm, .xlsb, .ods

def _check_zip(data: bytes, path: Path, name: str, limits: SafetyLimits) -> tuple[FileCheck, FileContent | None]:
    """A refused archive's problem names its district when its ``_meta`` sheet can still be read safely."""
    content = FileContent(data)
    check = _zip_check(content, path, name, limits)
    if check.problem is not None:
        check = dataclasses.replace(check, problem=attributed(check.problem, content.archive, limits))
        content.close()
        return check, None
    return check, content


def _zip_check(content: FileContent, path: Path, name: str, limits: SafetyLimits) -> FileCheck:
    """An .xlsx whose sheets span too far is read by streaming them (``huge_sheets``); an .ods is refused."""
    huge: list[SheetExtent] = []
    try:
        content.archive = archive = zipfile.ZipFile(io.BytesIO(content.data))
        members = archive.infolist()
        problem = (structure_problem(members, limits)
                   or content_problem(archive, members, limits, content.parts, huge))
        if problem:
            return refuse(problem[0], name, **problem[1])
        check = zip_format(content, path, name)
        if check.format == "ods":
            huge = _huge_ods_tables(content, limits)
        elif check.format == "xlsb":
            huge = [e for e in xlsb_extents([m.filename for m in members], content.open)
                    if e.cells > limits.max_sheet_cells]
        if check.problem is not None or not huge:
            return check
        if check.format != "xlsx":
            return _refused_if_huge(check, huge, name, limits)
        return dataclasses.replace(check, huge_sheets=tuple(huge))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, NotImplementedError,
            ValueError) as exc:
        return refuse("corrupt_file", name, detail=f"damaged zip archive: {str(exc)[:120] or type(exc).__name__}")
    except DefusedXmlException:
        return refuse("xml_entities", name, member="[Content_Types].xml")
    except ElementTree.ParseError as exc:
        return refuse("corrupt_file", name, detail=f"damaged [Content_Types].xml: {exc}")


def _huge_ods_tables(content: FileContent, limits: SafetyLimits) -> list[SheetExtent]:
    """The tables of an .ods whose cells span more than ``max_sheet_cells`` (calamine reads every table when
    it opens the file). A content.xml that cannot be parsed is left for the reader to report as damaged."""
    try:
        extents = ods_extents(content.open(CONTENT))
    except (KeyError, ValueError, ElementTree.ParseError):
        return []
    return [extent for extent in extents if extent.cells > limits.max_sheet_cells]
