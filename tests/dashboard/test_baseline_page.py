"""The Baseline data page driven through Streamlit's AppTest: tree, map, breakdown, what-if."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from riskapp.assessment.baseline import country_exposure
from riskapp.assessment.core import assess
from tests.conftest import DEMO, TINY

APP = str(Path(__file__).resolve().parents[2] / "riskapp" / "dashboard" / "app.py")
PAGE = "views/baseline.py"
BUILT = "Expected annual loss, built baseline"
ADJUSTED = "Expected annual loss, adjusted weights"
WORKSPACE = "Expected annual loss, workspace baseline"


def _page(monkeypatch: pytest.MonkeyPatch, workspace: Path = DEMO) -> AppTest:
    monkeypatch.setenv("RISKAPP_WORKSPACE", str(workspace))
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page(PAGE)
    at.run()
    assert not at.exception, at.exception
    return at


def _values(data: Any) -> list[Any]:
    """Plotly 7 sends numeric arrays as base64 typed arrays; decode them to a list."""
    if isinstance(data, dict) and "bdata" in data:
        return np.frombuffer(base64.b64decode(data["bdata"]), dtype=data["dtype"]).tolist()
    return list(data)


def _charts(at: AppTest) -> dict[str, dict[str, Any]]:
    """Plotly specs (data and layout) by the chart's key."""
    out = {}
    for el in at.get("plotly_chart"):
        key = el.proto.id.rsplit("-", 1)[-1]
        out[key] = json.loads(el.proto.spec)
    return out


def _metric(at: AppTest, label: str) -> Any:
    found = [m for m in at.metric if m.label == label]
    assert len(found) == 1, [m.label for m in at.metric]
    return found[0]


def test_page_renders_on_the_demo(monkeypatch: pytest.MonkeyPatch) -> None:
    at = _page(monkeypatch)
    assert not at.error, [e.value for e in at.error]
    assert at.title[0].value == "Baseline data"
    assert "0-10, 10 worst" in at.caption[0].value
    assert "EUR" in at.caption[0].value
    charts = _charts(at)
    assert set(charts) == {"bl_tree", "bl_map", "bl_breakdown"}
    # every trace has hover text
    for spec in charts.values():
        assert all(d.get("hovertemplate") for d in spec["data"])
    tree = charts["bl_tree"]["data"][0]
    assert tree["type"] == "treemap"
    assert tree["ids"][0] == "military_escalation"
    assert "Weight in its parent" in tree["hovertemplate"]
    world = charts["bl_map"]["data"][0]
    assert world["type"] == "choropleth" and world["locationmode"] == "ISO-3"
    assert (world["zmin"], world["zmax"]) == (0, 10)
    assert "Reliability" in world["hovertemplate"]
    assert "10 worst" in world["colorbar"]["title"]["text"]
    bars = charts["bl_breakdown"]
    assert "10 worst" in bars["layout"]["xaxis"]["title"]["text"]
    # the country starts at the workspace's most exposed one
    top = str(country_exposure(assess(DEMO)).index[0])
    assert at.selectbox(key="bl_country").value == top
    assert len(at.dataframe) >= 3  # breakdown, comparison, what-if by country
    assert _metric(at, ADJUSTED).delta == "no change"
    assert _metric(at, WORKSPACE).value.startswith("EUR ")


def test_choosing_another_factor_changes_the_map(monkeypatch: pytest.MonkeyPatch) -> None:
    at = _page(monkeypatch)
    before = _charts(at)
    at.selectbox(key="bl_factor").set_value("arctic_disputes").run()
    assert not at.exception, at.exception
    after = _charts(at)
    z_before = _values(before["bl_map"]["data"][0]["z"])
    z_after = _values(after["bl_map"]["data"][0]["z"])
    assert z_before != z_after
    assert after["bl_tree"]["data"][0]["ids"][0] == "arctic_disputes"
    assert after["bl_breakdown"]["data"][0]["y"][0] == "arctic_disputes"
    # the weights offered are those of the new factor
    keys = {str(n.key) for n in at.number_input}
    assert keys == {"bl_w_arctic_disputes/arctic_floor", "bl_w_arctic_disputes/arctic_tension"}


def test_changing_a_weight_changes_the_what_if(monkeypatch: pytest.MonkeyPatch) -> None:
    at = _page(monkeypatch)
    built = _metric(at, BUILT).value
    assert _metric(at, ADJUSTED).value == built
    at.number_input(key="bl_w_military_escalation/frontline_exposure").set_value(1.0).run()
    assert not at.exception, at.exception
    adjusted = _metric(at, ADJUSTED)
    assert adjusted.value != built
    assert adjusted.delta.startswith("+EUR")  # more weight on a high part: more loss
    assert _metric(at, BUILT).value == built  # the reference does not move
    # reset puts the method's weights back
    at.button(key="bl_w_reset").click().run()
    assert at.number_input(key="bl_w_military_escalation/frontline_exposure").value == 0.25
    assert _metric(at, ADJUSTED).delta == "no change"


def test_all_weights_zero_is_explained(monkeypatch: pytest.MonkeyPatch) -> None:
    at = _page(monkeypatch)
    for n in at.number_input:
        n.set_value(0.0)
    at.run()
    assert not at.exception, at.exception
    assert any("above 0" in w.value for w in at.warning)


def test_choosing_a_country_changes_the_breakdown(monkeypatch: pytest.MonkeyPatch) -> None:
    at = _page(monkeypatch)
    before = _values(_charts(at)["bl_breakdown"]["data"][0]["x"])
    at.selectbox(key="bl_country").set_value("UKR").run()
    after = _values(_charts(at)["bl_breakdown"]["data"][0]["x"])
    assert before != after
    assert after[0] > before[0]  # Ukraine: at war


def test_workspace_without_the_method_factors(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tiny test workspace has factors alpha and beta: the page still shows the build and
    says what to do for the comparison and the what-if."""
    at = _page(monkeypatch, TINY)
    assert not at.error, [e.value for e in at.error]
    assert len(at.get("plotly_chart")) == 3
    infos = " ".join(i.value for i in at.info)
    assert "no baseline for" in infos
    assert "nothing to rescore" in infos
    assert not at.metric


def test_page_shows_the_data_vintage_and_warns_past_the_maximum_age(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    at = _page(monkeypatch)
    assert "How old the data is" in [h.value for h in at.subheader]
    table = next(d for d in at.dataframe if "workspace_vintage" in d.value.columns)
    assert set(table.value["workspace_vintage"]) == {"2025-Q4"}
    assert not [w for w in at.warning if "this workspace's baseline" in w.value]
    monkeypatch.setenv("RISKAPP_MAX_DATA_AGE_MONTHS", "1")  # the demo's 2025-Q4 is older
    at = _page(monkeypatch)
    flagged = [w.value for w in at.warning if "this workspace's baseline" in w.value]
    assert len(flagged) == 8 and all("older than 1 month " in w for w in flagged)
