"""Reading a KPI card file and validating it into the typed ``KpiSet`` (``kpi.model``).

Nothing about a fiscal year lives in code: next year's card is a new TOML file (see README.md,
"Writing a KPI card"). ``load_kpi_set`` returns a ``KpiSet`` or raises ``KpiSetError`` listing
every problem of the file at once.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

from cdd_scorer.expressions import Expression, ExpressionError
from cdd_scorer.kpi.model import (
    COMPARISONS,
    FIELD_TYPES,
    NUMERIC_TYPES,
    Condition,
    Field,
    Kpi,
    KpiSet,
    Level,
    RatingBand,
    Scorecard,
    with_fingerprint,
)

DEFAULT_KPI_SET = "fy2565_round2.toml"


class KpiSetError(ValueError):
    """A KPI card file that cannot be used; ``problems`` lists every problem found."""

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: " + "; ".join(problems))


def default_kpi_set_path() -> Path:
    return Path(str(files("cdd_scorer").joinpath("kpi_sets", DEFAULT_KPI_SET)))


def load_kpi_set(path: str | Path | None = None) -> KpiSet:
    """Load and validate a KPI card (the shipped FY2565 round 2 card when ``path`` is None)."""
    path = Path(path) if path else default_kpi_set_path()
    return _load_cached(str(path.resolve()))


@cache
def _load_cached(path: str) -> KpiSet:
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise KpiSetError(path, [f"cannot read the file: {exc.strerror or exc}"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise KpiSetError(path, [f"not valid TOML: {exc}"]) from None
    return build_kpi_set(raw, source=path)


class _Problems:
    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, message: str) -> None:
        self.items.append(message)

    def get(self, table: dict, key: str, kind: type | tuple[type, ...], where: str,
            default: Any = ...) -> Any:
        if key not in table:
            if default is ...:
                self.add(f"{where}: '{key}' is missing")
            return None if default is ... else default
        value = table[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        ok = isinstance(value, kinds) and (bool in kinds or not isinstance(value, bool))
        if not ok:
            self.add(f"{where}: '{key}' has the wrong type ({type(value).__name__})")
            return None if default is ... else default
        return value


def build_kpi_set(raw: dict[str, Any], source: str = "<memory>") -> KpiSet:
    """Validate a parsed card and build the typed ``KpiSet``; raise ``KpiSetError`` with every problem."""
    p = _Problems()
    text = (str,)
    number = (int, float)
    top = "card"
    set_id = p.get(raw, "id", text, top)
    strings = {k: p.get(raw, k, text, top) for k in
               ("title_th", "title_en", "position_th", "position_en", "round_th", "round_en")}
    dates = {k: p.get(raw, k, dt.date, top) for k in
             ("fiscal_year_start", "fiscal_year_end", "round_start", "round_end")}
    fiscal_year_be = p.get(raw, "fiscal_year_be", int, top)
    if dates["fiscal_year_start"] and dates["fiscal_year_end"] and \
            dates["fiscal_year_start"] >= dates["fiscal_year_end"]:
        p.add("card: fiscal_year_start must be before fiscal_year_end")

    scoring = p.get(raw, "scoring", dict, top, default={})
    decimals = {k: p.get(scoring, k, int, "scoring", default=d) for k, d in
                (("result_decimals", 2), ("score_decimals", 4), ("percent_decimals", 2))}
    weights = p.get(scoring, "scorecard_weights", dict, "scoring", default={})

    bands: list[RatingBand] = []
    for i, b in enumerate(p.get(raw, "rating_bands", list, top, default=[])):
        where = f"rating_bands[{i + 1}]"
        bands.append(RatingBand(float(p.get(b, "min_percent", number, where) or 0),
                                p.get(b, "name_th", text, where) or "",
                                p.get(b, "name_en", text, where) or ""))
    if not bands:
        p.add("card: at least one rating band is needed")
    mins = [b.min_percent for b in bands]
    if mins != sorted(mins, reverse=True) or len(set(mins)) != len(mins):
        p.add("rating_bands: min_percent must decrease strictly from the first band to the last")
    if bands and bands[-1].min_percent != 0:
        p.add("rating_bands: the last band must start at 0 so every percentage has a rating")

    reporter = tuple(_build_field(f, None, p, f"reporter_fields[{i + 1}]")
                     for i, f in enumerate(p.get(raw, "reporter_fields", list, top, default=[])))

    card_ids = [sc.get("id") for sc in p.get(raw, "scorecards", list, top, default=[])]
    kpis_raw = p.get(raw, "kpis", list, top, default=[])
    kpis = [_build_kpi(k, p, f"kpis[{i + 1}]") for i, k in enumerate(kpis_raw)]
    kpis = [k for k in kpis if k is not None]

    scorecards: list[Scorecard] = []
    for i, sc in enumerate(p.get(raw, "scorecards", list, top, default=[])):
        where = f"scorecards[{i + 1}]"
        sc_id = p.get(sc, "id", text, where)
        members = tuple(k for k in kpis if k.scorecard == sc_id)
        if not members:
            p.add(f"{where}: scorecard '{sc_id}' has no KPI")
        total = sum(k.weight for k in members)
        if members and abs(total - 100) > 1e-9:
            p.add(f"scorecard '{sc_id}': KPI weights sum to {total:g}, not 100")
        scorecards.append(Scorecard(sc_id, p.get(sc, "name_th", text, where) or "",
                                    p.get(sc, "name_en", text, where) or "", members))
    for k in kpis:
        if k.scorecard not in card_ids:
            p.add(f"KPI {k.id}: scorecard '{k.scorecard}' is not defined")
    if set(weights) != set(card_ids):
        p.add(f"scoring.scorecard_weights must name each scorecard once: {', '.join(map(str, card_ids))}")
    elif abs(sum(weights.values()) - 100) > 1e-9:
        p.add(f"scoring.scorecard_weights sum to {sum(weights.values()):g}, not 100")

    _check_ids(kpis, reporter, p)
    if p.items:
        raise KpiSetError(source, p.items)
    kpi_set = KpiSet(
        id=set_id, **strings, fiscal_year_be=fiscal_year_be, **dates, **decimals,
        scorecard_weights={k: float(v) for k, v in weights.items()},
        rating_bands=tuple(bands), scorecards=tuple(scorecards), reporter_fields=reporter,
        fingerprint="", source=source,
    )
    return with_fingerprint(kpi_set)


def _build_field(raw: dict, kpi_id: str | None, p: _Problems, where: str) -> Field:
    field_type = p.get(raw, "type", str, where)
    if field_type is not None and field_type not in FIELD_TYPES:
        p.add(f"{where}: type '{field_type}' is not one of {', '.join(FIELD_TYPES)}")
    return Field(
        id=p.get(raw, "id", str, where) or "?",
        type=field_type or "text",
        label_th=p.get(raw, "label_th", str, where) or "",
        label_en=p.get(raw, "label_en", str, where) or "",
        optional=p.get(raw, "optional", bool, where, default=False),
        positive=p.get(raw, "positive", bool, where, default=False),
        at_most=p.get(raw, "at_most", str, where, default=None),
        kpi_id=kpi_id,
    )


def _build_condition(raw: dict, p: _Problems, where: str) -> Condition | None:
    if not isinstance(raw, dict):
        p.add(f"{where}: a condition must be a table")
        return None
    if "result" in raw:
        op, value = raw.get("result"), raw.get("value")
        kind, field_id = "result", None
    elif "is" in raw:
        if raw.get("is") != "yes":
            p.add(f"{where}: 'is' must be \"yes\"")
        return Condition("yes", field=raw.get("field"))
    elif "on_or_before" in raw:
        deadline = raw["on_or_before"]
        if not isinstance(deadline, dt.date):
            p.add(f"{where}: on_or_before must be a date such as 2022-08-31")
        return Condition("deadline", field=raw.get("field"), deadline=deadline)
    elif "than_field" in raw:
        op = raw.get("op")
        if op not in COMPARISONS:
            p.add(f"{where}: comparison '{op}' is not one of {' '.join(COMPARISONS)}")
        return Condition("fields", field=raw.get("field"), op=op, other_field=raw.get("than_field"))
    else:
        op, value, kind, field_id = raw.get("op"), raw.get("value"), "field", raw.get("field")
    if op not in COMPARISONS:
        p.add(f"{where}: comparison '{op}' is not one of {' '.join(COMPARISONS)}")
    if isinstance(value, bool) or not isinstance(value, int | float):
        p.add(f"{where}: 'value' must be a number")
        return None
    return Condition(kind, field=field_id, op=op, value=float(value))


def _build_kpi(raw: dict, p: _Problems, where: str) -> Kpi | None:
    kpi_id = p.get(raw, "id", str, where)
    if kpi_id:
        where = f"KPI {kpi_id}"
    fields = tuple(_build_field(f, kpi_id, p, f"{where} field {i + 1}")
                   for i, f in enumerate(p.get(raw, "fields", list, where, default=[])))
    field_types = {f.id: f.type for f in fields}
    result = None
    if "result" in raw:
        try:
            result = Expression.parse(raw["result"])
        except ExpressionError as exc:
            p.add(f"{where}: result {exc}")
        else:
            for name in result.fields:
                if field_types.get(name) not in NUMERIC_TYPES:
                    p.add(f"{where}: result uses '{name}', which is not a money or count field of the KPI")
    rule = p.get(raw, "rule", str, where)
    if rule not in ("threshold", "cumulative"):
        p.add(f"{where}: rule must be \"threshold\" or \"cumulative\", not '{rule}'")
    levels: list[Level] = []
    for i, lv in enumerate(p.get(raw, "levels", list, where, default=[])):
        cond = _build_condition(lv.get("when"), p, f"{where} level {i + 1}")
        if cond is None:
            continue
        levels.append(Level(i + 1, p.get(lv, "text_th", str, f"{where} level {i + 1}") or "",
                            p.get(lv, "text_en", str, f"{where} level {i + 1}") or "", cond))
        _check_condition(cond, field_types, result, p, f"{where} level {i + 1}")
    if len(levels) != 5:
        p.add(f"{where}: needs exactly 5 levels, has {len(levels)}")
    if rule == "threshold":
        if any(lv.condition.kind != "result" for lv in levels):
            p.add(f"{where}: a threshold rule compares the result at every level")
        else:
            values = [lv.condition.value for lv in levels]
            if any(b <= a for a, b in zip(values, values[1:])):
                p.add(f"{where}: thresholds must increase strictly: {values}")
            if len({lv.condition.op for lv in levels}) > 1:
                p.add(f"{where}: every level of a threshold rule uses the same comparison")
    na = []
    for i, c in enumerate(p.get(raw, "not_applicable_when", list, where, default=[])):
        cond = _build_condition(c, p, f"{where} not_applicable_when {i + 1}")
        if cond is not None:
            _check_condition(cond, field_types, result, p, f"{where} not_applicable_when {i + 1}")
            na.append(cond)
    for f in fields:
        if f.at_most and field_types.get(f.at_most) not in NUMERIC_TYPES:
            p.add(f"{where}: field {f.id} at_most '{f.at_most}' is not a number field of the KPI")
    usual = p.get(raw, "usual_range", list, where, default=None)
    weight = p.get(raw, "weight", (int, float), where)
    if weight is not None and weight <= 0:
        p.add(f"{where}: weight must be positive")
    return Kpi(
        id=kpi_id or "?", scorecard=p.get(raw, "scorecard", str, where) or "?",
        number_th=p.get(raw, "number_th", str, where) or "",
        title_th=p.get(raw, "title_th", str, where) or "",
        title_en=p.get(raw, "title_en", str, where) or "",
        weight=float(weight or 0), group_th=p.get(raw, "group_th", str, where) or "",
        group_en=p.get(raw, "group_en", str, where) or "", rule=rule or "threshold",
        levels=tuple(levels), fields=fields, result=result,
        usual_range=tuple(usual) if usual else None, not_applicable_when=tuple(na),
    )


def _check_condition(cond: Condition, field_types: dict[str, str], result: Expression | None,
                     p: _Problems, where: str) -> None:
    if cond.kind == "result":
        if result is None:
            p.add(f"{where}: compares the result, but the KPI has no result formula")
        return
    wanted = {"field": NUMERIC_TYPES, "fields": NUMERIC_TYPES, "yes": ("yesno",), "deadline": ("date",)}[cond.kind]
    for field_id in (cond.field, cond.other_field) if cond.kind == "fields" else (cond.field,):
        if field_id not in field_types:
            p.add(f"{where}: field '{field_id}' is not a field of the KPI")
        elif field_types[field_id] not in wanted:
            p.add(f"{where}: field '{field_id}' must be of type {' or '.join(wanted)}")


def _check_ids(kpis: list[Kpi], reporter: tuple[Field, ...], p: _Problems) -> None:
    kpi_ids = [k.id for k in kpis]
    for dup in {i for i in kpi_ids if kpi_ids.count(i) > 1}:
        p.add(f"KPI id '{dup}' is used more than once")
    field_ids = [f.id for k in kpis for f in k.fields] + [k.note_field for k in kpis] + \
        [f.id for f in reporter]
    for dup in {i for i in field_ids if field_ids.count(i) > 1}:
        p.add(f"field id '{dup}' is used more than once")
    for fid in field_ids:
        if not fid.isidentifier() or not fid.islower():
            p.add(f"field id '{fid}' must be lower-case letters, digits and _ (it is an Excel name)")
