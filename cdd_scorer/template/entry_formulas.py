"""The entry form reading itself as the batch reads it (SPEC §6, "one truth").

Each input of the entry sheet gets two hidden cells:

- its **reading**: the value as ``cdd-scorer score`` would take it (a number, a whole day, ใช่ or ไม่ใช่),
  ``""`` while empty, or ``UNREADABLE`` for what the formulas cannot read as the batch would (a number
  typed as text, a text date, an error value, TRUE in a number cell);
- its **problem**: ``""``, or one line of Thai naming the cell and what is wrong, for everything the
  batch would call an error (negative, zero where it divides, a fraction of a count, part > whole, a
  date outside the fiscal year) and everything the formulas cannot read.

The preview computes only from readings, shows no level for a KPI with a problem, and ``preview_ready``
is TRUE only when no problem and no required empty input is left. The messages come from the catalogue.
Builders return formula text without the leading ``=``.
"""

from __future__ import annotations

import datetime as dt
from string import Formatter

from cdd_scorer import excel_formulas as xf
from cdd_scorer.kpi import Field, KpiSet
from cdd_scorer.parsing import NO_WORDS, YES_WORDS
from cdd_scorer.problems import CATALOGUE
from cdd_scorer.thai import BE_OFFSET

UNREADABLE = "⚠"  # a reading the formulas could not make; never a value a district types
_LAST_SERIAL = 2_958_466  # 1 Jan 10000: the batch reads serials below it as dates
_THAI_DIGITS = str.maketrans("0123456789", "๐๑๒๓๔๕๖๗๘๙")
_UNREADABLE_CODES = {"money": "entry_not_a_number", "count": "entry_not_a_number", "yesno": "entry_not_yes_no",
                     "date": "entry_not_a_date"}
SAMPLE_VALUE = "-12,345.67"  # a found value as long as most that are typed
ERROR_SHOWN = "#"  # what a problem line quotes for an error value (#DIV/0!, #REF!, ...)


def _date(day: dt.date) -> str:
    return f"DATE({day.year},{day.month},{day.day})"


def _words(cell: str, words: set[str]) -> str:
    """TRUE when the cell, trimmed, is one of ``words`` (Excel compares text without case, as the batch
    lower-cases); Thai-digit spellings included, as the batch reads ๑ as 1."""
    spelled = sorted(words | {w.translate(_THAI_DIGITS) for w in words})
    return "OR(" + ",".join(f"TRIM({cell})={xf.text(w)}" for w in spelled) + ")"


def reading(fld: Field, cell: str) -> str:
    """The input as the batch reads it; ``""`` when empty; ``UNREADABLE`` otherwise."""
    bad = xf.text(UNREADABLE)
    if fld.type in ("money", "count"):
        value = f"ROUND({cell},2)" if fld.type == "money" else cell
        typed = f'IF(ISNUMBER({cell}),{value},IF({cell}="","",{bad}))'
    elif fld.type == "yesno":
        yes = f"OR({cell}=TRUE,{cell}=1,{_words(cell, YES_WORDS)})"
        no = f"OR({cell}=FALSE,{cell}=0,{_words(cell, NO_WORDS)})"
        return (f'IF(ISERROR({cell}),{bad},IF({cell}="","",IF({yes},{xf.text(xf.YES_TH)},'
                f'IF({no},{xf.text(xf.NO_TH)},{bad}))))')
    elif fld.type == "date":
        # A time of day on a date is the same day (the batch drops it); a BE year typed into an AD
        # calendar (year ≥ 2400) moves back 543 years, as the reader does.
        be = f"DATE(YEAR({cell})-{BE_OFFSET},MONTH({cell}),DAY({cell}))"
        day = f"IF(YEAR({cell})>=2400,{be},INT({cell}))"
        typed = (f'IF(ISNUMBER({cell}),IF(AND({cell}>=1,{cell}<{_LAST_SERIAL}),{day},{bad}),'
                 f'IF({cell}="","",{bad}))')
    else:
        return f'IF(ISERROR({cell}),{bad},{cell})'
    return f"IF(ISERROR({cell}),{bad},IF(ISLOGICAL({cell}),{bad},{typed}))"


def message(code: str, fld: Field, value: str = '""', **params: str) -> str:
    """The catalogue's Thai message of ``code`` for ``fld`` as a formula; ``value`` and ``params`` are
    formula expressions spliced where the message quotes ``{value}`` and other placeholders."""
    spliced = {"value": value, **params}
    text = CATALOGUE[code].message_th
    fixed = {"label": fld.label_th, "label_en": fld.label_en}
    pieces: list[str] = []
    for literal, name, _spec, _conversion in Formatter().parse(text):
        if literal:
            pieces.append(xf.text(literal))
        if name is not None:
            pieces.append(xf.text(fixed[name]) if name in fixed else f"({spliced[name]})")
    return "&".join(pieces)


def number_text(ref: str) -> str:
    """A number as the batch quotes it: 1,234.5 or 2,000,000."""
    return f'IF(INT({ref})={ref},TEXT({ref},"#,##0"),TEXT({ref},"#,##0.0#"))'


def be_date_text(ref: str) -> str:
    """A day as the batch quotes it: 31/8/2565."""
    return f'DAY({ref})&"/"&MONTH({ref})&"/"&(YEAR({ref})+{BE_OFFSET})'


def problem(fld: Field, cell: str, read: str, kpi_set: KpiSet, whole: tuple[Field, str] | None = None) -> str:
    """One line naming the cell and what the batch would reject in it, or ``""``.

    ``cell`` is the input's address, ``read`` its reading cell, ``whole`` the field it must not exceed
    (with its reading cell). Only the first problem of a cell is named, as one is enough to correct."""
    where = xf.text(_where(cell))
    error_value = f'IF(ISERROR({cell}),{where}&{message("error_value", fld, xf.text(ERROR_SHOWN))},'
    if fld.type == "text":
        return f'{error_value}"")'
    checks: list[tuple[str, str]] = []  # (condition, message), the first that holds is shown
    shown = number_text(read)
    for code in _value_codes(fld, whole is not None):
        if code == "negative":
            checks.append((f"{read}<0", message(code, fld, shown)))
        elif code == "not_positive":
            checks.append((f"{read}=0", message(code, fld, shown)))
        elif code == "not_whole":
            checks.append((f"INT({read})<>{read}", message(code, fld, shown)))
        elif code == "part_exceeds_whole" and whole is not None:
            other, other_read = whole
            checks.append((f"AND(ISNUMBER({other_read}),{read}>{other_read})",
                           message(code, fld, shown, other_label=xf.text(other.label_th),
                                   other_value=number_text(other_read))))
        elif code == "date_outside_fiscal_year":
            start, end = _date(kpi_set.fiscal_year_start), _date(kpi_set.fiscal_year_end)
            checks.append((f"OR({read}<{start},{read}>{end})", message(code, fld, be_date_text(read))))
    formula = '""'
    for condition, text in reversed(checks):
        formula = f"IF({condition},{where}&{text},{formula})"
    formula = f'IF({read}="","",{formula})' if checks else '""'
    typed = message(_UNREADABLE_CODES[fld.type], fld, f'{cell}&""')
    return f"{error_value}IF({read}={xf.text(UNREADABLE)},{where}&{typed},{formula}))"


def longest_problem(fld: Field, cell: str, kpi_set: KpiSet) -> str:
    """The longest line ``problem`` can write for the input at ``cell`` (the found value as long as
    ``SAMPLE_VALUE``): the room a check list must keep for it."""
    whole = kpi_set.field(fld.at_most) if fld.at_most else None
    codes = ["error_value"]
    if fld.type != "text":
        codes += [_UNREADABLE_CODES[fld.type], *_value_codes(fld, whole is not None)]
    values = {"label": fld.label_th, "label_en": fld.label_en, "other_label": whole.label_th if whole else "",
              "other_value": SAMPLE_VALUE}
    return max((_where(cell) + CATALOGUE[code].message_th.format_map(
        {**values, "value": ERROR_SHOWN if code == "error_value" else SAMPLE_VALUE}) for code in codes), key=len)


def _where(cell: str) -> str:
    return f"  • {cell.replace('$', '')} "


def _value_codes(fld: Field, has_whole: bool) -> list[str]:
    """The problems the batch finds in a value it could read, in the order ``problem`` names them."""
    if fld.type in ("money", "count"):
        return ["negative", *(["not_positive"] if fld.positive else []),
                *(["not_whole"] if fld.type == "count" else []), *(["part_exceeds_whole"] if has_whole else [])]
    if fld.type == "date" and fld.kpi_id:
        return ["date_outside_fiscal_year"]
    return []


def has_problem(problem_refs: list[str]) -> str:
    """TRUE when any of the problem cells names a problem."""
    return "OR(" + ",".join(f'{p}<>""' for p in problem_refs) + ")" if problem_refs else "FALSE"
