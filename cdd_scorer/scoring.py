"""The scoring engine: pure functions from clean field values to results, levels and scores.

Rounding follows Excel's ``ROUND``: half away from zero on the value as Excel sees it (15
significant digits), so Python and every workbook formula compare the same rounded numbers.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

from cdd_scorer.kpi import Condition, Kpi, KpiSet, RatingBand

Method = Literal["step", "linear"]
METHODS: tuple[str, ...] = ("step", "linear")
Values = Mapping[str, Any]

_COMPARE = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt,
            "==": operator.eq}


def excel_round(value: float, decimals: int) -> float:
    """Round half away from zero, as Excel's ROUND does (2.675 → 2.68, -2.5 → -3)."""
    exact = Decimal(format(value, ".15g"))
    return float(exact.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class KpiScore:
    """One KPI of one district (or of a province row)."""

    kpi_id: str
    weight: float
    result: float | None = None
    level: float | None = None
    applicable: bool = True
    scorable: bool = True

    @property
    def points(self) -> float | None:
        if not self.applicable or self.level is None:
            return None
        return self.weight * self.level


@dataclass(frozen=True)
class ScorecardScore:
    scorecard_id: str
    score: float | None
    percent: float | None


@dataclass(frozen=True)
class DistrictScore:
    """Levels of every KPI, both scorecards, the overall percentage and the rating."""

    kpis: dict[str, KpiScore]
    scorecards: dict[str, ScorecardScore]
    overall_percent: float | None = None
    rating: RatingBand | None = None
    pooled_kpis: frozenset[str] = field(default_factory=frozenset)


def kpi_result(kpi: Kpi, values: Values, decimals: int) -> float | None:
    """The KPI's rounded result, or None without a formula, with a blank input or a zero divisor."""
    if kpi.result is None or any(values.get(f) is None for f in kpi.result.fields):
        return None
    raw = kpi.result.evaluate(values)
    return None if raw is None else excel_round(raw, decimals)


def condition_holds(condition: Condition, values: Values, result: float | None) -> bool:
    """Whether one level condition (or not-applicable condition) holds."""
    if condition.kind == "yes":
        return values.get(condition.field) is True
    if condition.kind == "deadline":
        when = values.get(condition.field)
        return isinstance(when, dt.date) and when <= condition.deadline
    subject = result if condition.kind == "result" else values.get(condition.field)
    return subject is not None and _COMPARE[condition.op](subject, condition.value)


def is_not_applicable(kpi: Kpi, values: Values) -> bool:
    """True when every not-applicable condition of the KPI holds (e.g. I5 with baseline 0)."""
    return bool(kpi.not_applicable_when) and all(
        condition_holds(c, values, None) for c in kpi.not_applicable_when)


def step_level(kpi: Kpi, values: Values, result: float | None) -> int:
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


def linear_level(kpi: Kpi, step: int, result: float | None, decimals: int) -> float:
    """Interpolate between two consecutive numeric result thresholds; milestone steps stay whole."""
    if result is None or not 1 <= step < len(kpi.levels):
        return float(step)
    here, above = kpi.levels[step - 1].condition, kpi.levels[step].condition
    if here.kind != "result" or above.kind != "result" or above.value <= here.value:
        return float(step)
    fraction = min(max((result - here.value) / (above.value - here.value), 0.0), 1.0)
    return excel_round(step + fraction, decimals)


def score_kpi(kpi: Kpi, values: Values, kpi_set: KpiSet, method: Method = "step") -> KpiScore:
    """Result and level of one KPI from clean values."""
    if is_not_applicable(kpi, values):
        return KpiScore(kpi.id, kpi.weight, applicable=False)
    result = kpi_result(kpi, values, kpi_set.result_decimals)
    level: float = step_level(kpi, values, result)
    if method == "linear":
        level = linear_level(kpi, int(level), result, kpi_set.score_decimals)
    return KpiScore(kpi.id, kpi.weight, result, level)


def scorecard_score(kpi_scores: Iterable[KpiScore], kpi_set: KpiSet, scorecard_id: str
                    ) -> ScorecardScore:
    """Σ(weight × level) / Σ(weight of applicable KPIs), and that score as a percentage of 5."""
    applicable = [k for k in kpi_scores if k.applicable]
    if not applicable or any(k.level is None for k in applicable):
        return ScorecardScore(scorecard_id, None, None)
    total_weight = sum(k.weight for k in applicable)
    score = excel_round(sum(k.points for k in applicable) / total_weight, kpi_set.score_decimals)
    percent = excel_round(score / 5 * 100, kpi_set.percent_decimals)
    return ScorecardScore(scorecard_id, score, percent)


def overall_percent(scorecards: Mapping[str, ScorecardScore], kpi_set: KpiSet) -> float | None:
    """Weighted mean of the scorecard percentages (weights from the card, in percent)."""
    parts = [(scorecards[sc_id].percent, w) for sc_id, w in kpi_set.scorecard_weights.items()]
    if any(p is None for p, _ in parts):
        return None
    return excel_round(sum(p * w for p, w in parts) / 100, kpi_set.percent_decimals)


def combine(kpi_scores: dict[str, KpiScore], kpi_set: KpiSet, complete: bool = True,
            pooled: Iterable[str] = ()) -> DistrictScore:
    """Scorecards, overall % and rating from KPI scores; only levels when ``complete`` is False."""
    if not complete:
        blank = {sc.id: ScorecardScore(sc.id, None, None) for sc in kpi_set.scorecards}
        return DistrictScore(kpi_scores, blank, pooled_kpis=frozenset(pooled))
    cards = {sc.id: scorecard_score((kpi_scores[k.id] for k in sc.kpis), kpi_set, sc.id)
             for sc in kpi_set.scorecards}
    overall = overall_percent(cards, kpi_set)
    rating = kpi_set.rating_for(overall) if overall is not None else None
    return DistrictScore(kpi_scores, cards, overall, rating, frozenset(pooled))


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


def competition_ranks(percents: Sequence[float | None]) -> list[int | None]:
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
    pooled: list[str] = []
    for kpi in kpi_set.kpis:
        valid = [(v, s.kpis[kpi.id]) for v, s in districts
                 if s.kpis[kpi.id].applicable and s.kpis[kpi.id].level is not None]
        applicable = any(s.kpis[kpi.id].applicable for _, s in districts) or not districts
        if not valid:
            kpi_scores[kpi.id] = KpiScore(kpi.id, kpi.weight, applicable=applicable,
                                          scorable=not applicable)
            continue
        if pools_fields(kpi):
            pooled.append(kpi.id)
            sums = {f: sum(v[f] for v, _ in valid) for f in kpi.result.fields}
            kpi_scores[kpi.id] = score_kpi(kpi, sums, kpi_set, method)
        else:
            mean = excel_round(sum(s.level for _, s in valid) / len(valid), kpi_set.score_decimals)
            kpi_scores[kpi.id] = KpiScore(kpi.id, kpi.weight, None, mean)
    return combine(kpi_scores, kpi_set, pooled=pooled)
