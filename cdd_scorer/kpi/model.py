"""The KPI card's typed model: scorecards of KPIs, their fields and levels, the scoring settings.

Frozen objects, built by ``kpi.card`` from a validated card file; ``KpiSet.fingerprint`` is
the card's identity, which each template carries.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

from cdd_scorer.exact import Number, exact
from cdd_scorer.expressions import Expression

FieldType = Literal["money", "count", "yesno", "date", "text"]
FIELD_TYPES: tuple[str, ...] = ("money", "count", "yesno", "date", "text")
COMPARISONS: tuple[str, ...] = (">=", ">", "<=", "<", "==")
NUMERIC_TYPES = ("money", "count")


@dataclass(frozen=True)
class Field:
    """One value a district enters."""

    id: str
    type: FieldType
    label_th: str
    label_en: str
    optional: bool = False
    positive: bool = False
    at_most: str | None = None
    kpi_id: str | None = None


@dataclass(frozen=True)
class Condition:
    """What must hold for one level: a threshold on the result or a field, a count compared with
    another count (``fields``: "on target" is recorded ≥ target, not a rounded 100 %), a yes, a deadline."""

    kind: Literal["result", "field", "fields", "yes", "deadline"]
    field: str | None = None
    op: str | None = None
    value: float | None = None
    deadline: dt.date | None = None
    other_field: str | None = None

    @property
    def is_numeric(self) -> bool:
        """True when the condition compares a number with a threshold (a ``crit_`` cell)."""
        return self.kind in ("result", "field")


@dataclass(frozen=True)
class Level:
    number: int
    text_th: str
    text_en: str
    condition: Condition


@dataclass(frozen=True)
class Kpi:
    """One KPI of the card."""

    id: str
    scorecard: str
    number_th: str
    title_th: str
    title_en: str
    weight: float
    group_th: str
    group_en: str
    rule: Literal["threshold", "cumulative"]
    levels: tuple[Level, ...]
    fields: tuple[Field, ...]
    result: Expression | None = None
    usual_range: tuple[float, float] | None = None
    not_applicable_when: tuple[Condition, ...] = ()

    @property
    def note_field(self) -> str:
        return f"{self.id.lower()}_note"


@dataclass(frozen=True)
class Scorecard:
    id: str
    name_th: str
    name_en: str
    kpis: tuple[Kpi, ...]


@dataclass(frozen=True)
class RatingBand:
    min_percent: float
    name_th: str
    name_en: str


@dataclass(frozen=True)
class KpiSet:
    """The whole card: scorecards of KPIs, scoring settings and identity."""

    id: str
    title_th: str
    title_en: str
    position_th: str
    position_en: str
    round_th: str
    round_en: str
    fiscal_year_be: int
    fiscal_year_start: dt.date
    fiscal_year_end: dt.date
    round_start: dt.date
    round_end: dt.date
    result_decimals: int
    score_decimals: int
    percent_decimals: int
    scorecard_weights: dict[str, float]
    rating_bands: tuple[RatingBand, ...]
    scorecards: tuple[Scorecard, ...]
    reporter_fields: tuple[Field, ...]
    fingerprint: str
    source: str = field(default="", compare=False)

    @cached_property
    def kpis(self) -> tuple[Kpi, ...]:
        return tuple(k for sc in self.scorecards for k in sc.kpis)

    def kpi(self, kpi_id: str) -> Kpi:
        for k in self.kpis:
            if k.id == kpi_id:
                return k
        raise KeyError(kpi_id)

    @cached_property
    def fields(self) -> tuple[Field, ...]:
        """Every input of the entry form: KPI fields, each KPI's note, then the reporter block."""
        out: list[Field] = []
        for k in self.kpis:
            out.extend(k.fields)
            out.append(
                Field(k.note_field, "text", "หมายเหตุ/หลักฐาน", "Note / evidence", optional=True,
                      kpi_id=k.id)
            )
        out.extend(self.reporter_fields)
        return tuple(out)

    def field(self, field_id: str) -> Field:
        for f in self.fields:
            if f.id == field_id:
                return f
        raise KeyError(field_id)

    def rating_for(self, percent: Number) -> RatingBand:
        """The rating band of an overall percentage (bands sorted from the highest)."""
        for band in self.rating_bands:
            if exact(percent) >= exact(band.min_percent):
                return band
        return self.rating_bands[-1]


def with_fingerprint(kpi_set: KpiSet) -> KpiSet:
    """The card with its fingerprint: a hash of everything that changes what a template asks or how it scores."""
    def plain(obj: Any) -> Any:
        if isinstance(obj, Expression):
            return obj.source
        if isinstance(obj, dt.date):
            return obj.isoformat()
        if hasattr(obj, "__dataclass_fields__"):
            return {k: plain(getattr(obj, k)) for k in obj.__dataclass_fields__
                    if k not in ("fingerprint", "source")}
        if isinstance(obj, dict):
            return {k: plain(v) for k, v in sorted(obj.items())}
        if isinstance(obj, list | tuple):
            return [plain(v) for v in obj]
        return obj

    canonical = json.dumps(plain(kpi_set), ensure_ascii=False, sort_keys=True)
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]
    return KpiSet(**{**{k: getattr(kpi_set, k) for k in kpi_set.__dataclass_fields__},
                     "fingerprint": digest})
