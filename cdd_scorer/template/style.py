"""How the entry workbooks look: the options a clerk sets, sizes, colours, number and cell formats, and
the printed page's header and footer."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from xlsxwriter.format import Format
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from cdd_scorer.geography import Area
from cdd_scorer.kpi import KpiSet
from cdd_scorer.metadata import template_id
from cdd_scorer.thai import DATE_FORMAT_BE, DATE_FORMAT_BE_TYPED
from cdd_scorer.xlsx import COUNT_FORMAT, MONEY_FORMAT

FONT_SIZE = 14
SMALL_SIZE = 11
LEVEL_SIZE = 12  # the level texts
CHECK_SIZE = SMALL_SIZE  # the check lists
CARD_SIZE = 16  # the scorecard and summary headings
BANNER_SIZE = 12  # the status banner

YELLOW, GREEN, BLUE, DARK_BLUE, GREY = "#FFF2CC", "#E2EFDA", "#DDEBF7", "#BDD7EE", "#595959"

Formats = dict[str, Format]


@dataclass(frozen=True)
class TemplateOptions:
    """How the workbooks look and whom the officer contacts (all optional)."""

    font: str = "TH Sarabun New"
    password: str = ""
    generated_at: dt.datetime | None = None
    clerk_name: str = ""
    clerk_phone: str = ""
    clerk_email: str = ""
    deadline: dt.date | None = None


def add_formats(wb: Workbook, font: str) -> Formats:
    """Every cell format of the template, by name (the yellow input formats are the only unlocked ones)."""
    base = {"font_name": font, "font_size": FONT_SIZE, "valign": "top", "text_wrap": True}
    boxed = {**base, "border": 1, "border_color": "#A6A6A6"}
    unlocked = {**boxed, "locked": False, "bg_color": YELLOW, "valign": "vcenter"}
    preview = {**boxed, "bold": True, "bg_color": GREEN, "valign": "vcenter"}
    return {
        "label": wb.add_format(boxed),
        "small": wb.add_format({**base, "font_size": SMALL_SIZE, "font_color": GREY}),
        "english": wb.add_format({"font_name": font, "font_size": SMALL_SIZE, "font_color": GREY}),
        "bold_run": wb.add_format({"font_name": font, "font_size": FONT_SIZE, "bold": True}),
        "hint": wb.add_format({**boxed, "font_size": SMALL_SIZE, "font_color": GREY}),
        "title": wb.add_format({**base, "bold": True, "font_size": 20, "valign": "vcenter"}),
        "subtitle": wb.add_format({**base, "font_size": 16}),
        "status": wb.add_format({**base, "bold": True, "font_color": "#9C5700", "bg_color": "#FFEB9C",
                                 "font_size": BANNER_SIZE}),
        "heading": wb.add_format({**boxed, "bold": True, "bg_color": DARK_BLUE, "valign": "vcenter"}),
        "card": wb.add_format({**base, "bold": True, "font_size": CARD_SIZE, "bg_color": DARK_BLUE,
                               "valign": "vcenter"}),
        "kpi": wb.add_format({**boxed, "bg_color": BLUE}),
        "level": wb.add_format({**boxed, "font_size": LEVEL_SIZE}),
        "level_reached": wb.add_format({"bg_color": "#C6EFCE", "font_color": "#006100", "bold": True}),
        "money": wb.add_format({**unlocked, "num_format": MONEY_FORMAT}),
        "count": wb.add_format({**unlocked, "num_format": COUNT_FORMAT}),
        "yesno": wb.add_format({**unlocked, "align": "center"}),
        "date": wb.add_format({**unlocked, "num_format": DATE_FORMAT_BE, "align": "left"}),
        "date_typed_be": wb.add_format({"num_format": DATE_FORMAT_BE_TYPED}),
        "text_input": wb.add_format({**unlocked, "valign": "top"}),
        "result": wb.add_format({**preview, "num_format": "0.00"}),
        "score": wb.add_format({**preview, "num_format": "0.0000"}),
        "whole": wb.add_format({**preview, "num_format": "0", "align": "center"}),
        "points": wb.add_format({**preview, "num_format": "0.##"}),
        "preview_text": wb.add_format({**preview, "bold": False, "valign": "top"}),
        "check": wb.add_format({**preview, "bold": False, "valign": "top", "font_size": CHECK_SIZE}),
        "helper": wb.add_format({**base, "num_format": "0.00"}),
    }


def page_header_footer(ws: Worksheet, kpi_set: KpiSet, area: Area, font: str, margin: float = 0.3) -> None:
    """The printed page names the district and the round on top, the template id and page number below,
    ``margin`` inches from the paper's edge."""
    font_code = f'&"{font},Regular"'
    ws.set_header(f"&L{font_code}&12จังหวัด{area.province_name_th} อำเภอ{area.district_name_th} "
                  f"({area.district_code})&R{font_code}&12{kpi_set.round_th}", {"margin": margin})
    ws.set_footer(f"&L{font_code}&10{template_id(kpi_set, area)}&R{font_code}&12หน้า &P / &N", {"margin": margin})
