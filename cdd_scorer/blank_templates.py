"""Telling a blank entry template from a reply.

A district that forwards the template it was sent, without entering anything, has not replied:
``collect`` must not put that file among the submissions. A blank template is a cdd-scorer
template (its hidden ``_meta`` sheet says so) in which every input cell that sheet lists is empty.
Only .xlsx files that pass the safety checks are opened (templates are made as .xlsx).
"""

from __future__ import annotations

import io
from pathlib import Path

from python_calamine import CalamineWorkbook

from cdd_scorer.metadata import META_SHEET, TemplateMetadata, split_address
from cdd_scorer.safety import open_checked
from cdd_scorer.xlsx import cell_ref


def is_blank_template(path: Path) -> bool:
    """True when ``path`` is a cdd-scorer entry template with no value entered in any input cell;
    False for anything else, including files that cannot be read or checked: a check that fails
    never keeps a reply out of the input folder."""
    try:
        check, content = open_checked(path, path.name)
    except Exception:  # noqa: BLE001 - an unreadable file is not a blank template; score reports it
        return False
    if content is None or check.format != "xlsx":
        return False
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(content.data))
        try:
            return _no_input_entered(workbook)
        finally:
            workbook.close()
    except Exception:  # noqa: BLE001 - as above
        return False
    finally:
        content.close()


def _no_input_entered(workbook: CalamineWorkbook) -> bool:
    if META_SHEET not in workbook.sheet_names:
        return False
    meta_rows = workbook.get_sheet_by_name(META_SHEET).to_python(skip_empty_area=False)
    metadata = TemplateMetadata.from_rows((r[0], r[1]) for r in meta_rows if len(r) >= 2)
    if metadata is None or not metadata.cells:
        return False
    values: dict[str, dict[str, object]] = {}
    for address in metadata.cells.values():
        sheet, cell = split_address(address)
        if sheet not in values:
            if sheet not in workbook.sheet_names:
                return False
            values[sheet] = _sheet_values(workbook, sheet)
        if values[sheet].get(cell) not in (None, ""):
            return False
    return True


def _sheet_values(workbook: CalamineWorkbook, sheet: str) -> dict[str, object]:
    rows = workbook.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
    return {cell_ref(r, c): value for r, row in enumerate(rows) for c, value in enumerate(row)
            if value not in (None, "")}
