"""Collecting returned workbooks from saved e-mails, mbox files and zip archives (issue 7)."""

from __future__ import annotations

import base64
import csv
import datetime as dt
import email.utils
import hashlib
import io
import mailbox
import zipfile
from pathlib import Path

import pytest

from cdd_scorer import collect as collect_module
from cdd_scorer.collect import collect
from cdd_scorer.collect_log import LOG_COLUMNS
from cdd_scorer.demo import WORKED_EXAMPLE
from cdd_scorer.filling import fill_template
from cdd_scorer.input_files import list_input_files
from cdd_scorer.round import run_round
from cdd_scorer.safe_names import MAX_NAME_BYTES, safe_file_name
from cdd_scorer.template import template_file_name

XLSX_TYPE = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")
THAI_NAME = "แบบรายงานตัวชี้วัด อำเภอเมืองขอนแก่น.xlsx"
MAIL_DATE = dt.datetime(2022, 9, 28, 14, 30, tzinfo=dt.timezone(dt.timedelta(hours=7)))


def mail(attachments: list[tuple[str, bytes]], subject: str = "ส่งแบบรายงานตัวชี้วัด รอบ 2",
         sender: str = "อำเภอเมืองขอนแก่น <muang@example.org>",
         date: dt.datetime = MAIL_DATE) -> email.message.EmailMessage:
    message = email.message.EmailMessage()
    message["From"] = sender
    message["To"] = "province@example.org"
    message["Subject"] = subject
    message["Date"] = email.utils.format_datetime(date)
    message.set_content("เรียน จังหวัด\nส่งแบบรายงานตามไฟล์แนบ")
    for name, data in attachments:
        if name.endswith(".pdf"):
            message.add_attachment(data, maintype="application", subtype="pdf", filename=name)
        elif name.endswith(".zip"):
            message.add_attachment(data, maintype="application", subtype="zip", filename=name)
        elif name.endswith(".png"):
            message.add_attachment(data, maintype="image", subtype="png", filename=name)
        else:
            message.add_attachment(data, maintype=XLSX_TYPE[0], subtype=XLSX_TYPE[1], filename=name)
    return message


def save_eml(path: Path, message: email.message.EmailMessage) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(bytes(message))
    return path


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def read_log(into: Path) -> list[dict[str, str]]:
    with (into / ".cdd-scorer" / "collect_log.csv").open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def workbook(tag: str) -> bytes:
    """Stand-in spreadsheet content: collect never opens a spreadsheet, it only moves bytes."""
    return b"PK\x03\x04 workbook " + tag.encode()


def xlsx_bytes(tag: str) -> bytes:
    """A zip that content sniffing takes for an .xlsx workbook (whatever its name or MIME type)."""
    return zip_bytes({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>",
                      "xl/worksheets/sheet1.xml": f"<worksheet>{tag}</worksheet>".encode()})


def raw_mail(body: str, content_type: str, subject: str = "ส่งรายงาน", extra_headers: str = "") -> bytes:
    """A hand-made message (what mail programs write and Python's email package would not)."""
    return ("From: district@example.org\r\nTo: province@example.org\r\n"
            f"Subject: =?UTF-8?B?{base64.b64encode(subject.encode()).decode()}?=\r\n"
            "Date: Wed, 28 Sep 2022 09:00:00 +0700\r\nMIME-Version: 1.0\r\n"
            f"{extra_headers}Content-Type: {content_type}\r\n\r\n{body}").encode()


def attachment_part(boundary: str, name: str, data: bytes,
                    content_type: str = "application/vnd.ms-excel") -> str:
    """One base64 attachment part of a hand-made multipart body, opened by ``--boundary``."""
    return (f"--{boundary}\r\nContent-Type: {content_type}; name=\"{name}\"\r\n"
            f"Content-Disposition: attachment; filename=\"{name}\"\r\n"
            f"Content-Transfer-Encoding: base64\r\n\r\n{base64.b64encode(data).decode()}\r\n")


def test_thai_attachment_names_come_out_right_rfc2231_encoded_words_and_windows_874(tmp_path):
    rfc2231 = save_eml(tmp_path / "mails" / "a.eml", mail([(THAI_NAME, workbook("a"))]))
    utf8_word = base64.b64encode("รายงาน อำเภอพล.xlsx".encode()).decode()
    win874_word = base64.b64encode("รายงาน อำเภอชุมแพ.xls".encode("cp874")).decode()
    hand_made = (
        "From: =?UTF-8?B?" + base64.b64encode("อำเภอพล".encode()).decode() + "?= <phon@example.org>\r\n"
        "Subject: =?windows-874?B?" + base64.b64encode("ส่งรายงาน".encode("cp874")).decode() + "?=\r\n"
        "Date: Wed, 28 Sep 2022 09:00:00 +0700\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="B"\r\n\r\n'
        "--B\r\nContent-Type: application/vnd.ms-excel\r\n"
        f'Content-Disposition: attachment; filename="=?UTF-8?B?{utf8_word}?="\r\n'
        "Content-Transfer-Encoding: base64\r\n\r\n" + base64.b64encode(workbook("b")).decode() + "\r\n"
        "--B\r\nContent-Type: application/vnd.ms-excel\r\n"
        f'Content-Disposition: attachment; filename="=?windows-874?B?{win874_word}?="\r\n'
        "Content-Transfer-Encoding: base64\r\n\r\n" + base64.b64encode(workbook("c")).decode() + "\r\n"
        "--B--\r\n")
    outlook = tmp_path / "mails" / "b.eml"
    outlook.write_text(hand_made, encoding="ascii")

    report = collect([rfc2231, outlook], tmp_path / "input")

    assert sorted(p.name for p in report.saved) == sorted(
        [THAI_NAME, "รายงาน อำเภอพล.xlsx", "รายงาน อำเภอชุมแพ.xls"])
    assert (tmp_path / "input" / THAI_NAME).read_bytes() == workbook("a")
    rows = read_log(tmp_path / "input")
    assert {r["sender"] for r in rows} == {"อำเภอเมืองขอนแก่น <muang@example.org>", "อำเภอพล <phon@example.org>"}
    assert {r["subject"] for r in rows} == {"ส่งแบบรายงานตัวชี้วัด รอบ 2", "ส่งรายงาน"}


def test_pdf_beside_a_workbook_is_ignored_with_a_log_line(tmp_path):
    source = save_eml(tmp_path / "m.eml", mail([("หนังสือนำส่ง.pdf", b"%PDF-1.4"), (THAI_NAME, workbook("a"))]))

    report = collect([source], tmp_path / "input")

    assert [p.name for p in report.saved] == [THAI_NAME]
    assert [p.name for p in list_input_files(tmp_path / "input")] == [THAI_NAME]
    ignored = [r for r in read_log(tmp_path / "input") if r["outcome"] == "ignored"]
    assert [r["attachment"] for r in ignored] == ["หนังสือนำส่ง.pdf"]
    assert ".pdf" in ignored[0]["message_th"] and ".pdf" in ignored[0]["message_en"]


def test_the_same_workbook_sent_twice_is_saved_once_and_the_log_grows(tmp_path):
    first = save_eml(tmp_path / "mails" / "1.eml", mail([(THAI_NAME, workbook("a"))]))
    again = save_eml(tmp_path / "mails" / "2.eml", mail([("สำเนา.xlsx", workbook("a"))], subject="ส่งซ้ำ"))

    report = collect([first, again], tmp_path / "input")
    rerun = collect([tmp_path / "mails"], tmp_path / "input")

    assert [p.name for p in report.saved] == [THAI_NAME]
    assert [e.outcome for e in report.entries] == ["saved", "duplicate"]
    assert report.entries[1].params["other"] == THAI_NAME
    assert rerun.count("duplicate") == 2 and not rerun.saved
    rows = read_log(tmp_path / "input")
    assert len(rows) == 4 and list(rows[0]) == LOG_COLUMNS  # one header, appended rows
    assert rows[0]["sha256"] == hashlib.sha256(workbook("a")).hexdigest()


def test_a_different_file_of_the_same_name_never_overwrites_but_gets_a_suffix(tmp_path):
    into = tmp_path / "input"
    into.mkdir()
    (into / "Report.xlsx").write_bytes(workbook("already here"))
    sources = [save_eml(tmp_path / f"{i}.eml", mail([("report.xlsx", workbook(str(i)))])) for i in (1, 2)]

    report = collect(sources, into)

    assert [p.name for p in report.saved] == ["report (2).xlsx", "report (3).xlsx"]
    assert (into / "Report.xlsx").read_bytes() == workbook("already here")
    assert (into / "report (3).xlsx").read_bytes() == workbook("2")


def test_a_zip_inside_a_mail_gives_its_workbooks_and_skips_mac_metadata(tmp_path):
    archive = zip_bytes({"ส่งจังหวัด/อำเภอพล.xlsx": workbook("phon"), "ส่งจังหวัด/ภาพ.jpg": b"\xff\xd8",
                         "__MACOSX/ส่งจังหวัด/._อำเภอพล.xlsx": b"\x00\x05", "ส่งจังหวัด/": b""})
    source = save_eml(tmp_path / "m.eml", mail([("รายงาน.zip", archive)]))

    report = collect([source], tmp_path / "input")

    assert [p.name for p in report.saved] == ["อำเภอพล.xlsx"]
    assert [(e.outcome, e.attachment) for e in report.entries] == [("saved", "อำเภอพล.xlsx"),
                                                                   ("ignored", "ภาพ.jpg")]
    assert report.entries[0].origin.source.endswith("m.eml > รายงาน.zip")


def _patch_zip(data: bytes, placeholder: bytes, name: bytes = b"", encrypted: bool = False) -> bytes:
    """A zip as old tools write it: a name in a Windows code page without the UTF-8 flag, or a
    member flagged as encrypted (Python's zipfile cannot write either)."""
    out = bytearray(data.replace(placeholder, name) if name else data)
    for signature, flags_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = out.find(signature)
        flags = int.from_bytes(out[start + flags_at:start + flags_at + 2], "little")
        flags = (flags & ~0x800) | (0x1 if encrypted else 0)
        out[start + flags_at:start + flags_at + 2] = flags.to_bytes(2, "little")
    return bytes(out)


def test_a_zip_made_by_thai_windows_keeps_its_thai_member_names(tmp_path):
    thai = "อำเภอพล.xlsx".encode("cp874")
    placeholder = b"X" * (len(thai) - 5) + b".xlsx"
    (tmp_path / "old.zip").write_bytes(_patch_zip(zip_bytes({placeholder.decode(): workbook("a")}),
                                                  placeholder, thai))

    report = collect([tmp_path / "old.zip"], tmp_path / "input")

    assert [p.name for p in report.saved] == ["อำเภอพล.xlsx"]


def test_an_encrypted_zip_member_is_reported_not_saved(tmp_path):
    (tmp_path / "locked.zip").write_bytes(_patch_zip(zip_bytes({"a.xlsx": workbook("a")}), b"", encrypted=True))

    report = collect([tmp_path / "locked.zip"], tmp_path / "input")

    assert not report.saved
    assert [(e.outcome, e.code) for e in report.entries] == [("failed", "encrypted_file")]


def test_zip_slip_member_names_never_leave_the_input_folder(tmp_path):
    archive = zip_bytes({"../../evil.xlsx": workbook("1"), "/etc/cron.d/x.xlsx": workbook("2"),
                         "..\\..\\windows.xlsx": workbook("3"), "a/b/../../../c.xlsx": workbook("4")})
    (tmp_path / "zs" / "deep").mkdir(parents=True)
    (tmp_path / "zs" / "deep" / "slip.zip").write_bytes(archive)
    into = tmp_path / "zs" / "deep" / "input"

    report = collect([tmp_path / "zs" / "deep" / "slip.zip"], into)

    assert sorted(p.name for p in report.saved) == ["c.xlsx", "evil.xlsx", "windows.xlsx", "x.xlsx"]
    assert all(p.parent == into for p in report.saved)
    outside = [p for p in tmp_path.rglob("*.xlsx") if into not in p.parents]
    assert outside == []


def test_a_huge_zip_member_is_skipped_without_reading_it(tmp_path, monkeypatch):
    monkeypatch.setattr(collect_module, "MAX_MEMBER_BYTES", 10_000)
    (tmp_path / "bomb.zip").write_bytes(zip_bytes({"bomb.xlsx": bytes(1_000_000), "ok.xlsx": workbook("ok")}))
    opened: list[str] = []
    real_open = zipfile.ZipFile.open

    def spy(self, member, *args, **kwargs):
        opened.append(member.filename if isinstance(member, zipfile.ZipInfo) else member)
        return real_open(self, member, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "open", spy)

    report = collect([tmp_path / "bomb.zip"], tmp_path / "input")

    assert [p.name for p in report.saved] == ["ok.xlsx"]
    failed = [(e.attachment, e.code) for e in report.entries if e.outcome == "failed"]
    assert failed == [("bomb.xlsx", "file_too_large")]
    assert opened == ["ok.xlsx"]


def test_a_zip_member_that_lies_about_its_size_is_cut_off(tmp_path, monkeypatch):
    monkeypatch.setattr(collect_module, "MAX_MEMBER_BYTES", 10_000)
    honest = zip_bytes({"big.xlsx": bytes(50_000)})
    with zipfile.ZipFile(io.BytesIO(honest)) as archive:
        declared = archive.getinfo("big.xlsx").file_size.to_bytes(4, "little")
    # claim 100 bytes in both headers; the data still inflates to 50,000
    small = (100).to_bytes(4, "little")
    (tmp_path / "liar.zip").write_bytes(honest.replace(declared, small))

    report = collect([tmp_path / "liar.zip"], tmp_path / "input")

    assert not report.saved
    assert report.entries[0].outcome == "failed"


def test_an_mbox_with_several_messages_and_one_without_extension(tmp_path):
    box = mailbox.mbox(tmp_path / "Inbox")
    box.add(mail([(THAI_NAME, workbook("muang"))]))
    box.add(mail([("อำเภอพล.xlsx", workbook("phon")), ("รูป.png", b"\x89PNG")], sender="phon@example.org",
                 subject="=ส่งรายงาน"))
    box.close()

    report = collect([tmp_path / "Inbox"], tmp_path / "input")

    assert sorted(p.name for p in report.saved) == sorted([THAI_NAME, "อำเภอพล.xlsx"])
    rows = read_log(tmp_path / "input")
    assert [r["source"] for r in rows] == [f"{tmp_path / 'Inbox'} #1", f"{tmp_path / 'Inbox'} #2",
                                           f"{tmp_path / 'Inbox'} #2 > รูป.png"]
    assert rows[1]["sender"] == "phon@example.org"
    assert rows[1]["subject"] == "'=ส่งรายงาน"  # a subject is never a formula in Excel
    assert dt.datetime.fromisoformat(rows[0]["date"]) == MAIL_DATE


def test_a_folder_of_mails_is_walked_and_other_files_are_noted(tmp_path):
    save_eml(tmp_path / "mails" / "a.eml", mail([("a.xlsx", workbook("a"))]))
    save_eml(tmp_path / "mails" / "sub" / "b.eml", mail([("b.ods", workbook("b"))]))
    (tmp_path / "mails" / "notes.txt").write_text("hello")

    report = collect([tmp_path / "mails"], tmp_path / "input")

    assert sorted(p.name for p in report.saved) == ["a.xlsx", "b.ods"]
    assert [(e.outcome, e.code) for e in report.entries if not e.saved] == [("ignored", "not_mail")]


def test_a_saved_workbook_carries_the_mail_date_as_its_file_time(tmp_path):
    source = save_eml(tmp_path / "m.eml", mail([("a.xls", workbook("a"))]))

    report = collect([source], tmp_path / "input")

    assert report.saved[0].stat().st_mtime == MAIL_DATE.timestamp()


@pytest.mark.parametrize(("name", "expected"), [
    ("C:\\Users\\อำเภอ\\Desktop\\รายงาน.xlsx", "รายงาน.xlsx"),
    ("../../etc/passwd.xlsx", "passwd.xlsx"),
    ('a<b>c:d"e|f?g*h.xlsx', "a_b_c_d_e_f_g_h.xlsx"),
    ("CON.xlsx", "_CON.xlsx"),
    ("lpt1.backup.xls", "_lpt1.backup.xls"),
    (".hidden.xlsx", "hidden.xlsx"),
    ("report.xlsx. ", "report.xlsx"),
    ("แบบ\x00รายงาน.xlsx", "แบบ_รายงาน.xlsx"),
])
def test_safe_file_name_removes_paths_and_windows_reserved_names(name, expected):
    assert safe_file_name(name) == expected


def test_safe_file_name_shortens_long_thai_names_within_the_byte_limit():
    name = safe_file_name("ก" * 200 + ".xlsx")
    assert name.endswith(".xlsx") and len(name.encode()) <= MAX_NAME_BYTES


def test_collected_workbooks_are_scored_and_the_log_is_not_read_as_a_submission(
        tmp_path, kpi_set, template_dir, khon_kaen_areas):
    area = khon_kaen_areas[0]
    filled = fill_template(template_dir / template_file_name(area), WORKED_EXAMPLE, tmp_path / "filled.xlsx")
    source = save_eml(tmp_path / "m.eml", mail([("ไฟล์ส่งกลับ.xlsx", filled.read_bytes()),
                                               ("หนังสือ.pdf", b"%PDF")]))

    collect([source], tmp_path / "input")
    result = run_round(tmp_path / "input", kpi_set)

    row = next(d for d in result.districts if d.area.district_code == area.district_code)
    assert row.status == "complete" and row.source.name == "ไฟล์ส่งกลับ.xlsx"
    assert not [p for p in result.problems if p.code == "not_spreadsheet"]
    assert (tmp_path / "input" / ".cdd-scorer" / "collect_log.csv").exists()
