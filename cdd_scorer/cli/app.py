"""What every command shares: the ``cdd-scorer`` group, its options, clean errors and exit codes, and
reading a round with a progress bar.

Exit codes: 0 ran and wrote its outputs (data problems are reported, not fatal); 1 ``--strict``
and errors were found; 2 usage or configuration error; 3 the outputs could not be written.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from cdd_scorer import __version__
from cdd_scorer.console import make_output_safe
from cdd_scorer.geography import UnknownProvinceError
from cdd_scorer.input_files import list_input_files
from cdd_scorer.kpi import KpiSet, KpiSetError, load_kpi_set
from cdd_scorer.output_files import OutputError
from cdd_scorer.parsing import parse_date
from cdd_scorer.results import RoundResult
from cdd_scorer.round import Reader, run_round, write_round_outputs
from cdd_scorer.round_report import nothing_to_score, problem_lines, province_lines
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
               prefer: str = "newest", quiet: bool = True, reader: Reader | None = None) -> RoundResult:
    """Read, check and score every workbook in the input folder (with a progress bar on long runs).

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
                               progress=update)
        finally:
            done()
    answer = nothing_to_score(result, input_dir)
    if answer:
        click.secho(answer, fg="yellow")
    return result


def run_scoring(input_dir: Path, out: Path, kpi_set: KpiSet, method: str, province: str | None,
                prefer: str, quiet: bool, reader: Reader | None = None) -> RoundResult:
    """Score a folder (``read_round``) and write the round's outputs (``write_round_outputs``)."""
    result = read_round(input_dir, kpi_set, method, province, prefer, quiet, reader)
    with clean_errors():
        write_round_outputs(result, out)
    return result


def print_summary(result: RoundResult, out: Path) -> None:
    for line in [*province_lines(result), *problem_lines(result, out / "issues.csv")]:
        click.echo(line)
    click.echo(f"ผลลัพธ์ / results: {out / 'consolidated.xlsx'}, {out / 'scores.csv'}")
