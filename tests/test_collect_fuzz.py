"""Seeded fuzzing: damaged mails, mbox files and zips never crash ``collect``, and every one of them leaves
log lines that match what was saved (issue 17 finding 2, "Done when")."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from test_collect import mail, read_log, workbook, xlsx_bytes, zip_bytes
from test_collect_outlook import outlook_msg, winmail_dat

from cdd_scorer.collect import collect

SEED = 17
MUTANTS_PER_SAMPLE = 75  # 300 in all, a few seconds


def samples() -> dict[str, bytes]:
    """Valid sources of each kind, each holding several workbooks."""
    archive = zip_bytes({"อำเภอพล.xlsx": xlsx_bytes("phon") * 3, "sub/report": xlsx_bytes("r"),
                         "ภาพ.jpg": b"\xff\xd8" * 50, "inner.zip": zip_bytes({"in.xls": workbook("in") * 20})})
    message = mail([("รายงาน.xlsx", xlsx_bytes("a")), ("replies.zip", archive), ("หนังสือ.pdf", b"%PDF-1.4")])
    message.add_attachment(winmail_dat([("tnef.xlsx", workbook("t"))]), maintype="application", subtype="ms-tnef",
                           filename="winmail.dat")
    forwarded = mail([])
    forwarded.add_attachment(mail([("forwarded.xlsx", xlsx_bytes("f"))]))
    mbox = b"".join(b"From district@example.org Wed Sep 28 09:00:00 2022\n" + m.as_bytes() + b"\n"
                    for m in (mail([("1.xlsx", workbook("1"))]), forwarded, mail([])))
    return {"mail.eml": bytes(message), "Inbox.mbox": mbox, "replies.zip": archive,
            "mail.msg": outlook_msg("ส่งรายงาน", "phon@example.org", [("msg.xlsx", xlsx_bytes("m"))])}


SAMPLES = samples()


def mutated(data: bytes, rng: random.Random) -> bytes:
    """``data`` with a few bytes flipped, a piece cut out or repeated, or the end cut off."""
    out = bytearray(data)
    how = rng.choice(["flip", "flip", "flip", "cut", "repeat", "truncate"])
    if how == "flip":
        for _ in range(rng.randint(1, 6)):
            out[rng.randrange(len(out))] = rng.randrange(256)
    elif how == "truncate":
        del out[rng.randrange(len(out)):]
    else:
        start = rng.randrange(len(out))
        piece = bytes(out[start:start + rng.randint(1, 200)])
        if how == "cut":
            del out[start:start + len(piece)]
        else:
            out[start:start] = piece * rng.randint(1, 20)
    return bytes(out)


@pytest.mark.parametrize("name", list(SAMPLES))
def test_damaged_sources_never_crash_collect_and_every_one_is_logged(tmp_path, name):
    original = SAMPLES[name]
    rng = random.Random(f"{SEED}-{name}")
    into = tmp_path / "input"
    first = collect([_written(tmp_path / "original" / name, original)], into)
    assert first.saved and not [e for e in first.entries if e.outcome == "failed"]

    for number in range(MUTANTS_PER_SAMPLE):
        source = _written(tmp_path / f"mutant-{number:03}" / name, mutated(original, rng))
        before = len(read_log(into))

        report = collect([source], into)  # raises on any error that escapes an item's boundary

        rows = read_log(into)[before:]
        assert len(rows) == len(report.entries) >= 1
        assert all(r["source"].startswith(str(source)) for r in rows)
    saved = {r["saved_file"] for r in read_log(into) if r["outcome"] == "saved"}
    assert saved == {p.name for p in into.iterdir() if p.is_file()}


def _written(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True)
    path.write_bytes(data)
    return path
