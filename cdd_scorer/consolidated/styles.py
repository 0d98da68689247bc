"""The consolidated workbook's cell formats and colours."""

from __future__ import annotations

from typing import Any

from cdd_scorer.thai import DATE_FORMAT_BE
from cdd_scorer.xlsx import COUNT_FORMAT

DATETIME_BE = "[$-D07041E]d mmm yyyy hh:mm"
MONEY = '#,##0.00" บาท"'
LEVEL_COLORS = ["#C00000", "#F4B183", "#FFE699", "#C5E0B4", "#70AD47", "#375623"]
RATING_COLORS = ["#375623", "#70AD47", "#C5E0B4", "#FFE699", "#F4B183"]
# A conditional number format whose text section shows an empty text result (a KPI not applicable) as N/A.
NOT_ASSESSED_FORMAT = '0;-0;0;"N/A"'


def add_formats(wb, font: str, linear: bool) -> dict[str, Any]:
    """Every cell format of the workbook by name; levels and points show decimals with ``linear``."""
    base = {"font_name": font, "font_size": 14, "valign": "top"}
    cell = {**base, "border": 1, "border_color": "#BFBFBF"}
    level = "0.0000" if linear else "0"
    out = {
        "text": {**base},
        "wrap": {**base, "text_wrap": True},
        "title": {**base, "bold": True, "font_size": 20},
        "subtitle": {**base, "font_size": 15, "font_color": "#404040"},
        "header": {**cell, "bold": True, "text_wrap": True, "bg_color": "#DDEBF7", "align": "center",
                   "valign": "vcenter"},
        "kpi_header": {**cell, "bold": True, "text_wrap": True, "bg_color": "#BDD7EE",
                       "align": "center", "valign": "vcenter"},
        "head_thai": {"font_name": font, "font_size": 14, "bold": True},  # the parts of a column head
        "head_english": {"font_name": font, "font_size": 12, "font_color": "#404040"},
        "cell": cell,
        "hash": {**cell, "font_size": 10},
        "number": {**cell, "num_format": "0.00"},
        "money": {**cell, "num_format": MONEY},
        "count": {**cell, "num_format": COUNT_FORMAT},
        "date": {**cell, "num_format": DATE_FORMAT_BE},
        "datetime": {**cell, "num_format": DATETIME_BE},
        "result": {**cell, "num_format": "0.00"},
        "level": {**cell, "num_format": level, "align": "center"},
        "points": {**cell, "num_format": "0.00" if linear else "0"},
        "weight": {**cell, "num_format": "0", "font_color": "#7F7F7F"},
        "score": {**cell, "num_format": "0.0000", "bold": True},
        "percent": {**cell, "num_format": "0.00", "bold": True},
        "rank": {**cell, "num_format": "0", "align": "center"},
        "aggregate": {**cell, "bold": True, "bg_color": "#F2F2F2"},
        "aggregate_money": {**cell, "bold": True, "bg_color": "#F2F2F2", "num_format": MONEY},
        "aggregate_count": {**cell, "bold": True, "bg_color": "#F2F2F2", "num_format": COUNT_FORMAT},
        "note": {**base, "italic": True, "font_color": "#595959", "font_size": 13},
        "note_right": {**base, "italic": True, "font_color": "#595959", "font_size": 13, "align": "right"},
        "input": {**cell, "bg_color": "#FFF2CC", "locked": False, "bold": True},
        "input_date": {**cell, "bg_color": "#FFF2CC", "locked": False, "bold": True,
                       "num_format": DATE_FORMAT_BE},
        "section": {**base, "bold": True, "font_size": 16, "bg_color": "#BDD7EE"},
    }
    return {k: wb.add_format(v) for k, v in out.items()}
