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
- `riskapp score` (whole process, imports and the headline Monte Carlo included) against the
  floor as a whole process (interpreter, imports of numpy and pandas, the same work).

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
    else:
        import numpy  # noqa: F401  (the floor's imports, as riskapp's are, before the clock)
        import pandas  # noqa: F401

        start = time.perf_counter()
        checksum = floor_work(ws)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_mb": peak, "checksum": checksum}))


def floor_work(ws: Path) -> float:
    """read_csv + a grouped numpy loss per asset and scenario (no validation)."""
    import numpy
    import pandas

    frame = pandas.read_csv(ws / "assets.csv", keep_default_na=False)
    scenarios = 20
    type_codes, types = pandas.factorize(frame["type"])
    country_codes, countries = pandas.factorize(frame["country"])
    ratio = numpy.random.default_rng(0).random((len(types), len(countries), scenarios)) * 0.1
    exposed = frame["replacement_value"].to_numpy(float) + pandas.to_numeric(
        frame["annual_revenue_at_stake"], errors="coerce"
    ).fillna(0).to_numpy(float)
    loss = exposed[:, None] * ratio[type_codes, country_codes]
    return float(loss.sum())


def fresh_env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(HOME=str(home), RISKAPP_DATA_DIR=str(home / "data"), RISKAPP_SEED_DEMO="false")
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
    return {"seconds": seconds, "peak_mb": usage.ru_maxrss / 1024}


def row(label: str, runs: list[dict[str, float]], floor: list[dict[str, float]]) -> str:
    t = statistics.median(r["seconds"] for r in runs)
    mb = max(r["peak_mb"] for r in runs)
    ft = statistics.median(r["seconds"] for r in floor)
    fmb = max(r["peak_mb"] for r in floor)
    return f"{label:44} {t:8.2f} {mb:9.0f} {t / ft:9.1f}x {mb / fmb:8.1f}x"


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
    print(f"{'case':44} {'time s':>8} {'peak MB':>9} {'x floor':>10} {'x MB':>9}")
    riskapp_cli = str(Path(sys.executable).with_name("riskapp"))
    for n in args.assets:
        with tempfile.TemporaryDirectory() as folder:
            ws = write_workspace(Path(folder), n)
            homes = Path(folder, "homes")
            runs, floors, whole, whole_floor = [], [], [], []
            for i in range(args.repeat):
                home = homes / str(i)
                home.mkdir(parents=True)
                floors.append(measure_child("floor", ws, home))
                runs.append(measure_child("riskapp", ws, home))
                whole_floor.append(
                    measure_process([sys.executable, __file__, "--child", "floor", str(ws)], home)
                )
                out = Path(folder, f"loss{i}.parquet")
                whole.append(measure_process([riskapp_cli, "score", str(ws), "-o", str(out)], home))
            print(row(f"floor: read_csv + grouped numpy, {n:,}", floors, floors))
            print(row(f"load+score (after imports), {n:,}", runs, floors))
            print(row(f"floor process, {n:,}", whole_floor, whole_floor))
            print(row(f"riskapp score process, {n:,}", whole, whole_floor))
            best = statistics.median(r["seconds"] for r in runs)
            peak = max(r["peak_mb"] for r in runs)
            if n >= 1_000_000:
                ok = best < 5 and peak < 1536
                print(f"  target at 1M (< 5 s, < 1.5 GB): {'met' if ok else 'NOT met'}")
            if n == 100_000:
                ratio = statistics.median(r["seconds"] for r in whole) / statistics.median(
                    r["seconds"] for r in whole_floor
                )
                print(
                    "  target at 100k (whole process < 3x floor): "
                    + ("met" if ratio < 3 else "NOT met")
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
