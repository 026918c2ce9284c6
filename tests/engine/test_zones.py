"""Zones in the engine: membership, distance decay and the combination rule, worked out by hand
on the tiny workspace (tests/data/tiny), and properties of the rule.

Tiny: P1 plant NOR at (18.9 E, 69.6 N), exposed 100; P2 plant FIN at (24.9 E, 60.2 N), exposed
250; O1 office DEU without coordinates, exposed 500. Curves: plant/alpha d = I/10; plant/beta
0 up to 2, then linear to 0.4 at 6; office/alpha d = I/20. Baseline alpha/beta: NOR 2/1,
FIN 4/3, DEU 1/0. So P2's loss at alpha a (beta 3) is 250 x (1 - (1 - a/10) x 0.9).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
import pyproj
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from riskapp.domain import Baseline, BaselineEntry, Scenario, Workspace
from riskapp.domain.plans import Plan, PlanBook
from riskapp.domain.regions import RegionCatalogue, RegionGroup
from riskapp.domain.zones import Decay, Geometry, Kernel, Zone, ZoneCatalogue
from riskapp.engine import evaluate_plans, score
from riskapp.engine.geo import zone_weights
from riskapp.engine.montecarlo import prepare_simulation, sampled_intensities
from riskapp.engine.places import Places

HELSINKI = (24.9, 60.2)
TROMSO = (18.9, 69.6)
GEOD = pyproj.Geod(ellps="WGS84")


def circle(zone_id: str, centre: tuple[float, float], radius_km: float, name: str = "") -> Zone:
    return Zone(
        id=zone_id,
        name=name or zone_id,
        geometry=Geometry(type="Point", coordinates=centre),
        within_km=radius_km,
    )


def square(zone_id: str, centre: tuple[float, float], half_deg: float) -> Zone:
    x, y = centre
    ring = [
        (x - half_deg, y - half_deg),
        (x + half_deg, y - half_deg),
        (x + half_deg, y + half_deg),
        (x - half_deg, y + half_deg),
        (x - half_deg, y - half_deg),
    ]  # anticlockwise, as GeoJSON writes an exterior
    return Zone(id=zone_id, name=zone_id, geometry=Geometry(type="Polygon", coordinates=[ring]))


def scenario(shocks: list[dict[str, Any]], sid: str = "z", frequency: float = 0.1) -> Scenario:
    return Scenario.model_validate(
        {"id": sid, "title": sid, "frequency": frequency, "warning_time_days": 30, "shocks": shocks}
    )


def with_zones(ws: Workspace, zones: list[Zone], scenarios: list[Scenario], **kw: Any) -> Workspace:
    return dataclasses.replace(ws, zones=ZoneCatalogue(zones=zones), scenarios=scenarios, **kw)


def p2_loss(alpha: float) -> float:
    return 250 * (1 - (1 - alpha / 10) * 0.9)


def losses(ws: Workspace) -> dict[str, float]:
    """Loss of each asset in the (last) scenario."""
    r = score(ws)
    return dict(zip(ws.portfolio.ids, r.asset_loss()[:, -1].tolist(), strict=True))


# -- membership -------------------------------------------------------------------------------


def test_circle_polygon_and_corridor_membership() -> None:
    lon = np.array([HELSINKI[0], TROMSO[0], np.nan])
    lat = np.array([HELSINKI[1], TROMSO[1], np.nan])
    # Tromsø is ~1,050 km from Helsinki: inside a 1,100 km circle, outside a 1,000 km one
    d = GEOD.inv(HELSINKI[0], HELSINKI[1], TROMSO[0], TROMSO[1])[2] / 1000
    assert 1000 < d < 1100
    corridor = Zone(
        id="gulf",
        name="gulf",
        geometry=Geometry(type="LineString", coordinates=[(22.0, 59.8), (28.0, 59.8)]),
        within_km=50,
    )
    zones = [
        circle("near", HELSINKI, 1100),
        circle("far", HELSINKI, 1000),
        square("box", HELSINKI, 0.5),
        corridor,
    ]
    w = zone_weights(lon, lat, zones)
    # Helsinki (60.2 N) is 0.4 deg = ~44.6 km north of the line at 59.8 N: inside 50 km
    assert w.tolist() == [[1, 1, 1, 1], [1, 0, 0, 0], [0, 0, 0, 0]]


def test_linear_and_exponential_decay_by_hand() -> None:
    # a hotspot 1 degree of latitude south of Helsinki: the geodesic distance, to the km
    spot = (HELSINKI[0], HELSINKI[1] - 1.0)
    d = round(GEOD.inv(spot[0], spot[1], HELSINKI[0], HELSINKI[1])[2] / 1000)
    assert d == 111
    point = Geometry(type="Point", coordinates=spot)
    linear = Zone(
        id="lin", name="lin", geometry=point, decay=Decay(kernel=Kernel.LINEAR, distance_km=200)
    )
    banded = Zone(
        id="band",
        name="band",
        geometry=point,
        within_km=100,
        decay=Decay(kernel=Kernel.LINEAR, distance_km=50),
    )
    expo = Zone(
        id="exp",
        name="exp",
        geometry=point,
        decay=Decay(kernel=Kernel.EXPONENTIAL, distance_km=55.5),
    )
    at = (np.array([HELSINKI[0]]), np.array([HELSINKI[1]]))
    w = zone_weights(*at, [linear, banded, expo], step=0)  # unrounded
    assert w[0, 0] == pytest.approx(1 - 111 / 200)  # 0.445
    assert w[0, 1] == pytest.approx(1 - 11 / 50)  # 11 km beyond the 100 km band: 0.78
    assert w[0, 2] == pytest.approx(0.25)  # two half-distances
    for zone, col in ((linear, 0), (banded, 1), (expo, 2)):
        assert zone.weight(111) == pytest.approx(w[0, col])
    # as the engine uses them: to the nearest 5 % (the workspace's default step)
    assert zone_weights(*at, [linear, banded, expo]).tolist() == [[0.45, 0.8, 0.25]]
    assert zone_weights(*at, [linear, banded, expo], step=0.1).tolist() == [[0.4, 0.8, 0.2]]
    # beyond the reach: nothing (exponential cut where the weight falls under 1 %)
    assert linear.weight(200) == 0.0
    assert expo.weight(55.5 * 6) == pytest.approx(0.5**6)
    assert expo.weight(55.5 * 7) == 0.0  # 0.5 ** 7 < 1 %


# -- the combination rule, by hand ------------------------------------------------------------


def test_zone_shock_hits_only_assets_in_the_zone(tiny: Workspace) -> None:
    ws = with_zones(
        tiny,
        [circle("hel", HELSINKI, 50)],
        [scenario([{"target": "hel", "factor": "alpha", "op": "add", "value": 2}])],
    )
    got = losses(ws)
    assert got["P2"] == pytest.approx(p2_loss(6))  # alpha 4 + 2: 250 x 0.64 = 160
    assert got["P1"] == pytest.approx(20.0)  # NOR alpha 2 -> 0.2 x 100, untouched
    assert got["O1"] == pytest.approx(25.0)  # no coordinates: in no zone


def test_zone_shocks_apply_after_country_shocks_whatever_the_file_order(tiny: Workspace) -> None:
    shocks = [
        {"target": "hel", "factor": "alpha", "op": "add", "value": 2},
        {"target": "FIN", "factor": "alpha", "op": "set", "value": 5},
    ]
    ws = with_zones(tiny, [circle("hel", HELSINKI, 50)], [scenario(shocks)])
    assert losses(ws)["P2"] == pytest.approx(p2_loss(7))  # set 5, then + 2


def test_an_asset_in_several_zones_takes_the_worst(tiny: Workspace) -> None:
    shocks = [
        {"target": "small", "factor": "alpha", "op": "add", "value": 1},
        {"target": "large", "factor": "alpha", "op": "add", "value": 3},
    ]
    zones = [circle("small", HELSINKI, 10), circle("large", HELSINKI, 500)]
    ws = with_zones(tiny, zones, [scenario(shocks)])
    assert losses(ws)["P2"] == pytest.approx(p2_loss(7))  # max(4 + 1, 4 + 3), not 4 + 4
    # the same two zones lowering: the worst is the smaller cut
    down = [{**s, "value": -s["value"]} for s in shocks]
    ws = with_zones(tiny, zones, [scenario(down)])
    assert losses(ws)["P2"] == pytest.approx(p2_loss(3))


def test_a_zone_shock_may_lower_intensity(tiny: Workspace) -> None:
    ws = with_zones(
        tiny,
        [circle("hel", HELSINKI, 50)],
        [scenario([{"target": "hel", "factor": "alpha", "op": "add", "value": -3}])],
    )
    assert losses(ws)["P2"] == pytest.approx(p2_loss(1))


def test_decay_weights_the_shock_effect(tiny: Workspace) -> None:
    spot = (HELSINKI[0], HELSINKI[1] - 1.0)  # 111 km away: weight 0.445, used as 0.45
    zone = Zone(
        id="front",
        name="front",
        geometry=Geometry(type="Point", coordinates=spot),
        decay=Decay(kernel=Kernel.LINEAR, distance_km=200),
    )
    ws = with_zones(
        tiny,
        [zone],
        [scenario([{"target": "front", "factor": "alpha", "op": "add", "value": 4}])],
    )
    # x + w (op(x) - x) = 4 + 0.45 x 4
    assert losses(ws)["P2"] == pytest.approx(p2_loss(4 + 0.45 * 4))
    # a set: 4 + 0.45 x (9 - 4)
    ws = with_zones(
        tiny,
        [zone],
        [scenario([{"target": "front", "factor": "alpha", "op": "set", "value": 9}])],
    )
    assert losses(ws)["P2"] == pytest.approx(p2_loss(4 + 0.45 * 5))


def test_a_region_group_may_hold_zones(tiny: Workspace) -> None:
    regions = RegionCatalogue(
        groups=[
            *tiny.regions.groups,
            RegionGroup(id="mixed", name="Mixed", members=["NOR", "hel"]),
        ]
    )
    ws = with_zones(
        tiny,
        [circle("hel", HELSINKI, 50)],
        [scenario([{"target": "mixed", "factor": "alpha", "op": "add", "value": 1}])],
        regions=regions,
    )
    got = losses(ws)
    assert got["P1"] == pytest.approx(30.0)  # NOR alpha 3
    assert got["P2"] == pytest.approx(p2_loss(5))  # FIN alpha 4 + 1 through the zone
    assert got["O1"] == pytest.approx(25.0)


def test_zones_in_plan_coverage_and_triggers(tiny: Workspace) -> None:
    plan = Plan.model_validate(
        {
            "id": "hel_plan",
            "title": "Helsinki hardening",
            "owner": "Ops",
            "status": "active",
            "trigger": {"factor_levels": [{"factor": "alpha", "region": "hel", "at_least": 6}]},
            "actions": [{"title": "Harden", "lead_time_days": 0, "one_off_cost": 1}],
            "coverage": {"regions": ["hel"]},
            "effect": {"damage_multiplier": {"alpha": 0.5}},
        }
    )
    shock = {"target": "hel", "factor": "alpha", "op": "add", "value": 2}
    ws = with_zones(
        tiny,
        [circle("hel", HELSINKI, 50)],
        [scenario([]), scenario([shock], sid="up")],
        plans=PlanBook(plans=[plan]),
    )
    ev = evaluate_plans(ws, score(ws))
    ids = list(ws.portfolio.ids)
    assert ev.coverage[:, 0].tolist() == [i == "P2" for i in ids]
    # the zone's peak alpha: 4 at the status quo (no trigger), 6 in "up" (trigger)
    assert ev.triggered[:, 0].tolist() == [False, True]


def test_monte_carlo_draws_the_same_program(tiny: Workspace) -> None:
    shocks = [
        {"target": "small", "factor": "alpha", "op": "add", "value": 1,
         "range": {"low": 0, "mode": 1, "high": 3}},
        {"target": "large", "factor": "alpha", "op": "add", "value": 3},
        {"target": "FIN", "factor": "beta", "op": "set", "value": 5},
    ]  # fmt: skip
    zones = [circle("small", HELSINKI, 10), circle("large", HELSINKI, 500)]
    ws = with_zones(tiny, zones, [scenario(shocks)])
    result = score(ws)
    sim = prepare_simulation(ws, result=result)
    m = sim.model
    nominal = m.sampling.shock_value[np.newaxis]
    drawn = sampled_intensities(m.baseline, m.programs[0], nominal)
    np.testing.assert_allclose(drawn[0], result.intensities[0])
    # at the range's top the small zone (4 + 3 = 7) equals the large one: still 7, not 10
    top = nominal.copy()
    top[0, 0] = 3.0
    p2_place = int(result.inputs.place_index[list(ws.portfolio.ids).index("P2")])
    assert sampled_intensities(m.baseline, m.programs[0], top)[0, p2_place, 0] == 7.0


def test_places_group_assets_sharing_a_country_and_weights() -> None:
    weights = np.array([[0, 0], [1, 0], [1, 0], [0.5, 1], [0, 0]], dtype=float)
    country = np.array([0, 0, 1, 0, 1])
    places, index = Places.locate(["AAA", "BBB"], country, ["z1", "z2"], weights)
    assert index[[0, 4]].tolist() == [0, 1]  # outside every zone: the country's own place
    assert places.count == 2 + 3
    assert len({int(index[1]), int(index[2]), int(index[3])}) == 3
    assert places.country[index].tolist() == country.tolist()
    np.testing.assert_array_equal(places.weight[index], weights)


# -- properties -------------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(
    small=st.floats(-5, 5),
    extra=st.floats(0, 5),
    radius=st.floats(1, 2000),
)
def test_a_stronger_zone_shock_never_lowers_a_loss(
    tiny: Workspace, small: float, extra: float, radius: float
) -> None:
    zones = [circle("zz", HELSINKI, radius)]

    def run(value: float) -> np.ndarray:
        ws = with_zones(
            tiny,
            zones,
            [scenario([{"target": "zz", "factor": "alpha", "op": "add", "value": value}])],
        )
        return score(ws).asset_loss()[:, 0]

    weaker, stronger = run(small), run(min(10.0, small + extra))
    assert (stronger >= weaker - 1e-9).all()


@settings(max_examples=40, deadline=None)
@given(
    a=st.floats(-10, 10),
    b=st.floats(-10, 10),
    ra=st.floats(1, 1500),
    rb=st.floats(1, 1500),
)
def test_several_zones_give_the_highest_single_zone_result(
    tiny: Workspace, a: float, b: float, ra: float, rb: float
) -> None:
    zones = [circle("za", HELSINKI, ra), circle("zb", (HELSINKI[0] + 2, HELSINKI[1]), rb)]
    sa = {"target": "za", "factor": "alpha", "op": "add", "value": a}
    sb = {"target": "zb", "factor": "alpha", "op": "add", "value": b}
    both = score(with_zones(tiny, zones, [scenario([sa, sb])])).intensities
    only_a = score(with_zones(tiny, zones, [scenario([sa])])).intensities
    only_b = score(with_zones(tiny, zones, [scenario([sb])])).intensities
    r = score(with_zones(tiny, zones, [scenario([sa, sb])]))
    w = r.inputs.places.weight
    in_a, in_b = w[:, 0] > 0, w[:, 1] > 0
    alpha = 0
    for p in range(r.inputs.places.count):
        if in_a[p] and in_b[p]:
            expected = max(only_a[0, p, alpha], only_b[0, p, alpha])
        elif in_a[p]:
            expected = only_a[0, p, alpha]
        elif in_b[p]:
            expected = only_b[0, p, alpha]
        else:
            expected = r.inputs.place_baseline[p, alpha]
        assert both[0, p, alpha] == pytest.approx(expected)


@settings(max_examples=60, deadline=None)
@given(d1=st.integers(0, 3000), d2=st.integers(0, 3000), within=st.floats(0, 500),
       kernel=st.sampled_from(list(Kernel)), reach=st.floats(1, 1000))  # fmt: skip
def test_weights_never_grow_with_distance(
    d1: int, d2: int, within: float, kernel: Kernel, reach: float
) -> None:
    zone = Zone(
        id="h",
        name="h",
        geometry=Geometry(type="Point", coordinates=HELSINKI),
        within_km=within,
        decay=Decay(kernel=kernel, distance_km=reach),
    )
    near, far = sorted((d1, d2))
    assert 0.0 <= zone.weight(far) <= zone.weight(near) <= 1.0
    assert math.isclose(zone.weight(min(near, math.floor(within))), 1.0)


# -- baseline rows on zones -------------------------------------------------------------------


def zone_rows(ws: Workspace, rows: list[tuple[str, str, float]]) -> Baseline:
    extra = [BaselineEntry(country=z, factor=f, intensity=v, source="test") for z, f, v in rows]
    return Baseline(entries=[*ws.baseline.entries, *extra])


def test_a_zone_baseline_row_sets_the_status_quo_in_the_zone(tiny: Workspace) -> None:
    spot = (HELSINKI[0], HELSINKI[1] - 1.0)  # 111 km away: weight 0.445, used as 0.45: weight 0.445
    front = Zone(
        id="front",
        name="front",
        geometry=Geometry(type="Point", coordinates=spot),
        decay=Decay(kernel=Kernel.LINEAR, distance_km=200),
    )
    zones = [circle("hel", HELSINKI, 50), circle("hel_wide", HELSINKI, 300), front]
    shock = {"target": "FIN", "factor": "alpha", "op": "add", "value": 1}
    ws = with_zones(
        tiny,
        zones,
        [scenario([], sid="calm"), scenario([shock])],
        baseline=zone_rows(tiny, [("hel", "alpha", 6), ("hel_wide", "alpha", 5)]),
    )
    r = score(ws)
    p2 = list(ws.portfolio.ids).index("P2")
    # the worse of the two zones' rows (6 over 5), at full weight; the country shock on top
    assert r.intensities[:, int(r.inputs.place_index[p2]), 0].tolist() == [6.0, 7.0]
    assert r.status_quo_loss() == pytest.approx(20 + p2_loss(6) + 25)
    # a hotspot's row is weighted: 4 + 0.45 x (9 - 4)
    ws = with_zones(tiny, zones, [scenario([])], baseline=zone_rows(tiny, [("front", "alpha", 9)]))
    r = score(ws)
    assert r.intensities[0, int(r.inputs.place_index[p2]), 0] == pytest.approx(4 + 0.45 * 5)


@settings(max_examples=10, deadline=None)
@given(st.integers(min_value=1, max_value=400), st.integers(min_value=0, max_value=2**32 - 1))
def test_repeated_coordinates_are_located_once_with_the_same_weights(sites: int, seed: int) -> None:
    """A register that repeats its sites' coordinates (and leaves some rows without any) gets
    from `located_zones`' one-location-per-distinct-point path the weights every point gets
    when located on its own."""
    from riskapp.engine import geo

    rng = np.random.default_rng(seed)
    n = geo.DISTINCT_FROM + 7
    spot_lon = rng.uniform(17.0, 27.0, sites)
    spot_lat = rng.uniform(58.0, 71.0, sites)
    pick = rng.integers(0, sites, n)
    lon, lat = spot_lon[pick], spot_lat[pick]
    lon[::97] = np.nan  # no coordinates
    lat[::97] = np.nan
    zones = [
        circle("oslo", (10.7, 59.9), 800.0),
        Zone(
            id="helsinki",
            name="helsinki",
            geometry=Geometry(type="Point", coordinates=HELSINKI),
            within_km=300.0,
            decay=Decay(kernel=Kernel.LINEAR, distance_km=200),
        ),
        square("north", TROMSO, 3.0),
    ]
    once = geo.located_zones(lon, lat, zones)
    assert len(once.code) <= sites  # located once per distinct point
    each = geo.located_zones(lon[: geo.DISTINCT_FROM - 1], lat[: geo.DISTINCT_FROM - 1], zones)
    assert np.array_equal(once.dense()[: geo.DISTINCT_FROM - 1], each.dense())
    assert not once.dense()[::97].any()
