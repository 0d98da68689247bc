"""Filling an entry template by its defined names, as another tool or a test would.

Used by ``demo`` (synthetic answers), the tests and the benchmark. openpyxl edits a copy; the
template itself is never changed.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import openpyxl

from cdd_scorer.output_files import atomic_output


def fill_template(template: Path, answers: Mapping[str, Any], out: Path) -> Path:
    """Write ``answers`` (field id → value as a person would type it) into a copy of ``template``."""
    wb = openpyxl.load_workbook(template, rich_text=True)  # keeps the small grey English of each label
    for field_id, value in answers.items():
        for sheet, cell in wb.defined_names[field_id].destinations:
            wb[sheet][cell].value = value
    with atomic_output(out) as tmp:
        wb.save(tmp)
    return out
