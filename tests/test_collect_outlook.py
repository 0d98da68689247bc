"""Outlook's own formats: winmail.dat (TNEF) and .msg files (issue 17 finding 4; issue 16 item 4).

Neither ``tnefparse`` nor ``extract-msg`` can write its format, so both are built here from their
specifications: TNEF ([MS-OXTNEF]) is a list of checksummed attributes; an .msg ([MS-OXMSG]) is a
compound file ([MS-CFB]) of property streams, written by ``compound_file`` below (mini stream included,
since every property stream is smaller than the 4,096-byte cutoff).
"""

from __future__ import annotations

import struct

from test_collect import mail, read_log, save_eml, workbook, xlsx_bytes

from cdd_scorer.attachment_kinds import attachment_kind
from cdd_scorer.collect import collect

# ---- TNEF

def tnef_attribute(level: int, name: int, kind: int, data: bytes) -> bytes:
    return struct.pack("<BHHI", level, name, kind, len(data)) + data + struct.pack("<H", sum(data) & 0xFFFF)


def winmail_dat(attachments: list[tuple[str, bytes]]) -> bytes:
    """A winmail.dat as Outlook sends it: a TNEF stream with each file's title and data."""
    out = struct.pack("<IH", 0x223E9F78, 0x0001)
    out += tnef_attribute(1, 0x9006, 0x0008, struct.pack("<I", 0x00010000))  # TNEF version
    out += tnef_attribute(1, 0x9007, 0x0006, struct.pack("<II", 874, 0))  # OEM code page: Thai
    for name, data in attachments:
        out += tnef_attribute(2, 0x9002, 0x0006, bytes(14))  # attachment rendering: starts an attachment
        out += tnef_attribute(2, 0x8010, 0x0001, name.encode("cp874") + b"\0")  # title
        out += tnef_attribute(2, 0x800F, 0x0006, data)
    return out


def test_a_workbook_wrapped_in_winmail_dat_is_collected(tmp_path):
    message = mail([])
    message.add_attachment(winmail_dat([("รายงาน อำเภอพล.xlsx", workbook("phon")), ("logo.png", b"\x89PNG")]),
                           maintype="application", subtype="ms-tnef", filename="winmail.dat")
    source = save_eml(tmp_path / "m.eml", message)

    report = collect([source], tmp_path / "input")

    assert [p.name for p in report.saved] == ["รายงาน อำเภอพล.xlsx"]
    assert (tmp_path / "input" / "รายงาน อำเภอพล.xlsx").read_bytes() == workbook("phon")
    assert [(e.outcome, e.attachment) for e in report.entries] == [
        ("saved", "รายงาน อำเภอพล.xlsx"), ("ignored", "logo.png")]
    assert report.entries[0].origin.source.endswith("m.eml > winmail.dat")


def test_a_damaged_winmail_dat_costs_only_itself(tmp_path):
    message = mail([("ok.xlsx", workbook("ok"))])
    message.add_attachment(winmail_dat([("a.xlsx", workbook("a"))])[:40], maintype="application",
                           subtype="ms-tnef", filename="winmail.dat")
    source = save_eml(tmp_path / "m.eml", message)

    report = collect([source], tmp_path / "input")

    assert [p.name for p in report.saved] == ["ok.xlsx"]
    assert all(e.outcome in ("saved", "failed") for e in report.entries)


# ---- .msg: a compound file

SECTOR, MINI, CUTOFF = 512, 64, 4096
FREE, END, FAT_SECTOR = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD


def compound_file(tree: dict) -> bytes:
    """A version 3 compound file holding ``tree`` (a dict of storages, whose bytes values are streams)."""
    entries: list[dict] = [{"name": "Root Entry", "type": 5, "children": []}]

    def add(storage: dict, parent: int) -> None:
        for name, value in storage.items():
            entries.append({"name": name, "type": 1 if isinstance(value, dict) else 2, "children": [],
                            "data": value if isinstance(value, bytes) else b""})
            entries[parent]["children"].append(len(entries) - 1)
            if isinstance(value, dict):
                add(value, len(entries) - 1)

    add(tree, 0)
    mini_stream, mini_fat = b"", []
    for entry in entries:
        data = entry.get("data", b"")
        if entry["type"] == 2 and data:
            entry["start"], count = len(mini_stream) // MINI, -(-len(data) // MINI)
            mini_fat += [entry["start"] + i + 1 for i in range(count - 1)] + [END]
            mini_stream += data.ljust(count * MINI, b"\0")
    directory = b"".join(_directory_entry(entries, i) for i in range(len(entries)))
    chains = [directory, struct.pack(f"<{len(mini_fat)}I", *mini_fat), mini_stream]
    chain_sectors = [-(-len(c) // SECTOR) for c in chains]
    fat_count = 1
    while fat_count * SECTOR // 4 < fat_count + sum(chain_sectors):
        fat_count += 1
    fat, starts, next_sector = [FAT_SECTOR] * fat_count, [], fat_count
    for count in chain_sectors:
        starts.append(next_sector)
        fat += [next_sector + i + 1 for i in range(count - 1)] + [END]
        next_sector += count
    fat += [FREE] * (fat_count * SECTOR // 4 - len(fat))
    entries[0].update(start=starts[2], size=len(mini_stream))
    chains[0] = b"".join(_directory_entry(entries, i) for i in range(len(entries)))
    difat = list(range(fat_count)) + [FREE] * (109 - fat_count)
    header = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(16) + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
              + bytes(6) + struct.pack("<IIIIIIIII", 0, fat_count, starts[0], 0, CUTOFF, starts[1],
                                       chain_sectors[1], END, 0) + struct.pack("<109I", *difat))
    body = struct.pack(f"<{len(fat)}I", *fat) + b"".join(c.ljust(n * SECTOR, b"\0")
                                                         for c, n in zip(chains, chain_sectors))
    return header + body


def _directory_entry(entries: list[dict], index: int) -> bytes:
    entry = entries[index]
    siblings = next((e["children"] for e in entries if index in e["children"]), [index])
    after = siblings.index(index) + 1
    name = entry["name"].encode("utf-16-le") + b"\0\0"
    return (name.ljust(64, b"\0") + struct.pack("<HBB", len(name), entry["type"], 1)
            + struct.pack("<III", FREE, siblings[after] if after < len(siblings) else FREE,
                          entry["children"][0] if entry["children"] else FREE)
            + bytes(16 + 4 + 16) + struct.pack("<II", entry.get("start", END),
                                               entry.get("size", len(entry.get("data", b"")))) + bytes(4))


def _unicode(text: str) -> bytes:
    return text.encode("utf-16-le") + b"\0\0"


def _properties(header: bytes, tags: list[tuple[int, bytes]]) -> bytes:
    """A property stream: its header, then one 16-byte entry per property (value inline or a size)."""
    rows = b""
    for tag, value in tags:
        kind = tag & 0xFFFF
        inline = value.ljust(8, b"\0") if kind in (0x0003, 0x000B, 0x0040) else struct.pack("<II", len(value), 0)
        rows += struct.pack("<II", tag, 6) + inline
    return header + rows


def outlook_msg(subject: str, sender: str, attachments: list[tuple[str, bytes]]) -> bytes:
    """An .msg file as classic Outlook saves a received mail ([MS-OXMSG]), with its attachments."""
    headers = f"From: {sender}\r\nSubject: {subject}\r\nDate: Wed, 28 Sep 2022 09:00:00 +0700\r\n\r\n"
    strings = {0x001A001F: "IPM.Note", 0x0037001F: subject, 0x0C1A001F: sender, 0x007D001F: headers,
               0x1000001F: "ส่งแบบรายงานตามไฟล์แนบ"}
    root: dict = {f"__substg1.0_{tag:08X}": _unicode(text) for tag, text in strings.items()}
    root["__nameid_version1.0"] = {"__substg1.0_00020102": b"", "__substg1.0_00030102": b"",
                                   "__substg1.0_00040102": b""}
    for number, (name, data) in enumerate(attachments):
        root[f"__attach_version1.0_#{number:08X}"] = {
            "__properties_version1.0": _properties(bytes(8), [(0x37050003, struct.pack("<I", 1)),
                                                              (0x3707001F, _unicode(name)),
                                                              (0x37010102, data)]),
            "__substg1.0_3707001F": _unicode(name), "__substg1.0_3704001F": _unicode(name[:8]),
            "__substg1.0_37010102": data}
    root["__properties_version1.0"] = _properties(
        bytes(8) + struct.pack("<IIII", 0, len(attachments), 0, len(attachments)) + bytes(8),
        [(tag, _unicode(text)) for tag, text in strings.items()])
    return compound_file(root)


def test_an_outlook_msg_file_is_collected_with_its_sender_and_subject(tmp_path):
    data = outlook_msg("ส่งแบบรายงาน อำเภอพล", "อำเภอพล <phon@example.org>",
                       [("แบบรายงาน อำเภอพล.xlsx", xlsx_bytes("phon")), ("หนังสือ.pdf", b"%PDF-1.4")])
    assert attachment_kind("mail.msg", data).kind == "outlook_msg"
    (tmp_path / "ส่งรายงาน.msg").write_bytes(data)

    report = collect([tmp_path / "ส่งรายงาน.msg"], tmp_path / "input")

    assert [p.name for p in report.saved] == ["แบบรายงาน อำเภอพล.xlsx"]
    assert (tmp_path / "input" / "แบบรายงาน อำเภอพล.xlsx").read_bytes() == xlsx_bytes("phon")
    rows = read_log(tmp_path / "input")
    assert [(r["outcome"], r["attachment"]) for r in rows] == [("saved", "แบบรายงาน อำเภอพล.xlsx"),
                                                               ("ignored", "หนังสือ.pdf")]
    assert rows[0]["subject"] == "ส่งแบบรายงาน อำเภอพล"
    assert "phon@example.org" in rows[0]["sender"]
    assert rows[0]["date"].startswith("2022-09-28T09:00:00")


def test_an_msg_dragged_into_a_mail_and_a_second_copy_are_deduplicated(tmp_path):
    data = outlook_msg("ส่งรายงาน", "phon@example.org", [("รายงาน.xlsx", xlsx_bytes("phon"))])
    (tmp_path / "a.msg").write_bytes(data)
    message = mail([])
    message.add_attachment(data, maintype="application", subtype="vnd.ms-outlook", filename="ส่งรายงาน.msg")
    source = save_eml(tmp_path / "m.eml", message)

    report = collect([tmp_path / "a.msg", source], tmp_path / "input")

    assert [p.name for p in report.saved] == ["รายงาน.xlsx"]
    assert [e.outcome for e in report.entries] == ["saved", "duplicate"]


def test_an_msg_without_attachments_still_gets_its_log_row(tmp_path):
    (tmp_path / "question.msg").write_bytes(outlook_msg("สอบถามกำหนดส่ง", "phon@example.org", []))

    report = collect([tmp_path / "question.msg"], tmp_path / "input")

    assert [(e.outcome, e.code) for e in report.entries] == [("ignored", "mail_no_attachment")]


def test_a_damaged_msg_costs_only_itself(tmp_path):
    data = outlook_msg("ส่งรายงาน", "phon@example.org", [("รายงาน.xlsx", xlsx_bytes("phon"))])
    (tmp_path / "a-broken.msg").write_bytes(data[:1536])
    ok = save_eml(tmp_path / "b.eml", mail([("ok.xlsx", workbook("ok"))]))

    report = collect([tmp_path / "a-broken.msg", ok], tmp_path / "input")

    assert [p.name for p in report.saved] == ["ok.xlsx"]
    assert [e.outcome for e in report.entries] == ["failed", "saved"]
