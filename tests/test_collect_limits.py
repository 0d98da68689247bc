"""Damaged archives cost one item, and every budget of a run is one logged problem, not a crash
(issue 17 findings 2, 5, 6; what to build 2, 4)."""

from __future__ import annotations

import email.message
import io
import zipfile

from click.testing import CliRunner
from test_collect import mail, read_log, save_eml, workbook, zip_bytes

from cdd_scorer import collect as collect_module
from cdd_scorer import collect_run
from cdd_scorer.cli import main
from cdd_scorer.collect import collect
from cdd_scorer.safety import DEFAULT_LIMITS

FILLER = b"<row>KPI</row>" * 400  # compressible, so each member has a real deflate or LZMA stream


def outcomes(report) -> list[tuple[str, str, str]]:
    return [(e.outcome, e.code, e.attachment) for e in report.entries]


def damaged(data: bytes, member: str, at: int, value: int) -> bytes:
    """``data`` with byte ``at`` of ``member``'s compressed stream set to ``value``."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        info = archive.getinfo(member)
    header = data[info.header_offset:info.header_offset + 30]
    start = (info.header_offset + 30 + int.from_bytes(header[26:28], "little")
             + int.from_bytes(header[28:30], "little"))
    out = bytearray(data)
    out[start + at] = value
    return bytes(out)


def three_members(compression: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name in ("good-1.xlsx", "bad.xlsx", "good-2.xlsx"):
            archive.writestr(name, b"PK\x03\x04 " + name.encode() + FILLER)
    return buffer.getvalue()


# ---- one damaged archive or member costs only itself (finding 2)

def test_a_member_with_a_damaged_deflate_stream_costs_only_that_member(tmp_path):
    data = damaged(three_members(zipfile.ZIP_DEFLATED), "bad.xlsx", 0, 0xFF)  # BTYPE 11: invalid block type
    (tmp_path / "replies.zip").write_bytes(data)

    report = collect([tmp_path / "replies.zip"], tmp_path / "input")

    assert sorted(p.name for p in report.saved) == ["good-1.xlsx", "good-2.xlsx"]
    failed = [e for e in report.entries if e.outcome == "failed"]
    assert [(e.code, e.attachment) for e in failed] == [("corrupt_file", "bad.xlsx")]
    assert "invalid block type" in failed[0].message_en


def test_a_member_with_a_damaged_lzma_stream_costs_only_that_member(tmp_path):
    data = damaged(three_members(zipfile.ZIP_LZMA), "bad.xlsx", 4, 0xFF)  # LZMA properties byte out of range
    (tmp_path / "replies.zip").write_bytes(data)

    report = collect([tmp_path / "replies.zip"], tmp_path / "input")

    assert sorted(p.name for p in report.saved) == ["good-1.xlsx", "good-2.xlsx"]
    assert [(e.code, e.attachment) for e in report.entries if e.outcome == "failed"] == [
        ("corrupt_file", "bad.xlsx")]


def test_an_archive_zipfile_refuses_to_open_costs_only_that_archive(tmp_path):
    version = zip_bytes({"a.xlsx": workbook("a")})
    central = version.rfind(b"PK\x01\x02")
    version = version[:central + 6] + bytes([64, 0]) + version[central + 8:]  # "version needed": 6.4
    truncated = zip_bytes({"b.xlsx": FILLER})[:-30]
    message = mail([("version.zip", version), ("truncated.zip", truncated), ("ok.xlsx", workbook("ok"))])
    source = save_eml(tmp_path / "m.eml", message)

    result = CliRunner().invoke(main, ["collect", str(source), "--into", str(tmp_path / "input")])

    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    rows = read_log(tmp_path / "input")
    assert [(r["outcome"], r["attachment"]) for r in rows] == [
        ("failed", "version.zip"), ("failed", "truncated.zip"), ("saved", "ok.xlsx")]
    assert "zip file version 6.4" in rows[0]["message_en"]


# ---- budgets (finding 5, 6)

def test_the_attachment_limit_is_scores_own_file_limit():
    assert DEFAULT_LIMITS.max_file_bytes == collect_module.MAX_MEMBER_BYTES


def test_an_attachment_over_the_limit_is_never_decoded(tmp_path, monkeypatch):
    monkeypatch.setattr(collect_module, "MAX_MEMBER_BYTES", 10_000)
    source = save_eml(tmp_path / "m.eml", mail([("big.xlsx", bytes(50_000)), ("ok.xlsx", workbook("ok"))]))
    decoded = []
    real = email.message.Message.get_payload

    def spy(self, *args, **kwargs):
        if kwargs.get("decode"):
            decoded.append(self.get_filename())
        return real(self, *args, **kwargs)

    monkeypatch.setattr(email.message.Message, "get_payload", spy)

    report = collect([source], tmp_path / "input")

    assert outcomes(report) == [("failed", "file_too_large", "big.xlsx"), ("saved", "attachment_saved", "ok.xlsx")]
    assert decoded == ["ok.xlsx"]
    assert "MB" in report.entries[0].message_en


def test_a_mail_over_the_message_limit_is_one_logged_problem(tmp_path, monkeypatch):
    monkeypatch.setattr(collect_module, "MAX_MESSAGE_BYTES", 20_000)
    big = save_eml(tmp_path / "big.eml", mail([("a.xlsx", bytes(30_000))]))
    small = save_eml(tmp_path / "small.eml", mail([("b.xlsx", workbook("b"))]))

    report = collect([big, small], tmp_path / "input")

    assert outcomes(report) == [("failed", "file_too_large", "big.eml"), ("saved", "attachment_saved", "b.xlsx")]


def test_the_files_per_run_budget_stops_the_run_with_one_logged_problem(tmp_path, monkeypatch):
    monkeypatch.setattr(collect_run, "MAX_RUN_FILES", 120)
    inner = [zip_bytes({f"{n}/report.xlsx": workbook(f"{z}-{n}") for n in range(50)}) for z in range(4)]
    outer = zip_bytes({f"part-{z}.zip": data for z, data in enumerate(inner)})
    source = save_eml(tmp_path / "m.eml", mail([("replies.zip", outer)]))

    result = CliRunner().invoke(main, ["collect", str(source), "--into", str(tmp_path / "input")])

    assert result.exit_code == 0, result.output
    rows = read_log(tmp_path / "input")
    assert [r["outcome"] for r in rows].count("saved") == 120
    limits = [r for r in rows if "limit" in r["message_en"]]
    assert len(limits) == 1 and "120 files" in limits[0]["message_en"]
    assert (tmp_path / "input" / "report (120).xlsx").exists()


def test_the_bytes_per_run_budget_stops_the_run_with_one_logged_problem(tmp_path, monkeypatch):
    monkeypatch.setattr(collect_run, "MAX_RUN_BYTES", 3 * (len(FILLER) + 1))
    sources = [save_eml(tmp_path / f"{n}.eml", mail([(f"{n}.xlsx", FILLER + bytes([n]))])) for n in range(5)]

    report = collect(sources, tmp_path / "input")

    assert len(report.saved) == 3
    assert [e.code for e in report.entries if e.outcome == "failed"] == ["collect_limit"]


def test_the_items_per_run_budget_counts_what_is_looked_at_not_only_what_is_saved(tmp_path, monkeypatch):
    monkeypatch.setattr(collect_run, "MAX_RUN_ITEMS", 30)
    (tmp_path / "pictures.zip").write_bytes(zip_bytes({f"{n}.jpg": b"\xff\xd8" for n in range(100)}))

    report = collect([tmp_path / "pictures.zip"], tmp_path / "input")

    assert [e.code for e in report.entries].count("attachment_not_spreadsheet") == 30
    assert [e.code for e in report.entries if e.outcome == "failed"] == ["collect_limit"]


def test_the_per_archive_byte_budget_holds(tmp_path, monkeypatch):
    monkeypatch.setattr(collect_module, "MAX_ARCHIVE_BYTES", int(2.5 * len(FILLER)))
    (tmp_path / "a.zip").write_bytes(zip_bytes({f"{n}.xlsx": FILLER + bytes([n]) for n in range(4)}))

    report = collect([tmp_path / "a.zip"], tmp_path / "input")

    assert [e.code for e in report.entries] == ["attachment_saved", "attachment_saved", "file_too_large",
                                                "file_too_large"]


def test_members_compressed_like_no_workbook_are_refused_unwritten(tmp_path):
    # the 1.4 MB mail that became 1.07 GB on disk, scaled down: members of zeros named .xlsx
    members = {f"{n}.xlsx": bytes(2 * 1024 * 1024) for n in range(16)}
    source = save_eml(tmp_path / "m.eml", mail([("replies.zip", zip_bytes({**members, "ok.xlsx": FILLER}))]))

    report = collect([source], tmp_path / "input")

    assert [p.name for p in report.saved] == ["ok.xlsx"]
    refused = [e for e in report.entries if e.outcome == "failed"]
    assert len(refused) == 16 and {e.code for e in refused} == {"decompression_bomb"}
    assert "compressed" in refused[0].message_en


def test_an_archive_with_too_many_members_is_one_logged_problem(tmp_path, monkeypatch):
    monkeypatch.setattr(collect_module, "MAX_ARCHIVE_MEMBERS", 10)
    (tmp_path / "many.zip").write_bytes(zip_bytes({f"{n}.xlsx": workbook(str(n)) for n in range(11)}))

    report = collect([tmp_path / "many.zip"], tmp_path / "input")

    assert outcomes(report) == [("failed", "unsafe_file", "many.zip")]


def test_nesting_is_counted_across_mail_and_zip_levels(tmp_path):
    # the mail (1) > a zip (2) > a forwarded mail (3) > a zip: one level too deep
    inner_mail = mail([("too-deep.zip", zip_bytes({"deep.xlsx": workbook("deep")})),
                       ("shallow.xlsx", workbook("shallow"))])
    outer = mail([("replies.zip", zip_bytes({"forwarded.eml": bytes(inner_mail),
                                             "inner.zip": zip_bytes({"in-zip.xlsx": workbook("z")})}))])
    source = save_eml(tmp_path / "m.eml", outer)

    report = collect([source], tmp_path / "input")

    assert sorted(p.name for p in report.saved) == ["in-zip.xlsx", "shallow.xlsx"]
    refused = [e for e in report.entries if e.outcome == "failed"]
    assert [(e.code, e.attachment) for e in refused] == [("unsafe_file", "too-deep.zip")]
    assert "nested more than 3 levels" in refused[0].message_en
