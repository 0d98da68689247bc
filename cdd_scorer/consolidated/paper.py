"""The consolidated workbook on paper: how wide a text prints and how tall wrapping makes it, and each
sheet's page set-up (A4 landscape at a scale chosen from the sheet's own widths and heights, page breaks
only between the blocks that must stay whole, repeated row and column titles, the round and the page
number in the footer).

Column widths count digits of the workbook's standard font, Calibri 11 (Carlito, its metric twin, in
LibreOffice on Linux): Excel draws a column ``w`` digits wide ``int(7w + 0.5) + 5`` pixels wide, which
``column_points`` follows; LibreOffice draws it about 6 % wider (Carlito's digit unrounded), which the
page reserve absorbs. The sheets' text is TH Sarabun New, or Laksaman, its metric twin, where it is
missing (LibreOffice on Linux): row heights leave each line its 1.66 times the font size.
"""

from __future__ import annotations

import datetime as dt
import math
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache
from typing import Any

from cdd_scorer.paging import page_breaks

FONT_SIZE = 14  # points: the sheets' text (styles.add_formats)
HEAD_ENGLISH_SIZE = 12  # points: the English line of a column head, under its Thai
DIGIT_PIXELS, PADDING_PIXELS, POINTS_PER_PIXEL = 7, 5, 0.75
# Average advance of a glyph in em, measured on Laksaman over every text of the demo's workbook: Thai
# letters 0.549 (vowel and tone marks above and below take none), digits 0.544, Thai digits 0.675, capitals
# 0.57, small letters 0.487, spaces 0.324, punctuation 0.368; bold glyphs are about 5 % wider.
EM = {"thai": 0.56, "digit": 0.544, "thai_digit": 0.675, "upper": 0.6, "lower": 0.5, "space": 0.324,
      "other": 0.42}
BOLD = 1.06
LINE_SPACING = 1.66  # lines of TH Sarabun New and Laksaman are 1.66 times their size apart
FIRST_LINE = 22.5 / 14  # a row 22.5 points high shows one line of 14-point text, its marks above and below
CELL_MARGINS = 6.0  # points of a column's width its text cannot use
WRAP_SLACK = 0.9  # wrapped lines break between words, not at the last letter that fits

A4_LANDSCAPE = (841.89, 595.28)  # points
PAPER_A4 = 9
MARGINS = {"left": 0.4, "right": 0.4, "top": 0.6, "bottom": 0.6}  # inches; header and footer at 0.3
POINTS_PER_INCH = 72
# Room kept on every page for what the estimates do not see: LibreOffice's wider columns, rounding.
PAGE_RESERVE = 0.07
READABLE_SCALE = 60  # percent: below this TH Sarabun New at 14 points is too small to read on paper; the
# scale of a sheet printed across pages (as many of its blocks side by side as fit)
WIDTH_SAFETY = 1.05  # a text must fit on one line even where the estimate is a little short


def _em(ch: str) -> float:
    if unicodedata.category(ch) in ("Mn", "Me", "Cf"):
        return 0.0
    if "\u0e50" <= ch <= "\u0e59":
        return EM["thai_digit"]
    if "\u0e00" <= ch <= "\u0e7f":
        return EM["thai"]
    if ch == " ":
        return EM["space"]
    if ch.isascii() and ch.isdigit():
        return EM["digit"]
    if ch.isascii() and ch.isalpha():
        return EM["upper"] if ch.isupper() else EM["lower"]
    return EM["other"]


@lru_cache(maxsize=16384)
def text_points(text: str, size: float = FONT_SIZE, bold: bool = False) -> float:
    """How wide the longest line of ``text`` prints, in points."""
    return max(sum(_em(ch) for ch in line) for line in text.split("\n")) * size * (BOLD if bold else 1)


def column_points(width: float) -> float:
    """The printed width in points of a column ``width`` digits wide (as Excel draws it)."""
    return (int(width * DIGIT_PIXELS + 0.5) + PADDING_PIXELS) * POINTS_PER_PIXEL if width else 0.0


def merged_width(widths: Sequence[float]) -> float:
    """The width in digits of one column as wide as ``widths`` side by side."""
    pixels = sum(int(w * DIGIT_PIXELS + 0.5) + PADDING_PIXELS for w in widths)
    return (pixels - PADDING_PIXELS) / DIGIT_PIXELS


def width_for(text: str, size: float = FONT_SIZE, bold: bool = False) -> float:
    """The narrowest column width (in half digits) that shows ``text`` on one line."""
    pixels = (text_points(text, size, bold) * WIDTH_SAFETY + CELL_MARGINS) / POINTS_PER_PIXEL - PADDING_PIXELS
    return math.ceil(2 * pixels / DIGIT_PIXELS) / 2


def widest(texts: Iterable[str], size: float = FONT_SIZE, bold: bool = False) -> float:
    """The column width that shows the widest of ``texts`` on one line (0 without texts)."""
    return max((width_for(t, size, bold) for t in texts if t), default=0.0)


def head_parts(head: str) -> tuple[str, str]:
    """A column head's Thai (bold, ``FONT_SIZE``) and English (its last line in Latin letters, smaller)."""
    thai, _, english = head.rpartition("\n")
    return (thai, english) if thai and english.isascii() else (head, "")


def head_width(head: str) -> float:
    """The narrowest width at which a column head wraps only between words: its widest word in Latin
    letters or digits (Thai, written without spaces, wraps between words the program finds itself)."""
    thai, english = head_parts(head)
    return max(widest((w for w in _words(thai) if w.isascii()), bold=True),
               widest(_words(english), HEAD_ENGLISH_SIZE))


def head_height(head: str, width_points: float) -> float:
    """The row height in points that shows a column head wrapped in ``width_points``."""
    thai, english = head_parts(head)
    lines = wrapped_lines(thai, width_points, bold=True)
    below = wrapped_lines(english, width_points, HEAD_ENGLISH_SIZE) * LINE_SPACING * HEAD_ENGLISH_SIZE if english else 0
    return _whole_pixels(lines_height(lines) + below)


def _words(text: str) -> list[str]:
    """The pieces a line may break between: words, and the parts of words joined by "/" (kept on the left)."""
    return [piece for word in text.split() for piece in word.replace("/", "/ ").split()]


def width_to_wrap(head: str, lines: int, minimum: float, maximum: float) -> float:
    """The narrowest width from ``minimum`` (in half digits, at most ``maximum``) at which a column head
    is at most ``lines`` lines of ``FONT_SIZE`` tall, never broken inside a Latin word."""
    width = max(minimum, head_width(head))
    while width < maximum and head_height(head, column_points(width)) > lines_height(lines):
        width += 0.5
    return width


def shown_value(value: Any, kind: str = "number") -> str:
    """A value as the sheet's formats show it (for its width): money ``#,##0.00 บาท``, counts ``#,##0``,
    dates in the Buddhist era, yes/no and text as they are."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "ไม่ใช่"
    if isinstance(value, dt.date):
        return "๓๐ ก.ย. ๒๕๖๕" + (" ๐๐:๐๐" if isinstance(value, dt.datetime) else "")
    if isinstance(value, int | float | Decimal | Fraction):
        decimals, unit = {"money": (2, " บาท"), "count": (0, "")}.get(kind, (2, ""))
        return f"{float(value):,.{decimals}f}{unit}"
    return str(value)


@lru_cache(maxsize=16384)
def wrapped_lines(text: str, width_points: float, size: float = FONT_SIZE, bold: bool = False) -> int:
    """How many lines ``text`` takes wrapped in ``width_points`` (a column's or a merged range's width):
    words go on a line while they fit; a run longer than a line (Thai is written without spaces) breaks
    inside, a little before the last letter that would fit."""
    room = max(1.0, width_points - CELL_MARGINS)
    space = text_points(" ", size, bold)
    lines = 0
    for part in text.split("\n"):
        lines += 1
        used = 0.0
        for word in _words(part):
            wide = text_points(word, size, bold)
            if used and used + space + wide <= room:
                used += space + wide
                continue
            if used:
                lines += 1
            extra = max(0, math.ceil(wide / (room * WRAP_SLACK)) - 1) if wide > room else 0
            lines += extra
            used = wide - extra * room * WRAP_SLACK
    return lines


def lines_height(lines: int, size: float = FONT_SIZE) -> float:
    """The row height in points that shows ``lines`` lines of ``size`` points."""
    return _whole_pixels(((max(lines, 1) - 1) * LINE_SPACING + FIRST_LINE) * size)


def _whole_pixels(points: float) -> float:
    """``points`` rounded up to whole pixels (0.75 points), as the file stores a row: every program then
    puts the rows, and the charts anchored to them, at the same place."""
    return math.ceil(points / POINTS_PER_PIXEL) * POINTS_PER_PIXEL


def text_height(text: str, width_points: float, size: float = FONT_SIZE, bold: bool = False) -> float:
    """The row height in points that shows ``text`` wrapped in ``width_points``."""
    return lines_height(wrapped_lines(text, width_points, size, bold), size)


def row_points(ws, row: int) -> float:
    """A row's height in points as the worksheet will write it."""
    return ws._size_row(row) * POINTS_PER_PIXEL


def column_pixels(ws, col: int) -> int:
    """A column's width in pixels as the worksheet will write it."""
    return ws._size_col(col)


def span_points(ws, first_col: int, last_col: int) -> float:
    """The printed width of columns ``first_col`` to ``last_col``."""
    return sum(column_pixels(ws, c) for c in range(first_col, last_col + 1)) * POINTS_PER_PIXEL


def printable() -> tuple[float, float]:
    """Width and height in points of what a page holds at 100 %, the reserve kept."""
    width = A4_LANDSCAPE[0] - (MARGINS["left"] + MARGINS["right"]) * POINTS_PER_INCH
    height = A4_LANDSCAPE[1] - (MARGINS["top"] + MARGINS["bottom"]) * POINTS_PER_INCH
    return width * (1 - PAGE_RESERVE), height * (1 - PAGE_RESERVE)


@dataclass(frozen=True)
class Pages:
    """How a sheet prints. ``keep_rows`` and ``keep_columns`` are blocks (first, last) that a page break
    never cuts unless one is larger than a page (each starts a page when it does not fit on the current
    one); ``row_breaks`` are breaks set by hand (one chart per page). A sheet with ``keep_columns`` is wide:
    it prints across pages at ``READABLE_SCALE`` with ``repeat_columns`` on every page; any other sheet is
    one page wide, at most 100 %, smaller when a block of rows would not fit a page (not below
    ``READABLE_SCALE``). ``width_points`` counts objects wider than the columns (charts)."""

    title: str
    repeat_rows: tuple[int, int] | None = None
    repeat_columns: tuple[int, int] | None = None
    keep_rows: Sequence[tuple[int, int]] = ()
    keep_columns: Sequence[tuple[int, int]] = ()
    row_breaks: Sequence[int] = ()
    width_points: float = 0.0


def set_up_pages(ws, pages: Pages, font: str, round_th: str) -> int:
    """Page set-up of a written sheet: A4 landscape, the scale, the breaks, the repeated titles, the title
    in the header and the round and page number in the footer. Returns the scale in percent."""
    page_width, page_height = printable()
    last_col, last_row = max(ws.dim_colmax or 0, 0), max(ws.dim_rowmax or 0, 0)
    repeated_width = span_points(ws, *pages.repeat_columns) if pages.repeat_columns else 0.0
    repeated_height = sum(row_points(ws, r) for r in range(pages.repeat_rows[0], pages.repeat_rows[1] + 1)
                          ) if pages.repeat_rows else 0.0
    if pages.keep_columns:
        scale = READABLE_SCALE
    else:
        scale = math.floor(100 * page_width / max(span_points(ws, 0, last_col), pages.width_points, 1.0))
    below = pages.repeat_rows[1] + 1 if pages.repeat_rows else 0
    row_units = _units(pages.keep_rows, below, last_row)
    if pages.keep_rows:  # the first block shares its page with the rows above it
        tallest = max(sum(row_points(ws, r) for r in range(0 if i == 0 else first, last + 1))
                      for i, (first, last) in enumerate(row_units) if last > first or i == 0)
        scale = min(scale, max(READABLE_SCALE, math.floor(100 * page_height / (repeated_height + tallest))))
    scale = max(10, min(100, scale))
    ws.set_landscape()
    ws.set_paper(PAPER_A4)
    ws.set_margins(**MARGINS)
    ws.set_print_scale(scale)
    if pages.repeat_rows:
        ws.repeat_rows(*pages.repeat_rows)
    if pages.repeat_columns:
        ws.repeat_columns(*pages.repeat_columns)
    if pages.row_breaks:
        ws.set_h_pagebreaks(list(pages.row_breaks))
    elif pages.keep_rows:
        above = sum(row_points(ws, r) for r in range(pages.repeat_rows[0])) if pages.repeat_rows else 0.0
        ws.set_h_pagebreaks(page_breaks(row_units, lambda r: row_points(ws, r), above,
                                   page_height * 100 / scale - repeated_height))
    if pages.keep_columns:
        after = pages.repeat_columns[1] + 1 if pages.repeat_columns else 0
        ws.set_v_pagebreaks(page_breaks(_units(pages.keep_columns, after, last_col),
                                   lambda c: column_pixels(ws, c) * POINTS_PER_PIXEL, 0.0,
                                   page_width * 100 / scale - repeated_width))
    text = f'&"{font}"&12'
    ws.set_header(f"&L{text}{pages.title}")
    ws.set_footer(f"&L{text}{round_th}&R{text}หน้า &P / &N")
    return scale


def _units(blocks: Sequence[tuple[int, int]], start: int, last: int) -> list[tuple[int, int]]:
    """The rows (or columns) from ``start`` to ``last`` as units a page break never cuts: each block with the
    rows between it and the previous block (a blank row never gets a page of its own), every other row a
    unit of its own."""
    units: list[tuple[int, int]] = []
    at = start
    for first, end in sorted(blocks):
        if first > at and not units:
            units += [(i, i) for i in range(at, first)]
            at = first
        units.append((at, end))
        at = end + 1
    return units + [(i, i) for i in range(at, last + 1)]
