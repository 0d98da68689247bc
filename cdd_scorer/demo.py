"""The demo round: generate templates for a sample province, fill them with seeded synthetic
answers (a few messy or wrong, one district silent), and score them.

So that the demo (and the tests) can show rounds over time, ``example_card_text`` derives a card file
from the shipped one with every date and year moved, its id and titles marked as an example: it is
never presented as a real card of the department.
"""

from __future__ import annotations

import datetime as dt
import random
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cdd_scorer.geography import Area
from cdd_scorer.kpi import KpiSet, build_kpi_set, default_kpi_set_path
from cdd_scorer.thai import arabic_digits, be_date, thai_digits

DEMO_PROVINCE = "40"  # ขอนแก่น (Khon Kaen), 26 districts
EARLIER_ROUND_DIR = "example-earlier-round"  # the demo's round of an example card a year before the shipped one
YES, NO = "ใช่", "ไม่ใช่"

# The worked example of SPEC §10, as an officer types it.
WORKED_EXAMPLE: dict[str, Any] = {
    "t1_budget_allocated": 2_500_000, "t1_budget_disbursed": 2_212_500,
    "t2_projects_planned": 24, "t2_projects_achieved": 21,
    "t3_activities_done": YES, "t3_published_on_website": YES, "t3_results_summarized": YES,
    "t3_reported_to_executives": NO, "t3_evidence_sent_date": dt.date(2022, 8, 20),
    "i1_households_target": 3000, "i1_households_recorded": 3000,
    "i1_lao_qc_date": dt.date(2022, 8, 9),
    "i2_households_target": 150, "i2_households_helped": 120,
    "i3_planning_meeting_held": YES, "i3_mentor_team_active": YES, "i3_progress_reported": YES,
    "i3_officers_total": 8, "i3_groups_established": 5,
    "i4_overdue_debt_baseline": 240_000, "i4_overdue_debt_current": 200_000,
    "i5_online_sales_baseline": 80_000, "i5_online_sales_current": 90_000,
    "i6_categories_submitted": 2, "i6_award_received": NO,
    "i7_action_plan_prepared": YES, "i7_activities_planned": 15, "i7_activities_done": 9,
    "reporter_name": "นางสาวตัวอย่าง ใจดี", "reporter_position": "พัฒนาการอำเภอ",
    "reporter_phone": "043-000000", "report_date": dt.date(2022, 9, 15),
}


@dataclass(frozen=True)
class DemoPlan:
    """Which district answers how: most answer, a few messily, one wrongly, one not at all."""

    silent: str
    wrong: str
    messy: frozenset[str]
    worked_example: str


def plan_for(areas: list[Area]) -> DemoPlan:
    codes = [a.district_code for a in areas]
    return DemoPlan(silent=codes[-1], wrong=codes[-2], messy=frozenset(codes[1:4]),
                    worked_example=codes[0])


# A date of the card file (2022-08-31), or a year written in its texts: BE 25xx in Arabic or Thai digits,
# AD 20xx; never part of a longer number.
_DATE_OR_YEAR = re.compile(r"(?<![\d๐-๙,.])(?:(?P<date>\d{4}-\d\d-\d\d)|(?P<year>25\d\d|20\d\d|๒๕[๐-๙]{2}))"
                           r"(?![\d๐-๙,])")
EXAMPLE_TH = "ตัวอย่างสำหรับทดลอง ไม่ใช่ชุดตัวชี้วัดจริง: "
EXAMPLE_EN = "EXAMPLE for trying out, not a real card: "


def shift_years(value: Any, years: int) -> Any:
    """Every date in answers (or any dict or list) moved ``years`` (29 February becomes the 28th)."""
    if isinstance(value, dt.date):
        try:
            return value.replace(year=value.year + years)
        except ValueError:
            return value.replace(year=value.year + years, day=28)
    if isinstance(value, dict):
        return {k: shift_years(v, years) for k, v in value.items()}
    if isinstance(value, list):
        return [shift_years(v, years) for v in value]
    return value


def example_card_text(years: int = 1) -> str:
    """The shipped card file ``years`` later (earlier when negative), marked as an example: every date
    and every year in its texts moved (๒๕๖๕ → ๒๕๖๖, 2022 → 2023), its id ``example-fy<year>-r<round>``
    (``example-fy2566-r2``), its titles saying that it is not a real card. A file for ``--kpi-set``."""
    def moved(match: re.Match[str]) -> str:
        if match["date"]:
            return shift_years(dt.date.fromisoformat(match["date"]), years).isoformat()
        year = str(int(arabic_digits(match["year"])) + years)
        return thai_digits(year) if match["year"][0] == "๒" else year

    text = _DATE_OR_YEAR.sub(moved, default_kpi_set_path().read_text(encoding="utf-8"))
    marks = ((r'^id = "(?:cdd-)?', 'id = "example-'), (r'^title_th = "', f'title_th = "{EXAMPLE_TH}'),
             (r'^title_en = "', f'title_en = "{EXAMPLE_EN}'))
    for pattern, replacement in marks:
        text = re.sub(pattern, replacement, text, count=1, flags=re.MULTILINE)
    return (f"# EXAMPLE derived by cdd-scorer from its shipped card, moved {years:+d} year(s): NOT a real card of "
            f"the department.\n{text}")


def example_card(years: int = 1) -> KpiSet:
    """The card of ``example_card_text``."""
    return build_kpi_set(tomllib.loads(example_card_text(years)), source=f"example card, {years:+d} year(s)")


def synthetic_answers(kpi_set: KpiSet, area: Area, seed: int = 2565) -> dict[str, Any]:
    """Plausible answers for one district, from a seeded generator (same district, same answers)."""
    rng = random.Random(f"{seed}-{area.district_code}")
    skill = rng.uniform(0.8, 1.03)

    def share(whole: int, low: float = 0.0) -> int:
        return min(whole, round(whole * min(1.0, max(low, rng.gauss(skill, 0.05)))))

    def yes(p: float) -> str:
        return YES if rng.random() < p else NO

    def date(deadline: dt.date, late_chance: float) -> dt.date | None:
        if rng.random() < 0.1:
            return None
        days = rng.randint(1, 12) if rng.random() < late_chance else -rng.randint(0, 20)
        return deadline + dt.timedelta(days=days)

    allocated = rng.randrange(800_000, 6_000_000, 10_000)
    planned = rng.randint(10, 40)
    target = rng.randint(1500, 9000)
    poor = rng.randint(40, 400)
    officers = rng.randint(5, 14)
    baseline = rng.choice([0, 0] + [rng.randrange(50_000, 900_000, 1_000)] * 8)
    sales = rng.randrange(20_000, 500_000, 500)
    activities = rng.randint(5, 25)
    answers = {
        "t1_budget_allocated": allocated, "t1_budget_disbursed": share(allocated, 0.6),
        "t2_projects_planned": planned, "t2_projects_achieved": share(planned, 0.5),
        "t3_activities_done": yes(0.97), "t3_published_on_website": yes(0.9),
        "t3_website_url": f"https://{area.district_name_en.lower().replace(' ', '')}.cdd.go.th",
        "t3_results_summarized": yes(0.85), "t3_reported_to_executives": yes(0.8),
        "t3_evidence_sent_date": date(dt.date(2022, 8, 31), 0.2),
        "i1_households_target": target,
        "i1_households_recorded": round(target * rng.choice([0.93, 1.0, 1.0, 1.0, 1.02])),
        "i1_lao_qc_date": date(dt.date(2022, 8, 10), 0.25),
        "i1_district_qc_date": date(dt.date(2022, 8, 15), 0.25),
        "i2_households_target": poor, "i2_households_helped": share(poor, 0.4),
        "i3_planning_meeting_held": yes(0.97), "i3_mentor_team_active": yes(0.93),
        "i3_progress_reported": yes(0.9), "i3_officers_total": officers,
        "i3_groups_established": round(officers * rng.uniform(0.2, 1.3)),
        "i4_overdue_debt_baseline": baseline,
        "i4_overdue_debt_current": round(baseline * rng.uniform(0.7, 1.0)) if baseline else 0,
        "i5_online_sales_baseline": sales,
        "i5_online_sales_current": round(sales * rng.uniform(1.0, 1.2)),
        "i6_categories_submitted": rng.randint(0, 5), "i6_award_received": yes(0.3),
        "i7_action_plan_prepared": yes(0.95), "i7_activities_planned": activities,
        "i7_activities_done": share(activities, 0.3),
        "reporter_name": "เจ้าหน้าที่อำเภอ" + area.district_name_th,
        "reporter_position": "พัฒนาการอำเภอ", "reporter_phone": "0-4300-0000",
        "report_date": dt.date(2022, 9, rng.randint(1, 28)),
    }
    return {k: v for k, v in answers.items() if v is not None}


def messy(answers: dict[str, Any]) -> dict[str, Any]:
    """The same answers typed the way people really type: Thai digits, units, text dates."""
    out = dict(answers)
    out["t1_budget_allocated"] = f"{answers['t1_budget_allocated']:,.2f} บาท"
    out["t2_projects_planned"] = thai_digits(answers["t2_projects_planned"])
    out["i2_households_helped"] = f" {answers['i2_households_helped']} "
    for key in ("t3_evidence_sent_date", "i1_lao_qc_date"):
        if isinstance(answers.get(key), dt.date):
            out[key] = be_date(answers[key])
    out["i6_award_received"] = "yes" if answers["i6_award_received"] == YES else "n"
    return out


def answers_for(kpi_set: KpiSet, area: Area, plan: DemoPlan, years: int = 0) -> dict[str, Any] | None:
    """What the demo's district sends back (None: it never answers); ``years`` from the shipped card's
    round (an ``example_card``), other answers with their dates moved as far."""
    if area.district_code == plan.silent:
        return None
    if area.district_code == plan.worked_example:
        return shift_years(dict(WORKED_EXAMPLE), years)
    answers = shift_years(synthetic_answers(kpi_set, area, seed=2565 + years), years)
    if area.district_code in plan.messy:
        answers = messy(answers)
    if area.district_code == plan.wrong:
        answers["t1_budget_disbursed"] = answers["t1_budget_allocated"] + 125_000
        answers["t2_projects_achieved"] = "ยี่สิบ"
    return answers


def fill_demo_inputs(kpi_set: KpiSet, templates: list[Path], areas: list[Area],
                     input_dir: Path, years: int = 0) -> list[Path]:
    """Fill copies of the templates into ``input_dir`` as the districts would send them back (``years``:
    see ``answers_for``)."""
    from cdd_scorer.filling import fill_template

    plan = plan_for(areas)
    written = []
    for template, area in zip(templates, areas):
        answers = answers_for(kpi_set, area, plan, years)
        if answers is not None:
            written.append(fill_template(template, answers, input_dir / template.name))
    return written
