"""The scoring engine: pure functions from clean field values to results, levels and scores.

Exact throughout (SPEC §4): field values are decimals, results and scores are fractions, and a figure
is rounded once, where it is shown. The one rounded figure that feeds a decision is a KPI's result,
rounded half away from zero to the card's decimals (as Excel's ``ROUND``) before it is compared with
the thresholds; the overall % is rounded to its shown decimals before its rating and rank.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any, Literal

from cdd_scorer.exact import exact, round_half_away
from cdd_scorer.kpi import Condition, Kpi, KpiSet, RatingBand

Method = Literal["step", "linear"]
METHODS: tuple[str, ...] = ("step", "linear")
Values = Mapping[str, Any]
Level = int | Fraction  # a step level is whole; a linear level is an exact fraction

_COMPARE = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt,
            "==": operator.eq}


@dataclass(frozen=True)
class KpiScore:
    """One KPI of one district (or of a province row)."""

    kpi_id: str
    weight: float
    result: Decimal | None = None
    level: Level | None = None
    applicable: bool = True
    scorable: bool = True

    @property
    def points(self) -> Fraction | None:
        if not self.applicable or self.level is None:
            return None
        return exact(self.weight) * self.level


@dataclass(frozen=True)
class ScorecardScore:
    """A scorecard's exact score (0–5) and percentage; shown rounded, never rounded before use."""

    scorecard_id: str
    score: Fraction | None
    percent: Fraction | None


@dataclass(frozen=True)
class DistrictScore:
    """Levels of every KPI, both scorecards, the overall percentage (as shown) and the rating."""

    kpis: dict[str, KpiScore]
    scorecards: dict[str, ScorecardScore]
    overall_percent: Decimal | None = None
    rating: RatingBand | None = None
    pooled_sums: Mapping[str, Values] = field(default_factory=dict)  # province rows: ratio KPI → summed fields

    @property
    def pooled_kpis(self) -> frozenset[str]:
        return frozenset(self.pooled_sums)


def kpi_result(kpi: Kpi, values: Values, decimals: int) -> Decimal | None:
    """The KPI's rounded result, or None without a formula, with a blank input or a zero divisor."""
    if kpi.result is None or any(values.get(f) is None for f in kpi.result.fields):
        return None
    raw = kpi.result.evaluate(values)
    return None if raw is None else round_half_away(raw, decimals)


def condition_holds(condition: Condition, values: Values, result: Decimal | None) -> bool:
    """Whether one level condition (or not-applicable condition) holds."""
    if condition.kind == "yes":
        return values.get(condition.field) is True
    if condition.kind == "deadline":
        when = values.get(condition.field)
        return isinstance(when, dt.date) and when <= condition.deadline
    subject = result if condition.kind == "result" else values.get(condition.field)
    if condition.kind == "fields":
        other = values.get(condition.other_field)
        return subject is not None and other is not None and _COMPARE[condition.op](subject, other)
    return subject is not None and _COMPARE[condition.op](exact(subject), exact(condition.value))


def is_not_applicable(kpi: Kpi, values: Values) -> bool:
    """True when every not-applicable condition of the KPI holds (e.g. I5 with baseline 0)."""
    return bool(kpi.not_applicable_when) and all(
        condition_holds(c, values, None) for c in kpi.not_applicable_when)


def step_level(kpi: Kpi, values: Values, result: Decimal | None) -> int:
    """Integer level 0–5: the highest threshold met, or the unbroken run of milestones met."""
    met = [condition_holds(lv.condition, values, result) for lv in kpi.levels]
    if kpi.rule == "threshold":
        return max((i + 1 for i, ok in enumerate(met) if ok), default=0)
    run = 0
    for ok in met:
        if not ok:
            break
        run += 1
    return run


def linear_level(kpi: Kpi, step: int, result: Decimal | None) -> Level:
    """Interpolate between two consecutive numeric result thresholds, exactly; milestone steps stay whole."""
    if result is None or not 1 <= step < len(kpi.levels):
        return step
    here, above = kpi.levels[step - 1].condition, kpi.levels[step].condition
    if here.kind != "result" or above.kind != "result" or above.value <= here.value:
        return step
    low, high = exact(here.value), exact(above.value)
    return step + min(max((exact(result) - low) / (high - low), Fraction(0)), Fraction(1))


def score_kpi(kpi: Kpi, values: Values, kpi_set: KpiSet, method: Method = "step") -> KpiScore:
    """Result and level of one KPI from clean values."""
    if is_not_applicable(kpi, values):
        return KpiScore(kpi.id, kpi.weight, applicable=False)
    result = kpi_result(kpi, values, kpi_set.result_decimals)
    level: Level = step_level(kpi, values, result)
    if method == "linear":
        level = linear_level(kpi, level, result)
    return KpiScore(kpi.id, kpi.weight, result, level)


def scorecard_score(kpi_scores: Iterable[KpiScore], scorecard_id: str) -> ScorecardScore:
    """Σ(weight × level) / Σ(weight of applicable KPIs), and that score as a percentage of 5, exactly."""
    applicable = [k for k in kpi_scores if k.applicable]
    if not applicable or any(k.level is None for k in applicable):
        return ScorecardScore(scorecard_id, None, None)
    score = sum(k.points for k in applicable) / sum(exact(k.weight) for k in applicable)
    return ScorecardScore(scorecard_id, score, score / 5 * 100)


def overall_percent(scorecards: Mapping[str, ScorecardScore], kpi_set: KpiSet) -> Decimal | None:
    """Weighted mean of the exact scorecard percentages (weights in percent), rounded once, as shown."""
    parts = [(scorecards[sc_id].percent, w) for sc_id, w in kpi_set.scorecard_weights.items()]
    if any(p is None for p, _ in parts):
        return None
    return round_half_away(sum(p * exact(w) for p, w in parts) / 100, kpi_set.percent_decimals)


def combine(kpi_scores: dict[str, KpiScore], kpi_set: KpiSet, complete: bool = True,
            pooled: Mapping[str, Values] | None = None) -> DistrictScore:
    """Scorecards, overall % and rating from KPI scores; only levels when ``complete`` is False."""
    pooled_sums = dict(pooled or {})
    if not complete:
        blank = {sc.id: ScorecardScore(sc.id, None, None) for sc in kpi_set.scorecards}
        return DistrictScore(kpi_scores, blank, pooled_sums=pooled_sums)
    cards = {sc.id: scorecard_score((kpi_scores[k.id] for k in sc.kpis), sc.id) for sc in kpi_set.scorecards}
    overall = overall_percent(cards, kpi_set)
    rating = kpi_set.rating_for(overall) if overall is not None else None
    return DistrictScore(kpi_scores, cards, overall, rating, pooled_sums)


def score_district(kpi_set: KpiSet, values: Values, method: Method = "step",
                   unscorable: Iterable[str] = (), complete: bool = True) -> DistrictScore:
    """Score one district. KPIs in ``unscorable`` (their inputs have errors) get no level, and a
    district that is not ``complete`` (it has any error) gets levels but no scorecard scores."""
    skip = set(unscorable)
    kpi_scores = {
        kpi.id: (KpiScore(kpi.id, kpi.weight, scorable=False) if kpi.id in skip
                 else score_kpi(kpi, values, kpi_set, method))
        for kpi in kpi_set.kpis
    }
    return combine(kpi_scores, kpi_set, complete=complete and not skip)


def competition_ranks(percents: Sequence[Decimal | float | None]) -> list[int | None]:
    """Rank from the highest; equal values share a rank and the next rank is skipped (1, 2, 2, 4)."""
    known = [p for p in percents if p is not None]
    return [None if p is None else 1 + sum(1 for q in known if q > p) for p in percents]


def pools_fields(kpi: Kpi) -> bool:
    """Ratio KPIs (a threshold on a result) are pooled from summed fields in a province row."""
    return kpi.rule == "threshold" and kpi.result is not None


def score_province(kpi_set: KpiSet, districts: Sequence[tuple[Values, DistrictScore]],
                   method: Method = "step") -> DistrictScore:
    """The province row: ratio KPIs from the summed fields of the districts whose KPI could be
    scored (Σ disbursed / Σ allocated …), the other KPIs as the mean of district levels."""
    kpi_scores: dict[str, KpiScore] = {}
    pooled: dict[str, Values] = {}
    for kpi in kpi_set.kpis:
        valid = [(v, s.kpis[kpi.id]) for v, s in districts
                 if s.kpis[kpi.id].applicable and s.kpis[kpi.id].level is not None]
        applicable = any(s.kpis[kpi.id].applicable for _, s in districts) or not districts
        if not valid:
            kpi_scores[kpi.id] = KpiScore(kpi.id, kpi.weight, applicable=applicable,
                                          scorable=not applicable)
            continue
        if pools_fields(kpi):
            pooled[kpi.id] = {f: sum(v[f] for v, _ in valid) for f in kpi.result.fields}
            kpi_scores[kpi.id] = score_kpi(kpi, pooled[kpi.id], kpi_set, method)
        else:
            mean = Fraction(sum(s.level for _, s in valid)) / len(valid)
            kpi_scores[kpi.id] = KpiScore(kpi.id, kpi.weight, None, mean)
    return combine(kpi_scores, kpi_set, pooled=pooled)
