"""Benchmark of loading and scoring a large workspace, against a plain pandas/numpy floor.

Writes the demo workspace with its register grown to N assets (the demo's 75 rows, then rows
drawn from them with new ids and names; each tenth depends on the one before) to a temporary
folder, scenarios beside it. Every measurement runs in a fresh child process (this script with
`--child`) in its own temporary HOME and RISKAPP_DATA_DIR, alternating riskapp and floor runs,
and reports wall time and peak resident memory (`ru_maxrss`, the whole process):

- `load+score`: `load_workspace` (read, validate every cell and every cross-reference) and the
  engine's `score` (every asset x scenario), timed after the imports;
- floor: `pandas.read_csv` of the same register with typed columns, then a grouped numpy pass
  computing a loss per asset and scenario (a damage ratio per type x country x scenario
  gathered to the assets and multiplied by the exposed value): the least any reader and scorer
  of the same file does, with no validation;
- `riskapp score` (whole process: interpreter, imports, loading, scoring, the 10,000-year
  headline Monte Carlo behind the value-at-risk figures it prints) against a floor process
  computing the same outputs plainly: the floor's read and grouped losses, per-scenario totals,
  the expected annual loss, the ten largest assets and a numpy simulation of 10,000 years with
  each scenario's loss fixed (value at risk and expected shortfall at 95 and 99 %);
- `riskapp score -o loss.parquet` (the same, writing the long asset x scenario loss table)
  against the same floor process writing its long table with `DataFrame.to_parquet`.

Whole processes get Python's bytecode cache in the run's temporary folder (PYTHONPYCACHEPREFIX,
written by an untimed warm-up run of each): riskapp's modules are then read compiled, as an
installed wheel's are and as the libraries' are, even where PYTHONDONTWRITEBYTECODE is set (it
is on this machine: without the cache every run recompiled riskapp, about 0.16 s). Each row
gives wall time, CPU time (user + system, steadier than wall time on a shared machine) and
peak resident memory, and their ratios to the floor.

    .venv/bin/python benchmarks/bench_load.py [--assets 100000 1000000] [--repeat 3]

Targets (issue 15): 1,000,000 assets loaded, validated and scored in under 5 s and 1.5 GB; the
whole `riskapp score` process within 3x of the floor at 100,000 assets. Informational: exits 0.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "riskapp" / "resources" / "demo"
SCENARIOS = ROOT / "riskapp" / "resources" / "scenarios"


def write_workspace(folder: Path, n: int) -> Path:
    import numpy as np
    import pandas as pd

    ws = folder / "ws"
    shutil.copytree(DEMO, ws)
    shutil.copytree(SCENARIOS if SCENARIOS.is_dir() else ROOT / "scenarios", folder / "scenarios")
    demo = pd.read_csv(DEMO / "assets.csv", dtype=str, keep_default_na=False)
    m = max(n - len(demo), 0)
    rng = np.random.default_rng(7)
    grown = demo.iloc[rng.integers(0, len(demo), m)].reset_index(drop=True)
    grown["id"] = [f"A{i:07d}" for i in range(m)]
    grown["name"] = [f"Asset {i}" for i in range(m)]
    grown["depends_on"] = [f"A{i - 1:07d}" if i and i % 10 == 0 else "" for i in range(m)]
    pd.concat([demo, grown]).to_csv(ws / "assets.csv", index=False)
    return ws


def child(kind: str, ws: Path) -> None:
    """One measurement in this fresh process; prints a JSON line."""
    start = time.perf_counter()
    if kind == "riskapp":
        from riskapp.engine.scoring import score
        from riskapp.io.workspace import load_workspace

        start = time.perf_counter()
        workspace = load_workspace(ws)
        result = score(workspace)
        checksum = float(result.asset_loss().sum())
    elif kind == "floor":
        import numpy  # noqa: F401  (the floor's imports, as riskapp's are, before the clock)
        import pandas  # noqa: F401

        start = time.perf_counter()
        checksum = floor_work(ws)
    else:  # the floor process of `riskapp score [-o FILE]`: same outputs, plainly
        checksum = floor_score(ws, kind.removeprefix("floor-score").lstrip(":") or None)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_mb": peak, "checksum": checksum}))


def floor_work(ws: Path) -> float:
    """read_csv + a grouped numpy loss per asset and scenario (no validation)."""
    _, _, loss = floor_losses(ws)
    return float(loss.sum())  # type: ignore[attr-defined]


def floor_losses(ws: Path) -> tuple[object, object, object]:
    """The floor's register and (asset x scenario) losses: read_csv, then a damage ratio per
    type x country x scenario gathered to the assets (no validation)."""
    import numpy
    import pandas

    frame = pandas.read_csv(ws / "assets.csv", keep_default_na=False)
    scenarios = 10
    type_codes, types = pandas.factorize(frame["type"])
    country_codes, countries = pandas.factorize(frame["country"])
    ratio = numpy.random.default_rng(0).random((len(types), len(countries), scenarios)) * 0.1
    exposed = frame["replacement_value"].to_numpy(float) + pandas.to_numeric(
        frame["annual_revenue_at_stake"], errors="coerce"
    ).fillna(0).to_numpy(float)
    loss = exposed[:, None] * ratio[type_codes, country_codes]
    return frame, exposed, loss


def floor_score(ws: Path, out: str | None) -> float:
    """What `riskapp score` prints (and with `out`, writes), computed plainly with pandas and
    numpy: per-scenario losses, the expected annual loss, the ten largest assets, a 10,000-year
    simulation of fixed scenario losses (VaR and ES at 95 and 99 %, 1-in-N-year losses)."""
    import numpy
    import pandas

    frame, exposed, loss = floor_losses(ws)
    n_s = loss.shape[1]
    prob = numpy.linspace(0.01, 0.2, n_s)
    by_scenario = loss.sum(axis=0)
    eal = float(by_scenario @ prob)
    top = pandas.Series(loss @ prob, index=frame["id"]).nlargest(10)
    rng = numpy.random.default_rng(1)
    years = (rng.random((10_000, n_s)) < prob) @ by_scenario
    ordered = numpy.sort(years)
    figures = {f"VaR {q:.0%}": float(numpy.quantile(years, q)) for q in (0.95, 0.99)}
    for q in (0.95, 0.99):
        tail = ordered[int(numpy.ceil(q * len(ordered))) :]
        figures[f"ES {q:.0%}"] = float(tail.mean())
    for rp in (10, 50, 100, 250):
        figures[f"1-in-{rp}"] = float(numpy.quantile(years, 1 - 1 / rp))
    print(pandas.Series(figures).to_string())
    print(pandas.DataFrame({"loss": by_scenario, "prob": prob}).to_string())
    print(top.to_string())
    if out:
        long = pandas.DataFrame(
            {
                "scenario_id": numpy.repeat([f"S{i}" for i in range(n_s)], len(frame)),
                "asset_id": numpy.tile(frame["id"].to_numpy(object), n_s),
                "asset_name": numpy.tile(frame["name"].to_numpy(object), n_s),
                "asset_type": numpy.tile(frame["type"].to_numpy(object), n_s),
                "country": numpy.tile(frame["country"].to_numpy(object), n_s),
                "exposed_value": numpy.tile(exposed, n_s),
                "loss": loss.T.ravel(),
            }
        )
        long.to_parquet(out, index=False)
    return eal


def fresh_env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(HOME=str(home), RISKAPP_DATA_DIR=str(home / "data"), RISKAPP_SEED_DEMO="false")
    env["PYTHONPYCACHEPREFIX"] = str(home.parent.parent / "pycache")
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def measure_child(kind: str, ws: Path, home: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", kind, str(ws)],
        check=True,
        capture_output=True,
        text=True,
        env=fresh_env(home),
    )
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def measure_process(argv: list[str], home: Path) -> dict[str, float]:
    """Wall time and peak memory of one whole process (its own rusage, from wait4)."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=fresh_env(home)
    )
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode})")
    cpu = usage.ru_utime + usage.ru_stime
    return {"seconds": seconds, "cpu": cpu, "peak_mb": usage.ru_maxrss / 1024}


def row(label: str, runs: list[dict[str, float]], floor: list[dict[str, float]]) -> str:
    t = statistics.median(r["seconds"] for r in runs)
    mb = max(r["peak_mb"] for r in runs)
    ft = statistics.median(r["seconds"] for r in floor)
    fmb = max(r["peak_mb"] for r in floor)
    if "cpu" in runs[0]:
        c = statistics.median(r["cpu"] for r in runs)
        fc = statistics.median(r["cpu"] for r in floor)
        cpu = f"{c:7.2f} {c / fc:6.1f}x"
    else:
        cpu = f"{'':7} {'':7}"
    return f"{label:46} {t:7.2f} {t / ft:6.1f}x {cpu} {mb:8.0f} {mb / fmb:6.1f}x"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assets", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", nargs=2, metavar=("KIND", "WS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]))
        return 0
    print(f"python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} cores")
    head = f"{'case':46} {'wall s':>7} {'x':>7} {'CPU s':>7} {'x':>7} {'peak MB':>8} {'x':>7}"
    print(head)
    riskapp_cli = str(Path(sys.executable).with_name("riskapp"))
    me = [sys.executable, __file__, "--child"]
    for n in args.assets:
        with tempfile.TemporaryDirectory() as folder:
            ws = write_workspace(Path(folder), n)
            homes = Path(folder, "homes")
            table = str(Path(folder, "loss.parquet"))
            cases: dict[str, list[str]] = {
                "floor score": [*me, "floor-score", str(ws)],
                "riskapp score": [riskapp_cli, "score", str(ws)],
                "floor score -o": [*me, f"floor-score:{table}", str(ws)],
                "riskapp score -o": [riskapp_cli, "score", str(ws), "-o", table],
            }
            runs, floors = [], []
            whole: dict[str, list[dict[str, float]]] = {k: [] for k in cases}
            for i in range(args.repeat + 1):  # run 0 is the untimed warm-up (bytecode cache)
                home = homes / str(i)
                home.mkdir(parents=True)
                floors.append(measure_child("floor", ws, home))
                runs.append(measure_child("riskapp", ws, home))
                for name, argv in cases.items():
                    whole[name].append(measure_process(argv, home))
            runs, floors = runs[1:], floors[1:]
            whole = {k: v[1:] for k, v in whole.items()}
            print(row(f"floor: read_csv + grouped numpy, {n:,}", floors, floors))
            print(row(f"load+score (after imports), {n:,}", runs, floors))
            for kind in ("score", "score -o"):
                print(
                    row(
                        f"floor {kind} process, {n:,}",
                        whole[f"floor {kind}"],
                        whole[f"floor {kind}"],
                    )
                )
                print(
                    row(
                        f"riskapp {kind} process, {n:,}",
                        whole[f"riskapp {kind}"],
                        whole[f"floor {kind}"],
                    )
                )
            best = statistics.median(r["seconds"] for r in runs)
            peak = max(r["peak_mb"] for r in runs)
            if n >= 1_000_000:
                ok = best < 5 and peak < 1536
                print(f"  target at 1M (< 5 s, < 1.5 GB): {'met' if ok else 'NOT met'}")
            if n == 100_000:
                ratio = statistics.median(r["seconds"] for r in whole["riskapp score"]) / (
                    statistics.median(r["seconds"] for r in whole["floor score"])
                )
                print(
                    f"  target at 100k (whole `riskapp score` < 3x its floor): {ratio:.1f}x, "
                    + ("met" if ratio < 3 else "NOT met")
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
