"""The managers' workbook (SPEC §7): every formula agrees with LibreOffice, editing the criteria
sheet recalculates like the Python engine with the same change in the card, charts read their
tables, officer text stays text and the bytes are reproducible."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import html
import re
import tomllib
import zipfile
from fractions import Fraction
from pathlib import Path

import openpyxl
import pytest
from xlsxwriter.worksheet import Worksheet

from cdd_scorer import excel_formulas as xf
from cdd_scorer import xlsx
from cdd_scorer.consolidated import (
    CHARTS_SHEET,
    CRITERIA_SHEET,
    DATA_SHEET,
    ISSUES_SHEET,
    NATIONAL_SHEET,
    SUMMARY_SHEET,
    UNSCORABLE_TH,
    sorted_positions,
    write_consolidated,
)
from cdd_scorer.demo import WORKED_EXAMPLE, synthetic_answers
from cdd_scorer.exact import round_half_away
from cdd_scorer.filling import fill_template
from cdd_scorer.geography import districts_of, find_province
from cdd_scorer.kpi import KpiSet, build_kpi_set, default_kpi_set_path
from cdd_scorer.problems import Problem
from cdd_scorer.results import RoundResult
from cdd_scorer.round import run_round
from cdd_scorer.scoring import competition_ranks, score_district, score_province
from cdd_scorer.template import template_file_name, write_templates
from cdd_scorer.thai import Status

pytestmark = pytest.mark.filterwarnings("ignore:.*extension is not supported:UserWarning")
GENERATED = dt.datetime(2022, 10, 5, 9, 30)
INJECTIONS = ["=1+1", "+66-1", "-2+3", "@SUM(A1)", '=HYPERLINK("http://x.invalid","click")']
# A what-if a manager might try: stricter T1 and T2, a later T3 deadline, other weights and bands.
CRITERIA_CHANGES = {"crit_T1_L2": 88, "crit_T2_L3": 86.5, "crit_I2_L3": 75, "crit_I6_L2": 3,
                    "deadline_T3_L5": dt.datetime(2022, 8, 15), "weight_T1": 30, "weight_T3": 30,
                    "weight_team": 60, "weight_individual": 40, "rating_4_min": 55}


def changed_card(kpi_set: KpiSet) -> KpiSet:
    """The card with CRITERIA_CHANGES made in its TOML data (the Python side of the what-if)."""
    raw = copy.deepcopy(tomllib.loads(default_kpi_set_path().read_text(encoding="utf-8")))
    kpis = {k["id"]: k for k in raw["kpis"]}
    for name, value in CRITERIA_CHANGES.items():
        kind, _, rest = name.partition("_")
        if kind in ("crit", "deadline"):
            kpi_id, level = rest.split("_L")
            when = kpis[kpi_id]["levels"][int(level) - 1]["when"]
            if kind == "deadline":
                when["on_or_before"] = value.date()
            else:
                when["value"] = value
        elif kind == "weight" and rest in kpis:
            kpis[rest]["weight"] = value
        elif kind == "weight":
            raw["scoring"]["scorecard_weights"][rest] = value
        else:
            raw["rating_bands"][int(rest.split("_")[0]) - 1]["min_percent"] = value
    return build_kpi_set(raw)


@pytest.fixture(scope="module")
def round_result(tmp_path_factory, kpi_set, template_dir, khon_kaen_areas) -> RoundResult:
    """Two provinces: Khon Kaen (the worked example, one with N/A KPIs, one with errors, the rest
    missing) and Samut Songkhram (two synthetic districts, one missing)."""
    inputs = tmp_path_factory.mktemp("inputs")
    a, b, c = khon_kaen_areas[:3]
    fill_template(template_dir / template_file_name(a), WORKED_EXAMPLE, inputs / template_file_name(a))
    not_applicable = {**WORKED_EXAMPLE, "i4_overdue_debt_baseline": 0, "i4_overdue_debt_current": 0,
                      "i5_online_sales_baseline": 0, "t2_projects_achieved": 24}
    fill_template(template_dir / template_file_name(b), not_applicable, inputs / template_file_name(b))
    wrong = {**WORKED_EXAMPLE, "t1_budget_disbursed": 2_600_000, "i7_activities_done": "nine"}
    fill_template(template_dir / template_file_name(c), wrong, inputs / template_file_name(c))
    samut = districts_of(find_province("75"))
    other_templates = tmp_path_factory.mktemp("templates75")
    for area, path in zip(samut[:2], write_templates(kpi_set, samut[:2], other_templates)):
        fill_template(path, synthetic_answers(kpi_set, area), inputs / path.name)
    result = run_round(inputs, kpi_set)
    # Officer text that looks like formulas, as it could arrive in any text cell or problem value.
    first = next(d for d in result.districts if d.status == "complete")
    for field_id, text in zip(["reporter_name", "reporter_position", "reporter_phone", "t1_note",
                               "t3_website_url"], INJECTIONS):
        first.checked.values[field_id] = text
    result.problems.append(Problem("wrong_type", district_code=first.area.district_code,
                                   value=INJECTIONS[-1], field="t1_note", params={"expected": "ตัวเลข"}))
    return result


@pytest.fixture(scope="module")
def written(tmp_path_factory, round_result) -> tuple[Path, Path]:
    """The step and the linear workbook of the round."""
    out = tmp_path_factory.mktemp("consolidated")
    step = write_consolidated(round_result, out / "step.xlsx", generated_at=GENERATED)
    linear_result = rescore(round_result, round_result.kpi_set, "linear")
    return step, write_consolidated(linear_result, out / "linear.xlsx", generated_at=GENERATED)


@pytest.fixture(scope="module")
def workbooks(written, libreoffice) -> dict[str, tuple[Path, Path]]:
    """step, linear and what-if workbooks with their LibreOffice-recalculated copies (one soffice run)."""
    step, linear = written
    out = step.parent
    whatif = out / "whatif.xlsx"
    wb = openpyxl.load_workbook(step)
    for name, value in CRITERIA_CHANGES.items():
        for sheet, cell in wb.defined_names[name].destinations:
            wb[sheet][cell.replace("$", "")].value = value
    wb.save(whatif)
    recalculated = libreoffice.recalculate([step, linear, whatif], out / "recalculated")
    return dict(zip(["step", "linear", "whatif"], zip([step, linear, whatif], recalculated)))


def rescore(result: RoundResult, kpi_set: KpiSet, method: str) -> RoundResult:
    """The round scored again by the Python engine with another card or method."""
    provinces = []
    for prov in result.provinces:
        districts = []
        for d in prov.districts:
            d = copy.copy(d)
            if d.checked is not None:
                d.score = score_district(kpi_set, d.checked.values, method, d.checked.unscorable,
                                         complete=d.status == "complete")
            districts.append(d)
        for d, rank in zip(districts, competition_ranks(
                [d.score.overall_percent if d.score else None for d in districts])):
            d.rank = rank
        summary = score_province(kpi_set, [(d.checked.values, d.score) for d in districts if d.score], method)
        provinces.append(dataclasses.replace(prov, districts=districts, summary=summary))
    national = score_province(kpi_set, [(d.checked.values, d.score) for p in provinces for d in p.districts
                                        if d.score], method) if result.national else None
    return RoundResult(kpi_set, method, provinces, result.problems, result.sources, national)


def formula_cells(path: Path) -> list[tuple[str, str, str]]:
    wb = openpyxl.load_workbook(path)
    return [(ws.title, c.coordinate, c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row
            if isinstance(c.value, str) and c.value.startswith("=")]


def same(a, b) -> bool:
    a, b = ("" if a is None else a), ("" if b is None else b)
    if isinstance(a, int | float) and isinstance(b, int | float):
        return abs(a - b) < 1e-9
    return a == b


def summary_table(path: Path) -> dict[str, dict[str, object]]:
    """Rows of the summary sheet by district code (or province label), keyed by header."""
    ws = openpyxl.load_workbook(path, data_only=True)[SUMMARY_SHEET]
    heads = [str(c.value or "") for c in ws[4]]
    rows = {}
    for r in ws.iter_rows(min_row=5, values_only=True):
        key = r[1] if isinstance(r[1], str) and r[1].isdigit() else r[0]
        if key:
            rows.setdefault(str(key), dict(zip(heads, r)))
    return rows


def shown(value: object, decimals: int) -> object:
    """A number as the workbook shows it (rounded once); anything else as it is."""
    return round_half_away(value, decimals) if isinstance(value, int | float | Fraction) else value


def blank_to_none(value: object) -> object:
    return None if value == "" else value


def column(heads_key: str, table_row: dict[str, object]) -> object:
    return next(v for k, v in table_row.items() if k.startswith(heads_key))


@pytest.mark.parametrize("method", ["step", "linear"])
def test_every_formula_caches_the_value_libreoffice_computes(workbooks, method):
    original, recalculated = workbooks[method]
    cached = openpyxl.load_workbook(original, data_only=True)
    fresh = openpyxl.load_workbook(recalculated, data_only=True)
    cells = formula_cells(original)
    assert len(cells) > 500
    wrong = [(sheet, cell, cached[sheet][cell].value, fresh[sheet][cell].value, formula[:120])
             for sheet, cell, formula in cells
             if not same(cached[sheet][cell].value, fresh[sheet][cell].value)]
    assert wrong == []


def test_linear_workbook_interpolates_between_thresholds(workbooks, round_result):
    linear = rescore(round_result, round_result.kpi_set, "linear")
    expected = {d.area.district_code: d.score.overall_percent for d in linear.districts if d.score}
    rows = summary_table(workbooks["linear"][1])
    assert {code: shown(blank_to_none(column("ร้อยละภาพรวม", rows[code])), 2) for code in expected} == expected
    levels = [column(f"ระดับ {k.id}", row) for row in rows.values() for k in round_result.kpi_set.kpis]
    assert any(isinstance(v, float) and not v.is_integer() for v in levels)


def test_editing_the_criteria_sheet_recalculates_like_the_engine_with_the_changed_card(
        workbooks, round_result):
    expected = rescore(round_result, changed_card(round_result.kpi_set), "step")
    rows = summary_table(workbooks["whatif"][1])
    before = summary_table(workbooks["step"][1])
    changed = 0
    for d in expected.districts:
        row = rows[d.area.district_code]
        if d.score is None:
            continue
        assert shown(blank_to_none(column("ร้อยละภาพรวม", row)), 2) == d.score.overall_percent
        assert blank_to_none(column("ผลการประเมิน", row)) == (d.score.rating.name_th if d.score.rating else None)
        assert blank_to_none(column("ลำดับ", row)) == d.rank
        for kpi in expected.kpi_set.kpis:
            level = d.score.kpis[kpi.id].level
            cell = blank_to_none(column(f"ระดับ {kpi.id}", row))
            assert cell == (UNSCORABLE_TH if not d.score.kpis[kpi.id].scorable else level)
        changed += column("ร้อยละภาพรวม", row) != column("ร้อยละภาพรวม", before[d.area.district_code])
    assert changed > 0
    for prov in expected.provinces:
        assert shown(column("ร้อยละภาพรวม", rows[f"จังหวัด{prov.name_th}"]), 2) == prov.summary.overall_percent


def test_province_and_national_rows_match_the_engine(workbooks, round_result):
    rows = summary_table(workbooks["step"][1])
    for prov in round_result.provinces:
        row = rows[f"จังหวัด{prov.name_th}"]
        assert shown(column("ร้อยละภาพรวม", row), 2) == prov.summary.overall_percent
        for kpi in round_result.kpi_set.kpis:
            assert shown(blank_to_none(column(f"ระดับ {kpi.id}", row)), 4) == shown(prov.summary.kpis[kpi.id].level, 4)
    national = openpyxl.load_workbook(workbooks["step"][1], data_only=True)[NATIONAL_SHEET]
    labels = [r[0] for r in national.iter_rows(min_row=5, values_only=True) if r[0]]
    assert labels == [f"จังหวัด{p.name_th}" for p in round_result.provinces] + ["ทั้งประเทศ (รวมทุกจังหวัด)"]
    last = [r for r in national.iter_rows(min_row=5, values_only=True) if r[0]][-1]
    assert float(round_result.national.overall_percent) in last


def test_counts_of_districts_by_status(workbooks, round_result):
    ws = openpyxl.load_workbook(workbooks["step"][1], data_only=True)[SUMMARY_SHEET]
    counts = {r[0]: r[3:8] for r in ws.iter_rows(values_only=True) if r[0] and isinstance(r[3], int)}
    for prov in round_result.provinces:
        expected = (len(prov.districts), len(prov.districts) - prov.count("missing"), prov.count("complete"),
                    prov.count("needs_correction"), prov.count("missing"))
        assert counts[f"จังหวัด{prov.name_th}"] == expected


def test_district_with_errors_keeps_scorable_levels_but_has_no_scores(workbooks, round_result):
    wrong = next(d for d in round_result.districts if d.status == "needs_correction" and d.score)
    row = summary_table(workbooks["step"][1])[wrong.area.district_code]
    assert row["สถานะ\nStatus"] == Status.NEEDS_CORRECTION.th
    assert column("ร้อยละภาพรวม", row) in ("", None)
    assert column("ลำดับ", row) in ("", None)
    for kpi in round_result.kpi_set.kpis:
        score = wrong.score.kpis[kpi.id]
        assert blank_to_none(column(f"ระดับ {kpi.id}", row)) == (score.level if score.scorable else UNSCORABLE_TH)


def test_criteria_cells_carry_the_documented_names(workbooks, round_result):
    wb = openpyxl.load_workbook(workbooks["step"][0])
    names = set(wb.defined_names)
    for kpi in round_result.kpi_set.kpis:
        assert xf.weight_name(kpi) in names
        for lv in kpi.levels:
            if xf.has_criterion(lv.condition):
                assert xf.crit_name(kpi, lv.number) in names
    assert {"weight_team", "weight_individual", "crit_T1_L1", "deadline_T3_L5"} <= names
    assert all(dest[0] == CRITERIA_SHEET for n in names if n.startswith(("crit_", "deadline_", "weight_"))
               for dest in wb.defined_names[n].destinations)


def test_charts_read_the_live_tables(workbooks, round_result):
    original, recalculated = workbooks["step"]
    with zipfile.ZipFile(original) as zf:
        charts = [zf.read(n).decode() for n in sorted(zf.namelist()) if n.startswith("xl/charts/chart")]
    assert len(charts) >= 4
    fresh = openpyxl.load_workbook(recalculated, data_only=True)
    formulas = {(s, c) for s, c, _ in formula_cells(original)}

    def values(ref: str) -> list:
        sheet, cells = ref.rsplit("!", 1)
        rows = fresh[sheet.strip("'")][cells.replace("$", "")]
        return [c.value for r in rows for c in r]

    def is_live(ref: str) -> bool:
        """Every number the series plots is a formula result (missing districts are blank)."""
        sheet, cells = ref.rsplit("!", 1)
        ws = fresh[sheet.strip("'")]
        numbers = [c for r in ws[cells.replace("$", "")] for c in r if isinstance(c.value, int | float)]
        return bool(numbers) and all((ws.title, c.coordinate) in formulas for c in numbers)

    series = [re.findall(r"<c:val><c:numRef><c:f>([^<]+)</c:f>", c) for c in charts]
    assert all(s and all(is_live(ref) for ref in s) for s in series)
    sorted_values = [v for v in values(series[0][0]) if isinstance(v, float | int)]
    assert sorted_values == sorted(sorted_values, reverse=True)
    scored = [float(d.score.overall_percent) for d in round_result.districts if d.score and d.score.overall_percent]
    assert sorted_values == sorted(scored, reverse=True)
    assert f"'{CHARTS_SHEET}'" in series[0][0]
    distribution = next(s for s in series if len(s) == 6)
    per_kpi = [sum(col) for col in zip(*(values(ref) for ref in distribution))]
    assert per_kpi == [sum(1 for d in round_result.districts if d.score and d.score.kpis[k.id].level is not None)
                       for k in round_result.kpi_set.kpis]


def test_officer_text_is_written_as_text(workbooks):
    original, recalculated = workbooks["step"]
    for path in (original, recalculated):
        wb = openpyxl.load_workbook(path)
        found = [c for ws in (wb[DATA_SHEET], wb[ISSUES_SHEET]) for row in ws.iter_rows() for c in row
                 if c.value in INJECTIONS]
        assert {c.value for c in found} == set(INJECTIONS)
        assert all(c.data_type == "s" for c in found)


def test_same_input_gives_identical_bytes(tmp_path, round_result):
    first = write_consolidated(round_result, tmp_path / "a.xlsx")
    second = write_consolidated(round_result, tmp_path / "b.xlsx")
    assert first.read_bytes() == second.read_bytes()


def test_chart_order_puts_the_highest_first_ties_in_order_and_unscored_last():
    assert sorted_positions([50.0, None, 70.0, 50.0, None]) == [2, 4, 1, 3, 5]


def test_chart_order_of_many_ties_follows_district_order():
    values = [10.0, None, 10.0, 30.0, 10.0, None, 30.0]
    assert sorted_positions(values) == [3, 6, 4, 1, 5, 7, 2]


def written_formulas(path: Path) -> list[str]:
    """Every formula of a workbook's sheets as stored (cells, conditional formats, validations)."""
    with zipfile.ZipFile(path) as zf:
        parts = [zf.read(n).decode() for n in zf.namelist() if n.startswith("xl/worksheets/sheet")]
    return [html.unescape(f) for part in parts
            for f in re.findall(r"<(?:f|formula|formula1|formula2)(?: [^>]*)?>([^<]*)</", part)]


def called_functions(formula: str) -> set[str]:
    without_text = re.sub(r'"(?:[^"]|"")*"', '""', formula)
    return set(re.findall(r"([A-Za-z_][\w.]*)\(", without_text))


def test_our_workbooks_call_only_functions_xlsxwriter_leaves_alone(written, template_dir):
    """A new function (XLOOKUP, SWITCH…) fails here: add it to ``xlsx.PLAIN_FUNCTIONS`` only if XlsxWriter
    does not rename it, otherwise its formulas take XlsxWriter's slow path."""
    paths = [*written, *sorted(template_dir.glob("*.xlsx"))[:1]]
    called = {name for path in paths for f in written_formulas(path) for name in called_functions(f)}
    assert {"IF", "ROUND", "COUNTIFS", "SUMIFS", "RANK", "CHOOSE", "DATE", "ISLOGICAL", "TRIM"} <= called
    assert called <= xlsx.PLAIN_FUNCTIONS


@pytest.mark.parametrize("name", sorted(xlsx.PLAIN_FUNCTIONS))
def test_xlsxwriter_does_not_rename_the_plain_functions(name):
    for before in ("", "1+", "1 ", "("):
        assert Worksheet()._prepare_formula(f"={before}{name}(A1)") == f"{before}{name}(A1)"


def test_formulas_are_prepared_exactly_as_xlsxwriter_does(written):
    ours = ["=" + f for path in written for f in written_formulas(path)]
    others = ["=XLOOKUP(A1,B:B,C:C)", "{=SORT(A1:A3)}", "=_xlfn.XLOOKUP(A1,B:B,C:C)", "=IF(A1,SINGLE(B1))",
              "=IF(A1,XSINGLE(B1))", '=IF(A1,"FILTER(x)","")', "=sort(A1:A3)", "=N(SWITCH(A1,1,2))",
              "=IF(1,STDEV.S(A1:A3))", "=ROUND(A1,0)", "{=ROUND(A1,0)}", "=1+2", "A1*2"]
    sheet = Worksheet()
    for formula in ours + others:
        for expand in (False, True):
            assert xlsx.prepared_formula(formula, expand) == sheet._prepare_formula(formula, expand), formula
