"""The limits a zip-based workbook (.xlsx, .xlsm, .ods) must keep before a reader inflates it.

The central directory alone shows the member count, the declared sizes, the compression ratios and
nested archives; then every member is inflated as a stream (never more than it declares, CRC checked)
and its XML is scanned for entity declarations, and each worksheet for the extent of its cells (a dense
sheet grid is what a native reader allocates: a worksheet spanning more than ``max_sheet_cells`` is
listed, for the reader to stream instead of opening it as a grid). Every limit is in ``SafetyLimits``:
generous for real templates (a filled one is about 20 KB), tight enough that a hostile file is refused
before it costs memory.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass

from cdd_scorer.cell_refs import SheetExtent, column_number

MB = 1024 * 1024
_CHUNK = 1024 * 1024
_OVERLAP = 64
_KEPT_PARTS_BYTES = 8 * MB
_XML_SUFFIXES = (".xml", ".rels", ".vml")
_ARCHIVE_SUFFIXES = (".zip", ".xlsx", ".xlsm", ".docx", ".pptx", ".ods", ".odt", ".jar", ".gz", ".7z", ".rar")
_DECLARATIONS = re.compile(b"|".join(
    re.escape(word.encode(enc)) for word in ("<!DOCTYPE", "<!ENTITY")
    for enc in ("ascii", "utf-16-le", "utf-16-be")), re.IGNORECASE)
# Any r="B12" attribute, not only a <c> element's: the literal start makes it twice as fast, and a stray
# match can only widen the extent, never hide a cell.
_CELL_REF = re.compile(rb"r=\"([A-Z]{1,3})([0-9]{1,7})\"")
_WORKSHEET = re.compile(r"xl/worksheets/[^/]+\.xml")


@dataclass(frozen=True)
class SafetyLimits:
    """How much an input file may hold before it is refused unopened."""

    max_file_bytes: int = 50 * MB
    max_zip_members: int = 2000
    max_member_bytes: int = 100 * MB
    max_total_bytes: int = 200 * MB
    max_compression_ratio: float = 100.0
    ratio_applies_above_bytes: int = 1 * MB
    max_sheet_cells: int = 5_000_000


DEFAULT_LIMITS = SafetyLimits()
Finding = tuple[str, dict[str, object]]  # a problem code and its parameters


def megabytes(size: int) -> str:
    """A size as messages quote it: ``12.3 MB``."""
    return f"{size / MB:,.1f} MB"


def structure_problem(members: list[zipfile.ZipInfo], limits: SafetyLimits) -> Finding | None:
    """Limits that the central directory alone can show: nothing is decompressed yet."""
    if len(members) > limits.max_zip_members:
        return "decompression_bomb", {"detail": f"{len(members)} members (limit {limits.max_zip_members})"}
    total = 0
    for member in members:
        total += member.file_size
        if found := member_problem(member, limits):
            return found
        if member.filename.lower().endswith(_ARCHIVE_SUFFIXES) and "/embeddings/" not in member.filename:
            return "unsafe_file", {"detail": f"nested archive {member.filename}"}
    if total > limits.max_total_bytes:
        return "decompression_bomb", {"detail": f"{megabytes(total)} uncompressed in total"}
    return None


def member_problem(member: zipfile.ZipInfo, limits: SafetyLimits) -> Finding | None:
    """The limits one member's directory entry shows: its declared size and its compression ratio (zipfile
    never inflates a member beyond its declared size)."""
    if member.file_size > limits.max_member_bytes:
        return "decompression_bomb", {"detail": f"{member.filename} declares {megabytes(member.file_size)}"}
    ratio = member.file_size / max(member.compress_size, 1)
    if member.file_size > limits.ratio_applies_above_bytes and ratio > limits.max_compression_ratio:
        return "decompression_bomb", {"detail": f"{member.filename} is compressed {ratio:,.0f}:1"}
    return None


def content_problem(archive: zipfile.ZipFile, members: list[zipfile.ZipInfo], limits: SafetyLimits,
                    kept: dict[str, bytes], huge: list[SheetExtent]) -> Finding | None:
    """Decompress every member as a stream (never more than it declares, CRC checked) and scan XML parts
    for entity declarations and worksheets for the extent of their cells. XML parts that fit in one chunk
    are kept in ``kept`` (up to a few MB in all) for the reader; worksheets whose cells span more than
    ``limits.max_sheet_cells`` are listed in ``huge``."""
    room = _KEPT_PARTS_BYTES
    for member in members:
        if member.is_dir():
            continue
        is_xml = member.filename.lower().endswith(_XML_SUFFIXES)
        extent = _Extent() if _WORKSHEET.fullmatch(member.filename) else None
        with archive.open(member) as stream:
            tail, chunks = b"", 0
            while chunk := stream.read(_CHUNK):
                window, chunks = tail + chunk, chunks + 1
                if is_xml and _may_declare(window) and _DECLARATIONS.search(window):
                    return "xml_entities", {"member": member.filename}
                if extent:
                    extent.update(window)
                tail = window[-_OVERLAP:]
        if is_xml and chunks == 1 and len(window) <= room:
            kept[member.filename] = window
            room -= len(window)
        spanned = extent.spanned(member.filename) if extent else None
        if spanned and spanned.cells > limits.max_sheet_cells:
            huge.append(spanned)
    return None


def _may_declare(window: bytes) -> bool:
    """Whether ``window`` holds ``<!`` in ASCII or UTF-16 (``<\\0!`` both ways round): a fast byte search
    that spares the declarations' case-blind regular expression almost every part."""
    at = window.find(b"!")
    while at >= 0:
        if window[at - 1:at] == b"<" or window[at - 2:at] == b"<\0":
            return True
        at = window.find(b"!", at + 1)
    return False


class _Extent:
    """The rectangle spanned by the cell references of one worksheet, as they stream past."""

    def __init__(self) -> None:
        self.first_row = self.first_col = 10**9
        self.last_row = self.last_col = 0

    def update(self, window: bytes) -> None:
        refs = _CELL_REF.findall(window)
        if refs:
            rows = [int(digits) for _, digits in refs]
            cols = [column_number(letters.decode()) for letters in {letters for letters, _ in refs}]
            self.first_row, self.last_row = min(self.first_row, min(rows)), max(self.last_row, max(rows))
            self.first_col, self.last_col = min(self.first_col, min(cols)), max(self.last_col, max(cols))

    def spanned(self, sheet: str) -> SheetExtent:
        return SheetExtent(sheet, self.first_row, self.last_row, self.first_col, self.last_col)
