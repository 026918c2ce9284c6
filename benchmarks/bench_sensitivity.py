"""Benchmark of sensitivity (tornado and Sobol indices) with dependency cascades, on a synthetic
workspace shaped like a real one: the demo's factors, regions, curves, plans and scenario
library, 2,000 assets and 1,400 dependency links with shared hubs, chains and redundancy groups
(`synthetic_dependencies.py`). The issue's target: 10,000 simulated years with sensitivity in
under 10 s (measured before on a real 1,942-asset workspace with 1,360 links: 75-79 s).

    .venv/bin/python benchmarks/bench_sensitivity.py [--assets 2000] [--links 1400]
        [--trials 10000] [--sobol-samples 256] [--seed 0] [--repeat 1]

Cases, each in a process of its own with its own data directory and home in the run's temporary
folder (nothing is written elsewhere):

- **cli floor**: the whole `riskapp simulate WS --trials T` process (load, score, simulate,
  print): the plain Monte Carlo of the same model, without sensitivity.
- **cli sensitivity**: the same with `--sensitivity` (adds the tornado and the Sobol indices).
- **steps**: in one process, the time of each step and the process's max RSS after it: loading the
  workspace and its links, `prepare_simulation`, `run` (the floor of the steps below),
  `loss_model`, `tornado`, `portfolio_sobol` (its first call includes importing SALib and
  SciPy, timed apart), with the ratio of each to the run.

Wall time, peak RSS of the process (`ru_maxrss`) and the ratio against the floor measured in the
same run. Set PYTHONPATH to measure another checkout (for a before/after comparison). Exits 0
(the figures are informational), 1 if a case fails.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
TARGET_S = 10.0


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _cli_case(workspace: str, trials: int, sensitivity: bool, samples: int) -> dict[str, Any]:
    """The whole CLI command, in this (fresh) process: wall time from before importing riskapp."""
    import contextlib
    import io

    start = time.perf_counter()
    from riskapp.cli.main import app

    argv = ["simulate", workspace, "--trials", str(trials), "--no-progress"]
    argv += ["--sensitivity", "--sobol-samples", str(samples)] if sensitivity else []
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        try:
            app(argv, standalone_mode=False)
        except SystemExit as exc:  # pragma: no cover - typer exits on errors
            if exc.code:
                raise RuntimeError(sink.getvalue()[-2000:]) from None
    return {"seconds": time.perf_counter() - start, "maxrss_mb": _maxrss_mb()}


def _timed(fn: Callable[[], Any]) -> tuple[Any, float, float]:
    """Value, wall seconds and the process's max RSS (MB) after one call (not traced: tracing
    allocations would slow the many small numpy calls and distort the times)."""
    gc.collect()
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start, _maxrss_mb()


def _steps_case(workspace: str, trials: int, samples: int) -> dict[str, Any]:
    from riskapp.engine.montecarlo import prepare_simulation, run
    from riskapp.engine.sensitivity import loss_model, portfolio_sobol, tornado
    from riskapp.io.dependencies import dependency_file, load_dependencies
    from riskapp.io.workspace import load_workspace

    path = Path(workspace)
    out: dict[str, Any] = {}

    def load() -> Any:
        ws = load_workspace(path)
        return ws, load_dependencies(dependency_file(path), ws.portfolio)

    (ws, links), out["load_s"], out["load_mb"] = _timed(load)
    sim, out["prepare_s"], out["prepare_mb"] = _timed(lambda: prepare_simulation(ws, links=links))
    _, out["run_s"], out["run_mb"] = _timed(lambda: run(sim, trials, 0))
    lm, out["loss_model_s"], out["loss_model_mb"] = _timed(lambda: loss_model(ws, sim))
    _, out["tornado_s"], out["tornado_mb"] = _timed(lambda: tornado(lm, 0, trials))

    def salib() -> None:
        from SALib.analyze import sobol  # noqa: F401
        from SALib.sample import sobol as sample  # noqa: F401

    _, out["import_salib_s"], out["import_salib_mb"] = _timed(salib)
    _, out["sobol_s"], out["sobol_mb"] = _timed(lambda: portfolio_sobol(lm, samples, 0))
    out["groups"] = sim.model.n_groups
    out["dependents"] = sim.model.n_dependents
    out["links"] = len(links)
    out["inputs"] = len(lm.inputs)
    out["maxrss_mb"] = _maxrss_mb()
    return out


def _child(args: argparse.Namespace) -> int:
    if args.case == "steps":
        result = _steps_case(args.workspace, args.trials, args.sobol_samples)
    else:
        result = _cli_case(
            args.workspace, args.trials, args.case == "cli-sensitivity", args.sobol_samples
        )
    Path(args.result).write_text(json.dumps(result), encoding="utf-8")
    return 0


def _spawn(case: str, args: argparse.Namespace, workspace: Path, tmp: Path) -> dict[str, Any]:
    """One case in a fresh process with its own data directory and home."""
    home = Path(tempfile.mkdtemp(prefix=f"{case}-home-", dir=tmp))
    data = Path(tempfile.mkdtemp(prefix=f"{case}-data-", dir=tmp))
    result = tmp / f"{case}-{time.monotonic_ns()}.json"
    env = dict(os.environ, HOME=str(home), RISKAPP_DATA_DIR=str(data), RISKAPP_SEED_DEMO="false")
    cmd = [sys.executable, __file__, "--case", case, "--workspace", str(workspace)]
    cmd += ["--trials", str(args.trials), "--sobol-samples", str(args.sobol_samples)]
    cmd += ["--result", str(result)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"case {case} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    figures: dict[str, Any] = json.loads(result.read_text(encoding="utf-8"))
    return figures


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[len(ordered) // 2]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--assets", type=int, default=2000)
    p.add_argument("--links", type=int, default=1400)
    p.add_argument("--trials", type=int, default=10_000)
    p.add_argument("--sobol-samples", type=int, default=256)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--repeat", type=int, default=1, help="runs of each CLI case (median)")
    p.add_argument("--case", help=argparse.SUPPRESS)
    p.add_argument("--workspace", help=argparse.SUPPRESS)
    p.add_argument("--result", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.case:
        return _child(args)

    sys.path.insert(0, str(HERE))
    from synthetic_dependencies import build_workspace

    import riskapp

    print(f"# bench_sensitivity: {platform.python_version()}, {os.cpu_count()} cpus")
    print(f"# riskapp from {Path(riskapp.__file__).parent}")
    with tempfile.TemporaryDirectory(prefix="bench-sensitivity-") as tmp_name:
        tmp = Path(tmp_name)
        ws = build_workspace(tmp / "workspace", args.assets, args.links, args.seed)
        try:
            runs: dict[str, list[dict[str, Any]]] = {"cli-floor": [], "cli-sensitivity": []}
            for _ in range(max(1, args.repeat)):  # alternate, so load hits both alike
                for case, figures in runs.items():
                    figures.append(_spawn(case, args, ws, tmp))
            steps = _spawn("steps", args, ws, tmp)
        except RuntimeError as exc:
            print(exc, file=sys.stderr)
            return 1
    floor = _median([r["seconds"] for r in runs["cli-floor"]])
    sens = _median([r["seconds"] for r in runs["cli-sensitivity"]])
    print(
        f"\nworkspace: {args.assets:,} assets, {steps['links']:,} dependency links, "
        f"{steps['groups']} asset groups, {steps['dependents']} dependents, "
        f"{steps['inputs']} sensitivity inputs; {args.trials:,} years, "
        f"Sobol {args.sobol_samples} base points\n"
    )
    print(f"{'whole process (median of ' + str(len(runs['cli-floor'])) + ')':<44}{'time':>9}"
          f"{'max RSS':>11}{'ratio':>8}")  # fmt: skip
    for label, case, t in (
        ("riskapp simulate (floor)", "cli-floor", floor),
        ("riskapp simulate --sensitivity", "cli-sensitivity", sens),
    ):
        rss = max(r["maxrss_mb"] for r in runs[case])
        print(f"{label:<44}{t:>8.2f}s{rss:>8.0f} MB{t / floor:>7.2f}x")
    run_s = steps["run_s"]
    print(f"\n{'steps, one process':<44}{'time':>9}{'max RSS':>11}{'vs run':>8}")
    for key, label in (
        ("load", "load workspace and links"),
        ("prepare", "prepare_simulation"),
        ("run", f"run, {args.trials:,} years (floor)"),
        ("loss_model", "loss_model"),
        ("tornado", "tornado"),
        ("import_salib", "import SALib and SciPy"),
        ("sobol", "portfolio_sobol"),
    ):
        mb = steps.get(f"{key}_mb")
        mem = f"{mb:>8.0f} MB" if mb is not None else " " * 11
        print(f"{label:<44}{steps[f'{key}_s']:>8.2f}s{mem}{steps[f'{key}_s'] / run_s:>7.2f}x")
    verdict = "PASS" if sens < TARGET_S else "MISS"
    print(f"\ntarget: simulate --sensitivity under {TARGET_S:.0f} s: {sens:.2f} s {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
