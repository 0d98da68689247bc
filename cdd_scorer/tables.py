"""The CSV outputs of a round: ``scores.csv`` and ``issues.csv`` (UTF-8 with BOM for Excel)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from cdd_scorer.exact import Number, round_half_away
from cdd_scorer.output_files import atomic_output
from cdd_scorer.problems import Problem
from cdd_scorer.results import RoundResult

if TYPE_CHECKING:  # the history records rows of these tables: it imports this module
    from cdd_scorer.history import Adjustment

CSV_ENCODING = "utf-8-sig"
ISSUE_COLUMNS = ["file", "province_code", "district_code", "sheet", "cell", "field", "severity",
                 "message_th", "message_en", "value", "code", "action_th", "action_en"]
_FORMULA_START = re.compile(r"^[=+@\t\r]|^-(?![\d.])")


def csv_number(value: Number | None, decimals: int) -> str:
    """A number as shown: rounded once (half away from zero) to ``decimals``, no trailing zeros; empty for None."""
    if value is None:
        return ""
    text = f"{round_half_away(value, decimals):f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def csv_text(text: str) -> str:
    """Officer text made safe for a spreadsheet: a leading = + - @ cannot start a formula."""
    return "'" + text if _FORMULA_START.match(text) else text


def scores_table(result: RoundResult, adjustments: Iterable[Adjustment] = ()) -> pd.DataFrame:
    """One row per district, the columns of ``scores.csv``; ``adjusted`` names what the committee's
    ``adjustments`` changed (``T2 level; t1_budget_disbursed``), empty when nothing."""
    kpis = result.kpi_set.kpis
    cards = [sc.id for sc in result.kpi_set.scorecards]
    columns = ["province_code", "district_code", "district_name_th", "status", *(k.id for k in kpis),
               *(f"{c}_score" for c in cards), *(f"{c}_percent" for c in cards), "overall_percent", "rating",
               "rank", "adjusted"]
    adjusted: dict[str, list[str]] = {}
    for a in adjustments:
        adjusted.setdefault(a.district_code, []).append(a.item)
    ks = result.kpi_set
    rows = []
    for province in result.provinces:
        for d in province.districts:
            score = d.score
            row = {"province_code": province.code, "district_code": d.area.district_code,
                   "district_name_th": d.area.district_name_th, "status": d.status}
            for kpi in kpis:
                row[kpi.id] = csv_number(score.kpis[kpi.id].level, ks.score_decimals) if score else ""
            for sc in result.kpi_set.scorecards:  # the column order comes from ``columns``
                card = score.scorecards[sc.id] if score else None
                row[f"{sc.id}_score"] = csv_number(card.score if card else None, ks.score_decimals)
                row[f"{sc.id}_percent"] = csv_number(card.percent if card else None, ks.percent_decimals)
            row["overall_percent"] = csv_number(score.overall_percent if score else None, ks.percent_decimals)
            row["rating"] = score.rating.name_th if score and score.rating else ""
            row["rank"] = "" if d.rank is None else str(d.rank)
            row["adjusted"] = "; ".join(adjusted.get(d.area.district_code, []))
            rows.append(row)
    return pd.DataFrame(rows, columns=columns, dtype="string")


def issues_table(problems: list[Problem]) -> pd.DataFrame:
    """One row per problem, the columns of ``issues.csv``."""
    rows = [{"file": p.file, "province_code": p.province_code, "district_code": p.district_code,
             "sheet": p.sheet, "cell": p.cell, "field": p.field, "severity": p.severity,
             "message_th": p.message_th, "message_en": p.message_en, "value": csv_text(p.value),
             "code": p.code, "action_th": p.action_th, "action_en": p.action_en}
            for p in problems]
    return pd.DataFrame(rows, columns=ISSUE_COLUMNS, dtype="string")


def write_csv(table: pd.DataFrame, path: Path) -> Path:
    with atomic_output(path) as tmp:
        table.to_csv(tmp, index=False, encoding=CSV_ENCODING, lineterminator="\r\n")
    return path
