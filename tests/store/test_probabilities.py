"""Probabilities that respond (issue 11, item 3): a scenario's current probability is its prior
odds times the likelihood ratios of its crossed signposts, capped; every figure can use it."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from riskapp.assessment import assess
from riskapp.assessment.sources import StoreSource
from riskapp.engine.signposts import updated_probability
from riskapp.io.errors import InputError
from riskapp.io.indicators import read_series
from riskapp.resources import DEMO
from riskapp.store import Store
from tests.store.conftest import SYSTEM


def test_update_by_hand() -> None:
    # 10 % a year is odds 1:9; a ratio of 3 makes 3:9, i.e. 25 %
    assert updated_probability(0.10, [3.0], 0.95) == pytest.approx(0.25)
    assert updated_probability(0.10, [3.0, 2.0], 0.95) == pytest.approx(0.4)  # 6:9
    assert updated_probability(0.5, [100.0], 0.9) == 0.9  # capped
    assert updated_probability(0.97, [2.0], 0.9) == 0.97  # above the cap already: kept
    assert updated_probability(0.97, [0.5], 0.9) < 0.97  # a ratio below 1 lowers it
    assert updated_probability(1.0, [0.1], 0.9) == 1.0 and updated_probability(0.0, [9], 1) == 0


@given(st.floats(0.001, 0.999), st.lists(st.floats(0.01, 100), max_size=4), st.floats(0.01, 1))
def test_more_evidence_never_lowers_it(p: float, ratios: list[float], cap: float) -> None:
    base = updated_probability(p, ratios, cap)
    assert 0 < base <= max(cap, p) + 1e-12
    assert updated_probability(p, [*ratios, 2.0], cap) >= base - 1e-12


def _demo_source(store: Store, tmp_path: Path, red: bool) -> StoreSource:
    store.import_series(read_series(DEMO / "indicators.csv"), SYSTEM, "demo")
    if red:  # January 2026: the Russia index far above its threshold of 2.5
        (tmp_path / "jan.csv").write_text(
            "indicator,name,unit,frequency,period,value\n"
            "gpr_russia,Geopolitical risk index Russia,% of articles,monthly,2026-01,4.2\n"
        )
        store.import_series(read_series(tmp_path / "jan.csv"), SYSTEM, "file jan.csv")
    return StoreSource(store, DEMO)


def test_current_probabilities_move_every_figure(open_store: object, tmp_path: Path) -> None:
    store = open_store(files=DEMO)  # type: ignore[operator]
    source = _demo_source(store, tmp_path, red=True)
    prior = assess(source, probabilities="prior")
    current = assess(source, probabilities="current")
    moved = {u.scenario_id: u for u in current.probability_updates if u.current != u.prior}
    assert set(moved) == {"nato_russia_accidental_escalation"}
    u = moved["nato_russia_accidental_escalation"]
    # a rung of the ladder (after drone incursions, step probability 0.12): the ratio updates
    # its step, and its annual probability follows: 0.03 x step' / 0.12
    step = prior.ws.scenario(u.scenario_id).escalates_from
    assert step is not None
    odds = step.probability / (1 - step.probability) * 3.0
    assert u.current == pytest.approx(u.prior * (odds / (1 + odds)) / step.probability)
    stepped = current.ws.scenario(u.scenario_id).escalates_from
    assert stepped is not None and stepped.probability == pytest.approx(odds / (1 + odds))
    assert u.reasons == (("Geopolitical risk, Russia", 3.0, "2026-01"),)
    # the expected annual loss is status quo + sum of frequency x increment: only this
    # scenario's term moves, by the change of its probability times its increment
    i = prior.result.scenario_ids.index(u.scenario_id)
    increment = float(prior.result.scenario_increment()[i])
    delta = current.result.expected_annual_loss() - prior.result.expected_annual_loss()
    assert increment > 0
    assert delta == pytest.approx((u.current - u.prior) * increment, rel=1e-9)
    assert current.probabilities == "current" and prior.probabilities == "prior"


def test_nothing_crossed_nothing_moves(open_store: object, tmp_path: Path) -> None:
    store = open_store(files=DEMO)  # type: ignore[operator]
    source = _demo_source(store, tmp_path, red=False)  # both GPR signposts amber
    current = assess(source, probabilities="current")
    assert all(u.current == u.prior for u in current.probability_updates)
    assert current.result.expected_annual_loss() == assess(source).result.expected_annual_loss()


def test_files_alone_have_no_signpost_values() -> None:
    with pytest.raises(InputError) as exc:
        assess(DEMO, probabilities="current")
    assert "team database" in str(exc.value)


def test_command_line_says_which() -> None:
    from riskapp.cli import app

    result = CliRunner().invoke(
        app, ["score", "demo", "--source", "store", "--probabilities", "current"]
    )
    assert result.exit_code == 0, result.output
    flat = " ".join(result.output.split())
    assert "Scenario probabilities: current (no signpost crossed)" in flat, flat[:400]
