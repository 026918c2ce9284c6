"""Tests of the consultant reports: the model on its own, then each format read back.

Helpers shared by the test modules live here (the folder has no conftest of its own).
"""

from __future__ import annotations

import csv
import json
import os
import shutil
from pathlib import Path

import yaml

from tests.conftest import TINY

GOLDEN = Path(__file__).resolve().parent / "golden"
# names a spreadsheet or a browser would run if they were not escaped or neutralised
SCRIPT_NAME = "<script>alert('x')</script> Plant"
FORMULA_NAME = '=HYPERLINK("http://example.invalid/","click")'
PLAN_TITLE = "<img src=x onerror=alert(1)> shield"
CLIENT = "<b>ACME</b> & Co =1+1"


def hostile_workspace(folder: Path) -> Path:
    """The tiny workspace with user text that must never run: script tags in an asset name,
    a plan title and the client; a formula as an asset name."""
    ws = folder / "hostile"
    shutil.copytree(TINY, ws)
    rows = list(csv.DictReader((ws / "assets.csv").open(encoding="utf-8")))
    rows[1]["name"] = SCRIPT_NAME  # P2, the asset with the largest EAL
    rows[0]["name"] = FORMULA_NAME
    with (ws / "assets.csv").open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    plans = yaml.safe_load((ws / "plans.yaml").read_text(encoding="utf-8"))
    plans["plans"][0]["title"] = PLAN_TITLE
    (ws / "plans.yaml").write_text(yaml.safe_dump(plans, sort_keys=False), encoding="utf-8")
    manifest = (ws / "workspace.yaml").read_text(encoding="utf-8")
    (ws / "workspace.yaml").write_text(
        manifest + f"client: {json.dumps(CLIENT)}\n", encoding="utf-8"
    )
    return ws


def check_golden(name: str, actual: str) -> None:
    """Compare with tests/reporting/golden/<name>; RISKAPP_UPDATE_GOLDEN=1 rewrites it."""
    path = GOLDEN / name
    if os.environ.get("RISKAPP_UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
    assert path.exists(), f"no golden file {path}; write it with RISKAPP_UPDATE_GOLDEN=1"
    expected = path.read_text(encoding="utf-8")
    assert actual == expected, (
        f"{name} differs from the golden file; if the change is intended, rerun with "
        "RISKAPP_UPDATE_GOLDEN=1 and review the diff"
    )


CHEAP_PLAN = "Cheap loss cover"


def flagged_workspace(folder: Path) -> Path:
    """The issue's case: the tiny workspace with assets worth billions, ten scenarios (the
    status quo 'base', s1, s2 and s3..s9) and a plan costing EUR 20,000 whose loss trigger
    fires in 7 of the 10 (s1 and s3..s8, where alpha rises across the north), next to a
    sober plan (`shield`, fires in s1 only) and one triggered on the region group 'north'."""
    ws = folder / "flagged"
    shutil.copytree(TINY, ws)
    rows = list(csv.DictReader((ws / "assets.csv").open(encoding="utf-8")))
    rows[0]["replacement_value"] = "1000000000"  # P1
    rows[1]["replacement_value"] = "2000000000"  # P2
    rows[1]["annual_revenue_at_stake"] = "0"
    with (ws / "assets.csv").open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    for n in range(3, 10):
        target = "north" if n <= 8 else "DEU"
        (ws / "scenarios" / f"s{n}.yaml").write_text(
            f"id: s{n}\ntitle: Variant {n}\nfrequency: 0.05\nwarning_time_days: 60\n"
            f"shocks:\n  - {{target: {target}, factor: alpha, op: add, value: 4}}\n",
            encoding="utf-8",
        )
    plans = {
        "plans": [
            {
                "id": "shield",
                "title": "Shield the northern plants",
                "owner": "COO",
                "status": "proposed",
                "trigger": {"scenarios": ["s1"]},
                "actions": [{"title": "Harden sites", "lead_time_days": 10, "one_off_cost": 2.0e7}],
                "coverage": {"asset_types": ["plant"]},
                "effect": {"damage_multiplier": {"alpha": 0.9}},
            },
            {
                "id": "cheap",
                "title": CHEAP_PLAN,
                "owner": "CFO",
                "status": "proposed",
                "trigger": {"loss_at_least": 2.0e9},
                "actions": [{"title": "Sign cover", "lead_time_days": 5, "one_off_cost": 20000}],
                "coverage": {"asset_types": ["plant"]},
                "effect": {"damage_multiplier": {"alpha": 0.5}},
            },
            {
                "id": "watch",
                "title": "Watch the north",
                "owner": "CSO",
                "status": "proposed",
                "trigger": {
                    "factor_levels": [{"region": "north", "factor": "alpha", "at_least": 8}]
                },
                "actions": [{"title": "Watch", "lead_time_days": 5, "one_off_cost": 1.0e8}],
                "coverage": {"asset_ids": ["P2"]},
                "effect": {"damage_multiplier": {"alpha": 0.9}},
            },
        ]
    }
    (ws / "plans.yaml").write_text(yaml.safe_dump(plans, sort_keys=False), encoding="utf-8")
    return ws
