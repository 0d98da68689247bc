"""XlsxWriter workbooks that write our formulas without XlsxWriter's function renaming.

XlsxWriter's ``Worksheet._prepare_formula`` strips ``{``, ``=`` and ``}`` and then runs about 30
regular expressions over every formula (180 with future functions) to give Excel's newer functions
their ``_xlfn.`` prefix. Ours call only old functions; for the consolidated workbook of the whole
country (≈ 80,000 formulas) those expressions were most of the writing time.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache

import xlsxwriter
from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.worksheet import Worksheet

MONEY_FORMAT = "#,##0.00"  # number formats both workbooks use
COUNT_FORMAT = "#,##0"

# Functions XlsxWriter never renames in cell formulas (tests check each one against XlsxWriter, and
# that our workbooks call no other): a formula calling only these is written as it is. Being unrenamed,
# they are Excel 2007's or older, so Excel 2010 on, LibreOffice, Gnumeric, WPS and Google Sheets all have
# them; none is used on arrays (tests/test_second_engine.py recalculates our workbooks in Gnumeric).
PLAIN_FUNCTIONS = frozenset({
    "AND", "AVERAGE", "CHAR", "CHOOSE", "COUNT", "COUNTA", "COUNTIF", "COUNTIFS", "DATE", "DAY", "IF",
    "IFERROR", "INDEX", "INT", "ISERROR", "ISLOGICAL", "ISNUMBER", "ISTEXT", "MATCH", "MAX", "MIN", "MONTH", "N",
    "NOT", "OR", "RANK", "ROUND", "SUMIFS", "TEXT", "TRIM", "YEAR",
})
# The whole run of name characters before each "(" (possessive and anchored at the run's start: a
# plain ([\w.]*)\( retries from every character of every name). XlsxWriter's patterns are \bNAME\(
# (and \SINGLE\(), so a formula whose every such run is a plain function, or empty (a bracket),
# matches none of them.
CALLED_NAMES = re.compile(r"(?<![\w.])([\w.]*+)\(")
_PLAIN_CALLS = PLAIN_FUNCTIONS | {""}


class PlainFormulaWorksheet(Worksheet):
    """A worksheet whose formulas are prepared by ``prepared_formula``.
    Should a new XlsxWriter rename the method, only the speed is lost."""

    def _prepare_formula(self, formula, expand_future_functions=False):
        return prepared_formula(formula, bool(expand_future_functions or self.use_future_functions))


class Workbook(xlsxwriter.Workbook):
    """An XlsxWriter workbook whose worksheets are ``PlainFormulaWorksheet``."""

    worksheet_class = PlainFormulaWorksheet


_XLSXWRITER_WORKSHEET = Worksheet()


@lru_cache(maxsize=4096)
def prepared_formula(formula: str, expand_future_functions: bool = False) -> str:
    """The formula as XlsxWriter prepares it for a cell (``=`` and braces removed, newer functions
    prefixed with ``_xlfn.``). A formula that calls only ``PLAIN_FUNCTIONS`` skips XlsxWriter's
    expressions, which would leave it unchanged; the future functions XlsxWriter expands in
    conditional formats and data validations always go through it. Cached: every template repeats
    the same formulas."""
    if not expand_future_functions:
        stripped = formula.removeprefix("{").removeprefix("=").removesuffix("}")
        if _PLAIN_CALLS.issuperset(CALLED_NAMES.findall(stripped)):
            return stripped
    return _XLSXWRITER_WORKSHEET._prepare_formula(formula, expand_future_functions)


@cache
def column_letters(col: int) -> str:
    """The letters of a 0-based column (``0`` → ``A``), computed once per column."""
    return xl_col_to_name(col)


def cell_ref(row: int, col: int) -> str:
    """A relative A1 reference of 0-based coordinates (``xl_rowcol_to_cell`` without its per-call work)."""
    return f"{column_letters(col)}{row + 1}"


def absolute_ref(row: int, col: int) -> str:
    """An absolute ``$A$1`` reference of 0-based coordinates."""
    return f"${column_letters(col)}${row + 1}"
