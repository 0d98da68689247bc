"""Builds, in code, the messy and hostile files a provincial clerk receives, beside good ones.

Nothing here is an opaque binary: each bad file is made from a generated template or from a few lines of
bytes, so a reader of the tests can see what each one is. Also holds the worker hooks the crash tests
inject (top-level functions, because a "spawn" worker imports them by name).
"""

from __future__ import annotations

import io
import os
import random
import struct
import time
import zipfile
import zlib
from collections.abc import Callable
from html import escape
from pathlib import Path

import openpyxl

from cdd_scorer.kpi import KpiSet
from cdd_scorer.metadata import META_SHEET, TemplateMetadata
from cdd_scorer.problems import Problem
from cdd_scorer.reading import FileOutcome, read_input_file
from cdd_scorer.safety import MB, SafetyLimits
from cdd_scorer.template import ENTRY_SHEET
from cdd_scorer.xlsx_xml import xlsx_sheet_part

BILLION_LAUGHS = (b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
                  + b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
                             for i in range(1, 10))
                  + b']>\n<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" '
                    b'uniqueCount="1"><si><t>&lol9;</t></si></sst>')
FAR_APART_SHEET = (b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
                   b'<row r="1"><c r="A1"><v>1</v></c></row>'
                   b'<row r="1048576"><c r="XFD1048576"><v>2</v></c></row></sheetData></worksheet>')
ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
ODS_CONTENT = ('<?xml version="1.0" encoding="UTF-8"?><office:document-content '
               'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
               'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
               'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
               '<office:body><office:spreadsheet>{tables}</office:spreadsheet></office:body></office:document-content>')
# A1 and XFD1048576 as LibreOffice writes them: the empty rows and cells between are two repeated elements.
FAR_APART_TABLE = ('<table:table table:name="Sheet1"><table:table-row>'
                   '<table:table-cell office:value-type="float" office:value="1"><text:p>1</text:p></table:table-cell>'
                   '</table:table-row><table:table-row table:number-rows-repeated="1048574">'
                   '<table:table-cell table:number-columns-repeated="16384"/></table:table-row><table:table-row>'
                   '<table:table-cell table:number-columns-repeated="16383"/><table:table-cell office:value-type='
                   '"float" office:value="2"><text:p>2</text:p></table:table-cell></table:table-row></table:table>')


# ---- byte-level builders

def zip_members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def write_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def replace_members(source: Path, out: Path, **replacements: bytes) -> Path:
    """A copy of a workbook with some zip members replaced (``xl__sharedStrings_xml`` = xl/sharedStrings.xml)."""
    members = zip_members(source)
    for key, data in replacements.items():
        members[key.replace("__", "/").replace("_xml", ".xml")] = data
    return write_zip(out, members)


def with_far_apart_cells(source: Path, out: Path) -> Path:
    """``source`` with its entry sheet holding only A1 and XFD1048576: a few bytes that a dense reader
    turns into a grid of 17 billion cells."""
    with zipfile.ZipFile(source) as archive:
        member = xlsx_sheet_part(archive, ENTRY_SHEET)
    members = zip_members(source)
    members[member] = FAR_APART_SHEET
    return write_zip(out, members)


def far_apart_ods(path: Path, meta: TemplateMetadata | None = None) -> Path:
    """A hand-made .ods whose one sheet holds only A1 and XFD1048576 (a few hundred bytes that a dense
    reader turns into 17 billion cells), with a hidden ``_meta`` table naming ``meta``'s district if given."""
    tables = FAR_APART_TABLE
    if meta is not None:
        rows = "".join(f"<table:table-row>{_ods_text(key)}{_ods_text(value)}</table:table-row>"
                       for key, value in meta.rows())
        tables += f'<table:table table:name="{META_SHEET}">{rows}</table:table>'
    return write_zip(path, {"mimetype": ODS_MIMETYPE, "content.xml": ODS_CONTENT.format(tables=tables).encode()})


def _ods_text(text: str) -> str:
    return f'<table:table-cell office:value-type="string"><text:p>{escape(text)}</text:p></table:table-cell>'


def deflate_bomb_zip(path: Path, template: Path, member: str, megabytes: int) -> Path:
    """``template`` with ``member`` replaced by ``megabytes`` MB of zeros, written without ever holding
    them: one fully flushed deflate block of 1 MB of zeros repeats, so the file stays a few hundred KB."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(bytes(MB)) + compressor.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(megabytes):
        crc = zlib.crc32(bytes(MB), crc)
    members = [(n, zlib.compress(d, 9, wbits=-15), zlib.crc32(d), len(d))
               for n, d in zip_members(template).items() if n != member]
    members.append((member, block * megabytes + b"\x03\x00", crc, megabytes * MB))
    return _write_raw_zip(path, members)


def _write_raw_zip(path: Path, members: list[tuple[str, bytes, int, int]]) -> Path:
    """A zip from already deflated members: (name, deflated bytes, crc32, uncompressed size)."""
    local, central = io.BytesIO(), io.BytesIO()
    for name, data, crc, size in members:
        encoded, offset = name.encode(), local.tell()
        local.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, crc, len(data), size,
                                len(encoded), 0) + encoded + data)
        central.write(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0x21, crc, len(data),
                                  size, len(encoded), 0, 0, 0, 0, 0, offset) + encoded)
    directory = central.getvalue()
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(directory), local.tell(), 0)
    path.write_bytes(local.getvalue() + directory + end)
    return path


def encrypted_ooxml(path: Path) -> Path:
    """What Excel writes for a password-to-open workbook: an OLE2 compound file (not a zip) holding the
    streams EncryptionInfo and EncryptedPackage. Minimal but well-formed: FAT, directory, two streams."""
    end, free, fat_sector, no_stream = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD, 0xFFFFFFFF
    info, package = b"\x04\x00\x04\x00\x40\x00\x00\x00".ljust(4096, b"\0"), os.urandom(4096)
    fat = [fat_sector, end] + list(range(3, 10)) + [end] + list(range(11, 18)) + [end]
    fat_bytes = struct.pack("<128I", *(fat + [free] * (128 - len(fat))))

    def entry(name: str, kind: int, left: int, right: int, child: int, start: int, size: int) -> bytes:
        encoded = (name + "\0").encode("utf-16-le") if name else b""
        return (encoded.ljust(64, b"\0") + struct.pack("<HBBIII", len(encoded), kind, 1, left, right, child)
                + bytes(16 + 4 + 16) + struct.pack("<IQ", start, size))

    directory = (entry("Root Entry", 5, no_stream, no_stream, 1, end, 0)
                 + entry("EncryptionInfo", 2, no_stream, 2, no_stream, 2, len(info))
                 + entry("EncryptedPackage", 2, no_stream, no_stream, no_stream, 10, len(package))
                 + entry("", 0, no_stream, no_stream, no_stream, 0, 0))
    header = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(16)
              + struct.pack("<HHHHH6sIIIIIIIII", 0x3E, 3, 0xFFFE, 9, 6, bytes(6), 0, 1, 1, 0, 4096, end, 0, end, 0)
              + struct.pack("<109I", 0, *([free] * 108)))
    path.write_bytes(header + fat_bytes + directory + info + package)
    return path


def word_docx(path: Path) -> Path:
    return write_zip(path, {
        "[Content_Types].xml": b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
                               b'content-types"><Override PartName="/word/document.xml" ContentType="application/'
                               b'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
        "word/document.xml": b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
                             b"<w:body><w:p><w:r><w:t>report</w:t></w:r></w:p></w:body></w:document>"})


def as_macro_workbook(source: Path, out: Path) -> Path:
    """The same workbook as Excel saves it with a VBA project (.xlsm)."""
    members = zip_members(source)
    members["[Content_Types].xml"] = members["[Content_Types].xml"].replace(
        b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
        b"application/vnd.ms-excel.sheet.macroEnabled.main+xml")
    members["xl/vbaProject.bin"] = b"\xd0\xcf\x11\xe0 not a real VBA project"
    return write_zip(out, members)


# ---- template-level edits, as people make them in Excel

def edit_workbook(source: Path, out: Path, edit: Callable[[openpyxl.Workbook], None]) -> Path:
    wb = openpyxl.load_workbook(source)
    edit(wb)
    wb.save(out)
    return out


def set_meta(**changes: str) -> Callable[[openpyxl.Workbook], None]:
    def edit(wb: openpyxl.Workbook) -> None:
        for key_cell, value_cell in wb[META_SHEET].iter_rows(min_col=1, max_col=2):
            if key_cell.value in changes:
                value_cell.value = changes[key_cell.value]
    return edit


def delete_entry_sheet(wb: openpyxl.Workbook) -> None:
    wb.remove(wb[ENTRY_SHEET])


def rename_entry_sheet(wb: openpyxl.Workbook) -> None:
    wb[ENTRY_SHEET].title = "ข้อมูลอำเภอ"


def insert_rows_at_top(wb: openpyxl.Workbook) -> None:
    wb[ENTRY_SHEET].insert_rows(5, 3)


def stray_cell(sheet: str = ENTRY_SHEET, cell: str = "XFD1048576", value: object = "x"
               ) -> Callable[[openpyxl.Workbook], None]:
    """A Ctrl+End accident: one value typed into ``cell`` (by default the sheet's last)."""
    def edit(wb: openpyxl.Workbook) -> None:
        wb[sheet][cell] = value
    return edit


def with_stray_cell(source: Path, out: Path) -> Path:
    """``source`` with one stray value in the last cell of its entry sheet."""
    return edit_workbook(source, out, stray_cell())


def not_our_template(path: Path) -> Path:
    wb = openpyxl.Workbook()
    wb.active.append(["อำเภอ", "งบประมาณ"])
    wb.active.append(["เมืองขอนแก่น", 2500000])
    wb.save(path)
    return path


# ---- worker hooks (run inside a spawned worker)

def read_or_crash(path: Path, name: str, kpi_set: KpiSet, limits: SafetyLimits
                  ) -> FileOutcome:
    """Reads normally, except: ``crash`` in the name exits the worker abruptly, ``hang`` never returns,
    ``hog`` allocates far beyond the memory limit."""
    if "crash" in name:
        os._exit(70)
    if "hang" in name:
        time.sleep(3600)
    if "hog" in name:
        return FileOutcome.unread(Problem("read_failed", file=name,
                                          params={"detail": str(len(bytearray(4 * 1024 * MB)))}))
    return read_input_file(path, name, kpi_set, limits)


def read_without_safety(path: Path, name: str, kpi_set: KpiSet, limits: SafetyLimits
                        ) -> FileOutcome:
    """Opens the file with calamine with every safety limit lifted: what a hostile file does to a reader
    that trusts it (calamine aborts the process on the far-apart cells of ``FAR_APART_SHEET``)."""
    unlimited = SafetyLimits(max_sheet_cells=10**15)
    return read_input_file(path, name, kpi_set, unlimited)


def which_worker(path: Path, name: str, kpi_set: KpiSet, limits: SafetyLimits) -> FileOutcome:
    """Reads nothing: answers with the id of the worker process it ran in."""
    return FileOutcome.unread(Problem("read_failed", file=name, params={"detail": str(os.getpid())}))


def random_bytes(path: Path, size: int = 4096, seed: int = 2565) -> Path:
    path.write_bytes(random.Random(seed).randbytes(size))
    return path
