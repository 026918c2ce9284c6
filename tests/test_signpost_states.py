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
