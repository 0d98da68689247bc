"""Text layout: how many lines wrapped text takes, and ``Sheet``, which writes Thai then English in wrapped
cells (on one line when that is shorter), makes each row as tall as its tallest text and names cells."""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping
from functools import lru_cache

from xlsxwriter.format import Format
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from cdd_scorer import xlsx
from cdd_scorer.metadata import join_address
from cdd_scorer.template.style import FONT_SIZE, SMALL_SIZE, Formats

DEFAULT_ROW_HEIGHT = 15.0  # points: a row no text has grown
INLINE_SEPARATOR = "  "  # between Thai and English written on one line
# Thai fonts need about 1.7 times their size per line (tall vowels and tone marks): TH Sarabun's
# metric twin Laksaman prints lines 1.66 times their size apart.
LINE_SPACING = 1.7
# The workbook's standard font is the template's font at FONT_SIZE, so a column is as many of its
# digits wide in every program (Excel with TH Sarabun New, LibreOffice with it or with Laksaman). Widths
# of a glyph in em, measured on Laksaman over the card's texts (within 5 % on all but the shortest):
# digits 0.543, Thai letters 0.55 (marks above and below take no room), Latin letters and spaces 0.5.
DIGIT_EM, THAI_EM, LATIN_EM = 0.543, 0.55, 0.5
COLUMN_PADDING = 5.4  # points a column is wider than its digits
CELL_MARGINS = 4.0  # points of a cell's width its text does not use
WRAP_SLACK = 0.92  # lines break between words, not at the last letter that fits
_TEXT_LITERAL = re.compile(r'"((?:[^"]|"")*)"')


def column_points(width: float) -> float:
    """The width in points of a column ``width`` characters wide."""
    return width * DIGIT_EM * FONT_SIZE + COLUMN_PADDING if width else 0.0


@lru_cache(maxsize=8192)
def estimated_lines(text: str, width: float, size: float = FONT_SIZE) -> int:
    """How many lines wrapped text of ``size`` points takes in a column of ``width`` characters."""
    return sum(max(1, math.ceil(_text_points(part, size) / _line_points(width))) for part in text.split("\n"))


def _line_points(width: float) -> float:
    return max(1.0, (column_points(width) - CELL_MARGINS) * WRAP_SLACK)


def _text_points(text: str, size: float) -> float:
    """How long ``text`` is on one line, in points."""
    ems = sum(0.0 if unicodedata.category(ch) == "Mn" else LATIN_EM if ch.isascii() else THAI_EM for ch in text)
    return ems * size


def bilingual_height(thai: str, english: str, width: float, size: float = FONT_SIZE) -> float:
    """Points for a wrapped cell with Thai on top and smaller English below."""
    below = lines_height(english, width, SMALL_SIZE) - 4 if english else 0
    return lines_height(thai, width, size) + below


def inline_height(thai: str, english: str, width: float, size: float = FONT_SIZE) -> float:
    """Points for a wrapped cell with the smaller English following Thai on the same lines."""
    length = _text_points(thai + INLINE_SEPARATOR, size) + _text_points(english, SMALL_SIZE)
    return math.ceil(length / _line_points(width)) * size * LINE_SPACING + 4


def longest_text(formula: str, spliced: int) -> str:
    """More than a text formula can show: all its string literals one after another, and ``spliced``
    characters for the numbers and cell values it puts between them."""
    return "".join(m.replace('""', '"') for m in _TEXT_LITERAL.findall(formula)) + "0" * spliced


def lines_height(text: str, width: float, size: float) -> float:
    """Points for wrapped text: ``LINE_SPACING`` times its size per line, and a little room."""
    return estimated_lines(text, width, size) * size * LINE_SPACING + 4


class Sheet:
    """One worksheet being written, with the template's formats and its columns' widths."""

    def __init__(self, wb: Workbook, ws: Worksheet, formats: Formats, column_widths: Mapping[int, float]):
        self.wb = wb
        self.ws = ws
        self.formats = formats
        self.column_widths = column_widths
        self._heights: dict[int, float] = {}

    def bilingual(self, row: int, col: int, thai: str, english: str, cell_format: Format, bold: bool = False,
                  width: float | None = None, size: float = FONT_SIZE) -> None:
        """Thai first, English second (smaller, grey) in one wrapped cell, its row tall enough for both:
        English on a line of its own, or right after the Thai when that takes less height."""
        width = width or self.column_widths[col]
        stacked = bilingual_height(thai, english, width, size)
        inline = inline_height(thai, english, width, size) if english else stacked
        self.grow(row, min(stacked, inline))
        separator = INLINE_SEPARATOR if inline < stacked else "\n"
        first = [self.formats["bold_run"], thai] if bold else [thai]
        if english:
            self.ws.write_rich_string(row, col, *first, self.formats["english"], separator + english, cell_format)
        elif bold:
            self.ws.write_rich_string(row, col, *first, " ", cell_format)
        else:
            self.ws.write_string(row, col, thai, cell_format)

    def merged(self, row: int, first_col: int, last_col: int, thai: str, english: str, cell_format: Format,
               bold: bool = False, width: float | None = None, size: float = FONT_SIZE) -> None:
        """``bilingual`` across the merged columns ``first_col`` to ``last_col``."""
        self.ws.merge_range(row, first_col, row, last_col, "", cell_format)
        width = width or sum(self.column_widths[c] for c in range(first_col, last_col + 1))
        self.bilingual(row, first_col, thai, english, cell_format, bold, width, size)

    def grow(self, row: int, height: float) -> None:
        """Remember the tallest text of a row; ``set_heights`` applies it (no program fits wrapped rows)."""
        self._heights[row] = max(self._heights.get(row, 0.0), height)

    def height(self, row: int) -> float:
        """The height a row will get, in points."""
        return self._heights.get(row, DEFAULT_ROW_HEIGHT)

    def set_heights(self) -> None:
        """Give every row the height of its tallest text."""
        for row, height in self._heights.items():
            self.ws.set_row(row, height)

    def define(self, name: str, row: int, col: int) -> str:
        """Give a cell of this sheet a workbook-wide defined name; return its absolute reference."""
        cell = xlsx.absolute_ref(row, col)
        self.wb.define_name(name, f"={join_address(self.ws.get_name(), cell)}")
        return cell
