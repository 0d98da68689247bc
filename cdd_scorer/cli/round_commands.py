"""Commands of the clerk's loop once the forms are out: collect, status, score, feedback."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from cdd_scorer.cli.app import (
    EXIT_STRICT,
    EXIT_USAGE,
    Fail,
    clean_errors,
    history_option,
    input_dir_argument,
    kpi_set_option,
    load_card,
    main,
    parse_date_option,
    prefer_option,
    print_summary,
    province_option,
    read_round,
    run_scoring,
)
from cdd_scorer.safety import MB, SafetyLimits
from cdd_scorer.scoring import METHODS
from cdd_scorer.workers import WorkerLimits, WorkerReader


@main.command()
@click.argument("sources", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--into", type=click.Path(file_okay=False, path_type=Path), default=Path("input"),
              show_default=True, help="Input folder that receives the workbooks.")
def collect(sources: tuple[Path, ...], into: Path) -> None:
    """Take spreadsheet attachments out of saved e-mails (.eml, mbox, Outlook .msg, winmail.dat) and .zip archives."""
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
@click.option("--adjustments", "adjustments_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The screening committee's decisions (.xlsx from adjustments-template, or .csv): corrected "
                   "field values and decided levels, applied before scoring.")
@history_option
@click.option("--no-history", is_flag=True, help="Do not read or record the history (no trend sheet).")
@click.option("--reopen", "reopen_reason", metavar="REASON",
              help="Score a closed round again; the reason is kept in the history.")
@kpi_set_option
def score(input_dir: Path, out: Path, province: str | None, method: str, prefer: str,
          strict: bool, quiet: bool, jobs: int | None, file_timeout: float, max_file_mb: int,
          adjustments_path: Path | None, history_path: Path, no_history: bool, reopen_reason: str | None,
          kpi_set_path: Path | None) -> None:
    """Read every workbook in INPUT_DIR (default: input/), check and score them."""
    if no_history and reopen_reason is not None:
        raise Fail("--reopen ต้องใช้ประวัติ จึงใช้คู่กับ --no-history ไม่ได้ / --reopen needs the history: it cannot "
                   "go with --no-history", EXIT_USAGE)
    if reopen_reason is not None and not reopen_reason.strip():
        raise Fail("--reopen ต้องระบุเหตุผล / --reopen needs a reason", EXIT_USAGE)
    kpi_set = load_card(kpi_set_path)
    reader = WorkerReader(jobs=jobs, limits=WorkerLimits(seconds_per_file=file_timeout),
                          safety=SafetyLimits(max_file_bytes=max_file_mb * MB))
    history = None if no_history else history_path
    scored = run_scoring(input_dir, out, kpi_set, method, province, prefer, quiet, reader, history=history,
                         reopen_reason=reopen_reason, adjustments=adjustments_path)
    print_summary(scored, out, history)
    if strict and scored.result.error_count:
        sys.exit(EXIT_STRICT)


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
