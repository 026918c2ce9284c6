"""The fast paths of sensitivity against the straightforward computations they replace: the
compiled portfolio cascade against `CascadeGraph.propagate` (hand-computed graphs and random
graphs), Sobol's scenario losses against one scenario and shift at a time, and the tornado
against a reference that reruns every setting in full with the same seed."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from riskapp.domain import Workspace
from riskapp.domain.assets import DependencyLink
from riskapp.engine.cascade import CascadeGraph, build_graph
from riskapp.engine.cascade_compiled import portfolio_cascade
from riskapp.engine.damage import combined_damage, factor_survival
from riskapp.engine.montecarlo import prepare_simulation
from riskapp.engine.sensitivity import (
    InputKind,
    LossModel,
    loss_model,
    occurrence,
    probabilities,
    scenario_losses,
    shifted_trial_losses,
    tornado,
    trial_basis,
    trial_losses,
    value_at_risk,
)
from riskapp.engine.sensitivity.losses import reference_damage, status_quo_loss
from riskapp.io.dependencies import dependency_file, load_dependencies
from tests.conftest import DEMO


def link(a: str, b: str, share: float, group: str | None = None) -> DependencyLink:
    return DependencyLink(asset_id=a, depends_on=b, share=share, redundancy_group=group)


def propagated(graph: CascadeGraph, node_group: np.ndarray, value: np.ndarray, damage: Any) -> Any:
    """The reference: every node propagated, cascade loss summed over the dependents."""
    direct = np.asarray(damage)[:, node_group]
    total = graph.propagate(direct)
    dep = graph.dependents
    return ((total[:, dep] - direct[:, dep]) * value).sum(axis=1)


# -- the compiled cascade -------------------------------------------------------------------------


def test_hand_computed_chain_redundancy_and_cap() -> None:
    # groups: 0 port, 1 cables, 2 plant, 3 office; nodes take their group's damage
    ids = ["port", "cable_1", "cable_2", "supplier", "plant", "office"]
    links = [
        link("supplier", "port", 0.5),  # an inner dependent: the plant depends on it
        link("plant", "supplier", 0.4),
        link("plant", "cable_1", 0.3, "cables"),
        link("plant", "cable_2", 0.3, "cables"),
        link("office", "port", 0.6),
    ]
    graph = build_graph(ids, links)
    node_group = np.array([0, 1, 1, 2, 2, 3])[graph.assets]
    value_of = {"supplier": 100.0, "plant": 1000.0, "office": 10.0}
    value = np.array([value_of[ids[a]] for a in graph.dependent_assets])
    pc = portfolio_cascade(graph, node_group, value, n_groups=4)
    assert [len(level.rows) for level in pc.levels] == [1]  # the supplier is inner
    damage = np.array(
        [
            [0.6, 0.5, 0.1, 0.0],  # nothing capped
            [1.0, 1.0, 0.2, 0.9],  # the office reaches the cap: 0.9 + 0.6 -> 1
            [1.0, 1.0, 0.5, 0.0],  # the supplier and the plant reach it
            [0.0, 0.0, 0.0, 0.0],
        ]
    )
    # row 0: supplier 0.1 + 0.5 x 0.6 = 0.4 (100 x 0.3); plant 0.4 x 0.4 + 0.3 x 0.5 x 0.5 =
    # 0.235 (1000 x 0.235); office 0.6 x 0.6 (10 x 0.36)
    # row 1: supplier 0.2 + 0.5 = 0.7 (100 x 0.5); plant 0.4 x 0.7 + 0.3 = 0.58; office 1 - 0.9
    # row 2: supplier 1 (100 x 0.5); plant 0.5 + 0.7 -> 1 (1000 x 0.5); office 10 x 0.6
    expected = [30 + 235 + 3.6, 50 + 580 + 1, 50 + 500 + 6, 0.0]
    got = pc.loss(damage)
    assert got == pytest.approx(expected, rel=1e-12)
    assert got == pytest.approx(propagated(graph, node_group, value, damage), rel=1e-12)


@pytest.mark.parametrize("seed", range(12))
def test_random_graphs_agree_with_propagation(seed: int) -> None:
    """Random acyclic graphs (links to earlier assets only), with redundancy groups, several
    levels and damage heavy enough that the cap binds in some cases."""
    rng = np.random.default_rng(seed)
    n_assets, n_groups = int(rng.integers(5, 60)), int(rng.integers(1, 12))
    ids = [f"a{i}" for i in range(n_assets)]
    links: list[DependencyLink] = []
    for a in range(1, n_assets):
        if rng.random() < 0.3:
            continue
        providers = rng.choice(a, size=min(a, int(rng.integers(1, 5))), replace=False)
        grouped = rng.random() < 0.4 and len(providers) > 1
        share = round(float(rng.uniform(0.05, 0.6)), 2)
        for k, b in enumerate(providers.tolist()):
            group = "backup" if grouped and k < 3 else None
            s = share if group else round(float(rng.uniform(0.0, 0.6)), 2)
            links.append(link(ids[a], ids[b], s, group))
    links = [x for x in links if x.share > 0] or [link("a1", "a0", 0.5)]
    graph = build_graph(ids, links)
    group_of_asset = rng.integers(0, n_groups, size=n_assets)
    node_group = group_of_asset[graph.assets]
    value = rng.lognormal(10, 1, size=len(graph.dependents))
    damage = rng.random((40, n_groups)) ** rng.uniform(0.3, 3.0)
    damage[rng.random(damage.shape) < 0.3] = 0.0
    pc = portfolio_cascade(graph, node_group, value, n_groups)
    expected = propagated(graph, node_group, value, damage)
    assert pc.loss(damage) == pytest.approx(expected, rel=1e-10, abs=1e-9)


# -- the sensitivity analyses -----------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_lm(demo: Workspace) -> LossModel:
    """The demo with its own dependency file: chains, inner dependents, redundancy groups."""
    links = load_dependencies(dependency_file(DEMO), demo.portfolio)
    assert any(x.redundancy_group for x in links)
    return loss_model(demo, prepare_simulation(demo, links=links, plans=False))


def test_scenario_losses_equal_one_scenario_and_shift_at_a_time(demo_lm: LossModel) -> None:
    lm = demo_lm
    m = lm.model
    rng = np.random.default_rng(3)
    n_f = len(m.factor_ids)
    shifts = np.zeros((6, n_f))
    shifts[1:] = rng.uniform(-1, 1, size=(5, n_f)).round(1)
    shifts[4] = shifts[2]  # a repeated row
    shifts[5, :] = 0.0
    shifts[5, 0] = 1.0
    got = scenario_losses(lm, shifts)
    nominal = m.sampling.shock_value[np.newaxis]
    for i, shift in enumerate(shifts):
        for s in range(len(m.scenario_ids)):
            expected = trial_losses(lm, s, nominal, shift)[0]
            assert got[i, s] == pytest.approx(expected, rel=1e-12, abs=1e-6)


def reference_tornado(lm: LossModel, seed: int, trials: int) -> dict[tuple[str, str], Any]:
    """Every setting rerun in full over the run's years (the computation before the fast
    path): loss of every scenario in every year, recomputed for each setting."""
    m, spec = lm.model, lm.spec
    n_s, n_f = len(m.scenario_ids), len(m.factor_ids)
    basis = trial_basis(lm, seed, trials)  # every year, every scenario
    occurs = basis.draws.occurs
    p0 = probabilities(spec, np.ones(n_s))[0]
    l0 = scenario_losses(lm, np.zeros((1, n_f)))[0]
    out: dict[tuple[str, str], Any] = {}
    for inp in lm.inputs:
        for end, setting in (("low", inp.low), ("high", inp.high)):
            shift = np.zeros(n_f)
            mult = np.ones(n_s)
            values = spec.shock_value.copy()
            drawn = basis.draws.shock_values.copy()
            occ = occurs
            if inp.kind is InputKind.FREQUENCY:
                mult[inp.index] = setting
                occ = occurrence(spec, basis.uniforms, mult)
            elif inp.kind is InputKind.FACTOR:
                shift[inp.index] = setting
            else:
                values[inp.index] = setting
                drawn[:, inp.index] = setting
            ref = reference_damage(lm, shift)
            sq = float(status_quo_loss(lm, shift)[0])
            loss = np.full(trials, sq)
            for s in range(n_s):
                hit = np.flatnonzero(occ[:, s])
                if len(hit):
                    loss[hit] += shifted_trial_losses(lm, s, drawn[hit], shift, ref)
            if inp.kind is InputKind.SHOCK:
                s = inp.scenario
                ls = scenario_losses(lm, np.zeros((1, n_f)), values, [s])[0, 0]
                eal = sq + float(p0 @ l0 + p0[s] * (ls - l0[s]))
            else:
                eal = sq + float(probabilities(spec, mult)[0] @ scenario_losses(lm, shift[None])[0])
            out[inp.key, end] = (eal, value_at_risk(loss))
    return out


def test_fast_tornado_equals_the_full_rerun(demo_lm: LossModel) -> None:
    lm = demo_lm
    assert lm.cascade is not None and lm.cascade.levels  # an inner dependent is exercised
    kinds = {i.kind for i in lm.inputs}
    assert kinds == {InputKind.FREQUENCY, InputKind.FACTOR, InputKind.SHOCK}
    t = tornado(lm, seed=5, trials=2_000)
    expected = reference_tornado(lm, seed=5, trials=2_000)
    moved = 0
    for row in t.table.to_dict("records"):
        for end in ("low", "high"):
            eal, var = expected[row["key"], end]
            assert row[f"eal_{end}"] == pytest.approx(eal, rel=1e-9)
            assert row[f"var_{end}"] == pytest.approx(var, rel=1e-9)
        moved += row["var_swing"] > 0
    assert moved > len(t.table) // 3  # the VaR moves for many inputs: the check has teeth


def test_scenario_losses_are_the_same_one_batch_or_two_at_a_time(demo_lm: LossModel) -> None:
    rng = np.random.default_rng(4)
    shifts = rng.uniform(-1.0, 1.0, (400, len(demo_lm.model.factor_ids)))
    one = scenario_losses(demo_lm, shifts, threads=1)
    assert np.array_equal(one, scenario_losses(demo_lm, shifts, threads=2))
    assert np.array_equal(one, scenario_losses(demo_lm, shifts, threads=3))


def test_the_tornado_is_the_same_one_setting_or_two_at_a_time(demo_lm: LossModel) -> None:
    one = tornado(demo_lm, seed=5, trials=2_000, threads=1)
    two = tornado(demo_lm, seed=5, trials=2_000, threads=2)
    assert one.table.equals(two.table) and (one.eal, one.var) == (two.eal, two.var)


def test_the_basis_limited_to_reachable_years_agrees_where_it_is_read(
    demo_lm: LossModel,
) -> None:
    full = trial_basis(demo_lm, seed=2, trials=3_000)
    part = trial_basis(demo_lm, seed=2, trials=3_000, reach=1.5)
    n_s = len(demo_lm.model.scenario_ids)
    needed = occurrence(demo_lm.spec, full.uniforms, np.full(n_s, 1.5))
    assert np.array_equal(part.draws.occurs, full.draws.occurs)
    # the same years' losses (computed in other batches: equal to rounding)
    assert part.loss_if[needed] == pytest.approx(full.loss_if[needed], rel=1e-12)
    assert (part.loss_if[~needed] == 0).all()
    assert (needed.sum() < needed.size) and (full.loss_if[~needed] > 0).any()
    assert part.loss == pytest.approx(full.loss, rel=1e-12)


def test_replacing_one_factor_combines_as_combined_damage() -> None:
    rng = np.random.default_rng(7)
    raw = rng.random((5, 4, 3))
    raw[0, 0, 1] = 1.0  # a destroyed asset: no division by a zero survival
    raw[1, 1, 2] = 1.3  # clipped to 1, as combined_damage clips
    prepared = factor_survival(raw)
    for j in range(raw.shape[-1]):
        new = rng.random((5, 4)) * 1.1
        replaced = raw.copy()
        replaced[..., j] = new
        got = prepared.combined_with(j, new)
        assert got == pytest.approx(combined_damage(replaced), rel=1e-12, abs=1e-15)
    # hand-computed: d = (0.5, 0.2), replacing the second by 0.6: 1 - 0.5 x 0.4 = 0.8
    assert factor_survival(np.array([0.5, 0.2])).combined_with(1, np.array(0.6)) == (
        pytest.approx(0.8)
    )


def plain_propagation(ids: list[str], links: list[DependencyLink], direct: Any) -> Any:
    """Each case and node in Python, as the cascade module describes it: a dependent's total
    is min(1, d + sum over single links of share x D[provider] + sum over redundancy groups
    of share x prod D[providers]), providers first."""
    terms: dict[str, dict[str, tuple[float, list[str]]]] = {}
    for x in links:
        key = x.redundancy_group or f"\0{x.depends_on}"
        terms.setdefault(x.asset_id, {}).setdefault(key, (x.share, []))[1].append(x.depends_on)
    out = []
    for row in direct:
        total: dict[str, float] = {}

        def value(node: str, row: Any = row, total: dict[str, float] = total) -> float:
            if node not in total:
                c = sum(
                    share * float(np.prod([value(p) for p in members]))
                    for share, members in terms.get(node, {}).values()
                )
                total[node] = min(1.0, row[node] + c) if node in terms else row[node]
            return total[node]

        out.append({a: value(a) for a in ids})
    return out


@pytest.mark.parametrize("seed", range(8))
def test_propagation_and_dependent_cascade_match_a_plain_reading(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    n = int(rng.integers(4, 40))
    ids = [f"a{i}" for i in range(n)]
    links = []
    for a in range(1, n):
        providers = rng.choice(a, size=min(a, int(rng.integers(1, 5))), replace=False)
        grouped = rng.random() < 0.4 and len(providers) > 1
        for k, b in enumerate(providers.tolist()):
            group = "backup" if grouped and k < 2 else None
            share = 0.3 if group else round(float(rng.uniform(0.01, 0.5)), 2)
            links.append(link(ids[a], ids[b], share, group))
    graph = build_graph(ids, links)
    n_groups = int(rng.integers(1, 8))
    node_group = rng.integers(0, n_groups, size=graph.size)
    damage = rng.random((6, n_groups)) ** 0.5
    direct = damage[:, node_group]
    got = graph.propagate(direct)
    rows = [{ids[a]: float(d[k]) for k, a in enumerate(graph.assets)} for d in direct]
    expected = plain_propagation([ids[a] for a in graph.assets], links, rows)
    for case, want in zip(got, expected, strict=True):
        assert case == pytest.approx([want[ids[a]] for a in graph.assets], rel=1e-12)
    dep = graph.dependents
    assert graph.dependent_cascade(damage, node_group) == pytest.approx(
        got[:, dep] - direct[:, dep], rel=1e-12, abs=1e-15
    )
    assert (got[:, dep] > direct[:, dep]).any()  # cascades happen: the check bites
