"""National-scale benchmark of cdd-scorer (SPEC §9): run by hand, not by CI.

Prepares (once, cached in ``benchmarks/.work/``) entry templates for all 76 provinces and a filled
copy for each of the 878 districts with seeded synthetic answers, then measures in child processes:
``cdd-scorer score`` (what the clerk runs, imports included) and ``generate`` at N = 100, 400 and 878
districts, a naive openpyxl baseline over the same files, and one province of 32 districts. Writes
``benchmarks/results.md`` and prints it. ``--profile`` instead writes pyinstrument reports of score
and generate at the largest N.

    python3 benchmarks/bench.py                    # full run (about 10 minutes on 2 cores)
    python3 benchmarks/bench.py --sizes 100 --repeat 1 --slow-repeat 1   # a quick look
    python3 benchmarks/bench.py --profile --score-args "--jobs 1"   # profiles only, no table
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import hashlib
import json
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
DEFAULT_WORK = BENCH_DIR / ".work"
DEFAULT_RESULTS = BENCH_DIR / "results.md"
PROVINCE_32 = "30"  # นครราชสีมา (Nakhon Ratchasima), the largest province: 32 districts
SEED = 2565
FILE_MODULES = ("__init__", "template", "metadata", "excel_formulas", "kpi", "expressions", "demo", "filling")
SAMPLE_SECONDS = 0.1  # how often the process tree's memory is sampled
# Runs the CLI exactly as the ``cdd-scorer`` console script does, without a launcher shim in front.
CLI_BOOT = "import sys; from cdd_scorer.cli import main; sys.argv[0] = 'cdd-scorer'; sys.exit(main())"

TARGET_SCORE_S = 5.0
TARGET_SPEEDUP = 8.0
TARGET_GENERATE_S = 30.0
TARGET_MEMORY_MB = 500.0
TARGET_PROVINCE_S = 1.0


# ---------------------------------------------------------------- measuring one child process

@dataclass
class Run:
    seconds: float
    cpu_seconds: float | None
    peak_mb: float | None
    load: float | None  # 1-minute load average when the run started: how shared the CPU was


class TreeMemorySampler(threading.Thread):
    """Samples the summed RSS of a process and all its descendants (Linux /proc, else psutil)."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid = pid
        self.peak_bytes = 0
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(SAMPLE_SECONDS):
            self.peak_bytes = max(self.peak_bytes, tree_rss_bytes(self.pid))


def tree_rss_bytes(root: int) -> int:
    if Path("/proc/self/stat").exists():
        parents: dict[int, int] = {}
        rss: dict[int, int] = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    stat = Path(f"/proc/{entry}/stat").read_text()
                except OSError:
                    continue
                fields = stat.rsplit(")", 1)[1].split()
                parents[int(entry)] = int(fields[1])
                rss[int(entry)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
        tree, frontier = {root}, [root]
        while frontier:
            parent = frontier.pop()
            children = [pid for pid, ppid in parents.items() if ppid == parent]
            tree.update(children)
            frontier += children
        return sum(rss.get(pid, 0) for pid in tree)
    try:
        import psutil
    except ImportError:
        return 0
    try:
        root_process = psutil.Process(root)
        return sum(p.memory_info().rss for p in [root_process, *root_process.children(recursive=True)])
    except psutil.Error:
        return 0


def run_child(argv: list[str], cwd: Path) -> Run:
    """Run one child process to the end: wall time, CPU time and peak memory (RSS)."""
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
        sampler = TreeMemorySampler(proc.pid)
        sampler.start()
        cpu = process_peak = None
        if hasattr(os, "wait4"):
            _, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)
            cpu = usage.ru_utime + usage.ru_stime
            # ru_maxrss of one child (and the children it waited for): kilobytes on Linux, bytes on macOS
            process_peak = usage.ru_maxrss * (1 if sys.platform == "darwin" else 1024)
        else:
            proc.wait()
        seconds = time.perf_counter() - start
        sampler.stopped.set()
        sampler.join()
        if proc.returncode != 0:
            out.seek(0)
            raise SystemExit(f"child failed (exit {proc.returncode}): {shlex.join(argv)}\n"
                             + out.read().decode("utf-8", "replace")[-4000:])
    peak = max(sampler.peak_bytes, process_peak or 0)
    return Run(seconds, cpu, peak / 2**20 if peak else None, load)


@dataclass
class Measure:
    label: str
    districts: int
    runs: list[Run] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(r.seconds for r in self.runs)

    @property
    def cpu_median(self) -> float | None:
        cpus = [r.cpu_seconds for r in self.runs if r.cpu_seconds is not None]
        return statistics.median(cpus) if cpus else None

    @property
    def peak_mb(self) -> float | None:
        peaks = [r.peak_mb for r in self.runs if r.peak_mb is not None]
        return max(peaks) if peaks else None


def measure(label: str, districts: int, argv: list[str], repeat: int, cwd: Path) -> Measure:
    result = Measure(label, districts)
    for i in range(repeat):
        run = run_child(argv, cwd)
        result.runs.append(run)
        print(f"  {label} N={districts} run {i + 1}/{repeat}: {run.seconds:.2f} s", flush=True)
    return result


# ---------------------------------------------------------------- preparing the files (cached)

def all_areas() -> list:
    """Every CD district of the country, province by province, in DOPA code order."""
    from cdd_scorer.geography import cd_provinces, districts_of

    return [area for province in cd_provinces() for area in districts_of(province)]


def files_fingerprint() -> str:
    """A hash of the code that decides what the prepared files hold (not of the reader or writers):
    the files are rebuilt when the template, the card or the synthetic answers change."""
    import cdd_scorer

    package = Path(cdd_scorer.__file__).parent
    digest = hashlib.sha256()
    for path in sorted(package.glob("kpi_sets/*")) + [package / f"{name}.py" for name in FILE_MODULES]:
        digest.update(path.relative_to(package).as_posix().encode())
        digest.update(path.read_bytes() if path.is_file() else b"")
    return digest.hexdigest()[:16]


def _fill_files(jobs: list[tuple[str, str, str]]) -> int:
    from cdd_scorer.demo import synthetic_answers
    from cdd_scorer.filling import fill_template
    from cdd_scorer.geography import area_of
    from cdd_scorer.kpi import load_kpi_set

    kpi_set = load_kpi_set(None)
    for district_code, template, out in jobs:
        fill_template(Path(template), synthetic_answers(kpi_set, area_of(district_code), SEED), Path(out))
    return len(jobs)


def prepare(work: Path, sizes: list[int], processes: int, fresh: bool) -> dict[str, Path]:
    """Templates and filled copies for all districts, and one folder of hard links per set."""
    from cdd_scorer.kpi import load_kpi_set
    from cdd_scorer.template import template_file_name, write_templates

    work.mkdir(parents=True, exist_ok=True)
    (work / ".gitignore").write_text("*\n")
    areas = all_areas()
    stamp = {"code": files_fingerprint(), "seed": SEED, "districts": len(areas)}
    stamp_file = work / "stamp.json"
    templates, filled = work / "templates", work / "filled"
    if fresh or not (stamp_file.exists() and json.loads(stamp_file.read_text()) == stamp):
        print(f"preparing {len(areas)} templates and filled workbooks in {work} ...", flush=True)
        stamp_file.unlink(missing_ok=True)
        for folder in (templates, filled, work / "sets"):
            shutil.rmtree(folder, ignore_errors=True)
        started = time.perf_counter()
        write_templates(load_kpi_set(None), areas, templates)
        jobs = [(a.district_code, str(templates / template_file_name(a)), str(filled / template_file_name(a)))
                for a in areas]
        with ProcessPoolExecutor(processes) as pool:
            list(pool.map(_fill_files, [jobs[i::processes * 4] for i in range(processes * 4)]))
        print(f"  prepared in {time.perf_counter() - started:.0f} s", flush=True)
        stamp_file.write_text(json.dumps(stamp))
    sets = {str(n): areas[:n] for n in sizes}
    sets[f"province{PROVINCE_32}"] = [a for a in areas if a.province_code == PROVINCE_32]
    folders = {}
    for name, chosen in sets.items():
        folder = work / "sets" / name
        if not folder.is_dir() or len(list(folder.iterdir())) != len(chosen):
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            for area in chosen:
                link(filled / template_file_name(area), folder / template_file_name(area))
        folders[name] = folder
    return folders


def link(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def check_scores(scores_csv: Path, expected_complete: int) -> None:
    """The filled files must be real workbooks the reader accepts: every district scored complete."""
    with scores_csv.open(encoding="utf-8-sig", newline="") as f:
        statuses = [row["status"] for row in csv.DictReader(f)]
    complete = statuses.count("complete")
    if complete != expected_complete:
        raise SystemExit(f"{scores_csv}: {complete} districts complete, expected {expected_complete} "
                         f"({len(statuses)} rows): the benchmark files are not read as intended; see "
                         f"{scores_csv.parent / 'issues.csv'}")


# ---------------------------------------------------------------- child modes

def child_generate(n: int, out: Path) -> None:
    """``generate`` for the first n districts of the country, in one process (imports included)."""
    from cdd_scorer.kpi import load_kpi_set
    from cdd_scorer.template import write_templates

    write_templates(load_kpi_set(None), all_areas()[:n], out)


def child_naive(folder: Path) -> None:
    """What a straightforward script does: openpyxl, every defined name, one file after another."""
    import openpyxl

    rows = []
    for path in sorted(folder.glob("*.xlsx")):
        wb = openpyxl.load_workbook(path, data_only=True)
        values = {}
        for name, defined in wb.defined_names.items():
            for sheet, cell in defined.destinations:
                values[name] = wb[sheet][cell].value
        rows.append(values)
        wb.close()
    print(len(rows))


def child_profile(what: str, target: Path, out: Path, score_args: list[str]) -> None:
    """pyinstrument over one ``score`` (CLI, imports included) or ``generate`` run."""
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.001)
    profiler.start()
    if what == "score":
        from cdd_scorer.cli import main

        main(["score", str(target), "--out", str(out), "--quiet", *score_args], standalone_mode=False)
    else:  # one template after another in this process, so the profile sees the work of each
        from cdd_scorer.kpi import load_kpi_set
        from cdd_scorer.template import template_file_name, write_template

        kpi_set = load_kpi_set(None)
        out.mkdir(parents=True, exist_ok=True)
        for area in all_areas()[:len(list(target.iterdir()))]:
            write_template(kpi_set, area, out / template_file_name(area))
    profiler.stop()
    report = out.parent / f"profile_{what}"
    report.with_suffix(".txt").write_text(profiler.output_text(unicode=True), encoding="utf-8")
    flat = profiler.output_text(unicode=True, flat=True, show_all=True).splitlines()
    report.with_name(f"{report.name}_flat.txt").write_text("\n".join(flat[:60]) + "\n", encoding="utf-8")
    profiler.write_html(str(report.with_suffix(".html")))


# ---------------------------------------------------------------- the report

def machine() -> str:
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines()
                    if line.startswith("model name")), cpu)
    return (f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}")


def revision() -> str:
    from cdd_scorer import __version__

    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=BENCH_DIR, text=True,
                                capture_output=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "cdd_scorer"], cwd=BENCH_DIR,
                               text=True, capture_output=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return f"cdd-scorer {__version__}"
    return f"cdd-scorer {__version__}, commit {commit}" + (" with uncommitted changes" if dirty else "")


def load_note(runs: list[Run]) -> str:
    loads = [r.load for r in runs if r.load is not None]
    if not loads:
        return ""
    busy = max(loads) > 0.25 * (os.cpu_count() or 1)
    return (f"1-minute load average before the runs: {min(loads):.2f}–{max(loads):.2f}"
            + (" — other work shared the CPU, so wall times are pessimistic; CPU seconds are steadier."
               if busy else " (a quiet machine)."))


def cell(value: float | None, fmt: str) -> str:
    return "–" if value is None else format(value, fmt)


def verdict(ok: bool) -> str:
    return "yes" if ok else "**no**"


def report(measures: dict[tuple[str, int], Measure], sizes: list[int], command: str, started: str,
           code: str, score_args: list[str]) -> str:
    largest = max(sizes)
    header = ("| measure | districts | median s | min–max s | runs | CPU s (median) | peak memory MB "
              "| target | met |\n|---|---:|---:|---:|---:|---:|---:|---|---|")
    lines = []

    def row(m: Measure, target: str = "", ok: bool | None = None) -> None:
        spread = f"{min(r.seconds for r in m.runs):.2f}–{max(r.seconds for r in m.runs):.2f}"
        lines.append(f"| {m.label} | {m.districts} | {m.median:.2f} | {spread} | {len(m.runs)} "
                     f"| {cell(m.cpu_median, '.2f')} | {cell(m.peak_mb, '.0f')} | {target} "
                     f"| {'' if ok is None else verdict(ok)} |")

    for n in sizes:
        score, naive = measures[("score", n)], measures[("naive", n)]
        at_target = n == largest == 878
        peak_ok = score.peak_mb is not None and score.peak_mb < TARGET_MEMORY_MB
        row(score, f"≤ {TARGET_SCORE_S:g} s, < {TARGET_MEMORY_MB:g} MB" if at_target else "",
            score.median <= TARGET_SCORE_S and peak_ok if at_target else None)
        row(naive)
        speedup = naive.median / score.median
        lines.append(f"| speed-up over naive | {n} | **{speedup:.1f}×** | | | "
                     f"{cell(naive.cpu_median / score.cpu_median if score.cpu_median else None, '.1f')}× "
                     f"| | {f'≥ {TARGET_SPEEDUP:g}×' if at_target else ''} "
                     f"| {verdict(speedup >= TARGET_SPEEDUP) if at_target else ''} |")
    for n in sizes:
        gen = measures[("generate", n)]
        at_target = n == largest == 878
        row(gen, f"≤ {TARGET_GENERATE_S:g} s" if at_target else "",
            gen.median <= TARGET_GENERATE_S if at_target else None)
    province = measures[("province", 32)]
    row(province, f"< {TARGET_PROVINCE_S:g} s", province.median < TARGET_PROVINCE_S)
    args = f" `{shlex.join(score_args)}`" if score_args else ""
    load = load_note([run for m in measures.values() for run in m.runs])
    return "\n".join([
        "# cdd-scorer benchmark", "",
        f"Measured {started} on {machine()}; {code}.", load, "",
        header, *lines, "",
        f"- **score**: `cdd-scorer score DIR --out OUT --quiet`{args} in a fresh Python process, so it "
        "counts start-up and imports, reading, checks, scoring, `consolidated.xlsx` and both CSV files.",
        "- **naive**: a fresh Python process that opens each file with openpyxl "
        "`load_workbook(data_only=True)` and reads every defined name, one file after another.",
        "- **generate**: `write_templates` for the first N districts of the country in one fresh process, "
        "with the workers it starts itself (the CLI generates one province per call).",
        "- **peak memory**: the highest RSS of the process and all its children (sampled every "
        f"{SAMPLE_SECONDS:g} s, and the kernel's high-water mark of the main process).",
        "- Files: templates of the current code, each filled with seeded synthetic answers "
        "(`demo.synthetic_answers`); every run checks that `scores.csv` has every district complete.",
        "", f"Reproduce: `{command}`", ""])


# ---------------------------------------------------------------- main

def run_benchmark(args: argparse.Namespace) -> None:
    started = dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    code = revision()
    work: Path = args.work.resolve()
    score_args = shlex.split(args.score_args)
    folders = prepare(work, args.sizes, args.prepare_processes, args.fresh)
    runs = work / "runs"
    shutil.rmtree(runs, ignore_errors=True)
    runs.mkdir()
    if args.profile:
        profile(work, folders[str(max(args.sizes))], runs, score_args)
        return
    me = [sys.executable, str(Path(__file__).resolve())]

    def score_argv(folder: Path, out: Path) -> list[str]:
        return [sys.executable, "-c", CLI_BOOT, "score", str(folder), "--out", str(out), "--quiet", *score_args]

    measures: dict[tuple[str, int], Measure] = {}
    for n in args.sizes:
        folder, out = folders[str(n)], runs / f"score{n}"
        run_child(score_argv(folder, out), work)  # warm-up, and the check that every file is read
        check_scores(out / "scores.csv", n)
        measures[("score", n)] = measure("`score`", n, score_argv(folder, out), args.repeat, work)
        measures[("naive", n)] = measure("naive openpyxl", n, [*me, "_naive", str(folder)],
                                         args.slow_repeat, work)
    for n in args.sizes:
        gen_out = runs / f"generate{n}"
        measures[("generate", n)] = measure("`generate`", n, [*me, "_generate", str(n), str(gen_out)],
                                            args.slow_repeat, work)
        shutil.rmtree(gen_out, ignore_errors=True)
    folder, out = folders[f"province{PROVINCE_32}"], runs / "province"
    run_child(score_argv(folder, out), work)
    check_scores(out / "scores.csv", 32)
    measures[("province", 32)] = measure("`score` one province", 32, score_argv(folder, out), args.repeat, work)

    command = shlex.join(["python3", "benchmarks/bench.py", *sys.argv[1:]])
    text = report(measures, args.sizes, command, started, code, score_args)
    print("\n" + text)
    if args.results:
        args.results.write_text(text, encoding="utf-8")
        print(f"written: {args.results}")


def profile(work: Path, folder: Path, runs: Path, score_args: list[str]) -> None:
    me = [sys.executable, str(Path(__file__).resolve())]
    for what in ("score", "generate"):
        out = runs / f"profile_{what}_out"
        run_child([*me, "_profile", what, str(folder), str(out), *score_args], work)
        print(f"profile of {what}: {runs / f'profile_{what}.txt'} (also _flat.txt and .html)")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1].startswith("_"):
        mode, rest = sys.argv[1], sys.argv[2:]
        if mode == "_generate":
            child_generate(int(rest[0]), Path(rest[1]))
        elif mode == "_naive":
            child_naive(Path(rest[0]))
        elif mode == "_profile":
            child_profile(rest[0], Path(rest[1]), Path(rest[2]), rest[3:])
        return
    parser = argparse.ArgumentParser(
        description="Measure cdd-scorer generate/score at national scale against a naive openpyxl "
                    "baseline; writes a markdown table. Run by hand on a quiet machine.")
    parser.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",")], default=[100, 400, 878],
                        help="numbers of districts to measure, comma-separated (default: 100,400,878)")
    parser.add_argument("--repeat", type=int, default=5, help="runs of each score measurement (default: 5)")
    parser.add_argument("--slow-repeat", type=int, default=3,
                        help="runs of each generate and naive measurement (default: 3)")
    parser.add_argument("--score-args", default="",
                        help='extra arguments for cdd-scorer score, e.g. "--jobs 1"')
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK,
                        help=f"cache of templates and filled workbooks (default: {DEFAULT_WORK})")
    parser.add_argument("--results", type=Path, default=DEFAULT_RESULTS,
                        help=f"markdown table to write (default: {DEFAULT_RESULTS})")
    parser.add_argument("--prepare-processes", type=int, default=os.cpu_count() or 1,
                        help="processes that fill the prepared workbooks (default: all cores)")
    parser.add_argument("--fresh", action="store_true",
                        help="rebuild the templates and filled workbooks even if the cache looks current")
    parser.add_argument("--profile", action="store_true",
                        help="instead of measuring, profile score and generate at the largest size "
                             "with pyinstrument (reports in WORK/runs/)")
    args = parser.parse_args()
    if max(args.sizes) > 878 or min(args.sizes) < 1:
        parser.error("sizes must be between 1 and 878")
    run_benchmark(args)


if __name__ == "__main__":
    main()
