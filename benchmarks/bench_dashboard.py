"""Benchmark of the dashboard's what-if rerun against a trivial Streamlit page.

Measures the server-side time of a rerun after a what-if slider moves on the Scenarios page,
with Streamlit's AppTest (the script run plus Streamlit's element handling, no browser), on:

- floor:     benchmarks/floor_app.py, one slider and one line of text: what any rerun costs;
- demo:      the bundled demo workspace;
- synthetic: a generated workspace of --assets assets (default 20,000) drawn from the demo's
             asset types, countries and currencies, with the demo's factors, regions, curves,
             baseline, plans and the real scenarios/ folder.

    .venv/bin/python benchmarks/bench_dashboard.py [--assets N] [--repeat R] [--factor ID]
                                                   [--seed S] [--keep DIR]

Each case runs in its own process (clean caches and a clean max RSS). A case: the first run
(cold: import, load and score the workspace), a switch to the Scenarios page, --warmup
untimed reruns, then --repeat timed reruns, each `at.slider(key="scn_whatif_<factor>")
.set_value(v).run()` with v a different value every time; then a few more reruns under
tracemalloc for the peak memory a rerun allocates. For the dashboard cases it also times:

- the what-if fragment rerun: AppTest reruns the whole page on every widget change, but in a
  browser the what-if section is an `st.fragment`, so only that section reruns. The benchmark
  makes AppTest do the same (by swapping a Streamlit-internal name, see `_as_fragment_rerun`;
  reported as n/a if Streamlit changes it). This is the rerun a user waits for.
- the what-if computation alone (`riskapp.assessment.whatif.what_if`), to show how much of a
  rerun is the engine and how much is Streamlit and Plotly.

AppTest makes a new script cache for every run, so every run parses and compiles app.py and
the page again, which a server does once (its runtime keeps one cache); the benchmark keeps
the bytecode for the process as a server does (`keep_bytecode`, floor included), unless
--recompile.

Targets (from the issue; verdicts are informational, the exit status is 0 either way), each
given for the page rerun and for the fragment rerun:
- the demo's what-if rerun within 5x the floor (ratio of medians; issue 15, item 3);
- the what-if rerun under 1 s at 20,000 assets (judged on the p90, i.e. nearly every rerun).
Exit status 1 only if a case fails (an exception on the page, a missing slider, a what-if
that does not change the figure it should).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "riskapp" / "dashboard" / "app.py"
FLOOR_APP = Path(__file__).resolve().parent / "floor_app.py"
DEMO = ROOT / "demo"
SCENARIOS = ROOT / "scenarios"
SCENARIOS_PAGE = "views/scenarios.py"
WHATIF_METRIC = "Scenario loss, what-if"
TARGET_RATIO = 5.0  # issue 15, item 3: the what-if rerun within 5x of the one-slider floor
TARGET_SECONDS = 1.0
MEMORY_RERUNS = 5


# -- synthetic workspace -----------------------------------------------------------------------
def build_workspace(dest: Path, n_assets: int, seed: int) -> Path:
    """A copy of the demo workspace whose register holds `n_assets` assets: the demo's own
    assets plus synthetic ones, each drawn from a random demo asset (same type, country,
    currency, criticality, tags and owner; location jittered; values scaled)."""
    import numpy as np
    import pandas as pd
    from synthetic_dependencies import copy_demo_inputs

    copy_demo_inputs(dest, f"Synthetic {n_assets:,} assets (benchmark)")

    demo = pd.read_csv(DEMO / "assets.csv", dtype=str, keep_default_na=False)
    extra = n_assets - len(demo)
    if extra < 0:
        raise SystemExit(f"--assets must be at least the demo's {len(demo)} assets")
    rng = np.random.default_rng(seed)
    src = demo.iloc[rng.integers(0, len(demo), size=extra)].reset_index(drop=True)
    syn = src.copy()
    syn["id"] = [f"SYN-{i:06d}" for i in range(extra)]
    syn["name"] = [f"Synthetic {t} {i}" for i, t in enumerate(src["type"])]

    def jitter(col: str, limit: float) -> list[str]:
        out = []
        for text, d in zip(src[col], rng.uniform(-0.5, 0.5, size=extra), strict=True):
            out.append(f"{min(max(float(text) + d, -limit), limit):.4f}" if text else "")
        return out

    def scale(col: str) -> list[str]:
        out = []
        for text, f in zip(src[col], rng.lognormal(0.0, 0.5, size=extra), strict=True):
            out.append(str(round(float(text) * f)) if text else "")
        return out

    syn["lat"] = jitter("lat", 90.0)
    syn["lon"] = jitter("lon", 180.0)
    syn["replacement_value"] = scale("replacement_value")
    syn["annual_revenue_at_stake"] = scale("annual_revenue_at_stake")
    syn["depends_on"] = ""
    pd.concat([demo, syn], ignore_index=True).to_csv(dest / "assets.csv", index=False)
    return dest


# -- one case, in its own process ----------------------------------------------------------------
def _rss_now_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def _max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _values(lo: float, hi: float, step: float, start: float, count: int, seed: int) -> list[Any]:
    """`count` slider values, each different from the one before (and the first from `start`)."""
    import numpy as np

    grid = [lo + k * step for k in range(round((hi - lo) / step) + 1)]
    rng = np.random.default_rng(seed)
    out: list[Any] = []
    prev = start
    while len(out) < count:
        v = grid[int(rng.integers(0, len(grid)))]
        if v != prev:
            out.append(v)
            prev = v
    return out


def _assets_shown(at: Any) -> int | None:
    """The asset count under the Overview's portfolio card ("75 assets")."""
    for caption in at.caption:
        text = str(caption.value).strip()
        if text.endswith(" assets") and text[:-7].replace(",", "").isdigit():
            return int(text[:-7].replace(",", ""))
    return None


def run_case(
    kind: str,
    workspace: str | None,
    factor: str,
    repeat: int,
    warmup: int,
    seed: int,
    expect_assets: int = 0,
    recompile: bool = False,
) -> dict[str, Any]:
    from streamlit.testing.v1 import AppTest

    bytecode_kept = keep_bytecode() if not recompile else False

    def check(at: AppTest) -> None:
        if at.exception:
            raise SystemExit(f"{kind}: exception on the page: {at.exception[0].message}")
        if kind != "floor" and at.error:
            raise SystemExit(f"{kind}: st.error on the page: {at.error[0].value}")

    if workspace:
        os.environ["RISKAPP_WORKSPACE"] = workspace
    t0 = time.perf_counter()
    if kind == "floor":
        at = AppTest.from_file(str(FLOOR_APP), default_timeout=120).run()
        key = "floor"
    else:
        at = AppTest.from_file(str(APP), default_timeout=120).run()
        check(at)
        shown = _assets_shown(at)
        if expect_assets and shown != expect_assets:
            # the page must assess this case's workspace, not a store another case filled
            raise SystemExit(f"{kind}: the Overview shows {shown} assets, not {expect_assets:,}")
        at.switch_page(SCENARIOS_PAGE).run()
        key = f"scn_whatif_{factor}"
    cold = time.perf_counter() - t0
    check(at)
    try:
        slider = at.slider(key=key)
    except KeyError:
        raise SystemExit(
            f"{kind}: no slider with key {key!r}; sliders: {[s.key for s in at.slider]}"
        ) from None
    # int for the floor's slider, float for the dashboard's
    kind_of_value: type[int] | type[float] = int if isinstance(slider.value, int) else float
    values = [
        kind_of_value(v)
        for v in _values(
            float(slider.min),
            float(slider.max),
            float(slider.step),  # type: ignore[arg-type]
            float(slider.value),  # type: ignore[arg-type]
            warmup + repeat + MEMORY_RERUNS,
            seed,
        )
    ]

    def rerun(v: Any) -> float:
        t = time.perf_counter()
        at.slider(key=key).set_value(v).run()
        elapsed = time.perf_counter() - t
        check(at)
        return elapsed

    for v in values[:warmup]:
        rerun(v)
    seen = set()
    times = []
    for v in values[warmup : warmup + repeat]:
        times.append(rerun(v))
        if kind != "floor":
            seen.add(next(m.value for m in at.metric if m.label == WHATIF_METRIC))
    if kind != "floor" and len(seen) < 2:
        raise SystemExit(f"{kind}: the what-if figure did not change: {seen}")

    gc.collect()
    tracemalloc.start()
    for v in values[warmup + repeat :]:
        tracemalloc.reset_peak()
        rerun(v)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()

    out: dict[str, Any] = {
        "kind": kind,
        "cold_s": cold,
        "times_s": times,
        "tracemalloc_peak_mb": peak / 2**20,
        "bytecode_kept": bytecode_kept,
    }
    if kind != "floor":
        out.update(_compute_only(workspace, at, factor, values[:repeat]))
        out.update(_fragment_reruns(at, key, values[warmup : warmup + repeat], rerun))
    out.update({"rss_mb": _rss_now_mb(), "max_rss_mb": _max_rss_mb()})
    return out


def keep_bytecode() -> bool:
    """Keep each script's compiled bytecode for the whole process, as a Streamlit server does
    (its runtime holds one ScriptCache; AppTest makes a new one for every run, so each run
    parses, rewrites for "magic" and compiles app.py and the page again: about 1 ms for the
    dashboard, 0.1 ms for the floor's three lines). Streamlit internals: if the names move,
    runs recompile as before and this returns False."""
    from streamlit.runtime.scriptrunner.script_cache import ScriptCache
    from streamlit.testing.v1 import app_test
    from streamlit.testing.v1 import local_script_runner as lsr

    if not (hasattr(app_test, "ScriptCache") and hasattr(lsr, "ScriptCache")):
        return False
    shared = ScriptCache()
    setattr(app_test, "ScriptCache", lambda: shared)  # noqa: B010
    setattr(lsr, "ScriptCache", lambda: shared)  # noqa: B010
    return True


@contextmanager
def _as_fragment_rerun(fragment_id: str) -> Iterator[None]:
    """Make AppTest's next runs fragment reruns, as the browser asks for when a widget inside
    an `st.fragment` changes. AppTest has no API for this: it builds its RerunData (the
    initial one and the one per run) in streamlit.testing.v1.local_script_runner, so that
    name is swapped for one that adds the fragment to the queue. Streamlit internals: if they
    change, the benchmark reports the fragment rerun as n/a and goes on."""
    from streamlit.testing.v1 import local_script_runner as lsr

    original = lsr.RerunData  # type: ignore[attr-defined]

    def rerun_data(*args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("fragment_id_queue", [fragment_id])
        return original(*args, **kwargs)

    setattr(lsr, "RerunData", rerun_data)  # noqa: B010
    try:
        yield
    finally:
        setattr(lsr, "RerunData", original)  # noqa: B010


def _fragment_reruns(at: Any, key: str, values: list[Any], rerun: Any) -> dict[str, Any]:
    """Times of the what-if reruns as the browser triggers them: the fragment only, each one
    after a rerun of the floor's page in the same process (the floor interleaved: on a shared
    machine the load moves between processes and over time; pairs of runs see the same)."""
    from streamlit.testing.v1 import AppTest

    try:
        fragment_ids = list(at._fragment_storage._fragments)
    except AttributeError as exc:
        return {"fragment_note": f"fragment reruns not measurable here: {exc}"}
    floor = AppTest.from_file(str(FLOOR_APP), default_timeout=120).run()
    floor_values = [1 + k % 9 for k in range(len(values) + 3)]

    def floor_rerun(v: int) -> float:
        t = time.perf_counter()
        floor.slider(key="floor").set_value(v).run()
        return time.perf_counter() - t

    def cpu_of(run: Any, v: Any) -> float:
        """The process's CPU time (every thread) during one rerun: steadier than wall time on
        a busy machine, where a longer run is more often descheduled."""
        c = time.process_time()
        run(v)
        return time.process_time() - c

    for v in floor_values[:3]:
        floor_rerun(v)
    whole_page = len(at.metric)
    for fid in fragment_ids:
        with _as_fragment_rerun(fid):
            rerun(values[-1])  # untimed: finds the fragment that holds the slider
            if key not in [s.key for s in at.slider] or len(at.metric) == 0:
                continue
            if len(at.metric) >= whole_page:
                return {"fragment_note": "fragment rerun ran the whole page; not measured"}
        times, floor_times, seen = [], [], set()
        cpu, floor_cpu = [], []
        for v, fv in zip(values, floor_values[3:], strict=False):
            floor_times.append(floor_rerun(fv))
            with _as_fragment_rerun(fid):
                times.append(rerun(v))
            seen.add(next(m.value for m in at.metric if m.label == WHATIF_METRIC))
        for v, fv in zip(values, floor_values[3:], strict=False):  # the same, CPU time
            floor_cpu.append(cpu_of(floor_rerun, fv))
            with _as_fragment_rerun(fid):
                cpu.append(cpu_of(rerun, v))
        if len(seen) < 2:
            raise SystemExit(f"fragment rerun: the what-if figure did not change: {seen}")
        return {
            "fragment_times_s": times,
            "floor_interleaved_s": floor_times,
            "fragment_cpu_s": cpu,
            "floor_interleaved_cpu_s": floor_cpu,
        }
    return {"fragment_note": f"no st.fragment holds the slider {key!r}; not measured"}


def _compute_only(workspace: str | None, at: Any, factor: str, values: list[Any]) -> dict[str, Any]:
    """Time of the what-if computation alone, outside Streamlit."""
    try:
        from riskapp.assessment.core import assess
        from riskapp.assessment.whatif import what_if
    except ImportError as exc:
        return {"compute_note": f"what_if not importable: {exc}"}
    a = assess(workspace or DEMO)
    sid = at.selectbox(key="scn_pick").value
    what_if(a, sid, {factor: values[0]})
    times = []
    for v in values:
        t = time.perf_counter()
        what_if(a, sid, {factor: v})
        times.append(time.perf_counter() - t)
    return {"compute_times_s": times, "assets": len(a.ws.portfolio.frame), "scenario": sid}


# -- the report -----------------------------------------------------------------------------------
def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f}"


def _spawn(
    args: argparse.Namespace, kind: str, workspace: Path | None, tmp: str, expect_assets: int = 0
) -> dict[str, Any]:
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--worker",
        kind,
        "--factor",
        args.factor,
        "--repeat",
        str(args.repeat),
        "--warmup",
        str(args.warmup),
        "--seed",
        str(args.seed),
    ]
    if workspace is not None:
        cmd += ["--workspace", str(workspace)]
    if expect_assets:
        cmd += ["--expect-assets", str(expect_assets)]
    if args.recompile:
        cmd += ["--recompile"]
    # each case its own data directory and home (inside the run's temporary folder): a store
    # one case fills is never read by another, and nothing is written to the real ~/.riskapp
    case_dir = Path(tmp) / f"case-{kind}"
    (case_dir / "home").mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "STREAMLIT_LOGGER_LEVEL": "error",
        "PYTHONHASHSEED": "0",
        "RISKAPP_DATA_DIR": str(case_dir / "data"),
        "HOME": str(case_dir / "home"),
    }
    env.pop("RISKAPP_WORKSPACE", None)
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        tail = "\n".join((proc.stderr or "").strip().splitlines()[-15:])
        raise SystemExit(f"case {kind!r} failed (exit {proc.returncode}):\n{tail}")
    return dict(json.loads(lines[-1]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--assets", type=int, default=20_000, help="synthetic workspace size")
    parser.add_argument("--repeat", type=int, default=30, help="timed reruns per case")
    parser.add_argument("--warmup", type=int, default=3, help="untimed reruns first")
    parser.add_argument("--factor", default="hybrid_warfare", help="factor whose slider moves")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", type=Path, help="write the synthetic workspace here and keep it")
    parser.add_argument(
        "--recompile",
        action="store_true",
        help="compile the scripts on every run as AppTest does (a server keeps the bytecode)",
    )
    parser.add_argument("--worker", choices=["floor", "demo", "synthetic"], help=argparse.SUPPRESS)
    parser.add_argument("--workspace", help=argparse.SUPPRESS)
    parser.add_argument("--expect-assets", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker:
        result = run_case(
            args.worker,
            args.workspace,
            args.factor,
            args.repeat,
            args.warmup,
            args.seed,
            args.expect_assets,
            args.recompile,
        )
        print(json.dumps(result))
        return 0

    import streamlit

    print("riskapp dashboard benchmark: server-side time of a what-if rerun (Streamlit AppTest)")
    print(
        f"python {platform.python_version()}, streamlit {streamlit.__version__}, "
        f"{os.cpu_count()} cores, {args.repeat} timed reruns per case after {args.warmup} "
        f"warm-up reruns; slider scn_whatif_{args.factor}; "
        + ("scripts compiled on every run (AppTest)" if args.recompile else "bytecode kept")
    )
    with tempfile.TemporaryDirectory(prefix="riskapp-bench-") as tmp:
        ws_dir = args.keep or Path(tmp) / "synthetic"
        t = time.perf_counter()
        build_workspace(ws_dir, args.assets, args.seed)
        from riskapp.io import load_workspace

        n = len(load_workspace(ws_dir).portfolio.frame)  # fails loudly if the files are invalid
        print(f"synthetic workspace: {n:,} assets at {ws_dir} ({time.perf_counter() - t:.1f} s)")
        cases = [
            ("floor", "floor: one-slider page", None),
            ("demo", "demo workspace", DEMO),
            ("synthetic", f"synthetic, {n:,} assets", ws_dir),
        ]
        expected = {"floor": 0, "demo": len(load_workspace(DEMO).portfolio.frame), "synthetic": n}
        results = {kind: _spawn(args, kind, path, tmp, expected[kind]) for kind, _, path in cases}

    floor_median = statistics.median(results["floor"]["times_s"])
    print()
    print(
        f"{'case':<44}{'cold ms':>9}{'median ms':>11}{'p90 ms':>9}{'x floor':>9}"
        f"{'compute ms':>12}{'alloc MB':>10}{'max RSS MB':>12}"
    )

    def row(label: str, times: list[float], r: dict[str, Any] | None = None) -> None:
        med = statistics.median(times)
        cold = _ms(r["cold_s"]) if r else ""
        compute = alloc = rss = ""
        if r:
            if "compute_times_s" in r:
                compute = _ms(statistics.median(r["compute_times_s"]))
            alloc = f"{r['tracemalloc_peak_mb']:.1f}"
            rss = f"{r['max_rss_mb']:.0f}"
        print(
            f"{label:<44}{cold:>9}{_ms(med):>11}{_ms(_p(times, 0.9)):>9}"
            f"{med / floor_median:>9.2f}{compute:>12}{alloc:>10}{rss:>12}"
        )

    notes = []
    for kind, label, _ in cases:
        r = results[kind]
        row(label if kind == "floor" else f"{label}: page", r["times_s"], r)
        if "fragment_times_s" in r:
            row(f"{label}: what-if fragment", r["fragment_times_s"])
            interleaved = statistics.median(r["floor_interleaved_s"])
            ratio = statistics.median(r["fragment_times_s"]) / interleaved
            print(
                f"{'  fragment / floor interleaved in its process':<44}{'':>9}"
                f"{_ms(interleaved):>11}{'':>9}{ratio:>9.2f}"
            )
            r["interleaved_ratio"] = ratio
            cpu = statistics.median(r["fragment_cpu_s"])
            floor_cpu = statistics.median(r["floor_interleaved_cpu_s"])
            print(
                f"{'  the same, CPU time: fragment / floor':<44}{'':>9}"
                f"{_ms(cpu):>11}{_ms(floor_cpu):>9}{cpu / floor_cpu:>9.2f}"
            )
            r["interleaved_cpu_ratio"] = cpu / floor_cpu
        for note in ("compute_note", "fragment_note"):
            if note in r:
                notes.append(f"{label}: {r[note]}")
    for note in notes:
        print(f"  ({note})")
    print(
        "\ncold: first run of the app and switch to the page (imports, loading and scoring the "
        "workspace)\npage: AppTest rerun of the whole Scenarios page after one slider change "
        "(the scripts'\n  bytecode kept for the process as a server keeps it; --recompile: "
        "compiled on every run,\n  as AppTest does by itself)\n"
        "what-if fragment: rerun of the what-if st.fragment only, as the browser triggers it; "
        "the floor\n  interleaved: a floor rerun before each fragment rerun, in the same "
        "process (CPU time: the\n  fragment's CPU ms, the floor's CPU ms and their ratio; every "
        "thread of the process)\n"
        "median, p90: per rerun; x floor: median / the floor's median\n"
        "compute: riskapp.assessment.whatif.what_if alone (median); alloc: tracemalloc peak of "
        f"a page rerun\n  (max of {MEMORY_RERUNS}); max RSS: the case's process, cold run "
        "included"
    )

    print("\ntargets (informational)")
    if "interleaved_ratio" in results["demo"]:
        for what, key in [("", "interleaved_ratio"), (", CPU time", "interleaved_cpu_ratio")]:
            ratio = results["demo"][key]
            print(
                f"  demo what-if fragment rerun within {TARGET_RATIO:g}x the floor interleaved "
                f"in its process{what}: {ratio:6.2f}x   "
                f"{'PASS' if ratio <= TARGET_RATIO else 'MISS'}"
            )
    for what, field in [("page rerun", "times_s"), ("fragment rerun", "fragment_times_s")]:
        if field not in results["demo"] or field not in results["synthetic"]:
            print(f"  {what}: not measured")
            continue
        ratio = statistics.median(results["demo"][field]) / floor_median
        p90 = _p(results["synthetic"][field], 0.9)
        print(
            f"  demo what-if {what} within {TARGET_RATIO:g}x the floor: {ratio:6.2f}x   "
            f"{'PASS' if ratio <= TARGET_RATIO else 'MISS'}"
        )
        print(
            f"  what-if {what} under {TARGET_SECONDS:g} s at {n:,} assets (p90): "
            f"{p90 * 1000:6.0f} ms  {'PASS' if p90 < TARGET_SECONDS else 'MISS'}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
