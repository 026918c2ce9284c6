"""Where assets lie: each asset's weight in each zone (riskapp.domain.zones), for whole arrays.

    w[a, z] = 1 inside zone z's band (d <= within_km), the decay beyond it, 0 elsewhere

with d the distance in km from the asset to the zone's geometry, rounded to the nearest km
(0 inside a polygon), and the weight rounded to the nearest `step` (the workspace's
zone_weight_step, 5 % by default): assets whose weights round alike share a place and a damage
ratio, so the number of places grows with the steps, not with the assets.

Distances are measured in an azimuthal equidistant projection centred
on the zone (pyproj): exact from its centre, within 0.2 % up to 650 km from it and 1 % up to
1,500 km. Polygons are tested in longitude/latitude, as GeoJSON draws them (shapely).

Cost: assets sharing coordinates are located once, sorted by longitude; each zone measures
only the locations in the box of its reach (a slice of the longitudes, then a test of the
latitudes), so a location far from every zone costs nothing but its share of that sort. The
weights are held compactly (`ZoneWeights`: a row of one-byte codes per distinct location),
not as a float per asset and zone.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from riskapp.domain.zones import EXPONENTIAL_FLOOR, GeometryType, Kernel, Zone

if TYPE_CHECKING:
    import shapely

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

KM_PER_DEGREE = 111.32  # at the equator; longitude degrees shrink with cos(latitude)


def geometry(zone: Zone) -> shapely.Geometry:
    """The zone's geometry as a shapely object (longitude/latitude)."""
    import shapely

    g = zone.geometry
    if g is None:
        raise ValueError(f"zone {zone.id!r} has no geometry: its members come from the register")
    c: Any = g.coordinates
    if g.type is GeometryType.POINT:
        return shapely.Point(c)
    if g.type is GeometryType.LINE:
        return shapely.LineString(c)
    if g.type is GeometryType.POLYGON:
        return shapely.Polygon(c[0], c[1:])
    return shapely.MultiPolygon([shapely.Polygon(p[0], p[1:]) for p in c])


def kernel_weights(zone: Zone, distance_km: FloatArray) -> FloatArray:
    """Weights at distances (km, already rounded) from the zone's geometry: 1 within the
    band, the decay beyond it (`Zone.weight` for one distance)."""
    d = distance_km - zone.within_km
    w = np.where(d <= 0, 1.0, 0.0)
    if zone.decay is not None:
        beyond = d > 0
        if zone.decay.kernel is Kernel.LINEAR:
            fade = np.maximum(0.0, 1.0 - d / zone.decay.distance_km)
        else:
            fade = 0.5 ** (np.maximum(d, 0.0) / zone.decay.distance_km)
            fade = np.where(fade >= EXPONENTIAL_FLOOR, fade, 0.0)
        w = np.where(beyond, fade, w)
    result: FloatArray = w.astype(np.float64)
    return result


def _plane(geom: shapely.Geometry) -> tuple[Any, Any]:
    """Transformers to and from the azimuthal equidistant projection centred on a geometry,
    the plane in which distances to a zone are measured and its bands drawn (WGS 84; a PROJ
    pipeline, which builds in 0.1 ms where a transformer between two CRS takes 7 ms)."""
    centre = geom.centroid
    forward = _pipeline(float(centre.x), float(centre.y))
    return forward, _Inverse(forward)


@functools.lru_cache(maxsize=512)
def _pipeline(lon: float, lat: float) -> Any:
    import pyproj

    return pyproj.Transformer.from_pipeline(
        "+proj=pipeline +step +proj=unitconvert +xy_in=deg +xy_out=rad "
        f"+step +proj=aeqd +lat_0={lat!r} +lon_0={lon!r} +ellps=WGS84"
    )


class _Inverse:
    """A pipeline run backwards, with the `transform(x, y)` of a transformer."""

    def __init__(self, forward: Any) -> None:
        self._forward = forward

    def transform(self, x: Any, y: Any) -> Any:
        return self._forward.transform(x, y, direction="INVERSE")


def _reach_box(zone: Zone, geom: shapely.Geometry) -> shapely.Geometry:
    """A box in longitude/latitude holding everywhere the zone's weight can be above 0: its
    geometry widened by its reach in the plane distances are measured in (a line there is a
    curve in longitude/latitude, bulging towards the pole), with a margin."""
    import shapely

    if zone.reach_km == 0:
        return shapely.box(*shapely.bounds(geom).tolist())
    to_plane, to_lonlat = _plane(geom)
    flat = shapely.transform(
        geom, lambda xy: np.column_stack(to_plane.transform(xy[:, 0], xy[:, 1]))
    )
    area = shapely.buffer(flat, (zone.reach_km * 1.01 + 2.0) * 1000.0, quad_segs=16)
    area = shapely.segmentize(area, 25_000.0)
    xy = shapely.get_coordinates(area)
    lon, lat = to_lonlat.transform(xy[:, 0], xy[:, 1])
    lon, lat = np.asarray(lon), np.asarray(lat)
    south, north = max(-90.0, float(lat.min()) - 0.01), min(90.0, float(lat.max()) + 0.01)
    if np.abs(np.diff(lon)).max(initial=0.0) > 180 or north >= 89.9 or south <= -89.9:
        return shapely.box(-180.0, south, 180.0, north)  # across the antimeridian or a pole
    return shapely.box(float(lon.min()) - 0.01, south, float(lon.max()) + 0.01, north)


def _distance_km(geom: shapely.Geometry, lon: FloatArray, lat: FloatArray) -> FloatArray:
    """Distance (km) from each point to the geometry, in an azimuthal equidistant projection
    centred on the geometry; 0 inside a polygon."""
    import shapely

    to_plane, _ = _plane(geom)
    x, y = to_plane.transform(lon, lat)
    if geom.geom_type == "Point":  # no shapely points needed: the plane's own distance
        cx, cy = to_plane.transform(shapely.get_x(geom), shapely.get_y(geom))
        dx, dy = np.asarray(x) - cx, np.asarray(y) - cy
        point: FloatArray = np.sqrt(dx * dx + dy * dy) / 1000.0
        return point
    flat = shapely.transform(
        geom, lambda xy: np.column_stack(to_plane.transform(xy[:, 0], xy[:, 1]))
    )
    d = shapely.distance(shapely.points(np.asarray(x), np.asarray(y)), flat) / 1000.0
    result: FloatArray = np.asarray(d, dtype=np.float64)
    return result


DEFAULT_STEP = 0.05


@dataclass(frozen=True)
class ZoneWeights:
    """(N, Z) weights of points in zones, held compactly: point i's row is row `location[i]`
    of `code` (-1: a point in no zone), whose cells index the distinct weights `value`
    (value[0] == 0). Weights are rounded to a step, so they take few values and fit in one
    byte a cell; points sharing coordinates share a row. `dense()` is the plain array."""

    location: IntArray  # (N,)
    code: npt.NDArray[np.unsignedinteger[Any]]  # (U, Z)
    value: FloatArray  # (K,) the distinct weights

    @classmethod
    def of_dense(cls, weights: FloatArray) -> ZoneWeights:
        """The compact form of a plain (N, Z) array (a row per point)."""
        w = np.asarray(weights, dtype=np.float64)
        values, inverse = np.unique(np.r_[0.0, w.reshape(-1)], return_inverse=True)
        code = inverse[1:].reshape(w.shape).astype(_code_type(len(values)))
        return cls(np.arange(len(w), dtype=np.int64), code, values)

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.location), int(self.code.shape[1])

    def rows(self, points: IntArray) -> FloatArray:
        """(n, Z) the plain weights of some points."""
        at = self.location[points]
        out = np.zeros((len(points), self.shape[1]))
        inside = at >= 0
        out[inside] = self.value[self.code[at[inside]]]
        return out

    def dense(self) -> FloatArray:
        """(N, Z) the plain array."""
        return self.rows(np.arange(self.shape[0], dtype=np.int64))

    def widened(self, columns: Sequence[int], z_count: int) -> ZoneWeights:
        """The same weights as columns `columns` of `z_count` zones (0 in the others)."""
        if list(columns) == list(range(z_count)):
            return self
        code = np.zeros((len(self.code), z_count), dtype=self.code.dtype)
        code[:, list(columns)] = self.code
        return ZoneWeights(self.location, code, self.value)

    def named(self, points: IntArray, clear: IntArray, column: IntArray) -> ZoneWeights:
        """`points` given rows of their own: their weights with the columns `clear` set to 0,
        then each point's columns `column` (-1: none; one per point, or a row of several per
        point) set to 1 (an asset the register places in a subdivision and its parents)."""
        values = self.value
        one = np.flatnonzero(values == 1.0)
        if not len(one):
            values = np.r_[values, 1.0]
            one = np.array([len(values) - 1])
        dtype = np.promote_types(self.code.dtype, _code_type(len(values)))
        at = self.location[points]
        own = np.zeros((len(points), self.code.shape[1]), dtype=dtype)
        own[at >= 0] = self.code[at[at >= 0]]
        own[:, clear] = 0
        columns = column.reshape(len(points), -1) if len(points) else column.reshape(0, 1)
        for level in range(columns.shape[1]):
            some = np.flatnonzero(columns[:, level] >= 0)
            own[some, columns[some, level]] = one[0]
        location = self.location.copy()
        location[points] = len(self.code) + np.arange(len(points))
        code = np.concatenate([self.code.astype(dtype, copy=False), own])
        return ZoneWeights(location, code, values)


def _code_type(n_values: int) -> np.dtype[Any]:
    """The smallest unsigned integer type that numbers `n_values` values."""
    for t in (np.uint8, np.uint16, np.uint32):
        if n_values <= np.iinfo(t).max + 1:
            return np.dtype(t)
    return np.dtype(np.uint64)


def zone_weights(
    lon: FloatArray, lat: FloatArray, zones: Sequence[Zone], step: float = DEFAULT_STEP
) -> FloatArray:
    """(N, Z) weight of each point in each zone, rounded to the nearest `step`; points without
    coordinates (NaN) lie in none (`located_zones`, as a plain array)."""
    return located_zones(lon, lat, zones, step).dense()


def located_zones(
    lon: FloatArray, lat: FloatArray, zones: Sequence[Zone], step: float = DEFAULT_STEP
) -> ZoneWeights:
    """`zone_weights` in the compact form (`ZoneWeights`): one row per distinct location."""
    import shapely

    n, z_count = len(lon), len(zones)
    location = np.full(n, -1, dtype=np.int64)
    located = np.flatnonzero(~(np.isnan(lon) | np.isnan(lat)))
    if not len(located) or not z_count:
        return ZoneWeights(location, np.zeros((0, z_count), dtype=np.uint8), np.zeros(1))
    # one complex number per location: a plain sort finds the distinct ones (faster than
    # np.unique over rows), sorted by longitude
    distinct, inverse = np.unique(lon[located] + 1j * lat[located], return_inverse=True)
    location[located] = inverse.reshape(-1)
    ux, uy = distinct.real.copy(), distinct.imag.copy()
    geoms = [geometry(zone) for zone in zones]
    found: list[tuple[int, IntArray, FloatArray]] = []
    for z, (zone, geom) in enumerate(zip(zones, geoms, strict=True)):
        # the locations in the zone's reach box (its edges included): a slice of the
        # longitudes, then the latitudes
        west, south, east, north = shapely.bounds(_reach_box(zone, geom)).tolist()
        lo = int(np.searchsorted(ux, west, side="left"))
        hi = int(np.searchsorted(ux, east, side="right"))
        band = uy[lo:hi]
        rows = lo + np.flatnonzero((band >= south) & (band <= north))
        if not len(rows):
            continue
        px, py = ux[rows], uy[rows]
        if geom.geom_type in ("Polygon", "MultiPolygon"):
            shapely.prepare(geom)
            inside = shapely.contains_xy(geom, px, py)
        else:
            inside = np.zeros(len(rows), dtype=bool)
        d = np.zeros(len(rows))
        if zone.reach_km > 0 and not inside.all():
            outside = ~inside
            d[outside] = np.rint(_distance_km(geom, px[outside], py[outside]))
            d[inside] = 0.0
        elif not inside.all():
            d[~inside] = np.inf
        w = kernel_weights(zone, d)
        if step > 0:
            w = np.minimum(np.rint(w / step) * step, 1.0)
        some = w != 0
        found.append((z, rows[some], w[some]))
    values = np.unique(np.concatenate([np.zeros(1), *(np.unique(w) for _, _, w in found)]))
    code = np.zeros((len(distinct), z_count), dtype=_code_type(len(values)))
    for z, rows, w in found:
        code[rows, z] = np.searchsorted(values, w)
    return ZoneWeights(location, code, values)


OUTLINE_STEP_KM = 25.0  # the longest side of a drawn outline, in the zone's projection


def outline(zone: Zone, tolerance_km: float = 2.0) -> shapely.Geometry:
    """The area to draw for a zone on a map, in longitude/latitude: where its weight is 1.

    A polygon zone is its polygon (simplified to `tolerance_km`). A circle, corridor or a
    polygon with a band is its geometry widened by `within_km`; a hotspot the same, except
    that a hotspot without a band (within_km 0, the weight fading from the geometry itself)
    is drawn out to its reach (`Zone.reach_km`, where its weight reaches 0), since it has no
    area of full weight. The widening is done in the azimuthal equidistant projection centred
    on the zone that `zone_weights` measures distances in (so a circle's outline lies at its
    radius from the centre, exactly), simplified there to `tolerance_km` (vertices are
    dropped while the outline moves by less than that), its straight sides cut into pieces of
    at most OUTLINE_STEP_KM (a straight side there is a curve in longitude/latitude) and
    transformed back. Longitudes are
    unwrapped along the outline: a zone across the antimeridian runs past 180 (181, 182, ...)
    instead of jumping to -180, which map projections draw as one piece. A band that reaches
    a pole is not drawn correctly (zones are at most 5,000 km wide; no shipped one does)."""
    import shapely

    geom = geometry(zone)
    band = zone.within_km if zone.within_km > 0 or zone.decay is None else zone.reach_km
    if band == 0:
        return shapely.simplify(geom, tolerance_km / KM_PER_DEGREE, preserve_topology=True)
    to_plane, to_lonlat = _plane(geom)
    flat = shapely.transform(
        geom, lambda xy: np.column_stack(to_plane.transform(xy[:, 0], xy[:, 1]))
    )
    area = shapely.simplify(
        shapely.buffer(flat, band * 1000.0, quad_segs=32), tolerance_km * 1000.0
    )
    # a straight side in the projection is a curve in longitude/latitude: keep its shape
    area = shapely.segmentize(area, OUTLINE_STEP_KM * 1000.0)

    def back(xy: FloatArray) -> FloatArray:
        # every coordinate at once, rings one after the other: unwrapped as one sequence
        lon, lat = to_lonlat.transform(xy[:, 0], xy[:, 1])
        turns = np.rint((np.unwrap(lon, period=360.0) - lon) / 360.0)  # whole turns, exactly
        unwrapped: FloatArray = np.column_stack([lon + 360.0 * turns, lat])
        return unwrapped

    return shapely.transform(area, back)
