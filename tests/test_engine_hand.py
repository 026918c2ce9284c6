"""Every formula of the engine checked against figures worked out by hand on the tiny
workspace in tests/data/tiny (see the comments there).

Assets: P1 plant NOR (exposed 100), P2 plant FIN (200 + 50 revenue = 250), O1 office DEU
(USD 1000 at 0.5 = EUR 500). Curves: plant/alpha d = I/10; plant/beta 0 up to I=2, then
linear to 0.4 at I=6, clamped; office/alpha d = I/20.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from riskapp.domain import LossBasis, PlanStatus, Workspace
from riskapp.engine import (
    annuity_factor,
    combine,
    evaluate_plans,
    exceedance_curve,
    key_figures,
    loss_at_return_periods,
    losses_by,
    score,
)

# scenario order is file order: base, s1, s2
EXPECTED_ASSET_LOSS = {
    # base: P1 alpha 2 -> 0.2; P2 alpha 4 -> 0.4, beta 3 -> 0.1, 1 - 0.6*0.9 = 0.46;
    # O1 alpha 1 -> 0.05
    "base": {"P1": 20.0, "P2": 0.46 * 250, "O1": 25.0},
    # s1: north alpha +4 (NOR 6, FIN 8), FIN beta set 6 -> 0.4; P2 1 - 0.2*0.6 = 0.88
    "s1": {"P1": 60.0, "P2": 0.88 * 250, "O1": 25.0},
    # s2: DEU alpha x5 = 5 -> office 0.25
    "s2": {"P1": 20.0, "P2": 0.46 * 250, "O1": 125.0},
}


def test_asset_losses_match_hand_calculation(tiny: Workspace) -> None:
    result = score(tiny)
    loss = result.asset_loss()
    ids = list(tiny.portfolio.ids)
    for s_i, sid in enumerate(result.scenario_ids):
        for aid, expected in EXPECTED_ASSET_LOSS[sid].items():
            assert loss[ids.index(aid), s_i] == pytest.approx(expected, rel=1e-12), (sid, aid)


def test_scenario_totals_and_expected_annual_loss(tiny: Workspace) -> None:
    result = score(tiny)
    assert result.scenario_loss() == pytest.approx([160.0, 305.0, 260.0])
    # absolute basis: the status quo (base, 160 every year) is counted once; each other
    # scenario adds its increment over it: s1 +40 (P1) +105 (P2) = 145, s2 +100 (O1)
    # 160 + 0.1 * 145 + 0.01 * 100 = 175.5 (was 193.1 = 1 * 160 + 0.1 * 305 + 0.01 * 260,
    # which counted the status-quo 160 again inside s1 and s2)
    assert result.scenario_increment() == pytest.approx([0.0, 145.0, 100.0])
    assert result.status_quo_loss() == pytest.approx(160.0)
    assert result.expected_annual_loss() == pytest.approx(175.5)
    assert result.asset_eal().sum() == pytest.approx(175.5)
    assert result.total_exposed_value == pytest.approx(850.0)


def test_intensities_follow_documented_precedence(tiny: Workspace) -> None:
    result = score(tiny)
    c = result.countries
    s1 = result.scenario_ids.index("s1")
    alpha, beta = result.factor_ids.index("alpha"), result.factor_ids.index("beta")
    assert result.intensities[s1, c.index("NOR"), alpha] == 6.0
    assert result.intensities[s1, c.index("FIN"), alpha] == 8.0
    assert result.intensities[s1, c.index("FIN"), beta] == 6.0
    assert result.intensities[s1, c.index("NOR"), beta] == 1.0  # untouched


def test_country_shock_has_last_word_whatever_the_file_order(tiny: Workspace) -> None:
    from riskapp.domain import Scenario, Shock
    from riskapp.engine import prepare, scenario_intensities

    # the country 'set' is listed first, the group 'add' second: the set still wins
    sc = Scenario(
        id="x",
        title="x",
        frequency=0.1,
        warning_time_days=1,
        shocks=[
            Shock(target="FIN", factor="alpha", op="set", value=3),
            Shock(target="north", factor="alpha", op="add", value=4),
        ],
    )
    inputs = prepare(tiny)
    i = scenario_intensities(
        inputs.baseline, inputs.countries, inputs.factor_ids, [sc], tiny.regions
    )
    assert i[0, inputs.countries.index("FIN"), 0] == 3.0
    assert i[0, inputs.countries.index("NOR"), 0] == 6.0


def test_shocks_clamp_to_scale_after_each_step(tiny: Workspace) -> None:
    from riskapp.domain import Scenario, Shock
    from riskapp.engine import prepare, scenario_intensities

    sc = Scenario(
        id="x",
        title="x",
        frequency=0.1,
        warning_time_days=1,
        shocks=[
            Shock(target="DEU", factor="alpha", op="add", value=10),  # 1 + 10 -> 10
            Shock(target="DEU", factor="alpha", op="add", value=-3),  # 10 - 3 = 7 (not 8)
            Shock(target="DEU", factor="beta", op="add", value=-5),  # 0 - 5 -> 0
        ],
    )
    inputs = prepare(tiny)
    i = scenario_intensities(
        inputs.baseline, inputs.countries, inputs.factor_ids, [sc], tiny.regions
    )
    deu = inputs.countries.index("DEU")
    assert i[0, deu, 0] == 7.0
    assert i[0, deu, 1] == 0.0


def test_combination_and_attribution_rule() -> None:
    combined, parts = combine(np.array([[0.8, 0.4]]))
    assert combined[0] == pytest.approx(0.88)
    wa, wb = -math.log(0.2), -math.log(0.6)
    assert parts[0, 0] == pytest.approx(0.88 * wa / (wa + wb))
    assert parts[0, 1] == pytest.approx(0.88 * wb / (wa + wb))
    # a factor that destroys the asset takes the whole loss; two at 1 share it
    combined, parts = combine(np.array([[1.0, 0.3], [1.0, 1.0]]))
    assert combined == pytest.approx([1.0, 1.0])
    assert parts[0] == pytest.approx([1.0, 0.0])
    assert parts[1] == pytest.approx([0.5, 0.5])
    # no damage, no attribution
    combined, parts = combine(np.zeros((1, 3)))
    assert combined[0] == 0.0 and parts.sum() == 0.0


def test_factor_attribution_of_a_loss(tiny: Workspace) -> None:
    result = score(tiny)
    s1 = result.scenario_ids.index("s1")
    p2 = list(tiny.portfolio.ids).index("P2")
    wa, wb = -math.log(0.2), -math.log(0.6)
    by_factor = result.asset_factor_loss(s1)[p2]
    assert by_factor == pytest.approx([220 * wa / (wa + wb), 220 * wb / (wa + wb)])
    assert result.scenario_factor_loss().sum(axis=1) == pytest.approx(result.scenario_loss())


def test_incremental_basis_is_loss_above_baseline(tiny: Workspace) -> None:
    result = score(tiny, basis=LossBasis.INCREMENTAL)
    # base 0; s1: P1 60-20, P2 (0.88-0.46)*250, O1 0; s2: O1 125-25
    assert result.scenario_loss() == pytest.approx([0.0, 40 + 105, 100.0])
    assert result.expected_annual_loss() == pytest.approx(0.1 * 145 + 0.01 * 100)
    assert result.scenario_factor_loss().sum(axis=1) == pytest.approx(result.scenario_loss())


def test_exceedance_curve_as_climada_defines_it() -> None:
    losses = np.array([160.0, 305.0, 260.0])
    freq = np.array([1.0, 0.1, 0.01])
    rp, exceed, loss = exceedance_curve(losses, freq)
    # sorted by loss descending, frequencies accumulated: 305 (0.1), 260 (0.11), 160 (1.11)
    assert loss == pytest.approx([160.0, 260.0, 305.0])
    assert exceed == pytest.approx([1.11, 0.11, 0.1])
    assert rp == pytest.approx([1 / 1.11, 1 / 0.11, 10.0])
    at = loss_at_return_periods(losses, freq, np.array([5.0, 10.0, 100.0]))
    expected_5 = 160 + (5 - 1 / 1.11) / (1 / 0.11 - 1 / 1.11) * 100
    assert at == pytest.approx([expected_5, 305.0, 305.0])


def test_zero_frequency_scenarios_leave_the_curve() -> None:
    rp, _, loss = exceedance_curve(np.array([10.0, 99.0]), np.array([0.5, 0.0]))
    assert list(loss) == [10.0] and rp == pytest.approx([2.0])


def test_key_figures(tiny: Workspace) -> None:
    figures = key_figures(tiny, score(tiny))
    assert figures["worst_scenario"] == "s1"
    assert figures["worst_scenario_loss"] == pytest.approx(305.0)
    assert figures["scenario_curve_loss_at_10y"] == pytest.approx(305.0)


@pytest.mark.parametrize("dimension", ["asset", "country", "asset_type", "factor"])
def test_aggregations_add_up(tiny: Workspace, dimension: str) -> None:
    result = score(tiny)
    table = losses_by(tiny, result, dimension)  # type: ignore[arg-type]
    for s_i, sid in enumerate(result.scenario_ids):
        assert table[sid].sum() == pytest.approx(result.scenario_loss()[s_i])
    assert table["eal"].sum() == pytest.approx(result.expected_annual_loss())


def test_region_groups_sum_their_members(tiny: Workspace) -> None:
    result = score(tiny)
    table = losses_by(tiny, result, "region_group")
    assert table.loc["north", "s1"] == pytest.approx(60 + 220)
    by_country = losses_by(tiny, result, "country")
    assert by_country.loc["DEU", "s2"] == pytest.approx(125.0)


def test_annuity_factor() -> None:
    assert annuity_factor(0.05, 5) == pytest.approx(sum(1.05**-t for t in range(1, 6)))
    assert annuity_factor(0.0, 3) == pytest.approx(3.0)


def test_plans_trigger_readiness_and_residual(tiny: Workspace) -> None:
    ev = evaluate_plans(tiny)
    s = ev.scenario_ids.index("s1")
    shield, armor = ev.plan_ids.index("shield"), ev.plan_ids.index("armor")
    # shield: listed scenario; armor: FIN alpha reaches 8 >= 7 in s1 only
    assert ev.triggered[:, shield].tolist() == [False, True, False]
    assert ev.triggered[:, armor].tolist() == [False, True, False]
    # armor's slow action takes 60 days, s1 warns 30 days ahead: 30 days short
    assert ev.gap_days[s, armor] == 30.0 and not ev.ready[s, armor]
    assert ev.effective[:, armor].sum() == 0
    # shield halves alpha damage of both plants: P1 0.3*100, P2 (1 - 0.6*0.6)*250
    assert ev.residual_loss[s] == pytest.approx(30 + 160 + 25)
    assert ev.averted_alone[s, shield] == pytest.approx(90.0)
    a = annuity_factor(0.05, 5)
    assert ev.cost_npv()[shield] == pytest.approx(10 + 2 * a)
    assert ev.averted_npv()[shield] == pytest.approx(9.0 * a)
    assert ev.benefit_cost_ratio()[shield] == pytest.approx(9 * a / (10 + 2 * a))
    # shield averts part of s1's increment over the status quo: 145 gross, residual
    # P1 30 - 20 = 10, P2 160 - 115 = 45, O1 0: 55; 145 - 55 = 90, as above. EALs count the
    # status quo once (160 + 0.1 x 145 + 0.01 x 100 = 175.5; was 193.1, see above)
    assert ev.gross_increment[s] == pytest.approx(145.0)
    assert ev.residual_increment[s] == pytest.approx(55.0)
    assert ev.gross_eal() == pytest.approx(175.5)
    assert ev.residual_eal() == pytest.approx(175.5 - 9.0)


def _with_plan_status(ws: Workspace, plan_id: str, status: PlanStatus) -> Workspace:
    from dataclasses import replace

    from riskapp.domain import PlanBook

    plans = [
        p.model_copy(update={"status": status}) if p.id == plan_id else p for p in ws.plans.plans
    ]
    return replace(ws, plans=PlanBook(plans=plans))


def test_plans_in_place_combine_multiplicatively(tiny: Workspace) -> None:
    ws = _with_plan_status(tiny, "armor", PlanStatus.READY)
    ev = evaluate_plans(ws)
    s = ev.scenario_ids.index("s1")
    armor = ev.plan_ids.index("armor")
    assert ev.ready[s, armor] and ev.gap_days[s, armor] == 0
    # P2 under both: alpha 0.8 * 0.5 * 0.5 = 0.2; beta felt 6 - 2 = 4 -> 0.2; 1 - 0.8*0.8 = 0.36
    p2 = list(ws.portfolio.ids).index("P2")
    assert ev.residual_asset_loss()[p2, s] == pytest.approx(0.36 * 250)
    assert ev.residual_loss[s] == pytest.approx(30 + 90 + 25)
    # armor alone on P2: alpha 0.4, beta 0.2 -> 1 - 0.6*0.8 = 0.52
    assert ev.averted_alone[s, armor] == pytest.approx(220 - 0.52 * 250)


def test_retired_plans_never_fire(tiny: Workspace) -> None:
    ev = evaluate_plans(_with_plan_status(tiny, "shield", PlanStatus.RETIRED))
    assert not ev.triggered[:, ev.plan_ids.index("shield")].any()


def test_loss_threshold_trigger(tiny: Workspace) -> None:
    from dataclasses import replace

    from riskapp.domain import PlanBook, Trigger

    plan = tiny.plans.plans[0].model_copy(
        update={"trigger": Trigger(loss_at_least=200.0), "id": "by_loss"}
    )
    ws = replace(tiny, plans=PlanBook(plans=[plan]))
    ev = evaluate_plans(ws)
    # covered: both plants; their gross loss: base 135, s1 280, s2 135
    assert ev.triggered[:, 0].tolist() == [False, True, False]


def test_readiness_can_be_ignored_by_setting(tiny: Workspace) -> None:
    from dataclasses import replace

    ws = replace(tiny, settings=tiny.settings.model_copy(update={"require_readiness": False}))
    ev = evaluate_plans(ws)
    armor = ev.plan_ids.index("armor")
    assert ev.effective[:, armor].tolist() == [False, True, False]
    assert ev.gap_days[1, armor] == 30.0  # the gap is still reported


def test_scenario_subset_keeps_order(tiny: Workspace) -> None:
    ws = tiny.with_scenarios(["s2", "base"])
    result = score(ws)
    assert result.scenario_ids == ["s2", "base"]
    assert result.scenario_loss() == pytest.approx([260.0, 160.0])
    with pytest.raises(KeyError, match="unknown scenario"):
        tiny.with_scenarios(["nope"])


def test_waterfall_steps_add_up_to_residual(tiny: Workspace) -> None:
    from riskapp.engine import waterfall

    ev = evaluate_plans(_with_plan_status(tiny, "armor", PlanStatus.READY))
    steps = waterfall(ev, "s1")
    # gross 305; shield alone leaves 215; shield + armor leave 30 + 90 + 25 = 145
    assert steps["amount"].tolist() == pytest.approx([305.0, -90.0, -70.0, 145.0])
    assert steps["plan_id"].tolist() == ["", "shield", "armor", ""]
    assert steps["amount"].iloc[:-1].sum() == pytest.approx(steps["amount"].iloc[-1])


def test_clamps_are_reported_where_and_by_how_much(tiny: Workspace) -> None:
    """tiny's baseline: alpha NOR 2, FIN 4, DEU 1; beta NOR 1, FIN 3, DEU 0. The group shock
    is listed last but applies first; `shock` counts in file order."""
    from riskapp.domain import Scenario, Shock
    from riskapp.engine import prepare, scenario_intensities, scenario_intensities_with_clamps

    sc = Scenario(
        id="x",
        title="x",
        frequency=0.1,
        warning_time_days=1,
        shocks=[
            Shock(target="FIN", factor="alpha", op="add", value=1),  # 10 + 1 = 11 -> 10
            Shock(target="DEU", factor="beta", op="add", value=-2),  # 0 - 2 = -2 -> 0
            Shock(target="NOR", factor="beta", op="toward_max", value=0.5),  # 1 + 0.5 x 9
            Shock(target="north", factor="alpha", op="add", value=7),  # NOR 9, FIN 11 -> 10
        ],
    )
    inputs = prepare(tiny)
    c, f = inputs.countries, inputs.factor_ids
    args = (inputs.baseline, c, f, [sc], tiny.regions)
    i, clamps = scenario_intensities_with_clamps(*args)
    np.testing.assert_array_equal(i, scenario_intensities(*args))  # the same intensities
    nor, fin, deu = c.index("NOR"), c.index("FIN"), c.index("DEU")
    alpha, beta = f.index("alpha"), f.index("beta")
    assert i[0, nor, alpha] == 9.0
    assert i[0, fin, alpha] == 10.0
    assert i[0, deu, beta] == 0.0
    assert i[0, nor, beta] == 5.5  # the headroom shock: no clamp
    assert len(clamps) == 3
    rows = list(
        zip(
            clamps.scenario.tolist(),
            clamps.shock.tolist(),
            clamps.country.tolist(),
            clamps.factor.tolist(),
            clamps.before.tolist(),
            clamps.unclamped.tolist(),
            clamps.clamped.tolist(),
            clamps.lost.tolist(),
            strict=True,
        )
    )
    assert rows == [
        (0, 3, fin, alpha, 4.0, 11.0, 10.0, 1.0),  # the group shock, applied first
        (0, 0, fin, alpha, 10.0, 11.0, 10.0, 1.0),
        (0, 1, deu, beta, 0.0, -2.0, 0.0, -2.0),  # below the scale: a negative loss
    ]


def test_a_clamp_table_names_the_places_and_assets(tiny: Workspace) -> None:
    """The assessment's clamp table on the same shocks: one row per clamp, with the assets
    there (tiny has one asset in FIN, P2, and one in DEU, O1)."""
    from riskapp.assessment.scale import clamp_lines, clamp_summary, clamp_table
    from riskapp.domain import Scenario, Shock

    sc = Scenario(
        id="hot",
        title="Hot north",
        frequency=0.1,
        warning_time_days=1,
        shocks=[
            Shock(target="north", factor="alpha", op="add", value=7),
            Shock(target="DEU", factor="beta", op="add", value=-2),
        ],
    )
    table = clamp_table(replace(tiny, scenarios=[sc]))
    assert table[["scenario_id", "shock", "target", "country", "factor_id"]].values.tolist() == [
        ["hot", 2, "DEU", "DEU", "beta"],  # |lost| 2 first, then 1
        ["hot", 1, "north", "FIN", "alpha"],
    ]
    assert table["lost"].tolist() == [-2.0, 1.0]
    assert table["limit"].tolist() == ["0", "10"]
    assert table["assets"].tolist() == [1, 1]
    assert (table["exposed_value"] > 0).all()
    assert clamp_lines(table)[1] == (
        "hot, shock 1 (add +7 to north): FIN alpha 4 -> 11, held at 10 "
        "(1 point lost; 1 asset there)"
    )
    summary = clamp_summary(table)
    assert summary.startswith("2 shocked intensities ran past the 0-10 scale")
    assert "2 points of beta in DEU (hot)" in summary
    assert clamp_summary(clamp_table(tiny)) == ""  # tiny's own scenarios never clamp
    assert list(clamp_table(tiny).columns) == list(table.columns)
