"""How far the cells of a binary workbook's sheets reach, read from the extent each sheet declares.

python-calamine allocates a dense grid for a sheet and aborts the whole process when it cannot; a few bytes
of hostile or accidental data (one value at IV65536 in an .xls) are enough. Both binary formats declare
each sheet's extent near the start of its records, so the check reads little:

- .xls (BIFF8, or BIFF5 in a "Book" stream, inside an OLE2 compound file): the workbook globals'
  BOUNDSHEET records give each sheet's name and where its substream starts; the substream's DIMENSIONS
  record gives its extent. Nothing after the DIMENSIONS record of a sheet is read.
- .xlsb (a zip): each ``xl/worksheets/*.bin`` part starts with BrtBeginSheet and, within its first few
  records, BrtWsDim. Sheet names come from ``xl/workbook.bin``'s BrtBundleSh records and their relationships.

A stream whose records run past its end raises ``ValueError``: the file is damaged.
"""

from __future__ import annotations

import io
import posixpath
import struct
from collections.abc import Callable
from typing import IO

import olefile
from defusedxml import ElementTree

from cdd_scorer.cell_refs import SheetExtent

# BIFF record types
_BOF, _EOF, _FILEPASS, _BOUNDSHEET, _DIMENSIONS = 0x0809, 0x000A, 0x002F, 0x0085, 0x0200
_WORKSHEET = 0  # BOUNDSHEET's sheet type: 0 a worksheet (others: macro sheet, chart, VB module)
_MAX_SHEET_RECORDS = 10_000  # DIMENSIONS comes a few records after a sheet's BOF
# XLSB record types
_BRT_BEGIN_SHEET, _BRT_WS_DIM, _BRT_BUNDLE_SH, _BRT_END_BUNDLE_SHS = 0x0081, 0x0094, 0x009C, 0x0090
_XLSB_HEAD_RECORDS = 16
_XLSB_WORKBOOK_BYTES = 1024 * 1024
_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"


# ---- .xls

def xls_extents(data: bytes, max_stream_bytes: int) -> list[SheetExtent]:
    """The extent each worksheet of an .xls declares. ``ValueError`` when the compound file or its workbook
    stream is damaged, or the stream declares more than ``max_stream_bytes``."""
    try:
        with olefile.OleFileIO(io.BytesIO(data)) as ole:
            stream_name = next((n for n in ("Workbook", "Book") if ole.exists(n)), None)
            if stream_name is None:
                raise ValueError("no Workbook stream")
            if ole.get_size(stream_name) > max_stream_bytes:
                raise ValueError("the Workbook stream is larger than the file")
            stream = ole.openstream(stream_name).read()
    except ValueError:
        raise
    except Exception as exc:  # olefile parses hostile bytes: any failure means a damaged compound file
        raise ValueError(f"damaged compound file: {str(exc)[:100] or type(exc).__name__}") from exc
    return _biff_extents(stream)


def _biff_records(stream: bytes, offset: int):
    """(type, payload) of each BIFF record from ``offset`` on."""
    while offset + 4 <= len(stream):
        kind, length = struct.unpack_from("<HH", stream, offset)
        payload = stream[offset + 4:offset + 4 + length]
        if len(payload) < length:
            raise ValueError(f"BIFF record 0x{kind:04X} at {offset} runs past the stream's end")
        yield kind, payload
        offset += 4 + length


def _biff_extents(stream: bytes) -> list[SheetExtent]:
    records = _biff_records(stream, 0)
    first = next(records, None)
    if first is None or first[0] != _BOF or len(first[1]) < 2:
        raise ValueError("the Workbook stream does not start with a BOF record")
    biff8 = struct.unpack_from("<H", first[1])[0] >= 0x0600
    sheets: list[tuple[int, str]] = []
    for kind, payload in records:
        if kind == _FILEPASS:
            return []  # encrypted: sheet records are unreadable here, and the reader refuses the file anyway
        if kind == _BOUNDSHEET and len(payload) >= 8 and payload[5] == _WORKSHEET:
            sheets.append((struct.unpack_from("<I", payload)[0], _sheet_name(payload[6:], biff8)))
        if kind == _EOF:
            break
    else:
        raise ValueError("the workbook globals end without an EOF record")
    return [extent for position, sheet in sheets if (extent := _dimensions(stream, position, sheet))]


def _sheet_name(raw: bytes, biff8: bool) -> str:
    """A BOUNDSHEET's name: a byte count and 8-bit characters (BIFF5), or a character count, a flag byte
    and 8- or 16-bit characters (BIFF8)."""
    count = raw[0]
    if not biff8:
        return raw[1:1 + count].decode("cp1252", "replace")
    if len(raw) >= 2 and raw[1] & 1:
        return raw[2:2 + 2 * count].decode("utf-16-le", "replace")
    return raw[2:2 + count].decode("latin-1")


def _dimensions(stream: bytes, position: int, sheet: str) -> SheetExtent | None:
    """The DIMENSIONS of the substream at ``position`` (None when the sheet declares none)."""
    if not 0 <= position <= len(stream) - 4 or struct.unpack_from("<H", stream, position)[0] != _BOF:
        raise ValueError(f"sheet {sheet!r} does not start at a BOF record")
    for count, (kind, payload) in enumerate(_biff_records(stream, position)):
        if kind == _DIMENSIONS:
            if len(payload) >= 14:  # BIFF8: rows u32, columns u16
                first_row, end_row, first_col, end_col = struct.unpack_from("<IIHH", payload)
            elif len(payload) >= 8:  # BIFF5 and older: rows u16
                first_row, end_row, first_col, end_col = struct.unpack_from("<HHHH", payload)
            else:
                raise ValueError(f"sheet {sheet!r} has a short DIMENSIONS record")
            return SheetExtent(sheet, first_row + 1, end_row, first_col + 1, end_col)
        if (kind == _EOF and count) or count > _MAX_SHEET_RECORDS:
            return None
    return None


# ---- .xlsb

def xlsb_extents(names: list[str], open_member: Callable[[str], IO[bytes]]) -> list[SheetExtent]:
    """The extent each worksheet part of an .xlsb declares in its BrtWsDim, named as its workbook names it
    (else by its part name). ``open_member`` opens a zip member as a stream; only a sheet's first records
    are read. ``ValueError`` when a sheet part does not start as one."""
    titles = _xlsb_sheet_names(names, open_member)
    extents = []
    for part in sorted(n for n in names if n.startswith("xl/worksheets/") and n.endswith(".bin")
                       and n.count("/") == 2):
        with open_member(part) as stream:
            extent = _ws_dim(stream, titles.get(part, part))
        if extent:
            extents.append(extent)
    return extents


def _read_varint(stream: IO[bytes], most: int) -> int | None:
    """A record header field: up to ``most`` bytes of 7 bits each, low first, the top bit saying more follow."""
    value = 0
    for shift in range(0, 7 * most, 7):
        byte = stream.read(1)
        if not byte:
            return None
        value |= (byte[0] & 0x7F) << shift
        if not byte[0] & 0x80:
            return value
    raise ValueError("an XLSB record header runs too long")


def _xlsb_records(stream: IO[bytes], limit: int, max_size: int = 1 << 20):
    """(type, payload) of the first ``limit`` records of an XLSB part."""
    for _ in range(limit):
        kind = _read_varint(stream, 2)
        if kind is None:
            return
        size = _read_varint(stream, 4)
        if size is None or size > max_size:
            raise ValueError("an XLSB record is damaged")
        payload = stream.read(size)
        if len(payload) < size:
            raise ValueError("an XLSB record runs past its part's end")
        yield kind, payload


def _ws_dim(stream: IO[bytes], sheet: str) -> SheetExtent | None:
    records = _xlsb_records(stream, _XLSB_HEAD_RECORDS)
    first = next(records, None)
    if first is None or first[0] != _BRT_BEGIN_SHEET:
        raise ValueError(f"{sheet} does not start with BrtBeginSheet")
    for kind, payload in records:
        if kind == _BRT_WS_DIM:
            if len(payload) < 16:
                raise ValueError(f"{sheet} has a short BrtWsDim record")
            first_row, last_row, first_col, last_col = struct.unpack_from("<IIII", payload)
            return SheetExtent(sheet, first_row + 1, last_row + 1, first_col + 1, last_col + 1)
    return None


def _xlsb_sheet_names(names: list[str], open_member: Callable[[str], IO[bytes]]) -> dict[str, str]:
    """Sheet part → sheet name, from ``xl/workbook.bin`` and its relationships; empty when they cannot tell."""
    if "xl/workbook.bin" not in names or "xl/_rels/workbook.bin.rels" not in names:
        return {}
    try:
        with open_member("xl/_rels/workbook.bin.rels") as stream:
            root = ElementTree.fromstring(stream.read(_XLSB_WORKBOOK_BYTES))
        targets = {rel.get("Id"): posixpath.normpath(posixpath.join("xl", rel.get("Target", "")))
                   for rel in root.iter(_REL)}
        parts = {}
        with open_member("xl/workbook.bin") as stream:
            for kind, payload in _xlsb_records(io.BytesIO(stream.read(_XLSB_WORKBOOK_BYTES)), 10_000):
                if kind == _BRT_BUNDLE_SH:
                    rel_id, at = _wide_string(payload, 8)
                    name, _ = _wide_string(payload, at)
                    if rel_id in targets:
                        parts[targets[rel_id]] = name
                elif kind == _BRT_END_BUNDLE_SHS:
                    break
        return parts
    except Exception:  # names are a courtesy: the part names serve when the workbook part is odd
        return {}


def _wide_string(payload: bytes, at: int) -> tuple[str, int]:
    """An XLWideString (a u32 character count, UTF-16) at ``at``, and the offset after it."""
    count = struct.unpack_from("<I", payload, at)[0]
    if count == 0xFFFFFFFF:
        return "", at + 4
    raw = payload[at + 4:at + 4 + 2 * count]
    if len(raw) < 2 * count:
        raise ValueError("a truncated string")
    return raw.decode("utf-16-le"), at + 4 + 2 * count
