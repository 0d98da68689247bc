"""Where things are in the consolidated workbook: sheet names, the rows of districts, province and
national rows, the criteria sheet's defined names and the column maps the sheet builders return."""

from __future__ import annotations

from dataclasses import dataclass

from cdd_scorer.kpi import Kpi, Scorecard
from cdd_scorer.results import DistrictResult, ProvinceResult, RoundResult
from cdd_scorer.scoring import DistrictScore
from cdd_scorer.thai import Status

SUMMARY_SHEET = "สรุป"
CRITERIA_SHEET = "เกณฑ์"
DATA_SHEET = "ข้อมูล"
ISSUES_SHEET = "ปัญหา"
SOURCES_SHEET = "ที่มา"
GROUPS_SHEET = "กลุ่มงาน"
CHARTS_SHEET = "แผนภูมิ"
NATIONAL_SHEET = "ระดับประเทศ"
DETAIL_SHEETS = {"team": "ทีม", "individual": "รายบุคคล"}

FIRST_ROW = 4  # the first district row of the summary and detail sheets (0-based)
UNSCORABLE_TH = "แก้ไข"  # a KPI whose inputs have an error: no level (SPEC §4, last paragraph)
METHOD_TH = {"step": "ขั้นบันได (step)", "linear": "เส้นตรงระหว่างเกณฑ์ (linear)"}


def detail_sheet_name(sc: Scorecard) -> str:
    return DETAIL_SHEETS.get(sc.id, sc.name_th[:31])


def rating_min_defined_name(band: int) -> str:
    """The defined name of a rating band's lower bound on the criteria sheet."""
    return f"rating_{band}_min"


def rating_label_defined_name(band: int) -> str:
    """The defined name of a rating band's Thai name on the criteria sheet."""
    return f"rating_{band}_name"


@dataclass(frozen=True)
class Aggregate:
    """A province or national row: a label, its districts' sheet rows, its own row in the summary
    and detail sheets, its provinces and the engine's scores."""

    label: str
    rows: range
    row: int
    provinces: tuple[ProvinceResult, ...]
    score: DistrictScore
    national: bool

    @property
    def districts(self) -> list[DistrictResult]:
        return [d for p in self.provinces for d in p.districts]

    def count(self, status: Status) -> int:
        return sum(p.count(status) for p in self.provinces)


@dataclass(frozen=True)
class Layout:
    """The district rows (the same worksheet rows in สรุป and every detail sheet) and, under them, a
    note and the province and national rows."""

    districts: tuple[DistrictResult, ...]
    row_of: dict[str, int]  # district code → row
    aggregates: tuple[Aggregate, ...]

    @property
    def last_district_row(self) -> int:
        return FIRST_ROW + len(self.districts) - 1

    @property
    def notes_row(self) -> int:
        return self.last_district_row + 2

    @property
    def last_row(self) -> int:
        """The last district, province or national row."""
        return max((a.row for a in self.aggregates), default=self.last_district_row)


def layout_of(result: RoundResult) -> Layout:
    """The rows of a round's districts, provinces and (with several provinces) the nation."""
    districts = tuple(result.districts)
    row_of = {d.area.district_code: FIRST_ROW + i for i, d in enumerate(districts)}
    below_note = FIRST_ROW + len(districts) + 2  # a blank row and the note under the districts
    aggregates = []
    for prov in result.provinces:
        rows = [row_of[d.area.district_code] for d in prov.districts]
        aggregates.append(Aggregate(f"จังหวัด{prov.name_th}", range(min(rows), max(rows) + 1),
                                    below_note + len(aggregates), (prov,), prov.summary, False))
    if result.national is not None:
        aggregates.append(Aggregate("ทั้งประเทศ (รวมทุกจังหวัด)", range(FIRST_ROW, FIRST_ROW + len(districts)),
                                    below_note + len(aggregates), tuple(result.provinces), result.national, True))
    return Layout(districts, row_of, tuple(aggregates))


@dataclass(frozen=True)
class DetailColumns:
    """Where each quantity of a detail sheet lives (0-based columns), by field or KPI id."""

    sheet: str
    fields: dict[str, int]
    result: dict[str, int]
    step: dict[str, int]
    level: dict[str, int]
    points: dict[str, int]
    weight: dict[str, int]
    score: int
    percent: int

    def kpi_span(self, kpi: Kpi) -> tuple[int, int]:
        """The first and last column of a KPI's block."""
        cols = [self.fields[f.id] for f in kpi.fields if f.id in self.fields]
        cols += [m[kpi.id] for m in (self.result, self.step, self.level, self.points, self.weight) if kpi.id in m]
        return min(cols), max(cols)


@dataclass(frozen=True)
class SummaryColumns:
    """Where the summary sheet keeps each row's scores (0-based columns)."""

    scores: tuple[int, ...]  # each scorecard's score (0–5), its percent in the next column
    overall: int  # the overall %, then the rating and the rank
    level: int  # the first KPI's level, the others after it in card order

    @property
    def rating(self) -> int:
        return self.overall + 1

    @property
    def rank(self) -> int:
        return self.overall + 2


@dataclass(frozen=True)
class Summary:
    """What later sheets read from the summary sheet: its columns and the district counts."""

    columns: SummaryColumns
    counts: dict[str, tuple[int, int]]  # aggregate label → (row, column) of its first district count
