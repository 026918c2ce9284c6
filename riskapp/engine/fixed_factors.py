"""Cases in which only some factors vary (a Monte Carlo year): what the fixed factors bring to
`riskapp.engine.damage.combine` computed once per group, so that each case combines only the
varying factors' damage. The formulas are damage.py's (`clamp_ratio`, `above_baseline`, the
product of survivals, attribution by -ln(1 - d)); tests/engine/test_cascade_compiled.py checks
them against `combine` and `incremental`."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from riskapp.engine.damage import above_baseline, clamp_ratio

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class FixedFactors:
    """Per-factor damage ratios (G, F) of some groups of which only the factors `vary` change
    from case to case (a Monte Carlo year): what the fixed factors bring to `combine` is
    computed once. Arrays of the cases are factor-major, (factors, n, G), so that a sum or a
    product over the factors is a few elementwise operations.

    `combined` and `increment` give the figures of `combined_damage`, and of `combine` then
    `incremental`, with the damage of the varying factors replaced (to rounding: the products
    and sums run in another order)."""

    vary: IntArray  # (Fv,) the varying factors
    survival: FloatArray  # (G,) product over the fixed factors of (1 - d)
    weight: FloatArray  # (F, G) attribution weights -ln(1 - d) of the fixed factors, 0 else
    full: npt.NDArray[np.bool_]  # (F, G) fixed factors with d >= 1
    any_full: npt.NDArray[np.bool_]  # (G,)

    def combined(self, damage: FloatArray) -> FloatArray:
        """(n, G) combined damage, `combined_damage`'s, for the varying factors' (Fv, n, G)."""
        result: FloatArray = 1.0 - self._survival(clamp_ratio(damage))
        return result

    def _survival(self, d: FloatArray) -> FloatArray:
        survival = np.repeat(self.survival[np.newaxis, :], d.shape[1], axis=0)
        for k in range(d.shape[0]):
            survival *= 1.0 - d[k]
        return survival

    def increment(
        self,
        damage: FloatArray,
        base_combined: FloatArray,
        base_attributed: FloatArray,
        value: FloatArray,
    ) -> tuple[FloatArray, FloatArray]:
        """For the varying factors' damage (Fv, n, G): the (n, G) combined damage above the
        base (G,) and (F, n) its attribution to the factors summed over the groups with weights
        `value` (G,), as `combine` then `incremental` (base attribution (F, G)) give them."""
        d = clamp_ratio(damage)
        combined = 1.0 - self._survival(d)
        n_f, n = len(self.weight), d.shape[1]
        full = d >= 1.0
        with np.errstate(divide="ignore"):
            weight_v = -np.log1p(-np.where(full, 0.0, d))
        weight = np.empty((n_f, n, d.shape[2]))
        weight[:] = self.weight[:, np.newaxis, :]
        weight[self.vary] = weight_v
        any_full = np.repeat(self.any_full[np.newaxis, :], n, axis=0)
        for k in range(d.shape[0]):
            any_full |= full[k]
        if any_full.any():  # a destroying factor takes the whole loss (split between those)
            destroyed = np.empty((n_f, n, d.shape[2]), dtype=bool)
            destroyed[:] = self.full[:, np.newaxis, :]
            destroyed[self.vary] = full
            weight = np.where(any_full[np.newaxis], destroyed.astype(float), weight)
        # attributed = weight / sum(weight) x combined; its rise above the base's
        rise = weight
        rise *= (combined / _positive(_factor_sum(weight)))[np.newaxis]
        rise -= base_attributed[:, np.newaxis, :]
        np.maximum(rise, 0.0, out=rise)
        inc = above_baseline(combined, base_combined)
        # the increment, attributed in proportion to the rises, summed over the groups
        scale = inc / _positive(_factor_sum(rise)) * value
        factor: FloatArray = (rise * scale[np.newaxis]).sum(axis=2)
        return inc, factor


def _factor_sum(x: FloatArray) -> FloatArray:
    """The sum over the first axis (factors), slice by slice."""
    total: FloatArray = x[0].copy()
    for k in range(1, len(x)):
        total += x[k]
    return total


def _positive(total: FloatArray) -> FloatArray:
    """A divisor for shares of a sum of non-negative parts: where the sum is 0 every part is,
    and 0 / 1 gives their share 0."""
    result: FloatArray = np.where(total > 0, total, 1.0)
    return result


def fixed_factors(damage: FloatArray, vary: IntArray) -> FixedFactors:
    """`FixedFactors` of per-factor damage ratios (G, F) whose factors `vary` change."""
    d = clamp_ratio(damage)
    fixed = np.ones(d.shape[1], dtype=bool)
    fixed[vary] = False
    survival = np.prod(1.0 - d[:, fixed], axis=1)
    full = (d >= 1.0) & fixed[np.newaxis, :]
    with np.errstate(divide="ignore"):
        weight = -np.log1p(-np.where(full, 0.0, d))
    weight[:, ~fixed] = 0.0
    return FixedFactors(
        vary=np.asarray(vary, dtype=np.int64),
        survival=survival,
        weight=np.ascontiguousarray(weight.T),
        full=np.ascontiguousarray(full.T),
        any_full=np.asarray(full.any(axis=1), dtype=bool),
    )
