"""Loading valid inputs: CSV and XLSX registers agree, line maps point at the right lines."""

from __future__ import annotations

import csv
from pathlib import Path

import openpyxl
import pytest

from riskapp.domain import Scenario
from riskapp.io.tables import load_assets
from riskapp.io.workspace import load_model
from riskapp.io.yamlfile import load_yaml
from tests.conftest import TINY


def test_xlsx_register_equals_csv_register(tmp_path: Path) -> None:
    with (TINY / "assets.csv").open(newline="") as f:
        rows = list(csv.reader(f))
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for r in rows:
        # numbers as numbers, as a spreadsheet user would type them
        sheet.append([float(c) if c.replace(".", "", 1).isdigit() else c for c in r])
    target = tmp_path / "assets.xlsx"
    book.save(target)
    assert load_assets(target) == load_assets(TINY / "assets.csv")


def test_register_parses_lists_and_optional_columns() -> None:
    assets = {a.id: a for a in load_assets(TINY / "assets.csv")}
    assert assets["P1"].tags == ["arctic", "critical"]
    assert assets["P2"].depends_on == ["P1"]
    assert assets["O1"].lat is None and assets["O1"].currency == "USD"


def test_line_map_points_at_fields() -> None:
    data, lines = load_yaml(TINY / "scenarios" / "s1.yaml")
    assert data["id"] == "s1"
    text = (TINY / "scenarios" / "s1.yaml").read_text().splitlines()
    line = lines.line(("shocks", 1, "target"))
    assert line is not None and "target: north" in text[line - 1]
    # a location deeper than any node falls back to its nearest known parent
    assert lines.line(("signposts", 0, "threshold", "x")) == lines.line(("signposts", 0))


def test_load_model_returns_frozen_model() -> None:
    scenario, _ = load_model(TINY / "scenarios" / "s1.yaml", Scenario)
    assert scenario.shocks[0].range is not None and scenario.shocks[0].range.high == 8
    with pytest.raises(Exception, match="frozen"):
        scenario.frequency = 0.5  # type: ignore[misc]
