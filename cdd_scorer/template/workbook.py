"""Writing entry workbooks: one district's (``write_template``) and a whole run's, in worker processes
when there are many (``write_templates``)."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from pathlib import Path

from xlsxwriter.worksheet import Worksheet

from cdd_scorer import __version__, parallel
from cdd_scorer.geography import Area
from cdd_scorer.kpi import KpiSet
from cdd_scorer.metadata import META_SHEET, TemplateMetadata, join_address, template_file_name, template_id
from cdd_scorer.output_files import atomic_output, ensure_folder
from cdd_scorer.template.entry_sheet import write_entry_sheet
from cdd_scorer.template.grid import ENTRY_SHEET
from cdd_scorer.template.inputs import InputCell
from cdd_scorer.template.instructions import INSTRUCTIONS_SHEET, write_instructions_sheet
from cdd_scorer.template.protection import LockedWorkbook
from cdd_scorer.template.style import FONT_SIZE, TemplateOptions, add_formats

COMPANY_TH = "กรมการพัฒนาชุมชน"

# Fewer districts are written sooner, and with less CPU, in this process than by starting workers (about
# 0.5 s of CPU each): a province (32 districts at most) stays in one process, a national run uses every core.
PARALLEL_FROM = 40
FILES_PER_TASK = 20  # workbooks a worker writes per task: small enough for an even load and a live progress bar
DEFAULT_OPTIONS = TemplateOptions()


def write_templates(kpi_set: KpiSet, areas: Iterable[Area], out_dir: Path,
                    options: TemplateOptions = DEFAULT_OPTIONS, jobs: int | None = None,
                    progress: Callable[[int], None] | None = None) -> list[Path]:
    """Write one entry workbook per district into ``out_dir``; return their paths, in the order of ``areas``.

    ``jobs``: worker processes; by default one per core from ``PARALLEL_FROM`` districts on, below that
    this process (starting workers would cost more than they save); 0 or 1: always this process.
    ``progress`` is told how many files were just written. Every workbook of a run has the same time stamp.
    """
    ensure_folder(out_dir)
    options = replace(options, generated_at=options.generated_at or dt.datetime.now().replace(microsecond=0))
    targets = [(area, out_dir / template_file_name(area)) for area in areas]
    automatic = jobs is None and len(targets) >= PARALLEL_FROM
    workers = parallel.worker_count(None if automatic else max(jobs or 1, 1), len(targets))
    pieces = parallel.split(targets, max(workers, math.ceil(len(targets) / FILES_PER_TASK)))
    tasks = [(kpi_set, options, piece) for piece in pieces]
    results = (map(_write_piece, tasks) if workers == 1
               else parallel.map_in_processes(_write_piece, tasks, workers))
    paths: list[Path] = []
    for written in results:
        paths.extend(written)
        if progress:
            progress(len(written))
    return paths


def _write_piece(task: tuple[KpiSet, TemplateOptions, Sequence[tuple[Area, Path]]]) -> list[Path]:
    kpi_set, options, targets = task
    return [write_template(kpi_set, area, path, options) for area, path in targets]


def write_template(kpi_set: KpiSet, area: Area, path: Path,
                   options: TemplateOptions = DEFAULT_OPTIONS) -> Path:
    """Write one district's entry workbook to ``path`` (atomically)."""
    with atomic_output(path) as tmp:
        _write_workbook(tmp, kpi_set, area, options)
    return path


def _write_workbook(path: Path, kpi_set: KpiSet, area: Area, options: TemplateOptions) -> None:
    generated = options.generated_at or dt.datetime.now().replace(microsecond=0)
    ident = template_id(kpi_set, area)
    # in_memory: the XML parts go straight into the zip, not through a dozen temporary files per workbook.
    # The standard font is the template's: column widths count its digits (``layout``).
    wb = LockedWorkbook(str(path), {"strings_to_formulas": False, "strings_to_numbers": False, "in_memory": True,
                                    "default_format_properties": {"font_name": options.font, "font_size": FONT_SIZE}},
                        options.password)
    wb.set_properties({
        "title": f"{kpi_set.title_th} — อำเภอ{area.district_name_th} จังหวัด{area.province_name_th}",
        "subject": f"{kpi_set.round_th} / {kpi_set.round_en}",
        "author": "cdd-scorer",
        "company": COMPANY_TH,
        "category": kpi_set.id,
        "keywords": f"{ident}, {kpi_set.id}, {area.district_code}",
        "comments": f"{kpi_set.title_en}, {area.district_name_en}, {area.province_name_en}",
        "created": generated,
    })
    formats = add_formats(wb, options.font)
    instructions = wb.add_worksheet(INSTRUCTIONS_SHEET)
    entry = wb.add_worksheet(ENTRY_SHEET)
    inputs = write_entry_sheet(wb, entry, formats, kpi_set, area, options)
    write_instructions_sheet(wb, instructions, formats, kpi_set, area, options)
    _write_meta_sheet(wb.add_worksheet(META_SHEET), kpi_set, area, ident, generated, inputs, options.password)
    instructions.activate()
    wb.close()


def _write_meta_sheet(meta: Worksheet, kpi_set: KpiSet, area: Area, ident: str, generated: dt.datetime,
                      inputs: Sequence[InputCell], password: str) -> None:
    """The very hidden ``_meta`` sheet: the template's identity and the address of every input."""
    metadata = TemplateMetadata(
        template_id=ident, kpi_set_id=kpi_set.id, kpi_fingerprint=kpi_set.fingerprint,
        province_code=area.province_code, province_name_th=area.province_name_th,
        province_name_en=area.province_name_en, district_code=area.district_code,
        district_name_th=area.district_name_th, district_name_en=area.district_name_en,
        tool_version=__version__, generated_at=generated.isoformat(),
        cells={entry.field.id: join_address(ENTRY_SHEET, entry.address) for entry in inputs})
    for row, (key, value) in enumerate(metadata.rows()):
        meta.write_string(row, 0, key)
        meta.write_string(row, 1, value)
    meta.very_hidden()
    meta.protect(password)
