"""Scenario intensities per country and factor: the baseline modified by a scenario's shocks.

The one place of the intensity rules: `clamp_intensity` (the 0-10 scale), `unclamped_shock`
(set, add, scale, toward_max, toward_min) and `apply_shock` (the operation, then the clamp).
Scoring, the Monte Carlo, the sensitivity analyses and the what-if pages all call these;
tests/test_formulas.py checks that no second copy appears.

A clamp loses information: a country already at 10 gains nothing from `add 3`, so a scenario
that adds the same points everywhere ranks the most exposed countries lowest.
`scenario_intensities_with_clamps` therefore also returns every place where a shock ran past
the scale (`ShockClamps`), and the headroom operations `toward_max` / `toward_min` move a
fraction of the distance to the scale's end, so they never clamp.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from riskapp.domain.common import INTENSITY_MAX, INTENSITY_MIN
from riskapp.domain.regions import RegionCatalogue
from riskapp.domain.scenarios import Scenario, Shock, ShockOperation

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

# An operation's result beyond the scale by less than this is floating-point rounding (e.g.
# toward_max with value 1 on 9.7), not a clamp worth reporting.
CLAMP_TOLERANCE = 1e-9


def ordered_shocks(scenario: Scenario, regions: RegionCatalogue) -> list[Shock]:
    """Shocks in the order they are applied: group shocks first, then country shocks,
    each in file order. A country shock therefore has the last word for its country."""
    group = [s for s in scenario.shocks if regions.is_group(s.target)]
    country = [s for s in scenario.shocks if not regions.is_group(s.target)]
    return group + country


def clamp_intensity(values: npt.ArrayLike) -> FloatArray:
    """Intensities held to the scale, INTENSITY_MIN to INTENSITY_MAX (0-10)."""
    result: FloatArray = np.clip(np.asarray(values, dtype=np.float64), INTENSITY_MIN, INTENSITY_MAX)
    return result


def unclamped_shock(
    values: FloatArray, op: ShockOperation, value: float | FloatArray
) -> FloatArray:
    """One shock's operation on an array of intensities, before the clamp to 0-10:
    `set` replaces, `add` adds, `scale` multiplies, `toward_max` moves the fraction `value` of
    the way to 10 (x + value (10 - x)), `toward_min` the fraction `value` of the way to 0
    (x - value x). With `values` on the scale and `value` in 0-1, the last two stay on the
    scale (up to rounding, see CLAMP_TOLERANCE). `value` is a number or an array that
    broadcasts against `values` (e.g. one value per Monte Carlo trial, shape (n, 1))."""
    out: FloatArray
    if op is ShockOperation.SET:
        out = np.broadcast_to(np.asarray(value, dtype=np.float64), values.shape).copy()
    elif op is ShockOperation.ADD:
        out = values + value
    elif op is ShockOperation.SCALE:
        out = values * value
    elif op is ShockOperation.TOWARD_MAX:
        out = values + value * (INTENSITY_MAX - values)
    else:  # TOWARD_MIN
        out = values - value * (values - INTENSITY_MIN)
    return np.asarray(out, dtype=np.float64)


def apply_shock(values: FloatArray, op: ShockOperation, value: float | FloatArray) -> FloatArray:
    """One shock on an array of intensities (`unclamped_shock`), clamped to 0-10 after the
    operation. Returns a new array."""
    return clamp_intensity(unclamped_shock(values, op, value))


@dataclass(frozen=True)
class ShockClamps:
    """Where shocks ran past the 0-10 scale, one entry per (scenario, shock, country) clamped:
    indices of the scenario, of the shock in the scenario's file order, of the country and
    of the factor in the arrays scored, the intensity before the shock, the operation's result
    and the clamped intensity used. `lost` is what the clamp took away: positive when a shock
    ran past 10, negative when it ran below 0."""

    scenario: IntArray
    shock: IntArray
    country: IntArray
    factor: IntArray
    before: FloatArray
    unclamped: FloatArray
    clamped: FloatArray

    def __len__(self) -> int:
        return int(self.scenario.shape[0])

    @property
    def lost(self) -> FloatArray:
        result: FloatArray = self.unclamped - self.clamped
        return result


def scenario_intensities_with_clamps(
    baseline: FloatArray,
    countries: Sequence[str],
    factors: Sequence[str],
    scenarios: Sequence[Scenario],
    regions: RegionCatalogue,
    shock_values: FloatArray | None = None,
) -> tuple[FloatArray, ShockClamps]:
    """`scenario_intensities` and every clamp it made (`ShockClamps`).

    Each shock is one vectorised step over the countries it reaches; a clamp is recorded where
    the operation's result lies beyond the scale by more than CLAMP_TOLERANCE, found in one
    pass over every shocked value. Clamps are per scenario x country x factor, not per asset
    (assets feel the country's intensity).
    """
    found: list[tuple[int, int, int, IntArray, FloatArray, FloatArray]] = []
    out = _shocked(baseline, countries, factors, scenarios, regions, shock_values, found)
    return out, _clamps(found)


def _shocked(
    baseline: FloatArray,
    countries: Sequence[str],
    factors: Sequence[str],
    scenarios: Sequence[Scenario],
    regions: RegionCatalogue,
    shock_values: FloatArray | None,
    found: list[tuple[int, int, int, IntArray, FloatArray, FloatArray]] | None,
) -> FloatArray:
    """The shocks applied in order; each step appended to `found` if given (scenario, shock
    in file order, factor, rows, values before, the operation's result)."""
    c_index = {c: i for i, c in enumerate(countries)}
    f_index = {f: j for j, f in enumerate(factors)}
    out = np.repeat(baseline[np.newaxis, :, :], len(scenarios), axis=0).astype(float)
    flat_index = 0
    offsets: list[dict[int, int]] = []
    for scenario in scenarios:
        positions = {id(s): flat_index + k for k, s in enumerate(scenario.shocks)}
        offsets.append(positions)
        flat_index += len(scenario.shocks)
    for s_i, scenario in enumerate(scenarios):
        file_order = {id(s): k for k, s in enumerate(scenario.shocks)} if found is not None else {}
        for shock in ordered_shocks(scenario, regions):
            j = f_index.get(shock.factor)
            if j is None:
                continue
            rows = np.array(
                [c_index[c] for c in regions.members(shock.target) if c in c_index],
                dtype=np.int64,
            )
            if not len(rows):
                continue
            value = shock.value
            if shock_values is not None:
                value = float(shock_values[offsets[s_i][id(shock)]])
            before = out[s_i, rows, j]
            raw = unclamped_shock(before, shock.op, value)
            out[s_i, rows, j] = clamp_intensity(raw)
            if found is not None:
                found.append((s_i, file_order[id(shock)], j, rows, before, raw))
    return out


def _clamps(found: Sequence[tuple[int, int, int, IntArray, FloatArray, FloatArray]]) -> ShockClamps:
    """The clamps of the shocks that left the scale somewhere, selected in one pass."""
    if not found:
        empty_i, empty_f = np.zeros(0, dtype=np.int64), np.zeros(0)
        return ShockClamps(empty_i, empty_i, empty_i, empty_i, empty_f, empty_f, empty_f)
    counts = np.array([len(f[3]) for f in found], dtype=np.int64)

    def per_shock(k: int) -> IntArray:
        return np.repeat(np.array([f[k] for f in found], dtype=np.int64), counts)

    raw = np.concatenate([f[5] for f in found])
    clamped = clamp_intensity(raw)
    hit = np.abs(raw - clamped) > CLAMP_TOLERANCE
    return ShockClamps(
        scenario=per_shock(0)[hit],
        shock=per_shock(1)[hit],
        country=np.concatenate([f[3] for f in found])[hit],
        factor=per_shock(2)[hit],
        before=np.concatenate([f[4] for f in found])[hit],
        unclamped=raw[hit],
        clamped=clamped[hit],
    )


def scenario_intensities(
    baseline: FloatArray,
    countries: Sequence[str],
    factors: Sequence[str],
    scenarios: Sequence[Scenario],
    regions: RegionCatalogue,
    shock_values: FloatArray | None = None,
) -> FloatArray:
    """Intensity array of shape (scenarios, countries, factors).

    `baseline` has shape (countries, factors). Shocks that target countries or factors outside
    the arrays are ignored (no asset can feel them). `shock_values`, if given, replaces each
    shock's value (flattened over scenarios in file order) - used to sample uncertainty ranges.
    Where the shocks clamped: `scenario_intensities_with_clamps`.
    """
    return _shocked(baseline, countries, factors, scenarios, regions, shock_values, None)


def region_max_intensity(
    intensities: FloatArray,
    countries: Sequence[str],
    members: Sequence[str],
    factor_index: int,
) -> FloatArray:
    """Highest intensity of one factor over a region's countries, per scenario (0 if none)."""
    rows = [i for i, c in enumerate(countries) if c in set(members)]
    if not rows:
        return np.zeros(intensities.shape[0])
    result: FloatArray = intensities[:, rows, factor_index].max(axis=1)
    return result
