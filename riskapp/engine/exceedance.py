"""Exceedance-frequency curve and loss at return periods, as CLIMADA defines them.

Events (scenarios) are sorted by loss, largest first; their annual frequencies are accumulated
to give the frequency with which each loss is reached or exceeded; the return period is the
inverse of that frequency. The loss at a return period is read by linear interpolation on the
curve and clamped to its ends (CLIMADA's `Impact.calc_freq_curve`). Scenarios with zero
frequency are left out: they never occur.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


def exceedance_curve(
    losses: FloatArray, frequencies: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Return (return_period, exceedance_frequency, loss), ordered by rising return period."""
    keep = frequencies > 0
    loss = losses[keep]
    freq = frequencies[keep]
    order = np.argsort(-loss, kind="stable")
    exceed = np.cumsum(freq[order])
    rp = 1.0 / exceed
    return rp[::-1].copy(), exceed[::-1].copy(), loss[order][::-1].copy()


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
