"""Zones in a whole workspace, read from files as a user writes them: a zones file, shocks,
region groups, baseline rows and plans naming zones and shipped sea areas, and the problems a
wrong name gets. Workspaces are copies of tests/data/tiny in tmp_path."""

from __future__ import annotations

import dataclasses
import shutil
import textwrap
from pathlib import Path

import pytest

from riskapp.assessment.sources import FileSource, MemorySource
from riskapp.domain.routes import RouteBook
from riskapp.domain.zones import ZoneCatalogue
from riskapp.engine import score
from riskapp.io.errors import InputError
from riskapp.io.workspace import load_workspace
from tests.conftest import TINY

ZONES = """
zones:
  - id: helsinki_150km
    name: Within 150 km of Helsinki
    circle: {center: [24.94, 60.17], radius_km: 150}
  - id: gulf_of_finland_coast
    name: Gulf of Finland and 30 km of its coast
    sea_area: gulf_of_finland
    within_km: 30
"""


def copy_tiny(tmp_path: Path, zones: str | None = ZONES) -> Path:
    ws = tmp_path / "ws"
    shutil.copytree(TINY, ws)
    if zones is not None:
        (ws / "zones.yaml").write_text(textwrap.dedent(zones).lstrip(), encoding="utf-8")
    return ws


def add_scenario(ws: Path, shocks: str, sid: str = "z") -> None:
    text = f"id: {sid}\ntitle: Zone test\nfrequency: 0.1\nwarning_time_days: 5\nshocks:\n{shocks}"
    (ws / "scenarios" / f"{sid}.yaml").write_text(text, encoding="utf-8")


def test_shocks_on_own_zones_and_shipped_sea_areas(tmp_path: Path) -> None:
    ws_dir = copy_tiny(tmp_path)
    add_scenario(
        ws_dir,
        "  - {target: gulf_of_finland_coast, factor: alpha, op: add, value: 2}\n"
        "  - {target: barents_sea, factor: alpha, op: add, value: 5}\n",
    )
    ws = load_workspace(ws_dir)
    # the workspace's own zones, and the one shipped sea area a shock names
    assert ws.zones.ids == ["helsinki_150km", "gulf_of_finland_coast", "barents_sea"]
    assert ws.zones.get("barents_sea") is not None and ws.zones.get("barents_sea").shipped
    r = score(ws)
    loss = dict(zip(ws.portfolio.ids, r.asset_loss()[:, r.scenario_ids.index("z")], strict=True))
    # P2 in Helsinki lies on the Gulf of Finland's coast: alpha 4 + 2 (beta 3 -> 0.1)
    assert loss["P2"] == pytest.approx(250 * (1 - (1 - 0.6) * 0.9))
    # P1 in Tromsø is on land, outside the Barents Sea polygon: untouched (alpha 2)
    assert loss["P1"] == pytest.approx(20.0)


def test_groups_baseline_rows_and_plans_may_name_zones(tmp_path: Path) -> None:
    ws_dir = copy_tiny(tmp_path)
    regions = (ws_dir / "regions.yaml").read_text(encoding="utf-8")
    regions += "  - id: near_helsinki\n    name: Near Helsinki\n    members: [helsinki_150km]\n"
    (ws_dir / "regions.yaml").write_text(regions, encoding="utf-8")
    with (ws_dir / "baseline.csv").open("a", encoding="utf-8") as f:
        f.write("helsinki_150km,beta,5,local estimate\n")
    add_scenario(ws_dir, "  - {target: near_helsinki, factor: alpha, op: set, value: 8}\n")
    ws = load_workspace(ws_dir)
    r = score(ws)
    p2 = list(ws.portfolio.ids).index("P2")
    place = int(r.inputs.place_index[p2])
    s = r.scenario_ids.index("z")
    # the zone's baseline row for beta (5, not Finland's 3), the group's shock on alpha
    assert r.intensities[s, place].tolist() == [8.0, 5.0]
    assert r.intensities[0, place].tolist() == [4.0, 5.0]


@pytest.mark.parametrize(
    ("target", "hint"),
    [
        ("baltc_sea", "did you mean 'baltic_sea'?"),
        ("helsinki_15km", "did you mean 'helsinki_150km'?"),
    ],
)
def test_an_unknown_zone_is_named_with_a_suggestion(tmp_path: Path, target: str, hint: str) -> None:
    ws_dir = copy_tiny(tmp_path)
    add_scenario(ws_dir, f"  - {{target: {target}, factor: alpha, op: add, value: 1}}\n")
    with pytest.raises(InputError) as info:
        load_workspace(ws_dir)
    (problem,) = info.value.problems
    assert problem.file.endswith("scenarios/z.yaml")
    assert problem.line == 6 and problem.field == "shocks[0].target"
    assert problem.message.startswith(f"unknown target {target!r}; {hint} expected an ISO")


def test_zone_problems_name_their_file(tmp_path: Path) -> None:
    ws_dir = copy_tiny(tmp_path)
    regions = (ws_dir / "regions.yaml").read_text(encoding="utf-8")
    regions += "  - id: helsinki_150km\n    name: Clash\n    members: [FIN, nowhere_zone]\n"
    (ws_dir / "regions.yaml").write_text(regions, encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_workspace(ws_dir)
    by_file = {Path(p.file).name: p for p in info.value.problems}
    assert set(by_file) == {"zones.yaml", "regions.yaml"}
    assert by_file["zones.yaml"].line == 2
    assert "also a region group id" in by_file["zones.yaml"].message
    assert by_file["regions.yaml"].field == "groups[1].members[1]"
    assert "unknown member 'nowhere_zone'" in by_file["regions.yaml"].message


def test_a_broken_zone_file_stops_the_load_with_its_problems(tmp_path: Path) -> None:
    ws_dir = copy_tiny(
        tmp_path,
        """
        zones:
          - id: bad
            name: Bad circle
            circle: {center: [200, 60], radius_km: 10}
        """,
    )
    with pytest.raises(InputError) as info:
        load_workspace(ws_dir)
    assert [Path(p.file).name for p in info.value.problems] == ["zones.yaml"]
    assert info.value.problems[0].line == 4


def test_the_revision_follows_the_zones_and_routes_files(tmp_path: Path) -> None:
    ws_dir = copy_tiny(tmp_path, zones=None)
    before = FileSource(ws_dir).revision()
    (ws_dir / "zones.yaml").write_text(textwrap.dedent(ZONES).lstrip(), encoding="utf-8")
    with_zones = FileSource(ws_dir).revision()
    assert with_zones != before
    (ws_dir / "routes.yaml").write_text(
        "routes:\n  - asset_id: P2\n    line: [[24.93, 60.17], [25.5, 65.0]]\n",
        encoding="utf-8",
    )
    assert FileSource(ws_dir).revision() not in (before, with_zones)
    # and a workspace in memory tells its zones apart
    ws = load_workspace(ws_dir)
    plain = dataclasses.replace(ws, zones=ZoneCatalogue(), routes=RouteBook())
    assert MemorySource(ws).revision() != MemorySource(plain).revision()


def test_pickers_offer_groups_zones_sea_areas_and_countries(tmp_path: Path) -> None:
    from riskapp.assessment.zones import target_labels

    ws = load_workspace(copy_tiny(tmp_path))
    labels = target_labels(ws.regions, ws.zones, ["FIN", "NOR"])
    keys = list(labels)
    assert keys[:3] == ["north", "helsinki_150km", "gulf_of_finland_coast"]
    assert labels["helsinki_150km"] == "Within 150 km of Helsinki (circle)"
    assert labels["baltic_sea"] == "Baltic Sea (sea area)"
    assert keys.index("FIN") + 1 == keys.index("NOR") and labels["FIN"] == "Finland (FIN)"
    assert keys.index("gulf_of_finland") < keys.index("FIN")
    # then the subdivisions of those countries, after the countries
    assert labels["NO-54"] == "Troms og Finnmark (NO-54, subdivision of Norway)"
    assert keys.index("NOR") < keys.index("FI-10") < keys.index("NO-54")
    assert not any(k.startswith("SE-") for k in keys)


def test_validate_checks_zone_and_route_files_alone(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from riskapp.cli import app

    ws_dir = copy_tiny(tmp_path)
    (ws_dir / "routes.geojson").write_text(
        '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": '
        '{"asset_id": "P2"}, "geometry": {"type": "LineString", "coordinates": '
        "[[24.9, 60.2], [24.9, 60.2]]}}]}",
        encoding="utf-8",
    )
    runner = CliRunner()
    ok = runner.invoke(app, ["validate", str(ws_dir / "zones.yaml")])
    assert ok.exit_code == 0 and "(zones)" in ok.output
    bad = runner.invoke(app, ["validate", str(ws_dir / "routes.geojson")])
    assert bad.exit_code != 0
    assert "routes.geojson, feature 1" in bad.output and "distinct" in bad.output


def test_assets_placed_at_sea_or_abroad_are_warned_about(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from riskapp.assessment.placement import placement_warnings
    from riskapp.cli import app

    ws_dir = copy_tiny(tmp_path, zones=None)
    assets = (ws_dir / "assets.csv").read_text(encoding="utf-8")
    # P1 (Tromsø) moved into the Norwegian Sea; P2 (filed in Finland) placed in Berlin
    assets = assets.replace("69.6,18.9", "69.0,8.0").replace("60.2,24.9", "52.5,13.4")
    (ws_dir / "assets.csv").write_text(assets, encoding="utf-8")
    lines = placement_warnings(load_workspace(ws_dir))
    assert len(lines) == 2
    assert lines[0].startswith("asset 'P1' (lat 69, lon 8) lies at sea, about ")
    assert "km off Norway's coast; expected a location on land" in lines[0]
    assert lines[1].startswith("asset 'P2' (lat 52.5, lon 13.4) lies in Germany (DEU), ")
    assert "not in Finland (FIN) where it is filed" in lines[1]
    result = CliRunner().invoke(app, ["validate", str(ws_dir)])
    assert result.exit_code == 0  # warnings, not errors
    assert result.output.count("warning (not an error): assets:") == 2
    # the same register with its coordinates right: no warning
    assert placement_warnings(load_workspace(copy_tiny(tmp_path / "ok", zones=None))) == []
