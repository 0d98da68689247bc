"""A corpus of real-world-style mails, each carrying a planted workbook: every one is found (issue 17
finding 9, "Done when"). ``tests/data/mails/README.md`` says where each mail comes from."""

from __future__ import annotations

import base64
import mailbox
import quopri
import re
import urllib.parse
from email.parser import BytesParser
from email.policy import compat32
from pathlib import Path

import pytest
from test_collect import read_log, xlsx_bytes

from cdd_scorer.collect import collect

MAILS = Path(__file__).parent / "data" / "mails"
PLANTED_NAME = "แบบรายงานตัวชี้วัด อ.พล.xlsx"
BODY = "เรียน จังหวัด ส่งแบบรายงานตามไฟล์แนบ ขอบคุณครับ"
CLIENT_MAILS = {  # file: the name the workbook is saved under
    "thai-outlook-2016.eml": PLANTED_NAME,
    "thai-outlook-express.eml": "รายงาน ชุมแพ.xls",
    "gmail.eml": PLANTED_NAME,
    "thunderbird.eml": PLANTED_NAME,
    "apple-mail.eml": "รายงาน กระนวน.xlsx",
    "mailgothai-zimbra.eml": "report.xlsx",
    "quoted-printable-workbook.eml": "report.xls",
    "outlook-forward-as-attachment.eml": PLANTED_NAME,
}
PARSER_MAILS = sorted(p.name for p in (MAILS / "cpython").glob("msg_*.txt"))


def base64_lines(data: bytes) -> str:
    return "\n".join(base64.encodebytes(data).decode().split())


def client_mail(name: str, workbook: bytes) -> bytes:
    """A mail of the corpus with its placeholders filled: the workbook, the Thai body, a forwarded mail."""
    text = (MAILS / name).read_text(encoding="utf-8")
    text = re.sub(r"\{\{FORWARDED:([^}]+)\}\}", lambda m: client_mail(m.group(1), workbook).decode("utf-8",
                                                                                                   "surrogateescape"),
                  text)
    text = text.replace("{{WORKBOOK_BASE64}}", base64_lines(workbook))
    text = text.replace("{{WORKBOOK_QP}}", quopri.encodestring(workbook).decode("latin-1"))
    text = text.replace("{{BODY_QP_UTF8}}", quopri.encodestring(BODY.encode()).decode())
    return text.replace("{{BODY_QP_874}}", quopri.encodestring(BODY.encode("cp874")).decode()).encode(
        "utf-8", "surrogateescape")


# How a workbook is attached: the part's headers, and the name it is saved under.
STYLES = [
    ('Content-Type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet\n'
     f"Content-Disposition: attachment; filename*=UTF-8''{urllib.parse.quote(PLANTED_NAME)}\n", PLANTED_NAME),
    ("Content-Type: application/vnd.ms-excel; name=\"=?UTF-8?B?"
     f"{base64.b64encode(PLANTED_NAME.encode()).decode()}?=\"\n", PLANTED_NAME),
    ('Content-Type: application/octet-stream; name="file.dat"\n', "file.dat.xlsx"),
    ("Content-Type: application/octet-stream\nContent-Disposition: attachment\n", "attachment.xlsx"),
]


def planted(raw: bytes, workbook: bytes, style: int) -> tuple[bytes, str]:
    """``raw`` with a workbook part added at the end of its outermost multipart; a message that is not
    multipart becomes one, its body the first part. Returns the mail and the name to expect."""
    headers, saved_as = STYLES[style % len(STYLES)]
    part = f"{headers}Content-Transfer-Encoding: base64\n\n{base64_lines(workbook)}\n".encode()
    boundary = BytesParser(policy=compat32).parsebytes(raw).get_boundary()
    if boundary:
        end = raw.rindex(f"\n--{boundary}--".encode()) + 1
        return raw[:end] + f"--{boundary}\n".encode() + part + raw[end:], saved_as
    head, _, body = raw.partition(b"\n\n")
    head = re.sub(rb"(?im)^content-(type|transfer-encoding):.*\n?", b"", head.rstrip(b"\n") + b"\n")
    mime = b'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="planted"\n\n'
    return (head + mime + b"--planted\nContent-Type: text/plain\n\n" + body + b"\n--planted\n" + part
            + b"--planted--\n"), saved_as


@pytest.mark.parametrize("name", list(CLIENT_MAILS))
def test_every_client_mail_gives_its_workbook(tmp_path, name):
    workbook = xlsx_bytes(name)
    (tmp_path / name).write_bytes(client_mail(name, workbook))

    report = collect([tmp_path / name], tmp_path / "input")

    assert [p.name for p in report.saved] == [CLIENT_MAILS[name]]
    assert report.saved[0].read_bytes() == workbook
    row = next(r for r in read_log(tmp_path / "input") if r["outcome"] == "saved")
    assert "=?" not in row["subject"] + row["sender"] and row["date"].startswith("20")


@pytest.mark.parametrize("name", PARSER_MAILS)
@pytest.mark.parametrize("style", range(len(STYLES)))
def test_every_parser_test_mail_gives_its_planted_workbook(tmp_path, name, style):
    workbook = xlsx_bytes(f"{name} {style}")
    data, saved_as = planted((MAILS / "cpython" / name).read_bytes(), workbook, style)
    source = tmp_path / name.replace(".txt", ".eml")
    source.write_bytes(data)

    report = collect([source], tmp_path / "input")

    assert [p.read_bytes() for p in report.saved] == [workbook]
    assert report.saved[0].name == saved_as


def test_the_whole_corpus_in_one_mbox_gives_every_workbook(tmp_path):
    box = mailbox.mbox(tmp_path / "Inbox")  # quotes body lines starting "From " as a mail program does
    expected = []
    for number, name in enumerate(CLIENT_MAILS):
        workbook = xlsx_bytes(f"client {number}")
        box.add(client_mail(name, workbook))
        expected.append(workbook)
    for number, name in enumerate(PARSER_MAILS):
        workbook = xlsx_bytes(f"parser {number}")
        box.add(planted((MAILS / "cpython" / name).read_bytes(), workbook, number)[0])
        expected.append(workbook)
    box.close()

    report = collect([tmp_path / "Inbox"], tmp_path / "input")

    assert sorted(p.read_bytes() for p in report.saved) == sorted(expected)
    assert not [e for e in report.entries if e.outcome == "failed"]
