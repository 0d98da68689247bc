"""One evaluation round: read every returned workbook in a folder, check it and score it, then write
what the managers and the clerk read.

``run_round`` is the library entry point behind ``cdd-scorer score``, ``status`` and ``feedback``: files
in, a ``RoundResult`` out (one row per district of every province present, missing ones included, plus
every problem found), with the committee's adjustments applied when it is given them (``adjustments``).
``write_round_outputs`` writes the consolidated workbook, scores.csv and issues.csv of a round, replaced
together or not at all.

When a district sent several files, ``_choose`` alone decides which one counts (SPEC §5), so the three
commands agree on the same folder: a correction workbook supersedes the file it was made from, else the
later saved, else the later e-mailed; only when no order can be told do the files conflict.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from cdd_scorer.adjustments import AdjustmentError, Decision, corrected_cells, decide_levels, unapplied
from cdd_scorer.collect_log import mail_dates
from cdd_scorer.consolidated import write_consolidated
from cdd_scorer.geography import Area, area_of, districts_of, find_province
from cdd_scorer.history import Adjustment, ProvinceTrend
from cdd_scorer.input_files import list_input_files
from cdd_scorer.kpi import KpiSet
from cdd_scorer.output_files import replace_together
from cdd_scorer.problems import Problem
from cdd_scorer.reading import FileOutcome, RawSubmission, SourceFile, read_input_file
from cdd_scorer.results import DistrictResult, ProvinceResult, RoundResult
from cdd_scorer.scoring import Method, competition_ranks, score_district, score_province
from cdd_scorer.tables import issues_table, scores_table, write_csv
from cdd_scorer.thai import Status, as_thai_time, be_time
from cdd_scorer.validation import CheckedValues, check_values

Prefer = Literal["newest", "error"]  # "error": two different files of one district always conflict


@dataclass(eq=False)
class _Accepted:
    raw: RawSubmission
    checked: CheckedValues
    area: Area
    mailed_at: dt.datetime | None  # the date of the e-mail it came in, from the collection log

    @property
    def name(self) -> str:
        return self.raw.source.name


Reader = Callable[[Iterable[tuple[Path, str]], KpiSet], Iterable[FileOutcome]]


def read_sequentially(files: Iterable[tuple[Path, str]], kpi_set: KpiSet) -> Iterator[FileOutcome]:
    for path, name in files:
        yield read_input_file(path, name, kpi_set)


def run_round(input_dir: Path, kpi_set: KpiSet, method: Method = "step", province: str | None = None,
              prefer: Prefer = "newest", reader: Reader = read_sequentially,
              progress: Callable[[int], None] | None = None,
              adjustments: Sequence[Decision] = (), adjustments_file: str = "") -> RoundResult:
    """Read, check and score every workbook below ``input_dir``.

    Without ``province`` every province present is scored; with it, only that one (files of other
    provinces are noted). Every district of a scored province gets a row, ``missing`` when no
    usable file came from it. Of several files of one district the newest counts (``prefer="newest"``,
    see ``_choose``); ``prefer="error"`` makes any two different ones a conflict instead.
    ``adjustments`` (read from ``adjustments_file``): a corrected value replaces the typed one before the
    values are checked, a decided level the engine's; raises ``AdjustmentError`` when one cannot apply.
    """
    only = find_province(province) if province else None
    files = [(p, p.relative_to(input_dir).as_posix()) for p in list_input_files(input_dir)]
    problems: list[Problem] = []
    sources: list[SourceFile] = []
    submissions: dict[str, RawSubmission] = {}
    accepted: dict[str, list[_Accepted]] = {}
    rejected: dict[str, list[Problem]] = {}
    mailed = mail_dates(input_dir)
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
        checked = check_values(kpi_set, corrected_cells(adjustments, area.district_code, submission.cells), where)
        checked.problems[:0] = submission.problems
        accepted.setdefault(area.district_code, []).append(
            _Accepted(submission, checked, area, mailed.get(submission.source.sha256)))

    province_codes = {only.code} if only else {c[:2] for c in (*accepted, *rejected)}
    if only and not any(code[:2] == only.code for code in (*accepted, *rejected)):
        problems[:0] = _province_not_in_folder(only.code, problems)
    provinces = [_score_province(code, accepted, rejected, kpi_set, method, prefer, adjustments)
                 for code in sorted(province_codes)]
    for prov in provinces:
        for d in prov.districts:
            problems.extend(d.problems)
    national = None
    if len(provinces) > 1:
        national = score_province(kpi_set, [(d.checked.values, d.score) for p in provinces
                                            for d in p.districts if d.score and d.checked], method)
    result = RoundResult(kpi_set, method, provinces, problems, sources, national, submissions)
    refused = unapplied(result, adjustments, adjustments_file)
    if refused:
        raise AdjustmentError(refused)
    return result


def _province_not_in_folder(code: str, problems: list[Problem]) -> list[Problem]:
    """The first issue of a round asked for a province none of whose files is in the folder while files
    of other provinces are (SPEC §5): which provinces were found, as "did you mean"."""
    found = Counter(p.province_code for p in problems if p.code == "other_province")
    if not found:
        return []
    names = ", ".join(f"{find_province(c).name_th} ({c}): {n}" for c, n in found.most_common())
    asked = find_province(code)
    return [Problem("province_not_in_folder", province_code=code,
                    params={"province": asked.name_th, "province_en": asked.name_en, "found": names,
                            "best": found.most_common(1)[0][0]})]


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


@dataclass
class _Choice:
    """Which of a district's files counts (None when they conflict), the notes on the others, and each
    file that does not count with the one that supersedes it."""

    chosen: _Accepted | None = None
    notes: list[Problem] = field(default_factory=list)
    superseded: dict[str, str] = field(default_factory=dict)

    def note(self, code: str, file: _Accepted, other: _Accepted) -> None:
        """Note that ``file`` does not count because of ``other``; a conflict names two files of which
        neither counts."""
        self.notes.append(_note(code, file, other))
        if code != "duplicate_conflict":
            self.superseded[file.name] = other.name


def _choose(candidates: list[_Accepted], prefer: Prefer) -> _Choice:
    """One submission per district (SPEC §5). A file that a correction workbook among them was made from
    is superseded by it. Of the others, the one later than every other one with different data counts
    (``_later``) and identical copies collapse into it; when there is none, the files that the latest
    one cannot be ordered with conflict with it and none counts. ``prefer="error"``: no order at all,
    so any two different files conflict."""
    choice = _Choice()
    remaining = []
    for c in candidates:
        correction = next((o for o in candidates if prefer != "error" and _corrects(o, c)), None)
        if correction is None:
            remaining.append(c)
        else:
            choice.note("duplicate_corrected", c, correction)
    later = _later if prefer != "error" else lambda a, b: None
    best = _latest(remaining, later)
    for c in (c for c in remaining if c is not best):
        code = "duplicate_identical" if _same(c, best) else later(best, c)
        if code:
            choice.note(code, c, best)
        else:
            choice.note("duplicate_conflict", best, c)
    if not any(n.code == "duplicate_conflict" for n in choice.notes):
        choice.chosen = best
    return choice


def _latest(files: list[_Accepted], later: Callable[[_Accepted, _Accepted], str | None]) -> _Accepted:
    """The file later than every other one with different data (of identical copies that are, the one
    later than the most files); when there is none, the first of those later than the most others."""
    def wins(w: _Accepted) -> bool:
        return all(_same(w, c) or later(w, c) for c in files if c is not w)

    return max(files, key=lambda w: (wins(w), sum(1 for c in files if later(w, c))))


def _corrects(a: _Accepted, b: _Accepted) -> bool:
    """Whether ``a`` is a correction workbook made from ``b`` (its lineage names ``b``'s content)."""
    lineage = a.raw.metadata.corrects
    return lineage is not None and lineage.sha256 == b.raw.source.sha256


def _later(a: _Accepted, b: _Accepted) -> str | None:
    """The code of the note saying why ``a`` supersedes ``b``: saved later, else (saved times unknown or
    equal) e-mailed later; None when it is not later. A time counts only when both files have one."""
    for code, mine, theirs in (("duplicate_superseded", a.raw.source.saved_at, b.raw.source.saved_at),
                               ("duplicate_mailed_later", a.mailed_at, b.mailed_at)):
        if mine is not None and theirs is not None and as_thai_time(mine) != as_thai_time(theirs):
            return code if as_thai_time(mine) > as_thai_time(theirs) else None
    return None


def _same(a: _Accepted, b: _Accepted) -> bool:
    return a.checked.values == b.checked.values


def _note(code: str, file: _Accepted, other: _Accepted) -> Problem:
    """A note on ``file`` naming ``other``, with both files' saved and e-mail times for the messages."""
    return Problem(code, file=file.name, province_code=file.area.province_code,
                   district_code=file.area.district_code,
                   params={"other": other.name, "saved": be_time(file.raw.source.saved_at),
                           "other_saved": be_time(other.raw.source.saved_at), "mailed": be_time(file.mailed_at),
                           "other_mailed": be_time(other.mailed_at)})


def _score_province(code: str, accepted: dict[str, list[_Accepted]],
                    rejected: dict[str, list[Problem]], kpi_set: KpiSet, method: Method,
                    prefer: Prefer, adjustments: Sequence[Decision]) -> ProvinceResult:
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
        choice = _choose(candidates, prefer)
        chosen, notes = choice.chosen, choice.notes
        if chosen is None:
            rows.append(DistrictResult(area, Status.NEEDS_CORRECTION, problems=notes + refusals,
                                       superseded=choice.superseded))
            continue
        # A usable file wins over a refused one (e.g. an old template sent before the new one); the
        # refused file is still reported so that the clerk can take it out of the input folder.
        checked = chosen.checked
        complete = not checked.has_errors
        score = decide_levels(adjustments, area.district_code,
                              score_district(kpi_set, checked.values, method, checked.unscorable, complete),
                              kpi_set, complete)
        rows.append(DistrictResult(area, Status.COMPLETE if complete else Status.NEEDS_CORRECTION,
                                   chosen.raw.source, checked, score, checked.problems + notes + refusals,
                                   superseded=choice.superseded))
    ranks = competition_ranks([r.score.overall_percent if r.score else None for r in rows])
    for row, rank in zip(rows, ranks):
        row.rank = rank
    summary = score_province(kpi_set, [(r.checked.values, r.score) for r in rows
                                       if r.score and r.checked], method)
    return ProvinceResult(province.code, province.name_th, province.name_en, rows, summary)


ROUND_OUTPUTS = ("consolidated.xlsx", "scores.csv", "issues.csv")


def write_round_outputs(result: RoundResult, out_dir: Path, trend: Mapping[str, ProvinceTrend] | None = None,
                        adjustments: Sequence[Adjustment] = ()) -> list[Path]:
    """Write the consolidated workbook, scores.csv and issues.csv into ``out_dir``, replaced together or
    not at all (a locked one leaves the three of the previous run in place); return their paths.
    ``trend``: each province's earlier rounds (a trend sheet); ``adjustments``: those applied (an
    adjustments sheet, the adjusted cells marked, scores.csv's ``adjusted`` column).

    Raises ``OutputError`` when one cannot be written."""
    paths = [out_dir / name for name in ROUND_OUTPUTS]
    with replace_together(paths) as (workbook, scores, issues):
        write_consolidated(result, workbook, trend=trend, adjustments=adjustments)
        write_csv(scores_table(result, adjustments), scores)
        write_csv(issues_table(result.problems), issues)
    return paths
