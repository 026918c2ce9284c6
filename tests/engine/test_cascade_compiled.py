"""The compiled cascades the Monte Carlo reads (`PortfolioCascade`, and `ScenarioCascade` for
a scenario whose range-driven groups vary) against `CascadeGraph.dependent_cascade`, the plain
propagation, on random graphs: each pair's portfolio cascade loss, each dependent's loss summed
over the pairs, and the same figure for a pair whatever the other pairs computed with it. Also
`FixedFactors` (riskapp.engine.fixed_factors), the Monte Carlo's combination of the ranged
factors' damage, against `combine` and `incremental`, and a run with the demo's dependencies
whatever its chunks."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from riskapp.domain import Workspace
from riskapp.domain.assets import DependencyLink
from riskapp.engine.cascade import CascadeGraph, build_graph
from riskapp.engine.cascade_compiled import portfolio_cascade
from riskapp.engine.damage import combine, incremental
from riskapp.engine.fixed_factors import fixed_factors
from riskapp.engine.montecarlo import ChunkResult, cascades, prepare_simulation, run, statistics
from riskapp.io.dependencies import load_dependencies
from tests.conftest import DEMO


def random_graph(rng: np.random.Generator) -> tuple[CascadeGraph, np.ndarray, np.ndarray, int]:
    """A graph of up to 40 assets (chains, diamonds, redundancy groups, shares up to 0.5 so
    that caps bind where damage is high), each node in one of up to 8 groups."""
    n = int(rng.integers(3, 40))
    ids = [f"a{i}" for i in range(n)]
    links = []
    for a in range(1, n):
        if rng.random() < 0.25:
            continue  # a provider only
        providers = rng.choice(a, size=min(a, int(rng.integers(1, 5))), replace=False)
        grouped = rng.random() < 0.5 and len(providers) > 1
        for k, b in enumerate(providers.tolist()):
            group = "backup" if grouped and k < 3 else None
            share = round(float(rng.uniform(0.05, 0.5)), 2)
            links.append(
                DependencyLink(
                    asset_id=ids[a], depends_on=ids[b], share=share, redundancy_group=group
                )
            )
    if not links:
        links.append(DependencyLink(asset_id=ids[1], depends_on=ids[0], share=0.4))
    graph = build_graph(ids, links)
    n_groups = int(rng.integers(1, 9))
    node_group = rng.integers(0, n_groups, size=graph.size)
    value = rng.uniform(1.0, 1000.0, size=len(graph.dependents))
    return graph, node_group, value, n_groups


def reference(graph: CascadeGraph, node_group: Any, value: Any, damage: Any) -> Any:
    """(n, D) each dependent's cascade loss by the plain propagation."""
    return graph.dependent_cascade(damage, node_group) * value


@settings(max_examples=80, deadline=None, database=None)
@given(st.integers(0, 2**32 - 1))
def test_compiled_cascades_match_the_plain_propagation(seed: int) -> None:
    rng = np.random.default_rng(seed)
    graph, node_group, value, n_groups = random_graph(rng)
    pc = portfolio_cascade(graph, node_group, value, n_groups)
    # a scenario: its deterministic damage, some groups varying around it
    nominal = rng.random(n_groups) ** float(rng.uniform(0.3, 3.0))
    vary = np.sort(rng.choice(n_groups, size=int(rng.integers(1, n_groups + 1)), replace=False))
    n = int(rng.integers(1, 30))
    x = np.minimum(rng.random((n, len(vary))) ** float(rng.uniform(0.2, 3.0)), 1.0)
    x[rng.random((n, len(vary))) < 0.1] = 1.0  # destroyed groups: caps bind
    full = np.repeat(nominal[np.newaxis], n, axis=0)
    full[:, vary] = x
    want = reference(graph, node_group, value, full)
    scale = max(1.0, float(np.abs(want).sum()))
    sc = pc.restrict(vary, nominal)
    for got in (pc.loss(full), sc.loss(x)):
        np.testing.assert_allclose(got, want.sum(axis=1), rtol=1e-12, atol=1e-12 * scale)
    for got in (pc.dependent_sums(full), sc.dependent_sums(x)):
        np.testing.assert_allclose(got, want.sum(axis=0), rtol=1e-12, atol=1e-12 * scale)
    # each case's loss is the same alone, in a batch, or in another order
    whole_pc, whole_sc = pc.loss(full), sc.loss(x)
    order = rng.permutation(n)
    assert np.array_equal(sc.loss(x[order]), whole_sc[order])
    assert np.array_equal(pc.loss(full[order]), whole_pc[order])
    for i in range(n):
        assert sc.loss(x[i : i + 1])[0] == whole_sc[i]
        assert pc.loss(full[i : i + 1])[0] == whole_pc[i]


def test_a_scenario_cascade_at_its_fixed_damage_is_the_whole_cascade() -> None:
    rng = np.random.default_rng(7)
    graph, node_group, value, n_groups = random_graph(rng)
    pc = portfolio_cascade(graph, node_group, value, n_groups)
    nominal = rng.random(n_groups)
    vary = np.arange(0, n_groups, 2)
    sc = pc.restrict(vary, nominal)
    at = nominal[vary][np.newaxis]
    assert sc.loss(at)[0] == pytest.approx(pc.loss(nominal[np.newaxis])[0], rel=1e-12)
    np.testing.assert_allclose(sc.nominal, reference(graph, node_group, value, nominal[None])[0])


@settings(max_examples=60, deadline=None, database=None)
@given(st.integers(0, 2**32 - 1))
def test_fixed_factors_combine_as_combine_and_incremental(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n_g, n_f, n = int(rng.integers(1, 12)), int(rng.integers(1, 9)), int(rng.integers(1, 20))
    vary = np.sort(rng.choice(n_f, size=int(rng.integers(1, n_f + 1)), replace=False))
    fixed = rng.random((n_g, n_f)) ** 2
    fixed[rng.random((n_g, n_f)) < 0.3] = 0.0
    fixed[rng.random((n_g, n_f)) < 0.05] = 1.0  # a factor that destroys
    moving = rng.random((len(vary), n, n_g)) ** 2
    moving[rng.random(moving.shape) < 0.05] = 1.0
    moving[rng.random(moving.shape) < 0.2] = 0.0
    base = rng.random((n_g, n_f)) ** 3 * 0.5
    value = rng.uniform(1.0, 100.0, n_g)
    # the reference: every factor, case by case
    raw = np.repeat(fixed[np.newaxis], n, axis=0)
    raw[:, :, vary] = np.moveaxis(moving, 0, 2)
    comb, attr = combine(raw)
    base_c, base_a = combine(base[np.newaxis])
    want_inc, want_attr = incremental(comb, attr, base_c, base_a)
    ff = fixed_factors(fixed, vary)
    np.testing.assert_allclose(ff.combined(moving), comb, rtol=1e-12, atol=1e-15)
    inc, by_factor = ff.increment(moving, base_c[0], np.ascontiguousarray(base_a[0].T), value)
    np.testing.assert_allclose(inc, want_inc, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(
        by_factor.T, (want_attr * value[:, None]).sum(axis=1), rtol=1e-10, atol=1e-12
    )


# -- the Monte Carlo with the demo's dependencies -------------------------------------------------


@pytest.fixture(scope="module")
def demo_links(demo: Workspace) -> list[DependencyLink]:
    return load_dependencies(DEMO / "dependencies.csv", demo.portfolio)


def test_a_run_with_cascades_is_the_same_whatever_its_chunks(
    demo: Workspace, demo_links: list[DependencyLink]
) -> None:
    sim = prepare_simulation(demo, links=demo_links)
    whole = run(sim, 1_200, seed=3, chunk_size=1_200)
    for chunk_size in (1, 7, 333):
        other = run(sim, 1_200, seed=3, chunk_size=chunk_size)
        for f in fields(ChunkResult):
            if f.name not in ("start", "stop"):
                assert np.array_equal(getattr(whole, f.name), getattr(other, f.name)), f.name
        assert whole.asset_contributions().equals(other.asset_contributions())


def test_chunks_simulated_at_once_in_threads_give_the_same_run(
    demo: Workspace, demo_links: list[DependencyLink]
) -> None:
    """Chunks simulated two or three at a time (`threads`) give the run of one chunk at a
    time, figure for figure (cascades and plans included), and report their progress in
    trial order."""
    sim = prepare_simulation(demo, links=demo_links)
    one = run(sim, 2_000, seed=9, chunk_size=250, threads=1)
    for threads in (2, 3):
        seen: list[int] = []
        other = run(
            sim,
            2_000,
            seed=9,
            chunk_size=250,
            threads=threads,
            progress=lambda d, _t, seen=seen: seen.append(d),
        )
        assert seen == list(range(250, 2_001, 250))
        for f in fields(ChunkResult):
            if f.name not in ("start", "stop"):
                assert np.array_equal(getattr(one, f.name), getattr(other, f.name)), f.name
        assert one.asset_contributions().equals(other.asset_contributions())
        assert one.summary_table().equals(other.summary_table())


def test_the_kept_pairs_give_back_each_dependent_s_cascade(
    demo: Workspace, demo_links: list[DependencyLink]
) -> None:
    r = run(prepare_simulation(demo, links=demo_links), 2_000, seed=5)
    per_trial = r.cascade_loss  # (T, D), computed from the kept pairs
    assert per_trial.shape == (2_000, r.model.n_dependents)
    np.testing.assert_allclose(per_trial.sum(axis=1), r.cascade, rtol=1e-12, atol=1e-3)
    np.testing.assert_allclose(r.cascade_sums(), per_trial.sum(axis=0), rtol=1e-12, atol=1e-3)
    tail = r.tail(0.99)
    np.testing.assert_allclose(r.cascade_sums(tail), per_trial[tail].sum(axis=0), rtol=1e-12)
    assert (per_trial.sum(axis=0) > 0).sum() > 10  # cascades reach many dependents


def test_per_asset_figures_need_no_trials_by_dependents_array(
    demo: Workspace, demo_links: list[DependencyLink], monkeypatch: pytest.MonkeyPatch
) -> None:
    # the groups' cascade losses summed batch by batch, a chosen set of dependents' losses
    # and the asset table built a block of dependents at a time (cascades recomputed per
    # block) equal what the whole (trials x dependents) array gives
    r = run(prepare_simulation(demo, links=demo_links), 1_500, seed=8)
    c = r.model.cascade
    assert c is not None
    per_trial = r.cascade_loss
    np.testing.assert_allclose(
        r.cascade_group_loss, c.group_loss(per_trial, r.model.n_groups), rtol=1e-12, atol=1e-6
    )
    some = np.array([3, 0, r.model.n_dependents - 1], dtype=np.int64)
    np.testing.assert_array_equal(
        cascades.dependent_losses(r.model, r.occurs, r.pair_damage, some), per_trial[:, some]
    )
    whole = r.asset_table()
    monkeypatch.setattr(statistics, "COLUMN_BLOCK", 2)
    monkeypatch.setattr(statistics, "CASCADE_BLOCK_FLOATS", 1)  # a pass per 2 dependents
    pd.testing.assert_frame_equal(r.asset_table(), whole)
    picked = np.array([len(whole) - 1, *r.sim.dependent_rows[:3], 0], dtype=np.int64)
    pd.testing.assert_frame_equal(r.asset_table(picked), whole.iloc[picked].reset_index(drop=True))
    assert (whole["cascade_mean"] > 0).sum() > 10


def test_curves_read_by_factor_as_read(demo: Workspace) -> None:
    # the Monte Carlo reads its range-driven groups' curves factor-major, run by run of groups
    # with the same curve: the figures of CurveTable.read (np.interp's arithmetic)
    sim = prepare_simulation(demo)
    rng = np.random.default_rng(2)
    checked = 0
    for var in sim.model.variable:
        if var is None:
            continue
        # by curve column: a group, then each part of the routes among them
        columns = len(var.groups.column_place)
        felt = rng.uniform(-1.0, 11.0, (len(var.factors), 9, columns))
        by_factor = var.curves.read_by_factor(felt)
        np.testing.assert_allclose(
            by_factor, var.curves.read(felt.transpose(1, 2, 0)).transpose(2, 0, 1), rtol=1e-12
        )
        checked += int((by_factor > 0).sum())
    assert checked > 100
