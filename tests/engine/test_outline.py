"""Zone outlines for maps (riskapp.engine.geo.outline), checked against geodesic distances
(pyproj.Geod on the WGS84 ellipsoid) and against the weights the engine gives the same zone."""

from __future__ import annotations

import numpy as np
import pyproj
import pytest
import shapely

from riskapp.domain.zones import Decay, Geometry, Kernel, Zone
from riskapp.engine.geo import geometry, outline, zone_weights

GEOD = pyproj.Geod(ellps="WGS84")
HELSINKI = (24.9, 60.2)


def vertices(zone: Zone, tolerance_km: float = 2.0) -> np.ndarray:
    return shapely.get_coordinates(outline(zone, tolerance_km))


def km_from(centre: tuple[float, float], xy: np.ndarray) -> np.ndarray:
    n = len(xy)
    dist = GEOD.inv(np.full(n, centre[0]), np.full(n, centre[1]), xy[:, 0], xy[:, 1])[2]
    return np.asarray(dist) / 1000


def point_zone(
    centre: tuple[float, float], within_km: float = 0, decay: Decay | None = None
) -> Zone:
    return Zone(
        id="z",
        name="z",
        geometry=Geometry(type="Point", coordinates=centre),
        within_km=within_km,
        decay=decay,
    )


def on_circle(xy: np.ndarray, centre: tuple[float, float], radius_km: float) -> np.ndarray:
    """The vertices' distances from the centre, checked to lie on the circle or, where a side
    was cut into pieces (OUTLINE_STEP_KM), on its chord: inside by at most the tolerance."""
    d = km_from(centre, xy)
    assert d.max() == pytest.approx(radius_km, abs=0.001)
    assert d.min() > radius_km - 2.0
    return d


def test_a_circle_outline_lies_at_its_radius() -> None:
    zone = point_zone(HELSINKI, 150)
    shape = outline(zone)
    xy = vertices(zone)
    assert shape.geom_type == "Polygon" and shape.is_valid
    d = on_circle(xy, HELSINKI, 150)
    # the buffer is drawn in the projection distances are measured in: its vertices are at
    # the radius from the centre, to the metre; simplified to 2 km, a chord strays from the
    # circle by 150 (1 - cos(t/2)) = 2 km at t = 0.33 rad: about 20 of them around, not the
    # buffer's 128; each chord, 47 km long, is cut once (sides of at most 25 km)
    on = np.isclose(d, 150, atol=0.001)
    assert 16 <= on.sum() - 1 <= 40
    assert len(xy) <= 2 * on.sum()
    # its area, by geodesic polygon area, is a circle's to within the chords' loss (< 3 %)
    area = abs(GEOD.geometry_area_perimeter(shape)[0]) / 1e6
    assert 0.97 * np.pi * 150**2 < area < np.pi * 150**2
    # a finer tolerance keeps more of the buffer's vertices, nearer to the circle
    fine = vertices(zone, tolerance_km=0.1)
    assert np.isclose(km_from(HELSINKI, fine), 150, atol=0.001).sum() > 2 * on.sum()
    assert km_from(HELSINKI, fine).min() > 149.9


def test_a_hotspot_draws_its_band_or_else_its_reach() -> None:
    linear = Decay(kernel=Kernel.LINEAR, distance_km=200)
    # no band: the reach (200 km, where the linear weight reaches 0)
    on_circle(vertices(point_zone(HELSINKI, 0, linear)), HELSINKI, 200)
    # with a band: the band (full weight), not the fade beyond it
    on_circle(vertices(point_zone(HELSINKI, 100, linear)), HELSINKI, 100)
    # exponential: reach = half-distance x log2(100) = 50 x 6.644 = 332.2 km
    expo = point_zone(HELSINKI, 0, Decay(kernel=Kernel.EXPONENTIAL, distance_km=50))
    assert expo.reach_km == pytest.approx(332.19, abs=0.01)
    on_circle(vertices(expo), HELSINKI, expo.reach_km)


def test_a_corridor_outline_is_where_its_weight_is_one() -> None:
    # along a meridian (a north-south corridor: its line is a geodesic in any projection)
    corridor = Zone(
        id="strait",
        name="strait",
        geometry=Geometry(type="LineString", coordinates=[(25.0, 58.0), (25.0, 62.0)]),
        within_km=50,
    )
    shape = outline(corridor)
    xy = shapely.get_coordinates(shape)
    # every vertex of the outline is in the corridor by the engine's own measure (distance
    # rounded to the km, 50 km or less: weight 1) ...
    assert zone_weights(xy[:, 0], xy[:, 1], [corridor]).ravel().tolist() == [1.0] * len(xy)
    # ... and points 5 km further out (the sides' vertices, pushed east or west) are not;
    # the long sides (445 km) are cut into pieces of at most 25 km: 12 or more vertices on
    # each side between 58.5 and 61.5 N (333 km)
    sides = xy[(xy[:, 1] > 58.5) & (xy[:, 1] < 61.5)]
    east, west = sides[sides[:, 0] > 25.0], sides[sides[:, 0] < 25.0]
    assert len(east) >= 12 and len(west) >= 12
    step = 5 / (111.32 * np.cos(np.radians(sides[:, 1])))
    lon = np.r_[east[:, 0] + step[sides[:, 0] > 25.0], west[:, 0] - step[sides[:, 0] < 25.0]]
    lat = np.r_[east[:, 1], west[:, 1]]
    assert zone_weights(lon, lat, [corridor]).ravel().tolist() == [0.0] * len(lon)
    # it runs beyond the line's ends by the half-width: 50 km is 0.45 deg of latitude
    _, south, _, north = shape.bounds
    assert south == pytest.approx(58.0 - 50 / 111.2, abs=0.01)
    assert north == pytest.approx(62.0 + 50 / 111.2, abs=0.01)


def test_a_polygon_is_drawn_as_itself() -> None:
    ring = [(20.0, 58.0), (22.0, 58.0), (22.0, 60.0), (20.0, 60.0), (20.0, 58.0)]
    zone = Zone(id="box", name="box", geometry=Geometry(type="Polygon", coordinates=[ring]))
    assert outline(zone).equals(geometry(zone))
    # a polygon with a band is widened by it (a 10 km band: about 0.09 deg of latitude)
    banded = zone.model_copy(update={"within_km": 10.0})
    south, north = outline(banded).bounds[1], outline(banded).bounds[3]
    assert south == pytest.approx(58.0 - 10 / 111.2, abs=0.005)
    assert north == pytest.approx(60.0 + 10 / 111.2, abs=0.005)


def test_a_zone_across_the_antimeridian_is_one_piece() -> None:
    fiji = (179.5, -17.0)
    zone = point_zone(fiji, 300)
    shape = outline(zone)
    xy = shapely.get_coordinates(shape)
    assert shape.is_valid
    # longitudes run on past -180 instead of jumping to +180: one ring, 6 degrees wide
    west, _, east, _ = shape.bounds
    assert east - west == pytest.approx(2 * 300 / (111.32 * np.cos(np.radians(17))), rel=0.02)
    on_circle(xy, fiji, 300)
