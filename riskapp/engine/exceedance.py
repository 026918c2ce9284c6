"""Exceedance-frequency curve and loss at return periods, as CLIMADA defines them.

Events (scenarios) are sorted by loss, largest first; their annual frequencies are accumulated
to give the frequency with which each loss is reached or exceeded; the return period is the
inverse of that frequency. Events with equal losses are one point of the curve: their
frequencies are added before they are accumulated, so the curve, and every loss read from it,
does not depend on the order in which scenarios or assets are listed (losses that differ only
by floating-point rounding, a relative 1e-9, count as equal). The loss at a return period is
read by linear interpolation on the curve and clamped to its ends (CLIMADA's
`Impact.calc_freq_curve`). Scenarios with zero frequency are left out: they never occur.

    exceedance_frequency(x) = sum of frequency[s] over the scenarios s with loss[s] >= x
    return_period(x)        = 1 / exceedance_frequency(x)
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

TIE_TOLERANCE = 1e-9  # relative: losses closer than this are one point of the curve


def tie_groups(losses: FloatArray) -> tuple[IntArray, IntArray]:
    """(order, point): `order` sorts the losses largest first; `point[k]` numbers the curve
    point of the k-th loss in that order (0 for the largest), equal losses sharing a point."""
    order = np.argsort(-losses, kind="stable").astype(np.int64)
    ranked = losses[order]
    scale = float(np.max(np.abs(ranked))) if len(ranked) else 0.0
    new_point = np.r_[True, (ranked[:-1] - ranked[1:]) > TIE_TOLERANCE * scale]
    point = (np.cumsum(new_point) - 1).astype(np.int64)
    return order, point


def exceedance_frequencies(losses: FloatArray, frequencies: FloatArray) -> FloatArray:
    """(S,) the frequency with which each scenario's loss is reached or exceeded: the sum of
    the frequencies of every scenario with a loss at least as large, ties included."""
    order, point = tie_groups(losses)
    per_point = np.bincount(point, weights=frequencies[order]) if len(order) else np.zeros(0)
    cumulative = np.cumsum(per_point)
    out = np.zeros(len(losses))
    out[order] = cumulative[point]
    return out


def exceedance_curve(
    losses: FloatArray, frequencies: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Return (return_period, exceedance_frequency, loss), one point per distinct loss,
    ordered by rising return period."""
    keep = frequencies > 0
    loss = losses[keep]
    freq = frequencies[keep]
    order, point = tie_groups(loss)
    if not len(order):
        empty: FloatArray = np.zeros(0)
        return empty, empty.copy(), empty.copy()
    exceed: FloatArray = np.cumsum(np.bincount(point, weights=freq[order]))
    first = np.flatnonzero(np.r_[True, point[1:] != point[:-1]])
    point_loss = loss[order][first]  # the largest loss of each point
    rp = 1.0 / exceed
    return rp[::-1].copy(), exceed[::-1].copy(), point_loss[::-1].copy()


def loss_at_return_periods(
    losses: FloatArray, frequencies: FloatArray, return_periods: FloatArray
) -> FloatArray:
    """Loss reached or exceeded once every `return_period` years on average."""
    rp, _, loss = exceedance_curve(losses, frequencies)
    if len(rp) == 0:
        return np.zeros(len(return_periods))
    result: FloatArray = np.interp(return_periods, rp, loss)
    return result


def expected_annual_loss(losses: FloatArray, frequencies: FloatArray) -> FloatArray:
    """Sum over scenarios of frequency x loss; scenarios on the last axis."""
    result: FloatArray = losses @ frequencies
    return result
