"""Benchmark of onboarding a deliberately messy client workbook (issue 13, item 9).

For each size, a fresh child process writes the seeded workbook of tests/messy_client.py
(.xlsx: German and French headers, countries in three languages and as alpha-2 codes, rows with
coordinates only or a city only, values in TEUR, USD m and GBP, types the workspace does not
know, one bad row in forty) and takes it to a validated, scored workspace through the command
line, each command in a process of its own as a person runs it (`--in-process`: all in the
child, typer's CliRunner): init, fx import, mapping suggest, the person's manual steps, mapping
apply (`--set-aside`: the rows the checks refuse go to a file for the client), validate, score.
It prints the number of manual steps, the wall time of each stage and in total, and the peak
resident memory of the child and its commands; and, as a floor, a plain `pandas.read_excel` of
the workbook plus `pandas.read_csv` of the register it became, in the child after the path.

    .venv/bin/python benchmarks/bench_onboarding.py                      # 200, 2,000, 20,000
    .venv/bin/python benchmarks/bench_onboarding.py --rows 2000 --seed 3

Informational: exits 0 unless the path gets stuck (a decision the scripted person was not given,
or a workspace that does not validate once the reported rows are set aside).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def child(rows: int, seed: int, processes: bool, set_aside: bool) -> None:
    sys.path.insert(0, str(ROOT))
    from tests.messy_client import cli_process, onboard, write_workbook

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        client = folder / "Anlagenverzeichnis.xlsx"
        start = time.perf_counter()
        expected = write_workbook(client, rows, seed)
        written = time.perf_counter() - start
        done = onboard(
            client,
            folder,
            expected,
            cli=cli_process if processes else None,
            set_aside_rows=set_aside,
        )
        import pandas as pd

        start = time.perf_counter()
        pd.read_excel(client, dtype=str)
        pd.read_csv(done.workspace / "assets.csv", dtype=str)
        floor = time.perf_counter() - start
        good = sum(1 for _ in (done.workspace / "assets.csv").open()) - 1
    peak_mb = (
        max(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
            resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
        )
        / 1024
    )
    print(
        json.dumps(
            {
                "written": written,
                "stages": [[s.name, s.manual, s.seconds] for s in done.stages],
                "floor": floor,
                "peak_mb": peak_mb,
                "good": good,
                "expected_good": len(expected.good),
                "set_aside": len(done.set_aside),
            }
        )
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[200, 2_000, 20_000])
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument(
        "--in-process",
        action="store_true",
        help="run every command in the one child process (typer's CliRunner) instead of a "
        "process each, as a person runs them",
    )
    parser.add_argument(
        "--without-set-aside",
        action="store_true",
        help="the person removes the rows validate names by hand (a round per 200 problems) "
        "instead of `mapping apply --set-aside`",
    )
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        child(args.child, args.seed, not args.in_process, not args.without_set_aside)
        return 0
    failed = False
    for rows in args.rows:
        done = subprocess.run(
            [
                sys.executable,
                __file__,
                "--child",
                str(rows),
                "--seed",
                str(args.seed),
                *(["--in-process"] if args.in_process else []),
                *(["--without-set-aside"] if args.without_set_aside else []),
            ],
            capture_output=True,
            text=True,
            check=False,
            cwd=ROOT,
        )
        if done.returncode != 0:
            print(f"{rows:>7,} rows: failed: {done.stderr.strip()[-600:]}")
            failed = True
            continue
        got = json.loads(done.stdout.strip().splitlines()[-1])
        stages = got["stages"]
        total = sum(s for _, _, s in stages)
        manual = [n for n, m, _ in stages if m]
        failed |= got["good"] != got["expected_good"]
        print(
            f"{rows:>7,} rows: {len(manual)} manual steps, {total:6.2f} s in all, "
            f"{got['peak_mb']:,.0f} MB peak; floor (read_excel + read_csv) {got['floor']:.2f} s, "
            f"{total / got['floor']:.1f}x; {got['good']:,} rows in the register, "
            f"{got['set_aside']} set aside (workbook written in {got['written']:.2f} s)"
        )
        for name, is_manual, seconds in stages:
            print(f"    {'by hand' if is_manual else 'command':8} {name:40} {seconds:7.2f} s")
        print(f"    manual: {'; '.join(manual)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
