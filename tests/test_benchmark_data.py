"""The synthetic workspace the dashboard, risk page, sensitivity and report benchmarks run on
(benchmarks/synthetic_dependencies.py) is one riskapp accepts: a benchmark that cannot load
its own data measures nothing (bench_pages stopped at its first step for a day when the demo
gained a rates file and subdivisions the generator did not carry over)."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from riskapp.io import load_workspace
from riskapp.io.validate import check_paths
from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))

from synthetic_dependencies import DEMO_INPUTS, build_workspace


def test_the_synthetic_workspace_validates_and_loads(tmp_path: Path) -> None:
    folder = build_workspace(tmp_path / "synthetic", n_assets=600, n_links=400, seed=3)
    ((_, checked),) = check_paths([folder])
    assert checked.problems == [], checked.problems[:5]
    ws = load_workspace(folder)
    assert len(ws.portfolio) == 600
    links = pd.read_csv(folder / "dependencies.csv", dtype=str, keep_default_na=False)
    assert 400 <= len(links) < 420  # stops at the first asset past the count
    # rows moved to another country keep no subdivision or point of the old one
    register = pd.read_csv(folder / "assets.csv", dtype=str, keep_default_na=False)
    demo = pd.read_csv(ROOT / "demo" / "assets.csv", dtype=str, keep_default_na=False)
    moved = register.iloc[len(demo) :]
    by_type = demo.groupby("type")["country"].agg(set)
    home = [c in by_type[t] for t, c in zip(moved["type"], moved["country"], strict=True)]
    abroad = moved[[not h for h in home]]
    assert len(abroad) > 100
    assert (abroad[["subdivision", "lat", "lon"]] == "").all().all()


def test_every_demo_file_but_the_register_is_copied() -> None:
    demo = {p.name for p in (ROOT / "demo").iterdir() if p.is_file()}
    assert set(DEMO_INPUTS) == demo - {"assets.csv", "dependencies.csv", "workspace.yaml"}
    assert {"fx.csv", "zones.yaml", "routes.yaml"} <= set(DEMO_INPUTS)
