"""The Risk distribution page's tables and charts, without Streamlit."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from riskapp.assessment import risk as risk_view
from riskapp.assessment.core import Assessment, assess
from riskapp.assessment.headline import portfolio_row
from riskapp.charts import risk as charts
from riskapp.domain.assets import DependencyLink
from riskapp.engine.cascade import cascade_losses
from riskapp.engine.montecarlo import CASCADE_FACTOR, prepare_simulation, run
from riskapp.engine.sensitivity import portfolio_sobol, tornado
from riskapp.format import NumberFormat
from tests.conftest import DEMO, TINY

TINY_LINKS = [DependencyLink(asset_id="P2", depends_on="P1", share=0.5)]


@pytest.fixture(scope="module")
def demo_a() -> Assessment:
    return assess(DEMO)


@pytest.fixture(scope="module")
def tiny_a() -> Assessment:
    return assess(TINY)


@pytest.fixture(scope="module")
def demo_run(demo_a: Assessment) -> risk_view.RiskRun:
    links, problems = risk_view.dependency_links(DEMO, demo_a)
    assert not problems
    return risk_view.simulate(demo_a, 2_000, 3, links)


def traces(fig: go.Figure) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = json.loads(fig.to_json())["data"]
    return data


def assert_hover_everywhere(fig: go.Figure) -> None:
    for t in traces(fig):
        assert t.get("hovertemplate") or t.get("hoverinfo") == "skip", t.get("name")


# -- inputs ---------------------------------------------------------------------------------------


def test_demo_dependency_file_loads(demo_a: Assessment) -> None:
    links, problems = risk_view.dependency_links(DEMO, demo_a)
    assert problems == []
    assert len(links) == 88
    groups = {(link.asset_id, link.redundancy_group) for link in links if link.redundancy_group}
    assert groups == {("PLT-PL-01", "gas_supply"), ("PLT-PL-01", "power_semiconductors")}
    # every link is one the register declares
    frame = demo_a.ws.portfolio.frame.set_index("id")
    assert all(link.depends_on in frame.loc[link.asset_id, "depends_on"] for link in links)


def test_missing_or_broken_dependency_files(tmp_path: Path, tiny_a: Assessment) -> None:
    assert risk_view.dependency_links(TINY, tiny_a) == ([], [])
    ws = tmp_path / "ws"
    shutil.copytree(TINY, ws)
    (ws / "dependencies.csv").write_text("asset_id,depends_on,share\nP2,P1,1.5\n")
    links, problems = risk_view.dependency_links(ws, tiny_a)
    assert links == []
    assert len(problems) == 1 and "row 2 [share]" in problems[0]


def test_simulate_is_the_engine_run(tiny_a: Assessment) -> None:
    r = risk_view.simulate(tiny_a, 1_500, 7, TINY_LINKS)
    reference = run(prepare_simulation(tiny_a.ws, links=TINY_LINKS), 1_500, 7)
    assert np.array_equal(r.result.loss, reference.loss)
    assert r.sim.model.n_dependents == 1


# -- figures and tables ---------------------------------------------------------------------------


def test_headline_figures(tiny_a: Assessment) -> None:
    r = risk_view.simulate(tiny_a, 1_000, 1, [])
    figures = {f.label: f for f in risk_view.headline(r, NumberFormat())}
    # the headline set's labels and format (riskapp.assessment.headline)
    assert list(figures) == [
        "Simulated mean annual loss",
        "Value at risk 95 %",
        "Value at risk 99 %",
        "Expected shortfall 95 %",
        "Expected shortfall 99 %",
    ]
    fmt = NumberFormat()
    row = portfolio_row(r.result)
    assert figures["Value at risk 99 %"].text == fmt.money(row["var_99"])
    assert figures["Value at risk 99 %"].value == row["var_99"]
    assert figures["Simulated mean annual loss"].note == f"± {fmt.money(row['se_mean'])} (SE)"
    assert figures["Value at risk 99 %"].note == "exceeded 1 year in 100"
    with_plans = risk_view.residual_figures(r, fmt)
    assert [f.label for f in with_plans] == [
        "Simulated mean annual loss",
        "Value at risk 99 %",
        "Expected shortfall 99 %",
    ]
    residual = portfolio_row(r.result, "residual")
    assert with_plans[0].text == fmt.money(residual["mean"])
    assert [f.key for f in with_plans] == ["residual_mean", "residual_var_99", "residual_es_99"]


def test_the_headline_run_shows_the_overviews_figures_in_the_same_words(
    demo_a: Assessment,
) -> None:
    """The page's default run is the headline simulation: its cards are the Overview's
    simulated figures, value, text, definition and note (the mean's note there adds what the
    ranges and cascades contribute); another run says its own years in the definitions."""
    from riskapp.assessment.core import key_figures

    page = {f.key: f for f in risk_view.headline(demo_a.simulation, demo_a.fmt)}
    overview = {f.key: f for f in key_figures(demo_a)}
    assert list(page) == ["simulated_mean", "var_95", "var_99", "es_95", "es_99"]
    for key, fig in page.items():
        same = overview[key]
        assert (fig.label, fig.value, fig.text, fig.definition) == (
            same.label,
            same.value,
            same.text,
            same.definition,
        ), key
        assert same.note.startswith(fig.note), key
    other = risk_view.simulate(demo_a, 2_000, 5)
    shorter = {f.key: f for f in risk_view.headline(other, demo_a.fmt)}
    assert "2,000 simulated years (seed 5)" in shorter["var_99"].definition
    assert shorter["var_99"].value != page["var_99"].value


def test_histogram_counts_every_year() -> None:
    loss = np.array([0.0, 0.0, 0.0, 1.0, 2.0, 2.0, 10.0])
    h = risk_view.histogram(loss, bins=5)
    assert h.zero_years == 3 and h.trials == 7
    assert h.bins["years"].sum() == 4
    assert h.bins["right"].iloc[-1] == 10.0
    assert h.bins["share"].sum() == pytest.approx(4 / 7)
    empty = risk_view.histogram(np.zeros(4))
    assert empty.zero_years == 4 and empty.bins.empty


def test_exceedance_reaches_the_trial_count(demo_run: risk_view.RiskRun) -> None:
    periods = risk_view.return_periods(2_000)
    assert periods[0] > 1.0 and periods[-1] == pytest.approx(2_000)
    curve = risk_view.exceedance(demo_run)
    assert (curve["lower"] <= curve["loss"]).all() and (curve["loss"] <= curve["upper"]).all()
    assert curve["loss"].is_monotonic_increasing
    residual = risk_view.exceedance(demo_run, residual=True)
    assert (residual["loss"].to_numpy() <= curve["loss"].to_numpy() + 1e-6).all()


def test_tail_parts_add_up(demo_a: Assessment, demo_run: risk_view.RiskRun) -> None:
    es = portfolio_row(demo_run.result)["es_99"]
    factors = risk_view.factor_tail(demo_run, demo_a)
    assert factors["tail_es_99"].sum() == pytest.approx(es)
    assert factors["share"].sum() == pytest.approx(1.0)
    assert factors["tail_es_99"].is_monotonic_decreasing
    cascade = factors[factors["factor"] == CASCADE_FACTOR].iloc[0]
    assert cascade["name"] == risk_view.CASCADE_NAME and cascade["tail_es_99"] > 0
    colours = (
        charts.factor_tail_chart(factors, NumberFormat(), demo_a.ws.factors).data[0].marker.color
    )
    by_factor = dict(zip(factors["factor"], colours, strict=True))
    assert by_factor["hybrid_warfare"] == next(
        f.colour for f in demo_a.ws.factors.factors if f.id == "hybrid_warfare"
    )
    assert by_factor[CASCADE_FACTOR] == charts.CASCADE_COLOUR
    assets = risk_view.asset_tail(demo_run, demo_a, n=5)
    assert len(assets) == 5 and assets["tail_es_99"].is_monotonic_decreasing
    table = demo_run.result.asset_table()
    assert assets["tail_es_99"].iloc[0] == pytest.approx(table["tail_es_99"].max())


def test_tornado_and_sobol_rows(tiny_a: Assessment) -> None:
    r = risk_view.simulate(tiny_a, 1_000, 0, [])
    t = tornado(r.loss_model(tiny_a), 0, 1_000)
    rows = risk_view.tornado_rows(t.table, "eal")
    assert (rows["eal_swing"] > 0).all()
    assert rows["eal_swing"].is_monotonic_decreasing
    assert len(risk_view.tornado_rows(t.table, "eal", n=2)) == 2
    table = pd.DataFrame({"key": list("abc"), "s1": [0.5, 0.001, -0.01], "st": [0.6, 0.2, 0.001]})
    assert list(risk_view.sobol_rows(table)["key"]) == ["a", "b"]


# -- dependencies ---------------------------------------------------------------------------------


def test_cascade_share_by_scenario(demo_a: Assessment) -> None:
    links, _ = risk_view.dependency_links(DEMO, demo_a)
    assert "PLT-PL-01" in risk_view.dependents(links, demo_a)
    assert "PRT-PL-01" not in risk_view.dependents(links, demo_a)
    frame = risk_view.cascade_by_scenario(links, demo_a, "PLT-PL-01")
    c = cascade_losses(demo_a.ws, demo_a.result, links)
    d = c.asset_ids.index("PLT-PL-01")
    expected = c.cascade_loss[d][c.total_loss[d] > 0]
    assert sorted(frame["cascade"]) == pytest.approx(sorted(expected))
    assert (frame["share"] == frame["cascade"] / frame["total"]).all()
    assert frame["total"].is_monotonic_decreasing
    assert risk_view.cascade_by_scenario(links, demo_a, "PRT-PL-01").empty


def test_cascade_by_scenario_from_the_run_is_the_scored_one(
    demo_a: Assessment, demo_run: risk_view.RiskRun
) -> None:
    # the page reads each scenario's cascade from the run's model instead of building the
    # graph again: the same table
    for asset_id in ("PLT-PL-01", "PLT-DE-01", "PRT-PL-01"):
        fresh = risk_view.cascade_by_scenario(demo_run.links, demo_a, asset_id)
        kept = risk_view.cascade_by_scenario(demo_run.links, demo_a, asset_id, demo_run)
        pd.testing.assert_frame_equal(kept, fresh, rtol=1e-12)
    assert not risk_view.cascade_by_scenario(demo_run.links, demo_a, "PLT-PL-01").empty


def test_dependency_graph_around_an_asset(demo_a: Assessment) -> None:
    links, _ = risk_view.dependency_links(DEMO, demo_a)
    g = risk_view.dependency_graph(links, demo_a, "WHS-PL-01")
    nodes = g.nodes.set_index("id")
    # the port it depends on to its left, the plant that depends on it to its right
    assert nodes.loc["WHS-PL-01", "x"] == 0 and nodes.loc["WHS-PL-01", "role"] == "asset"
    assert nodes.loc["PRT-PL-01", "x"] == -1 and nodes.loc["PRT-PL-01", "role"] == "provider"
    assert nodes.loc["PLT-PL-02", "x"] == 1 and nodes.loc["PLT-PL-02", "role"] == "dependent"
    g = risk_view.dependency_graph(links, demo_a, "PLT-PL-01")
    gas = g.edges[g.edges["group"] == "gas_supply"]
    assert set(gas["source"]) == {"PIP-PL-01", "LNG-PL-01"} and (gas["share"] == 0.15).all()
    # chains: the suppliers' shipping lanes sit two steps upstream
    assert g.nodes.set_index("id").loc["SHP-SG-01", "x"] == -2


# -- charts ---------------------------------------------------------------------------------------


def test_every_chart_has_hover_text_and_escapes_user_text(
    demo_a: Assessment, demo_run: risk_view.RiskRun
) -> None:
    cur = NumberFormat()
    h = risk_view.histogram(demo_run.result.loss)
    row = portfolio_row(demo_run.result)
    t = tornado(demo_run.loss_model(demo_a), 3, 2_000)
    s = portfolio_sobol(demo_run.loss_model(demo_a), 32, 0)
    hostile = "<b>x</b> =HYPERLINK()"
    tail = risk_view.factor_tail(demo_run, demo_a).assign(name=hostile)
    rows = risk_view.tornado_rows(t.table, "var").assign(label=hostile)
    figures = [
        charts.histogram_chart(h, {"VaR 99 %": row["var_99"]}, cur),
        charts.exceedance_chart(
            risk_view.exceedance(demo_run), risk_view.exceedance(demo_run, True), cur
        ),
        charts.factor_tail_chart(tail, cur, demo_a.ws.factors),
        charts.asset_tail_chart(risk_view.asset_tail(demo_run, demo_a).assign(name=hostile), cur),
        charts.tornado_chart(rows, t.var, "var", cur),
        charts.sobol_chart(s.table.assign(label=hostile)),
    ]
    links, _ = risk_view.dependency_links(DEMO, demo_a)
    figures.append(
        charts.cascade_chart(
            risk_view.cascade_by_scenario(links, demo_a, "PLT-PL-01").assign(title=hostile), cur
        )
    )
    figures.append(charts.graph_chart(risk_view.dependency_graph(links, demo_a, "PLT-PL-01")))
    for fig in figures:
        assert_hover_everywhere(fig)
        text = fig.to_json()
        assert "<b>x</b>" not in text  # shown literally, never as plotly's HTML
    assert traces(figures[4])[0]["customdata"][0][0] == "&lt;b&gt;x&lt;/b&gt; =HYPERLINK()"
    # the tornado's bars start at the central figure and reach the low and high ends
    bars = traces(figures[4])
    assert bars[0]["base"] == t.var
    # redundant links are dashed in the graph
    dashes = [tr["line"]["dash"] for tr in traces(figures[-1]) if tr.get("mode") == "lines"]
    assert dashes.count("dash") == 4


def test_sensitivity_is_computed_once_per_run_and_revision(tiny_a: Assessment) -> None:
    risk_view.clear_sensitivity_cache()
    r = risk_view.simulate(tiny_a, 1_000, 4)
    assert risk_view.cached_tornado(tiny_a, 1_000, 4) is None
    steps: list[tuple[int, int]] = []
    t = risk_view.sensitivity_tornado(tiny_a, r, 4, progress=lambda d, n: steps.append((d, n)))
    assert steps and steps[-1][0] == steps[-1][1]  # progress reaches the end
    expected = tornado(r.loss_model(tiny_a), 4, 1_000)
    pd.testing.assert_frame_equal(t.table, expected.table)
    assert risk_view.cached_tornado(tiny_a, 1_000, 4) is t
    assert risk_view.sensitivity_tornado(tiny_a, r, 4) is t  # not computed again
    assert risk_view.cached_tornado(tiny_a, 1_000, 5) is None  # another seed: another run
    assert risk_view.cached_sobol(tiny_a, 32, 4) is None
    s = risk_view.sensitivity_sobol(tiny_a, r, 32, 4)
    assert risk_view.cached_sobol(tiny_a, 32, 4) is s
    assert risk_view.cached_sobol(tiny_a, 32, 5) is None  # another seed: other sample points
    # what `riskapp simulate --sensitivity --seed 4` computes, intervals included
    pd.testing.assert_frame_equal(s.table, portfolio_sobol(r.loss_model(tiny_a), 32, 4).table)
    risk_view.clear_sensitivity_cache()
    assert risk_view.cached_tornado(tiny_a, 1_000, 4) is None
