"""Damage ratios from vulnerability curves, their combination across factors and attribution.

The one place of the damage formulas: `combined_damage` (1 - prod(1 - d)) and `above_baseline`
(the incremental basis, floored at 0). Scoring, the Monte Carlo and the sensitivity analyses
call them; tests/test_formulas.py checks that no second copy appears.

Assets that share a type, a country and their curves share a damage ratio, so the engine
computes damage per *group* of assets, never per asset.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from riskapp.domain.assets import text_codes
from riskapp.domain.curves import CurveSet, VulnerabilityCurve
from riskapp.engine.routes import GroupRoutes, RouteTable, fold_routes

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

# `group_damage` reads curves run by run (`CurveTable.read_by_factor`) up to this many runs
# of columns with the same curve, cell by cell beyond (many assets with curves of their own)
MAX_RUNS = 2000


def interpolate(intensity: FloatArray, xs: FloatArray, ys: FloatArray) -> FloatArray:
    """Piecewise-linear curve, clamped to the first and last point (as CLIMADA interpolates)."""
    result: FloatArray = np.interp(intensity, xs, ys)
    return result


def clamp_ratio(damage: npt.ArrayLike) -> FloatArray:
    """Damage ratios held to 0-1."""
    result: FloatArray = np.clip(np.asarray(damage, dtype=np.float64), 0.0, 1.0)
    return result


def combined_damage(damage: FloatArray) -> FloatArray:
    """One damage ratio of per-factor ratios (last axis): 1 - prod_f (1 - d_f), the factors
    acting independently; never above 1."""
    result: FloatArray = 1.0 - np.prod(1.0 - clamp_ratio(damage), axis=-1)
    return result


@dataclass(frozen=True)
class FactorSurvival:
    """Per-factor damage ratios (last axis) made ready for replacing one factor's ratios:
    `others[..., f]` is the product of the survivals (1 - d) of every factor but f. The
    combined damage with factor f's ratios replaced by d_f is then
    1 - others[..., f] x (1 - d_f), as `combined_damage` combines (to rounding), at the cost of
    one factor instead of all."""

    others: FloatArray

    def combined_with(self, factor: int, damage: FloatArray) -> FloatArray:
        """Combined damage (...) with factor `factor`'s ratios replaced by `damage` (...)."""
        result: FloatArray = 1.0 - self.others[..., factor] * (1.0 - clamp_ratio(damage))
        return result


def factor_survival(damage: FloatArray) -> FactorSurvival:
    """`FactorSurvival` of per-factor damage ratios (last axis), from products of the
    survivals before and after each factor (no division, so a ratio of 1 is exact)."""
    survival = 1.0 - clamp_ratio(damage)
    before = np.ones_like(survival)
    after = np.ones_like(survival)
    if survival.shape[-1] > 1:
        before[..., 1:] = np.cumprod(survival[..., :-1], axis=-1)
        after[..., :-1] = np.cumprod(survival[..., :0:-1], axis=-1)[..., ::-1]
    return FactorSurvival(before * after)


def above_baseline(combined: FloatArray, base: FloatArray) -> FloatArray:
    """Damage above the baseline damage `base`, floored at 0 (no gains are booked)."""
    result: FloatArray = np.subtract(combined, base)
    return np.maximum(result, 0.0, out=result)


def combine(damage: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Combine per-factor damage ratios (last axis) into one ratio and attribute it.

    combined = 1 - prod_f (1 - d_f), never above 1.

    Attribution: factor f receives the share -ln(1 - d_f) / sum_k -ln(1 - d_k) of the combined
    damage (its share of the log-survival, independent of factor order). If any factor destroys
    the asset (d_f = 1), the loss is split equally between the factors at 1. The attributed parts
    add up to the combined ratio exactly (up to floating point).
    """
    d = clamp_ratio(damage)
    combined = combined_damage(d)
    full = d >= 1.0
    if full.any():
        with np.errstate(divide="ignore"):
            weight = -np.log1p(-np.where(full, 0.0, d))
        any_full = full.any(axis=-1, keepdims=True)
        weight = np.where(any_full, full.astype(float), weight)
    else:  # the common case, in place (no factor destroys any asset): -log1p(-d)
        weight = np.negative(np.log1p(np.negative(d, out=d), out=d), out=d)
    total = weight.sum(axis=-1, keepdims=True)
    share = np.divide(weight, total, out=np.zeros(weight.shape), where=total > 0)
    attributed: FloatArray = np.multiply(share, combined[..., np.newaxis], out=share)
    return combined, attributed


def incremental(
    combined: FloatArray,
    attributed: FloatArray,
    base_combined: FloatArray,
    base_attributed: FloatArray,
) -> tuple[FloatArray, FloatArray]:
    """Damage above the no-shock baseline, floored at 0 (no gains are booked).

    The increase is attributed to the factors whose attributed damage rose, in proportion to
    their rise, so the parts still add up to the total.
    """
    inc = above_baseline(combined, base_combined)
    rise = above_baseline(attributed, base_attributed)
    total = rise.sum(axis=-1, keepdims=True)
    share = np.divide(rise, total, out=np.zeros(rise.shape), where=total > 0)
    parts: FloatArray = np.multiply(share, inc[..., np.newaxis], out=share)
    return inc, parts


@dataclass(frozen=True)
class AssetGroups:
    """Assets that share a damage path: same type, place and curves (and, for plan
    evaluation, the same plan coverage); a route's group also the same parts.

    `of_asset[a]` is the group of asset a; per group: its type, place index (`country_index`:
    a route's first part), curve owner (the asset id whose overrides apply, or '' for none)
    and coverage row; `routes` the groups that are routes, None if none.

    Curves are read per *column*: one per group at its place, then one per part of each
    route (`column_place`, `column_group`); `fold_routes` turns columns back into groups.
    """

    of_asset: IntArray
    type: npt.NDArray[np.object_]
    country_index: IntArray
    override_owner: npt.NDArray[np.object_]
    coverage: npt.NDArray[np.bool_]
    routes: GroupRoutes | None = None

    @property
    def count(self) -> int:
        return len(self.type)

    @property
    def column_place(self) -> IntArray:
        """(columns,) the place each curve column reads."""
        if self.routes is None:
            return self.country_index
        result: IntArray = np.r_[self.country_index, self.routes.place].astype(np.int64)
        return result

    @property
    def column_group(self) -> IntArray:
        """(columns,) the group of each curve column."""
        own = np.arange(self.count, dtype=np.int64)
        if self.routes is None:
            return own
        result: IntArray = np.r_[own, self.routes.part_group].astype(np.int64)
        return result

    def touches(self, places: IntArray) -> npt.NDArray[np.bool_]:
        """(G,) whether each group reads any of `places` (a route: at any of its parts)."""
        hit: npt.NDArray[np.bool_] = np.isin(self.country_index, places)
        if self.routes is not None:
            part = np.isin(self.routes.place, places)
            hit[self.routes.groups] = np.logical_or.reduceat(part, self.routes.indptr[:-1])
        return hit

    def subset(self, cols: IntArray) -> AssetGroups:
        """The groups `cols` (in that order), without the asset index."""
        return concat_groups([self], [cols])

    @functools.cached_property
    def type_codes(self) -> tuple[IntArray, npt.NDArray[np.object_]]:
        """Codes of the groups' types and the types (sorted), computed once per object: the
        Monte Carlo and the sensitivity analyses read curves for the same groups many times."""
        return _factorize(self.type)


def group_assets(
    asset_ids: npt.ArrayLike,
    asset_types: npt.ArrayLike,
    country_index: IntArray,
    override_assets: set[str],
    coverage: npt.NDArray[np.bool_] | None = None,
    routes: RouteTable | None = None,
) -> AssetGroups:
    """Group assets by (type, place, override owner[, coverage pattern]) without a loop.

    With `routes`, an index at or above `routes.first` is a route (riskapp.engine.routes):
    `country_index - routes.first` is its code among the distinct routes, whose parts
    `routes.parts` holds; routes of a type with the same parts share a group."""
    n = len(country_index)
    type_codes, type_uniques = _factorize(asset_types)
    if override_assets:
        has_override = text_codes(asset_ids, sorted(override_assets)) >= 0
    else:
        has_override = np.zeros(n, dtype=bool)
    # an asset with its own curves forms its own group
    override_code = np.where(has_override, np.arange(1, n + 1), 0)
    n_countries = int(country_index.max()) + 1 if n else 1
    key = type_codes * n_countries + country_index.astype(np.int64)
    key = key * (n + 1) + override_code.astype(np.int64)
    if coverage is not None and coverage.shape[1] > 0:
        cov_code = _row_codes(coverage)
        key = key * (int(cov_code.max()) + 1) + cov_code
    # groups numbered in the order of their keys (as np.unique numbers them), found by a
    # hash of the keys and a sort of the few distinct ones, not a sort of every asset's
    codes, distinct = pd.factorize(key)
    rank = np.empty(len(distinct), dtype=np.int64)
    rank[np.argsort(np.asarray(distinct), kind="stable")] = np.arange(len(distinct))
    of_asset = rank[codes]
    n_groups = int(of_asset.max()) + 1 if n else 0
    first = np.zeros(n_groups, dtype=np.int64)
    first[of_asset[::-1]] = np.arange(n - 1, -1, -1)
    cov = coverage[first] if coverage is not None else np.zeros((n_groups, 0), dtype=bool)
    first_ids = (
        asset_ids.take(first) if isinstance(asset_ids, pd.Series) else np.asarray(asset_ids)[first]
    )
    owner = np.where(has_override[first], np.asarray(first_ids, dtype=object), "").astype(object)
    place = country_index[first].astype(np.int64)
    group_routes = None
    if routes is not None:
        route_groups = np.flatnonzero(place >= routes.first).astype(np.int64)
        if len(route_groups):
            code = place[route_groups] - routes.first
            p = routes.parts
            sizes = (p.indptr[code + 1] - p.indptr[code]).astype(np.int64)
            take = np.repeat(p.indptr[code] - np.r_[0, np.cumsum(sizes)[:-1]], sizes)
            take = take + np.arange(int(sizes.sum()))
            group_routes = GroupRoutes(
                groups=route_groups,
                indptr=np.r_[0, np.cumsum(sizes)].astype(np.int64),
                place=p.place[take],
                share=p.share[take],
                any_cut=p.any_cut[code],
                new_stretch=p.new_stretch[take],
            )
            place[route_groups] = p.place[p.indptr[code]]  # a route's first part
    return AssetGroups(
        of_asset=of_asset,
        type=type_uniques[type_codes[first]],
        country_index=place,
        override_owner=owner,
        coverage=cov,
        routes=group_routes,
    )


def concat_groups(parts: Sequence[AssetGroups], cols: Sequence[IntArray]) -> AssetGroups:
    """The groups `cols[k]` of `parts[k]`, side by side (no asset index)."""
    route_groups, indptrs, places, shares, cuts, stretches = [], [], [], [], [], []
    offset, part_offset = 0, 0
    for groups, c in zip(parts, cols, strict=True):
        r = groups.routes
        if r is not None:
            position = np.full(groups.count, -1, dtype=np.int64)
            position[r.groups] = np.arange(len(r.groups))
            chosen = position[c]
            where = np.flatnonzero(chosen >= 0)
            k = chosen[where]
            sizes = (r.indptr[k + 1] - r.indptr[k]).astype(np.int64)
            take = np.repeat(r.indptr[k] - np.r_[0, np.cumsum(sizes)[:-1]], sizes)
            take = take + np.arange(int(sizes.sum()))
            route_groups.append(where + offset)
            indptrs.append(np.cumsum(sizes) + part_offset)
            places.append(r.place[take])
            shares.append(r.share[take])
            cuts.append(r.any_cut[k])
            stretches.append(r.new_stretch[take])
            part_offset += int(sizes.sum())
        offset += len(c)
    group_routes = None
    if route_groups and sum(len(g) for g in route_groups):
        group_routes = GroupRoutes(
            groups=np.concatenate(route_groups).astype(np.int64),
            indptr=np.r_[0, np.concatenate(indptrs)].astype(np.int64),
            place=np.concatenate(places).astype(np.int64),
            share=np.concatenate(shares),
            any_cut=np.concatenate(cuts),
            new_stretch=np.concatenate(stretches),
        )
    return AssetGroups(
        of_asset=np.zeros(0, dtype=np.int64),
        type=np.concatenate([g.type[c] for g, c in zip(parts, cols, strict=True)]),
        country_index=np.concatenate(
            [g.country_index[c] for g, c in zip(parts, cols, strict=True)]
        ).astype(np.int64),
        override_owner=np.concatenate(
            [g.override_owner[c] for g, c in zip(parts, cols, strict=True)]
        ),
        coverage=np.concatenate([g.coverage[c] for g, c in zip(parts, cols, strict=True)]),
        routes=group_routes,
    )


def _row_codes(rows: npt.NDArray[np.bool_]) -> IntArray:
    """A code per distinct boolean row (rows that are equal share a code)."""
    packed = np.packbits(rows, axis=1)
    if packed.shape[1] <= 8:
        padded = np.zeros((len(rows), 8), dtype=np.uint8)
        padded[:, : packed.shape[1]] = packed
        keys = padded.view(np.uint64).reshape(-1)
        _, codes = np.unique(keys, return_inverse=True)
    else:
        _, codes = np.unique(packed, axis=0, return_inverse=True)
    return codes.reshape(-1).astype(np.int64)


def _factorize(values: npt.ArrayLike) -> tuple[IntArray, npt.NDArray[np.object_]]:
    # a register's column is factorised as it is held (Arrow strings: no Python string
    # per asset); its sorted order is the code-point order of Python strings either way
    if isinstance(values, pd.Series) and not isinstance(values.dtype, pd.CategoricalDtype):
        codes, uniques = pd.factorize(values, sort=True)
        return codes.astype(np.int64), np.asarray(uniques, dtype=object)
    # (a categorical column would sort by its categories' order)
    codes, held = pd.factorize(np.asarray(values, dtype=object), sort=True)
    return codes.astype(np.int64), np.asarray(held, dtype=object)


def group_damage(
    groups: AssetGroups,
    intensities: FloatArray,
    factors: Sequence[str],
    curves: CurveSet,
    intensity_reduction: FloatArray | None = None,
) -> FloatArray:
    """Damage ratio per (scenario, group, factor).

    `intensities` has shape (scenarios, countries, factors); `intensity_reduction`, if given,
    shape (scenarios, groups, factors) and is subtracted before the curve is read (floored at 0).
    A (type, factor) without a curve does no damage. Every curve is read in one vectorised pass
    (`CurveTable`), as `interpolate` reads one: factor by factor on runs of columns that read
    the same curve when they are few (groups are numbered type by type, so a type's columns
    form a run; far faster than a search per cell), else cell by cell (`CurveTable.read`)."""
    table = curve_table(groups, factors, curves)
    if table.run_count <= MAX_RUNS:
        lead, (n_places, n_factors) = intensities.shape[:-2], intensities.shape[-2:]
        flat = intensities.reshape(-1, n_places, n_factors)
        at = np.take(np.moveaxis(flat, -1, 0), groups.column_place, axis=-1)  # (F, n, columns)
        if intensity_reduction is not None:
            cut = np.moveaxis(
                intensity_reduction.reshape(-1, *intensity_reduction.shape[-2:]), -1, 0
            )
            if groups.routes is not None:
                cut = np.take(cut, groups.column_group, axis=-1)
            at = np.maximum(at - cut, 0.0)
        by_factor = table.read_by_factor(at)  # (F, n, G)
        # laid out in memory as `read` lays it out (sums over factors run in memory order, so
        # the layout decides their last bit): (n, G, F), or with routes (n, F, G) seen as
        # (n, G, F), as `fold_routes` leaves it
        if groups.routes is None:
            result: FloatArray = np.ascontiguousarray(np.moveaxis(by_factor, 0, -1))
        else:
            result = np.moveaxis(np.ascontiguousarray(np.moveaxis(by_factor, 0, 1)), 1, -1)
        return result.reshape(*lead, groups.count, n_factors)
    felt = intensities[:, groups.column_place, :]  # (S, columns, F)
    if intensity_reduction is not None:
        reduction = intensity_reduction
        if groups.routes is not None:
            reduction = intensity_reduction[:, groups.column_group, :]
        felt = np.maximum(felt - reduction, 0.0)
    return table.read(felt)


@dataclass(frozen=True)
class CurveTable:
    """Every curve a set of groups reads for some factors, packed so that one `searchsorted`
    finds each cell's segment: curve c's points sit at c x BAND + x in one sorted array (the
    intensities lie in a band narrower than BAND), each point with the slope of the segment
    it starts (0 for the last point, which holds its ratio beyond)."""

    curve_of: IntArray  # (columns, F) curve index of each cell, -1 for no curve
    first_x: FloatArray  # (C,)
    last_x: FloatArray  # (C,)
    keys: FloatArray  # (P,) c x BAND + x of every point, sorted
    point_curve: IntArray  # (P,) the curve of each point
    x: FloatArray  # (P,)
    y: FloatArray  # (P,)
    slope: FloatArray  # (P,)
    groups: AssetGroups | None = None  # whose routes `read` folds (None: no routes)

    BAND = 64.0

    def read(self, felt: FloatArray) -> FloatArray:
        """Damage ratios of intensities `felt` (..., G, F) on each cell's curve; 0 where a cell
        has none. The same arithmetic as `np.interp`: slope x (x - x_j) + y_j on the segment
        starting at x_j, the end ratios held below the first and beyond the last point."""
        out = np.zeros(felt.shape)
        has = self.curve_of >= 0
        if not has.any():
            return out if self.groups is None else fold_routes(out, self.groups, -2)
        cells = np.flatnonzero(has.reshape(-1))
        lead = felt.shape[:-2]
        flat = felt.reshape(*lead, -1)[..., cells]  # (..., N)
        c = self.curve_of.reshape(-1)[cells]
        x = np.clip(flat, self.first_x[c], self.last_x[c])
        j = np.searchsorted(self.keys, c * self.BAND + x, side="right") - 1
        # c x BAND + x is rounded: next to a point the search may land one segment off, so the
        # segment is settled on x itself (as np.interp's is), whatever the curve's index
        j = np.where(x < self.x[j], j - 1, j)
        after = np.minimum(j + 1, len(self.x) - 1)
        j = np.where((self.point_curve[after] == c) & (after > j) & (x >= self.x[after]), after, j)
        values = self.slope[j] * (x - self.x[j]) + self.y[j]
        out.reshape(*lead, -1)[..., cells] = values
        return out if self.groups is None else fold_routes(out, self.groups, -2)

    @functools.cached_property
    def runs(self) -> list[list[tuple[int, int, FloatArray, FloatArray]]]:
        """Per factor: the runs of consecutive groups that read the same curve, (first group,
        end, the curve's x, its y). Groups are numbered type by type, so a type's groups
        mostly form one run."""
        starts = np.searchsorted(self.keys, np.arange(len(self.first_x)) * self.BAND)
        stops = np.r_[starts[1:], len(self.keys)]
        out: list[list[tuple[int, int, FloatArray, FloatArray]]] = []
        for column in self.curve_of.T:
            edges = np.flatnonzero(np.diff(np.r_[-2, column, -2]))
            row = []
            for a, b in zip(edges[:-1].tolist(), edges[1:].tolist(), strict=True):
                c = int(column[a])
                if c >= 0:
                    row.append((a, b, self.x[starts[c] : stops[c]], self.y[starts[c] : stops[c]]))
            out.append(row)
        return out

    @functools.cached_property
    def run_count(self) -> int:
        """How many runs `runs` holds at most (counted without building them)."""
        if not self.curve_of.size:
            return 0
        changes = int(np.count_nonzero(np.diff(self.curve_of, axis=0)))
        return changes + int(self.curve_of.shape[1])

    def read_by_factor(self, felt: FloatArray) -> FloatArray:
        """`read` for factor-major intensities (F, n, G): `interpolate` on each run of groups
        with the same curve (a view), faster than `read` when the groups run type by type."""
        out = np.zeros(felt.shape)
        for k, row in enumerate(self.runs):
            for a, b, xs, ys in row:
                out[k][:, a:b] = interpolate(felt[k][:, a:b], xs, ys)
        return out if self.groups is None else fold_routes(out, self.groups, -1)


CurvePoints = dict[int, tuple[FloatArray, FloatArray, FloatArray]]
_POINTS: list[tuple[CurveSet, CurvePoints]] = []  # the last few curve sets' (`curve_points`)
POINTS_KEPT = 4


def curve_points(curves: CurveSet) -> CurvePoints:
    """Each curve of a set as arrays (its x, its y, the slope of the segment each point starts,
    0 for the last), by the curve's id: made once per curve set, not once per `curve_table`
    (the Monte Carlo's plan slices make dozens of tables of the same curves). The last few
    sets are kept with their arrays, so the ids stand for the same curves while kept."""
    for held, points in _POINTS:
        if held is curves:
            return points
    points = {}
    for c in curves.curves:
        x = np.array([p[0] for p in c.points], dtype=float)
        y = np.array([p[1] for p in c.points], dtype=float)
        points[id(c)] = (x, y, np.append(np.diff(y) / np.diff(x), 0.0))
    _POINTS[:] = [(curves, points), *_POINTS[: POINTS_KEPT - 1]]
    return points


def curve_table(groups: AssetGroups, factors: Sequence[str], curves: CurveSet) -> CurveTable:
    """The `CurveTable` of `groups` for `factors` (kept on the groups object per curve set and
    factor list: the Monte Carlo and the sensitivity analyses read the same cells many times)."""
    cache: dict[tuple[str, ...], tuple[CurveSet, CurveTable]] = groups.__dict__.setdefault(
        "_curve_tables", {}
    )
    key = tuple(factors)
    hit = cache.get(key)
    if hit is not None and hit[0] is curves:
        return hit[1]
    type_curves = curves.type_curves()
    overrides = curves.override_curves()
    used: dict[int, int] = {}
    chosen: list[VulnerabilityCurve] = []
    column_group = groups.column_group
    curve_of = np.full((len(column_group), len(factors)), -1, dtype=np.int64)

    def index(curve: VulnerabilityCurve) -> int:
        if id(curve) not in used:
            used[id(curve)] = len(chosen)
            chosen.append(curve)
        return used[id(curve)]

    type_codes, type_uniques = groups.type_codes
    column_types = type_codes[column_group]
    cols_of_type = [np.flatnonzero(column_types == t_i) for t_i in range(len(type_uniques))]
    for f_i, factor in enumerate(factors):
        for t_i, a_type in enumerate(type_uniques):
            curve = type_curves.get((str(a_type), factor))
            if curve is not None:
                curve_of[cols_of_type[t_i], f_i] = index(curve)
    if overrides:
        for g in np.flatnonzero(groups.override_owner != ""):
            owner = str(groups.override_owner[g])
            columns = np.flatnonzero(column_group == g)
            for f_i, factor in enumerate(factors):
                curve = overrides.get((owner, factor))
                if curve is not None:
                    curve_of[columns, f_i] = index(curve)
    points = curve_points(curves)
    xs = [points[id(c)][0] for c in chosen]
    ys = [points[id(c)][1] for c in chosen]
    slopes = [points[id(c)][2] for c in chosen]
    empty = np.zeros(0)
    table = CurveTable(
        curve_of=curve_of,
        first_x=np.array([x[0] for x in xs]),
        last_x=np.array([x[-1] for x in xs]),
        keys=np.concatenate([c * CurveTable.BAND + x for c, x in enumerate(xs)] or [empty]),
        point_curve=np.repeat(np.arange(len(xs), dtype=np.int64), [len(x) for x in xs]),
        x=np.concatenate(xs or [empty]),
        y=np.concatenate(ys or [empty]),
        slope=np.concatenate(slopes or [empty]),
        groups=groups if groups.routes is not None else None,
    )
    cache[key] = (curves, table)
    return table
