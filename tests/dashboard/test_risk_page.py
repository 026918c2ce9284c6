"""The Risk distribution page and the Overview's 99 % VaR, driven through Streamlit's AppTest."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from riskapp.assessment import risk as risk_view
from riskapp.assessment.core import assess, key_figures
from riskapp.engine.montecarlo import prepare_simulation, run
from riskapp.format import NumberFormat
from riskapp.io.dependencies import load_dependencies
from tests.conftest import DEMO, TINY

APP = str(Path(__file__).resolve().parents[2] / "riskapp" / "dashboard" / "app.py")
PAGE = "views/risk.py"
SENSITIVITY_CHARTS = {"risk_tornado", "risk_sobol"}  # on request: the first view never waits
CHARTS = {
    "risk_histogram",
    "risk_exceedance",
    "risk_tail_factors",
    "risk_tail_assets",
    "risk_graph",
    "risk_cascade",
} | SENSITIVITY_CHARTS


@pytest.fixture(autouse=True)
def _no_cached_sensitivity() -> None:
    """Each test starts without tornado or Sobol results (the cache is the process's)."""
    risk_view.clear_sensitivity_cache()


def _page(monkeypatch: pytest.MonkeyPatch, workspace: Path = DEMO) -> AppTest:
    monkeypatch.setenv("RISKAPP_WORKSPACE", str(workspace))
    at = AppTest.from_file(APP, default_timeout=120)
    at.switch_page(PAGE)
    at.run()
    assert not at.exception, at.exception
    return at


def _sensitivity(at: AppTest) -> AppTest:
    """Ask for the tornado and the Sobol indices (the page computes them on request)."""
    for key in ("risk_tornado_run", "risk_sobol_run"):
        if any(b.key == key for b in at.button):
            at.button(key=key).click().run()
            assert not at.exception, at.exception
    return at


def _metrics(at: AppTest) -> list[tuple[str, str]]:
    return [(m.label, m.value) for m in at.metric]


def _charts(at: AppTest) -> dict[str, dict[str, Any]]:
    return {str(el.key): json.loads(el.proto.spec) for el in at.get("plotly_chart")}


def _texts(at: AppTest) -> str:
    return "\n".join(str(e.value) for e in [*at.markdown, *at.caption, *at.info, *at.warning])


DEMO_YEARS = assess(DEMO).ws.settings.simulation_years  # the headline run's


def demo_var_99(trials: int = DEMO_YEARS, seed: int = 0) -> float:
    ws = assess(DEMO).ws
    links = load_dependencies(DEMO / "dependencies.csv", ws.portfolio)
    result = run(prepare_simulation(ws, links=links), trials, seed)
    return float(result.portfolio_table()["var_99"].iloc[0])


def test_page_renders_on_the_demo(monkeypatch: pytest.MonkeyPatch) -> None:
    at = _page(monkeypatch)
    assert not at.error, [e.value for e in at.error]
    assert at.title[0].value == "Risk distribution"
    assert "Money in EUR" in at.caption[0].value
    labels = [label for label, _ in _metrics(at)]
    assert labels[:5] == [
        "Simulated mean annual loss",
        "Value at risk 95 %",
        "Value at risk 99 %",
        "Expected shortfall 95 %",
        "Expected shortfall 99 %",
    ]
    assert labels[5:] == labels[:1] + labels[2:5:2]  # with plans: mean, VaR 99, ES 99
    var_99 = dict(_metrics(at)[:5])["Value at risk 99 %"]
    assert var_99 == NumberFormat().money(demo_var_99())
    assert "88 dependency links" in _texts(at)
    assert set(_charts(at)) == CHARTS - SENSITIVITY_CHARTS  # first content: no sensitivity
    assert {b.key for b in at.button} >= {"risk_tornado_run", "risk_sobol_run"}
    charts = _charts(_sensitivity(at))
    assert set(charts) == CHARTS
    for key, spec in charts.items():
        assert spec["layout"]["xaxis"].get("title", {}).get("text") or key == "risk_graph"
        for trace in spec["data"]:
            assert trace.get("hovertemplate") or trace.get("hoverinfo") == "skip", key
    # the exceedance curve has its band and the curve with plans
    names = {t.get("name") for t in charts["risk_exceedance"]["data"]}
    assert {"Without plans", "With plans"} <= names


def test_changing_seed_or_years_reruns(monkeypatch: pytest.MonkeyPatch) -> None:
    at = _page(monkeypatch)
    before = _metrics(at)
    at.number_input(key="risk_trials").set_value(2_000).run()
    assert not at.exception
    assert "Annual loss over 2,000 simulated years" in _texts(at)
    fewer = _metrics(at)
    assert fewer[0] != before[0]
    at.number_input(key="risk_seed").set_value(1).run()
    assert not at.exception
    other = _metrics(at)
    assert other[0] != fewer[0]
    assert other[2][1] == NumberFormat().money(demo_var_99(2_000, seed=1))
    # back to the defaults: the cached runs, the same figures as at first
    at.number_input(key="risk_seed").set_value(0).run()
    assert _metrics(at) == fewer
    at.number_input(key="risk_trials").set_value(DEMO_YEARS).run()
    assert _metrics(at) == before


def test_sensitivity_is_kept_per_run_and_source_revision(monkeypatch: pytest.MonkeyPatch) -> None:
    at = _page(monkeypatch)
    assert not SENSITIVITY_CHARTS & set(_charts(at))
    at.button(key="risk_tornado_run").click().run()
    assert "risk_tornado" in _charts(at) and "risk_sobol" not in _charts(at)
    # other years: another tornado, on request again; back: the kept one, drawn at once
    at.number_input(key="risk_trials").set_value(2_000).run()
    assert "risk_tornado" not in _charts(at)
    assert any(b.key == "risk_tornado_run" for b in at.button)
    at.number_input(key="risk_trials").set_value(DEMO_YEARS).run()
    assert "risk_tornado" in _charts(at)
    # a new page in another session of the same source finds it too
    again = _page(monkeypatch)
    assert "risk_tornado" in _charts(again)
    assert not any(b.key == "risk_tornado_run" for b in again.button)


def test_tornado_measure_and_cascade_asset(monkeypatch: pytest.MonkeyPatch) -> None:
    at = _sensitivity(_page(monkeypatch))
    spec = _charts(at)["risk_tornado"]
    assert spec["layout"]["xaxis"]["title"]["text"] == "Expected annual loss (EUR)"
    at.radio(key="risk_tornado_measure").set_value("var").run()
    spec = _charts(at)["risk_tornado"]
    assert spec["layout"]["xaxis"]["title"]["text"] == "VaR 99 % (EUR)"
    at.selectbox(key="risk_cascade_asset").set_value("PLT-PL-01").run()
    assert not at.exception
    graph = _charts(at)["risk_graph"]
    dashed = [t for t in graph["data"] if t.get("line", {}).get("dash") == "dash"]
    assert len(dashed) == 4  # two redundancy groups of two links
    assert "PLT\\-PL\\-01" in _texts(at)  # user text, shown literally
    sobol = _charts(at)["risk_sobol"]
    assert {t["name"] for t in sobol["data"]} == {
        "Alone (first order, S1)",
        "With interactions (total, ST)",
    }
    assert all(t["error_x"]["array"] for t in sobol["data"])


def test_workspace_without_or_with_a_broken_dependency_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    at = _page(monkeypatch, TINY)
    assert not at.error
    assert "No asset has a dependency share" in _texts(at)
    ws = tmp_path / "ws"
    shutil.copytree(TINY, ws)
    (ws / "dependencies.csv").write_text("asset_id,depends_on,share\nP2,P1,1.5\n")
    at = _page(monkeypatch, ws)
    assert "dependencies.csv has 1 problem(s)" in at.warning[0].value
    assert "row 2 [share]" in at.code[0].value
    assert (
        len(_sensitivity(at).get("plotly_chart")) >= 6
    )  # the page still simulates, without cascades


def test_user_text_is_escaped(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    shutil.copytree(TINY, ws)
    assets = (ws / "assets.csv").read_text().replace("Plant Finland", "<b>Plant</b> *FI*")
    (ws / "assets.csv").write_text(assets)
    (ws / "dependencies.csv").write_text("asset_id,depends_on,share\nP2,P1,0.5\n")
    at = _sensitivity(_page(monkeypatch, ws))
    assert "\\<b\\>Plant\\</b\\> \\*FI\\*" in _texts(at)
    for spec in _charts(at).values():
        assert "<b>Plant</b>" not in json.dumps(spec)


def test_overview_shows_the_headline_set_of_the_risk_page(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RISKAPP_WORKSPACE", str(DEMO))
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    assert not at.exception
    labels = [m.label for m in at.metric]
    a = assess(DEMO)
    assert labels == [f.label for f in key_figures(a)]  # every headline figure, in its order
    assert labels[:4] == [
        "Portfolio value",
        "Expected annual loss",
        "Simulated mean annual loss",
        "Largest single-scenario loss",
    ]
    value = next(m.value for m in at.metric if m.label == "Value at risk 99 %")
    assert value == NumberFormat().money(demo_var_99())
    # the Risk distribution page's default run shows the same figures, in the same words
    at.switch_page(PAGE).run()
    shown = dict(_metrics(at)[:5])
    assert shown["Value at risk 99 %"] == value
    overview = {f.label: f.text for f in key_figures(a)}
    for label, text in shown.items():
        assert overview[label] == text, label
