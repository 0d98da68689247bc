"""Thai presentation in one place: the Buddhist era, Thai time, how wide Thai text is on a terminal,
and the words for a district's status and a problem's severity.

Everything people read about a date or a status comes from here, so a status is worded the same in
the terminal, the CSV files, the consolidated workbook and a correction workbook.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from enum import StrEnum

BE_OFFSET = 543  # Buddhist era = common era + 543
THAI_TIME = dt.timezone(dt.timedelta(hours=7), "ICT")  # Thailand keeps UTC+7 all year
# Spreadsheet date formats (SPEC §6: what LibreOffice and Excel both render)
DATE_FORMAT_BE = "[$-D07041E]d mmm yyyy"  # ๓๑ ส.ค. ๒๕๖๕ (Thai Buddhist calendar, Thai digits)
DATE_FORMAT_BE_TYPED = "[$-41E]d mmm yyyy"  # a BE year typed into an AD calendar: 31 ส.ค. 2565


def be_date(day: dt.date) -> str:
    """``31/8/2565``: a date in the Buddhist era, the way an officer types it."""
    return f"{day.day}/{day.month}/{day.year + BE_OFFSET}"


def as_thai_time(moment: dt.datetime) -> dt.datetime:
    """Aware times in Thai time; naive ones (LibreOffice's .ods) are already local."""
    return moment.astimezone(THAI_TIME) if moment.tzinfo else moment.replace(tzinfo=THAI_TIME)


def thai_wall_clock(moment: dt.datetime) -> dt.datetime:
    """A moment as Thai wall-clock time without a time zone, to the second (spreadsheets keep no zone)."""
    return as_thai_time(moment).replace(tzinfo=None, microsecond=0)


_ARABIC_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")
# Spellings that look the same on screen but are other characters: sara e typed twice for sara ae,
# nikhahit + sara aa for sara am.
_LOOK_ALIKES = (("\u0e40\u0e40", "\u0e41"), ("\u0e4d\u0e32", "\u0e33"))


def arabic_digits(text: str) -> str:
    """Thai digits as Arabic ones: ๔๐ → 40."""
    return text.translate(_ARABIC_DIGITS)


def normal_thai_spelling(text: str) -> str:
    """One spelling for text typed in different ways that look alike: Unicode NFC, เเ → แ, ํา → ำ,
    Thai digits → Arabic."""
    text = unicodedata.normalize("NFC", text)
    for typed, meant in _LOOK_ALIKES:
        text = text.replace(typed, meant)
    return arabic_digits(text)


def thai_digits(value: object) -> str:
    """The value written with Thai digits: 40 → ๔๐."""
    from pythainlp.util import arabic_digit_to_thai_digit  # here: reader workers import this module

    return arabic_digit_to_thai_digit(str(value))


def thai_long_date(day: dt.date) -> str:
    """๑๕ ตุลาคม ๒๕๖๕: a date as a Thai letter writes it."""
    from pythainlp.util import thai_strftime

    return thai_strftime(dt.datetime.combine(day, dt.time()), "%-d %B %Y", thaidigit=True)


def thai_day(moment: dt.datetime) -> dt.date:
    """The calendar day in Thailand of a moment (a saved time, a deadline check)."""
    return as_thai_time(moment).date()


def be_time(moment: dt.datetime | None) -> str:
    """``28/9/2565 14:30`` (Buddhist era, Thai time), as the clerk reads dates; empty for None."""
    if moment is None:
        return ""
    local = as_thai_time(moment)
    return f"{be_date(local.date())} {local:%H:%M}"


def display_width(text: str) -> int:
    """Columns a terminal gives ``text``: Thai vowel and tone marks take none, wide letters two."""
    return sum(0 if unicodedata.category(ch) in ("Mn", "Me", "Cf")
               else 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


class Status(StrEnum):
    """Where a district stands in a round. The value is what the CSV files hold."""

    COMPLETE = "complete"
    NEEDS_CORRECTION = "needs_correction"
    MISSING = "missing"

    @property
    def th(self) -> str:
        return _STATUS_WORDS[self][0]

    @property
    def en(self) -> str:
        return _STATUS_WORDS[self][1]


_STATUS_WORDS = {Status.COMPLETE: ("ครบถ้วน", "complete"),
                 Status.NEEDS_CORRECTION: ("ต้องแก้ไข", "needs correction"),
                 Status.MISSING: ("ยังไม่ส่ง", "missing")}


class Severity(StrEnum):
    """How serious a problem is. ``th``/``en`` speak to the clerk; ``to_district_th`` is what a
    correction workbook tells the officer to do about it."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def th(self) -> str:
        return _SEVERITY_WORDS[self][0]

    @property
    def en(self) -> str:
        return _SEVERITY_WORDS[self][1]

    @property
    def to_district_th(self) -> str:
        return _SEVERITY_WORDS[self][2]


_SEVERITY_WORDS = {Severity.ERROR: ("ข้อผิดพลาด", "error", "ต้องแก้ไข"),
                   Severity.WARNING: ("คำเตือน", "warning", "ควรตรวจสอบ"),
                   Severity.INFO: ("แจ้งให้ทราบ", "note", "แจ้งให้ทราบ")}
