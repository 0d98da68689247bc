"""What a file really holds, told from its bytes: a spreadsheet format, or what it is instead.

A PDF or a Word file renamed .xlsx, an HTML page saved as .xls, a CSV export, an encrypted Office file
(an OLE2 compound file, not a zip) — each is named for what it is, so the clerk can ask for the right
file. Nothing here parses a spreadsheet: the first bytes, an OLE2 directory's entry names, and a zip's
``[Content_Types].xml`` or ``mimetype`` are enough.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from defusedxml import ElementTree

from cdd_scorer.cell_refs import SheetExtent
from cdd_scorer.problems import Problem

if TYPE_CHECKING:
    from cdd_scorer.safety import FileContent

SpreadsheetFormat = Literal["xlsx", "xlsb", "xls", "ods"]
OLE2_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_SIGNATURES = (b"PK\x03\x04", b"PK\x05\x06")
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
ODF_SPREADSHEET = "application/vnd.oasis.opendocument.spreadsheet"
_ODF_OTHER = {"text": ("เอกสาร Writer/ODT", "an OpenDocument text"),
              "presentation": ("งานนำเสนอ Impress", "an OpenDocument presentation")}


@dataclass(frozen=True)
class FileCheck:
    """What a file really is, and the problem that forbids opening it (``None`` = safe to open).
    ``huge_sheets`` are the .xlsx worksheets whose cells span more than a grid reader may allocate: safe
    to read, but only by streaming them."""

    format: SpreadsheetFormat | None
    has_macros: bool = False
    problem: Problem | None = None
    huge_sheets: tuple[SheetExtent, ...] = ()


def refuse(code: str, name: str, **params: object) -> FileCheck:
    """A check that forbids opening the file ``name``, with the problem saying why."""
    return FileCheck(None, problem=Problem(code, file=name, params=params))


def disguised(name: str, path: Path, kind_th: str, kind_en: str) -> FileCheck:
    """A file named like a spreadsheet that holds something else (``kind_*``)."""
    return refuse("not_spreadsheet_content", name, suffix=path.suffix or "-", kind_th=kind_th, kind_en=kind_en)


def check_other(head: bytes, path: Path, name: str) -> FileCheck:
    """A file that is neither OLE2 nor zip: never a workbook this reader opens; say what it is."""
    kind = _sniff_other(head)
    if kind is None:
        return refuse("corrupt_file", name, detail="not a recognised spreadsheet format")
    return disguised(name, path, *kind)


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


def check_ole2(data: bytes, path: Path, name: str) -> FileCheck:
    """An OLE2 compound file: an .xls workbook, an encrypted Office file, or another Office document."""
    names = ole2_stream_names(data)
    if "EncryptedPackage" in names or "EncryptionInfo" in names:
        return refuse("encrypted_file", name)
    if names & {"Workbook", "Book"}:
        return FileCheck("xls", has_macros=bool(names & {"_VBA_PROJECT_CUR", "VBA"}))
    if "WordDocument" in names:
        return disguised(name, path, "เอกสาร Word (.doc)", "a Word document (.doc)")
    if "PowerPoint Document" in names:
        return disguised(name, path, "งานนำเสนอ PowerPoint (.ppt)", "a PowerPoint presentation (.ppt)")
    return refuse("corrupt_file", name, detail="an Office compound file without a workbook")


# ---- zip: .xlsx, .xlsm, .xlsb, .ods, or another zip-based document

def zip_format(content: FileContent, path: Path, name: str) -> FileCheck:
    """What a zip that passed the safety checks holds, from its content types or ODF mimetype."""
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
                return disguised(name, path, *kind)
        return disguised(name, path, "เอกสาร Office ชนิดอื่น", "another kind of Office document")
    if "mimetype" in names:
        mimetype = content.read("mimetype")[:200].decode("ascii", "replace").strip()
        if mimetype == ODF_SPREADSHEET:
            return FileCheck("ods", has_macros=any(n.startswith("Basic/") for n in names))
        kind = next((k for marker, k in _ODF_OTHER.items() if mimetype.endswith(marker)), None)
        return disguised(name, path, *(kind or ("เอกสาร OpenDocument ชนิดอื่น", "another OpenDocument file")))
    return disguised(name, path, "ไฟล์ zip", "a zip archive")
