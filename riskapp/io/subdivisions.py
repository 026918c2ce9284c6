"""The subdivision boundaries riskapp ships: riskapp/resources/geo/subdivisions.geojson.gz holds
4,087 ISO 3166-2 subdivisions drawn by Natural Earth's 1:10m admin-1 states and provinces
(public domain; geo/SUBDIVISIONS.md says how their codes were found and what was left out,
tools/build_subdivisions.py builds the file).

Each shipped feature is the most specific subdivision the source draws, with the chain of its
parents (FR-75C Paris, then FR-IDF Île-de-France), so a parent is the union of its parts.

- `shipped_subdivisions()`: every code that has a boundary here, parents included.
- `subdivision_zone(code)`: a subdivision as a Zone with its boundary (None without one).
- `subdivisions_of(lon, lat)`: the most specific shipped subdivision each point lies in.

Each feature is a gzip member of its own, and an index beside the file
(subdivisions.index.json) gives each one's code, parents, bounding box and byte range: the
index is read once per process, on first use, and a boundary is decompressed and parsed only
when asked for.
"""

from __future__ import annotations

import functools
import hashlib
import json
import threading
import zlib
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from riskapp.domain.common import subdivision_name
from riskapp.domain.workspace import Workspace
from riskapp.domain.zones import Geometry, Zone
from riskapp.engine.routes import TERRITORIAL_SEA_KM as COAST_KM
from riskapp.resources import GEO

SUBDIVISIONS = GEO / "subdivisions.geojson.gz"
INDEX = GEO / "subdivisions.index.json"
SOURCE_NAME = "Natural Earth 1:10m admin-1 states and provinces"
SUBDIVISION_SOURCE = f"{SOURCE_NAME} (public domain), ne_id"
SOURCE_NOTE = f"{SOURCE_NAME}, riskapp/resources/geo/SUBDIVISIONS.md"  # where notes say it's from

COLUMNS = ["code", "codes", "bbox", "offset", "length"]  # of each row of the index


@functools.cache
def _index() -> list[list[Any]]:
    """The index's rows (COLUMNS), in the file's order (sorted by code)."""
    index = json.loads(INDEX.read_text(encoding="utf-8"))
    if index["file"] != SUBDIVISIONS.name or index["columns"] != COLUMNS:
        raise ValueError(f"{INDEX}: not an index of {SUBDIVISIONS.name} with {COLUMNS}")
    rows: list[list[Any]] = index["features"]
    return rows


@functools.cache
def _features() -> dict[str, tuple[tuple[str, ...], int, int]]:
    """Each shipped feature's chain of codes and the byte range of its gzip member in the
    file, by its own code, in the file's order (sorted by code)."""
    return {code: (tuple(chain), at, size) for code, chain, _, at, size in _index()}


def _line(code: str) -> str:
    """One shipped feature's GeoJSON text: its own gzip member, decompressed."""
    _, at, size = _features()[code]
    with SUBDIVISIONS.open("rb") as f:
        f.seek(at)
        data = f.read(size)
    return zlib.decompress(data, wbits=31).decode("utf-8").rstrip().rstrip(",")


def _members(code: str) -> list[str]:
    """The shipped features a code is made of: itself, or its parts ([] without a boundary)."""
    return [own for own, (chain, _, _) in _features().items() if code in chain]


@functools.cache
def shipped_subdivisions() -> frozenset[str]:
    """The ISO 3166-2 codes riskapp ships a boundary for (parents included)."""
    return frozenset(code for chain, _, _ in _features().values() for code in chain)


@functools.cache
def subdivision_zone(code: str) -> Zone | None:
    """A subdivision as a Zone with its shipped boundary, or None if riskapp ships none."""
    import shapely
    from shapely.geometry import shape

    parts = _members(code)
    if not parts:
        return None
    features = [json.loads(_line(p)) for p in parts]
    if len(features) == 1:  # the file's own GeoJSON (shapely's mapping() costs 25 ms a region)
        boundary = features[0]["geometry"]
    else:
        geom = shapely.union_all([shape(f["geometry"]) for f in features])
        if geom.geom_type == "GeometryCollection":  # a union may add a stray line: keep areas
            geom = shapely.union_all([g for g in geom.geoms if g.geom_type.endswith("Polygon")])
        boundary = json.loads(shapely.to_geojson(geom))
    ids = sorted(i for f in features for i in f["properties"]["ne_ids"])
    shown = ", ".join(str(i) for i in ids[:8]) + (
        f" and {len(ids) - 8} more" if len(ids) > 8 else ""
    )
    return Zone(
        id=code,
        name=subdivision_name(code),
        geometry=Geometry.shipped(boundary),
        within_km=0.0,
        source=f"{SUBDIVISION_SOURCE} {shown}",
        shipped=True,
    )


@functools.cache
def _boxes() -> tuple[list[str], npt.NDArray[np.float64]]:
    """The shipped features' codes (in the file's order, sorted) and their bounding boxes
    (F, 4: west, south, east, north), from the index."""
    rows = _index()
    boxes: npt.NDArray[np.float64] = np.array([row[2] for row in rows], dtype=float)
    return [row[0] for row in rows], boxes.reshape(-1, 4)


@functools.cache
def _shape(code: str) -> Any:
    """One shipped feature's geometry (shapely, prepared), parsed once."""
    import shapely

    line = _line(code)
    geom = shapely.from_geojson(line[line.index('"geometry":') + 11 : -1])
    shapely.prepare(geom)
    return geom


def _candidates(xy: npt.NDArray[np.float64], margin: float) -> npt.NDArray[np.int64]:
    """The features (indexes into `_boxes()`) whose box, widened by `margin` degrees, holds
    at least one of the points: one search of the points sorted by longitude per feature,
    so only a few hundred features are parsed for a portfolio of one region."""
    boxes = _boxes()[1]
    order = np.argsort(xy[:, 0], kind="stable")
    lon, lat = xy[order, 0], xy[order, 1]
    lo = np.searchsorted(lon, boxes[:, 0] - margin, side="left")
    hi = np.searchsorted(lon, boxes[:, 2] + margin, side="right")
    out = []
    for f in np.flatnonzero(hi > lo).tolist():
        band = lat[lo[f] : hi[f]]
        if ((band >= boxes[f, 1] - margin) & (band <= boxes[f, 3] + margin)).any():
            out.append(f)
    return np.asarray(out, dtype=np.int64)


def subdivisions_of(
    lon: npt.NDArray[np.float64], lat: npt.NDArray[np.float64]
) -> npt.NDArray[np.object_]:
    """The most specific shipped subdivision each point lies in ('' in none, or without
    coordinates). A point outside every boundary but within COAST_KM (12 nautical miles, as
    for countries) of one takes the nearest: a port, a landing station or an island town the
    1:10m boundaries leave out (Tromsø's island is not drawn). Each distinct point is placed
    once, against only the boundaries whose box is near a point; a point on the seam of two
    neighbours (their simplified borders may overlap by a few hundred metres) takes the first
    code in alphabetical order."""
    import shapely

    out = np.full(len(lon), "", dtype=object)
    ok = np.flatnonzero(
        np.isfinite(lon) & np.isfinite(lat) & (np.abs(lat) <= 90) & (np.abs(lon) <= 180)
    )
    if not len(ok):
        return out
    # each distinct point once, found by a hash of the points (a register repeats its sites'
    # coordinates), not a sort of every point's
    inverse, spots = pd.factorize(lon[ok] + 1j * lat[ok])
    distinct = np.stack([spots.real, spots.imag], axis=1)
    codes = np.asarray(_boxes()[0], dtype=object)
    spot = np.full(len(distinct), "", dtype=object)  # each distinct point's code
    points = shapely.points(distinct)
    # first the boundaries whose box holds a point (only they can hold it): a point in
    # several (the simplified borders of neighbours overlap) takes the first code in
    # alphabetical order, the smallest index of `_boxes()`
    holding = _candidates(distinct, 0.0)
    if len(holding):
        tree = shapely.STRtree([_shape(codes[f]) for f in holding.tolist()])
        point, feature = tree.query(points, predicate="within")
        if len(point):
            order = np.lexsort((feature, point))
            first = np.r_[True, np.diff(point[order]) != 0]
            spot[point[order][first]] = codes[holding[feature[order][first]]]
    # then the points in none: the nearest boundary within COAST_KM, among those whose box
    # lies that near (a degree of longitude is shortest at the highest latitude of the
    # points: searched that far)
    outside = np.flatnonzero(spot == "")
    if len(outside):
        reach = COAST_KM / (111.32 * max(np.cos(np.radians(np.abs(distinct[:, 1]).max())), 0.01))
        near = _candidates(distinct[outside], reach)
        if len(near):
            tree = shapely.STRtree([_shape(codes[f]) for f in near.tolist()])
            hit = _near_coast(tree, points[outside], reach)
            some = hit >= 0
            spot[outside[some]] = codes[near[hit[some]]]
    out[ok] = spot[inverse]
    return out


def subdivisions_in(
    lon: npt.NDArray[np.float64], lat: npt.NDArray[np.float64], country: npt.NDArray[np.object_]
) -> npt.NDArray[np.object_]:
    """`subdivisions_of`, kept only where the subdivision lies in the row's `country` (alpha-3):
    an asset filed under Germany a few hundred metres across the Polish border gets ''.

    The same points and countries are read once per process (the last few kept): reading a
    workspace from the team database completes the same register's zones three or four times
    (the files' check, the stored register's check and its workspace, the comparison)."""
    from riskapp.domain.common import subdivision_countries

    country = np.asarray(country, dtype=object)
    key = hashlib.blake2b(digest_size=16)
    for part in (np.ascontiguousarray(lon, dtype=float), np.ascontiguousarray(lat, dtype=float)):
        key.update(part.tobytes())
    key.update("\x1f".join(map(str, country.tolist())).encode("utf-8"))
    with _READ_LOCK:
        kept = _READ.get(key.digest())
    if kept is not None:
        return kept.copy()
    found = subdivisions_of(lon, lat)
    at, codes = pd.factorize(found)
    owners = subdivision_countries()
    owner = np.array([owners.get(str(c), "") for c in codes] + [""], dtype=object)[at]
    found[owner != country] = ""
    with _READ_LOCK:
        _READ[key.digest()] = found.copy()
        while len(_READ) > READ_KEPT:
            _READ.pop(next(iter(_READ)))
    return found


READ_KEPT = 4  # registers whose subdivisions read from coordinates are kept (`subdivisions_in`)
_READ: dict[bytes, npt.NDArray[np.object_]] = {}
_READ_LOCK = threading.Lock()


def _near_coast(tree: Any, points: Any, reach: float) -> npt.NDArray[np.int64]:
    """The nearest feature of each point if it lies within COAST_KM (geodesic), else -1; of
    features equally near (a point off the end of two neighbours' seam), the first in the
    tree's order (its features are in alphabetical order of their codes)."""
    import shapely
    from pyproj import Geod

    pair = tree.query_nearest(points, max_distance=reach, all_matches=True)
    out = np.full(len(points), -1, dtype=np.int64)
    if not pair.shape[1]:
        return out
    order = np.lexsort((pair[1], pair[0]))
    pair = pair[:, order[np.r_[True, np.diff(pair[0][order]) != 0]]]
    near = shapely.shortest_line(points[pair[0]], tree.geometries.take(pair[1]))
    ends = shapely.get_coordinates(near).reshape(-1, 2, 2)
    _, _, metres = Geod(ellps="WGS84").inv(
        ends[:, 0, 0], ends[:, 0, 1], ends[:, 1, 0], ends[:, 1, 1]
    )
    close = np.asarray(metres) <= COAST_KM * 1000
    out[pair[0][close]] = pair[1][close]
    return out


def place_subdivisions(ws: Workspace) -> Workspace:
    """The workspace with each asset's empty `subdivision` read from its coordinates, when one
    of its zones is a shipped subdivision boundary (a shock, baseline row, group or plan names
    an ISO 3166-2 code the zones file does not draw); otherwise the workspace itself.

    The code read is the most specific one (`subdivisions_of`), kept only when it lies in the
    country the row is filed under (an asset filed under Germany a few hundred metres across
    the Polish border keeps no subdivision). The engine then places the asset by that code as
    if the register named it (in it and in its parents: riskapp.engine.scoring), so a point
    on a coast the 1:10m boundaries cut off still counts; a note says how many were read."""
    import dataclasses

    from riskapp.domain.assets import Portfolio, pack_rows, unpack_rows

    if not any(z.shipped and z.subdivision for z in ws.zones.zones):
        return ws
    named = ws.portfolio.series("subdivision")
    blank = (named.fillna("").astype(str) == "").to_numpy()
    lon = ws.portfolio.series("lon").to_numpy(dtype=float, na_value=np.nan)
    lat = ws.portfolio.series("lat").to_numpy(dtype=float, na_value=np.nan)
    rows = np.flatnonzero(blank & np.isfinite(lon) & np.isfinite(lat))
    if not len(rows):
        return ws
    country = ws.portfolio.series("country").to_numpy(dtype=object)[rows]
    found = subdivisions_in(lon[rows], lat[rows], country)
    keep = found != ""
    if not keep.any():
        return ws
    table = ws.portfolio.frame  # a copy, with its attrs
    column = table["subdivision"].to_numpy(dtype=object, copy=True)
    column[rows[keep]] = found[keep]
    table["subdivision"] = column
    table.attrs["location_notes"] = [
        *table.attrs.get("location_notes", ()),
        f"{int(keep.sum()):,} assets' subdivision read from their coordinates ({SOURCE_NOTE})",
    ]
    read = unpack_rows(table.attrs.get("subdivision_read", ""), len(table))
    read[rows[keep]] = True
    table.attrs["subdivision_read"] = pack_rows(read)
    return dataclasses.replace(ws, portfolio=Portfolio(table))
