"""Scenario intensities per country and factor: the baseline modified by a scenario's shocks.

The one place of the intensity rules: `clamp_intensity` (the 0-10 scale) and `apply_shock`
(set, add, scale, then clamp). Scoring, the Monte Carlo, the sensitivity analyses and the
what-if pages all call these two; tests/test_formulas.py checks that no second copy appears.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from riskapp.domain.common import INTENSITY_MAX, INTENSITY_MIN
from riskapp.domain.regions import RegionCatalogue
from riskapp.domain.scenarios import Scenario, Shock, ShockOperation

FloatArray = npt.NDArray[np.float64]


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


def apply_shock(values: FloatArray, op: ShockOperation, value: float | FloatArray) -> FloatArray:
    """One shock on an array of intensities, clamped to 0-10 after the operation: `set`
    replaces, `add` adds, `scale` multiplies. `value` is a number or an array that broadcasts
    against `values` (e.g. one value per Monte Carlo trial, shape (n, 1)). Returns a new array."""
    if op is ShockOperation.SET:
        out = np.broadcast_to(np.asarray(value, dtype=np.float64), values.shape)
    elif op is ShockOperation.ADD:
        out = values + value
    else:
        out = values * value
    return clamp_intensity(out)


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
    """
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
        for shock in ordered_shocks(scenario, regions):
            j = f_index.get(shock.factor)
            if j is None:
                continue
            rows = [c_index[c] for c in regions.members(shock.target) if c in c_index]
            if not rows:
                continue
            value = shock.value
            if shock_values is not None:
                value = float(shock_values[offsets[s_i][id(shock)]])
            out[s_i, rows, j] = apply_shock(out[s_i, rows, j], shock.op, value)
    return out


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
