"""`riskapp init` (issue 13, item 1): a new workspace, valid as created, whole or not at all."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from riskapp.assessment import assess
from riskapp.assessment.scaffold import create_workspace
from riskapp.cli import app
from riskapp.domain import LossBasis
from riskapp.io import load_workspace
from riskapp.io.errors import InputError
from riskapp.resources import DEMO

runner = CliRunner()


@pytest.fixture(scope="module")
def blank(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("init") / "client-a"
    result = runner.invoke(app, ["init", str(target), "--name", 'Client A: "north" # 1'])
    assert result.exit_code == 0, result.output
    assert "Next: list the assets in" in result.output
    return target


def test_blank_workspace_is_valid_and_empty(blank: Path) -> None:
    ws = load_workspace(blank)
    assert ws.settings.name == 'Client A: "north" # 1'  # YAML characters kept as text
    assert len(ws.portfolio) == 0
    assert [s.id for s in ws.scenarios] == ["baseline"] and not ws.scenarios[0].shocks
    assert not ws.plans.plans
    assert ws.factors.ids == load_workspace(DEMO).factors.ids
    # a baseline of every factor for every country, built from the shipped public data
    entries = ws.baseline.entries
    assert len({e.country for e in entries}) > 200
    assert {e.factor for e in entries} == set(ws.factors.ids)
    assert all("method default" in e.source for e in entries)
    assert not any(c.asset_id for c in ws.curves.curves)  # no demo asset's own curves
    checked = runner.invoke(app, ["validate", str(blank)])
    assert checked.exit_code == 0, checked.output
    assert "no assets yet" in checked.output


def test_blank_workspace_is_assessed_once_it_has_assets(blank: Path, tmp_path: Path) -> None:
    refused = runner.invoke(app, ["score", str(blank)])
    assert refused.exit_code == 1
    assert "no assets yet" in refused.output
    import shutil

    ws = tmp_path / "ws"
    shutil.copytree(blank, ws)
    with (ws / "assets.csv").open("a") as f:
        f.write("P1,Plant Narva,plant,EST,59.38,28.19,1000000,0,EUR,4,,,,,\n")
    a = assess(ws, basis=LossBasis.ABSOLUTE)  # (incremental: nothing above the status quo)
    assert len(a.ws.portfolio) == 1
    assert a.result.expected_annual_loss() > 0  # Narva: on the border


def test_demo_template_is_the_demo_self_contained(tmp_path: Path) -> None:
    target = tmp_path / "learn"
    create_workspace(target, "demo")
    assert "allow_paths_outside" not in (target / "workspace.yaml").read_text()
    copy, shipped = assess(target), assess(DEMO)
    assert copy.ws.settings.name == shipped.ws.settings.name
    assert [s.id for s in copy.ws.scenarios] == [s.id for s in shipped.ws.scenarios]
    assert copy.result.expected_annual_loss() == shipped.result.expected_annual_loss()


def test_nothing_is_overwritten_or_left_behind(tmp_path: Path) -> None:
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "notes.txt").write_text("mine")
    result = runner.invoke(app, ["init", str(taken)])
    assert result.exit_code == 1 and "not an empty folder" in result.output
    assert sorted(p.name for p in taken.iterdir()) == ["notes.txt"]
    with pytest.raises(InputError) as info:
        create_workspace(tmp_path / "x", "sector", currency="euro")
    found = [str(p) for p in info.value.problems]
    assert any(p.startswith("--template") and "blank, demo" in p for p in found)
    assert any(p.startswith("--currency") and "ISO 4217" in p for p in found)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]  # no half-made folder
    empty = tmp_path / "empty"
    empty.mkdir()
    create_workspace(empty, currency="NOK")
    assert load_workspace(empty).settings.currency == "NOK"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty", "taken"]
