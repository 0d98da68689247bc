"""The entry sheet on paper: A4 portrait, one page wide, and page breaks only between blocks (a KPI's
block is never split over two pages).

The sheet is printed "fit to 1 page wide, as many tall as needed": every program shrinks it to the width
it gives the columns, and keeps the manual page breaks, which LibreOffice drops (and Excel ignores) on a
sheet fitted to a number of pages tall. The breaks are placed from the heights the layout gave every
row, at the scale the column widths give (``layout``: the standard font's digits make a column as wide
in Excel as in LibreOffice).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

from xlsxwriter.worksheet import Worksheet

from cdd_scorer.paging import page_breaks
from cdd_scorer.template.layout import column_points

POINTS_PER_INCH = 72
A4_PORTRAIT = (595.28, 841.89)  # width, height in points
A4_PAPER = 9  # the paper size code of A4
MARGINS = {"left": 0.3, "right": 0.3, "top": 0.5, "bottom": 0.5}  # inches
HEADER_MARGIN = 0.2  # inches from the edge to the page header and footer
# Room kept on every page for what no estimate sees: the spreadsheet program's rounding of row
# heights and its own header spacing.
PAGE_RESERVE = 0.04


def print_scale(column_widths: Sequence[float]) -> int:
    """The percentage (at most 100) at which the columns fit across the printed page."""
    printable = A4_PORTRAIT[0] - (MARGINS["left"] + MARGINS["right"]) * POINTS_PER_INCH
    return min(100, math.floor(100 * printable / sum(column_points(w) for w in column_widths)))


def page_height(scale: int) -> float:
    """The rows' points a printed page holds at ``scale`` percent."""
    printable = A4_PORTRAIT[1] - (MARGINS["top"] + MARGINS["bottom"]) * POINTS_PER_INCH
    return printable * (1 - PAGE_RESERVE) * 100 / scale


def set_up_pages(ws: Worksheet, column_widths: Mapping[int, float], hidden: Sequence[int],
                 repeated: tuple[int, int], groups: Sequence[tuple[int, int]], height: Callable[[int], float]) -> None:
    """A4 portrait, the visible columns one page wide, the ``repeated`` rows (first, last) on top of
    every page, and page breaks only between the ``groups`` (first row, last row, in order, after the
    repeated rows) of rows that must stay on one page; rows between groups go where they fall."""
    scale = print_scale([w for col, w in column_widths.items() if col not in hidden])
    ws.set_portrait()
    ws.set_paper(A4_PAPER)
    ws.fit_to_pages(1, 0)
    ws.center_horizontally()
    ws.set_margins(**MARGINS)
    ws.repeat_rows(*repeated)
    units: list[tuple[int, int]] = []
    row = repeated[1] + 1
    for first, last in groups:
        units += [(loose, loose) for loose in range(row, first)]
        units.append((first, last))
        row = last + 1
    room = page_height(scale) - sum(height(r) for r in range(repeated[0], repeated[1] + 1))
    ws.set_h_pagebreaks(page_breaks(units, height, sum(height(r) for r in range(repeated[0])), room))
