"""The ``cdd-scorer`` command line: a thin click layer over the library.

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
from cdd_scorer.geography import UnknownProvinceError, cd_provinces, districts_of, find_province
from cdd_scorer.input_files import list_input_files
from cdd_scorer.kpi import KpiSet, KpiSetError, load_kpi_set
from cdd_scorer.output_files import OutputError
from cdd_scorer.parsing import parse_date
from cdd_scorer.results import RoundResult
from cdd_scorer.round import Reader, run_round, write_round_outputs
from cdd_scorer.round_report import nothing_to_score, problem_lines, province_lines
from cdd_scorer.safety import MB, SafetyLimits
from cdd_scorer.scoring import METHODS
from cdd_scorer.workers import WorkerLimits, WorkerReader

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


@main.command()
@click.option("--province", required=True,
              help="Province: DOPA code (40), Thai or English name; 'all' for every province (head office).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("templates"),
              show_default=True, help="Folder for the workbooks.")
@click.option("--font", default="TH Sarabun New", show_default=True, help="Font of the workbooks.")
@click.option("--password", default="", help="Password for sheet and workbook protection (default: none).")
@click.option("--clerk-name", default="", help="Provincial clerk to contact (shown on the instructions sheet).")
@click.option("--clerk-phone", default="", help="The clerk's phone number.")
@click.option("--clerk-email", default="", help="E-mail address the districts send the workbook back to.")
@click.option("--deadline", default=None, help="Return deadline, e.g. 14/10/2565 or 2022-10-14.")
@click.option("--jobs", type=click.IntRange(min=0), default=None,
              help="Worker processes (default: one per core from 40 districts on; 0 or 1: this process only).")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@kpi_set_option
def generate(province: str, out: Path, font: str, password: str, clerk_name: str, clerk_phone: str,
             clerk_email: str, deadline: str | None, jobs: int | None, quiet: bool,
             kpi_set_path: Path | None) -> None:
    """Write one entry workbook per district of a province."""
    from cdd_scorer.template import TemplateOptions, write_templates

    kpi_set = load_card(kpi_set_path)
    options = TemplateOptions(font=font, password=password, clerk_name=clerk_name, clerk_phone=clerk_phone,
                              clerk_email=clerk_email, deadline=parse_date_option(deadline, "--deadline"))
    with clean_errors():
        provinces = cd_provinces() if province.strip().lower() in ALL_PROVINCES else [find_province(province)]
        areas = [area for prov in provinces for area in districts_of(prov)]
        update, done = _progress(len(areas), quiet, "เขียนแบบฟอร์ม / writing")
        try:
            paths = write_templates(kpi_set, areas, out, options, jobs=jobs, progress=update)
        finally:
            done()
    names_th = f"จังหวัด{provinces[0].name_th}" if len(provinces) == 1 else f"{len(provinces)} จังหวัด"
    names_en = provinces[0].name_en if len(provinces) == 1 else f"{len(provinces)} provinces"
    click.echo(f"เขียนแบบฟอร์ม {len(paths)} ไฟล์ของ{names_th} ที่ {out} / "
               f"wrote {len(paths)} workbooks for {names_en} into {out}")


def _progress(total: int, quiet: bool, label: str = "อ่านไฟล์ / reading"
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
        update, done = _progress(total, quiet)
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


@main.command()
@input_dir_argument
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("output"),
              show_default=True, help="Folder for consolidated.xlsx, scores.csv and issues.csv.")
@province_option
@click.option("--method", type=click.Choice(METHODS), default="step", show_default=True,
              help="step: whole levels; linear: interpolate between numeric thresholds.")
@prefer_option
@click.option("--strict", is_flag=True, help="Exit with code 1 when any error was found.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@click.option("--jobs", type=click.IntRange(min=0), default=None,
              help="Processes that read the files (default: one per core; 0 = read in this process).")
@click.option("--file-timeout", type=click.FloatRange(min=1), default=60.0, show_default=True,
              help="Seconds allowed to read one file.")
@click.option("--max-file-mb", type=click.IntRange(min=1), default=50, show_default=True,
              help="Refuse input files larger than this.")
@kpi_set_option
def score(input_dir: Path, out: Path, province: str | None, method: str, prefer: str,
          strict: bool, quiet: bool, jobs: int | None, file_timeout: float, max_file_mb: int,
          kpi_set_path: Path | None) -> None:
    """Read every workbook in INPUT_DIR (default: input/), check and score them."""
    kpi_set = load_card(kpi_set_path)
    reader = WorkerReader(jobs=jobs, limits=WorkerLimits(seconds_per_file=file_timeout),
                          safety=SafetyLimits(max_file_bytes=max_file_mb * MB))
    result = run_scoring(input_dir, out, kpi_set, method, province, prefer, quiet, reader)
    print_summary(result, out)
    if strict and result.error_count:
        sys.exit(EXIT_STRICT)


@main.command()
@input_dir_argument
@province_option
@click.option("--deadline", default=None,
              help="Round deadline (e.g. 30/9/2565 or 2022-09-30): workbooks saved after that day are late.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("output"),
              show_default=True, help="Folder for status.csv.")
@click.option("--strict", is_flag=True, help="Exit with code 1 when a district is missing or must correct.")
@prefer_option
@kpi_set_option
def status(input_dir: Path, province: str | None, deadline: str | None, out: Path, strict: bool,
           prefer: str, kpi_set_path: Path | None) -> None:
    """Who has sent, who has not, who needs correction (table and status.csv)."""
    from cdd_scorer.status import all_complete, district_status, render_status, write_status_csv

    kpi_set = load_card(kpi_set_path)
    day = parse_date_option(deadline, "--deadline")
    rows = district_status(read_round(input_dir, kpi_set, province=province, prefer=prefer), day)
    with clean_errors():
        write_status_csv(rows, out / "status.csv")
    click.echo(render_status(rows, day))
    click.echo(f"ตารางสถานะ / status table: {out / 'status.csv'}")
    if strict and not all_complete(rows):
        sys.exit(EXIT_STRICT)


@main.command()
@click.argument("sources", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--into", type=click.Path(file_okay=False, path_type=Path), default=Path("input"),
              show_default=True, help="Input folder that receives the workbooks.")
def collect(sources: tuple[Path, ...], into: Path) -> None:
    """Take spreadsheet attachments out of saved e-mails (.eml, mbox) and .zip archives."""
    from cdd_scorer.collect import collect as collect_attachments

    with clean_errors():
        report = collect_attachments(list(sources), into)
    for entry in report.entries:
        if entry.outcome != "duplicate":
            click.echo(f"  {entry.message_th} / {entry.message_en}")
    counts = {k: report.count(k) for k in ("saved", "duplicate", "ignored", "failed")}
    click.echo(f"บันทึก {counts['saved']} ไฟล์, ซ้ำ {counts['duplicate']}, ข้าม {counts['ignored']}, "
               f"อ่านไม่ได้ {counts['failed']} / saved {counts['saved']}, duplicates {counts['duplicate']}, "
               f"ignored {counts['ignored']}, failed {counts['failed']} → {into}")
    click.echo(f"บันทึกการรวบรวม / collection log: {report.log_path}")


@main.command()
@input_dir_argument
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("feedback"),
              show_default=True, help="Folder for the correction workbooks and e-mail texts.")
@province_option
@click.option("--warnings", "include_warnings", is_flag=True,
              help="Also districts that have warnings only, and list their warnings.")
@prefer_option
@kpi_set_option
def feedback(input_dir: Path, out: Path, province: str | None, include_warnings: bool, prefer: str,
             kpi_set_path: Path | None) -> None:
    """For each district with problems, its workbook with the problem cells marked, and an e-mail text."""
    from cdd_scorer.feedback import write_feedback

    kpi_set = load_card(kpi_set_path)
    result = read_round(input_dir, kpi_set, province=province, prefer=prefer)
    with clean_errors():
        paths = write_feedback(result, kpi_set, out, include_warnings)
    workbooks = [p for p in paths if p.suffix == ".xlsx"]
    for path in workbooks:
        click.echo(f"  {path.name}")
    click.echo(f"แบบฟอร์มแก้ไข {len(workbooks)} อำเภอ พร้อมข้อความอีเมล ที่ {out} / "
               f"correction workbooks and e-mail texts for {len(workbooks)} districts in {out}")


@main.command()
@kpi_set_option
def kpis(kpi_set_path: Path | None) -> None:
    """Show the KPI card (Thai and English) and check a card file."""
    kpi_set = load_card(kpi_set_path)
    click.echo(f"{kpi_set.title_th}\n{kpi_set.round_th}\n{kpi_set.title_en}\n{kpi_set.round_en}")
    click.echo(f"id {kpi_set.id}, fingerprint {kpi_set.fingerprint}\n")
    for sc in kpi_set.scorecards:
        click.echo(f"{sc.name_th} / {sc.name_en} "
                   f"(น้ำหนัก / weight {kpi_set.scorecard_weights[sc.id]:g}%)")
        for k in sc.kpis:
            click.echo(f"  {k.id}  {k.weight:>4g}  {k.number_th} {k.title_th}")
            click.echo(f"            {k.title_en} — {k.group_th} ({k.group_en}), rule: {k.rule}")
            for lv in k.levels:
                click.echo(f"        {lv.number}. {lv.text_th} / {lv.text_en}")
    bands = ", ".join(f"≥ {b.min_percent:g} {b.name_th} ({b.name_en})" for b in kpi_set.rating_bands)
    click.echo(f"\nเกณฑ์ผลการประเมิน / rating bands: {bands}")


@main.command()
@click.option("--dir", "workdir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("."), show_default=True,
              help="Where templates/, input/ and output/ of the demo go.")
def demo(workdir: Path) -> None:
    """Run a whole round on the embedded default: generate, fill with synthetic answers, score."""
    from cdd_scorer.demo import DEMO_PROVINCE, fill_demo_inputs
    from cdd_scorer.template import write_templates

    kpi_set = load_card(None)
    with clean_errors():
        prov = find_province(DEMO_PROVINCE)
        areas = districts_of(prov)
        templates = write_templates(kpi_set, areas, workdir / "templates")
        filled = fill_demo_inputs(kpi_set, templates, areas, workdir / "input")
    click.echo(f"1. แบบฟอร์ม / templates: {len(templates)} → {workdir / 'templates'}")
    click.echo(f"2. อำเภอส่งกลับ / returned by districts: {len(filled)} → {workdir / 'input'}")
    result = run_scoring(workdir / "input", workdir / "output", kpi_set, "step", None, "newest", True)
    click.echo("3. คิดคะแนน / scored:")
    print_summary(result, workdir / "output")
