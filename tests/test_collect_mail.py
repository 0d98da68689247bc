"""Finding every reply in mail that breaks parsers (issue 17 findings 4, 6, 8, 9; what to build 3, 6)."""

from __future__ import annotations

import base64
import email.message
import email.utils
import mailbox

from click.testing import CliRunner
from test_collect import (
    THAI_NAME,
    attachment_part,
    mail,
    raw_mail,
    read_log,
    save_eml,
    workbook,
    xlsx_bytes,
    zip_bytes,
)

from cdd_scorer.cli import main
from cdd_scorer.collect import collect

OE_BOUNDARY = "----=_NextPart_000_0001_01D8C2A1.5E4B2F10"


def saved_names(report) -> list[str]:
    return sorted(p.name for p in report.saved)


# ---- structure the modern parser loses (finding 4, 9)

def test_an_unquoted_boundary_holding_equals_signs_is_read_with_compat32(tmp_path):
    body = ("This is a multi-part message in MIME format.\r\n\r\n"
            f"--{OE_BOUNDARY}\r\nContent-Type: text/plain; charset=\"windows-874\"\r\n\r\nส่งรายงาน\r\n"
            + attachment_part(OE_BOUNDARY, "a.xlsx", workbook("a"))
            + attachment_part(OE_BOUNDARY, "b.xlsx", workbook("b")) + f"--{OE_BOUNDARY}--\r\n")
    (tmp_path / "oe.eml").write_bytes(raw_mail(body, f"multipart/mixed; boundary={OE_BOUNDARY}"))

    report = collect([tmp_path / "oe.eml"], tmp_path / "input")

    assert saved_names(report) == ["a.xlsx", "b.xlsx"]
    assert [r["outcome"] for r in read_log(tmp_path / "input")] == ["saved", "saved"]


def test_a_multipart_without_a_boundary_parameter_is_scanned_raw(tmp_path):
    body = attachment_part("XYZ", "รายงาน.xlsx", workbook("a")) + "--XYZ--\r\n"
    (tmp_path / "m.eml").write_bytes(raw_mail(body, "multipart/mixed"))

    report = collect([tmp_path / "m.eml"], tmp_path / "input")

    assert saved_names(report) == ["รายงาน.xlsx"]


def test_a_mismatched_boundary_still_gives_the_workbook(tmp_path):
    body = attachment_part("Real", "a.xls", workbook("a")) + "--Real--\r\n"
    (tmp_path / "m.eml").write_bytes(raw_mail(body, 'multipart/mixed; boundary="Declared"'))

    report = collect([tmp_path / "m.eml"], tmp_path / "input")

    assert saved_names(report) == ["a.xls"]


def test_a_nested_multipart_reusing_its_parents_boundary_is_found_by_the_raw_scan(tmp_path):
    # Outlook Express for Mac: the inner multipart/mixed reuses the outer boundary
    body = ("--B\r\nContent-Type: multipart/alternative; boundary=\"B\"\r\n\r\n"
            "--B\r\nContent-Type: text/plain\r\n\r\nhello\r\n"
            "--B\r\nContent-Type: text/html\r\n\r\n<p>hello</p>\r\n"
            + attachment_part("B", "อำเภอพล.xlsx", workbook("phon"),
                              "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
            + "--B--\r\n--B--\r\n")
    (tmp_path / "mac.eml").write_bytes(raw_mail(body, 'multipart/mixed; boundary="B"'))

    report = collect([tmp_path / "mac.eml"], tmp_path / "input")

    assert saved_names(report) == ["อำเภอพล.xlsx"]
    assert (tmp_path / "input" / "อำเภอพล.xlsx").read_bytes() == workbook("phon")


def test_the_raw_scan_finds_an_unnamed_attachment_once_and_never_repeats_a_parsed_one(tmp_path):
    # the modern parser loses this structure; quoted-printable parts decode alike in both passes
    qp = "Content-Transfer-Encoding: quoted-printable\r\n\r\nPK=03=04 workbook=3D1\r\n"
    pdf = "Content-Transfer-Encoding: quoted-printable\r\n\r\n%PDF-1.4 =E0=B8=81\r\n"
    body = (f"--{OE_BOUNDARY}\r\nContent-Type: application/vnd.ms-excel; name=\"a.xls\"\r\n{qp}"
            f"--{OE_BOUNDARY}\r\nContent-Type: application/pdf; name=\"letter.pdf\"\r\n{pdf}"
            f"--{OE_BOUNDARY}\r\nContent-Type: application/octet-stream\r\n"
            f"Content-Transfer-Encoding: base64\r\n\r\n{base64.b64encode(xlsx_bytes('b')).decode()}\r\n"
            f"--{OE_BOUNDARY}--\r\n")
    (tmp_path / "oe.eml").write_bytes(raw_mail(body, f"multipart/mixed; boundary={OE_BOUNDARY}"))
    pdf_only = f'--x\r\nContent-Type: application/pdf; name="letter.pdf"\r\n{pdf}--x--\r\n'
    (tmp_path / "pdf.eml").write_bytes(raw_mail(pdf_only, 'multipart/mixed; boundary="x"'))

    report = collect([tmp_path / "oe.eml", tmp_path / "pdf.eml"], tmp_path / "input")

    assert saved_names(report) == ["a.xls", "attachment.xlsx"]
    assert (tmp_path / "input" / "a.xls").read_bytes() == b"PK\x03\x04 workbook=1"
    assert [e.attachment for e in report.entries if e.outcome == "ignored"] == ["letter.pdf", "letter.pdf"]


def test_multipart_nested_thousands_deep_costs_only_that_mail(tmp_path):
    depth = 3000
    body = "".join(f"--b{i}\r\nContent-Type: multipart/mixed; boundary=\"b{i + 1}\"\r\n\r\n" for i in range(depth))
    body += attachment_part(f"b{depth}", "deep.xlsx", workbook("deep"))
    (tmp_path / "1-deep.eml").write_bytes(raw_mail(body, 'multipart/mixed; boundary="b0"'))
    save_eml(tmp_path / "2-next.eml", mail([("next.xlsx", workbook("next"))]))

    result = CliRunner().invoke(main, ["collect", str(tmp_path / "1-deep.eml"), str(tmp_path / "2-next.eml"),
                                       "--into", str(tmp_path / "input")])

    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    assert (tmp_path / "input" / "next.xlsx").exists()
    rows = read_log(tmp_path / "input")
    assert any(r["source"].endswith("1-deep.eml") for r in rows)


# ---- messages that vanished (finding 4, 9)

def test_an_mbox_starting_with_a_blank_line_is_read(tmp_path):
    box = tmp_path / "Inbox"
    box.write_bytes(b"\r\n\r\nFrom district@example.org Wed Sep 28 09:00:00 2022\r\n"
                    + bytes(mail([("a.xlsx", workbook("a"))])))

    report = collect([box], tmp_path / "input")

    assert saved_names(report) == ["a.xlsx"]


def test_an_eml_holding_three_messages_gives_every_attachment(tmp_path):
    messages = [mail([(f"{n}.xlsx", workbook(n))], subject=f"mail {n}") for n in ("one", "two", "three")]
    data = b"".join(b"From district@example.org Wed Sep 28 09:00:00 2022\n" + m.as_bytes(unixfrom=False) + b"\n"
                    for m in messages)
    (tmp_path / "three.eml").write_bytes(data)

    report = collect([tmp_path / "three.eml"], tmp_path / "input")

    assert saved_names(report) == ["one.xlsx", "three.xlsx", "two.xlsx"]
    assert [r["subject"] for r in read_log(tmp_path / "input")] == ["mail one", "mail two", "mail three"]


def test_a_forwarded_message_starting_with_a_from_line_keeps_its_attachment_in_an_mbox(tmp_path):
    # how an mbox writer stores it: the forwarded message's own "From " line quoted as ">From "
    # (zipped, so that only the parse finds it: the raw scan looks for parts that declare a spreadsheet)
    forwarded = mail([("forwarded.zip", zip_bytes({"forwarded.xlsx": workbook("f")}))], subject="ต้นฉบับ")
    forwarded = forwarded.as_bytes(unixfrom=False)
    body = (b"--F\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n"
            b"--F\r\nContent-Type: message/rfc822\r\nContent-Disposition: attachment\r\n\r\n"
            b">From original@example.org Tue Sep 27 10:00:00 2022\n" + forwarded + b"\r\n--F--\r\n")
    (tmp_path / "Inbox").write_bytes(b"From office@example.org Wed Sep 28 09:00:00 2022\n"
                                     + raw_mail("", 'multipart/mixed; boundary="F"', "Fwd: ต้นฉบับ") + body)

    report = collect([tmp_path / "Inbox"], tmp_path / "input")

    assert saved_names(report) == ["forwarded.xlsx"]


def test_every_message_gets_a_log_row_even_without_attachments(tmp_path):
    box = mailbox.mbox(tmp_path / "Inbox")
    box.add(mail([], subject="สอบถามกำหนดส่ง"))
    box.add(mail([("a.xlsx", workbook("a"))], subject="ส่งรายงาน"))
    box.add(mail([], subject="ขอบคุณครับ"))
    box.close()

    collect([tmp_path / "Inbox"], tmp_path / "input")

    rows = read_log(tmp_path / "input")
    assert [(r["outcome"], r["subject"]) for r in rows] == [
        ("ignored", "สอบถามกำหนดส่ง"), ("saved", "ส่งรายงาน"), ("ignored", "ขอบคุณครับ")]
    assert [r["source"].rsplit(" ", 1)[-1] for r in rows] == ["#1", "#2", "#3"]


def test_a_mail_forwarded_as_an_attachment_gives_its_workbook(tmp_path):
    inner = mail([("อำเภอพล.xlsx", workbook("phon"))], subject="ส่งรายงาน อำเภอพล")
    outer = mail([], subject="Fwd: ส่งรายงาน อำเภอพล", sender="สำนักงาน <office@example.org>")
    outer.add_attachment(inner)  # message/rfc822
    source = save_eml(tmp_path / "fwd.eml", outer)

    report = collect([source], tmp_path / "input")

    assert saved_names(report) == ["อำเภอพล.xlsx"]
    row = read_log(tmp_path / "input")[0]
    assert row["subject"] == "ส่งรายงาน อำเภอพล"  # the mail that carried the workbook


# ---- content sniffing (finding 4)

def test_a_workbook_is_found_by_its_content_whatever_its_name_or_type(tmp_path):
    message = mail([])
    for n, name in enumerate(["report", "file.dat", None]):
        message.add_attachment(xlsx_bytes(str(n)), maintype="application", subtype="octet-stream", filename=name)
    message.add_attachment(xlsx_bytes("thai"), maintype="application",
                           subtype="vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                           filename="ผลงาน อ.เมือง ต.ค.65")
    message.add_attachment(b"%PDF-1.4 not a workbook", maintype="application", subtype="octet-stream",
                           filename="scan.dat")
    source = save_eml(tmp_path / "m.eml", message)

    report = collect([source], tmp_path / "input")

    assert saved_names(report) == ["attachment.xlsx", "file.dat.xlsx", "report.xlsx", "ผลงาน อ.เมือง ต.ค.65.xlsx"]
    ignored = [e.attachment for e in report.entries if e.outcome == "ignored"]
    assert ignored == ["scan.dat"]


def test_an_attachment_named_dot_dot_keeps_a_readable_extension(tmp_path):
    message = mail([])
    message.add_attachment(xlsx_bytes("x"), maintype="application", subtype="octet-stream", filename="..")
    message.add_attachment(workbook("y"), maintype="application", subtype="vnd.ms-excel", filename="...")
    source = save_eml(tmp_path / "m.eml", message)

    report = collect([source], tmp_path / "input")

    assert saved_names(report) == ["attachment.xls", "attachment.xlsx"]


# ---- headers and names (finding 8)

def test_tis620_headers_and_names_without_encoded_words_read_as_thai(tmp_path):
    headers = ("From: " + "อำเภอพล").encode("cp874") + b" <phon@example.org>\r\nSubject: " + \
        "ส่งแบบรายงาน".encode("tis-620") + b"\r\nDate: Wed, 28 Sep 2022 09:00:00 +0700\r\nMIME-Version: 1.0\r\n"
    body = attachment_part("B", "รายงาน อำเภอพล.xls", workbook("a")) + "--B--\r\n"
    (tmp_path / "old.eml").write_bytes(headers + b'Content-Type: multipart/mixed; boundary="B"\r\n\r\n'
                                       + body.encode("cp874"))

    report = collect([tmp_path / "old.eml"], tmp_path / "input")

    assert saved_names(report) == ["รายงาน อำเภอพล.xls"]
    row = read_log(tmp_path / "input")[0]
    assert row["sender"] == "อำเภอพล <phon@example.org>"
    assert row["subject"] == "ส่งแบบรายงาน"
    assert "\\udc" not in repr(row)


def test_a_date_with_an_impossible_offset_is_kept_as_text(tmp_path):
    body = attachment_part("B", "a.xlsx", workbook("a")) + "--B--\r\n"
    data = raw_mail(body, 'multipart/mixed; boundary="B"')
    (tmp_path / "m.eml").write_bytes(data.replace(b"+0700", b"+9959"))

    report = collect([tmp_path / "m.eml"], tmp_path / "input")

    assert saved_names(report) == ["a.xlsx"]
    assert read_log(tmp_path / "input")[0]["date"] == "Wed, 28 Sep 2022 09:00:00 +9959"


def test_control_and_bidi_characters_never_reach_the_console_or_the_saved_name(tmp_path):
    hostile = "\x1b[2J\rบันทึก 99 ไฟล์\n\u202exslx.exe\u202c.xlsx"
    message = mail([])
    message.add_attachment(workbook("h"), maintype="application", subtype="vnd.ms-excel", filename=hostile)
    message.replace_header("Subject", "ส่ง\x1b]0;title\x07 รายงาน")
    source = save_eml(tmp_path / "m.eml", message)

    result = CliRunner().invoke(main, ["collect", str(source), "--into", str(tmp_path / "input")])

    assert result.exit_code == 0, result.output
    saved = [p.name for p in (tmp_path / "input").iterdir() if p.is_file()]
    assert len(saved) == 1 and saved[0].endswith(".xlsx")
    for text in [saved[0], result.output, (tmp_path / "input" / ".cdd-scorer" / "collect_log.csv").read_text()]:
        assert not any(c in text for c in "\x1b\r\x07\u202e\u202c"), repr(text)
    lines = result.output.splitlines()
    assert not any(line.startswith("บันทึก 99") for line in lines)  # no faked summary line


# ---- zip members and MIME parts each in their own boundary (finding 2)

def test_a_broken_part_costs_only_that_part(tmp_path, monkeypatch):
    message = mail([("good-1.xlsx", workbook("1")), ("bad.xlsx", workbook("bad")), ("good-2.xlsx", workbook("2"))])
    source = save_eml(tmp_path / "m.eml", message)
    real = email.message.Message.get_payload

    def decoder_failure(self, *args, **kwargs):
        if kwargs.get("decode") and self.get_filename() == "bad.xlsx":
            raise ValueError("invalid base64 padding")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(email.message.Message, "get_payload", decoder_failure)

    report = collect([source], tmp_path / "input")

    assert saved_names(report) == ["good-1.xlsx", "good-2.xlsx"]
    assert [(e.attachment, e.code) for e in report.entries if e.outcome == "failed"] == [
        ("bad.xlsx", "corrupt_file")]
    assert "invalid base64 padding" in report.entries[1].message_en


def test_a_broken_message_in_an_mbox_costs_only_that_message(tmp_path, monkeypatch):
    from cdd_scorer import collect as collect_module

    box = mailbox.mbox(tmp_path / "Inbox")
    for n in range(3):
        box.add(mail([(f"{n}.xlsx", workbook(str(n)))], subject=f"mail {n}"))
    box.close()
    real = collect_module.parse_mail

    def parser_failure(data: bytes):
        if b"mail 1" in data:
            raise LookupError("unknown encoding: x-thai-2")
        return real(data)

    monkeypatch.setattr(collect_module, "parse_mail", parser_failure)

    report = collect([tmp_path / "Inbox"], tmp_path / "input")

    assert saved_names(report) == ["0.xlsx", "2.xlsx"]
    failed = [e for e in report.entries if e.outcome == "failed"]
    assert len(failed) == 1 and failed[0].origin.source.endswith("#2")


def test_a_forwarded_zip_of_mails_is_walked_and_thai_names_are_kept(tmp_path):
    inner = save_eml(tmp_path / "inner.eml", mail([(THAI_NAME, workbook("a"))]))
    archive = zip_bytes({"ส่งต่อ/ตอบกลับ.eml": inner.read_bytes()})
    source = save_eml(tmp_path / "m.eml", mail([("mails.zip", archive)]))

    report = collect([source], tmp_path / "input")

    assert saved_names(report) == [THAI_NAME]
    assert report.entries[0].origin.source.endswith("mails.zip > ส่งต่อ/ตอบกลับ.eml")
