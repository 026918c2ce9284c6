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
