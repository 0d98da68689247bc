"""What every command shares: the ``cdd-scorer`` group, its options, clean errors and exit codes, and
reading a round with a progress bar.

Exit codes: 0 ran and wrote its outputs (data problems are reported, not fatal); 1 ``--strict``
and errors were found (``verify``: a file changed); 2 usage or configuration error (a closed round, an
adjustments file that cannot apply); 3 the outputs could not be written.
"""

from __future__ import annotations

import datetime as dt
import getpass
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import click

from cdd_scorer import __version__
from cdd_scorer.adjustments import AdjustmentError, Decision, applied, read_adjustments
from cdd_scorer.console import make_output_safe
from cdd_scorer.geography import UnknownProvinceError
from cdd_scorer.history import (
    DEFAULT_HISTORY,
    Adjustment,
    HistoryError,
    closed_run,
    earlier_rounds,
    latest_adjustments,
    record_run,
    reopen,
)
from cdd_scorer.input_files import list_input_files
from cdd_scorer.kpi import KpiSet, KpiSetError, load_kpi_set
from cdd_scorer.output_files import OutputError
from cdd_scorer.parsing import parse_date
from cdd_scorer.results import RoundResult
from cdd_scorer.round import Reader, run_round, write_round_outputs
from cdd_scorer.round_report import nothing_to_score, problem_lines, province_lines
from cdd_scorer.thai import be_time
from cdd_scorer.workers import WorkerReader

# Modules that only one command needs (e-mail, openpyxl, the template writer) are imported inside
# that command, so `score` — the command a clerk waits for — does not pay for them at start-up.
EXIT_STRICT, EXIT_USAGE, EXIT_OUTPUT = 1, 2, 3
ALL_PROVINCES = ("all", "ทั้งหมด")

input_dir_argument = click.argument(
    "input_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("input"))
province_option = click.option("--province", help="Only this province (DOPA code, Thai or English name).")
prefer_option = click.option(
    "--prefer", type=click.Choice(["newest", "error"]), default="newest", show_default=True,
    help="A district that sent different files: newest = a correction or the later file supersedes the "
         "earlier; error = report a conflict until only one file is left.")
kpi_set_option = click.option(
    "--kpi-set", "kpi_set_path", type=click.Path(dir_okay=False, path_type=Path),
    help="KPI card file (TOML) to use instead of the shipped FY2565 round 2 card.")
history_option = click.option(
    "--history", "history_path", type=click.Path(dir_okay=False, path_type=Path), default=DEFAULT_HISTORY,
    show_default=True, help="The history database (SQLite) that remembers every round.")


class Fail(click.ClickException):
    """A clean error message and exit code, never a traceback."""

    def __init__(self, message: str, exit_code: int):
        super().__init__(message)
        self.exit_code = exit_code

    def show(self, file=None) -> None:
        click.secho(f"ผิดพลาด / error: {self.message}", err=True, fg="red")


@contextmanager
def clean_errors() -> Iterator[None]:
    """Turn the library's expected errors into messages and exit codes."""
    try:
        yield
    except KpiSetError as exc:
        raise Fail("ไฟล์ตัวชี้วัดใช้ไม่ได้ / the KPI card is invalid:\n  - "
                   + "\n  - ".join(exc.problems), EXIT_USAGE) from None
    except UnknownProvinceError as exc:
        raise Fail(str(exc), EXIT_USAGE) from None
    except OutputError as exc:
        raise Fail(str(exc), EXIT_OUTPUT) from None
    except HistoryError as exc:
        raise Fail(str(exc), EXIT_USAGE) from None
    except AdjustmentError as exc:
        raise Fail("ไฟล์ปรับแก้ใช้ไม่ได้ จึงไม่ได้คิดคะแนน / the adjustments cannot apply, nothing was scored:\n  - "
                   + "\n  - ".join(f"{p.message_th} / {p.message_en}" for p in exc.problems), EXIT_USAGE) from None


def who() -> str:
    """The user logged in, to name who closed or reopened a round when ``--by`` is not given."""
    try:
        return getpass.getuser()
    except (OSError, KeyError, ImportError):  # no login name (a service account, a container)
        return ""


def parse_date_option(text: str | None, option: str) -> dt.date | None:
    """A date typed on the command line, read as leniently as a cell (14/10/2565, 2022-10-14)."""
    if not text:
        return None
    parsed = parse_date(text)
    if parsed.value is None:
        raise Fail(f"วันที่ไม่ถูกต้อง '{text}' / invalid {option} '{text}' (เช่น / e.g. 14/10/2565)", EXIT_USAGE)
    return parsed.value


def load_card(path: Path | None) -> KpiSet:
    with clean_errors():
        return load_kpi_set(path)


class CommandGroup(click.Group):
    """The top-level group: output is made safe for Thai (``console.make_output_safe``) before click
    writes anything, help and usage errors included."""

    def main(self, *args, **kwargs):
        make_output_safe()
        return super().main(*args, **kwargs)


@click.group(cls=CommandGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="cdd-scorer")
def main() -> None:
    """cdd-scorer: แบบฟอร์มและการคิดคะแนนตัวชี้วัด กรมการพัฒนาชุมชน / CDD KPI round.

    \b
    A round, as the provincial clerk runs it:
      cdd-scorer generate --province ขอนแก่น   one workbook per district -> templates/
      cdd-scorer collect saved-mails/          e-mail attachments -> input/
      cdd-scorer status                        who has sent, who has not
      cdd-scorer score                         -> output/consolidated.xlsx, scores.csv, issues.csv
      cdd-scorer feedback                      correction workbooks -> feedback/
      cdd-scorer close                         the round is final: a manifest of every file
      cdd-scorer history                       every round of the province, the change since the last
    Try the whole round first with: cdd-scorer demo
    """


def progress_bar(total: int, quiet: bool, label: str = "อ่านไฟล์ / reading"
              ) -> tuple[Callable[[int], None] | None, Callable[[], None]]:
    """A progress bar on stderr for long runs; nothing when quiet, short or not on a terminal."""
    if quiet or total < 20 or not sys.stderr.isatty():
        return None, lambda: None
    bar = click.progressbar(length=total, label=label, file=sys.stderr)
    bar.__enter__()
    return bar.update, lambda: bar.__exit__(None, None, None)


def read_round(input_dir: Path, kpi_set: KpiSet, method: str = "step", province: str | None = None,
               prefer: str = "newest", quiet: bool = True, reader: Reader | None = None,
               adjustments: Sequence[Decision] = (), adjustments_file: str = "") -> RoundResult:
    """Read, check and score every workbook in the input folder (with a progress bar on long runs), with
    the committee's ``adjustments`` applied.

    Files are read in worker processes (``WorkerReader``) so that a file that crashes or exhausts the
    native reader costs only that file, never the batch. A folder from which no district's file could
    be taken is said plainly first: what was there, or the ``--province`` meant (SPEC §5)."""
    if not input_dir.is_dir():
        raise Fail(f"ไม่พบโฟลเดอร์ {input_dir} / input folder {input_dir} not found", EXIT_USAGE)
    with clean_errors():
        total = len(list_input_files(input_dir))
        update, done = progress_bar(total, quiet)
        try:
            result = run_round(input_dir, kpi_set, method, province, prefer, reader=reader or WorkerReader(),
                               progress=update, adjustments=adjustments, adjustments_file=adjustments_file)
        finally:
            done()
    answer = nothing_to_score(result, input_dir)
    if answer:
        click.secho(answer, fg="yellow")
    return result


@dataclass(frozen=True)
class Scored:
    """A scored round: the result, the adjustments applied, how many earlier rounds the trend sheet shows,
    and the run's id in the history (None without one)."""

    result: RoundResult
    adjustments: Sequence[Adjustment] = ()
    earlier_rounds: int = 0
    run_id: int | None = None


def run_scoring(input_dir: Path, out: Path, kpi_set: KpiSet, method: str, province: str | None,
                prefer: str, quiet: bool, reader: Reader | None = None, *, history: Path | None = None,
                reopen_reason: str | None = None, adjustments: Path | None = None) -> Scored:
    """Score a folder (``read_round``, with the decisions of the ``adjustments`` file) and write the
    round's outputs (``write_round_outputs``). With a ``history``: a closed round is refused unless
    ``reopen_reason`` reopens it, the workbook gets a trend sheet of the earlier rounds, and the run is
    recorded (after its outputs are written, since it records their SHA-256)."""
    started = dt.datetime.now(dt.UTC)
    with clean_errors():
        decisions = read_adjustments(adjustments, kpi_set) if adjustments else ()
    result = read_round(input_dir, kpi_set, method, province, prefer, quiet, reader, decisions,
                        adjustments.name if adjustments else "")
    codes = [p.code for p in result.provinces]
    with clean_errors():
        if history is not None:
            _open_round(history, result, reopen_reason)
            dropped = 0 if decisions else latest_adjustments(history, kpi_set.id, codes)
            if dropped:
                click.secho(f"คิดคะแนนครั้งก่อนของรอบนี้ใช้การปรับแก้ {dropped} รายการ ครั้งนี้ไม่ได้ระบุ --adjustments "
                            f"จึงไม่ได้ปรับแก้ / the previous run of this round applied {dropped} adjustments; without "
                            "--adjustments this one applies none", fg="yellow")
        trend = earlier_rounds(history, kpi_set, codes) if history else {}
        done = applied(result, decisions)
        outputs = write_round_outputs(result, out, trend, done)
    if history is None:
        return Scored(result, done)
    try:
        run_id = record_run(history, result, outputs, done, started_at=started)
    except HistoryError as exc:
        raise Fail(f"เขียนผลลัพธ์แล้ว แต่บันทึกลงประวัติไม่ได้ / the outputs were written but the run was not "
                   f"recorded: {exc}", EXIT_OUTPUT) from None
    return Scored(result, done, max((len(t.rounds) for t in trend.values()), default=0), run_id)


def _open_round(history: Path, result: RoundResult, reason: str | None) -> None:
    """Refuse to score a closed round of a province again (its announced outputs stay as they are), or
    reopen it with ``reason`` (kept in the history)."""
    ks = result.kpi_set
    closed = [(p, c) for p in result.provinces if (c := closed_run(history, ks.id, p.code))]
    if closed and reason is None:
        raise Fail("\n".join(
            f"รอบ {ks.id} ของจังหวัด{p.name_th} ({p.code}) ปิดแล้ว โดย {c.closed_by or '-'} เมื่อ {be_time(c.closed_at)} "
            f"จึงไม่คิดคะแนนใหม่และไม่เขียนทับผลที่ปิดไว้ หากต้องคิดใหม่ ให้สั่งอีกครั้งพร้อม --reopen \"เหตุผล\" / "
            f"round {ks.id} of {p.name_en} ({p.code}) was closed by {c.closed_by or '-'} on "
            f"{be_time(c.closed_at)}: it is not scored again and its outputs stay as they are; to score it again, "
            f"add --reopen \"REASON\"" for p, c in closed), EXIT_USAGE)
    if reason is not None and not closed:
        click.secho(f"รอบ {ks.id} ยังไม่ได้ปิด จึงไม่ต้องเปิดใหม่ / round {ks.id} is not closed: nothing to reopen",
                    fg="yellow")
    for p, _ in closed:
        reopen(history, ks.id, p.code, reason, by=who())
        click.echo(f"เปิดรอบ {ks.id} ของจังหวัด{p.name_th} ใหม่ เหตุผล: {reason} / reopened round {ks.id} of "
                   f"{p.name_en}, reason: {reason}")


def print_summary(scored: Scored, out: Path, history: Path | None = None) -> None:
    """What a scoring run found and wrote, with the adjustments applied, the trend and the history."""
    result = scored.result
    for line in [*province_lines(result), *problem_lines(result, out / "issues.csv")]:
        click.echo(line)
    if scored.adjustments:
        click.echo(f"ปรับแก้ตามมติคณะกรรมการ {len(scored.adjustments)} รายการ (แผ่นงาน การปรับแก้) / "
                   f"{len(scored.adjustments)} committee adjustments applied (sheet การปรับแก้)")
    if scored.earlier_rounds:
        click.echo(f"แนวโน้มเทียบกับ {scored.earlier_rounds} รอบก่อนหน้า (แผ่นงาน แนวโน้ม) / trend against "
                   f"{scored.earlier_rounds} earlier round(s) (sheet แนวโน้ม)")
    click.echo(f"ผลลัพธ์ / results: {out / 'consolidated.xlsx'}, {out / 'scores.csv'}")
    if scored.run_id is not None:
        click.echo(f"บันทึกในประวัติ / recorded in the history: {history} (run {scored.run_id})")
