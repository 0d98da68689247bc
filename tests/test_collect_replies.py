"""Only replies enter input/: blank templates and the tool's own folders stay out (issue 17 finding 7)."""

from __future__ import annotations

import os

from click.testing import CliRunner
from test_collect import mail, read_log, save_eml

from cdd_scorer import blank_templates
from cdd_scorer.cli import main
from cdd_scorer.collect import collect
from cdd_scorer.demo import WORKED_EXAMPLE
from cdd_scorer.filling import fill_template
from cdd_scorer.round import run_round
from cdd_scorer.template import template_file_name


def test_a_blank_template_sent_back_is_logged_returned_empty_and_its_district_stays_missing(
        tmp_path, kpi_set, template_dir, khon_kaen_areas):
    blank_area, filled_area = khon_kaen_areas[:2]
    blank = (template_dir / template_file_name(blank_area)).read_bytes()
    filled = fill_template(template_dir / template_file_name(filled_area), WORKED_EXAMPLE, tmp_path / "filled.xlsx")
    source = save_eml(tmp_path / "m.eml", mail([("แบบฟอร์ม.xlsx", blank), ("ส่งกลับ.xlsx", filled.read_bytes())]))

    report = collect([source], tmp_path / "input")

    assert [p.name for p in report.saved] == ["ส่งกลับ.xlsx"]
    blank_entry = report.entries[0]
    assert (blank_entry.outcome, blank_entry.code) == ("ignored", "attachment_blank_template")
    assert "returned empty" in blank_entry.message_en
    result = run_round(tmp_path / "input", kpi_set)
    status = {d.area.district_code: d.status for d in result.districts}
    assert status[blank_area.district_code] == "missing"
    assert status[filled_area.district_code] == "complete"


def test_collect_dot_skips_the_tools_own_folders_with_a_note(tmp_path, template_dir, khon_kaen_areas):
    project = tmp_path / "project"
    for folder in ("templates", "output", "feedback"):
        (project / folder).mkdir(parents=True)
    for area in khon_kaen_areas[:3]:
        name = template_file_name(area)
        (project / "templates" / name).write_bytes((template_dir / name).read_bytes())
    filled = fill_template(template_dir / template_file_name(khon_kaen_areas[0]), WORKED_EXAMPLE,
                           project / "feedback" / "4001_correction.xlsx")
    (project / "output" / "consolidated.xlsx").write_bytes(b"PK\x03\x04 not a reply")
    (project / "downloads").mkdir()
    (project / "downloads" / "copy of a template.xlsx").write_bytes(
        (template_dir / template_file_name(khon_kaen_areas[1])).read_bytes())
    save_eml(project / "mails" / "reply.eml", mail([("ส่งกลับ.xlsx", filled.read_bytes())]))

    cwd = os.getcwd()
    os.chdir(project)
    try:
        result = CliRunner().invoke(main, ["collect", "."])
    finally:
        os.chdir(cwd)

    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (project / "input").iterdir() if p.is_file()) == ["ส่งกลับ.xlsx"]
    rows = read_log(project / "input")
    own = [r for r in rows if "the tool's own" in r["message_en"]]
    assert len(own) == 5  # three templates, the correction workbook, consolidated.xlsx
    assert {r["attachment"] for r in rows if "returned empty" in r["message_en"]} == {"copy of a template.xlsx"}


def test_a_blank_template_check_that_fails_never_keeps_a_reply_out(tmp_path, monkeypatch, template_dir,
                                                                    khon_kaen_areas):
    def broken(*args, **kwargs):
        raise TypeError("a checker bug")

    monkeypatch.setattr(blank_templates, "open_checked", broken)
    filled = fill_template(template_dir / template_file_name(khon_kaen_areas[0]), WORKED_EXAMPLE,
                           tmp_path / "filled.xlsx")
    source = save_eml(tmp_path / "m.eml", mail([("ส่งกลับ.xlsx", filled.read_bytes())]))

    report = collect([source], tmp_path / "input")

    assert [p.name for p in report.saved] == ["ส่งกลับ.xlsx"]
