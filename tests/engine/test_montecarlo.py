"""Monte Carlo: known distributions, convergence, agreement with the deterministic engine
trial by trial, tail contributions that add up, plans, and identical results whatever the
chunking or the number of workers."""

from __future__ import annotations

import math
import pickle
import shutil
from dataclasses import fields
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from riskapp.cli.simulate import simulate as simulate_command
from riskapp.domain import LossBasis, Workspace
from riskapp.domain.assets import DependencyLink
from riskapp.engine import PlanEffects, evaluate_plans, prepare, scenario_intensities, score
from riskapp.engine.cascade import cascade_losses
from riskapp.engine.montecarlo import (
    ChunkResult,
    SimulationResult,
    binomial_cdf,
    prepare_simulation,
    quantile_band,
    reduce_chunks,
    run,
    sampled_intensities,
    simulate,
    simulate_chunk,
    tail_size,
)
from riskapp.engine.sampling import RangeDistribution, SamplingSpec
from tests.conftest import TINY
from tests.engine.builders import linear_workspace, scenario, without_ranges

SET_5 = [{"target": "NOR", "factor": "alpha", "op": "set", "value": 5}]  # loss 500


def one_scenario(p: float) -> Workspace:
    return linear_workspace([scenario("s", p, SET_5)])


# -- known distributions --------------------------------------------------------------------


@pytest.mark.parametrize("p", [0.1, 0.03])
def test_one_scenario_with_fixed_loss(p: float) -> None:
    t, loss = 20_000, 500.0
    r = simulate(one_scenario(p), t, seed=5)
    assert set(np.unique(r.loss)) <= {0.0, loss}
    port = r.portfolio_table().iloc[0]
    hits = int((r.loss > 0).sum())
    assert port["mean"] == pytest.approx(loss * hits / t)
    assert port["se_mean"] == pytest.approx(port["sd"] / math.sqrt(t))
    assert abs(port["mean"] - p * loss) < 4 * port["se_mean"]
    # the standard error is that of a Bernoulli mean
    assert port["se_mean"] == pytest.approx(loss * math.sqrt(p * (1 - p) / t), rel=0.05)
    assert port["var_95"] == (loss if p > 0.05 else 0.0)
    assert port["var_99"] == loss
    k95 = tail_size(t, 0.95)
    assert k95 == 1000
    assert port["es_95"] == pytest.approx(loss * min(hits, k95) / k95)
    assert port["es_99"] == loss
    if p < 0.05:
        assert port["es_95"] == pytest.approx(loss * p / 0.05, rel=0.1)


def test_convergence_standard_error_shrinks_as_one_over_root_t() -> None:
    sim = prepare_simulation(one_scenario(0.2))
    small = run(sim, 1_000, seed=9)
    large = run(sim, 16_000, seed=9)
    assert np.array_equal(large.loss[:1_000], small.loss)  # a longer run extends a shorter one
    se_small = small.portfolio_table()["se_mean"].iloc[0]
    se_large = large.portfolio_table()["se_mean"].iloc[0]
    assert se_small / se_large == pytest.approx(4.0, rel=0.15)
    for r in (small, large):
        port = r.portfolio_table().iloc[0]
        assert abs(port["mean"] - 100.0) < 4 * port["se_mean"]


def test_pert_shock_gives_the_pert_mean_loss() -> None:
    # loss = 100 x the set value, drawn from PERT(2, 3, 7): mean 100 x (2 + 12 + 7) / 6 = 350
    shock = [{**SET_5[0], "value": 3, "range": {"low": 2, "mode": 3, "high": 7}}]
    ws = linear_workspace([scenario("s", 1.0, shock)])
    r = simulate(ws, 20_000, seed=1)
    port = r.portfolio_table().iloc[0]
    assert abs(port["mean"] - 350.0) < 4 * port["se_mean"]
    tri = simulate(ws, 20_000, seed=1, distribution=RangeDistribution.TRIANGULAR)
    assert abs(tri.loss.mean() - 400.0) < 4 * tri.loss.std() / math.sqrt(20_000)
    assert r.sim.eal == pytest.approx(300.0)  # the deterministic figure reads the value


def test_ladder_marginals_in_the_simulation() -> None:
    # incident 0.2 (loss 100) -> exchange x 0.5 = 0.1 (loss 300) -> war x 0.4 = 0.04 (loss 600)
    def set_to(v: float) -> list[dict[str, object]]:
        return [{**SET_5[0], "value": v}]

    ws = linear_workspace(
        [
            scenario("incident", 0.2, set_to(1)),
            scenario(
                "exchange",
                0.1,
                set_to(3),
                escalates_from={"scenario": "incident", "probability": 0.5},
            ),
            scenario(
                "war", 0.04, set_to(6), escalates_from={"scenario": "exchange", "probability": 0.4}
            ),
        ]
    )
    r = simulate(ws, 50_000, seed=3)
    table = r.scenario_table().set_index("key")
    assert table["annual_probability"].tolist() == pytest.approx([0.2, 0.1, 0.04])
    for sid, p in [("incident", 0.2), ("exchange", 0.1), ("war", 0.04)]:
        assert abs(table.loc[sid, "occurrence_rate"] - p) < 4 * math.sqrt(p * (1 - p) / 50_000)
    # losses add up along the ladder: 100, 100 + 300, 100 + 300 + 600
    assert np.unique(r.loss) == pytest.approx([0.0, 100.0, 400.0, 1000.0])
    expected = 0.2 * 100 + 0.1 * 300 + 0.04 * 600
    assert r.sim.eal == pytest.approx(expected)
    port = r.portfolio_table().iloc[0]
    assert abs(port["mean"] - expected) < 4 * port["se_mean"]


# -- agreement with the deterministic engine -------------------------------------------------


def test_without_ranges_every_trial_adds_up_scenario_losses(tiny: Workspace) -> None:
    ws = without_ranges(tiny)
    r = simulate(ws, 5_000, seed=2)
    # absolute basis: every year bears the status quo (160) once, plus the increments of the
    # scenarios that occur: base 0, s1 145, s2 100 (the base scenario, probability 1, adds 0)
    det = score(ws).scenario_increment()
    assert det == pytest.approx([0.0, 145.0, 100.0])
    assert r.loss == pytest.approx(160.0 + r.occurs.astype(float) @ det, rel=1e-12)
    port = r.portfolio_table().iloc[0]
    # 160 + 0.1 x 145 + 0.01 x 100 = 175.5 (was 193.1, which counted the status quo again)
    assert abs(port["mean"] - 175.5) < 4 * port["se_mean"]


def reference_trials(
    ws: Workspace, r: SimulationResult, trials: list[int], links: list[DependencyLink]
) -> None:
    """Recompute trials with the deterministic engine's public functions, one trial and one
    scenario at a time, and compare with the Monte Carlo's figures."""
    inputs = prepare(ws)
    draws = r.model.sampling.draw(r.seed, 0, r.trials)
    effective = evaluate_plans(ws, score(ws, inputs=inputs)).effective
    n_s, n_p = effective.shape
    for t in trials:
        occ = draws.occurs[t]
        intensities = scenario_intensities(
            inputs.place_baseline,
            inputs.countries,
            inputs.factor_ids,
            ws.scenarios,
            ws.regions,
            shock_values=draws.shock_values[t],
            places=inputs.places,
            zones=ws.zones,
        )
        res = score(ws, inputs=inputs, intensities=intensities)
        casc = np.zeros(n_s)
        if links:
            casc = cascade_losses(ws, res, links).scenario_cascade_loss()
        # a year: the status quo once (0 on the incremental basis) + the increments that occur
        scen = res.scenario_increment() + casc
        assert r.scenario_loss[t] == pytest.approx(np.where(occ, scen, 0.0), rel=1e-9, abs=1e-6)
        sq = res.status_quo_loss()
        assert r.loss[t] == pytest.approx(sq + scen[occ].sum(), rel=1e-9, abs=1e-6)
        factor = res.status_quo_factor_loss() + res.scenario_factor_increment()[occ].sum(axis=0)
        assert r.factor_loss[t] == pytest.approx(factor, rel=1e-9, abs=1e-6)
        base_asset = res.inputs.exposed_value * res.base_damage[res.inputs.groups.of_asset]
        asset = base_asset + res.asset_increment()[:, occ].sum(axis=1)
        assert r.group_damage[t][r.sim.of_asset] * r.sim.exposed_value == pytest.approx(
            asset, rel=1e-9, abs=1e-6
        )
        fx = PlanEffects.build(ws, res)
        gross = fx.loss(np.zeros_like(effective), increment=True)
        averted = (gross - fx.loss(effective, increment=True))[occ].sum()
        assert r.averted[t] == pytest.approx(averted, rel=1e-9, abs=1e-6)
        for p in range(n_p):
            only = np.zeros((n_s, n_p), dtype=bool)
            only[:, p] = effective[:, p]
            alone = (gross - fx.loss(only, increment=True))[occ].sum()
            assert r.averted_alone[t, p] == pytest.approx(alone, rel=1e-9, abs=1e-6)


def test_trials_match_the_deterministic_engine_on_the_demo(demo: Workspace) -> None:
    # incremental basis, ten scenarios with ranged shocks on countries and groups, plans
    assert demo.settings.loss_basis is LossBasis.INCREMENTAL
    r = simulate(demo, 60, seed=4)
    busy = np.argsort(-r.occurs.sum(axis=1), kind="stable")[:12].tolist()
    reference_trials(demo, r, busy, [])


def test_trials_match_the_deterministic_engine_with_cascades(tiny: Workspace) -> None:
    links = [DependencyLink(asset_id="P2", depends_on="P1", share=0.5)]
    r = simulate(tiny, 400, seed=6, links=links)
    busy = [*np.flatnonzero(r.occurs[:, 1])[:10].tolist(), 0, 1]
    reference_trials(tiny, r, busy, links)
    assert r.cascade_loss.shape == (400, 1)


def test_sampled_intensities_follow_the_shock_rules(demo: Workspace) -> None:
    sim = prepare_simulation(demo, plans=False)
    inputs = prepare(demo)
    draws = SamplingSpec.from_scenarios(demo.scenarios).draw(1, 0, 5)
    for s in range(len(demo.scenarios)):
        batch = sampled_intensities(
            inputs.place_baseline, sim.model.programs[s], draws.shock_values
        )
        for t in range(5):
            full = scenario_intensities(
                inputs.place_baseline,
                inputs.countries,
                inputs.factor_ids,
                demo.scenarios,
                demo.regions,
                shock_values=draws.shock_values[t],
                places=inputs.places,
                zones=demo.zones,
            )
            assert np.array_equal(batch[t], full[s])


# -- breakdowns and tails ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_run(demo: Workspace) -> SimulationResult:
    links = [
        DependencyLink(asset_id="PLT-DE-01", depends_on="PRT-DE-01", share=0.3),
        DependencyLink(asset_id="PLT-DE-01", depends_on="DC-NL-01", share=0.2),
    ]
    return simulate(demo, 4_000, seed=8, links=links)


@pytest.mark.parametrize("level", ["95", "99"])
def test_tail_contributions_add_up_to_expected_shortfall(
    demo_run: SimulationResult, level: str
) -> None:
    es = demo_run.portfolio_table()[f"es_{level}"].iloc[0]
    for table in (
        demo_run.asset_table(),
        demo_run.country_table(),
        demo_run.asset_type_table(),
        demo_run.factor_table(),
        demo_run.scenario_table(),
    ):
        assert table[f"tail_es_{level}"].sum() == pytest.approx(es, rel=1e-9)
        assert table["mean"].sum() == pytest.approx(demo_run.loss.mean(), rel=1e-9)
    assert "dependency_cascade" in demo_run.factor_table()["key"].tolist()


def test_asset_figures_are_group_figures_scaled(demo_run: SimulationResult) -> None:
    table = demo_run.asset_table().set_index("key")
    sim = demo_run.sim
    plain = [a for a in range(len(sim.asset_ids)) if a not in set(sim.dependent_rows.tolist())]
    for row in plain[:3] + plain[-2:]:
        aid = sim.asset_ids[row]
        series = demo_run.group_damage[:, sim.of_asset[row]] * sim.exposed_value[row]
        assert table.loc[aid, "mean"] == pytest.approx(series.mean())
        assert table.loc[aid, "var_99"] == pytest.approx(
            np.sort(series)[math.ceil(0.99 * 4000) - 1]
        )
        tail = demo_run.tail(0.95)
        assert table.loc[aid, "tail_es_95"] == pytest.approx(series[tail].mean())
    # the asset with cascades: its own series, cascade included
    dep = int(sim.dependent_rows[0])
    series = (
        demo_run.group_damage[:, sim.of_asset[dep]] * sim.exposed_value[dep]
        + demo_run.cascade_loss[:, 0]
    )
    aid = sim.asset_ids[dep]
    assert table.loc[aid, "es_95"] == pytest.approx(np.sort(series)[-200:].mean())
    assert table.loc[aid, "cascade_mean"] == pytest.approx(demo_run.cascade_loss[:, 0].mean())


def test_residual_never_exceeds_gross_and_plans_avert_nothing_negative(
    demo_run: SimulationResult,
) -> None:
    scale = demo_run.loss.max()
    assert (demo_run.residual <= demo_run.loss + 1e-9 * scale).all()
    assert (demo_run.averted_alone >= -1e-9 * scale).all()
    port = demo_run.portfolio_table().set_index("key")
    assert port.loc["residual", "mean"] < port.loc["gross", "mean"]


def test_benefit_cost_ratio_distribution(tiny: Workspace) -> None:
    ws = without_ranges(tiny)
    r = simulate(ws, 20_000, seed=12)
    plans = r.plan_table().set_index("plan_id")
    shield = plans.loc["shield"]
    # shield averts 90 in s1 (0.1 a year); horizon 5 years at 5 %
    assert shield["effective_in"] == ["s1"]
    assert set(np.unique(r.averted_alone[:, 0])) == {0.0, 90.0}
    assert shield["horizons"] == 4_000
    assert abs(shield["averted_mean"] - 9.0) < 4 * shield["averted_se"]
    annuity = sum(1.05**-k for k in range(1, 6))
    assert shield["bcr_deterministic"] == pytest.approx(9 * annuity / (10 + 2 * annuity))
    horizons = r.averted_alone[:, 0].reshape(-1, 5) @ (1.05 ** -np.arange(1.0, 6.0))
    assert shield["bcr_mean"] == pytest.approx((horizons / shield["cost_npv"]).mean())
    expected_mean = shield["averted_mean"] * annuity / shield["cost_npv"]
    assert shield["bcr_mean"] == pytest.approx(expected_mean, rel=0.05)
    assert shield["bcr_p5"] == 0.0  # most five-year horizons see no northern escalation
    # a horizon with one escalation in its first year: 90 / 1.05 / cost
    assert 90 / 1.05 / shield["cost_npv"] <= shield["bcr_p95"]
    assert plans.loc["armor", "effective_in"] == [] and plans.loc["armor", "bcr_mean"] == 0.0


# -- exceedance curve -------------------------------------------------------------------------


def test_binomial_cdf_matches_the_exact_sum() -> None:
    n, p = 30, 0.9
    exact = np.cumsum([math.comb(n, k) * p**k * (1 - p) ** (n - k) for k in range(n + 1)])
    assert binomial_cdf(n, p) == pytest.approx(exact, abs=1e-12)


def test_quantile_band_covers_with_the_stated_confidence() -> None:
    t, q, conf = 2_000, 0.99, 0.9
    cdf = binomial_cdf(t, q)
    ordered = np.arange(1.0, t + 1)  # the k-th smallest is k
    est, lo, hi = quantile_band(ordered, q, conf)
    assert est == 1980.0 and lo <= est <= hi
    lo_k, hi_k = int(lo), int(hi)  # ranks of the bounds
    # B ~ Binomial(T, q) trials fall at or below the true quantile; the band misses it when
    # B < lo (P = F(lo - 1)) or B >= hi (P = 1 - F(hi - 1)): each at most (1 - conf) / 2 ...
    assert cdf[lo_k - 1] <= (1 - conf) / 2 and 1 - cdf[hi_k - 1] <= (1 - conf) / 2
    # ... and one rank narrower on either side breaks that
    assert cdf[lo_k] > (1 - conf) / 2 and 1 - cdf[hi_k - 2] > (1 - conf) / 2
    assert cdf[hi_k - 1] - cdf[lo_k - 1] >= conf


def test_exceedance_curve(demo_run: SimulationResult) -> None:
    curve = demo_run.exceedance()
    assert curve["return_period_years"].max() <= demo_run.trials
    assert (curve["lower"] <= curve["loss"]).all() and (curve["loss"] <= curve["upper"]).all()
    assert curve["loss"].is_monotonic_increasing
    at_100 = curve.set_index("return_period_years").loc[100.0, "loss"]
    assert at_100 == demo_run.portfolio_table()["var_99"].iloc[0]
    residual = demo_run.exceedance(residual=True)
    assert (residual["loss"].to_numpy() <= curve["loss"].to_numpy() + 1e-6).all()


# -- reproducibility --------------------------------------------------------------------------


def test_identical_results_whatever_the_chunks_and_workers(demo: Workspace) -> None:
    links = [DependencyLink(asset_id="PLT-DE-01", depends_on="PRT-DE-01", share=0.3)]
    sim = prepare_simulation(demo, links=links)
    reference = run(sim, 2_100, seed=21, chunk_size=2_100)
    for chunk_size, workers in [(370, 1), (1_000, 2), (333, 2)]:
        other = run(sim, 2_100, seed=21, chunk_size=chunk_size, workers=workers)
        for f in fields(ChunkResult):
            if f.name not in ("start", "stop"):
                assert np.array_equal(getattr(reference, f.name), getattr(other, f.name)), f.name
        assert reference.summary_table().equals(other.summary_table())
    # chunks can be computed anywhere, in any order
    parts = [simulate_chunk(sim.model, 21, a, b) for a, b in [(1500, 2100), (0, 700), (700, 1500)]]
    assert np.array_equal(reduce_chunks(sim, 21, parts).loss, reference.loss)
    with pytest.raises(ValueError, match="do not cover"):
        reduce_chunks(sim, 21, parts[:2])
    with pytest.raises(ValueError, match="overlaps"):
        reduce_chunks(sim, 21, [*parts, parts[0]])


def test_the_chunk_model_travels_without_the_register(demo: Workspace) -> None:
    # what a worker receives: no per-asset arrays, and it gives the same figures
    links = [DependencyLink(asset_id="PLT-DE-01", depends_on="PRT-DE-01", share=0.3)]
    sim = prepare_simulation(demo, links=links)
    copy = pickle.loads(pickle.dumps(sim.model))
    a, b = simulate_chunk(sim.model, 5, 100, 600), simulate_chunk(copy, 5, 100, 600)
    assert np.array_equal(a.loss, b.loss) and np.array_equal(a.averted_alone, b.averted_alone)
    n_assets = len(demo.portfolio)
    sizes = [v.shape[0] for v in vars(sim.model).values() if isinstance(v, np.ndarray) and v.ndim]
    assert n_assets not in sizes


# -- the command line -------------------------------------------------------------------------


def cli() -> typer.Typer:
    """`simulate` on an app of its own (riskapp/cli.py registers the same function)."""
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """riskapp"""

    app.command(name="simulate")(simulate_command)
    return app


def test_cli_writes_tables_and_prints_a_summary(tmp_path: Path) -> None:
    out = tmp_path / "mc.parquet"
    args = ["simulate", str(TINY), "-n", "3000", "--seed", "4", "--out", str(out), "--no-progress"]
    result = CliRunner().invoke(cli(), args)
    assert result.exit_code == 0, result.output
    assert (
        "Simulated mean annual loss" in result.output and "Expected shortfall 99 %" in result.output
    )
    assert "EUR 176" in result.output  # the deterministic EAL (175.5), for comparison
    table = pd.read_parquet(out)
    assert set(table["dimension"]) == {
        "portfolio",
        "scenario",
        "factor",
        "country",
        "asset_type",
        "asset",
    }
    assets = table[table["dimension"] == "asset"]
    gross = table[(table["dimension"] == "portfolio") & (table["key"] == "gross")].iloc[0]
    assert assets["tail_es_99"].sum() == pytest.approx(gross["es_99"])
    curve = pd.read_parquet(tmp_path / "mc.exceedance.parquet")
    assert curve["return_period_years"].max() == 1000.0
    plans = pd.read_parquet(tmp_path / "mc.plans.parquet")
    assert plans["effective_in"].tolist() == ["s1", ""]
    # the same seed gives the same file
    again = tmp_path / "again.parquet"
    args[-2] = str(again)
    assert CliRunner().invoke(cli(), args).exit_code == 0
    assert pd.read_parquet(again).equals(table)


def test_cli_reads_dependency_shares_and_reports_bad_rows(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    shutil.copytree(TINY, ws)
    (ws / "dependencies.csv").write_text("asset_id,depends_on,share\nP2,P1,0.5\n")
    args = ["simulate", str(ws), "-n", "500", "--no-progress", "--no-plans"]
    result = CliRunner().invoke(cli(), args)
    assert result.exit_code == 0, result.output
    assert "1 dependency links" in result.output
    assert "dependency_cascade" in result.output
    (ws / "dependencies.csv").write_text(
        "asset_id,depends_on,share,redundancy_group\nP2,P1,1.5,\nP1,O1,0.5,\n"
    )
    result = CliRunner().invoke(cli(), args)
    assert result.exit_code == 1
    assert "dependencies.csv, row 2 [share]" in result.output
    # a link need not be listed in the register's depends_on too (it is derived from the file)
    (ws / "dependencies.csv").write_text("asset_id,depends_on,share\nP1,O1,0.5\n")
    result = CliRunner().invoke(cli(), args)
    assert result.exit_code == 0, result.output
    assert "1 dependency links" in result.output
    (ws / "dependencies.csv").write_text("asset_id,depends_on,share\nP1,GHOST,0.5\n")
    result = CliRunner().invoke(cli(), args)
    assert result.exit_code == 1
    assert "row 2 [depends_on]: no asset 'GHOST' in the register" in " ".join(result.output.split())


def test_asset_contributions_are_the_asset_tables_columns(demo: Workspace) -> None:
    from riskapp.io.dependencies import load_dependencies
    from tests.conftest import DEMO

    links = load_dependencies(DEMO / "dependencies.csv", demo.portfolio)
    result = run(prepare_simulation(demo, links=links), 3_000, 6)
    full = result.asset_table()
    light = result.asset_contributions()
    assert list(light["key"]) == list(full["key"])
    for col in ("mean", "cascade_mean", "tail_es_95", "tail_es_99"):
        np.testing.assert_allclose(light[col], full[col], rtol=1e-12, atol=1e-6)
    assert (light["cascade_mean"] > 0).sum() > 10  # cascades reach many assets: the check bites


def test_cli_prints_the_largest_contributors_by_asset_as_the_asset_table_has_them() -> None:
    # the command ranks assets by their tail contribution without per-asset distributions and
    # builds the distributions of the ones it prints only: the rows are the asset table's
    from riskapp.assessment.core import assess
    from riskapp.format import NumberFormat
    from tests.conftest import DEMO

    args = ["simulate", str(DEMO), "-n", "2000", "--seed", "9", "--no-progress", "--top", "5"]
    result = CliRunner().invoke(cli(), args, terminal_width=200)
    assert result.exit_code == 0, result.output
    a = assess(DEMO)
    table = run(a.prepared_simulation, 2000, seed=9).asset_table()
    fmt = NumberFormat(currency=a.currency)
    total = float(table["tail_es_99"].sum())
    printed = result.output.split("Contributions to the tail by asset")[1].splitlines()
    for _, row in table.sort_values("tail_es_99", ascending=False).head(5).iterrows():
        cells = [str(row["key"]), fmt.money(row["mean"]), fmt.money(row["es_99"])]
        cells.append(fmt.percent(row["tail_es_99"] / total))
        assert any(all(c in line for c in cells) for line in printed), cells
