"""One truth (SPEC §6): an adversarial corpus of filled entry workbooks, recalculated by LibreOffice
in one call, against what ``cdd-scorer score`` makes of the same files.

Every district of three provinces types something a real officer might: boundaries, numbers and dates
typed as text, yes/no variants, times and serials in date cells, values the batch rejects, N/A cases,
and answers whose overall % lands exactly on each rating band and just below it. For each file:

- wherever the preview shows a level, a score, an overall % or a rating, it is the batch's;
- ``preview_ready`` is TRUE exactly for the cases marked ready (clean and readable), and then every
  number is the batch's; a file the batch sends back for correction is never ready;
- the correction workbooks ``feedback`` writes are never ready either;
- the consolidated workbook, recalculated, holds what ``scores.csv`` says.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner

from cdd_scorer.cli import main
from cdd_scorer.demo import WORKED_EXAMPLE, YES, messy, synthetic_answers
from cdd_scorer.exact import round_half_away
from cdd_scorer.feedback import write_feedback
from cdd_scorer.filling import fill_template
from cdd_scorer.geography import Area, districts_of, find_province
from cdd_scorer.kpi import KpiSet
from cdd_scorer.reading import RawCell
from cdd_scorer.round import run_round
from cdd_scorer.scoring import DistrictScore, score_district
from cdd_scorer.template import write_templates
from cdd_scorer.validation import check_values

PROVINCES = ("30", "40", "41")  # นครราชสีมา, ขอนแก่น, อุดรธานี: 78 districts


@dataclass(frozen=True)
class Case:
    name: str
    answers: dict[str, Any]
    ready: bool  # what preview_ready must say
    status: str  # what the batch must say


def _with(base: dict[str, Any] | None = None, **changes: Any) -> dict[str, Any]:
    answers = dict(WORKED_EXAMPLE if base is None else base)
    answers.update(changes)
    return answers


def clean(name: str, **changes: Any) -> Case:
    return Case(name, _with(**changes), ready=True, status="complete")


def unreadable(name: str, **changes: Any) -> Case:
    """The batch reads it; the formulas cannot read it as the batch would, so the preview holds back."""
    return Case(name, _with(**changes), ready=False, status="complete")


def rejected(name: str, **changes: Any) -> Case:
    return Case(name, _with(**changes), ready=False, status="needs_correction")


ON_TIME_QC = {"i1_lao_qc_date": dt.date(2022, 8, 10), "i1_district_qc_date": dt.date(2022, 8, 15)}

HAND_MADE = [
    clean("worked_example"),
    # Exact boundaries of results built from differences and quotients.
    clean("i4_4_995_rounds_to_5", i4_overdue_debt_baseline=2_200, i4_overdue_debt_current=2_090.11),
    clean("i4_4_9945_rounds_down", i4_overdue_debt_baseline=2_200, i4_overdue_debt_current=2_090.12),
    clean("t1_79_995_rounds_to_80", t1_budget_allocated=20_000, t1_budget_disbursed=15_999),
    clean("t1_79_99", t1_budget_allocated=3_000_000, t1_budget_disbursed=2_399_700),
    clean("t2_exactly_75", t2_projects_planned=4, t2_projects_achieved=3),
    clean("t2_74_995", t2_projects_planned=20_000, t2_projects_achieved=14_999),
    clean("i5_exactly_11", i5_online_sales_baseline=100_000, i5_online_sales_current=111_000),
    clean("i5_10_995", i5_online_sales_baseline=200_000, i5_online_sales_current=221_990),
    clean("i2_exactly_80", i2_households_target=150, i2_households_helped=120),
    # The card speaks of counts: below, at and above the target, not a rounded percentage.
    clean("i1_one_below_target", i1_households_target=300_000, i1_households_recorded=299_999, **ON_TIME_QC),
    clean("i1_on_target", i1_households_target=300_000, i1_households_recorded=300_000, **ON_TIME_QC),
    clean("i1_one_above_target", i1_households_target=300_000, i1_households_recorded=300_001, **ON_TIME_QC),
    clean("i7_19999_of_20000", i7_activities_planned=20_000, i7_activities_done=19_999),
    clean("i7_all_done", i7_activities_planned=20_000, i7_activities_done=20_000),
    # Deadlines: on the day, a time on the day, an Excel serial late in the day, a day late.
    clean("deadline_with_a_time", t3_reported_to_executives=YES,
          t3_evidence_sent_date=dt.datetime(2022, 8, 31, 16, 30)),
    clean("deadline_as_a_late_serial", t3_reported_to_executives=YES, t3_evidence_sent_date=44804.99),
    clean("deadline_a_day_late", t3_reported_to_executives=YES, t3_evidence_sent_date=dt.date(2022, 9, 1)),
    clean("be_year_in_a_date_cell", t3_reported_to_executives=YES, t3_evidence_sent_date=dt.date(2565, 8, 31)),
    # Yes/no typed other ways than the drop-down.
    clean("yes_no_words", t3_activities_done="มี", t3_published_on_website="yes", t3_results_summarized="✓",
          t3_reported_to_executives="no", i6_award_received="ไม่มี"),
    clean("yes_no_logical_and_digits", t3_activities_done=True, t3_published_on_website=1,
          t3_results_summarized=" Y ", t3_reported_to_executives=False, i6_award_received=0),
    clean("money_with_three_decimals", t1_budget_disbursed=2_212_500.005, i5_online_sales_current=90_000.004),
    # N/A and zero cases.
    clean("i4_not_applicable", i4_overdue_debt_baseline=0, i4_overdue_debt_current=0),
    clean("i4_debt_grew_from_nothing", i4_overdue_debt_baseline=0, i4_overdue_debt_current=5_000),
    clean("i5_not_applicable", i5_online_sales_baseline=0),
    clean("everything_at_level_5", t1_budget_disbursed=2_500_000, t2_projects_achieved=24,
          t3_reported_to_executives=YES, i1_households_recorded=3_001, **ON_TIME_QC, i2_households_helped=150,
          i3_groups_established=8, i4_overdue_debt_current=180_000, i5_online_sales_current=92_000,
          i6_categories_submitted=4, i6_award_received=YES, i7_activities_done=15),
    # Numbers and dates typed as text: the batch reads them, the formulas cannot.
    unreadable("thai_digit_text_number", t1_budget_allocated="๒,๕๐๐,๐๐๐"),
    unreadable("spaced_text_number", t1_budget_disbursed=" 2,212,500 "),
    unreadable("text_count", i7_activities_done="9"),
    unreadable("text_date", t3_evidence_sent_date="20 ส.ค. 65"),
    # What the batch rejects.
    rejected("disbursed_over_allocated", t1_budget_disbursed=2_600_000),
    rejected("negative_amount", i5_online_sales_current=-5),
    rejected("fraction_of_a_count", i7_activities_done=5.5),
    rejected("count_in_words", t2_projects_achieved="ยี่สิบ"),
    rejected("planned_zero", t2_projects_planned=0, t2_projects_achieved=0),
    rejected("date_in_the_wrong_year", i1_lao_qc_date=dt.date(2023, 8, 9)),
    # TRUE typed into a number cell is rejected too (ISLOGICAL in Excel), but not in this corpus:
    # LibreOffice opens a stored boolean in a cell formatted as a number as the number 1, and saves it so.
    rejected("division_by_zero_formula", i3_officers_total="=1/0"),
    rejected("yes_no_nonsense", i7_action_plan_prepared="maybe"),
    rejected("required_answer_missing", i3_progress_reported=None),
]


def _as_cells(answers: dict[str, Any]) -> dict[str, RawCell]:
    return {k: RawCell("", "", v) for k, v in answers.items() if v is not None}


def _engine(kpi_set: KpiSet, answers: dict[str, Any]) -> DistrictScore:
    checked = check_values(kpi_set, _as_cells(answers), {})
    assert not [p for p in checked.problems if p.severity == "error"]
    return score_district(kpi_set, checked.values)


def rating_band_cases(kpi_set: KpiSet, area: Area) -> list[Case]:
    """Synthetic answers whose overall % is exactly on each rating band's lower bound, and the highest
    overall % found just below it, searched over seeds."""
    bounds = [Decimal(str(b.min_percent)) for b in kpi_set.rating_bands if b.min_percent]
    on: dict[Decimal, tuple[int, dict]] = {}
    below: dict[Decimal, tuple[Decimal, dict]] = {}
    for seed in range(4_000):
        answers = synthetic_answers(kpi_set, area, seed)
        percent = _engine(kpi_set, answers).overall_percent
        for bound in bounds:
            if percent == bound:
                on.setdefault(bound, (seed, answers))
            elif bound - 1 < percent < bound and percent > below.get(bound, (Decimal(-1), None))[0]:
                below[bound] = (percent, answers)
        if len(on) == len(bounds) and all(b in below and b - below[b][0] <= Decimal("0.5") for b in bounds):
            break
    assert set(on) == set(below) == set(bounds), (on.keys(), below.keys())
    cases = [Case(f"overall_exactly_{b}", answers, True, "complete") for b, (_, answers) in on.items()]
    cases += [Case(f"overall_below_{b}", answers, True, "complete") for b, (_, answers) in below.items()]
    return cases


def synthetic_cases(kpi_set: KpiSet, areas: list[Area]) -> list[Case]:
    """Plausible districts, every third typed messily (text numbers, text dates): the batch's checks
    say whether each is complete; only a clean, readable one may be ready."""
    cases = []
    for i, area in enumerate(areas):
        answers = synthetic_answers(kpi_set, area)
        if i % 3 == 0:
            answers = messy(answers)
        errors = [p for p in check_values(kpi_set, _as_cells(answers), {}).problems if p.severity == "error"]
        cases.append(Case(f"synthetic_{'messy_' if i % 3 == 0 else ''}{area.district_code}", answers,
                          ready=not errors and i % 3 != 0, status="needs_correction" if errors else "complete"))
    return cases


def _named(wb: openpyxl.Workbook, name: str) -> Any:
    ((sheet, address),) = wb.defined_names[name].destinations
    value = wb[sheet][address.replace("$", "")].value
    return None if value == "" else value


@dataclass
class Preview:
    levels: dict[str, Any]
    scores: dict[str, Any]
    overall: Any
    rating: Any
    ready: Any


def preview(path: Path, kpi_set: KpiSet) -> Preview:
    wb = openpyxl.load_workbook(path, data_only=True)
    return Preview(levels={k.id: _named(wb, f"preview_{k.id}_level") for k in kpi_set.kpis},
                   scores={sc.id: _named(wb, f"preview_{sc.id}_score") for sc in kpi_set.scorecards},
                   overall=_named(wb, "preview_overall_percent"), rating=_named(wb, "preview_rating"),
                   ready={True: True, False: False}.get(_named(wb, "preview_ready")))  # LO stores 1/0


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, kpi_set, libreoffice):
    """Every case in its own district's workbook; score, feedback and score --out through the CLI;
    then one LibreOffice call recalculates the filled files, the correction copies and the consolidated."""
    root = tmp_path_factory.mktemp("one-truth")
    areas = [a for code in PROVINCES for a in districts_of(find_province(code))]
    cases = HAND_MADE + rating_band_cases(kpi_set, areas[0])
    cases += synthetic_cases(kpi_set, areas[len(cases):])
    assert len(cases) == len(areas) >= 60
    templates = write_templates(kpi_set, areas, root / "templates")
    filled = root / "input"
    paths = [fill_template(t, case.answers, filled / t.name) for t, case in zip(templates, cases)]
    result = run_round(filled, kpi_set)
    feedback = [p for p in write_feedback(result, kpi_set, root / "feedback") if p.suffix == ".xlsx"]
    out = root / "output"
    cli = CliRunner().invoke(main, ["score", str(filled), "--out", str(out), "--quiet"])
    assert cli.exit_code == 0, cli.output
    (consolidated,) = out.glob("*.xlsx")
    recalculated = libreoffice.recalculate([*paths, *feedback, consolidated], root / "recalculated")
    by_code = {d.area.district_code: d for d in result.districts}
    return {
        "cases": [(case, by_code[area.district_code], preview(fresh, kpi_set))
                  for case, area, fresh in zip(cases, areas, recalculated)],
        "feedback": [preview(fresh, kpi_set) for fresh in recalculated[len(paths):-1]],
        "consolidated": (consolidated, recalculated[-1]),
        "scores_csv": out / "scores.csv",
    }


def _shown(value: Any, decimals: int) -> Any:
    return None if value is None else round_half_away(value, decimals)


def test_the_batch_says_what_each_case_expects(corpus):
    wrong = [(case.name, d.status, [p.code for p in d.problems if p.severity == "error"])
             for case, d, _ in corpus["cases"] if d.status != case.status]
    assert wrong == []


def test_preview_ready_is_true_exactly_for_clean_readable_forms(corpus):
    wrong = [(case.name, shown.ready) for case, _, shown in corpus["cases"] if shown.ready is not case.ready]
    assert wrong == []


def test_every_level_the_preview_shows_is_the_batch_level(corpus, kpi_set):
    wrong = []
    for case, d, shown in corpus["cases"]:
        for kpi in kpi_set.kpis:
            batch = d.score.kpis[kpi.id] if d.score else None
            batch_level = batch.level if batch and batch.applicable and batch.scorable else None
            if shown.levels[kpi.id] is not None and shown.levels[kpi.id] != batch_level:
                wrong.append((case.name, kpi.id, shown.levels[kpi.id], batch_level))
            if case.ready and shown.levels[kpi.id] != batch_level:
                wrong.append((case.name, kpi.id, shown.levels[kpi.id], batch_level))
    assert wrong == []


def test_scores_overall_and_rating_are_the_batch_figures_or_nothing(corpus, kpi_set):
    wrong = []
    for case, d, shown in corpus["cases"]:
        score = d.score if d.status == "complete" else None
        expected = {
            **{sc.id: _shown(score.scorecards[sc.id].score, 4) if score else None for sc in kpi_set.scorecards},
            "overall": score.overall_percent if score else None,
            "rating": score.rating.name_th if score and score.rating else None,
        }
        got = {**{sc_id: _shown(v, 4) for sc_id, v in shown.scores.items()},
               "overall": _shown(shown.overall, 2), "rating": shown.rating}
        if case.ready:
            if got != expected:
                wrong.append((case.name, got, expected))
        elif any(v is not None for v in got.values()):  # not ready: nothing is shown
            wrong.append((case.name, got))
    assert wrong == []


def test_rating_bands_are_reached_exactly_at_their_bound_and_missed_just_below(corpus, kpi_set):
    band_from = {Decimal(str(b.min_percent)): b.name_th for b in kpi_set.rating_bands if b.min_percent}
    seen = []
    for case, d, shown in corpus["cases"]:
        if case.name.startswith("overall_"):
            bound = Decimal(case.name.rsplit("_", 1)[1])
            on_it = case.name.startswith("overall_exactly_")
            assert (d.score.overall_percent == bound) is on_it, case.name
            assert (shown.rating == band_from[bound]) is on_it, case.name
            seen.append(case.name)
    assert len(seen) == 2 * len(band_from)


def test_correction_workbooks_are_never_ready(corpus):
    assert len(corpus["feedback"]) == sum(case.status == "needs_correction" for case, _, _ in corpus["cases"])
    assert [shown.ready for shown in corpus["feedback"]] == [False] * len(corpus["feedback"])


def test_recalculated_consolidated_workbook_holds_what_scores_csv_says(corpus):
    original, fresh = corpus["consolidated"]
    cached = openpyxl.load_workbook(original, data_only=True)
    recalculated = openpyxl.load_workbook(fresh, data_only=True)
    formula_cells = [(ws.title, c.coordinate) for ws in openpyxl.load_workbook(original).worksheets
                     for row in ws.iter_rows() for c in row if isinstance(c.value, str) and c.value.startswith("=")]

    def same(a: Any, b: Any) -> bool:
        a, b = ("" if a is None else a), ("" if b is None else b)
        return abs(a - b) < 1e-9 if isinstance(a, int | float) and isinstance(b, int | float) else a == b

    assert [(s, c) for s, c in formula_cells if not same(cached[s][c].value, recalculated[s][c].value)] == []
    with open(corpus["scores_csv"], encoding="utf-8-sig", newline="") as fh:
        csv_overall = {r["district_code"]: r["overall_percent"] for r in csv.DictReader(fh)}
    ws = recalculated["สรุป"]
    heads = [str(c.value or "") for c in ws[4]]
    overall_col = next(i for i, h in enumerate(heads) if h.startswith("ร้อยละภาพรวม"))
    sheet_overall = {str(r[1]): r[overall_col] for r in ws.iter_rows(min_row=5, values_only=True)
                     if isinstance(r[1], str) and r[1].isdigit()}
    assert sheet_overall.keys() == csv_overall.keys()
    mismatched = {code: (sheet_overall[code], text) for code, text in csv_overall.items()
                  if _shown(None if sheet_overall[code] in ("", None) else sheet_overall[code], 2)
                  != (Decimal(text) if text else None)}
    assert mismatched == {}
