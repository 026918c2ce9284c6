"""Zones and dependencies as the maps read them: the zone table worked out by hand on the tiny
workspace, the outlines to draw and the dependency flows.

Tiny (tests/engine/test_zones.py has the arithmetic): P1 plant NOR at Tromsø, exposed 100;
P2 plant FIN at Helsinki, exposed 250, depends on P1; O1 office DEU without coordinates,
exposed 500. Expected annual loss (absolute basis): P1 20 + 0.1 x 40 = 24; P2 115 + 0.1 x 105 =
125.5; O1 25 + 0.01 x 100 = 26. The zoned workspace below (`zoned`) adds a scenario 'Helsinki
alpha up' (probability 0.02) that adds 5 to alpha in the Helsinki circle: P2 at alpha 9, beta 3
loses 250 x (1 - 0.1 x 0.9) = 227.5, 112.5 above its status quo, so its EAL is 125.5 + 0.02 x
112.5 = 127.75.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pyproj
import pytest

from riskapp.assessment.core import Assessment, assess, assess_workspace
from riskapp.assessment.flows import dependency_flows
from riskapp.assessment.sources import MemorySource
from riskapp.assessment.zones import ZONE_COLUMNS, zone_outlines, zone_table
from riskapp.domain import Scenario, Workspace
from riskapp.domain.assets import DependencyLink
from riskapp.domain.zones import Decay, Geometry, Kernel, Zone, ZoneCatalogue
from tests.conftest import DEMO
from tests.engine.test_zones import HELSINKI, TROMSO, circle, square

GEOD = pyproj.Geod(ellps="WGS84")


def zoned(tiny: Workspace) -> Workspace:
    # a hotspot 1 degree south of Helsinki (111 km): a linear fade over 200 km weighs P2
    # 1 - 111/200 = 0.445, rounded to 0.45: P2 is in it
    front = Zone(
        id="front",
        name="Front <b>line</b>",
        geometry=Geometry(type="Point", coordinates=(HELSINKI[0], HELSINKI[1] - 1.0)),
        decay=Decay(kernel=Kernel.LINEAR, distance_km=200),
    )
    zones = [
        circle("hel", HELSINKI, 50, "Helsinki"),
        square("north", TROMSO, 0.5),
        circle("wide", HELSINKI, 1100),  # Tromsø is ~1,050 km from Helsinki: both plants
        front,
        circle("far", (0.0, 0.0), 100),  # in the Gulf of Guinea: no asset
    ]
    up = Scenario.model_validate(
        {
            "id": "hel_up",
            "title": "Helsinki alpha up",
            "frequency": 0.02,
            "warning_time_days": 30,
            "shocks": [{"target": "hel", "factor": "alpha", "op": "add", "value": 5}],
        }
    )
    return dataclasses.replace(
        tiny, zones=ZoneCatalogue(zones=zones), scenarios=[*tiny.scenarios, up]
    )


@pytest.fixture(scope="module")
def tiny_zoned(tiny: Workspace) -> Assessment:
    return assess_workspace(zoned(tiny))


@pytest.fixture(scope="module")
def demo_assessment() -> Assessment:
    return assess(DEMO)


# -- the zone table ---------------------------------------------------------------------------


def test_zone_table_by_hand(tiny_zoned: Assessment) -> None:
    table = zone_table(tiny_zoned).set_index("id")
    assert list(zone_table(tiny_zoned).columns) == list(ZONE_COLUMNS)
    assert table["kind"].to_dict() == {
        "hel": "circle",
        "north": "polygon",
        "wide": "circle",
        "front": "hotspot",
        "far": "circle",
    }
    assert table["assets"].to_dict() == {"hel": 1, "north": 1, "wide": 2, "front": 1, "far": 0}
    assert table["exposed_value"].to_dict() == pytest.approx(
        {"hel": 250, "north": 100, "wide": 350, "front": 250, "far": 0}
    )
    # P2 127.75 (with the zone scenario), P1 24; 'wide' holds both: 151.75
    assert table["eal"].to_dict() == pytest.approx(
        {"hel": 127.75, "north": 24.0, "wide": 151.75, "front": 127.75, "far": 0.0}
    )
    # the worst intensity at the zone's places: P2's place reaches alpha 4 + 5 = 9 in the
    # zone scenario (more than s1's 4 + 4 = 8); P1's place alpha 2 + 4 = 6 in s1. 'wide' holds
    # both places, and 'front' P2's, which carries the Helsinki circle's shock too
    up, north = ("alpha", 9.0, "Helsinki alpha up"), ("alpha", 6.0, "Northern escalation")
    peaks = table[["peak_factor", "peak_intensity", "peak_scenario"]]
    for zone_id, want in {"hel": up, "north": north, "wide": up, "front": up}.items():
        assert tuple(peaks.loc[zone_id]) == pytest.approx(want)
    assert peaks.loc["far", "peak_factor"] == "" and peaks.loc["far", "peak_scenario"] == ""
    assert math.isnan(peaks.loc["far", "peak_intensity"])
    # the EAL is the scored assets' own: the zone table adds up what the engine gives them
    eal = dict(zip(tiny_zoned.ws.portfolio.ids, tiny_zoned.result.asset_eal(), strict=True))
    assert eal["P1"] == pytest.approx(24.0) and eal["P2"] == pytest.approx(127.75)


def test_zone_table_without_zones_is_empty_with_its_columns(tiny: Workspace) -> None:
    table = zone_table(assess_workspace(tiny))
    assert table.empty and list(table.columns) == list(ZONE_COLUMNS)
    assert table["assets"].dtype == np.int64 and table["eal"].dtype == float


def test_zone_outlines_are_clockwise_rings_with_gaps(tiny: Workspace) -> None:
    import shapely

    ring = [(20.0, 58.0), (22.0, 58.0), (22.0, 60.0), (20.0, 60.0), (20.0, 58.0)]
    hole = [(20.5, 58.5), (20.5, 59.5), (21.5, 59.5), (21.5, 58.5), (20.5, 58.5)]  # clockwise
    holed = Zone(id="h", name="h", geometry=Geometry(type="Polygon", coordinates=[ring, hole]))
    outlines = zone_outlines([holed, circle("c", HELSINKI, 150)]).set_index("id")
    lon, lat = outlines.loc["h", "lon"], outlines.loc["h", "lat"]
    # the exterior (reversed: GeoJSON's anticlockwise exterior fills the whole world on a
    # sphere), a gap, the hole (clockwise already)
    gap = int(np.flatnonzero(np.isnan(lon))[0])
    assert np.isnan(lat[gap]) and len(lon) == 5 + 1 + 5
    exterior = np.column_stack([lon[:gap], lat[:gap]])
    inner = np.column_stack([lon[gap + 1 :], lat[gap + 1 :]])
    assert exterior.tolist() == [list(p) for p in ring[::-1]]
    assert inner.tolist() == [list(p) for p in hole]
    assert not shapely.is_ccw(shapely.linearrings(exterior))
    assert not shapely.is_ccw(shapely.linearrings(inner))
    # the label point lies inside the zone (not in its hole)
    point = shapely.Point(outlines.loc["h", "label_lon"], outlines.loc["h", "label_lat"])
    assert shapely.Polygon(ring, [hole]).contains(point)
    circle_ring = np.column_stack([outlines.loc["c", "lon"], outlines.loc["c", "lat"]])
    assert not np.isnan(circle_ring).any()
    assert not shapely.is_ccw(shapely.linearrings(circle_ring))


# -- dependency flows -------------------------------------------------------------------------


def test_dependency_flows_on_the_tiny_workspace(tiny: Workspace) -> None:
    # without a dependency file: the register's edge, no share
    a = assess_workspace(tiny)
    first = dependency_flows(a)
    first.loc[0, "name"] = "changed"  # a copy: the next call is untouched
    flows = dependency_flows(a)
    assert flows[["asset_id", "depends_on"]].to_numpy().tolist() == [["P2", "P1"]]
    row = flows.iloc[0]
    assert row["name"] == "Plant Finland"
    assert math.isnan(row["share"]) and row["value_at_stake"] == 0.0
    assert row["dependent_value"] == 250.0
    assert (row["lon"], row["lat"], row["to_lon"], row["to_lat"]) == (24.9, 60.2, 18.9, 69.6)
    # the midpoint is halfway along the geodesic, and the bearing there points to P1
    _, _, whole = GEOD.inv(24.9, 60.2, 18.9, 69.6)
    az, _, half = GEOD.inv(row["mid_lon"], row["mid_lat"], 18.9, 69.6)
    assert half == pytest.approx(whole / 2, rel=1e-9)
    assert row["bearing"] == pytest.approx(az % 360, abs=1e-6)
    assert 300 < row["bearing"] < 360  # north-north-west, Tromsø from Helsinki
    # a link gives the share: 0.2 of P2's 250 is at stake
    link = DependencyLink(asset_id="P2", depends_on="P1", share=0.2, redundancy_group="arctic")
    flows = dependency_flows(assess(MemorySource(tiny, links=(link,))))
    assert flows.loc[0, "share"] == 0.2 and flows.loc[0, "value_at_stake"] == pytest.approx(50.0)
    assert flows.loc[0, "redundancy_group"] == "arctic"


def test_dependency_flows_need_both_ends_located(tiny: Workspace) -> None:
    from riskapp.domain.assets import Portfolio

    frame = tiny.portfolio.frame
    frame["depends_on"] = [("O1",), ("P1", "O1"), ()]  # O1 has no location
    ws = dataclasses.replace(tiny, portfolio=Portfolio.from_frame(frame))
    flows = dependency_flows(assess_workspace(ws))
    assert flows[["asset_id", "depends_on"]].to_numpy().tolist() == [["P2", "P1"]]


def test_demo_flows_largest_value_at_stake_first(demo_assessment: Assessment) -> None:
    a = demo_assessment
    flows = dependency_flows(a)
    links = {(x.asset_id, x.depends_on): x.share for x in a.links}
    deps = zip(a.ws.portfolio.ids, a.ws.portfolio.series("depends_on"), strict=True)
    edges = [(aid, dep) for aid, on in deps for dep in on]
    assert len(flows) == len(edges) == 88  # every demo asset has a location
    value = dict(zip(a.ws.portfolio.ids, a.inputs.exposed_value, strict=True))
    want = sorted((links.get(e, 0.0) * value[e[0]] for e in edges), reverse=True)
    assert flows["value_at_stake"].tolist() == pytest.approx(want)
    # Hamburg's plant (exposed 420m) on its Ningbo supplier: share 0.15 -> 63m
    first = flows.iloc[0]
    assert (first["asset_id"], first["depends_on"]) == ("PLT-DE-01", "SUP-CN-01")
    assert first["value_at_stake"] == pytest.approx(0.15 * 420e6)
