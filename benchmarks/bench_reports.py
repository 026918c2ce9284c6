"""Time and peak memory to build each report format, for the demo and a large workspace.

    .venv/bin/python benchmarks/bench_reports.py                 # demo and 20,000 assets
    .venv/bin/python benchmarks/bench_reports.py --assets 50000 --formats xlsx html
    .venv/bin/python benchmarks/bench_reports.py --workspaces demo --formats pdf pptx --cli-repeat 5

Each (workspace, format) case runs in a process of its own, so that its peak memory is its
own: the process takes the steps of `riskapp report` (for PDF and PowerPoint the chart
browser starts in the background first), loads and scores the workspace, builds the `Report`
(with the figures the format draws) and renders the file; then a whole `riskapp report`
process writes the same file (the `cli` column: what a user waits for, after one untimed
process has written the bytecode and warmed the caches), once cold (no chart image kept from
before: every chart drawn) and once warm (right after: the chart images the cold run kept under
the data directory, no browser started); `--cli-repeat N` runs N such pairs and prints the
medians, with the fastest and slowest run, the median CPU time of the process and its children
(Chromium included) and the load average around the runs. Per case the script
prints the time of each step, how much build + render raised the process's peak RSS above its
peak after scoring, the process max RSS, the file size, and the length of the document (PDF
pages, PowerPoint slides, rows of the Excel asset sheet, rows of the longest HTML table) to
show that long tables are summarised, and how many chart images the browser drew.
The PDF and the deck draw charts in a headless Chromium (kaleido): its memory is not in the
figures. Formats whose renderer is not importable are listed as unavailable.

Exit status 0; 1 if a case fails.
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "demo"
sys.path.insert(0, str(ROOT))


def isolate(folder: Path) -> None:
    """Point HOME, the caches and riskapp's data directory into `folder` for this process and
    the cases it spawns (Chromium writes its profile and caches under HOME). Python's bytecode
    goes there too (PYTHONPYCACHEPREFIX, written even if PYTHONDONTWRITEBYTECODE was set): an
    installed riskapp runs from bytecode, and a checkout whose modules are compiled on every
    start (0.2-0.3 s of the report process here) would measure the compiler."""
    import os

    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    for key, sub in (
        ("PYTHONPYCACHEPREFIX", "pycache"),
        ("HOME", "home"),
        ("XDG_CACHE_HOME", "home/.cache"),
        ("XDG_CONFIG_HOME", "home/.config"),
        ("RISKAPP_DATA_DIR", "data"),
    ):
        (folder / sub).mkdir(parents=True, exist_ok=True)
        os.environ[key] = str(folder / sub)


def _max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _length(fmt: str, path: Path) -> str:
    if fmt == "pdf":
        try:  # poppler's pdfinfo; weasyprint compresses its page objects
            info = subprocess.run(
                ["pdfinfo", str(path)], check=False, capture_output=True, text=True
            )
            pages = re.search(r"^Pages:\s+(\d+)", info.stdout, re.MULTILINE)
            return f"{pages.group(1)} pages" if pages else ""
        except OSError:
            return ""
    if fmt == "pptx":
        from pptx import Presentation

        return f"{len(Presentation(str(path)).slides)} slides"
    if fmt == "xlsx":
        import openpyxl

        book = openpyxl.load_workbook(path, read_only=True)
        return f"{book['Assets'].max_row - 1:,} asset rows, {len(book.sheetnames)} sheets"
    if fmt == "html":
        text = path.read_text(encoding="utf-8")
        rows = [t.count("<tr") for t in text.split("<table")[1:]]
        return f"longest table {max(rows, default=0):,} rows"
    return ""


def floor(report: Any, fmt: str) -> float:
    """The plain-library floor for the same content, in this process: xlsx, every table with
    `DataFrame.to_excel` (xlsxwriter); html, every table's `to_html` and every figure's plotly
    div (plotly.js once), tables cut to the report's row limit; pdf, the same figures drawn as
    SVG by kaleido in one browser session and the tables' first 25 rows (the PDF's cut) as
    plain HTML laid out by WeasyPrint; pptx, the deck's pictures drawn as PNG by
    kaleido in one session. Returns seconds."""
    import pandas as pd

    tables = [t for t in report.tables if len(t.frame.columns)]
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder)
        if fmt == "xlsx":
            with pd.ExcelWriter(out / "floor.xlsx", engine="xlsxwriter") as writer:
                for i, t in enumerate(tables):
                    t.frame.to_excel(writer, sheet_name=f"t{i}", index=False)
        elif fmt == "html":
            rows = report.options.max_table_rows  # the report summarises long tables too
            parts = [t.frame.head(rows).to_html() for t in tables]
            parts += [
                f.figure.to_html(full_html=False, include_plotlyjs=i == 0)
                for i, f in enumerate(report.figures.values())
            ]
            (out / "floor.html").write_text("".join(parts), encoding="utf-8")
        elif fmt in ("pdf", "pptx"):
            import kaleido

            from riskapp.reporting.deck import IMAGE_FIGURES

            names = list(report.figures) if fmt == "pdf" else list(IMAGE_FIGURES)
            kind = "svg" if fmt == "pdf" else "png"
            jobs = [
                {
                    "fig": report.figures[n].figure,
                    "path": str(out / f"{n}.{kind}"),
                    "opts": {"format": kind, "width": 1000, "height": report.figures[n].height},
                }
                for n in names
                if n in report.figures
            ]
            kaleido.write_fig_from_object_sync(jobs)
            if fmt == "pdf":
                from weasyprint import HTML

                HTML(string="".join(t.frame.head(25).to_html() for t in tables)).write_pdf(
                    out / "floor.pdf"
                )
    return time.perf_counter() - t0


def run_case(workspace: str, fmt: str) -> dict[str, Any]:
    """One case in this process, step by step as `riskapp report` takes them: start the chart
    browser in the background (formats that draw images), assess, build, render; timings and
    memory. The floor runs after, in its own browser session."""
    from riskapp.assessment.core import assess
    from riskapp.reporting import images, registry
    from riskapp.reporting.model import ReportOptions, build_report

    t0 = time.perf_counter()
    registry.prepare(fmt)
    a = assess(workspace)
    t1 = time.perf_counter()
    rss_before = _max_rss_mb()
    report = build_report(a, registry.options_for(fmt, ReportOptions()))
    t2 = time.perf_counter()
    cpu2 = time.process_time()
    with tempfile.TemporaryDirectory() as folder:
        out = registry.render(report, fmt, Path(folder) / f"report{registry.FORMATS[fmt].suffix}")
        t3 = time.perf_counter()
        cpu3 = time.process_time()
        size = out.stat().st_size
        length = _length(fmt, out)
    exports = images.shared_session().exports
    images.shared_session().close()  # the floor's browser runs alone
    floor_s = floor(report, fmt)
    return {
        "exports": exports,
        "floor_s": floor_s,
        "assets": len(a.ws.portfolio),
        "assess_s": t1 - t0,
        "build_s": t2 - t1,
        "render_s": t3 - t2,
        "render_cpu_s": cpu3 - cpu2,
        "peak_mb": _max_rss_mb() - rss_before,
        "max_rss_mb": _max_rss_mb(),
        "size_mb": size / 1e6,
        "length": length,
    }


def clear_chart_cache() -> None:
    """Delete the chart images riskapp keeps under its data directory (the next report draws
    every chart: a cold run)."""
    import os
    import shutil

    shutil.rmtree(Path(os.environ["RISKAPP_DATA_DIR"]) / "cache" / "charts", ignore_errors=True)


def cli_seconds(
    workspace: Path, fmt: str, folder: Path, *, cold: bool = True
) -> tuple[float, float]:
    """Wall time of a whole `riskapp report WORKSPACE --out report.FMT` process: what a user
    waits for (interpreter start, imports, browser start and close included), and the CPU time
    of the process and the children it waited for (Chromium's reaped processes). `cold`: with
    no chart image kept from before (every chart drawn); else with the images the run before
    kept (`riskapp.reporting.chartcache`)."""
    from riskapp.reporting import registry

    if cold:
        clear_chart_cache()

    out = folder / f"cli{registry.FORMATS[fmt].suffix}"
    cmd = [sys.executable, "-m", "riskapp.cli", "report", str(workspace), "--out", str(out)]
    import os

    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=ROOT, env=env)
    seconds = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0 or not out.is_file():
        raise RuntimeError((done.stderr or done.stdout).strip().splitlines()[-1:])
    out.unlink()
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return seconds, cpu


def cli_runs(workspace: Path, fmt: str, folder: Path, repeat: int) -> dict[str, float]:
    """`repeat` pairs of whole `riskapp report` processes, one cold (no chart image kept) then
    one warm (the images the cold one kept): each's median wall time, fastest and slowest, and
    median CPU time; and the 1-minute load average before the first and after the last run
    (the machine's other work)."""
    import os
    import statistics

    load = [os.getloadavg()[0]]
    runs: dict[str, list[tuple[float, float]]] = {"cli": [], "warm": []}
    for _ in range(max(1, repeat)):
        runs["cli"].append(cli_seconds(workspace, fmt, folder, cold=True))
        runs["warm"].append(cli_seconds(workspace, fmt, folder, cold=False))
    load.append(os.getloadavg()[0])
    out = {"load_before": load[0], "load_after": load[1]}
    for name, measured in runs.items():
        walls = [w for w, _ in measured]
        out |= {
            f"{name}_s": statistics.median(walls),
            f"{name}_min_s": min(walls),
            f"{name}_max_s": max(walls),
            f"{name}_cpu_s": statistics.median(c for _, c in measured),
        }
    return out


def _spawn(workspace: Path, fmt: str) -> dict[str, Any]:
    clear_chart_cache()  # the case's render draws every chart
    cmd = [sys.executable, __file__, "--case", str(workspace), fmt]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=ROOT)
    if done.returncode != 0:
        return {"error": (done.stderr or done.stdout).strip().splitlines()[-1:]}
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> int:
    from riskapp.reporting import registry

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else "")
    parser.add_argument("--assets", type=int, default=20_000, help="synthetic workspace size")
    parser.add_argument("--formats", nargs="*", default=list(registry.FORMATS))
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--workspaces",
        nargs="*",
        choices=("demo", "synthetic"),
        default=["demo", "synthetic"],
        help="which workspaces to measure (default both; 'demo' alone builds no synthetic one)",
    )
    parser.add_argument(
        "--cli-repeat",
        type=int,
        default=1,
        metavar="N",
        help="run the whole `riskapp report` process N times per case (median, min-max)",
    )
    parser.add_argument("--case", nargs=2, metavar=("WORKSPACE", "FORMAT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        print(json.dumps(run_case(*args.case)))
        return 0

    from benchmarks.bench_dashboard import build_workspace

    available = set(registry.available())
    failed = False
    with tempfile.TemporaryDirectory(prefix="riskapp-bench-") as tmp:
        isolate(Path(tmp))
        cases = []
        if "demo" in args.workspaces:
            cases.append(("demo", DEMO))
        if "synthetic" in args.workspaces:
            synthetic = build_workspace(Path(tmp) / "synthetic", args.assets, args.seed)
            cases.append((f"{args.assets:,} assets", synthetic))
        header = (
            f"{'workspace':<18}{'format':<7}{'assess':>8}{'build':>8}{'render':>8}"
            f"{'(cpu)':>8}{'cli':>8}{'warm':>8}{'+peak':>9}{'max RSS':>9}{'size':>9}"
            f"{'floor':>8}{'x floor':>9}"
            "  length"
        )
        print(header)
        print("-" * len(header))
        repeated: list[str] = []
        for label, ws in cases:
            for fmt in args.formats:
                if fmt not in available:
                    print(f"{label:<18}{fmt:<7}  unavailable (renderer not importable)")
                    continue
                try:  # untimed: bytecode written, files in the OS cache
                    cli_seconds(ws, fmt, Path(tmp))
                    r = _spawn(ws, fmt)
                    if "error" not in r:
                        r.update(cli_runs(ws, fmt, Path(tmp), args.cli_repeat))
                except RuntimeError as exc:
                    r = {"error": exc.args[0]}
                if "error" in r:
                    failed = True
                    print(f"{label:<18}{fmt:<7}  FAILED: {r['error']}")
                    continue
                drawn = f", {r['exports']} charts drawn" if r["exports"] else ""
                print(
                    f"{label:<18}{fmt:<7}{r['assess_s']:>7.2f}s{r['build_s']:>7.2f}s"
                    f"{r['render_s']:>7.2f}s{r['render_cpu_s']:>7.2f}s{r['cli_s']:>7.2f}s"
                    f"{r['warm_s']:>7.2f}s"
                    f"{r['peak_mb']:>6.0f} MB{r['max_rss_mb']:>6.0f} MB"
                    f"{r['size_mb']:>6.1f} MB{r['floor_s']:>7.2f}s"
                    f"{r['render_s'] / r['floor_s']:>8.1f}x  {r['length']}{drawn}",
                    flush=True,
                )
                repeated.append(
                    f"{label} {fmt}: cold median {r['cli_s']:.2f} s of {args.cli_repeat} "
                    f"(min {r['cli_min_s']:.2f} s, max {r['cli_max_s']:.2f} s), "
                    f"CPU median {r['cli_cpu_s']:.2f} s (with Chromium's processes); "
                    f"warm median {r['warm_s']:.2f} s (min {r['warm_min_s']:.2f} s, "
                    f"max {r['warm_max_s']:.2f} s), CPU median {r['warm_cpu_s']:.2f} s; "
                    f"load average {r['load_before']:.1f} before, {r['load_after']:.1f} after"
                )
        for line in repeated:
            print(line)
    print(
        "\nassess: start the chart browser in the background (pdf, pptx) and load and score; "
        "build: the Report (with the figures the format draws); render: write the file "
        "((cpu): this process's CPU time meanwhile, Chromium's not included; on a busy machine "
        "render waits for the CPU); cli: a whole `riskapp report` process with no chart image "
        "kept from before (cold; the median of --cli-repeat runs); warm: the same process "
        "right after, with the chart images the cold one kept under the data directory.\n"
        "peak: rise of the "
        "peak RSS during build + render; max RSS: "
        "the case's process (Chromium for charts not included).\nfloor: the same content "
        "written with plain library calls in the same process (see `floor`); x floor: render / "
        "floor."
    )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
