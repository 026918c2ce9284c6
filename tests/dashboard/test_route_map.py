"""Routes as tables and on the map: the tiny workspace's plant P2 given a route from Helsinki
through Finland to Tromsø in Norway (see tests/engine/test_routes.py for its figures)."""

from __future__ import annotations

import dataclasses
import json

import pytest

from riskapp.assessment.core import assess_workspace
from riskapp.assessment.zones import ROUTE_COLUMNS, route_table
from riskapp.charts.maps import overview_map
from riskapp.domain import Workspace
from riskapp.domain.routes import Route, RouteBook
from tests.engine.test_routes import HEL_TROMSO


def test_route_table_and_map(tiny: Workspace) -> None:
    ws = dataclasses.replace(
        tiny,
        routes=RouteBook(routes=[Route(asset_id="P2", line=[(24.93, 60.17), *HEL_TROMSO[1:]])]),
    )
    a = assess_workspace(ws)
    table = route_table(a)
    assert list(table.columns) == list(ROUTE_COLUMNS)
    (row,) = table.to_dict("records")
    assert (row["asset_id"], row["rule"], row["start_country"], row["end_country"]) == (
        "P2",
        "any_cut",
        "FIN",
        "NOR",
    )
    assert 1000 < row["length_km"] < 1300 and row["parts"] == 2
    # the route's EAL is the asset table's (scored along the line), its peak alpha 8 (s1:
    # alpha + 4 in the north, Finland at 4)
    eal = a.result.asset_eal()[list(ws.portfolio.ids).index("P2")]
    assert row["eal"] == pytest.approx(eal)
    assert (row["peak_factor"], row["peak_intensity"]) == ("alpha", 8.0)
    assert row["peak_scenario"] == "Northern escalation"
    spec = json.loads(overview_map(a, fast=True).figure.to_json())
    lines = [t for t in spec["data"] if t.get("legendgroup") == "routes"]
    assert len(lines) == 1
    assert lines[0]["lon"] == [p[0] for p in [(24.93, 60.17), *HEL_TROMSO[1:]]] + [None]
    assert "Peak intensity: 8.0 (Alpha factor, Northern escalation)" in lines[0]["text"][0]
    assert "FIN to NOR" in lines[0]["text"][0]


def test_no_routes_no_route_lines(tiny: Workspace) -> None:
    a = assess_workspace(tiny)
    assert route_table(a).empty
    spec = json.loads(overview_map(a, fast=True).figure.to_json())
    assert not [t for t in spec["data"] if t.get("legendgroup") == "routes"]
