"""The district entry workbook, written with xlsxwriter.

One workbook per district, for an officer with no training who opens it from an e-mail:

- ``คำชี้แจง``: how to open it (Protected View, other programs), what to fill, units, the deadline, how to
  send it back and whom to call (``instructions``);
- ``กรอกข้อมูล``: grouped by scorecard and KPI, the card's title and five level texts beside
  yellow input cells, each guarded by data validation with Thai messages; a live preview of
  results, levels, points and scores (formulas from ``excel_formulas``), the level reached
  highlighted, and a check list of what is still missing (``entry_sheet``, ``kpi_block``, ``inputs``,
  ``preview``; each input's reading and problem from ``entry_formulas``);
- ``_meta`` (very hidden): the template's identity and the address of every input (``metadata``).

Every sheet and the workbook structure are protected; only the yellow cells are unlocked (``protection``).
``workbook`` writes the files, ``layout`` wraps text and sizes rows, ``pages`` sets up printing (A4, one
page wide, page breaks only between KPI blocks), ``style`` holds the formats.
"""

from cdd_scorer.metadata import template_file_name, template_id
from cdd_scorer.template.grid import ENTRY_SHEET, READY_REF
from cdd_scorer.template.instructions import INSTRUCTIONS_SHEET
from cdd_scorer.template.style import TemplateOptions
from cdd_scorer.template.workbook import write_template, write_templates

__all__ = [
    "ENTRY_SHEET",
    "INSTRUCTIONS_SHEET",
    "READY_REF",
    "TemplateOptions",
    "template_file_name",
    "template_id",
    "write_template",
    "write_templates",
]
