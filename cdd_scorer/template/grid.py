"""Where things are on the entry sheet: its name, columns, header rows and the ``preview_ready`` cell."""

from cdd_scorer import xlsx

ENTRY_SHEET = "กรอกข้อมูล"

# Entry sheet columns (zero-based): A holds each input's field id (the reading contract); the hidden
# helper columns hold each input's reading and problem (``entry_formulas``).
ID_COL, LABEL_COL, VALUE_COL, HINT_COL, LEVEL_COL, HELPER_COL, PROBLEM_COL = range(7)
COLUMN_WIDTHS = {ID_COL: 4, LABEL_COL: 34, VALUE_COL: 13, HINT_COL: 13, LEVEL_COL: 56, HELPER_COL: 10,
                 PROBLEM_COL: 10}
HIDDEN_COLUMNS = (ID_COL, HELPER_COL, PROBLEM_COL)
HEADER_ROWS = 4
STATUS_ROW = 2  # the frozen header's live banner; its hidden problem cell is ``preview_ready``
READY_REF = xlsx.absolute_ref(STATUS_ROW, PROBLEM_COL)
