"""One evaluation round: read every returned workbook in a folder, check it and score it, then write
what the managers and the clerk read.

``run_round`` is the library entry point behind ``cdd-scorer score``, ``status`` and ``feedback``: files
in, a ``RoundResult`` out (one row per district of every province present, missing ones included, plus
every problem found). ``write_round_outputs`` writes the consolidated workbook, scores.csv and
issues.csv of a round, replaced together or not at all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from cdd_scorer.consolidated import write_consolidated
from cdd_scorer.geography import Area, area_of, districts_of, find_province
from cdd_scorer.input_files import list_input_files
from cdd_scorer.kpi import KpiSet
from cdd_scorer.output_files import replace_together
from cdd_scorer.problems import Problem
from cdd_scorer.reading import FileOutcome, RawSubmission, SourceFile, read_input_file
from cdd_scorer.results import DistrictResult, ProvinceResult, RoundResult
from cdd_scorer.scoring import Method, competition_ranks, score_district, score_province
from cdd_scorer.tables import issues_table, scores_table, write_csv
from cdd_scorer.thai import Status
from cdd_scorer.validation import CheckedValues, check_values

Prefer = Literal["newest"] | None


@dataclass
class _Accepted:
    raw: RawSubmission
    checked: CheckedValues
    area: Area


Reader = Callable[[Iterable[tuple[Path, str]], KpiSet], Iterable[FileOutcome]]


def read_sequentially(files: Iterable[tuple[Path, str]], kpi_set: KpiSet) -> Iterator[FileOutcome]:
    for path, name in files:
        yield read_input_file(path, name, kpi_set)


def run_round(input_dir: Path, kpi_set: KpiSet, method: Method = "step",
                 province: str | None = None, prefer: Prefer = None,
                 reader: Reader = read_sequentially,
                 progress: Callable[[int], None] | None = None) -> RoundResult:
    """Read, check and score every workbook below ``input_dir``.

    Without ``province`` every province present is scored; with it, only that one (files of other
    provinces are noted). Every district of a scored province gets a row, ``missing`` when no
    usable file came from it.
    """
    only = find_province(province) if province else None
    files = [(p, p.relative_to(input_dir).as_posix()) for p in list_input_files(input_dir)]
    problems: list[Problem] = []
    sources: list[SourceFile] = []
    submissions: dict[str, RawSubmission] = {}
    accepted: dict[str, list[_Accepted]] = {}
    rejected: dict[str, list[Problem]] = {}
    for outcome in reader(files, kpi_set):
        if progress:
            progress(1)
        if outcome.submission is None:
            _attribute(outcome.problem, rejected, problems)
            continue
        submission = outcome.submission
        sources.append(submission.source)
        submissions[submission.source.name] = submission
        refusal = _identify(submission, kpi_set, only.code if only else None)
        if refusal is not None:
            _attribute(refusal, rejected, problems)
            continue
        area = area_of(submission.metadata.district_code)
        where = {"file": submission.source.name, "province_code": area.province_code,
                 "district_code": area.district_code}
        checked = check_values(kpi_set, submission.cells, where)
        checked.problems[:0] = submission.problems
        accepted.setdefault(area.district_code, []).append(_Accepted(submission, checked, area))

    province_codes = {only.code} if only else {c[:2] for c in (*accepted, *rejected)}
    provinces = [_score_province(code, accepted, rejected, kpi_set, method, prefer)
                 for code in sorted(province_codes)]
    for prov in provinces:
        for d in prov.districts:
            problems.extend(d.problems)
    national = None
    if len(provinces) > 1:
        national = score_province(kpi_set, [(d.checked.values, d.score) for p in provinces
                                            for d in p.districts if d.score and d.checked], method)
    return RoundResult(kpi_set, method, provinces, problems, sources, national, submissions)


def _attribute(refusal: Problem, rejected: dict[str, list[Problem]], problems: list[Problem]) -> None:
    """A refused file that names a district (a template of another card, a file too damaged to read
    whose small hidden metadata sheet still names it) belongs to that district's row: its status is
    needs_correction, never missing, and it gets a correction e-mail. The others are reported for the
    folder as a whole."""
    if refusal.code != "other_province" and area_of(refusal.district_code):
        rejected.setdefault(refusal.district_code, []).append(refusal)
    else:
        problems.append(refusal)


def _identify(raw: RawSubmission, kpi_set: KpiSet, only: str | None) -> Problem | None:
    """Why a template cannot be scored in this run, or None when it can."""
    meta = raw.metadata
    where = {"file": raw.source.name, "province_code": meta.province_code,
             "district_code": meta.district_code}
    if area_of(meta.district_code) is None or meta.district_code[:2] != meta.province_code:
        return Problem("unknown_district", file=raw.source.name, params={"found": meta.district_code})
    if only and meta.province_code != only:
        return Problem("other_province", **where, params={"found": meta.province_code, "expected": only})
    if meta.kpi_set_id != kpi_set.id:
        return Problem("other_kpi_set", **where, params={"found": meta.kpi_set_id, "expected": kpi_set.id})
    if meta.kpi_fingerprint != kpi_set.fingerprint:
        return Problem("fingerprint_mismatch", **where,
                       params={"found": meta.kpi_fingerprint, "expected": kpi_set.fingerprint})
    return None


def _choose(candidates: list[_Accepted], prefer: Prefer) -> tuple[_Accepted | None, list[Problem]]:
    """One submission per district: identical copies collapse, different ones conflict."""
    first = candidates[0]
    notes: list[Problem] = []
    where = {"province_code": first.area.province_code, "district_code": first.area.district_code}
    if prefer == "newest":
        ordered = sorted(candidates, key=lambda c: (c.raw.source.saved_at is not None,
                                                    c.raw.source.saved_at, c.raw.source.name))
        chosen = ordered[-1]
        for other in ordered[:-1]:
            code = ("duplicate_identical" if other.checked.values == chosen.checked.values
                    else "duplicate_superseded")
            notes.append(Problem(code, file=other.raw.source.name, **where,
                                 params={"other": chosen.raw.source.name}))
        return chosen, notes
    for other in candidates[1:]:
        if other.checked.values == first.checked.values:
            notes.append(Problem("duplicate_identical", file=other.raw.source.name, **where,
                                 params={"other": first.raw.source.name}))
        else:
            notes.append(Problem("duplicate_conflict", file=first.raw.source.name, **where,
                                 params={"other": other.raw.source.name}))
    if any(n.code == "duplicate_conflict" for n in notes):
        return None, notes
    return first, notes


def _score_province(code: str, accepted: dict[str, list[_Accepted]],
                    rejected: dict[str, list[Problem]], kpi_set: KpiSet, method: Method,
                    prefer: Prefer) -> ProvinceResult:
    province = find_province(code)
    rows: list[DistrictResult] = []
    for area in districts_of(province):
        candidates = accepted.get(area.district_code, [])
        refusals = rejected.get(area.district_code, [])
        if not candidates:
            status = Status.NEEDS_CORRECTION if refusals else Status.MISSING
            notes = refusals or [Problem("missing_submission", province_code=code,
                                         district_code=area.district_code)]
            rows.append(DistrictResult(area, status, problems=notes))
            continue
        chosen, notes = _choose(candidates, prefer)
        if chosen is None:
            rows.append(DistrictResult(area, Status.NEEDS_CORRECTION, problems=notes + refusals))
            continue
        # A usable file wins over a refused one (e.g. an old template sent before the new one); the
        # refused file is still reported so that the clerk can take it out of the input folder.
        checked = chosen.checked
        complete = not checked.has_errors
        score = score_district(kpi_set, checked.values, method, checked.unscorable, complete)
        rows.append(DistrictResult(area, Status.COMPLETE if complete else Status.NEEDS_CORRECTION,
                                   chosen.raw.source, checked, score, checked.problems + notes + refusals))
    ranks = competition_ranks([r.score.overall_percent if r.score else None for r in rows])
    for row, rank in zip(rows, ranks):
        row.rank = rank
    summary = score_province(kpi_set, [(r.checked.values, r.score) for r in rows
                                       if r.score and r.checked], method)
    return ProvinceResult(province.code, province.name_th, province.name_en, rows, summary)


ROUND_OUTPUTS = ("consolidated.xlsx", "scores.csv", "issues.csv")


def write_round_outputs(result: RoundResult, out_dir: Path) -> list[Path]:
    """Write the consolidated workbook, scores.csv and issues.csv into ``out_dir``, replaced together or
    not at all (a locked one leaves the three of the previous run in place); return their paths.

    Raises ``OutputError`` when one cannot be written."""
    paths = [out_dir / name for name in ROUND_OUTPUTS]
    with replace_together(paths) as (workbook, scores, issues):
        write_consolidated(result, workbook)
        write_csv(scores_table(result), scores)
        write_csv(issues_table(result.problems), issues)
    return paths
