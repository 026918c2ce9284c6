"""Where assets lie: each asset's weight in each zone (riskapp.domain.zones), for whole arrays.

    w[a, z] = 1 inside zone z's band (d <= within_km), the decay beyond it, 0 elsewhere

with d the distance in km from the asset to the zone's geometry, rounded to the nearest km
(0 inside a polygon), and the weight rounded to the nearest `step` (the workspace's
zone_weight_step, 5 % by default): assets whose weights round alike share a place and a damage
ratio, so the number of places grows with the steps, not with the assets.

Distances are measured in an azimuthal equidistant projection centred
on the zone (pyproj): exact from its centre, within 0.2 % up to 650 km from it and 1 % up to
1,500 km. Polygons are tested in longitude/latitude, as GeoJSON draws them (shapely).

Cost: points are sorted into cells of a degree by a degree (a counting sort); each zone
takes the points in the box of its reach (a run of cells in each column of longitudes it
spans, then a test of the coordinates), keeps those in the area of its reach and gives
weight 1 without measuring to those in an area well inside its band (`_Reach`:
point-in-polygon tests, some 15 times cheaper than a projection); only the points between
the two, each distinct location once, are measured. A point far from every zone costs
nothing but its share of the sort. The weights are held compactly (`ZoneWeights`: a row of
one-byte codes per distinct row of weights, points in no zone without one), not as a float
per asset and zone.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd

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
        return shapely.linestrings(np.asarray(c, dtype=np.float64))
    # rings built from arrays: shapely's Polygon() reads a list's positions one by one in
    # Python (8 ms for the demo's 12 zones, 1 ms this way)
    if g.type is GeometryType.POLYGON:
        return _polygon(c)
    return shapely.multipolygons([_polygon(p) for p in c])


def _polygon(rings: Any) -> shapely.Geometry:
    import shapely

    shell, *holes = (shapely.linearrings(np.asarray(r, dtype=np.float64)) for r in rings)
    return shapely.polygons(shell, holes=holes or None)


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


class _Reach:
    """Where a zone's weight can be above 0, in longitude/latitude: a box (`bounds`: west,
    south, east, north, edges included) and, built on demand (`areas`), the area itself
    (every point of weight above 0 lies in it) and an area of full weight (every point in it
    lies within the band, distance rounded). Both are the zone's geometry widened in the
    plane distances are measured in (by the reach + 0.3 % + 1 km, the band - 0.2 % - 1 km),
    margins above the error of drawing them with straight sides and of rounding distances
    (a buffer's sides lie inside its true curve, by at most 0.12 % of its width; a side cut
    to 10 km there bends by at most 0.11 km in longitude/latitude up to 89 degrees of
    latitude, L^2 tan(lat) / 8R; a distance rounds to the km). Points between the two are
    measured; points in the area of full weight are not (their weight is 1 whatever their
    distance). No areas across the antimeridian or a pole, or where a drawn area is not a
    valid polygon.

    The box is drawn around the widened convex hull of the geometry (in the plane), which
    holds the widened geometry: a few vertices to buffer where a sea's coastline has
    thousands. A box a little wider costs only a few more points tested; the areas, which
    decide weights without measuring, are drawn from the geometry itself when `areas()` is
    called (a zone of a small register never needs them: `AREAS_FROM`)."""

    def __init__(self, zone: Zone, geom: shapely.Geometry) -> None:
        import shapely

        self._zone = zone
        self._spans = True  # across the antimeridian or a pole: no areas
        if zone.reach_km == 0:
            west, south, east, north = shapely.bounds(geom).tolist()
            self.bounds = (west, south, east, north)
            return
        to_plane, self._to_lonlat = _plane(geom)
        self._flat = shapely.transform(
            geom, lambda xy: np.column_stack(to_plane.transform(xy[:, 0], xy[:, 1]))
        )
        _, lon, lat = self._widened(zone.reach_km * 1.003 + 1.0, shapely.convex_hull(self._flat))
        south, north = max(-90.0, float(lat.min()) - 0.01), min(90.0, float(lat.max()) + 0.01)
        if _spans(lon, south, north):
            self.bounds = (-180.0, south, 180.0, north)
            return
        self.bounds = (float(lon.min()) - 0.01, south, float(lon.max()) + 0.01, north)
        self._spans = False

    def _widened(
        self, km: float, flat: shapely.Geometry | None = None
    ) -> tuple[shapely.Geometry, FloatArray, FloatArray]:
        """The geometry (or `flat`, another in the same plane) widened by `km` in the plane,
        in longitude/latitude, with its outline's longitudes and latitudes."""
        import shapely

        flat = self._flat if flat is None else flat
        area = shapely.segmentize(shapely.buffer(flat, km * 1000.0, quad_segs=16), 1e4)
        xy = shapely.get_coordinates(area)
        lon, lat = self._to_lonlat.transform(xy[:, 0], xy[:, 1])
        lon, lat = np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
        return shapely.set_coordinates(area, np.column_stack([lon, lat])), lon, lat

    def areas(self) -> tuple[shapely.Geometry | None, shapely.Geometry | None]:
        """(the area of the reach, the area of full weight), prepared; None where unknown."""
        import shapely

        if self._spans:
            return None, None
        outer, lon, lat = self._widened(self._zone.reach_km * 1.003 + 1.0)
        if _spans(lon, float(lat.min()) - 0.01, float(lat.max()) + 0.01) or not shapely.is_valid(
            outer
        ):
            return None, None
        shapely.prepare(outer)
        band = self._zone.within_km * 0.998 - 1.0
        if band <= 0:
            return outer, None
        inner, lon, _ = self._widened(band)
        if _crosses_antimeridian(lon) or not shapely.is_valid(inner):
            return outer, None
        shapely.prepare(inner)
        return outer, inner


def _spans(lon: FloatArray, south: float, north: float) -> bool:
    """Whether an outline (its longitudes, its latitudes' range) runs across the antimeridian
    or reaches a pole, where a box of longitudes does not hold it."""
    return _crosses_antimeridian(lon) or north >= 89.9 or south <= -89.9


def _crosses_antimeridian(lon: FloatArray) -> bool:
    """Whether an outline's consecutive longitudes jump by more than half the globe."""
    return bool(np.abs(np.diff(lon)).max(initial=0.0) > 180)


DISTINCT_FROM = 10_000  # points from which `located_zones` looks for repeated coordinates
DISTINCT_SHARE = 0.5  # ...and locates the distinct ones alone when at most this share of all
AREAS_FROM = 1000  # points in a zone's box from which drawing its areas costs less than
# measuring them all (a projection costs about 1 us a point, an area about 0.5 ms)


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
    byte a cell; points with the same weights share a row (`located_zones`). `dense()` is
    the plain array."""

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


_ROWS = 181  # cells of one degree: latitudes -90..90 (90 alone in the last)
_NONE = 2**16 - 1  # the cell of a point without coordinates (no zone's box holds it)


def _cells(lon: FloatArray, lat: FloatArray) -> npt.NDArray[np.uint16]:
    """Each point's cell of one degree by one, numbered column (longitude) by column:
    floor(lon + 180) x _ROWS + floor(lat + 90), clipped to the globe (monotone in both)."""
    column = lon + 180.0
    np.clip(column, 0.0, 360.0, out=column)
    row = lat + 90.0
    np.clip(row, 0.0, 180.0, out=row)
    unknown = np.flatnonzero(np.isnan(column) | np.isnan(row))
    column[unknown] = 0.0
    row[unknown] = 0.0
    cell = column.astype(np.uint16)
    cell *= _ROWS
    cell += row.astype(np.uint16)
    cell[unknown] = _NONE
    return cell


def _repeats(lon: FloatArray, lat: FloatArray) -> bool:
    """Whether an evenly spread sample of DISTINCT_FROM points repeats coordinates enough
    (at most DISTINCT_SHARE of them distinct) to look for the distinct points of all: a
    register of distinct points then costs no hash of every point."""
    step = max(len(lon) // DISTINCT_FROM, 1)
    sample = np.asarray(lon[::step], dtype=float) + 1j * np.asarray(lat[::step], dtype=float)
    return len(pd.unique(sample)) <= len(sample) * DISTINCT_SHARE


def located_zones(
    lon: FloatArray, lat: FloatArray, zones: Sequence[Zone], step: float = DEFAULT_STEP
) -> ZoneWeights:
    """`zone_weights` in the compact form (`ZoneWeights`): one row per distinct row of
    weights of the points in some zone (location -1 for the points in none)."""
    import shapely

    n, z_count = len(lon), len(zones)
    location = np.full(n, -1, dtype=np.int64)
    if not n or not z_count:
        return ZoneWeights(location, np.zeros((0, z_count), dtype=np.uint8), np.zeros(1))
    if n >= DISTINCT_FROM and _repeats(lon, lat):
        # a point's weights depend on its coordinates alone, and registers repeat them (the
        # assets of one site, of one city's centre): each distinct point is located once,
        # found by a hash (a point without coordinates is in no zone)
        at, spots = pd.factorize(np.asarray(lon, dtype=float) + 1j * np.asarray(lat, dtype=float))
        if len(spots) <= n * DISTINCT_SHARE:
            once = located_zones(spots.real.copy(), spots.imag.copy(), zones, step)
            spread = np.where(at >= 0, once.location[np.maximum(at, 0)], -1).astype(np.int64)
            return ZoneWeights(spread, once.code, once.value)
    # the points sorted by cells of a degree by a degree (a counting sort): a zone's box is
    # a run of cells in each column of longitudes it spans, then a test of the coordinates
    cell = _cells(lon, lat)
    order = np.argsort(cell, kind="stable")
    starts = np.r_[0, np.cumsum(np.bincount(cell, minlength=_NONE + 1))]
    del cell
    geoms = [geometry(zone) for zone in zones]
    found: list[tuple[int, IntArray, FloatArray]] = []
    for z, (zone, geom) in enumerate(zip(zones, geoms, strict=True)):
        reach = _Reach(zone, geom)
        west, south, east, north = reach.bounds
        first, last = _cells(np.array([west, east]), np.array([south, north])).tolist()
        runs = [
            order[starts[c] : starts[c + last % _ROWS - first % _ROWS + 1]]
            for c in range(first, last - last % _ROWS + first % _ROWS + 1, _ROWS)
        ]
        near = np.concatenate(runs) if runs else np.zeros(0, dtype=np.int64)
        px, py = lon[near], lat[near]
        inside_box = (px >= west) & (px <= east) & (py >= south) & (py <= north)
        rows = near[inside_box]
        if not len(rows):
            continue
        px, py = px[inside_box], py[inside_box]
        sure = np.zeros(len(rows), dtype=bool)  # within the band, not measured
        if len(rows) >= AREAS_FROM:
            outer, inner = reach.areas()
            if inner is not None:
                sure = shapely.contains_xy(inner, px, py)
            if outer is not None:
                unsure = np.flatnonzero(~sure)
                keep = np.ones(len(rows), dtype=bool)
                keep[unsure] = shapely.contains_xy(outer, px[unsure], py[unsure])
                rows, px, py, sure = rows[keep], px[keep], py[keep], sure[keep]
        if geom.geom_type in ("Polygon", "MultiPolygon"):
            shapely.prepare(geom)
            inside = shapely.contains_xy(geom, px, py)
        else:
            inside = np.zeros(len(rows), dtype=bool)
        d = np.zeros(len(rows))
        if zone.reach_km > 0:
            # points in the area of full weight need no distance: 0 stands for theirs
            outside = np.flatnonzero(~(inside | sure))
            if len(outside):
                # each distinct location measured once (registers repeat coordinates)
                at, spot = pd.factorize(px[outside] + 1j * py[outside])
                d[outside] = np.rint(_distance_km(geom, spot.real, spot.imag))[at]
        else:
            d[~inside] = np.inf
        w = kernel_weights(zone, d)
        if step > 0:
            w = np.minimum(np.rint(w / step) * step, 1.0)
        some = w != 0
        found.append((z, rows[some], w[some]))
    values = np.unique(np.concatenate([np.zeros(1), *(np.unique(w) for _, _, w in found)]))
    # rows only for the points in some zone
    hit = np.zeros(n, dtype=bool)
    for _, rows, _ in found:
        hit[rows] = True
    zoned = np.flatnonzero(hit)
    at = np.empty(n, dtype=np.int64)
    at[zoned] = np.arange(len(zoned))
    # a key per zoned point telling its row of codes apart, built zone by zone (the codes
    # as digits), renumbered before it could overflow; then one row per distinct key
    key = np.zeros(len(zoned), dtype=np.int64)
    radix, k = 1, len(values)
    cells: list[tuple[int, IntArray, IntArray]] = []
    for z, rows, w in found:
        if radix * k > 2**62:
            renumbered, seen = pd.factorize(key)
            key, radix = renumbered.astype(np.int64), len(seen)
        points, c = at[rows], np.searchsorted(values, w)
        key[points] += c * radix
        radix *= k
        cells.append((z, points, c))
    row, distinct = pd.factorize(key)
    code = np.zeros((len(distinct), z_count), dtype=_code_type(len(values)))
    for z, points, c in cells:
        code[row[points], z] = c
    location[zoned] = row
    return ZoneWeights(location, code, values)


def row_codes(rows: npt.NDArray[np.unsignedinteger[Any]]) -> IntArray:
    """A code per distinct row of small unsigned integers (equal rows share a code): each row
    read as a few 64-bit words, the words factorised one after the other."""
    n = len(rows)
    if not n:
        return np.zeros(0, dtype=np.int64)
    raw = np.ascontiguousarray(rows).view(np.uint8).reshape(n, -1)
    width = -(-raw.shape[1] // 8) * 8
    padded = np.zeros((n, width), dtype=np.uint8)
    padded[:, : raw.shape[1]] = raw
    words = padded.view(np.uint64)
    code = np.zeros(n, dtype=np.int64)
    for k in range(words.shape[1]):
        part, uniques = pd.factorize(words[:, k])
        code = code * len(uniques) + part
        code, _ = pd.factorize(code)
    result: IntArray = np.asarray(code, dtype=np.int64)
    return result


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
