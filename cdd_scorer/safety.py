"""Checking an untrusted file before any parser opens it.

Files come back by e-mail from hundreds of offices: a few are damaged, renamed or hostile. ``check_file``
looks at the bytes only (never a spreadsheet parser): the size, what the content really is (a PDF or a
Word file renamed .xlsx, an HTML page saved as .xls, an encrypted Office file), the zip structure (member
count, declared and real uncompressed sizes, compression ratio, nested archives), XML entity declarations,
and how far apart the cells of each sheet are (a dense sheet grid is what a native reader allocates).
Every limit is in ``SafetyLimits``: generous for real templates (a filled one is about 20 KB), tight
enough that a hostile file is refused before it costs memory.

``open_checked`` reads the file once and hands the reader what the checks already hold (the bytes, the open
zip archive, the XML parts they decompressed), so a file is opened and inflated once per run.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException

from cdd_scorer.problems import Problem

MB = 1024 * 1024
SpreadsheetFormat = Literal["xlsx", "xlsb", "xls", "ods"]
OLE2_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_SIGNATURES = (b"PK\x03\x04", b"PK\x05\x06")
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
_MAIN_TYPES: dict[str, SpreadsheetFormat] = {
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": "xlsx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml": "xlsx",
    "application/vnd.ms-excel.sheet.macroEnabled.main+xml": "xlsx",
    "application/vnd.ms-excel.template.macroEnabled.main+xml": "xlsx",
    "application/vnd.ms-excel.sheet.binary.macroEnabled.main": "xlsb",
}
_OTHER_OFFICE_TYPES = {
    "wordprocessingml": ("เอกสาร Word", "a Word document"),
    "presentationml": ("งานนำเสนอ PowerPoint", "a PowerPoint presentation"),
}
_ODF_SPREADSHEET = "application/vnd.oasis.opendocument.spreadsheet"
_ODF_OTHER = {"text": ("เอกสาร Writer/ODT", "an OpenDocument text"),
              "presentation": ("งานนำเสนอ Impress", "an OpenDocument presentation")}


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


@dataclass(frozen=True)
class FileCheck:
    """What a file really is, and the problem that forbids opening it (``None`` = safe to open)."""

    format: SpreadsheetFormat | None
    has_macros: bool = False
    problem: Problem | None = None


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
        return _refuse("read_failed", name, detail=exc.strerror or str(exc)), None
    if size == 0:
        return _refuse("empty_file", name), None
    if size > limits.max_file_bytes:
        return _refuse("file_too_large", name, size=_megabytes(size), limit=_megabytes(limits.max_file_bytes)), None
    if data.startswith(OLE2_SIGNATURE):
        check = _check_ole2(data, path, name)
        return check, (FileContent(data) if check.problem is None else None)
    if data.startswith(ZIP_SIGNATURES):
        return _check_zip(data, path, name, limits)
    return _check_other(data[:4096], path, name), None


def _check_other(head: bytes, path: Path, name: str) -> FileCheck:
    kind = _sniff_other(head)
    if kind is None:
        return _refuse("corrupt_file", name, detail="not a recognised spreadsheet format")
    return _disguised(name, path, *kind)


def _refuse(code: str, name: str, **params: object) -> FileCheck:
    return FileCheck(None, problem=Problem(code, file=name, params=params))


def _disguised(name: str, path: Path, kind_th: str, kind_en: str) -> FileCheck:
    return _refuse("not_spreadsheet_content", name, suffix=path.suffix or "-", kind_th=kind_th, kind_en=kind_en)


def _megabytes(size: int) -> str:
    return f"{size / MB:,.1f} MB"


def _sniff_other(head: bytes) -> tuple[str, str] | None:
    """What a file that is neither OLE2 nor zip holds, from its first bytes."""
    if head.startswith(b"%PDF"):
        return "ไฟล์ PDF", "a PDF file"
    if head[:4] in (b"\x89PNG", b"GIF8") or head.startswith(b"\xff\xd8\xff"):
        return "ไฟล์รูปภาพ", "an image"
    if head.startswith((b"Rar!", b"7z\xbc\xaf", b"\x1f\x8b")):
        return "ไฟล์บีบอัด", "a compressed archive"
    text = _as_text(head)
    if text is None:
        return None
    lowered = text.lstrip().lower()
    if "urn:schemas-microsoft-com:office:spreadsheet" in lowered:
        return "ไฟล์ XML Spreadsheet 2003", "an Excel 2003 XML spreadsheet"
    if lowered.startswith(("<!doctype html", "<html", "<table", "<meta", "<head")) or "<html" in lowered[:1000]:
        return "หน้าเว็บ (HTML)", "a web page (HTML)"
    if lowered.startswith(("{\\rtf",)):
        return "เอกสาร RTF", "an RTF document"
    if _looks_like_csv(text):
        return "ไฟล์ข้อความ CSV", "a CSV text file"
    return "ไฟล์ข้อความ", "a plain text file"


def _looks_like_csv(text: str) -> bool:
    """The same separator, the same number of times, on the first full lines."""
    lines = [line for line in text.splitlines()[:-1] if line.strip()][:5] or text.splitlines()[:1]
    return any(len({line.count(sep) for line in lines}) == 1 and lines[0].count(sep) > 0
               for sep in (",", "\t", ";"))


def _as_text(head: bytes) -> str | None:
    for encoding in ("utf-8-sig", "utf-16", "cp874"):
        try:
            text = head.decode(encoding)
        except UnicodeDecodeError:
            continue
        if text and sum(ch.isprintable() or ch in "\r\n\t" for ch in text) >= 0.95 * len(text):
            return text
    return None


# ---- OLE2 / Compound File Binary: .xls, and encrypted OOXML (EncryptedPackage)

def ole2_stream_names(data: bytes) -> set[str]:
    """Names in a compound file's directory, found by scanning its 128-byte directory entries."""
    names = set()
    for offset in range(512, len(data) - 127, 128):
        entry = data[offset:offset + 128]
        length, kind = int.from_bytes(entry[64:66], "little"), entry[66]
        if kind in (1, 2, 5) and 2 <= length <= 64 and length % 2 == 0:
            raw = entry[:length - 2]
            if raw and entry[length - 2:length] == b"\0\0":
                try:
                    names.add(raw.decode("utf-16-le"))
                except UnicodeDecodeError:
                    continue
    return names


def _check_ole2(data: bytes, path: Path, name: str) -> FileCheck:
    names = ole2_stream_names(data)
    if "EncryptedPackage" in names or "EncryptionInfo" in names:
        return _refuse("encrypted_file", name)
    if names & {"Workbook", "Book"}:
        return FileCheck("xls", has_macros=bool(names & {"_VBA_PROJECT_CUR", "VBA"}))
    if "WordDocument" in names:
        return _disguised(name, path, "เอกสาร Word (.doc)", "a Word document (.doc)")
    if "PowerPoint Document" in names:
        return _disguised(name, path, "งานนำเสนอ PowerPoint (.ppt)", "a PowerPoint presentation (.ppt)")
    return _refuse("corrupt_file", name, detail="an Office compound file without a workbook")


# ---- zip: .xlsx, .xlsm, .ods

def _check_zip(data: bytes, path: Path, name: str, limits: SafetyLimits) -> tuple[FileCheck, FileContent | None]:
    content = FileContent(data)
    check = _zip_check(content, path, name, limits)
    if check.problem is not None:
        content.close()
        return check, None
    return check, content


def _zip_check(content: FileContent, path: Path, name: str, limits: SafetyLimits) -> FileCheck:
    try:
        content.archive = archive = zipfile.ZipFile(io.BytesIO(content.data))
        members = archive.infolist()
        problem = (_zip_structure_problem(members, limits)
                   or _zip_content_problem(archive, members, limits, content.parts))
        if problem:
            return _refuse(problem[0], name, **problem[1])
        return _zip_format(content, path, name)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, NotImplementedError,
            ValueError) as exc:
        return _refuse("corrupt_file", name, detail=f"damaged zip archive: {str(exc)[:120] or type(exc).__name__}")
    except DefusedXmlException:
        return _refuse("xml_entities", name, member="[Content_Types].xml")
    except ElementTree.ParseError as exc:
        return _refuse("corrupt_file", name, detail=f"damaged [Content_Types].xml: {exc}")


Finding = tuple[str, dict[str, object]]


def _zip_structure_problem(members: list[zipfile.ZipInfo], limits: SafetyLimits) -> Finding | None:
    """Limits that the central directory alone can show: nothing is decompressed yet."""
    if len(members) > limits.max_zip_members:
        return "decompression_bomb", {"detail": f"{len(members)} members (limit {limits.max_zip_members})"}
    total = 0
    for member in members:
        total += member.file_size
        if member.file_size > limits.max_member_bytes:
            return "decompression_bomb", {"detail": f"{member.filename} declares {_megabytes(member.file_size)}"}
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > limits.ratio_applies_above_bytes and ratio > limits.max_compression_ratio:
            return "decompression_bomb", {"detail": f"{member.filename} is compressed {ratio:,.0f}:1"}
        if member.filename.lower().endswith(_ARCHIVE_SUFFIXES) and "/embeddings/" not in member.filename:
            return "unsafe_file", {"detail": f"nested archive {member.filename}"}
    if total > limits.max_total_bytes:
        return "decompression_bomb", {"detail": f"{_megabytes(total)} uncompressed in total"}
    return None


def _zip_content_problem(archive: zipfile.ZipFile, members: list[zipfile.ZipInfo], limits: SafetyLimits,
                         kept: dict[str, bytes]) -> Finding | None:
    """Decompress every member as a stream (never more than it declares, CRC checked) and scan XML parts
    for entity declarations and worksheets for the extent of their cells. XML parts that fit in one chunk
    are kept in ``kept`` (up to a few MB in all) for the reader."""
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
        if extent and extent.cells > limits.max_sheet_cells:
            return "sheet_too_large", {"member": member.filename, "extent": extent.describe(),
                                       "limit": f"{limits.max_sheet_cells:,}"}
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
    """The rectangle spanned by the cell references of one worksheet (what a dense reader allocates)."""

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

    @property
    def height(self) -> int:
        return max(0, self.last_row - self.first_row + 1)

    @property
    def width(self) -> int:
        return max(0, self.last_col - self.first_col + 1)

    @property
    def cells(self) -> int:
        return self.height * self.width

    def describe(self) -> str:
        return f"{self.height:,} rows × {self.width:,} columns"


def column_number(letters: str) -> int:
    """``A`` → 1, ``AB`` → 28."""
    number = 0
    for ch in letters.upper():
        number = number * 26 + ord(ch) - ord("A") + 1
    return number


def _zip_format(content: FileContent, path: Path, name: str) -> FileCheck:
    names = set(content.archive.namelist())
    if "[Content_Types].xml" in names:
        root = ElementTree.fromstring(content.read("[Content_Types].xml"))
        types = {el.get("ContentType", "") for el in root}
        macros = any("macroEnabled" in t for t in types) or any(n.endswith("vbaProject.bin") for n in names)
        found = next((_MAIN_TYPES[t] for t in types if t in _MAIN_TYPES), None)
        if found:
            return FileCheck(found, has_macros=macros)
        for marker, kind in _OTHER_OFFICE_TYPES.items():
            if any(marker in t for t in types):
                return _disguised(name, path, *kind)
        return _disguised(name, path, "เอกสาร Office ชนิดอื่น", "another kind of Office document")
    if "mimetype" in names:
        mimetype = content.read("mimetype")[:200].decode("ascii", "replace").strip()
        if mimetype == _ODF_SPREADSHEET:
            return FileCheck("ods", has_macros=any(n.startswith("Basic/") for n in names))
        kind = next((k for marker, k in _ODF_OTHER.items() if mimetype.endswith(marker)), None)
        return _disguised(name, path, *(kind or ("เอกสาร OpenDocument ชนิดอื่น", "another OpenDocument file")))
    return _disguised(name, path, "ไฟล์ zip", "a zip archive")
