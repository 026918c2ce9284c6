"""Engine enumerations that need nothing but the standard library: the command line takes them
as option types, so `riskapp --help` shows their choices without loading numpy
(riskapp.engine.sampling re-exports RangeDistribution)."""

from __future__ import annotations

from enum import StrEnum


class RangeDistribution(StrEnum):
    """How a shock's value is drawn from its range `{low, mode, high}`."""

    PERT = "pert"
    TRIANGULAR = "triangular"
