"""Lenient reading of what people really type into a cell.

Each ``parse_*`` function takes the raw cell value as a workbook reader returns it (str, int,
float, bool, date, datetime or None) and returns a ``Parsed``: the clean value, or the code of the
problem and what was expected. It never raises and never guesses: a value it cannot understand is
reported, quoting the value.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pythainlp.util.date import thai_abbr_months, thai_full_months

from cdd_scorer.exact import typed_decimal
from cdd_scorer.thai import BE_OFFSET, arabic_digits

_EXCEL_EPOCH = dt.date(1899, 12, 30)
_SPACES = re.compile(r"[\s\u00a0\u2000-\u200b\u202f\u205f\u3000\ufeff]+")
_UNITS = re.compile(r"(บาท|บ\.|฿|thb|baht)$|^(฿|thb)", re.IGNORECASE)
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_GROUPED = re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d*)?")
YES_WORDS = {"ใช่", "ช่", "มี", "yes", "y", "true", "1", "✓", "✔", "☑", "/", "ทำแล้ว", "ดำเนินการแล้ว", "จริง"}
NO_WORDS = {"ไม่ใช่", "ไม่", "ไม่มี", "no", "n", "false", "0", "✗", "✘", "x", "-", "ยังไม่ได้ทำ",
       "ยังไม่ดำเนินการ", "เท็จ"}
_EN_MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
_MONTHS: dict[str, int] = {
    **{m.replace(".", ""): i + 1 for i, m in enumerate(thai_abbr_months)},
    **{m: i + 1 for i, m in enumerate(thai_full_months)},
    **{m: i + 1 for i, m in enumerate(_EN_MONTHS)},
}
_ERROR_VALUES = ("#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!", "#SPILL!",
                 "#CALC!", "#GETTING_DATA")


@dataclass(frozen=True)
class Parsed:
    """A clean value (``None`` = empty) or a problem code with what was expected."""

    value: Any = None
    problem: str | None = None
    expected_th: str = ""
    expected_en: str = ""

    @property
    def ok(self) -> bool:
        return self.problem is None


EMPTY = Parsed(None)


def clean_text(raw: Any) -> str:
    """A cell as stripped text with Thai digits as Arabic digits and runs of spaces collapsed."""
    if raw is None:
        return ""
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    return _SPACES.sub(" ", arabic_digits(str(raw))).strip()


def is_error_value(raw: Any) -> bool:
    """True for a spreadsheet error such as #DIV/0! or #REF!."""
    return isinstance(raw, str) and raw.strip().upper() in _ERROR_VALUES


def parse_number(raw: Any) -> Parsed:
    """Money, counts and percentages as exact decimals: 1,234.50 บาท, ๑๒๓, '85%', ' 42 ', 1.2e3."""
    wrong = Parsed(None, "wrong_type", "ตัวเลข", "a number")
    if raw is None or raw == "":
        return EMPTY
    if isinstance(raw, bool | dt.date | dt.time | dt.timedelta):
        return wrong
    if isinstance(raw, int | float):
        return Parsed(typed_decimal(raw)) if math.isfinite(raw) else wrong
    text = clean_text(raw).replace("−", "-").replace("–", "-")
    text = _UNITS.sub("", text.lower()).strip().rstrip("%").strip()
    negative = text.startswith("(") and text.endswith(")")
    if negative:
        text = text[1:-1].strip()
    if "," in text:
        if not _GROUPED.fullmatch(text.replace(" ", "")):
            return wrong
        text = text.replace(",", "")
    text = text.replace(" ", "")
    if not _NUMBER.fullmatch(text):
        return wrong
    value = Decimal(text)
    return Parsed(-value if negative else value)


def parse_yesno(raw: Any) -> Parsed:
    """ใช่/ไม่ใช่, มี/ไม่มี, yes/no, y/n, ✓, TRUE/FALSE, 1/0."""
    if raw is None or raw == "":
        return EMPTY
    if isinstance(raw, bool):
        return Parsed(raw)
    if isinstance(raw, int | float) and raw in (0, 1):
        return Parsed(bool(raw))
    text = clean_text(raw).lower().strip(".")
    if text in YES_WORDS:
        return Parsed(True)
    if text in NO_WORDS:
        return Parsed(False)
    return Parsed(None, "wrong_type", "ใช่ หรือ ไม่ใช่", "ใช่ (yes) or ไม่ใช่ (no)")


def _from_be(year: int) -> int:
    """A year as written: BE when ≥ 2400 or two digits (65 = 2565), else AD."""
    if year < 100:
        year += 2500
    return year - BE_OFFSET if year >= 2400 else year


def _make_date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(_from_be(year), month, day)
    except ValueError:
        return None


def excel_serial_to_date(serial: float) -> dt.date | None:
    """An Excel (1900 system) serial as a date; None when out of range."""
    if not 1 <= serial < 2_958_466:
        return None
    return _EXCEL_EPOCH + dt.timedelta(days=int(serial))


def parse_date(raw: Any) -> Parsed:
    """Date cells, Excel serials and text: 31/8/2565, 31 ส.ค. 65, 31 สิงหาคม 2565, 2022-08-31.

    A date whose year is BE typed into an AD calendar (year ≥ 2400) is moved back 543 years.
    """
    wrong = Parsed(None, "wrong_type", "วันที่ เช่น 31/8/2565", "a date such as 31/8/2565")
    if raw is None or raw == "":
        return EMPTY
    if isinstance(raw, dt.datetime):
        raw = raw.date()
    if isinstance(raw, dt.date):
        if raw.year >= 2400:
            return Parsed(_make_date(raw.year, raw.month, raw.day) or raw)
        return Parsed(raw)
    if isinstance(raw, bool):
        return wrong
    if isinstance(raw, int | float):
        day = excel_serial_to_date(raw) if math.isfinite(raw) else None
        if day is None:
            return wrong
        return parse_date(day)
    text = clean_text(raw).lower()
    found = _parse_date_text(text)
    return Parsed(found) if found else wrong


def _parse_date_text(text: str) -> dt.date | None:
    text = re.sub(r"^(วันที่|วัน)\s*", "", text)
    if m := re.fullmatch(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})", text):
        return _make_date(int(m[1]), int(m[2]), int(m[3]))
    if m := re.fullmatch(r"(\d{1,2})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{2}|\d{4})", text):
        return _make_date(int(m[3]), int(m[2]), int(m[1]))
    if m := re.fullmatch(r"(\d{1,2})\s*[-/ ]?\s*([^\d\s,/-]+)\s*[-/ ,]?\s*(?:พ\.?ศ\.?|ค\.?ศ\.?)?\s*(\d{2}|\d{4})",
                         text):
        month = _month_number(m[2])
        if month:
            return _make_date(int(m[3]), month, int(m[1]))
    if m := re.fullmatch(r"([a-z]+)\.?\s+(\d{1,2}),?\s+(\d{4})", text):
        month = _month_number(m[1])
        if month:
            return _make_date(int(m[3]), month, int(m[2]))
    if _NUMBER.fullmatch(text):
        serial = float(text)
        day = excel_serial_to_date(serial) if serial >= 10000 else None
        return day
    return None


def _month_number(word: str) -> int | None:
    word = word.strip(" .").replace(".", "").replace(" ", "")
    if word in _MONTHS:
        return _MONTHS[word]
    if len(word) >= 3 and word[:3] in _EN_MONTHS:
        return _EN_MONTHS.index(word[:3]) + 1
    return None


def parse_text(raw: Any) -> Parsed:
    """Free text, stripped; numbers come back as their plain digits."""
    text = "" if raw is None else (str(int(raw)) if isinstance(raw, float) and raw.is_integer()
                                   else str(raw)).strip()
    return Parsed(text or None)


PARSERS = {"money": parse_number, "count": parse_number, "yesno": parse_yesno,
           "date": parse_date, "text": parse_text}


def parse_cell(field_type: str, raw: Any) -> Parsed:
    """Parse a raw cell for a field of the given type."""
    return PARSERS[field_type](raw)
