"""The value of an .xlsx ``<c>`` element as python-calamine gives it, for cells read by streaming the sheet
XML instead of through calamine's grid (``streamed_sheets``): the same value either way, so parsing and
checking cannot tell how a file was read (a test compares the two on every kind of cell).

Text: shared (``t="s"``) or inline strings, rich-text runs joined, phonetic runs left out, each run trimmed
unless ``xml:space="preserve"``, ``_x000D_`` escapes decoded. ``t="str"`` (a formula's text), ``t="b"``
booleans, ``t="d"`` ISO dates. Numbers are floats; under a date or time number format (``styles.xml``),
a ``datetime.time`` below 1, a ``date`` when whole, else a ``datetime``, and ``timedelta`` under an
elapsed-time format (``[h]:mm``), in the workbook's 1900 or 1904 date system. Error values and formulas
without a saved value are empty (``""``), as calamine shows them.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import IO, Any, Protocol
from xml.etree.ElementTree import Element

from defusedxml import ElementTree

SHARED_STRINGS = "xl/sharedStrings.xml"
_STYLES = "xl/styles.xml"
_SPACE = "{http://www.w3.org/XML/1998/namespace}space"
_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")
_DATE_1904 = re.compile(rb"<(?:\w+:)?workbookPr\b[^>]*\bdate1904=[\"'](?:1|true)[\"']")
_BUILTIN_DATE_FORMATS = {**dict.fromkeys((*range(14, 23), 45, 47), "datetime"), 46: "timedelta"}
_EPOCH_1904 = dt.datetime(1904, 1, 1)
_EPOCH_BEFORE_LEAP_BUG = dt.datetime(1899, 12, 31)  # serials 1–59: Excel's day 60 is 29 Feb 1900
_EPOCH = dt.datetime(1899, 12, 30)


class Parts(Protocol):
    """Where the XML parts of a workbook come from (``safety.FileContent``, or checked archive members)."""

    def read(self, member: str) -> bytes: ...

    def open(self, member: str) -> IO[bytes]: ...


def local_name(tag: str) -> str:
    """``{namespace}c`` → ``c``: transitional and strict OOXML name their elements alike."""
    return tag.rpartition("}")[2]


class CellValues:
    """Decodes the ``<c>`` elements of one workbook; its shared strings and number formats are read the
    first time a cell needs them."""

    def __init__(self, parts: Parts) -> None:
        self.parts = parts
        self._strings: list[str] | None = None
        self._formats: list[str | None] | None = None
        self._is_1904: bool | None = None

    def value(self, cell: Element) -> Any:
        """The cell's value as python-calamine's ``to_python`` gives it (``""`` when empty)."""
        kind = cell.get("t", "n")
        children = {local_name(child.tag): child for child in cell}
        if kind == "inlineStr":
            return rich_text(children["is"]) if "is" in children else ""
        raw = children["v"].text if "v" in children else None
        if raw is None or kind == "e":
            return ""
        if kind == "s":
            strings = self._shared_strings()
            return strings[int(raw)] if 0 <= int(raw) < len(strings) else ""
        if kind == "str":
            return raw
        if kind == "b":
            return raw != "0"
        if kind == "d":
            return _iso_date(raw)
        number = float(raw)
        date_kind = self._date_kind(int(cell.get("s", "0")))
        return number if date_kind is None else excel_date(number, date_kind, self._date_1904())

    def _shared_strings(self) -> list[str]:
        if self._strings is None:
            self._strings = []
            try:
                stream = self.parts.open(SHARED_STRINGS)
            except KeyError:
                return self._strings
            for _, element in ElementTree.iterparse(stream, forbid_dtd=True):
                if local_name(element.tag) == "si":
                    self._strings.append(rich_text(element))
                    element.clear()
        return self._strings

    def _date_kind(self, style: int) -> str | None:
        if self._formats is None:
            self._formats = _cell_formats(self.parts)
        return self._formats[style] if 0 <= style < len(self._formats) else None

    def _date_1904(self) -> bool:
        if self._is_1904 is None:
            self._is_1904 = bool(_DATE_1904.search(self.parts.read("xl/workbook.xml")))
        return self._is_1904


def rich_text(element: Element) -> str:
    """The text of an ``<si>`` or ``<is>``: its ``<t>``, or its runs' ``<t>`` joined, without phonetic runs."""
    texts = []
    for child in element:
        name = local_name(child.tag)
        runs = [child] if name == "t" else [t for t in child if local_name(t.tag) == "t"] if name == "r" else []
        for t in runs:
            text = t.text or ""
            texts.append(text if t.get(_SPACE) == "preserve" else text.strip())
    return _ESCAPE.sub(lambda m: chr(int(m[1], 16)), "".join(texts))


def _cell_formats(parts: Parts) -> list[str | None]:
    """For each cell style (``cellXfs``), whether its number format shows a date or an elapsed time."""
    try:
        root = ElementTree.fromstring(parts.read(_STYLES), forbid_dtd=True)
    except KeyError:
        return []
    sections = {local_name(el.tag): el for el in root}
    custom = {int(f.get("numFmtId", "-1")): f.get("formatCode", "") for f in sections.get("numFmts", [])}
    kinds = []
    for xf in sections.get("cellXfs", []):
        number_format = int(xf.get("numFmtId", "0"))
        code = custom.get(number_format)
        kinds.append(_BUILTIN_DATE_FORMATS.get(number_format) if code is None else format_date_kind(code))
    return kinds


def format_date_kind(code: str) -> str | None:
    """``"datetime"`` when the first section of a number format shows a date or time part (outside quotes,
    escapes and ``[...]``), ``"timedelta"`` for an elapsed time (``[h]``, ``[mm]``, ``[s]``), else ``None``."""
    escaped = quoted = after_a = False
    depth, bracket = 0, ""
    for ch in code:
        if escaped or (quoted and ch != '"'):
            escaped = False
        elif ch in "\\_*":
            escaped = True
        elif ch == '"':
            quoted = not quoted
        elif ch == ";":
            return None
        elif ch == "[":
            depth, bracket = depth + 1, ""
        elif ch == "]":
            if depth == 1 and bracket[:1] in ("h", "m", "s") and bracket == bracket[0] * len(bracket):
                return "timedelta"
            depth = max(0, depth - 1)
        elif depth:
            bracket += ch.lower()
        elif after_a and ch in "pmPM/":
            return "datetime"
        elif ch in "aA":
            after_a = True
        elif not after_a and ch in "dmyhsDMYHS":
            return "datetime"
    return None


def excel_date(serial: float, kind: str, is_1904: bool) -> Any:
    """A serial number under a date or elapsed-time format, converted as python-calamine does; the number
    itself when no date can hold it."""
    milliseconds = dt.timedelta(milliseconds=round(serial * 86_400_000))
    if kind == "timedelta":
        return milliseconds
    epoch = _EPOCH_1904 if is_1904 else _EPOCH_BEFORE_LEAP_BUG if serial < 60 else _EPOCH
    try:
        moment = epoch + milliseconds
    except OverflowError:
        return serial
    if serial < 1:
        return moment.time()
    return moment.date() if serial == int(serial) else moment


def _iso_date(text: str) -> Any:
    try:
        return dt.datetime.fromisoformat(text) if "T" in text else dt.date.fromisoformat(text)
    except ValueError:
        return text
