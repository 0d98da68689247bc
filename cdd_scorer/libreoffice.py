"""LibreOffice as the real spreadsheet engine: convert workbooks and recalculate their formulas.

Used by the tests (to prove our formulas against a real engine) and by the scripts that render
README pictures. One private profile per ``LibreOffice`` object, set to recalculate every formula
on load, and many files per ``soffice`` call, because LibreOffice starts slowly.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

FILTERS = {
    "xlsx": "xlsx:Calc MS Excel 2007 XML",
    "xls": "xls:MS Excel 97",
    "ods": "ods:calc8",
    "pdf": "pdf:calc_pdf_Export",
}
_RECALC_ON_LOAD = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry"
 xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">
 <prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">
 <prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""


def find_soffice() -> str | None:
    """The LibreOffice program, or None when it is not installed."""
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if found:
        return found
    for candidate in (r"C:\Program Files\LibreOffice\program\soffice.exe",
                      "/Applications/LibreOffice.app/Contents/MacOS/soffice"):
        if os.path.exists(candidate):
            return candidate
    return None


class LibreOfficeError(RuntimeError):
    pass


class LibreOffice:
    """A headless LibreOffice with its own profile that recalculates every formula on load."""

    def __init__(self, profile_dir: Path | None = None, timeout: float = 600):
        program = find_soffice()
        if program is None:
            raise LibreOfficeError("LibreOffice (soffice) is not installed")
        self.program = program
        self.timeout = timeout
        self.profile = Path(profile_dir or tempfile.mkdtemp(prefix="cdd-lo-profile-"))
        user = self.profile / "user"
        user.mkdir(parents=True, exist_ok=True)
        (user / "registrymodifications.xcu").write_text(_RECALC_ON_LOAD, encoding="utf-8")

    def convert(self, files: Sequence[Path], target: str, out_dir: Path) -> list[Path]:
        """Open each file (recalculating it) and save it as ``target`` (xlsx, xls, ods, pdf) in
        ``out_dir``; one soffice run for all files. Returns the written paths, in order."""
        out_dir.mkdir(parents=True, exist_ok=True)
        if not files:
            return []
        cmd = [self.program, f"-env:UserInstallation={self.profile.resolve().as_uri()}",
               "--headless", "--norestore", "--nolockcheck", "--convert-to", FILTERS[target],
               "--outdir", str(out_dir), *map(str, files)]
        run = subprocess.run(cmd, capture_output=True, text=True, timeout=self.timeout,
                             stdin=subprocess.DEVNULL)
        outputs = [out_dir / f"{Path(f).stem}.{target}" for f in files]
        missing = [str(p) for p in outputs if not p.exists()]
        if missing:
            raise LibreOfficeError(f"LibreOffice did not write {missing}: {run.stderr[-2000:]}")
        return outputs

    def recalculate(self, files: Sequence[Path], out_dir: Path) -> list[Path]:
        """Copies of xlsx files as LibreOffice recalculated and saved them."""
        return self.convert(files, "xlsx", out_dir)
