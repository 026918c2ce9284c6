"""Signpost states: where an indicator's value stands against a signpost's threshold.

For a signpost watching for a rise (direction above) with threshold T and amber band b:

    red    value >= T           (crossed)
    amber  T - b <= value < T   (within the band below the threshold; only if b > 0)
    green  value < T - b

and the mirror image for a fall (direction below): red at value <= T, amber up to T + b. The
state of each period of a series is read the same way; a signpost has been in its current
state since the first period of the run of that state that reaches the latest period.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

GREEN, AMBER, RED = 0, 1, 2
STATE_NAMES = ("green", "amber", "red")


def signpost_states(
    values: npt.ArrayLike, threshold: float, above: bool, band: float = 0.0
) -> npt.NDArray[np.int8]:
    """The state (GREEN, AMBER or RED) of each value."""
    v = np.asarray(values, dtype=np.float64)
    # distance to the threshold on the signpost's side: >= 0 crossed
    over = v - threshold if above else threshold - v
    state = np.full(v.shape, GREEN, dtype=np.int8)
    if band > 0:
        state[over >= -band] = AMBER
    state[over >= 0] = RED
    return state


def run_start(states: npt.ArrayLike) -> int:
    """Index of the first element of the trailing run of equal states (0 for an empty or
    constant sequence)."""
    s = np.asarray(states)
    if not len(s):
        return 0
    changes = np.flatnonzero(s[1:] != s[:-1])
    return int(changes[-1] + 1) if len(changes) else 0


def updated_probability(prior: float, ratios: Sequence[float], cap: float) -> float:
    """A probability updated by likelihood ratios: odds = p / (1 - p), times every ratio,
    back to p = odds / (1 + odds); never above `cap`, unless the prior already was (a cap
    never lowers a probability). 0 and 1 stay as they are (no evidence moves certainty)."""
    if prior <= 0.0 or prior >= 1.0 or all(r == 1.0 for r in ratios):
        return prior  # (and no rounding through odds when nothing moves it)
    odds = prior / (1.0 - prior) * float(np.prod(np.asarray(ratios, dtype=np.float64)))
    current = odds / (1.0 + odds)
    return min(current, max(cap, prior))
