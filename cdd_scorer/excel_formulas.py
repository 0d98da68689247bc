"""Excel formulas that score a KPI card, built from the card itself.

The entry template's live preview and the consolidated workbook both call these builders, so
Excel, LibreOffice and the Python engine (``scoring``) follow one set of rules: the same
rounding, ``>`` versus ``≥``, cumulative milestones, deadlines and not-applicable rescaling.

Builders return formula text without the leading ``=``. Cell references come from callables:
``ref(field_id)`` for an input, ``crit(kpi, level)`` for a level's threshold or deadline (a
defined name such as ``crit_T1_L1``, or a literal).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from cdd_scorer.kpi import Condition, Kpi, RatingBand

Ref = Callable[[str], str]
Crit = Callable[[Kpi, int], str]
YES_TH = "ใช่"
NO_TH = "ไม่ใช่"


def has_criterion(cond: Condition) -> bool:
    """True when a level compares with a value of its own: a threshold or a deadline (a criteria cell)."""
    return cond.is_numeric or cond.kind == "deadline"


def crit_name(kpi: Kpi, level: int) -> str:
    """Defined name of a level's criterion: ``crit_T1_L1`` (threshold) or ``deadline_T3_L5``."""
    prefix = "deadline" if kpi.levels[level - 1].condition.kind == "deadline" else "crit"
    return f"{prefix}_{kpi.id}_L{level}"


def weight_name(kpi: Kpi) -> str:
    return f"weight_{kpi.id}"


def scorecard_weight_name(scorecard_id: str) -> str:
    return f"weight_{scorecard_id}"


def literal_crit(kpi: Kpi, level: int) -> str:
    """A criterion written into the formula itself (for workbooks without criteria cells)."""
    cond = kpi.levels[level - 1].condition
    if cond.kind == "deadline":
        return f"DATE({cond.deadline.year},{cond.deadline.month},{cond.deadline.day})"
    return number(cond.value)


def number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def text(value: str) -> str:
    """A string literal for a formula."""
    return '"' + value.replace('"', '""') + '"'


def required_fields(kpi: Kpi) -> list[str]:
    return [f.id for f in kpi.fields if not f.optional and f.type != "text"]


def incomplete(kpi: Kpi, ref: Ref) -> str:
    """True while a required input of the KPI is still empty (a blank cell, or a reading of ``""``)."""
    cells = [ref(f) for f in required_fields(kpi)]
    return "OR(" + ",".join(f'{c}=""' for c in cells) + ")" if cells else "FALSE"


FIELD_DECIMALS = {"money": 2, "count": 0}


def result(kpi: Kpi, ref: Ref, decimals: int) -> str:
    """ROUND(result, decimals); empty while an input is empty or a divisor is zero. Sums and
    differences of inputs are rounded to their own decimals first (see ``Expression.to_excel``)."""
    assert kpi.result is not None
    cells = [ref(f) for f in kpi.result.fields]
    types = {f.id: f.type for f in kpi.fields}
    body = kpi.result.to_excel(ref, lambda field_id: FIELD_DECIMALS[types[field_id]])
    return f'IF(COUNT({",".join(cells)})<{len(cells)},"",IFERROR(ROUND({body},{decimals}),""))'


def _compare(subject: str, op: str, threshold: str) -> str:
    excel_op = "=" if op == "==" else op
    return f"AND(ISNUMBER({subject}),{subject}{excel_op}{threshold})"


def condition(cond: Condition, ref: Ref, result_ref: str | None, threshold: str) -> str:
    """One level condition as an Excel boolean."""
    if cond.kind == "yes":
        return f"{ref(cond.field)}={text(YES_TH)}"
    if cond.kind == "deadline":
        return _compare(ref(cond.field), "<=", threshold)
    if cond.kind == "fields":
        other = ref(cond.other_field)
        return f"AND(ISNUMBER({other}),{_compare(ref(cond.field), cond.op, other)})"
    subject = result_ref if cond.kind == "result" else ref(cond.field)
    return _compare(subject, cond.op, threshold)


def not_applicable(kpi: Kpi, ref: Ref) -> str:
    """True when the KPI is not applicable (e.g. I5 with a baseline of 0); FALSE if it always is."""
    if not kpi.not_applicable_when:
        return "FALSE"
    parts = [condition(c, ref, None, number(c.value)) for c in kpi.not_applicable_when]
    return parts[0] if len(parts) == 1 else f"AND({','.join(parts)})"


def step_level(kpi: Kpi, ref: Ref, result_ref: str | None, crit: Crit) -> str:
    """The integer level 0–5 (threshold: highest met; cumulative: unbroken run from level 1)."""
    conds = [condition(lv.condition, ref, result_ref,
                       crit(kpi, lv.number) if has_criterion(lv.condition) else "")
             for lv in kpi.levels]
    if kpi.rule == "threshold":
        formula = "0"
        for i, c in enumerate(conds):
            formula = f"IF({c},{i + 1},{formula})"
        return formula
    formula = str(len(conds))
    for i in reversed(range(len(conds))):
        formula = f"IF(NOT({conds[i]}),{i},{formula})"
    return formula


def interpolated_levels(kpi: Kpi) -> list[int]:
    """Levels k from which the linear method interpolates towards k + 1 (both result thresholds)."""
    kinds = [lv.condition.kind for lv in kpi.levels]
    return [k for k in range(1, len(kinds)) if kinds[k - 1] == "result" and kinds[k] == "result"]


def linear_level(kpi: Kpi, step_ref: str, result_ref: str, crit: Crit) -> str:
    """Level k + (result − t_k) / (t_k+1 − t_k) between two result thresholds, else the step
    (exact: shown with 4 decimals, never rounded before it is used)."""
    levels = interpolated_levels(kpi)
    if not levels:
        return step_ref
    thresholds = [crit(kpi, lv.number) if lv.condition.kind == "result" else "0"
                  for lv in kpi.levels]
    low = f"CHOOSE({step_ref},{','.join(thresholds)})"
    high = f"CHOOSE({step_ref},{','.join(thresholds[1:])})"
    fraction = f"MIN(1,MAX(0,({result_ref}-{low})/({high}-{low})))"
    which = ",".join(f"{step_ref}={k}" for k in levels)
    return (f'IF(AND(ISNUMBER({step_ref}),ISNUMBER({result_ref}),OR({which})),'
            f'IFERROR(IF({high}>{low},{step_ref}+{fraction},{step_ref}),'
            f'{step_ref}),{step_ref})')


def level(kpi: Kpi, ref: Ref, result_ref: str | None, crit: Crit, blocked: str = "FALSE") -> str:
    """The KPI's step level, empty when not applicable, while a required input is empty, or while
    ``blocked`` (an input the batch would reject) holds."""
    guard = "" if blocked == "FALSE" else f'IF({blocked},"",'
    return (f'{guard}IF({not_applicable(kpi, ref)},"",IF({incomplete(kpi, ref)},"",'
            f'{step_level(kpi, ref, result_ref, crit)})){")" if guard else ""}')


def applicable_weight(kpi: Kpi, ref: Ref, weight_ref: str) -> str:
    """The KPI's weight, or 0 when it is not applicable (the scorecard rescales the others)."""
    return f"IF({not_applicable(kpi, ref)},0,{weight_ref})"


def points(level_ref: str, weight_ref: str) -> str:
    return f'IF(ISNUMBER({level_ref}),{weight_ref}*{level_ref},"")'


def scorecard_score(points_refs: Sequence[str], weight_refs: Sequence[str]) -> str:
    """Σ points / Σ applicable weights, empty until every applicable KPI has a level. Not rounded:
    shown with 4 decimals, used exact (round once, where shown)."""
    scored = "+".join(f"ISNUMBER({p})" for p in points_refs)
    needed = "+".join(f"({w}>0)" for w in weight_refs)
    total = "+".join(f"N({p})" for p in points_refs)
    weights = "+".join(weight_refs)
    return f'IF(OR({scored}<{needed},({weights})=0),"",({total})/({weights}))'


def scorecard_percent(score_ref: str) -> str:
    """The scorecard score as a percentage of 5; not rounded (shown with 2 decimals)."""
    return f'IF(ISNUMBER({score_ref}),{score_ref}/5*100,"")'


def overall_percent(percent_refs: Sequence[str], weight_refs: Sequence[str], decimals: int) -> str:
    """Σ scorecard % × scorecard weight / 100 from the unrounded scorecard %, rounded once: the shown
    figure that the rating and the rank read."""
    ready = ",".join(f"ISNUMBER({p})" for p in percent_refs)
    total = "+".join(f"{p}*{w}" for p, w in zip(percent_refs, weight_refs))
    return f'IF(AND({ready}),ROUND(({total})/100,{decimals}),"")'


def rating(overall_ref: str, bands: Sequence[RatingBand], min_refs: Sequence[str] | None = None,
           name_refs: Sequence[str] | None = None) -> str:
    """The rating band name of an overall %, highest band first."""
    mins = min_refs or [number(b.min_percent) for b in bands]
    names = name_refs or [text(b.name_th) for b in bands]
    formula = names[-1]
    for m, n in zip(reversed(mins[:-1]), reversed(names[:-1])):
        formula = f"IF({overall_ref}>={m},{n},{formula})"
    return f'IF(ISNUMBER({overall_ref}),{formula},"")'


def rank(value_ref: str, range_ref: str) -> str:
    """Competition rank from the highest (ties share a rank: 1, 2, 2, 4)."""
    return f'IF(ISNUMBER({value_ref}),RANK({value_ref},{range_ref},0),"")'

