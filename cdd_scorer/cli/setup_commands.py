"""Commands that prepare a round or show the card: generate, kpis, demo."""

from __future__ import annotations

from pathlib import Path

import click

from cdd_scorer.cli.app import (
    ALL_PROVINCES,
    clean_errors,
    kpi_set_option,
    load_card,
    main,
    parse_date_option,
    print_summary,
    progress_bar,
    run_scoring,
)
from cdd_scorer.geography import cd_provinces, districts_of, find_province
from cdd_scorer.history import DEFAULT_HISTORY


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
        update, done = progress_bar(len(areas), quiet, "เขียนแบบฟอร์ม / writing")
        try:
            paths = write_templates(kpi_set, areas, out, options, jobs=jobs, progress=update)
        finally:
            done()
    names_th = f"จังหวัด{provinces[0].name_th}" if len(provinces) == 1 else f"{len(provinces)} จังหวัด"
    names_en = provinces[0].name_en if len(provinces) == 1 else f"{len(provinces)} provinces"
    click.echo(f"เขียนแบบฟอร์ม {len(paths)} ไฟล์ของ{names_th} ที่ {out} / "
               f"wrote {len(paths)} workbooks for {names_en} into {out}")


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
              help="Where templates/, input/, output/, the history and the earlier example round go.")
def demo(workdir: Path) -> None:
    """Run a whole round on the embedded default: generate, fill with synthetic answers, score; an example
    round a year earlier first, so that the workbook shows a trend."""
    from cdd_scorer.demo import DEMO_PROVINCE, EARLIER_ROUND_DIR, example_card_text, fill_demo_inputs
    from cdd_scorer.output_files import atomic_output
    from cdd_scorer.template import write_templates

    kpi_set = load_card(None)
    history = workdir / DEFAULT_HISTORY.name
    folder = workdir / EARLIER_ROUND_DIR
    card_file = folder / "example_card.toml"
    with clean_errors():
        areas = districts_of(find_province(DEMO_PROVINCE))
        with atomic_output(card_file) as tmp:
            tmp.write_text(example_card_text(-1), encoding="utf-8")
    earlier = load_card(card_file)
    with clean_errors():
        templates = write_templates(earlier, areas, folder / "templates")
        fill_demo_inputs(earlier, templates, areas, folder / "input", years=-1)
    run_scoring(folder / "input", folder / "output", earlier, "step", None, "newest", True, history=history)
    click.echo(f"0. รอบก่อนหน้า (ตัวอย่าง ไม่ใช่ชุดตัวชี้วัดจริง) / an earlier example round (not a real card): "
               f"{earlier.id} ({card_file}) → {folder / 'output'}")
    with clean_errors():
        templates = write_templates(kpi_set, areas, workdir / "templates")
        filled = fill_demo_inputs(kpi_set, templates, areas, workdir / "input")
    click.echo(f"1. แบบฟอร์ม / templates: {len(templates)} → {workdir / 'templates'}")
    click.echo(f"2. อำเภอส่งกลับ / returned by districts: {len(filled)} → {workdir / 'input'}")
    scored = run_scoring(workdir / "input", workdir / "output", kpi_set, "step", None, "newest", True,
                         history=history)
    click.echo("3. คิดคะแนน / scored:")
    print_summary(scored, workdir / "output", history)
