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

from riskapp.domain.curves import CurveSet, VulnerabilityCurve

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


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
    result: FloatArray = np.maximum(combined - base, 0.0)
    return result


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
    with np.errstate(divide="ignore"):
        weight = -np.log1p(-np.where(full, 0.0, d))
    any_full = full.any(axis=-1, keepdims=True)
    weight = np.where(any_full, full.astype(float), weight)
    total = weight.sum(axis=-1, keepdims=True)
    share = np.divide(weight, total, out=np.zeros_like(weight), where=total > 0)
    attributed: FloatArray = share * combined[..., np.newaxis]
    result: FloatArray = combined
    return result, attributed


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
    share = np.divide(rise, total, out=np.zeros_like(rise), where=total > 0)
    return inc, share * inc[..., np.newaxis]


@dataclass(frozen=True)
class AssetGroups:
    """Assets that share a damage path: same type, country and curves (and, for plan
    evaluation, the same plan coverage).

    `of_asset[a]` is the group of asset a; per group: its type, country index, curve owner
    (the asset id whose overrides apply, or '' for none) and coverage row.
    """

    of_asset: IntArray
    type: npt.NDArray[np.object_]
    country_index: IntArray
    override_owner: npt.NDArray[np.object_]
    coverage: npt.NDArray[np.bool_]

    @property
    def count(self) -> int:
        return len(self.type)

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
) -> AssetGroups:
    """Group assets by (type, country, override owner[, coverage pattern]) without a loop."""
    n = len(country_index)
    type_codes, type_uniques = _factorize(asset_types)
    if override_assets:
        has_override = pd.Series(asset_ids).isin(list(override_assets)).to_numpy(dtype=bool)
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
    _, of_asset = np.unique(key, return_inverse=True)
    of_asset = of_asset.reshape(-1).astype(np.int64)
    n_groups = int(of_asset.max()) + 1 if n else 0
    first = np.zeros(n_groups, dtype=np.int64)
    first[of_asset[::-1]] = np.arange(n - 1, -1, -1)
    cov = coverage[first] if coverage is not None else np.zeros((n_groups, 0), dtype=bool)
    owner = np.where(has_override[first], np.asarray(asset_ids)[first], "").astype(object)
    return AssetGroups(
        of_asset=of_asset,
        type=type_uniques[type_codes[first]],
        country_index=country_index[first].astype(np.int64),
        override_owner=owner,
        coverage=cov,
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
    codes, uniques = pd.factorize(pd.Series(values), sort=True)
    return codes.astype(np.int64), np.asarray(uniques, dtype=object)


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
    A (type, factor) without a curve does no damage.
    """
    n_s = intensities.shape[0]
    felt = intensities[:, groups.country_index, :]  # (S, G, F)
    if intensity_reduction is not None:
        felt = np.maximum(felt - intensity_reduction, 0.0)
    out = np.zeros((n_s, groups.count, len(factors)))
    type_curves = curves.type_curves()
    overrides = curves.override_curves()
    type_codes, type_uniques = groups.type_codes
    cols_of_type = [np.flatnonzero(type_codes == t_i) for t_i in range(len(type_uniques))]
    for f_i, factor in enumerate(factors):
        for t_i, a_type in enumerate(type_uniques):
            curve = type_curves.get((str(a_type), factor))
            if curve is None:
                continue
            cols = cols_of_type[t_i]
            out[:, cols, f_i] = _apply(curve, felt[:, cols, f_i])
    if overrides:
        for g in np.flatnonzero(groups.override_owner != ""):
            owner = str(groups.override_owner[g])
            for f_i, factor in enumerate(factors):
                curve = overrides.get((owner, factor))
                if curve is not None:
                    out[:, g, f_i] = _apply(curve, felt[:, g, f_i])
    return out


def _apply(curve: VulnerabilityCurve, intensity: FloatArray) -> FloatArray:
    xs = np.array([p[0] for p in curve.points], dtype=float)
    ys = np.array([p[1] for p in curve.points], dtype=float)
    return interpolate(intensity, xs, ys)
