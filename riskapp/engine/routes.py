"""Routes cut into pieces and resolved to places (riskapp.domain.routes has the rules).

A route's line is cut into pieces of at most `piece_km` (geodesic lengths, pyproj). Each
piece lies where its midpoint lies: in a country (riskapp.engine.countries), or within 22 km
(12 nautical miles, its territorial sea) of one, if that country has a baseline in the
workspace; otherwise at sea, and a piece at sea takes the country of the landing it is nearer
to along the line. A route's landings are the
countries at its two ends (within 50 km of the shore; the country it is filed under where an
end lies in none). A piece's zones are those of its midpoint (riskapp.engine.geo).

The pieces of a route that share a place are its parts: the place and the share of the
route's length in it. Routes with the same parts and rule share one asset group.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import pandas as pd

if TYPE_CHECKING:
    from riskapp.engine.damage import AssetGroups

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

LANDING_KM = 50.0
TERRITORIAL_SEA_KM = 22.2  # 12 nautical miles: waters within it count as the country's
SHARE_STEP = 0.01  # length shares of length-weighted routes, rounded (to group alike routes)


@dataclass(frozen=True)
class Pieces:
    """The pieces of every route: the route each belongs to (in order along it), its
    midpoint, its length (km) and its distance along the route to the midpoint (km)."""

    route: IntArray
    lon: FloatArray
    lat: FloatArray
    length_km: FloatArray
    along_km: FloatArray

    def route_length(self, n_routes: int) -> FloatArray:
        result: FloatArray = np.bincount(
            self.route, weights=self.length_km, minlength=n_routes
        ).astype(np.float64)
        return result


def cut(lines: Sequence[Sequence[tuple[float, float]]], piece_km: float) -> Pieces:
    """Every route's line cut into pieces of at most about `piece_km`."""
    import pyproj
    import shapely

    geod = pyproj.Geod(ellps="WGS84")
    # densify in degrees (a degree of latitude is about 111 km; longitude degrees shrink),
    # then measure every piece on the ellipsoid
    step_deg = piece_km / 111.32
    sizes = np.array([len(line) for line in lines], dtype=np.int64)
    flat = np.array([p for line in lines for p in line], dtype=float).reshape(-1, 2)
    index = np.repeat(np.arange(len(lines)), sizes)
    dense = shapely.segmentize(shapely.linestrings(flat, indices=index), step_deg)
    coords, owner = shapely.get_coordinates(dense, return_index=True)
    same = owner[1:] == owner[:-1]
    lon1, lat1 = coords[:-1, 0][same], coords[:-1, 1][same]
    lon2, lat2 = coords[1:, 0][same], coords[1:, 1][same]
    route = owner[:-1][same].astype(np.int64)
    length = np.asarray(geod.inv(lon1, lat1, lon2, lat2)[2], dtype=float) / 1000.0
    # cumulative distance to each piece's midpoint, per route
    total = np.cumsum(length)
    start = np.r_[0.0, total[:-1]]
    first = np.r_[True, route[1:] != route[:-1]]
    offset = np.maximum.accumulate(np.where(first, start, 0.0))
    along = start - offset + length / 2
    return Pieces(route, (lon1 + lon2) / 2, (lat1 + lat2) / 2, length, along)


def landings(
    lines: Sequence[Sequence[tuple[float, float]]], filed: Sequence[str], known: set[str]
) -> tuple[npt.NDArray[np.object_], npt.NDArray[np.object_]]:
    """The countries at each route's two ends (the filed country where an end lies in no
    country with a baseline)."""
    from riskapp.engine.countries import country_shapes

    ends = np.array([[line[0], line[-1]] for line in lines], dtype=float).reshape(-1, 2)
    found = country_shapes().locate(ends[:, 0], ends[:, 1], near_km=LANDING_KM)
    found = found.reshape(-1, 2)
    filed_arr = np.repeat(np.asarray(filed, dtype=object)[:, np.newaxis], 2, axis=1)
    ok = pd.Series(found.reshape(-1)).isin(known).to_numpy(dtype=bool).reshape(found.shape)
    chosen = np.where(ok, found, filed_arr)
    return chosen[:, 0], chosen[:, 1]


def piece_countries(
    pieces: Pieces,
    start: npt.NDArray[np.object_],
    end: npt.NDArray[np.object_],
    known: set[str],
) -> npt.NDArray[np.object_]:
    """The country of each piece: the country of its midpoint if it has a baseline, else the
    landing it is nearer to along the route."""
    from riskapp.engine.countries import country_shapes

    found = country_shapes().locate(pieces.lon, pieces.lat, near_km=TERRITORIAL_SEA_KM)
    half = pieces.route_length(len(start))[pieces.route] / 2
    nearer = np.where(pieces.along_km <= half, start[pieces.route], end[pieces.route])
    result: npt.NDArray[np.object_] = np.where(
        pd.Series(found).isin(known).to_numpy(dtype=bool), found, nearer
    )
    return result


@dataclass(frozen=True)
class RouteParts:
    """The distinct routes (by their parts and rule): route r's parts are
    place[indptr[r]:indptr[r + 1]] with their shares of its length."""

    indptr: IntArray
    place: IntArray
    share: FloatArray
    any_cut: BoolArray
    new_stretch: BoolArray  # (n,) the first part of each country's stretch of a route

    @property
    def count(self) -> int:
        return int(self.any_cut.shape[0])


def parts(
    pieces: Pieces, piece_place: IntArray, any_cut: BoolArray, place_country: IntArray
) -> tuple[RouteParts, IntArray]:
    """The distinct routes and each route's code among them. A route's parts are its places
    with the share of its length there, country by country (`place_country`: each place's
    country); any_cut routes are told apart by their places only, length-weighted ones also
    by their shares (rounded to SHARE_STEP)."""
    n = len(any_cut)
    frame = pd.DataFrame(
        {
            "route": pieces.route,
            "country": place_country[piece_place],
            "place": piece_place,
            "km": pieces.length_km,
        }
    )
    summed = frame.groupby(["route", "country", "place"], sort=True)["km"].sum().reset_index()
    route = summed["route"].to_numpy(dtype=np.int64)
    country = summed["country"].to_numpy(dtype=np.int64)
    place = summed["place"].to_numpy(dtype=np.int64)
    share = summed["km"].to_numpy(dtype=float) / pieces.route_length(n)[route]
    share_q = np.rint(share / SHARE_STEP).astype(np.int64)
    weighted = ~any_cut[route]
    token = pd.Series(place.astype(str))
    token = token.where(~weighted, token + ":" + pd.Series(share_q.astype(str)))
    joined = token.groupby(route).agg("|".join)
    index = np.asarray(joined.index, dtype=np.int64)
    prefix = np.where(any_cut[index], "c|", "w|").astype(object)
    keys = pd.Series(prefix + joined.to_numpy(dtype=object), index=index)
    codes, _ = pd.factorize(keys, sort=False)
    code_of_route = np.asarray(codes, dtype=np.int64)
    # the parts of each distinct route, read from its first route, grouped by code
    first_route = index[np.unique(code_of_route, return_index=True)[1]]
    rows = np.flatnonzero(np.isin(route, first_route.astype(np.int64)))
    row_code = code_of_route[np.searchsorted(index, route[rows])]
    rows = rows[np.argsort(row_code, kind="stable")]
    sizes = np.bincount(row_code, minlength=len(first_route)).astype(np.int64)
    rounded = np.where(weighted, share_q * SHARE_STEP, share)
    # a length-weighted route's rounded shares add up to 1 again
    part_share = rounded[rows]
    indptr = np.r_[0, np.cumsum(sizes)].astype(np.int64)
    totals = np.add.reduceat(part_share, indptr[:-1]) if len(part_share) else part_share
    part_share = part_share / np.repeat(np.where(totals > 0, totals, 1.0), sizes)
    part_country = country[rows]
    new_stretch = np.r_[True, part_country[1:] != part_country[:-1]]
    new_stretch[indptr[:-1]] = True
    result = RouteParts(
        indptr=indptr,
        place=place[rows],
        share=part_share,
        any_cut=any_cut[first_route.astype(np.int64)],
        new_stretch=new_stretch,
    )
    return result, code_of_route


@dataclass(frozen=True)
class GroupRoutes:
    """The groups that are routes (riskapp.engine.routes): group `groups[r]` reads its curves
    at the places place[indptr[r]:indptr[r + 1]] (its parts, with their shares of its
    length) and combines them by its rule (`fold_routes`)."""

    groups: IntArray  # (R,) the route groups, ascending
    indptr: IntArray  # (R + 1,)
    place: IntArray  # (n,) each part's place
    share: FloatArray  # (n,)
    any_cut: npt.NDArray[np.bool_]  # (R,)
    # (n,) True at the first part of each country's stretch (a route's parts run country by
    # country; `fold_routes` takes the worst part of a stretch)
    new_stretch: npt.NDArray[np.bool_]

    @property
    def part_group(self) -> IntArray:
        result: IntArray = np.repeat(self.groups, np.diff(self.indptr))
        return result


@dataclass(frozen=True)
class RouteTable:
    """Routes as `group_assets` takes them: indices from `first` on are route codes."""

    first: int
    parts: RouteParts


def fold_routes(columns: FloatArray, groups: AssetGroups, axis: int = -2) -> FloatArray:
    """Damage by group from damage by curve column (`AssetGroups.column_place`): a point
    group's own column; a route's parts combined by its rule, factor by factor,

        any_cut          1 - prod_countries (1 - max_{parts in the country} d)
        length_weighted  sum_parts share x d

    (riskapp.domain.routes). Under any_cut each country's stretch of the route counts once,
    at its worst part: zones inside a country raise the stretch where they act, and a zone
    that does nothing to a factor leaves it as it was."""
    r = groups.routes
    if r is None:
        return columns
    g = groups.count
    moved = np.moveaxis(columns, axis, -1)
    out = moved[..., :g].copy()
    part = moved[..., g:]
    starts = r.indptr[:-1]
    stretch_starts = np.flatnonzero(r.new_stretch)
    worst = np.maximum.reduceat(part, stretch_starts, axis=-1)
    with np.errstate(divide="ignore"):
        logs = np.log1p(-np.minimum(worst, 1.0))
    first_stretch = np.cumsum(r.new_stretch)[starts] - 1
    cut = 1.0 - np.exp(np.add.reduceat(logs, first_stretch, axis=-1))
    weighted = np.add.reduceat(part * r.share, starts, axis=-1)
    out[..., r.groups] = np.where(r.any_cut, cut, weighted)
    result: FloatArray = np.moveaxis(out, -1, axis)
    return result
