"""Invariants of the engine on random workspaces (hypothesis)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from riskapp.domain import LossBasis, Workspace
from riskapp.engine import evaluate_plans, losses_by, prepare, scenario_intensities, score
from tests.strategies import workspaces

SETTINGS = settings(max_examples=60, deadline=None)


@SETTINGS
@given(workspaces(with_plans=False), st.sampled_from(list(LossBasis)))
def test_loss_never_exceeds_exposed_value(ws: Workspace, basis: LossBasis) -> None:
    result = score(ws, basis=basis)
    loss = result.asset_loss()
    value = result.inputs.exposed_value[:, None]
    assert (loss >= 0).all()
    assert (loss <= value * (1 + 1e-12)).all()


@SETTINGS
@given(workspaces(with_plans=False), st.data())
def test_more_intensity_never_lowers_loss(ws: Workspace, data: st.DataObject) -> None:
    inputs = prepare(ws)
    base = scenario_intensities(
        inputs.baseline, inputs.countries, inputs.factor_ids, ws.scenarios, ws.regions
    )
    bump = data.draw(
        st.lists(st.floats(0, 5, allow_nan=False), min_size=base.size, max_size=base.size)
    )
    higher = np.minimum(base + np.array(bump).reshape(base.shape), 10.0)
    low = score(ws, inputs=inputs, intensities=base).asset_loss()
    high = score(ws, inputs=inputs, intensities=higher).asset_loss()
    assert (high >= low - 1e-9 * np.maximum(1.0, low)).all()


@SETTINGS
@given(workspaces(with_plans=False), st.sampled_from(list(LossBasis)))
def test_attribution_and_aggregations_add_up(ws: Workspace, basis: LossBasis) -> None:
    result = score(ws, basis=basis)
    loss = result.asset_loss()
    total = result.scenario_loss()
    for s in range(len(ws.scenarios)):
        by_factor = result.asset_factor_loss(s)
        np.testing.assert_allclose(by_factor.sum(axis=1), loss[:, s], rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(loss.sum(axis=0), total, rtol=1e-9, atol=1e-6)
    for dim in ("asset", "country", "asset_type", "factor"):
        table = losses_by(ws, result, dim)  # type: ignore[arg-type]
        np.testing.assert_allclose(
            table[result.scenario_ids].sum(axis=0).to_numpy(), total, rtol=1e-9, atol=1e-6
        )
        np.testing.assert_allclose(
            table["eal"].sum(), result.expected_annual_loss(), rtol=1e-9, atol=1e-6
        )


@SETTINGS
@given(workspaces(with_plans=False))
def test_zero_frequency_scenarios_add_nothing(ws: Workspace) -> None:
    before = score(ws).expected_annual_loss()
    silent = [s.model_copy(update={"id": s.id + "_z", "frequency": 0.0}) for s in ws.scenarios]
    after = score(replace(ws, scenarios=[*ws.scenarios, *silent])).expected_annual_loss()
    np.testing.assert_allclose(after, before, rtol=1e-12, atol=1e-9)


@SETTINGS
@given(workspaces(with_plans=True), st.sampled_from(list(LossBasis)))
def test_a_plan_never_raises_loss(ws: Workspace, basis: LossBasis) -> None:
    result = score(ws, basis=basis)
    ev = evaluate_plans(ws, result)
    gross = result.asset_loss()
    assert (ev.residual_asset_loss() <= gross + 1e-9 * np.maximum(1.0, gross)).all()
    np.testing.assert_allclose(ev.gross_loss, result.scenario_loss(), rtol=1e-9, atol=1e-6)
    assert (ev.averted_alone >= -1e-6).all()
    np.testing.assert_allclose(
        ev.residual_asset_loss().sum(axis=0), ev.residual_loss, rtol=1e-9, atol=1e-6
    )


def _reference_loss(ws: Workspace) -> np.ndarray:
    """Straightforward per-asset, per-scenario computation to compare the engine with."""
    inputs = prepare(ws)
    frame = ws.portfolio.frame
    intens = scenario_intensities(
        inputs.baseline, inputs.countries, inputs.factor_ids, ws.scenarios, ws.regions
    )
    types = ws.curves.type_curves()
    overrides = ws.curves.override_curves()
    out = np.zeros((len(frame), len(ws.scenarios)))
    for a, row in frame.iterrows():
        c = inputs.countries.index(row["country"])
        for s in range(len(ws.scenarios)):
            survive = 1.0
            for f_i, f in enumerate(inputs.factor_ids):
                curve = overrides.get((row["id"], f)) or types.get((row["type"], f))
                if curve is not None:
                    survive *= 1 - float(curve.damage(np.array([intens[s, c, f_i]]))[0])
            out[a, s] = inputs.exposed_value[a] * (1 - survive)
    return out


@SETTINGS
@given(workspaces(with_plans=False))
def test_grouped_engine_equals_per_asset_reference(ws: Workspace) -> None:
    np.testing.assert_allclose(score(ws).asset_loss(), _reference_loss(ws), rtol=1e-9, atol=1e-6)


@SETTINGS
@given(
    st.lists(st.floats(0, 10, allow_nan=False), min_size=1, max_size=30),
    st.floats(0, 1, allow_nan=False),
    st.floats(0, 1, allow_nan=False),
)
def test_headroom_shocks_stay_on_the_scale_and_are_monotone(
    values: list[float], v1: float, v2: float
) -> None:
    """toward_max / toward_min: on the scale without a clamp (up to rounding), monotone in
    the fraction, order-preserving across countries, 0 changes nothing."""
    from riskapp.domain.scenarios import ShockOperation
    from riskapp.engine.intensity import CLAMP_TOLERANCE, unclamped_shock

    x = np.array(values)
    lo, hi = sorted((v1, v2))
    for op in (ShockOperation.TOWARD_MAX, ShockOperation.TOWARD_MIN):
        a, b = unclamped_shock(x, op, lo), unclamped_shock(x, op, hi)
        for out in (a, b):
            assert (out >= -CLAMP_TOLERANCE).all()
            assert (out <= 10 + CLAMP_TOLERANCE).all()
        if op is ShockOperation.TOWARD_MAX:
            assert (b >= a - 1e-12).all() and (a >= x - 1e-12).all()
        else:
            assert (b <= a + 1e-12).all() and (a <= x + 1e-12).all()
        order = np.argsort(x, kind="stable")
        assert (np.diff(b[order]) >= -1e-12).all()
        np.testing.assert_array_equal(unclamped_shock(x, op, 0.0), x)


@SETTINGS
@given(workspaces(with_plans=False))
def test_clamps_are_exactly_where_the_operation_left_the_scale(ws: Workspace) -> None:
    """Every reported clamp: before and clamped on the scale, the unclamped value off it,
    lost = unclamped - clamped; headroom shocks never appear; with every shock turned into
    a headroom shock nothing clamps."""
    from riskapp.domain.scenarios import ShockOperation
    from riskapp.engine import scenario_intensities_with_clamps
    from riskapp.engine.intensity import CLAMP_TOLERANCE

    inputs = prepare(ws)
    args = (inputs.baseline, inputs.countries, inputs.factor_ids)
    _, c = scenario_intensities_with_clamps(*args, ws.scenarios, ws.regions)
    assert ((c.before >= 0) & (c.before <= 10)).all()
    assert ((c.clamped == 0) | (c.clamped == 10)).all()
    assert ((c.unclamped < 0) | (c.unclamped > 10)).all()
    np.testing.assert_allclose(c.lost, c.unclamped - c.clamped)
    assert (np.abs(c.lost) > CLAMP_TOLERANCE).all()
    headroom = {ShockOperation.TOWARD_MAX, ShockOperation.TOWARD_MIN}
    for s, k in zip(c.scenario, c.shock, strict=True):
        assert ws.scenarios[s].shocks[k].op not in headroom
    to_headroom = [
        sc.model_copy(
            update={
                "shocks": [
                    sh.model_copy(
                        update={"op": ShockOperation.TOWARD_MAX, "value": 0.7, "range": None}
                    )
                    for sh in sc.shocks
                ]
            }
        )
        for sc in ws.scenarios
    ]
    _, none = scenario_intensities_with_clamps(*args, to_headroom, ws.regions)
    assert len(none) == 0
