"""The scoring engine against SPEC §4 and the worked example of SPEC §10, at every boundary."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D
from fractions import Fraction

import pytest

from cdd_scorer.exact import round_half_away
from cdd_scorer.scoring import (
    KpiScore,
    combine,
    competition_ranks,
    score_district,
    score_kpi,
    score_province,
)

YES, NO = True, False

# SPEC §10, as clean values (the checks hand the engine decimals).
WORKED = {
    "t1_budget_allocated": D("2500000.00"), "t1_budget_disbursed": D("2212500.00"),
    "t2_projects_planned": D(24), "t2_projects_achieved": D(21),
    "t3_activities_done": YES, "t3_published_on_website": YES, "t3_results_summarized": YES,
    "t3_reported_to_executives": NO, "t3_evidence_sent_date": dt.date(2022, 8, 20),
    "i1_households_target": D(3000), "i1_households_recorded": D(3000),
    "i1_lao_qc_date": dt.date(2022, 8, 9), "i1_district_qc_date": None,
    "i2_households_target": D(150), "i2_households_helped": D(120),
    "i3_planning_meeting_held": YES, "i3_mentor_team_active": YES, "i3_progress_reported": YES,
    "i3_officers_total": D(8), "i3_groups_established": D(5),
    "i4_overdue_debt_baseline": D("240000.00"), "i4_overdue_debt_current": D("200000.00"),
    "i5_online_sales_baseline": D("80000.00"), "i5_online_sales_current": D("90000.00"),
    "i6_categories_submitted": D(2), "i6_award_received": NO,
    "i7_action_plan_prepared": YES, "i7_activities_planned": D(15), "i7_activities_done": D(9),
}


def level(kpi_set, kpi_id, method="step", **changes):
    return score_kpi(kpi_set.kpi(kpi_id), {**WORKED, **changes}, kpi_set, method).level


def test_worked_example_levels_points_and_scores(kpi_set):
    s = score_district(kpi_set, WORKED)
    expected = {"T1": (D("88.50"), 2), "T2": (D("87.50"), 3), "T3": (None, 3), "I1": (D("100.00"), 2),
                "I2": (D("80.00"), 3), "I3": (D("62.50"), 4), "I4": (D("16.67"), 3), "I5": (D("12.50"), 2),
                "I6": (None, 2), "I7": (D("60.00"), 3)}
    assert {k: (v.result, v.level) for k, v in s.kpis.items()} == expected
    assert sum(s.kpis[k].points for k in ("T1", "T2", "T3")) == 260
    assert s.scorecards["team"].score == Fraction("2.6") and s.scorecards["team"].percent == 52
    assert s.scorecards["individual"].score == Fraction("2.85") and s.scorecards["individual"].percent == 57
    assert s.overall_percent == D("54.50")
    assert s.rating.name_th == "ต้องปรับปรุง"


def test_worked_example_with_i4_not_applicable_rescales_weights(kpi_set):
    s = score_district(kpi_set, {**WORKED, "i4_overdue_debt_baseline": 0.0, "i4_overdue_debt_current": 0.0})
    assert not s.kpis["I4"].applicable and s.kpis["I4"].level is None
    assert s.scorecards["individual"].score == Fraction(240, 85)  # exact, shown as 2.8235
    assert round_half_away(s.scorecards["individual"].percent, 2) == D("56.47")
    assert s.overall_percent == D("54.24")


@pytest.mark.parametrize(("value", "rounded"), [
    (D("2.675"), D("2.68")), (D("2.665"), D("2.67")), (D("-2.675"), D("-2.68")), (D("79.995"), D("80.00")),
    (D("79.99499"), D("79.99")), (D("0.005"), D("0.01")), (Fraction(4995, 1000), D("5.00")),
    (Fraction(2399900, 3000000) * 100, D("80.00")), (D(100), D("100.00")),
])
def test_round_half_away_from_zero_is_exact(value, rounded):
    assert round_half_away(value, 2) == rounded


def test_i4_exact_reduction_of_4_995_rounds_to_5_and_reaches_level_1(kpi_set):
    # SPEC §4: (2,200.00 − 2,090.11) / 2,200.00 × 100 = 4.995 exactly → 5.00; binary floats give 4.99499…
    score = score_kpi(kpi_set.kpi("I4"), {**WORKED, "i4_overdue_debt_baseline": D("2200.00"),
                                          "i4_overdue_debt_current": D("2090.11")}, kpi_set)
    assert score.result == D("5.00") and score.level == 1


def test_scorecard_percentages_are_not_rounded_before_the_overall(kpi_set):
    # SPEC §4: team 4.2 (84.00 %) and individual 310/75 (82.67 %) give 83.33, not (84.00 + 82.67) / 2 → 83.34.
    levels = {"T1": 5, "T2": 4, "T3": 3, "I1": 4, "I2": 5, "I3": 4, "I6": 3, "I7": 4}
    kpis = {k.id: KpiScore(k.id, k.weight, level=levels.get(k.id), applicable=k.id in levels)
            for k in kpi_set.kpis}  # I4 and I5 not applicable: individual weights 75
    s = combine(kpis, kpi_set)
    assert s.scorecards["team"].score == Fraction(42, 10)
    assert s.scorecards["individual"].score == Fraction(310, 75)
    assert s.overall_percent == D("83.33")
    assert s.rating.name_th == "ดีมาก"


@pytest.mark.parametrize(("percent", "expected"), [
    (79.99, 0), (80, 1), (84.99, 1), (85, 2), (89.99, 2), (90, 3), (94.99, 3), (95, 4), (99.99, 4), (100, 5),
])
def test_t1_thresholds_are_at_least(kpi_set, percent, expected):
    assert level(kpi_set, "T1", t1_budget_allocated=10_000.0, t1_budget_disbursed=percent * 100) == expected


@pytest.mark.parametrize(("achieved", "planned", "expected"), [
    (75, 100, 0), (7501, 10000, 1), (80, 100, 1), (8001, 10000, 2), (85, 100, 2), (86, 100, 3),
    (90, 100, 3), (91, 100, 4), (95, 100, 4), (96, 100, 5), (100, 100, 5), (0, 5, 0),
])
def test_t2_thresholds_are_strictly_more_than(kpi_set, achieved, planned, expected):
    assert level(kpi_set, "T2", t2_projects_planned=float(planned), t2_projects_achieved=float(achieved)) == expected


T3_STEPS = ["t3_activities_done", "t3_published_on_website", "t3_results_summarized", "t3_reported_to_executives"]


@pytest.mark.parametrize("broken", range(5))
def test_t3_milestone_run_breaks_at_each_step(kpi_set, broken):
    values = {f: YES for f in T3_STEPS} | {"t3_evidence_sent_date": dt.date(2022, 8, 31)}
    if broken < 4:
        values[T3_STEPS[broken]] = NO
    else:
        values["t3_evidence_sent_date"] = None
    assert level(kpi_set, "T3", **values) == broken


def test_t3_evidence_deadline_on_the_day_and_a_day_late(kpi_set):
    all_yes = {f: YES for f in T3_STEPS}
    assert level(kpi_set, "T3", **all_yes, t3_evidence_sent_date=dt.date(2022, 8, 31)) == 5
    assert level(kpi_set, "T3", **all_yes, t3_evidence_sent_date=dt.date(2022, 9, 1)) == 4


def test_t3_later_milestones_do_not_count_after_a_gap(kpi_set):
    values = {f: YES for f in T3_STEPS} | {"t3_activities_done": NO}
    assert level(kpi_set, "T3", **values, t3_evidence_sent_date=dt.date(2022, 8, 1)) == 0


@pytest.mark.parametrize(("recorded", "lao", "district", "expected"), [
    (0, None, None, 0),
    (2999, dt.date(2022, 8, 1), dt.date(2022, 8, 1), 1),  # below target: QC cannot stack on level 1
    (3000, dt.date(2022, 8, 9), None, 2),  # SPEC §10: on target, QC cannot stack on level 2
    (3001, None, None, 3),
    (3001, dt.date(2022, 8, 10), None, 4),
    (3001, dt.date(2022, 8, 11), dt.date(2022, 8, 15), 3),  # LAO QC a day late
    (3001, dt.date(2022, 8, 10), dt.date(2022, 8, 15), 5),
    (3001, dt.date(2022, 8, 10), dt.date(2022, 8, 16), 4),  # district QC a day late
    (3001, None, dt.date(2022, 8, 1), 3),
])
def test_i1_cumulative_levels(kpi_set, recorded, lao, district, expected):
    assert level(kpi_set, "I1", i1_households_target=3000.0, i1_households_recorded=float(recorded),
                 i1_lao_qc_date=lao, i1_district_qc_date=district) == expected


def test_i1_on_and_above_target_compare_counts_not_the_rounded_result(kpi_set):
    # SPEC §4: 299,999 of 300,000 is below target (level 1) although 99.9997 rounds to 100.00;
    # 300,001 of 300,000 is above target (100.0003 → 100.00) and the quality checks stack to level 5.
    assert level(kpi_set, "I1", i1_households_target=D(300_000), i1_households_recorded=D(299_999)) == 1
    assert level(kpi_set, "I1", i1_households_target=D(300_000), i1_households_recorded=D(300_000),
                 i1_lao_qc_date=None) == 2
    assert level(kpi_set, "I1", i1_households_target=D(300_000), i1_households_recorded=D(300_001),
                 i1_lao_qc_date=dt.date(2022, 8, 10), i1_district_qc_date=dt.date(2022, 8, 15)) == 5


def test_i7_every_activity_compares_counts(kpi_set):
    # 19,999 of 20,000 rounds to 100.00 % but is not every activity (ครบทุกกิจกรรม): level 4
    assert level(kpi_set, "I7", i7_activities_planned=D(20_000), i7_activities_done=D(19_999)) == 4
    assert level(kpi_set, "I7", i7_activities_planned=D(20_000), i7_activities_done=D(20_000)) == 5


@pytest.mark.parametrize(("helped", "expected"), [
    (59.99, 0), (60, 1), (69.99, 1), (70, 2), (79.99, 2), (80, 3), (89.99, 3), (90, 4), (99.99, 4), (100, 5),
])
def test_i2_thresholds(kpi_set, helped, expected):
    assert level(kpi_set, "I2", i2_households_target=10_000.0, i2_households_helped=helped * 100) == expected


@pytest.mark.parametrize(("meeting", "mentor", "progress", "groups", "expected"), [
    (NO, YES, YES, 10, 0), (YES, NO, YES, 10, 1), (YES, YES, NO, 10, 2), (YES, YES, YES, 3, 3),
    (YES, YES, YES, 4, 4), (YES, YES, YES, 7, 4), (YES, YES, YES, 8, 5), (YES, YES, YES, 12, 5),
])
def test_i3_milestones_then_result(kpi_set, meeting, mentor, progress, groups, expected):
    assert level(kpi_set, "I3", i3_planning_meeting_held=meeting, i3_mentor_team_active=mentor,
                 i3_progress_reported=progress, i3_officers_total=8.0,
                 i3_groups_established=float(groups)) == expected


@pytest.mark.parametrize(("current", "expected"), [
    (95_010, 0), (95_005, 1), (95_000, 1), (90_010, 1), (90_000, 2), (85_000, 3), (80_000, 4), (75_010, 4),
    (75_000, 5),
    (100_000, 0), (120_000, 0),
])
def test_i4_debt_reduction_thresholds(kpi_set, current, expected):
    assert level(kpi_set, "I4", i4_overdue_debt_baseline=100_000.0,
                 i4_overdue_debt_current=float(current)) == expected


def test_i4_not_applicable_only_without_any_debt(kpi_set):
    na = score_kpi(kpi_set.kpi("I4"), {**WORKED, "i4_overdue_debt_baseline": 0.0, "i4_overdue_debt_current": 0.0},
                   kpi_set)
    assert not na.applicable and na.level is None and na.points is None
    new_debt = score_kpi(kpi_set.kpi("I4"), {**WORKED, "i4_overdue_debt_baseline": 0.0,
                                             "i4_overdue_debt_current": 5_000.0}, kpi_set)
    assert new_debt.applicable and new_debt.result is None and new_debt.level == 0


@pytest.mark.parametrize(("current", "expected"), [
    (110_990, 0), (110_995, 1), (111_000, 1), (112_000, 2), (113_000, 3), (113_990, 3), (114_000, 4), (115_000, 5),
    (90_000, 0),
])
def test_i5_growth_thresholds(kpi_set, current, expected):
    assert level(kpi_set, "I5", i5_online_sales_baseline=100_000.0,
                 i5_online_sales_current=float(current)) == expected


def test_i5_not_applicable_with_zero_baseline(kpi_set):
    s = score_district(kpi_set, {**WORKED, "i5_online_sales_baseline": 0.0, "i5_online_sales_current": 9_000.0})
    assert not s.kpis["I5"].applicable
    assert s.scorecards["individual"].score == Fraction(285 - 20, 90)


@pytest.mark.parametrize(("categories", "award", "expected"), [
    (0, YES, 0), (1, NO, 1), (2, YES, 2), (3, YES, 3), (4, NO, 4), (4, YES, 5), (7, NO, 4), (7, YES, 5),
])
def test_i6_categories_then_award(kpi_set, categories, award, expected):
    assert level(kpi_set, "I6", i6_categories_submitted=float(categories), i6_award_received=award) == expected


@pytest.mark.parametrize(("plan", "done", "expected"), [
    (NO, 20, 0), (YES, 0, 1), (YES, 7, 1), (YES, 8, 2), (YES, 11, 2), (YES, 12, 3), (YES, 16, 4), (YES, 19, 4),
    (YES, 20, 5),
])
def test_i7_plan_then_result(kpi_set, plan, done, expected):
    assert level(kpi_set, "I7", i7_action_plan_prepared=plan, i7_activities_planned=20.0,
                 i7_activities_done=float(done)) == expected


def test_linear_interpolates_between_numeric_thresholds(kpi_set):
    assert level(kpi_set, "T1", "linear") == Fraction("2.7")  # 88.5 between 85 and 90
    assert level(kpi_set, "T2", "linear") == 3.5  # 87.5 between 85 and 90
    assert level(kpi_set, "I3", "linear") == 4.25  # 62.5 between 50 and 100
    assert level(kpi_set, "T1", "linear", t1_budget_disbursed=1_000_000.0) == 0  # below t1
    assert level(kpi_set, "T1", "linear", t1_budget_disbursed=2_500_000.0) == 5


def test_linear_keeps_milestone_steps_whole(kpi_set):
    assert level(kpi_set, "T3", "linear") == 3
    assert level(kpi_set, "I1", "linear") == 2  # thresholds ≥ 100 and > 100: no interval
    assert level(kpi_set, "I7", "linear", i7_activities_done=5.0) == 1  # below the first numeric step
    assert level(kpi_set, "I6", "linear") == 2


def test_linear_levels_are_exact_from_the_rounded_result(kpi_set):
    # 2,222,222 / 2,500,000 = 88.89 → 2 + 3.89/5 = 2.778; 6 / 7 = 85.71 → 4 + 35.71/50 = 4.7142
    assert level(kpi_set, "T1", "linear", t1_budget_disbursed=D(2_222_222)) == Fraction("2.778")
    assert level(kpi_set, "I3", "linear", i3_officers_total=D(7), i3_groups_established=D(6)) == Fraction("4.7142")


def test_errors_keep_levels_but_block_scorecards(kpi_set):
    s = score_district(kpi_set, WORKED, unscorable={"T1"})
    assert s.kpis["T1"].level is None and not s.kpis["T1"].scorable
    assert s.kpis["T2"].level == 3
    assert s.scorecards["team"].score is None and s.overall_percent is None and s.rating is None
    incomplete = score_district(kpi_set, WORKED, complete=False)
    assert incomplete.kpis["T1"].level == 2 and incomplete.overall_percent is None


@pytest.mark.parametrize(("overall", "band"), [
    (90, "ดีเด่น"), (89.99, "ดีมาก"), (80, "ดีมาก"), (79.99, "ดี"), (70, "ดี"), (69.99, "พอใช้"), (60, "พอใช้"),
    (59.99, "ต้องปรับปรุง"), (0, "ต้องปรับปรุง"),
])
def test_rating_bands(kpi_set, overall, band):
    assert kpi_set.rating_for(overall).name_th == band


def test_ties_share_a_rank():
    assert competition_ranks([80.0, 90.0, 80.0, None, 70.0]) == [2, 1, 2, None, 4]
    assert competition_ranks([50.0, 50.0, 50.0]) == [1, 1, 1]


def test_province_row_pools_ratio_kpis_and_averages_the_others(kpi_set):
    a = dict(WORKED)
    b = {**WORKED, "t1_budget_allocated": D(500_000), "t1_budget_disbursed": D(500_000),
         "t3_reported_to_executives": YES, "t3_evidence_sent_date": dt.date(2022, 8, 1)}
    rows = [(v, score_district(kpi_set, v)) for v in (a, b)]
    province = score_province(kpi_set, rows)
    # T1 pooled: (2,212,500 + 500,000) / 3,000,000 = 90.42 → level 3 (the mean of levels 2 and 5 would be 3.5)
    assert province.kpis["T1"].result == D("90.42") and province.kpis["T1"].level == 3
    assert "T1" in province.pooled_kpis and "T3" not in province.pooled_kpis
    assert province.kpis["T3"].level == 4.0  # mean of 3 and 5
    assert province.overall_percent is not None


def test_province_row_skips_districts_whose_kpi_cannot_be_scored(kpi_set):
    good = (WORKED, score_district(kpi_set, WORKED))
    broken_values = {**WORKED, "t1_budget_disbursed": D(9_999_999)}
    broken = (broken_values, score_district(kpi_set, broken_values, unscorable={"T1"}))
    province = score_province(kpi_set, [good, broken])
    assert province.kpis["T1"].result == D("88.50")
