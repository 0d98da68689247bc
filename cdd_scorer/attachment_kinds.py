"""What an attachment is, from its content first and its name and declared type second.

Mail programs label workbooks ``application/octet-stream``, drop their extension, or give them a
dotted Thai name ("ผลงาน อ.เมือง ต.ค.65"); Outlook wraps attachments in ``winmail.dat`` and saves
mail as ``.msg``. ``attachment_kind`` looks at the first bytes (and a zip's member list) so a reply
is found whatever it is called, and says which extension the saved file needs.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from cdd_scorer.reading import SPREADSHEET_SUFFIXES, is_lock_file
from cdd_scorer.safe_names import safe_file_name
from cdd_scorer.safety import OLE2_SIGNATURE, ZIP_SIGNATURES, ole2_stream_names

Kind = Literal["lock", "spreadsheet", "archive", "mail", "outlook_msg", "tnef", "other"]
TNEF_SIGNATURE = b"\x78\x9f\x3e\x22"
ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
DECLARED_TYPES = {
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
    "application/vnd.ms-excel.sheet.macroenabled.12": ".xlsm",
    "application/vnd.ms-excel": ".xls",
    "application/vnd.oasis.opendocument.spreadsheet": ".ods",
    "application/zip": ".zip",
    "application/x-zip-compressed": ".zip",
    "message/rfc822": ".eml",
    "application/vnd.ms-outlook": ".msg",
    "application/ms-tnef": ".dat",
    "application/vnd.ms-tnef": ".dat",
}
_KIND_OF_SUFFIX: dict[str, Kind] = {
    **dict.fromkeys(SPREADSHEET_SUFFIXES, "spreadsheet"),
    ".zip": "archive", ".eml": "mail", ".msg": "outlook_msg",
}


@dataclass(frozen=True)
class AttachmentKind:
    """What to do with an attachment, and the name it is saved or reported under."""

    kind: Kind
    name: str


def attachment_kind(name: str, data: bytes, declared_type: str = "") -> AttachmentKind:
    """The kind of an attachment called ``name`` holding ``data``, sent as ``declared_type``.

    A name that already ends in a spreadsheet extension is kept (``score`` then reports a damaged
    file); otherwise the content decides, then the extension, then the declared MIME type."""
    suffix = Path(name).suffix.lower()
    if is_lock_file(Path(safe_file_name(name))):
        return AttachmentKind("lock", name)
    if suffix in SPREADSHEET_SUFFIXES:
        return AttachmentKind("spreadsheet", name)
    sniffed = content_suffix(data)
    if sniffed in SPREADSHEET_SUFFIXES:
        return AttachmentKind("spreadsheet", _named(name, sniffed))
    if sniffed == ".dat" or name.lower() == "winmail.dat":
        return AttachmentKind("tnef", name)
    if sniffed is not None:
        return AttachmentKind(_KIND_OF_SUFFIX[sniffed], name)
    if suffix in _KIND_OF_SUFFIX:
        return AttachmentKind(_KIND_OF_SUFFIX[suffix], name)
    declared = DECLARED_TYPES.get(declared_type.lower())
    if declared in SPREADSHEET_SUFFIXES:
        return AttachmentKind("spreadsheet", _named(name, declared))
    if declared == ".dat":
        return AttachmentKind("tnef", name)
    if declared is not None:
        return AttachmentKind(_KIND_OF_SUFFIX[declared], name)
    return AttachmentKind("other", name)


def content_suffix(data: bytes) -> str | None:
    """The extension the content calls for (.xlsx, .xlsm, .ods, .xls, .zip, .msg, .dat for TNEF),
    or None when the first bytes are none of these."""
    if data.startswith(ZIP_SIGNATURES):
        return _zip_suffix(data)
    if data.startswith(OLE2_SIGNATURE):
        streams = {name.lower() for name in ole2_stream_names(data)}
        if "__properties_version1.0" in streams:  # an .msg's own stream; a workbook it carries has
            return ".msg"                          # "Workbook" too, so this is checked first
        return ".xls" if {"workbook", "book"} & streams else None
    return ".dat" if data.startswith(TNEF_SIGNATURE) else None


def _zip_suffix(data: bytes) -> str | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            if "xl/workbook.xml" in names:
                return ".xlsm" if "xl/vbaProject.bin" in names else ".xlsx"
            if "mimetype" in names:
                with archive.open("mimetype") as member:
                    mimetype = member.read(100).strip()
                return ".ods" if mimetype == ODS_MIMETYPE else None
            return None if "[Content_Types].xml" in names else ".zip"
    except Exception:  # noqa: BLE001 - any damage: the content says nothing, the name decides
        return None


def _named(name: str, suffix: str) -> str:
    return name if name.lower().endswith(suffix) else f"{name or 'attachment'}{suffix}"
