"""What one round found, for the writers: a row per district, grouped by province, with the
problems and the files read. ``round.run_round`` makes it; nothing here reads or writes a file.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from cdd_scorer.geography import Area
from cdd_scorer.kpi import KpiSet
from cdd_scorer.problems import Problem
from cdd_scorer.reading import RawSubmission, SourceFile
from cdd_scorer.scoring import DistrictScore, Method
from cdd_scorer.thai import Status
from cdd_scorer.validation import CheckedValues


@dataclass
class DistrictResult:
    """One district's row: its status, its file, checked values and score, and the files it sent that
    do not count because another one does (``superseded``: name → the file that supersedes it; identical
    copies included)."""

    area: Area
    status: Status
    source: SourceFile | None = None
    checked: CheckedValues | None = None
    score: DistrictScore | None = None
    problems: list[Problem] = field(default_factory=list)
    rank: int | None = None
    superseded: dict[str, str] = field(default_factory=dict)

    @property
    def files(self) -> tuple[str, ...]:
        """Names of the files the district sent: the one used, and any refused or duplicate ones."""
        names = [self.source.name] if self.source else []
        names += [p.file for p in self.problems if p.file]
        names += [p.params["other"] for p in self.problems if p.code.startswith("duplicate_")]
        return tuple(dict.fromkeys(names))


@dataclass
class ProvinceResult:
    code: str
    name_th: str
    name_en: str
    districts: list[DistrictResult]
    summary: DistrictScore

    def count(self, status: Status) -> int:
        return sum(1 for d in self.districts if d.status == status)


@dataclass
class RoundResult:
    """Everything one scoring run found, ready for the writers."""

    kpi_set: KpiSet
    method: Method
    provinces: list[ProvinceResult]
    problems: list[Problem]
    sources: list[SourceFile]
    national: DistrictScore | None = None
    submissions: dict[str, RawSubmission] = field(default_factory=dict)  # by file name, refused ones too

    @property
    def districts(self) -> Iterator[DistrictResult]:
        for province in self.provinces:
            yield from province.districts

    @property
    def error_count(self) -> int:
        return sum(1 for p in self.problems if p.severity == "error")
