"""Commands of the rounds over time: close, verify, history, adjustments-template."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

import click

from cdd_scorer.cli.app import (
    EXIT_STRICT,
    EXIT_USAGE,
    Fail,
    clean_errors,
    history_option,
    kpi_set_option,
    load_card,
    main,
    province_option,
    who,
)
from cdd_scorer.geography import area_of, cd_provinces, districts_of, find_province
from cdd_scorer.history import (
    DistrictRound,
    ProvinceTrend,
    close_round,
    closed_run,
    district_history,
    latest_provinces,
    province_trend,
    provinces_in,
    read_manifest,
)
from cdd_scorer.history import verify as verify_manifest
from cdd_scorer.thai import Status, be_time, display_width

out_option = click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("output"),
                          show_default=True, help="Folder of the round's outputs, where its manifest is.")


@main.command()
@province_option
@click.option("--by", default=None, help="Who closes the round (default: the user logged in).")
@history_option
@out_option
@kpi_set_option
def close(province: str | None, by: str | None, history_path: Path, out: Path, kpi_set_path: Path | None) -> None:
    """Close the round: its latest run becomes final, with a manifest of every file's SHA-256 in the output
    folder; score then refuses the round unless --reopen "REASON"."""
    kpi_set = load_card(kpi_set_path)
    with clean_errors():
        codes = [find_province(province).code] if province else list(latest_provinces(history_path, kpi_set.id))
        if not codes:
            raise Fail(f"ยังไม่มีการคิดคะแนนรอบ {kpi_set.id} ใน {history_path} ให้สั่ง cdd-scorer score ก่อน / no run of "
                       f"round {kpi_set.id} in {history_path}: run cdd-scorer score first", EXIT_USAGE)
        for code in codes:
            manifest = close_round(history_path, kpi_set.id, code, by or who(), out)
            click.echo(f"ปิดรอบ {kpi_set.id} ของจังหวัด{find_province(code).name_th} แล้ว / closed round {kpi_set.id} "
                       f"of {find_province(code).name_en}: {manifest}")


@main.command()
@click.argument("manifest", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@out_option
@click.option("--input", "input_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("input"),
              show_default=True, help="The round's input folder.")
@history_option
def verify(manifest: Path | None, out: Path, input_dir: Path, history_path: Path) -> None:
    """Hash a closed round's inputs and outputs again against its manifest (MANIFEST, or every manifest in
    --out); exit 1 naming every file that changed or is missing."""
    manifests = [manifest] if manifest else sorted(out.glob("manifest_*.json"))
    if not manifests:
        raise Fail(f"ไม่พบไฟล์ manifest ใน {out} (สร้างเมื่อสั่ง cdd-scorer close) / no manifest in {out} "
                   "(cdd-scorer close writes one)", EXIT_USAGE)
    changed = 0
    with clean_errors():
        for path in manifests:
            meta = read_manifest(path)
            changes = verify_manifest(path, input_dir)
            changed += len(changes)
            word = "ตรงตามที่ปิดรอบไว้ / as closed" if not changes else f"เปลี่ยน {len(changes)} ไฟล์ / {len(changes)} changed"
            click.echo(f"{path.name}: {meta['card_id']} {meta['province_code']}, ปิดโดย / closed by "
                       f"{meta.get('closed_by') or '-'}: {word}")
            for c in changes:
                what = "ถูกแก้ไข / changed" if c.change == "changed" else "หายไป / missing"
                folder = input_dir if c.kind == "input" else path.parent
                click.echo(f"  {what}: {folder / c.name}")
            now = closed_run(history_path, meta["card_id"], meta["province_code"])
            if history_path.exists() and (now is None or now.run_id != meta["run_id"]):
                click.secho(f"  รอบนี้ถูกเปิดใหม่หลังจากออก manifest นี้ (ดู {history_path}) / the round was reopened "
                            f"after this manifest was written (see {history_path})", fg="yellow")
    if changed:
        sys.exit(EXIT_STRICT)


@main.command("history")
@province_option
@click.option("--district", help="One district (DOPA code, e.g. 4001): its rounds with every KPI level.")
@history_option
def history_command(province: str | None, district: str | None, history_path: Path) -> None:
    """Every round in the history: the province's and each district's overall %, rating and the change
    since the previous round (Thai, then English)."""
    if not history_path.exists():
        raise Fail(f"ไม่พบฐานข้อมูลประวัติ {history_path} (cdd-scorer score บันทึกทุกครั้งที่คิดคะแนน) / no history "
                   f"database {history_path} (cdd-scorer score records every run)", EXIT_USAGE)
    with clean_errors():
        if district:
            area = area_of(district.strip())
            if area is None:
                raise Fail(f"ไม่มีรหัสอำเภอ {district} / no district {district}", EXIT_USAGE)
            points = district_history(history_path, area.district_code)
            _print_district(area.district_code, area.district_name_th, points)
            return
        codes = [find_province(province).code] if province else provinces_in(history_path)
        for code in codes:
            _print_province(province_trend(history_path, code))


def _print_province(trend: ProvinceTrend) -> None:
    prov = find_province(trend.province_code)
    click.echo(f"\nจังหวัด{prov.name_th} ({prov.code}) / {prov.name_en}: {len(trend.rounds)} รอบ / rounds")
    if not trend.rounds:
        return
    rows = [["รอบ / round", "ปิดแล้ว / final", "คิดคะแนนเมื่อ / scored", "ร้อยละ / %", "ผลการประเมิน / rating",
             "เปลี่ยน / change"]]
    rows += [[r.card_id, "ปิดแล้ว / final" if r.final else "-", be_time(r.finished_at), _number(r.overall_percent),
              r.rating or "", _change(r.overall_change)] for r in trend.rounds]
    _print_table(rows)
    ids = [r.card_id for r in trend.rounds]
    rows = [["อำเภอ / district", *ids, "เปลี่ยน / change", "ผลการประเมิน / rating"]]
    for code, points in trend.districts.items():
        by_card = {p.round.card_id: p for p in points}
        last = by_card.get(ids[-1])
        rows.append([f"{code} {points[-1].district_name_th}", *(_percent(by_card.get(c)) for c in ids),
                     _change(last.overall_change if last else None), last.rating or "" if last else ""])
    click.echo("")
    _print_table(rows)


def _print_district(code: str, name: str, points: Sequence[DistrictRound]) -> None:
    click.echo(f"อำเภอ{name} ({code}) / district {code}: {len(points)} รอบ / rounds")
    if not points:
        return
    rows = [["", *(p.round.card_id for p in points)],
            ["สถานะ / status", *(Status(p.status).th for p in points)],
            ["ร้อยละ / overall %", *(_percent(p) for p in points)],
            ["เปลี่ยน / change", *(_change(p.overall_change) for p in points)],
            ["ผลการประเมิน / rating", *(p.rating or "" for p in points)],
            ["ลำดับ / rank", *("" if p.rank is None else str(p.rank) for p in points)]]
    kpis = list(dict.fromkeys(k for p in points for k in p.levels))
    for kpi in kpis:
        rows.append([f"ระดับ / level {kpi}", *(_level(p, kpi) for p in points)])
    _print_table(rows)


def _level(point: DistrictRound, kpi: str) -> str:
    if kpi not in point.levels:
        return ""
    change = point.level_changes.get(kpi)
    return _number(point.levels[kpi]) + (f" ({_change(change)})" if change is not None else "")


def _percent(point: DistrictRound | None) -> str:
    return "" if point is None else _number(point.overall_percent) or Status(point.status).th


def _number(value: Decimal | None) -> str:
    return "" if value is None else f"{value:f}"


def _change(value: Decimal | None) -> str:
    return "" if value is None else f"{value:+f}"


def _print_table(rows: list[list[str]]) -> None:
    """Columns padded by the width a terminal gives Thai (vowel and tone marks take none)."""
    widths = [max(display_width(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        click.echo("  ".join(cell + " " * (w - display_width(cell)) for cell, w in zip(row, widths)).rstrip())


@main.command("adjustments-template")
@province_option
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=Path("adjustments.xlsx"),
              show_default=True, help="The workbook to write (an existing file is never replaced).")
@kpi_set_option
def adjustments_template(province: str | None, out: Path, kpi_set_path: Path | None) -> None:
    """An empty adjustments workbook for the screening committee's decisions (Thai headers, drop-downs of
    the districts, KPIs and fields, checked levels and dates), for score --adjustments."""
    from cdd_scorer.adjustments_template import write_adjustments_template

    kpi_set = load_card(kpi_set_path)
    if out.exists():
        raise Fail(f"มีไฟล์ {out} อยู่แล้ว จึงไม่เขียนทับ (อาจมีมติที่กรอกไว้) / {out} exists and was not replaced "
                   "(it may hold decisions already); choose another --out", EXIT_USAGE)
    with clean_errors():
        provinces = [find_province(province)] if province else cd_provinces()
        write_adjustments_template(kpi_set, [a for p in provinces for a in districts_of(p)], out)
    click.echo(f"แบบฟอร์มการปรับแก้ / adjustments workbook: {out} — ใช้กับ / use with: "
               f"cdd-scorer score --adjustments {out}")
