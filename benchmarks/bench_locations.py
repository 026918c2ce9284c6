"""Benchmark of reading a register's locations (riskapp.io.locations) at scale.

Writes seeded registers of N rows (default 1,000,000) to a temporary folder and reads each in a
fresh child process with the columnar reader (`riskapp.io.columnar.parse_register`, what a
workspace load and an import use) and the streaming check (`riskapp.io.register_check`, what
`riskapp validate` uses on large files), printing CPU seconds (user + system of the child) and
peak resident memory:

- `codes`: every country an alpha-3 code (the reading costs one pass over distinct values);
- `names`: countries as names in English, German, French and Spanish, alpha-2 and alpha-3
  codes mixed;
- `places`: as `names`, and one row in ten with no country but coordinates in Europe, one in
  a hundred with neither but a `city` (the gazetteer's index is built: about 2 s).

    .venv/bin/python benchmarks/bench_locations.py [--rows N] [--seed S]

Informational: exits 0 unless a register that should read cleanly reports a problem.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

NAMES = [
    "Germany", "Deutschland", "Allemagne", "Alemania", "DE", "DEU",
    "France", "Frankreich", "FR", "Finland", "Suomi", "FIN",
    "Norway", "Norge", "NO", "Poland", "Polska", "POL", "Spain", "España",
]  # fmt: skip
CODES = ["DEU", "FRA", "FIN", "NOR", "POL", "ESP"]
# points well inside a country (1:110m outlines): Germany, France, Poland, Spain
POINTS = [(51.0, 10.0), (47.0, 2.5), (52.0, 19.5), (40.0, -3.7)]
CITIES = [("Hamburg", ""), ("München", ""), ("Lyon", "FRA"), ("Kraków", "")]


def write_register(path: Path, rows: int, seed: int, kind: str) -> None:
    rng = random.Random(seed)
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        header = ["id", "name", "type", "country", "lat", "lon", "replacement_value"]
        out.writerow([*header, "city"] if kind == "places" else header)
        for i in range(rows):
            country = rng.choice(CODES if kind == "codes" else NAMES)
            lat = lon = city = ""
            if kind == "places" and i % 10 == 1:
                country = ""
                point = rng.choice(POINTS)
                lat, lon = (
                    f"{point[0] + rng.uniform(-1, 1):.4f}",
                    f"{point[1] + rng.uniform(-1, 1):.4f}",
                )
            elif kind == "places" and i % 100 == 3:
                city, country = rng.choice(CITIES)
            row = [
                f"A{i:07d}",
                f"Asset {i}",
                "plant",
                country,
                lat,
                lon,
                str(rng.randint(1, 10**6)),
            ]
            out.writerow([*row, city] if kind == "places" else row)


def child(path: str, how: str) -> None:
    from riskapp.io.columnar import parse_register
    from riskapp.io.register_check import register_problems

    start = time.process_time()
    if how == "columnar":
        frame, _ = parse_register(Path(path), "assets.csv")
        problems = 0
        notes = len(frame.attrs.get("location_notes", ()))
    else:
        found: list[str] = []
        problems = len(register_problems(Path(path), "assets.csv", notes=found))
        notes = len(found)
    cpu = time.process_time() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"cpu": cpu, "peak_mb": peak_mb, "problems": problems, "notes": notes}))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--child", nargs=2, metavar=("PATH", "HOW"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return 0
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        for kind in ("codes", "names", "places"):
            path = Path(tmp) / f"{kind}.csv"
            write_register(path, args.rows, args.seed, kind)
            for how in ("columnar", "stream"):
                done = subprocess.run(
                    [sys.executable, __file__, "--child", str(path), how],
                    capture_output=True,
                    text=True,
                    check=False,
                )
                if done.returncode != 0:
                    print(f"{kind:7} {how:9} failed: {done.stderr.strip()[-400:]}")
                    failed = True
                    continue
                got = json.loads(done.stdout.strip().splitlines()[-1])
                failed |= got["problems"] > 0
                print(
                    f"{kind:7} {how:9} {args.rows:>9,} rows  {got['cpu']:6.2f} s CPU  "
                    f"{got['peak_mb']:7,.0f} MB peak  {got['notes']} notes  "
                    f"{got['problems']} problems"
                )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
