"""The curve library (issue 13, item 4): default curves for at least 15 asset types across every
shipped factor, each with its rationale and sources; sector templates; adding a type to a
workspace; library names matching a client's type names."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from riskapp.assessment.scaffold import SECTORS, create_workspace
from riskapp.cli import app
from riskapp.io import load_workspace
from riskapp.io.curve_library import add_to_workspace, curve_library
from riskapp.io.errors import InputError
from riskapp.io.mapping import type_for
from riskapp.resources import DEMO

runner = CliRunner()


def test_the_library_covers_every_factor_with_reasons() -> None:
    lib = curve_library()
    factors = set(load_workspace(DEMO).factors.ids)
    assert len(lib.types) >= 15
    for t in lib.types:
        assert set(t.curves) == factors, t.type  # a zero curve says "not exposed" explicitly
        assert len(t.rationale) > 80 and t.sources, t.type
        assert set(t.sectors) <= set(SECTORS), t.type
        for curve in t.as_curves():  # checked as a workspace's curves are
            xs, ys = zip(*curve.points, strict=True)
            # the calibration rule: nil at ordinary intensities (up to 3), rising after
            assert np.interp(3.0, xs, ys) == 0.0, (t.type, curve.factor)
            assert list(ys) == sorted(ys), (t.type, curve.factor)
    # the demo's types are in it with the demo's curves
    demo = {(c.asset_type, c.factor): c.points for c in load_workspace(DEMO).curves.curves}
    plant = lib.get("plant")
    assert plant.curves["hybrid_warfare"] == demo[("plant", "hybrid_warfare")]


@pytest.mark.parametrize("sector", SECTORS)
def test_sector_templates_hold_their_types(sector: str, tmp_path: Path) -> None:
    create_workspace(tmp_path / sector, sector)
    ws = load_workspace(tmp_path / sector)
    expected = {t.type for t in curve_library().types if sector in t.sectors}
    assert ws.curves.asset_types == expected
    assert "Source:" in (tmp_path / sector / "curves.yaml").read_text()


def test_adding_library_types_to_a_workspace(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    create_workspace(ws, "telecom")
    before = (ws / "curves.yaml").read_text()
    assert add_to_workspace(ws, ["airport"]) == ["airport"]
    after = (ws / "curves.yaml").read_text()
    assert after.startswith(before.rstrip("\n"))  # the workspace's own text kept
    assert "airport" in load_workspace(ws).curves.asset_types
    for names, words in (
        (["airport"], "already has curves for airport"),
        (["spaceport"], "no asset type 'spaceport'"),
    ):
        with pytest.raises(InputError) as exc:
            add_to_workspace(ws, names)
        assert words in str(exc.value)
        assert (ws / "curves.yaml").read_text() == after
    result = runner.invoke(app, ["curves", "add", "airport", "--workspace", "demo"])
    assert result.exit_code == 2 and "read-only" in result.output
    listed = runner.invoke(app, ["curves", "list", "--full", "--sector", "energy"])
    assert listed.exit_code == 0 and "Source: IEA" in listed.output


def test_library_names_match_a_files_type_names() -> None:
    known = [t.type for t in curve_library().types]
    assert type_for("Umspannwerk", known) == ("substation", "synonym 'umspannwerk'")
    assert type_for("Power station", known)[0] == "power_plant"  # type: ignore[index]
    assert type_for("Offshore-Windpark", known)[0] == "offshore_wind_farm"  # type: ignore[index]
