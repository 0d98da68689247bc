"""Exact numbers at every boundary (SPEC §4): the engine against an independent fraction computation,
and the workbooks' result and level formulas, recalculated by LibreOffice, against the engine.

Cases are built to land exactly on, just above and just below every threshold and every rounding
boundary (x.xx5) of every KPI whose level comes from a result; thousands of them, from a seeded generator.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter

from cdd_scorer import excel_formulas as xf
from cdd_scorer.kpi import Kpi, KpiSet
from cdd_scorer.parsing import parse_number
from cdd_scorer.scoring import score_kpi
from cdd_scorer.validation import money

CASES_PER_THRESHOLD = 100
# Offsets from a threshold, in percentage points: on it, either side of the rounding boundary, one step away.
OFFSETS = [Fraction(x) for x in ("0", "-0.005", "-0.0051", "-0.0049", "0.0049", "0.005", "-0.01", "0.01",
                                 "-0.00001", "0.00001")]


# The two inputs of each result, in the order the card's formula reads them (written here, not derived).
_ROLES = {
    "T1": ("t1_budget_disbursed", "t1_budget_allocated"),
    "T2": ("t2_projects_achieved", "t2_projects_planned"),
    "I2": ("i2_households_helped", "i2_households_target"),
    "I4": ("i4_overdue_debt_baseline", "i4_overdue_debt_current"),
    "I5": ("i5_online_sales_current", "i5_online_sales_baseline"),
}


@dataclass(frozen=True)
class Case:
    kpi_id: str
    values: dict[str, float]  # as a spreadsheet cell holds them (binary floats)


def _oracle_level(kpi: Kpi, values: dict[str, Fraction]) -> tuple[Fraction | None, int]:
    """The card read by hand: the exact result, rounded half away from zero in integers, compared."""
    a, b = (values[f] for f in _ROLES[kpi.id])
    formulas = {
        "T1": lambda d, al: d / al * 100, "T2": lambda ac, pl: ac / pl * 100, "I2": lambda h, t: h / t * 100,
        "I4": lambda base, cur: (base - cur) / base * 100, "I5": lambda cur, base: (cur - base) / base * 100,
    }
    if kpi.id == "I4" and a == 0:
        return None, 0 if b > 0 else -1  # -1: not applicable
    if kpi.id == "I5" and b == 0:
        return None, -1
    exact = formulas[kpi.id](a, b)
    hundredths = exact * 100
    rounded = Fraction((abs(hundredths.numerator) * 2 + hundredths.denominator) // (2 * hundredths.denominator))
    rounded = (-rounded if hundredths < 0 else rounded) / 100
    level = 0
    for lv in kpi.levels:
        t = Fraction(str(lv.condition.value))
        if (rounded > t) if lv.condition.op == ">" else (rounded >= t):
            level = lv.number
    return rounded, level


def _whole(rng: random.Random, low: int, high: int, unit: int) -> int:
    """A random multiple of ``unit`` in [low, high) (at least one unit)."""
    return max(1, rng.randrange(low, high) // unit) * unit


def boundary_cases(kpi_set: KpiSet, seed: int = 2565) -> list[Case]:
    """Inputs whose result lands on, or within a hair of, each threshold and each rounding boundary.

    Half the cases pick the whole (in units: households, projects, satang) as a multiple of the
    target's denominator, so the result is the target exactly (4.995 % of 2,200.00 baht); the other
    half take any whole and the nearest part, landing a hair either side of it.
    """
    rng = random.Random(seed)
    cases: list[Case] = []
    for kpi in kpi_set.kpis:
        if kpi.id not in _ROLES:
            continue
        kinds = {f.id: f.type for f in kpi.fields}
        first, second = _ROLES[kpi.id]
        scale = 1 if kinds[first] == "count" else 100  # values in units: counts, or satang
        high = 400_000 if scale == 1 else 5_000_000_000 if kpi.id == "T1" else 500_000_000
        for lv in kpi.levels:
            for offset in OFFSETS:
                share = (Fraction(str(lv.condition.value)) + offset) / 100
                for i in range(CASES_PER_THRESHOLD // len(OFFSETS)):
                    whole = _whole(rng, 1, high, share.denominator if i % 2 == 0 else 1)
                    part = round(share * whole)  # exact when whole is a multiple of the denominator
                    if kpi.id == "I4":  # (baseline − current) / baseline: part is the reduction
                        units = {first: whole, second: max(0, whole - part)}
                    elif kpi.id == "I5":  # (current − baseline) / baseline: part is the growth
                        units = {first: whole + part, second: whole}
                    else:  # part / whole
                        units = {first: min(whole, max(0, part)), second: whole}
                    cases.append(Case(kpi.id, {k: float(Fraction(v, scale)) for k, v in units.items()}))
    return cases


def _read_as_the_batch_does(kpi: Kpi, values: dict[str, float]) -> dict[str, Decimal]:
    """Cell floats through the reader's parsing and the checks' money rounding."""
    kinds = {f.id: f.type for f in kpi.fields}
    clean = {}
    for field_id, raw in values.items():
        parsed = parse_number(raw).value
        clean[field_id] = money(parsed) if kinds[field_id] == "money" else parsed
    return clean


@pytest.fixture(scope="module")
def cases(kpi_set) -> list[Case]:
    found = boundary_cases(kpi_set)
    assert len(found) > 2_000
    return found


def test_engine_equals_an_exact_fraction_computation_at_every_boundary(cases, kpi_set):
    wrong = []
    for case in cases:
        kpi = kpi_set.kpi(case.kpi_id)
        clean = _read_as_the_batch_does(kpi, case.values)
        typed = {k: Fraction(repr(v)) for k, v in case.values.items()}
        assert {k: Fraction(v) for k, v in clean.items()} == typed  # the reader keeps the typed decimal
        expected_result, expected_level = _oracle_level(kpi, typed)
        score = score_kpi(kpi, clean, kpi_set)
        got = (None if score.result is None else Fraction(score.result), score.level if score.applicable else -1)
        if got != (expected_result, expected_level):
            wrong.append((case, got, (expected_result, expected_level)))
    assert wrong == []


def test_boundaries_include_the_cases_binary_floats_get_wrong(cases, kpi_set):
    """The generator reaches the trap of SPEC §4: results on a rounding boundary that float
    arithmetic puts a hair below it (2200 − 2090.11 = 109.88999999999987)."""
    def float_result(case: Case) -> float:
        a, b = (case.values[f] for f in _ROLES[case.kpi_id])
        if case.kpi_id == "I4":
            return (a - b) / a * 100
        if case.kpi_id == "I5":
            return (a - b) / b * 100
        return a / b * 100

    traps = 0
    for case in cases:
        kpi = kpi_set.kpi(case.kpi_id)
        exact_result, _ = _oracle_level(kpi, {k: Fraction(repr(v)) for k, v in case.values.items()})
        if exact_result is None:
            continue
        naive = Decimal(float_result(case)).quantize(Decimal("0.01"), rounding="ROUND_HALF_UP")
        traps += naive != Decimal(exact_result.numerator) / exact_result.denominator
    assert traps > 20


def _boundary_workbook(cases: list[Case], kpi_set: KpiSet, path: Path) -> list[tuple[Case, int]]:
    """One sheet per KPI: the two inputs, then the result and level formulas the workbooks use."""
    wb = xlsxwriter.Workbook(str(path))
    rows: list[tuple[Case, int]] = []
    sheets: dict[str, object] = {}
    for case in cases:
        kpi = kpi_set.kpi(case.kpi_id)
        ws = sheets.get(kpi.id) or sheets.setdefault(kpi.id, wb.add_worksheet(kpi.id))
        row = sum(1 for c, _ in rows if c.kpi_id == kpi.id)
        cols = {field_id: i for i, field_id in enumerate(kpi.result.fields)}
        for field_id, value in case.values.items():
            ws.write_number(row, cols[field_id], value)

        def ref(field_id: str, row: int = row, cols: dict[str, int] = cols) -> str:
            return f"{'AB'[cols[field_id]]}{row + 1}"

        ws.write_formula(row, 2, "=" + xf.result(kpi, ref, kpi_set.result_decimals))
        ws.write_formula(row, 3, "=" + xf.level(kpi, ref, f"C{row + 1}", xf.literal_crit))
        rows.append((case, row))
    wb.close()
    return rows


def test_workbook_formulas_recalculated_by_libreoffice_equal_the_engine_at_every_boundary(
        cases, kpi_set, libreoffice, tmp_path):
    path = tmp_path / "boundaries.xlsx"
    rows = _boundary_workbook(cases, kpi_set, path)
    (recalculated,) = libreoffice.recalculate([path], tmp_path / "recalculated")
    wb = openpyxl.load_workbook(recalculated, data_only=True)
    wrong = []
    for case, row in rows:
        kpi = kpi_set.kpi(case.kpi_id)
        score = score_kpi(kpi, _read_as_the_batch_does(kpi, case.values), kpi_set)
        result, level = (wb[kpi.id].cell(row + 1, col).value for col in (3, 4))
        expected_result = None if score.result is None else float(score.result)
        expected_level = score.level if score.applicable else None
        if (None if result == "" else result, None if level == "" else level) != (expected_result, expected_level):
            wrong.append((case, (result, level), (expected_result, expected_level)))
    assert wrong == []
