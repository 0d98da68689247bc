"""Text layout: Thai digits, how many lines wrapped text takes, and ``Sheet``, which writes Thai above
English in wrapped cells, makes each row as tall as its tallest text and names cells."""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Mapping
from functools import lru_cache

from xlsxwriter.format import Format
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from cdd_scorer import xlsx
from cdd_scorer.metadata import join_address
from cdd_scorer.template.style import FONT_SIZE, SMALL_SIZE, Formats


@lru_cache(maxsize=8192)
def estimated_lines(text: str, width: float, size: float = FONT_SIZE) -> int:
    """How many lines wrapped text takes in a column of ``width`` characters (Thai marks take no room)."""
    per_line = max(1.0, width * 12 / size)
    return sum(max(1, math.ceil(sum(1 for ch in part if unicodedata.category(ch) != "Mn") / per_line))
               for part in text.split("\n"))


def bilingual_height(thai: str, english: str, width: float, size: float = FONT_SIZE) -> float:
    """Points for a wrapped cell with Thai on top and smaller English below."""
    below = lines_height(english, width, SMALL_SIZE) - 4 if english else 0
    return lines_height(thai, width, size) + below


def lines_height(text: str, width: float, size: float) -> float:
    """Thai fonts need about 1.7 times their size per line (tall vowels and tone marks)."""
    return estimated_lines(text, width, size) * size * 1.7 + 4


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
        """Thai first, English second (smaller, grey) in one wrapped cell, its row tall enough for both."""
        self.grow(row, bilingual_height(thai, english, width or self.column_widths[col], size))
        first = [self.formats["bold_run"], thai] if bold else [thai]
        if english:
            self.ws.write_rich_string(row, col, *first, self.formats["english"], "\n" + english, cell_format)
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

    def set_heights(self) -> None:
        """Give every row the height of its tallest text."""
        for row, height in self._heights.items():
            self.ws.set_row(row, height)

    def define(self, name: str, row: int, col: int) -> str:
        """Give a cell of this sheet a workbook-wide defined name; return its absolute reference."""
        cell = xlsx.absolute_ref(row, col)
        self.wb.define_name(name, f"={join_address(self.ws.get_name(), cell)}")
        return cell
