"""Server time of every dashboard page, through Streamlit's AppTest (what the server does for one
script run: the page's Python, Plotly figures, tables serialised to Arrow, the element protos;
no browser).

    .venv/bin/python benchmarks/bench_pages.py [--assets 20000] [--links 0] [--repeat 1]
                                               [--pages overview assets ...] [--profile DIR]

Cases, each in a process of its own with its own data directory and HOME in the run's temporary
folder (nothing is written elsewhere):

- floor:     `floor_app.py`, a one-slider page: its first run and a rerun after the slider moved;
- demo:      the bundled demo workspace;
- synthetic: a workspace of --assets assets (default 20,000) and --links dependency links
             (default 0: the demo's own links only), from `synthetic_dependencies.py`.

A dashboard case: the app is started on the Methodology page (the start: imports, opening and
seeding the store, loading and scoring the workspace for the sidebar; timed as "start"), then
two saved assessments are written to the case's database through the store (untimed, so that
the History page draws its trend and comparison; saving moves the store's revision, so the
Methodology page is run once more, untimed, to score it again), then every page is visited in
turn (the "first visit": the first run of that page in the process, the assessment already
cached, so it is the page's own work: its imports, its tables and charts, what it caches for
itself such as the Overview's headline simulation or the Baseline page's build), then every
page again ("second visit": what opening a page costs once the process is warm). Each visit
is `at.switch_page(page).run()`; wall time and the process's CPU time (every thread; the
script runs in AppTest's script thread while the caller waits) are printed, with the ratio of
the wall time to the floor's rerun. Each script's bytecode is kept for the process, as a
server keeps it (AppTest by itself compiles app.py and the page on every run; --recompile
measures that way), so a first visit includes compiling its page and a second does not.

The Risk distribution page has its own benchmark (`bench_risk_page.py`) and is left out unless
named with --pages. --profile DIR writes a cProfile of every visit (script thread) to DIR.

Targets (issue 15, item 3; informational, exit status 0 unless a page fails): every page under
1.5 s on the demo and under 3 s at 20,000 assets; judged on the first visit.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
APP = ROOT / "riskapp" / "dashboard" / "app.py"
FLOOR_APP = HERE / "floor_app.py"
DEMO = ROOT / "demo"
START_PAGE = "methodology"
PAGES = [
    "overview",
    "scenarios",
    "assets",
    "plans",
    "reports",
    "register",
    "scenario_editor",
    "history",
    "audit",
    "baseline",
    "methodology",
]
OPTIONAL_PAGES = ["risk"]
TARGET_DEMO_S = 1.5
TARGET_LARGE_S = 3.0


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


class _Profiler:
    """cProfile of the script thread: AppTest runs each script run in a thread of its own."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self.current: cProfile.Profile | None = None
        if folder is None:
            return
        folder.mkdir(parents=True, exist_ok=True)
        from streamlit.testing.v1 import local_script_runner as lsr

        original = lsr.LocalScriptRunner._run_script_thread
        profiler = self

        def run_script_thread(runner: Any) -> None:
            if profiler.current is None:
                original(runner)
                return
            profiler.current.enable()
            try:
                original(runner)
            finally:
                profiler.current.disable()

        lsr.LocalScriptRunner._run_script_thread = run_script_thread  # type: ignore[method-assign]

    def start(self) -> None:
        if self.folder is not None:
            self.current = cProfile.Profile()

    def stop(self, name: str) -> None:
        if self.folder is not None and self.current is not None:
            self.current.dump_stats(self.folder / f"{name}.prof")
        self.current = None


def _timed(at: Any, profiler: _Profiler, name: str, what: str) -> dict[str, float]:
    profiler.start()
    wall, cpu = time.perf_counter(), time.process_time()
    at.run()
    out = {"wall_s": time.perf_counter() - wall, "cpu_s": time.process_time() - cpu}
    profiler.stop(name)
    if at.exception:
        raise SystemExit(f"{what}: exception on the page: {at.exception[0].message}")
    if at.error:
        raise SystemExit(f"{what}: st.error on the page: {at.error[0].value}")
    return out


def _assets_shown(at: Any) -> int | None:
    """The asset count in the Methodology page's settings box ("..., 75 assets, ...")."""
    import re

    for md in at.markdown:
        found = re.search(r"([\d,]+) assets", str(md.value))
        if found:
            return int(found.group(1).replace(",", ""))
    return None


def _save_two_assessments(workspace: str) -> None:
    """Two saved assessments of the workspace, written to this case's database through the
    store (another connection, as a second server or the command line would write them), so
    that the History page's first visit draws its trend and comparison from scratch."""
    from datetime import date

    from riskapp.settings import Settings
    from riskapp.store import Actor, Store
    from riskapp.store.assessments import save_current

    store = Store.open(Settings(workspace=Path(workspace)), files=Path(workspace))
    try:
        for label in ("bench before", "bench after"):
            save_current(store, label, date.today(), Actor.system("bench"))
    finally:
        store.close()


def run_case(kind: str, workspace: str | None, pages: list[str], profile: Path | None,
             expect_assets: int, recompile: bool = False) -> dict[str, Any]:  # fmt: skip
    from streamlit.testing.v1 import AppTest

    sys.path.insert(0, str(HERE))
    from bench_dashboard import keep_bytecode

    if not recompile:
        keep_bytecode()  # as a server keeps it: each script compiled on its first run only
    profiler = _Profiler(profile / kind if profile else None)
    if kind == "floor":
        at = AppTest.from_file(str(FLOOR_APP), default_timeout=600)
        first = _timed(at, profiler, "floor-first", "floor")
        at.slider(key="floor").set_value(7)
        rerun = _timed(at, profiler, "floor-rerun", "floor")
        return {"first": first, "rerun": rerun, "max_rss_mb": _maxrss_mb()}

    assert workspace is not None
    os.environ["RISKAPP_WORKSPACE"] = workspace
    at = AppTest.from_file(str(APP), default_timeout=600)
    at.switch_page(f"views/{START_PAGE}.py")
    out: dict[str, Any] = {"start": _timed(at, profiler, "start", f"{kind} start")}
    shown = _assets_shown(at)
    if shown != expect_assets:
        # the page must show this case's workspace, not a store another case filled
        raise SystemExit(f"{kind}: the app shows {shown} assets, not {expect_assets:,}")
    if "history" in pages:
        _save_two_assessments(workspace)
        # a saved assessment is an audit entry, so the store's revision moved and the next run
        # scores the workspace again: done here, untimed, so that the visits below measure the
        # pages' own work
        at.switch_page(f"views/{START_PAGE}.py")
        _timed(at, _Profiler(None), "", f"{kind} start again")
    visits: dict[str, list[dict[str, float]]] = {}
    for round_ in (1, 2):
        for page in pages:
            at.switch_page(f"views/{page}.py")
            visits.setdefault(page, []).append(
                _timed(at, profiler, f"{page}-{round_}", f"{kind} {page} visit {round_}")
            )
    out["visits"] = visits
    out["max_rss_mb"] = _maxrss_mb()
    return out


def _spawn(args: argparse.Namespace, kind: str, workspace: Path | None, tmp: Path,
           expect_assets: int, pages: list[str]) -> dict[str, Any]:  # fmt: skip
    case_dir = Path(tempfile.mkdtemp(prefix=f"case-{kind}-", dir=tmp))
    (case_dir / "home").mkdir()
    result = case_dir / "result.json"
    env = {
        **os.environ,
        "HOME": str(case_dir / "home"),
        "RISKAPP_DATA_DIR": str(case_dir / "data"),
        "STREAMLIT_LOGGER_LEVEL": "error",
    }
    env.pop("RISKAPP_WORKSPACE", None)
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", kind, "--result", str(result)]
    cmd += ["--pages", *pages, "--expect-assets", str(expect_assets)]
    if workspace is not None:
        cmd += ["--workspace", str(workspace)]
    if args.profile:
        cmd += ["--profile", str(args.profile)]
    if args.recompile:
        cmd += ["--recompile"]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-20:])
        raise SystemExit(f"case {kind!r} failed (exit {proc.returncode}):\n{tail}")
    figures: dict[str, Any] = json.loads(result.read_text(encoding="utf-8"))
    return figures


def _median(values: list[float]) -> float:
    import statistics

    return statistics.median(values)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--assets", type=int, default=20_000, help="synthetic workspace size")
    p.add_argument("--links", type=int, default=0, help="synthetic dependency links")
    p.add_argument("--repeat", type=int, default=1, help="processes per case (medians)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--pages", nargs="+", choices=PAGES + OPTIONAL_PAGES, default=PAGES)
    p.add_argument("--profile", type=Path, help="write a cProfile of every visit here")
    p.add_argument("--only", nargs="+", choices=["demo", "synthetic"], help="dashboard cases")
    p.add_argument(
        "--recompile",
        action="store_true",
        help="compile the scripts on every run as AppTest does (a server keeps the bytecode)",
    )
    p.add_argument("--worker", choices=["floor", "demo", "synthetic"], help=argparse.SUPPRESS)
    p.add_argument("--workspace", help=argparse.SUPPRESS)
    p.add_argument("--result", help=argparse.SUPPRESS)
    p.add_argument("--expect-assets", type=int, default=0, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    pages = list(dict.fromkeys(args.pages))
    if args.worker:
        figures = run_case(
            args.worker, args.workspace, pages, args.profile, args.expect_assets, args.recompile
        )
        Path(args.result).write_text(json.dumps(figures), encoding="utf-8")
        return 0

    sys.path.insert(0, str(HERE))
    import streamlit
    from synthetic_dependencies import build_workspace

    import riskapp
    from riskapp.io import load_workspace

    print("riskapp dashboard benchmark: server time of every page (Streamlit AppTest)")
    print(
        f"riskapp from {Path(riskapp.__file__).parent}; python {platform.python_version()}, "
        f"streamlit {streamlit.__version__}, {os.cpu_count()} cores, load average "
        + ", ".join(f"{x:.1f}" for x in os.getloadavg())
    )
    runs: dict[str, list[dict[str, Any]]] = {}
    with tempfile.TemporaryDirectory(prefix="riskapp-bench-pages-") as name:
        tmp = Path(name)
        t = time.perf_counter()
        syn = build_workspace(tmp / "synthetic", args.assets, args.links, args.seed)
        n = len(load_workspace(syn).portfolio.frame)
        print(f"synthetic workspace: {n:,} assets ({time.perf_counter() - t:.1f} s to write)")
        cases: dict[str, tuple[Path | None, int]] = {"floor": (None, 0)}
        for kind in args.only or ["demo", "synthetic"]:
            path = DEMO if kind == "demo" else syn
            cases[kind] = (path, n if kind == "synthetic" else len(load_workspace(DEMO).portfolio))
        for _ in range(max(1, args.repeat)):
            for kind, (path, expect) in cases.items():
                runs.setdefault(kind, []).append(_spawn(args, kind, path, tmp, expect, pages))
    floor = _median([r["rerun"]["wall_s"] for r in runs["floor"]])
    floor_first = _median([r["first"]["wall_s"] for r in runs["floor"]])
    print(
        f"\nfloor (floor_app.py, one slider): first run {floor_first * 1000:.0f} ms, rerun "
        f"{floor * 1000:.1f} ms; max RSS {max(r['max_rss_mb'] for r in runs['floor']):.0f} MB"
    )
    for kind in cases:
        if kind == "floor":
            continue
        rs = runs[kind]
        target = TARGET_DEMO_S if kind == "demo" else TARGET_LARGE_S
        label = "demo" if kind == "demo" else f"synthetic, {n:,} assets, {args.links:,} links"
        print(f"\n{label} (median of {len(rs)} process(es)); target: every page < {target:g} s")
        print(
            f"  {'page':<18}{'first s':>9}{'cpu s':>8}{'x floor':>9}{'second s':>10}{'cpu s':>8}"
            f"{'x floor':>9}"
        )
        start = _median([r["start"]["wall_s"] for r in rs])
        start_cpu = _median([r["start"]["cpu_s"] for r in rs])
        print(f"  {'(start)':<18}{start:>9.2f}{start_cpu:>8.2f}{start / floor:>9.0f}")
        missed = []
        for page in pages:
            first = _median([r["visits"][page][0]["wall_s"] for r in rs])
            first_cpu = _median([r["visits"][page][0]["cpu_s"] for r in rs])
            second = _median([r["visits"][page][1]["wall_s"] for r in rs])
            second_cpu = _median([r["visits"][page][1]["cpu_s"] for r in rs])
            print(
                f"  {page:<18}{first:>9.2f}{first_cpu:>8.2f}{first / floor:>9.0f}"
                f"{second:>10.2f}{second_cpu:>8.2f}{second / floor:>9.0f}"
            )
            if first >= target:
                missed.append(f"{page} {first:.2f} s")
        print(f"  max RSS {max(r['max_rss_mb'] for r in rs):.0f} MB")
        print(f"  target: {'met' if not missed else 'NOT met: ' + ', '.join(missed)}")
    print(
        "\nstart: the app's first run (on the Methodology page): imports, the store opened and "
        "seeded, the workspace\n  loaded and scored for the sidebar. first: the page's first "
        "visit in the process (assessment cached;\n  the page's own imports, tables, charts and "
        "caches). second: the same page visited again. x floor:\n  wall time / the floor's "
        "rerun. cpu: the process's CPU time during the visit (every thread)."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
