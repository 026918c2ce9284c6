"""Benchmark of `riskapp validate` on a large asset register, against a plain pandas read.

Writes two seeded registers of N rows (default 1,000,000) to a temporary folder: one valid, one
with about 1 % bad rows (unknown country, negative value, bad currency, repeated id, missing
name). Each measurement runs in a fresh child process (this script with `--child`), which
reports its wall time, its CPU time (user + system, the whole process; on a busy machine wall
time grows with the load, CPU time much less) and its peak resident memory
(`getrusage(RUSAGE_SELF).ru_maxrss`, the whole process: interpreter, libraries and data). The
floor is `pandas.read_csv` of the same file (every column as text), the least any reader of
the file does.

    .venv/bin/python benchmarks/bench_validate.py [--rows N] [--seed S]

Targets: under 1 GB peak and under 30 s for 1,000,000 rows. Exits 0 either way (informational);
exits 1 if validation reports problems on the valid register or none on the broken one.
"""

from __future__ import annotations

import argparse
import csv
import json
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from riskapp.domain.assets import ASSET_COLUMNS

COUNTRIES = ["DEU", "FIN", "NOR", "POL", "EST", "FRA", "ITA", "ESP", "USA", "CHN", "JPN", "BRA"]
TYPES = ["plant", "port", "office", "warehouse", "data_centre"]
HEADER = ASSET_COLUMNS  # the register's columns, in the model's order


def write_register(path: Path, rows: int, seed: int, bad_share: float = 0.0) -> int:
    """A register of `rows` assets (each tenth depends on an earlier one); returns how many rows
    were spoilt."""
    rng = random.Random(seed)
    spoilt = 0
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(HEADER)
        for i in range(rows):
            row = [
                f"A{i:07d}",
                f"Asset {i}",
                rng.choice(TYPES),
                rng.choice(COUNTRIES),
                f"{rng.uniform(-60, 70):.4f}",
                f"{rng.uniform(-170, 170):.4f}",
                f"{rng.randint(1, 10**9)}",
                f"{rng.randint(0, 10**7)}.5",
                rng.choice(["EUR", "USD"]),
                str(rng.randint(1, 5)),
                rng.choice(["", "critical", "arctic;critical"]),
                "Ops",
                f"A{rng.randrange(i):07d}" if i and i % 10 == 0 else "",
            ]
            if bad_share and rng.random() < bad_share:
                spoilt += 1
                kind = rng.randrange(5)
                if kind == 0:
                    row[3] = "XXX"
                elif kind == 1:
                    row[6] = "-5"
                elif kind == 2:
                    row[8] = "euro"
                elif kind == 3 and i:
                    row[0] = "A0000000"
                else:
                    row[1] = ""
            out.writerow(row)
    return spoilt


def child(kind: str, path: Path) -> None:
    """One measurement in this (fresh) process; prints a JSON line."""
    start = time.perf_counter()
    if kind == "validate":
        from riskapp.io.validate import validate_path

        _, problems = validate_path(path)
        found = len(problems)
    else:
        import pandas as pd

        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        found = len(frame)
    seconds = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_SELF)
    peak = usage.ru_maxrss / 1024  # kB on Linux
    cpu = usage.ru_utime + usage.ru_stime  # the whole process, imports included
    print(json.dumps({"seconds": seconds, "cpu": cpu, "peak_mb": peak, "found": found}))


def measure(kind: str, path: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", kind, str(path)],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--child", nargs=2, metavar=("KIND", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]))
        return 0
    print(f"python {platform.python_version()}, {platform.machine()}, rows {args.rows:,}")
    failed = False
    with tempfile.TemporaryDirectory() as folder:
        good, bad = Path(folder, "assets.csv"), Path(folder, "broken", "assets.csv")
        bad.parent.mkdir()
        t = time.perf_counter()
        write_register(good, args.rows, args.seed)
        spoilt = write_register(bad, args.rows, args.seed, bad_share=0.01)
        print(
            f"wrote two registers in {time.perf_counter() - t:.1f} s "
            f"({good.stat().st_size / 1e6:.0f} MB each; {spoilt:,} rows spoilt in the second)"
        )
        print(
            f"{'run':34} {'time s':>8} {'CPU s':>7} {'peak MB':>9} {'x floor time':>13} "
            f"{'x floor MB':>11}"
        )
        for label, path, expect_problems in (
            ("valid register", good, False),
            ("register with 1 % bad rows", bad, True),
        ):
            floor = measure("pandas", path)
            run = measure("validate", path)
            for name, m in ((f"pandas read_csv ({label})", floor), (f"validate ({label})", run)):
                print(
                    f"{name[:34]:34} {m['seconds']:8.1f} {m['cpu']:7.1f} {m['peak_mb']:9.0f} "
                    f"{m['seconds'] / floor['seconds']:13.1f} "
                    f"{m['peak_mb'] / floor['peak_mb']:11.2f}"
                )
            print(f"  problems reported: {int(run['found'])}")
            if bool(run["found"]) != expect_problems:
                failed = True
            ok = run["seconds"] < 30 and run["peak_mb"] < 1024
            print(f"  target (< 30 s, < 1 GB): {'met' if ok else 'NOT met'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
