"""Checking one district's raw cells: parse each value leniently, then apply the card's rules.

Pure functions: raw cells in, clean values and ``Problem`` objects out. A KPI whose inputs have
an error cannot be scored; warnings never block.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from cdd_scorer.exact import exact, round_half_away, typed_decimal
from cdd_scorer.kpi import Field, KpiSet
from cdd_scorer.parsing import is_error_value, parse_cell
from cdd_scorer.problems import CATALOGUE, Problem
from cdd_scorer.reading import RawCell
from cdd_scorer.scoring import is_not_applicable, kpi_result
from cdd_scorer.thai import be_date

MONEY_DECIMALS = 2


@dataclass
class CheckedValues:
    """Clean values of one district, the problems found, and the KPIs that cannot be scored."""

    values: dict[str, Any]
    problems: list[Problem] = field(default_factory=list)
    unscorable: set[str] = field(default_factory=set)

    @property
    def has_errors(self) -> bool:
        return any(p.severity == "error" for p in self.problems)


def format_value(value: Any) -> str:
    """A value as the clerk should see it quoted in a message: 1,234.5, 2,000,000."""
    if isinstance(value, float | Decimal) and not isinstance(value, bool):
        value = typed_decimal(value)
        if value == value.to_integral_value():
            return f"{value:,.0f}"
        return f"{value:,f}".rstrip("0").rstrip(".")
    return "" if value is None else str(value)


def money(value: Decimal) -> Decimal:
    """An amount in baht as the form holds it: 2 decimals, half away from zero (Excel's ROUND)."""
    return round_half_away(value, MONEY_DECIMALS)


def check_values(kpi_set: KpiSet, cells: dict[str, RawCell], where: dict[str, str]
                 ) -> CheckedValues:
    """Parse and check every field; ``where`` gives file, province_code and district_code."""
    out = CheckedValues({})
    by_id = {f.id: f for f in kpi_set.fields}

    def problem(code: str, fld: Field, value: Any = None, **params: Any) -> None:
        cell = cells.get(fld.id)
        out.problems.append(Problem(
            code, sheet=cell.sheet if cell else "", cell=cell.cell if cell else "", field=fld.id,
            value=format_value(value) if value is not None else "",
            params={"label": fld.label_th, "label_en": fld.label_en, **params}, **where))
        if fld.kpi_id and CATALOGUE[code].severity == "error":
            out.unscorable.add(fld.kpi_id)

    for fld in kpi_set.fields:
        raw = cells[fld.id].value if fld.id in cells else None
        if is_error_value(raw):
            problem("error_value", fld, raw)
            out.values[fld.id] = None
            continue
        parsed = parse_cell(fld.type, raw)
        if not parsed.ok:
            problem(parsed.problem, fld, raw, expected=parsed.expected_th,
                    expected_en=parsed.expected_en)
            out.values[fld.id] = None
            continue
        value = parsed.value
        if value is None:
            out.values[fld.id] = None
            if fld.kpi_id and not fld.optional and fld.type != "text":
                problem("required_missing", fld)
            continue
        if fld.type == "money" and money(value) != value:
            problem("too_many_decimals", fld, value)
            value = money(value)
        out.values[fld.id] = value
        if fld.type in ("money", "count"):
            if value < 0:
                problem("negative", fld, value)
            elif fld.positive and value == 0:
                problem("not_positive", fld, value)
            if fld.type == "count" and value != value.to_integral_value():
                problem("not_whole", fld, value)
        if fld.type == "date" and not kpi_set.fiscal_year_start <= value <= kpi_set.fiscal_year_end:
            # A KPI's date decides a level, so a mistyped year (2564 for 2565) must be corrected; the
            # reporter's date only dates the report.
            problem("date_outside_fiscal_year" if fld.kpi_id else "report_date_outside_fiscal_year",
                    fld, be_date(value))
    for fld in kpi_set.fields:
        whole = by_id.get(fld.at_most) if fld.at_most else None
        part_value, whole_value = out.values.get(fld.id), out.values.get(fld.at_most or "")
        if whole and part_value is not None and whole_value is not None and part_value > whole_value:
            problem("part_exceeds_whole", fld, part_value, other_label=whole.label_th,
                    other_label_en=whole.label_en, other_value=format_value(whole_value))
    _check_usual_ranges(kpi_set, out, where)
    return out


def _check_usual_ranges(kpi_set: KpiSet, out: CheckedValues, where: dict[str, str]) -> None:
    for kpi in kpi_set.kpis:
        if kpi.usual_range is None or kpi.id in out.unscorable or is_not_applicable(kpi, out.values):
            continue
        result = kpi_result(kpi, out.values, kpi_set.result_decimals)
        low, high = kpi.usual_range
        if result is not None and not exact(low) <= result <= exact(high):
            out.problems.append(Problem(
                "result_unusual", field=kpi.id, value=format_value(result),
                params={"kpi": kpi.id, "low": format_value(typed_decimal(low)),
                        "high": format_value(typed_decimal(high))}, **where))
