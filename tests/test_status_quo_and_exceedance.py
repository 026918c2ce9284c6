"""Issue 12, items 2 and 3: the exceedance curve does not depend on the order of scenarios or
assets, and the status quo is counted once on both loss bases (hand-checked on the tiny
workspace, with a de-escalation scenario; the Monte Carlo agrees)."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from riskapp.domain import LossBasis, Scenario, Workspace
from riskapp.domain.assets import Portfolio
from riskapp.engine import evaluate_plans, exceedance_curve, loss_at_return_periods, score
from riskapp.engine.montecarlo import simulate
from tests.engine.builders import without_ranges
from tests.strategies import workspaces

# -- exceedance: tied losses ---------------------------------------------------------------------


def test_tied_losses_give_one_point_whatever_their_order() -> None:
    # one asset; a and b both lose 50 (annual probabilities 0.01 and 0.04), c loses 90 (0.2).
    # By definition, exceedance frequency(x) = sum of p over scenarios with loss >= x:
    #   loss 90: 0.2                     -> return period 1 / 0.2  = 5 years
    #   loss 50: 0.2 + 0.01 + 0.04 = 0.25 -> return period 1 / 0.25 = 4 years
    # 4.5 years lies between those points: 50 + (4.5 - 4) / (5 - 4) x (90 - 50) = 70.
    # (Accumulating a and b one after the other gave 50.0 in one order and 66.0 in the other.)
    for order in ([0, 1, 2], [1, 0, 2], [2, 1, 0], [2, 0, 1]):
        loss = np.array([50.0, 50.0, 90.0])[order]
        freq = np.array([0.01, 0.04, 0.2])[order]
        rp, exceed, points = exceedance_curve(loss, freq)
        assert rp.tolist() == pytest.approx([4.0, 5.0])
        assert exceed.tolist() == pytest.approx([0.25, 0.2])
        assert points.tolist() == [50.0, 90.0]
        assert loss_at_return_periods(loss, freq, np.array([4.5]))[0] == pytest.approx(70.0)


def test_losses_equal_up_to_rounding_are_one_point() -> None:
    loss = np.array([0.1 + 0.2, 0.3, 1.0])  # 0.30000000000000004 and 0.3
    rp, _, points = exceedance_curve(loss, np.array([0.1, 0.1, 0.05]))
    assert len(rp) == 2 and rp.tolist() == pytest.approx([4.0, 20.0])
    assert points[1] == 1.0


def _shuffled(ws: Workspace, scenario_order: list[int], asset_order: list[int]) -> Workspace:
    frame = ws.portfolio.frame.iloc[asset_order].reset_index(drop=True)
    return replace(
        ws,
        scenarios=[ws.scenarios[i] for i in scenario_order],
        portfolio=Portfolio.from_frame(frame),
    )


@settings(max_examples=40, deadline=None)
@given(workspaces(with_plans=False), st.sampled_from(list(LossBasis)), st.data())
def test_curve_and_return_period_losses_ignore_scenario_and_asset_order(
    ws: Workspace, basis: LossBasis, data: st.DataObject
) -> None:
    # copies of the scenarios under other ids lose exactly as much: ties on purpose
    twins = [
        s.model_copy(
            update={
                "id": f"{s.id}_twin",
                "frequency": data.draw(st.sampled_from([0.01, 0.04, 0.2, 0.5])),
            }
        )
        for s in ws.scenarios
        if s.escalates_from is None
    ]
    ws = replace(ws, scenarios=[*ws.scenarios, *twins])
    n_s, n_a = len(ws.scenarios), len(ws.portfolio)
    s_order = data.draw(st.permutations(range(n_s)))
    a_order = data.draw(st.permutations(range(n_a)))
    periods = [1.5, 2.0, 4.5, 10.0, 100.0, 1000.0]
    before = score(ws, basis=basis)
    after = score(_shuffled(ws, list(s_order), list(a_order)), basis=basis)
    scale = max(1.0, before.total_exposed_value)
    curve_a, curve_b = before.exceedance(), after.exceedance()
    assert len(curve_a) == len(curve_b)
    for column in ("return_period_years", "exceedance_frequency"):
        assert curve_b[column].to_numpy() == pytest.approx(curve_a[column].to_numpy(), rel=1e-9)
    assert curve_b["loss"].to_numpy() == pytest.approx(
        curve_a["loss"].to_numpy(), rel=1e-9, abs=1e-9 * scale
    )
    rp_a, rp_b = before.loss_at_return_periods(periods), after.loss_at_return_periods(periods)
    for p in periods:
        assert rp_b[p] == pytest.approx(rp_a[p], rel=1e-9, abs=1e-9 * scale)
    assert after.expected_annual_loss() == pytest.approx(
        before.expected_annual_loss(), rel=1e-9, abs=1e-9 * scale
    )


# -- the status quo counted once -----------------------------------------------------------------

# tiny: status quo `base` (probability 1, no shocks) loses P1 20 + P2 115 + O1 25 = 160;
# s1 (0.1) loses 305, s2 (0.01) 260 (see tests/test_engine_hand.py). `calm` is a
# de-escalation (0.2): FIN alpha -2 (4 -> 2) and DEU alpha set to 0:
#   P1 (NOR) unchanged 20; P2 alpha 0.2, beta 0.1: 1 - 0.8 x 0.9 = 0.28 -> 70 (115 today);
#   O1 alpha 0 -> 0 (25 today). Loss 90, below the status quo's 160 for every asset.
CALM = Scenario(
    id="calm",
    title="Calm",
    frequency=0.2,
    warning_time_days=10,
    shocks=[
        {"target": "FIN", "factor": "alpha", "op": "add", "value": -2},
        {"target": "DEU", "factor": "alpha", "op": "set", "value": 0},
    ],
)


@pytest.fixture
def calm(tiny: Workspace) -> Workspace:
    return replace(tiny, scenarios=[*tiny.scenarios, CALM])


def test_expected_loss_counts_the_status_quo_once_on_both_bases(calm: Workspace) -> None:
    absolute = score(calm, basis=LossBasis.ABSOLUTE)
    assert absolute.scenario_ids == ["base", "s1", "s2", "calm"]
    assert absolute.scenario_loss() == pytest.approx([160.0, 305.0, 260.0, 90.0])
    # increments over the status quo, floored at 0 per asset: s1 P1 +40, P2 +105; s2 O1 +100;
    # calm lowers P2 and O1 and leaves P1: +0 everywhere
    assert absolute.scenario_increment() == pytest.approx([0.0, 145.0, 100.0, 0.0])
    # EAL = status quo + sum p_i x increment_i = 160 + 0.1 x 145 + 0.01 x 100 + 0.2 x 0
    assert absolute.status_quo_loss() == pytest.approx(160.0)
    assert absolute.expected_annual_loss() == pytest.approx(175.5)
    assert absolute.asset_eal() == pytest.approx([20 + 4.0, 115 + 10.5, 25 + 1.0])
    assert absolute.eal_contribution() == pytest.approx([0.0, 14.5, 1.0, 0.0])
    # the old sum, 1 x 160 + 0.1 x 305 + 0.01 x 260 + 0.2 x 90 = 211.1, counted 160 about
    # 1.3 times and let the de-escalation add 18
    incremental = score(calm, basis=LossBasis.INCREMENTAL)
    assert incremental.scenario_loss() == pytest.approx([0.0, 145.0, 100.0, 0.0])
    assert incremental.status_quo_loss() == 0.0
    assert incremental.expected_annual_loss() == pytest.approx(15.5)
    # the two bases differ by the status-quo loss, on every figure
    rps = [2.0, 5.0, 10.0, 100.0]
    a_rp, i_rp = absolute.loss_at_return_periods(rps), incremental.loss_at_return_periods(rps)
    for rp in rps:
        assert a_rp[rp] == pytest.approx(i_rp[rp] + 160.0)
    # exceedance (absolute), a year's loss when a scenario occurs = 160 + its increment:
    # s1 305 at 0.1 (10 years); s2 260, reached or exceeded at 0.1 + 0.01 = 0.11; base and
    # calm 160 (nothing above the status quo), tied: 0.11 + 1 + 0.2 = 1.31
    curve = absolute.exceedance()
    assert curve["loss"].tolist() == pytest.approx([160.0, 260.0, 305.0])
    assert curve["exceedance_frequency"].tolist() == pytest.approx([1.31, 0.11, 0.1])


@pytest.mark.parametrize("basis", list(LossBasis))
def test_plans_avert_the_same_on_both_bases(calm: Workspace, basis: LossBasis) -> None:
    ev = evaluate_plans(calm, score(calm, basis=basis))
    status_quo = 160.0 if basis is LossBasis.ABSOLUTE else 0.0
    assert ev.gross_eal() == pytest.approx(status_quo + 15.5)
    # shield halves alpha damage of both plants in s1 (see test_engine_hand): averts 90 of
    # s1's increment, 0.1 x 90 = 9 a year, whatever the basis
    assert ev.averted_eal()[ev.plan_ids.index("shield")] == pytest.approx(9.0)
    assert ev.residual_eal() == pytest.approx(status_quo + 15.5 - 9.0)


@pytest.mark.parametrize(("basis", "expected"), [("absolute", 175.5), ("incremental", 15.5)])
def test_monte_carlo_mean_converges_to_the_expected_loss(
    calm: Workspace, basis: str, expected: float
) -> None:
    ws = without_ranges(calm)
    r = simulate(ws, 20_000, seed=12, basis=LossBasis(basis))
    assert r.sim.eal == pytest.approx(expected)
    port = r.portfolio_table().iloc[0]
    assert abs(port["mean"] - expected) < 4 * port["se_mean"]
    assert port["se_mean"] < 0.05 * expected
    # every year bears the status quo: no year below it
    floor = 160.0 if basis == "absolute" else 0.0
    assert r.loss.min() == pytest.approx(floor)
    assert math.isfinite(port["mean"])


def test_the_methodology_states_the_rule_with_its_worked_example() -> None:
    """The developer notes (from the code) carry the rule and its worked example; the client
    text states it in plain words."""
    from riskapp.methodology import client_methodology, developer_methodology

    text = developer_methodology()
    assert "EAL              = status_quo + sum_s frequency[s] x increment[s]" in text
    assert "EAL = 160 + 0.1 x 145 + 0.01 x 100 + 0.2 x 0 = 175.5" in text
    assert "Scenarios occurring together: what the probabilities mean" in text
    client = client_methodology()
    assert "EAL = status-quo loss + Σ over scenarios of p \u00d7 increment" in client
    assert "their sum is" in client and "the expected number of scenarios a year" in client


def test_the_scenario_dots_sit_on_the_curve_when_losses_tie(calm: Workspace) -> None:
    from riskapp.assessment.core import assess_workspace
    from riskapp.assessment.whatif import exceedance_points

    a = assess_workspace(calm)
    points = exceedance_points(a).set_index("scenario_id")
    # base and calm both lose 160 in a year (nothing above the status quo): one point, 1.31
    assert points.loc["base", "exceedance_frequency"] == pytest.approx(1.31)
    assert points.loc["calm", "exceedance_frequency"] == pytest.approx(1.31)
    assert points.loc["s2", "exceedance_frequency"] == pytest.approx(0.11)
    assert points.loc["s1", "loss"] == pytest.approx(305.0)
