"""The managers' consolidated workbook, written with xlsxwriter (SPEC §7).

Every derived number is a live formula built by ``excel_formulas`` that reads the criteria sheet's
named cells (``crit_T1_L1``, ``deadline_T3_L5``, ``weight_T1``, ``weight_team``, ``rating_1_min`` …),
and carries the Python engine's value as its cached result, so a manager who edits a threshold
sees everything recalculate while a phone preview still shows the engine's numbers.

Layout: the district rows sit on the same worksheet rows in สรุป, ทีม and รายบุคคล; the detail
sheets hold the raw inputs and every formula of a KPI, the summary reads their scorecard cells.
Under the districts come the province rows (ratio KPIs pooled from summed fields, the others the
mean of levels) and, with several provinces, the national row.

A module per sheet family (``detail``, ``summary``, ``charts``, ``reference``); each builder returns
the positions later sheets read (``layout``), and ``cells.Book`` caches every computed cell's value
for the references to it. With a history, a trend sheet (``trend_sheet``); with committee
adjustments, an adjustments sheet and the adjusted cells marked (``adjustments_sheet``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path

from cdd_scorer import xlsx
from cdd_scorer.consolidated.adjustments_sheet import ADJUSTMENTS_SHEET, mark_adjusted_cells, write_adjustments
from cdd_scorer.consolidated.cells import Book
from cdd_scorer.consolidated.charts import sorted_positions, write_charts
from cdd_scorer.consolidated.detail import write_detail
from cdd_scorer.consolidated.layout import (
    CHARTS_SHEET,
    CRITERIA_SHEET,
    DATA_SHEET,
    DETAIL_SHEETS,
    GROUPS_SHEET,
    ISSUES_SHEET,
    NATIONAL_SHEET,
    SOURCES_SHEET,
    SUMMARY_SHEET,
    UNSCORABLE_TH,
    detail_sheet_name,
    layout_of,
)
from cdd_scorer.consolidated.reference import (
    write_criteria,
    write_data,
    write_groups,
    write_issues,
    write_sources,
)
from cdd_scorer.consolidated.summary import write_national, write_summary
from cdd_scorer.consolidated.trend_sheet import TREND_SHEET, write_trend
from cdd_scorer.history import Adjustment, ProvinceTrend
from cdd_scorer.output_files import atomic_output
from cdd_scorer.results import RoundResult
from cdd_scorer.thai import thai_wall_clock

__all__ = [
    "ADJUSTMENTS_SHEET", "CHARTS_SHEET", "CRITERIA_SHEET", "DATA_SHEET", "DETAIL_SHEETS", "GROUPS_SHEET",
    "ISSUES_SHEET", "NATIONAL_SHEET", "SOURCES_SHEET", "SUMMARY_SHEET", "TREND_SHEET", "UNSCORABLE_TH",
    "sorted_positions", "write_consolidated",
]


def write_consolidated(result: RoundResult, path: Path, *, generated_at: dt.datetime | None = None,
                       font: str = "TH Sarabun New", trend: Mapping[str, ProvinceTrend] | None = None,
                       adjustments: Sequence[Adjustment] = ()) -> Path:
    """Write the consolidated workbook of a round to ``path`` (atomically).

    Without ``generated_at`` the document time is the newest input file's saved time, so the same
    inputs always give a byte-identical workbook. ``trend``: the earlier rounds of the provinces that
    have any (a trend sheet); ``adjustments``: the committee's decisions applied (an adjustments sheet,
    the adjusted cells marked)."""
    with atomic_output(path) as tmp:
        _write(result, tmp, generated_at, font, trend or {}, adjustments)
    return path


def _write(result: RoundResult, path: Path, generated_at: dt.datetime | None, font: str,
           trend: Mapping[str, ProvinceTrend], adjustments: Sequence[Adjustment]) -> None:
    ks = result.kpi_set
    when = _document_time(result, generated_at)
    wb = xlsx.Workbook(str(path), {"strings_to_formulas": False, "strings_to_numbers": False,
                                   "strings_to_urls": False})
    wb.set_properties({"title": f"{ks.title_th} — สรุปผล", "subject": ks.round_th,
                       "company": "กรมการพัฒนาชุมชน", "created": when})
    book = Book(wb, ks, font, linear=result.method == "linear")
    layout = layout_of(result)
    # The sheets in their tab order; written below in the order their references need.
    summary_ws = wb.add_worksheet(SUMMARY_SHEET)
    detail_ws = {sc.id: wb.add_worksheet(detail_sheet_name(sc)) for sc in ks.scorecards}
    national_ws = wb.add_worksheet(NATIONAL_SHEET) if result.national is not None else None
    charts_ws = wb.add_worksheet(CHARTS_SHEET)
    trend_ws = wb.add_worksheet(TREND_SHEET) if trend else None
    adjustments_ws = wb.add_worksheet(ADJUSTMENTS_SHEET) if adjustments else None
    groups_ws = wb.add_worksheet(GROUPS_SHEET)
    criteria_ws = wb.add_worksheet(CRITERIA_SHEET)
    data_ws = wb.add_worksheet(DATA_SHEET)
    issues_ws = wb.add_worksheet(ISSUES_SHEET)
    sources_ws = wb.add_worksheet(SOURCES_SHEET)
    write_criteria(book, criteria_ws, result.method)
    details = {sc.id: write_detail(book, detail_ws[sc.id], sc, layout) for sc in ks.scorecards}
    if adjustments_ws is not None:
        mark_adjusted_cells(book, detail_ws, details, layout, adjustments)
        write_adjustments(book, adjustments_ws, adjustments)
    summary = write_summary(book, summary_ws, layout, details, result.method, when, generated_at is not None)
    if national_ws is not None:
        write_national(book, national_ws, layout, summary)
    write_groups(book, groups_ws, layout, details)
    write_charts(book, charts_ws, layout, details, summary.columns)
    if trend_ws is not None:
        write_trend(book, trend_ws, layout, summary, trend)
    write_data(book, data_ws, layout)
    write_issues(book, issues_ws, result.problems)
    write_sources(book, sources_ws, layout, result.sources)
    summary_ws.activate()
    wb.close()


def _document_time(result: RoundResult, generated_at: dt.datetime | None) -> dt.datetime:
    if generated_at is not None:
        return generated_at.replace(microsecond=0, tzinfo=None)
    saved = [thai_wall_clock(s.saved_at) for s in result.sources if s.saved_at is not None]
    return max(saved) if saved else dt.datetime.combine(result.kpi_set.round_end, dt.time())
