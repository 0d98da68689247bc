"""Which district a workbook belongs to, from its small hidden ``_meta`` sheet alone.

A file that cannot be read — refused by the safety checks (a sheet spanning too far, a bomb in another
member), damaged where calamine reads, or one that crashed or outran a reader process — often still holds
an intact ``_meta``. Its problem then names the district, so the district is ``needs_correction`` (and
gets a correction e-mail), never ``missing``. Only .xlsx/.xlsm and .ods archives are looked into, and only
members whose directory entries keep the zip limits (``zip_checks.member_problem``; zipfile never
inflates a member beyond what it declares), parsed with DTDs forbidden. Anything wrong gives no district,
never an exception.
"""

from __future__ import annotations

import dataclasses
import io
import zipfile
import zlib
from pathlib import Path
from typing import IO

from defusedxml import ElementTree

from cdd_scorer.metadata import META_SHEET, TemplateMetadata
from cdd_scorer.ods_xml import CONTENT, ods_table_rows
from cdd_scorer.problems import Problem
from cdd_scorer.streamed_sheets import META_ROWS, StreamedWorkbook
from cdd_scorer.zip_checks import SafetyLimits, member_problem

_NOTHING_TO_LEARN = (zipfile.BadZipFile, zipfile.LargeZipFile, KeyError, ValueError, IndexError, OSError, EOFError,
                     zlib.error, NotImplementedError, ElementTree.ParseError)  # ValueError: DefusedXmlException too


class _CheckedMembers:
    """An archive's members, each opened only when its directory entry keeps the limits."""

    def __init__(self, archive: zipfile.ZipFile, limits: SafetyLimits) -> None:
        self.archive, self.limits = archive, limits

    def _entry(self, member: str) -> zipfile.ZipInfo:
        entry = self.archive.getinfo(member)
        if problem := member_problem(entry, self.limits):
            raise ValueError(problem[1]["detail"])
        return entry

    def read(self, member: str) -> bytes:
        return self.archive.read(self._entry(member))

    def open(self, member: str) -> IO[bytes]:
        return self.archive.open(self._entry(member))


def named_metadata(archive: zipfile.ZipFile, limits: SafetyLimits) -> TemplateMetadata | None:
    """The template metadata of an .xlsx or .ods archive, when it can be read safely."""
    members = _CheckedMembers(archive, limits)
    names = set(archive.namelist())
    try:
        if "xl/workbook.xml" in names:
            rows = StreamedWorkbook(members).meta_rows()
        elif CONTENT in names:
            table = ods_table_rows(members.open(CONTENT), META_SHEET, 2, META_ROWS)
            rows = [(r[0], r[1]) for r in table] if table else None
        else:
            return None
        return TemplateMetadata.from_rows(rows) if rows else None
    except _NOTHING_TO_LEARN:
        return None


def attributed(problem: Problem, archive: zipfile.ZipFile | None, limits: SafetyLimits) -> Problem:
    """``problem`` with the province and district its workbook names, when it names one that can be read."""
    if problem.district_code or archive is None:
        return problem
    metadata = named_metadata(archive, limits)
    if metadata is None:
        return problem
    return dataclasses.replace(problem, province_code=metadata.province_code, district_code=metadata.district_code)


def attributed_file(problem: Problem, path: Path, limits: SafetyLimits) -> Problem:
    """``attributed`` for a file not open here (one that crashed or outran a reader process)."""
    try:
        if path.stat().st_size > limits.max_file_bytes:
            return problem
        archive = zipfile.ZipFile(io.BytesIO(path.read_bytes()))
    except _NOTHING_TO_LEARN:
        return problem
    with archive:
        return attributed(problem, archive, limits)
