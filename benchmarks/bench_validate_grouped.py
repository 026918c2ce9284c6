"""Benchmark of `riskapp validate WORKSPACE` when a large register has many problems between
files: the problems grouped by rule (text and JSON), against a plain pandas read of the register.

Builds, in a temporary folder, a copy of the demo workspace (its scenario library next to it)
whose register has N rows (default 1,000,000) repeated from the demo's, two thirds of them with
an asset type that has no curve (ten types, one a slip of a known one: 'plnt'). Each
measurement runs in a fresh child process and reports its wall time, CPU time (user + system),
peak resident memory and the number of lines printed. The floor is `pandas.read_csv` of the
same register (every column as text).

    .venv/bin/python benchmarks/bench_validate_grouped.py [--rows N]

Informational: exits 0 unless the grouped output is not bounded (more than 100 lines) or the
JSON document does not count every problem.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BAD_TYPES = [
    "substation",
    "windfarm",
    "solar_park",
    "plnt",
    "rail_yard",
    "mine",
    "depot",
    "hospital",
    "school",
    "dam",
]


def build(root: Path, rows: int) -> tuple[Path, int]:
    """The workspace folder and how many rows have a type without curves."""
    import numpy as np
    import pandas as pd

    from riskapp import resources

    ws = root / "ws"
    shutil.copytree(resources.DEMO, ws)
    shutil.copytree(resources.SCENARIOS, root / "scenarios")
    for name in ("dependencies.csv", "routes.yaml"):
        (ws / name).unlink(missing_ok=True)
    demo = pd.read_csv(ws / "assets.csv", dtype=str, keep_default_na=False)
    big = demo.iloc[np.arange(rows) % len(demo)].reset_index(drop=True)
    big["id"] = [f"A{i:07d}" for i in range(rows)]
    big["depends_on"] = ""
    big["subdivision"] = ""
    types = big["type"].to_numpy(dtype=object)
    bad = np.flatnonzero(np.arange(rows) % 3 != 2)
    types[bad] = np.array(BAD_TYPES, dtype=object)[bad % len(BAD_TYPES)]
    big["type"] = types
    big.to_csv(ws / "assets.csv", index=False)
    return ws, len(bad)


def child(kind: str, ws: Path) -> None:
    start = time.perf_counter()
    if kind == "floor":
        import pandas as pd

        frame = pd.read_csv(ws / "assets.csv", dtype=str, keep_default_na=False)
        lines = len(frame)
    else:
        args = [sys.executable, "-m", "riskapp.cli", "validate", str(ws)]
        args += ["--format", "json"] if kind == "json" else []
        done = subprocess.run(args, capture_output=True, text=True, check=False)
        output = done.stdout + done.stderr
        lines = len(output.splitlines())
        if kind == "json":
            doc = json.loads(done.stdout)
            lines = doc["errors"]
    wall = time.perf_counter() - start
    usage = resource.getrusage(
        resource.RUSAGE_CHILDREN if kind != "floor" else resource.RUSAGE_SELF
    )
    print(
        json.dumps(
            {
                "wall": wall,
                "cpu": usage.ru_utime + usage.ru_stime,
                "peak_mb": usage.ru_maxrss / 1024,
                "lines": lines,
            }
        )
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--child", nargs=2, metavar=("KIND", "WS"), help=argparse.SUPPRESS)
    opts = parser.parse_args()
    if opts.child:
        child(opts.child[0], Path(opts.child[1]))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        ws, bad = build(Path(tmp), opts.rows)
        print(f"{opts.rows:,} rows, {bad:,} with a type without curves ({len(BAD_TYPES)} types)")
        results = {}
        for kind in ("floor", "text", "json"):
            done = subprocess.run(
                [sys.executable, __file__, "--child", kind, str(ws)],
                capture_output=True,
                text=True,
                check=True,
                cwd=tmp,
            )
            results[kind] = json.loads(done.stdout.strip().splitlines()[-1])
            r = results[kind]
            ratio = r["wall"] / results["floor"]["wall"]
            what = "problems counted" if kind == "json" else "lines"
            print(
                f"{kind:>5}: {r['wall']:6.2f} s wall ({ratio:4.1f}x floor), CPU {r['cpu']:6.2f} s, "
                f"peak {r['peak_mb']:6.0f} MB, {r['lines']:,} {what}"
            )
    ok = results["text"]["lines"] <= 100 and results["json"]["lines"] >= bad
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
