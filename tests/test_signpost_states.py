"""Signpost states (issue 11, item 2): the rule by hand and as properties."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from riskapp.engine.signposts import AMBER, GREEN, RED, run_start, signpost_states

finite = st.floats(-1e6, 1e6, allow_nan=False)


def test_by_hand() -> None:
    # watching for a rise past 150, amber from 125
    values = [100, 124.9, 125, 149.9, 150, 200]
    assert signpost_states(values, 150, True, 25).tolist() == [GREEN, GREEN, AMBER, AMBER, RED, RED]
    # watching for a fall below 85 (storage %), amber up to 90
    assert signpost_states([95, 90, 86, 85, 60], 85, False, 5).tolist() == [
        GREEN,
        AMBER,
        AMBER,
        RED,
        RED,
    ]
    assert signpost_states([149, 150], 150, True).tolist() == [GREEN, RED]  # no band, no amber
    assert run_start([GREEN, AMBER, RED, RED]) == 2
    assert run_start([RED, RED]) == 0 and run_start([]) == 0
    assert run_start([AMBER, GREEN, AMBER]) == 2


@given(st.lists(finite, min_size=1, max_size=30), finite, st.floats(0, 1e3))
def test_a_higher_value_never_has_a_safer_state(values: list[float], t: float, b: float) -> None:
    v = np.sort(np.asarray(values))
    states = signpost_states(v, t, True, b)
    assert (np.diff(states.astype(int)) >= 0).all()


@given(st.lists(finite, min_size=1, max_size=30), finite, st.floats(0, 1e3))
def test_below_is_the_mirror_of_above(values: list[float], t: float, b: float) -> None:
    v = np.asarray(values)
    assert (signpost_states(v, t, False, b) == signpost_states(-v, -t, True, b)).all()


def test_period_end_and_staleness_by_hand() -> None:
    """The last day of each frequency's period, and stale once that day is further back than
    the frequency allows (45 days for a month: 2025-12 is fresh on 14 Feb 2026, stale a day
    later)."""
    from datetime import date

    from riskapp.domain.indicators import Frequency as F
    from riskapp.domain.indicators import period_end, stale_days

    assert period_end("2024-02", F.MONTHLY) == date(2024, 2, 29)  # a leap year
    assert period_end("2025-Q3", F.QUARTERLY) == date(2025, 9, 30)
    assert period_end("2026-W01", F.WEEKLY) == date(2026, 1, 4)  # ISO week 1's Sunday
    assert period_end("2025", F.ANNUAL) == date(2025, 12, 31)
    assert period_end("2026-03-31", F.DAILY) == date(2026, 3, 31)
    assert stale_days("2025-12", F.MONTHLY, date(2026, 2, 14)) is None
    assert stale_days("2025-12", F.MONTHLY, date(2026, 2, 15)) == 46
    assert stale_days("2024", F.ANNUAL, date(2026, 2, 4)) is None  # 400 days after 2024-12-31
    assert stale_days("2024", F.ANNUAL, date(2026, 2, 5)) == 401
    assert stale_days("2026-12", F.MONTHLY, date(2026, 12, 6)) is None  # not ended yet
