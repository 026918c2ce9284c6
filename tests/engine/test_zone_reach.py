"""The shortcuts of riskapp.engine.geo.located_zones (a box of each zone's reach, an area around
it within which every point has weight 1, an area outside which every point has weight 0,
locations repeated in a register measured once) give the weights of measuring every point:
checked against a plain reference on points crowded around the edges of the bands, where a
shortcut drawn too wide or too narrow would show."""

from __future__ import annotations

import numpy as np
import pyproj
import pytest
import shapely

from riskapp.domain.zones import Decay, Geometry, Kernel, Zone
from riskapp.engine.geo import (
    DEFAULT_STEP,
    _distance_km,
    _Reach,
    geometry,
    kernel_weights,
    located_zones,
    zone_weights,
)
from riskapp.io.sea_areas import sea_area

GEOD = pyproj.Geod(ellps="WGS84")


def plain_weights(
    lon: np.ndarray, lat: np.ndarray, zones: list[Zone], step: float = DEFAULT_STEP
) -> np.ndarray:
    """Every zone against every point: inside a polygon 0 km, else the distance, rounded."""
    out = np.zeros((len(lon), len(zones)))
    for z, zone in enumerate(zones):
        geom = geometry(zone)
        inside = np.zeros(len(lon), dtype=bool)
        if geom.geom_type in ("Polygon", "MultiPolygon"):
            inside = shapely.contains_xy(geom, lon, lat)
        if zone.reach_km > 0:
            d = np.where(inside, 0.0, np.rint(_distance_km(geom, lon, lat)))
        else:
            d = np.where(inside, 0.0, np.inf)
        out[:, z] = kernel_weights(zone, d)
    return np.minimum(np.rint(out / step) * step, 1.0)


def zones() -> list[Zone]:
    def zone(zid: str, kind: str, coords: object, within: float = 0, **kw: object) -> Zone:
        return Zone(
            id=zid,
            name=zid,
            geometry=Geometry(type=kind, coordinates=coords),  # type: ignore[arg-type]
            within_km=within,
            **kw,  # type: ignore[arg-type]
        )

    square = [[(20.0, 50.0), (24.0, 50.0), (24.0, 53.0), (20.0, 53.0), (20.0, 50.0)]]
    horseshoe = [
        [
            *[(40.0, 40.0), (46.0, 40.0), (46.0, 46.0), (40.0, 46.0), (40.0, 44.5)],
            *[(44.5, 44.5), (44.5, 41.5), (40.0, 41.5), (40.0, 40.0)],
        ]
    ]
    return [
        zone("small", "Point", (10.0, 45.0), 7.3),
        zone("circle", "Point", (10.0, 45.0), 250.0),
        zone("arctic", "Point", (25.0, 78.0), 900.0),  # high latitude, wide
        zone("huge", "Point", (-60.0, -20.0), 2500.0),
        zone("corridor", "LineString", [(0.0, 40.0), (6.0, 43.0), (9.0, 41.0)], 60.5),
        zone("box", "Polygon", square),
        zone("banded", "Polygon", square, 40.0),
        zone("dateline", "Point", (179.5, -17.0), 300.0),  # across the antimeridian
        zone("polar", "Point", (40.0, 86.0), 300.0),  # its box reaches 88.7 N
        zone("pole", "Point", (-100.0, 88.6), 25.0),
        zone(
            "hotspot",
            "LineString",
            [(30.0, 60.0), (33.0, 61.0)],
            20.0,
            decay=Decay(kernel=Kernel.LINEAR, distance_km=150.0),
        ),
        zone(
            "fading",
            "Point",
            (10.0, 45.0),
            decay=Decay(kernel=Kernel.EXPONENTIAL, distance_km=40.0),
        ),
        # concave: the box is drawn around its convex hull, the areas around the shape itself
        zone(
            "horseshoe",
            "Polygon",
            horseshoe,
            30.0,
            decay=Decay(kernel=Kernel.LINEAR, distance_km=80.0),
        ),
        # a shipped sea area, banded: thousands of vertices, a coastline of bays and islands
        sea_area("gulf_of_finland").model_copy(update={"id": "gulf", "within_km": 25.0}),
    ]


def crowded_points(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Points at distances within a few km of each circle's band, points along the corridor
    and around the polygons, and random points near every zone, rounded as registers hold
    them (0.001 degree); some repeated, some without coordinates."""
    lon: list[np.ndarray] = []
    lat: list[np.ndarray] = []
    for zone in zones():
        geom = geometry(zone)
        if zone.geometry is not None and zone.geometry.type.value == "Point":
            k = 3000
            x, y = zone.geometry.coordinates  # type: ignore[misc]
            dist = (zone.within_km + rng.uniform(-4, 4, k)) * 1000
            fx, fy, _ = GEOD.fwd(np.full(k, x), np.full(k, y), rng.uniform(-180, 180, k), dist)
            lon.append(np.asarray(fx))
            lat.append(np.asarray(fy))
        west, south, east, north = shapely.bounds(geom).tolist()
        k = 3000
        pad = 1.0 + zone.reach_km / 80.0
        lon.append(rng.uniform(west - pad, east + pad, k))
        lat.append(rng.uniform(max(-89.0, south - pad), min(89.0, north + pad), k))
    x = np.round(np.clip(np.concatenate(lon), -180, 180), 3)
    y = np.round(np.concatenate(lat), 3)
    again = rng.integers(0, len(x), 2000)
    x, y = np.r_[x, x[again]], np.r_[y, y[again]]
    x[rng.integers(0, len(x), 50)] = np.nan
    return x, y


@pytest.mark.parametrize("step", [DEFAULT_STEP, 0.001])
def test_shortcuts_give_the_weights_of_measuring_every_point(step: float) -> None:
    # a step of 0.001 gives hundreds of distinct weights: the rows' keys must be renumbered
    # on the way (they would overflow 64 bits)
    lon, lat = crowded_points(np.random.default_rng(5))
    zs = zones()
    got = zone_weights(lon, lat, zs, step)
    known = ~(np.isnan(lon) | np.isnan(lat))
    want = np.zeros_like(got)
    want[known] = plain_weights(lon[known], lat[known], zs, step)
    assert np.array_equal(got, want)
    # the points crowd the edges: each zone holds points of weight 1 and of weight 0 near it
    for z in range(len(zs)):
        assert (got[:, z] == 1).any() and (got[:, z] == 0).any()


def test_points_in_no_zone_have_no_row_and_points_with_the_same_weights_share_one() -> None:
    lon = np.array([10.0, 10.0, 100.0, np.nan, 10.0, 10.0])
    lat = np.array([45.0, 45.0, 10.0, 45.0, 45.5, 45.01])
    w = located_zones(lon, lat, zones()[:2])
    assert w.location.tolist() == [0, 0, -1, -1, 1, 0]
    assert w.dense().tolist() == [[1, 1], [1, 1], [0, 0], [0, 0], [0, 1], [1, 1]]
    assert len(w.code) == 2


def test_many_overlapping_zones_with_fine_weights() -> None:
    # twelve fading zones over the same points, weights to 0.001: a point's row has twelve
    # cells of hundreds of values each, more than 64 bits can number at once
    centre = (15.0, 50.0)
    zs = [
        Zone(
            id=f"z{i}",
            name=f"z{i}",
            geometry=Geometry(type="Point", coordinates=(centre[0] + i / 10, centre[1])),
            within_km=float(10 * i),
            decay=Decay(kernel=Kernel.LINEAR, distance_km=300.0 + 50 * i),
        )
        for i in range(12)
    ]
    rng = np.random.default_rng(2)
    lon = np.round(rng.uniform(10, 20, 20_000), 3)
    lat = np.round(rng.uniform(47, 53, 20_000), 3)
    got = located_zones(lon, lat, zs, 0.001)
    assert np.array_equal(got.dense(), plain_weights(lon, lat, zs, 0.001))
    assert len(got.code) > 1000  # many distinct rows


def test_a_zones_box_holds_the_area_of_its_reach() -> None:
    # the box comes from the widened convex hull, the area from the widened shape: every
    # point of the area lies in the box, and for a concave zone the two differ
    for zone in zones():
        reach = _Reach(zone, geometry(zone))
        outer, inner = reach.areas()
        if outer is None:
            continue
        west, south, east, north = reach.bounds
        x0, y0, x1, y1 = shapely.bounds(outer).tolist()
        assert west <= x0 and south <= y0 and x1 <= east and y1 <= north, zone.id
        if inner is not None:
            assert shapely.contains(outer, inner), zone.id
    horseshoe = next(z for z in zones() if z.id == "horseshoe")
    outer, _ = _Reach(horseshoe, geometry(horseshoe)).areas()
    assert outer is not None
    assert not shapely.contains_xy(outer, 42.0, 43.0)  # the bay between the arms is far
