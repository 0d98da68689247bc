"""Binary workbooks bounded before python-calamine opens them (issue 16 item 3): an .xls or .xlsb sheet
declaring more than ``max_sheet_cells`` (one stray value at IV65536 is enough) is refused as
``sheet_too_large`` naming the sheet, as an .ods is, instead of aborting the reader; normal files read as
before, and a damaged workbook stream is corrupt_file, never an exception."""

from __future__ import annotations

import io
import shutil
import struct
import zipfile
from pathlib import Path

import olefile
import pytest
from badfiles import edit_workbook, stray_cell

from cdd_scorer.binary_extents import xls_extents, xlsb_extents
from cdd_scorer.demo import synthetic_answers
from cdd_scorer.filling import fill_template
from cdd_scorer.reading import read_input_file
from cdd_scorer.safety import check_file
from cdd_scorer.template import ENTRY_SHEET, write_templates

XLS_WHOLE_SHEET = "65,536 rows × 256 columns"


@pytest.fixture(scope="module")
def xls(tmp_path_factory, libreoffice, kpi_set, khon_kaen_areas) -> dict[str, Path]:
    """A filled template saved as .xls by LibreOffice, plain and with one value at IV65536."""
    area = khon_kaen_areas[0]
    src = tmp_path_factory.mktemp("xls-src")
    template = write_templates(kpi_set, [area], src / "templates")[0]
    plain = fill_template(template, synthetic_answers(kpi_set, area), src / "plain.xlsx")
    stray = edit_workbook(plain, src / "stray.xlsx", stray_cell(cell="IV65536"))
    out = tmp_path_factory.mktemp("xls-out")
    libreoffice.convert([plain, stray], "xls", out)
    return {"xlsx": plain, "plain": out / "plain.xls", "stray": out / "stray.xls"}


def _patched_stream(source: Path, out: Path, edit) -> Path:
    """``source`` with its Workbook stream edited in place (same length) by ``edit(bytearray)``."""
    shutil.copy(source, out)
    with olefile.OleFileIO(str(out), write_mode=True) as ole:
        stream = bytearray(ole.openstream("Workbook").read())
        edit(stream)
        ole.write_stream("Workbook", bytes(stream))
    return out


def _records(stream: bytes):
    offset = 0
    while offset + 4 <= len(stream):
        kind, length = struct.unpack_from("<HH", stream, offset)
        yield offset, kind
        offset += 4 + length


# ---- .xls

def test_a_normal_xls_declares_small_extents_and_reads_as_before(xls, kpi_set):
    extents = {e.sheet: e for e in xls_extents(xls["plain"].read_bytes(), 50 * 1024 * 1024)}
    assert ENTRY_SHEET in extents and extents[ENTRY_SHEET].cells < 10_000
    assert check_file(xls["plain"], "plain.xls").problem is None
    from_xls = read_input_file(xls["plain"], "plain.xls", kpi_set)
    from_xlsx = read_input_file(xls["xlsx"], "plain.xlsx", kpi_set)
    assert from_xls.problem is None and from_xls.submission.metadata == from_xlsx.submission.metadata
    assert from_xls.submission.cells.keys() == from_xlsx.submission.cells.keys()


def test_a_stray_value_at_iv65536_is_refused_before_calamine(xls, kpi_set):
    problem = check_file(xls["stray"], "stray.xls").problem  # first: were it missed, calamine would abort
    assert problem is not None and problem.code == "sheet_too_large"
    assert problem.params["member"] == ENTRY_SHEET and problem.params["extent"] == XLS_WHOLE_SHEET
    assert read_input_file(xls["stray"], "stray.xls", kpi_set).problem.code == "sheet_too_large"


def test_a_dimensions_record_declaring_the_whole_sheet_is_refused(xls, tmp_path):
    def widen(stream: bytearray) -> None:
        for offset, kind in _records(bytes(stream)):
            if kind == 0x0200:
                struct.pack_into("<IIHH", stream, offset + 4, 0, 65536, 0, 256)

    problem = check_file(_patched_stream(xls["plain"], tmp_path / "wide.xls", widen), "wide.xls").problem
    assert problem.code == "sheet_too_large" and problem.params["extent"] == XLS_WHOLE_SHEET


@pytest.mark.parametrize("damage", ["sheet_offset", "record_length"])
def test_a_damaged_workbook_stream_is_corrupt_file(xls, tmp_path, damage):
    def edit(stream: bytearray) -> None:
        for offset, kind in _records(bytes(stream)):
            if damage == "sheet_offset" and kind == 0x0085:
                struct.pack_into("<I", stream, offset + 4, len(stream) + 100)
                return
            if damage == "record_length" and kind == 0x0085:  # the globals' walk runs off the stream's end
                struct.pack_into("<H", stream, offset + 2, 0xFFFF)
                stream[offset + 4:] = bytes(len(stream) - offset - 4)
                return

    path = _patched_stream(xls["plain"], tmp_path / f"{damage}.xls", edit)
    assert check_file(path, path.name).problem.code == "corrupt_file"


def test_a_compound_file_whose_sectors_are_garbage_is_corrupt_file(xls, tmp_path):
    data = bytearray(xls["plain"].read_bytes())
    data[76:512] = b"\xff" * (512 - 76)  # the header's FAT sector list: nothing points anywhere valid
    path = tmp_path / "garbage.xls"
    path.write_bytes(bytes(data))
    assert check_file(path, path.name).problem.code == "corrupt_file"


# ---- .xlsb: built here (LibreOffice cannot write one)

def _record(kind: int, payload: bytes = b"") -> bytes:
    def varint(value: int) -> bytes:
        out = bytearray()
        while True:
            out.append((value & 0x7F) | (0x80 if value > 0x7F else 0))
            value >>= 7
            if not value:
                return bytes(out)
    return varint(kind) + varint(len(payload)) + payload


def _wide(text: str) -> bytes:
    return struct.pack("<I", len(text)) + text.encode("utf-16-le")


def xlsb(path: Path, last_row: int, last_col: int, sheet: str = "ข้อมูล") -> Path:
    """A minimal .xlsb: one sheet named ``sheet`` whose BrtWsDim spans A1 to (last_row, last_col), 0-based."""
    sheet_bin = (_record(0x0081) + _record(0x0093, bytes(19))
                 + _record(0x0094, struct.pack("<IIII", 0, last_row, 0, last_col)) + _record(0x0082))
    workbook_bin = (_record(0x0083) + _record(0x008F)
                    + _record(0x009C, struct.pack("<II", 0, 1) + _wide("rId1") + _wide(sheet))
                    + _record(0x0090) + _record(0x0084))
    types = ('<?xml version="1.0" encoding="UTF-8"?>'
             '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
             '<Default Extension="bin" ContentType="application/vnd.ms-excel.sheet.binary.macroEnabled.main"/>'
             '<Override PartName="/xl/worksheets/sheet1.bin" '
             'ContentType="application/vnd.ms-excel.worksheet"/></Types>')
    rels = ('<?xml version="1.0" encoding="UTF-8"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            'worksheet" Target="worksheets/sheet1.bin"/></Relationships>')
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", types)
        archive.writestr("xl/workbook.bin", workbook_bin)
        archive.writestr("xl/_rels/workbook.bin.rels", rels)
        archive.writestr("xl/worksheets/sheet1.bin", sheet_bin)
    return path


def _extents(path: Path):
    with zipfile.ZipFile(path) as archive:
        return xlsb_extents(archive.namelist(), archive.open)


def test_an_xlsb_sheet_declares_its_extent_under_its_own_name(tmp_path):
    [small] = _extents(xlsb(tmp_path / "small.xlsb", 29, 9))
    assert (small.sheet, small.describe()) == ("ข้อมูล", "30 rows × 10 columns")
    check = check_file(tmp_path / "small.xlsb", "small.xlsb")
    assert (check.format, check.problem) == ("xlsb", None)


def test_an_xlsb_sheet_spanning_the_whole_grid_is_refused(tmp_path):
    problem = check_file(xlsb(tmp_path / "huge.xlsb", 1_048_575, 16_383), "huge.xlsb").problem
    assert problem.code == "sheet_too_large"
    assert problem.params["member"] == "ข้อมูล" and problem.params["extent"] == "1,048,576 rows × 16,384 columns"


def test_an_xlsb_sheet_part_that_is_not_one_is_corrupt_file(tmp_path):
    path = xlsb(tmp_path / "bad.xlsb", 9, 9)
    with zipfile.ZipFile(path) as archive:
        members = {n: archive.read(n) for n in archive.namelist()}
    members["xl/worksheets/sheet1.bin"] = b"\x81\x01\xff\xff\xff\xff\xff"  # a size field that never ends
    with zipfile.ZipFile(path, "w") as archive:
        for member, data in members.items():
            archive.writestr(member, data)
    assert check_file(path, path.name).problem.code == "corrupt_file"


def test_an_xlsb_without_workbook_names_is_named_by_its_part(tmp_path):
    source = xlsb(tmp_path / "s.xlsb", 1_048_575, 16_383)
    buffer = io.BytesIO()
    with zipfile.ZipFile(source) as archive, zipfile.ZipFile(buffer, "w") as out:
        for member in archive.namelist():
            if member != "xl/_rels/workbook.bin.rels":
                out.writestr(member, archive.read(member))
    path = tmp_path / "unnamed.xlsb"
    path.write_bytes(buffer.getvalue())
    assert check_file(path, path.name).problem.params["member"] == "xl/worksheets/sheet1.bin"
