"""The Scenarios page driven through Streamlit's AppTest: reading, comparing, what-if."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from streamlit.proto.Metric_pb2 import Metric as MetricProto
from streamlit.testing.v1 import AppTest

from tests.conftest import DEMO, TINY

APP = str(Path(__file__).resolve().parents[2] / "riskapp" / "dashboard" / "app.py")
PAGE = "views/scenarios.py"
WHATIF_LOSS = "Scenario loss, what-if"


def _page(monkeypatch: pytest.MonkeyPatch, workspace: Path = DEMO) -> AppTest:
    monkeypatch.setenv("RISKAPP_WORKSPACE", str(workspace))
    at = AppTest.from_file(APP, default_timeout=30)
    at.switch_page(PAGE)
    at.run()
    assert not at.exception, at.exception
    return at


def _money(text: str) -> float:
    """'EUR 12.3m' -> 12.3e6 (the dashboard's money format)."""
    m = re.fullmatch(r"([+-]?)[A-Z]{3} ([0-9.]+)(bn|m|k)?", text)
    assert m, text
    sign = -1.0 if m.group(1) == "-" else 1.0
    return sign * float(m.group(2)) * {"bn": 1e9, "m": 1e6, "k": 1e3, None: 1.0}[m.group(3)]


def _metric(at: AppTest, label: str) -> Any:
    found = [m for m in at.metric if m.label == label]
    assert len(found) == 1, [m.label for m in at.metric]
    return found[0]


def _charts(at: AppTest) -> dict[str, dict[str, Any]]:
    """Plotly specs (data and layout) by the chart's key."""
    return {str(el.key): json.loads(el.proto.spec) for el in at.get("plotly_chart")}


def _texts(at: AppTest) -> str:
    return "\n".join(str(e.value) for e in [*at.markdown, *at.caption, *at.info])


def test_page_renders_on_the_demo(monkeypatch: pytest.MonkeyPatch) -> None:
    at = _page(monkeypatch)
    assert not at.error, [e.value for e in at.error]
    assert at.title[0].value == "Scenarios"
    assert "Money in EUR" in at.caption[0].value
    # three charts: compare, exceedance, what-if by factor
    assert len(at.get("plotly_chart")) == 3
    assert len(at.table) == 2  # shocks and signposts
    shocks = at.table[0].value
    assert list(shocks.columns[:4]) == ["Target", "Factor", "Operation", "Value"]
    assert shocks.iloc[0, 0] == "Arctic states \\(group\\)"  # shown literally
    loss = _metric(at, WHATIF_LOSS)
    assert loss.delta == "no change"
    # every chart says what its axes measure and has hover text on every trace
    for spec in _charts(at).values():
        assert spec["layout"]["xaxis"]["title"]["text"]
        assert all(d.get("hovertemplate") for d in spec["data"])


def test_choosing_another_scenario_changes_the_narrative(monkeypatch: pytest.MonkeyPatch) -> None:
    at = _page(monkeypatch)
    before = _texts(at)
    assert "Svalbard" in before  # the first scenario: Arctic flashpoint
    at.selectbox(key="scn_pick").set_value("energy_winter").run()
    after = _texts(at)
    assert after != before
    assert "Svalbard" not in after
    assert "gas" in after.lower()


@pytest.mark.parametrize(("value", "rises"), [(3.0, True), (-3.0, False)])
def test_a_what_if_slider_moves_the_loss_and_shows_the_delta(
    monkeypatch: pytest.MonkeyPatch, value: float, rises: bool
) -> None:
    at = _page(monkeypatch)
    base = _money(_metric(at, WHATIF_LOSS).value)
    # arctic_disputes is the factor the first scenario (Arctic flashpoint) shocks most
    at.slider(key="scn_whatif_arctic_disputes").set_value(value).run()
    assert not at.exception
    metric = _metric(at, WHATIF_LOSS)
    moved = _money(metric.value)
    delta = _money(metric.delta)
    # delta_color "inverse": more loss is red, less is green
    if rises:
        assert moved > base and delta > 0 and metric.delta.startswith("+")
        assert metric.proto.color == MetricProto.MetricColor.RED
    else:
        assert moved < base and delta < 0
        assert metric.proto.color == MetricProto.MetricColor.GREEN
    assert (_money(_metric(at, "Portfolio expected annual loss").delta) > 0) == rises
    # the what-if bars follow: the arctic_disputes bar moved
    spec = _charts(at)["scn_whatif_chart"]
    assert [d["name"] for d in spec["data"]] == ["Unmodified", "What-if"]
    row = spec["data"][1]["y"].index("Arctic disputes")
    assert spec["data"][1]["customdata"][row][2] != "no change"


def test_reset_sets_every_slider_back(monkeypatch: pytest.MonkeyPatch) -> None:
    at = _page(monkeypatch)
    at.selectbox(key="scn_whatif_region").set_value("nordic").run()
    at.slider(key="scn_whatif_hybrid_warfare").set_value(4.0).run()
    at.slider(key="scn_whatif_sanctions").set_value(-2.0).run()
    assert _metric(at, WHATIF_LOSS).delta != "no change"
    at.button(key="scn_whatif_reset").click().run()
    assert not at.exception
    assert at.slider(key="scn_whatif_hybrid_warfare").value == 0.0
    assert at.slider(key="scn_whatif_sanctions").value == 0.0
    assert at.selectbox(key="scn_whatif_region").value == ""
    assert _metric(at, WHATIF_LOSS).delta == "no change"


def test_region_restricted_what_if_moves_less_than_everywhere(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    at = _page(monkeypatch)
    at.selectbox(key="scn_pick").set_value("energy_winter").run()
    at.slider(key="scn_whatif_energy_weaponization").set_value(2.0).run()
    everywhere = _money(_metric(at, WHATIF_LOSS).delta)
    at.selectbox(key="scn_whatif_region").set_value("baltic").run()
    baltic = _money(_metric(at, WHATIF_LOSS).delta)
    assert 0 < baltic < everywhere


@pytest.mark.parametrize("dimension", ["region_group", "factor", "asset_type"])
def test_compare_chart_has_one_trace_per_chosen_scenario(
    monkeypatch: pytest.MonkeyPatch, dimension: str
) -> None:
    at = _page(monkeypatch)
    chosen = ["energy_winter", "red_sea_suez_closure", "arctic_flashpoint"]
    at.multiselect(key="scn_compare").set_value(chosen).run()
    at.radio(key="scn_compare_by").set_value(dimension).run()
    assert not at.exception
    compare = _charts(at)["scn_compare_chart"]
    names = [d["name"] for d in compare["data"]]
    assert names == [
        "Energy-weaponization winter",
        "Red Sea and Suez route closed to most shipping",
        "Arctic flashpoint in the Barents Sea and around…",
    ]
    assert all(d["type"] == "bar" and d["hovertemplate"] for d in compare["data"])
    assert f"({'EUR'})" in compare["layout"]["xaxis"]["title"]["text"]
    at.multiselect(key="scn_compare").set_value(chosen[:2]).run()
    assert len(_charts(at)["scn_compare_chart"]["data"]) == 2


def test_compare_needs_two_scenarios(monkeypatch: pytest.MonkeyPatch) -> None:
    at = _page(monkeypatch)
    at.multiselect(key="scn_compare").set_value(["energy_winter"]).run()
    assert any("Pick two or three scenarios" in i.value for i in at.info)
    assert "scn_compare_chart" not in _charts(at)


def test_exceedance_curve_labels_points_with_scenario_titles(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    at = _page(monkeypatch)
    spec = _charts(at)["scn_exceedance"]
    assert spec["layout"]["xaxis"]["type"] == "log"
    assert "Return period" in spec["layout"]["xaxis"]["title"]["text"]
    assert "EUR" in spec["layout"]["yaxis"]["title"]["text"]
    scenarios = next(d for d in spec["data"] if d["name"] == "Scenario")
    titles = {row[0] for row in scenarios["customdata"]}
    assert "Energy-weaponization winter" in titles
    assert len(titles) == 10  # every demo scenario can occur
    # no return-period losses read off this one-scenario-a-year curve: the headline ones are
    # simulated annual losses (Overview), and two different "1-in-100-year losses" would clash
    assert [d["name"] for d in spec["data"]] == ["Exceedance curve", "Scenario"]


def test_empty_parts_of_a_scenario_say_what_to_do(monkeypatch: pytest.MonkeyPatch) -> None:
    at = _page(monkeypatch, TINY)
    at.selectbox(key="scn_pick").set_value("base").run()  # no narrative, shocks or signposts
    assert not at.exception
    infos = " ".join(i.value for i in at.info)
    assert "add a `narrative:`" in infos
    assert "Add `shocks:`" in infos
    assert "add `signposts:`" in infos


def test_user_text_is_not_rendered_as_markdown(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import shutil

    ws = tmp_path / "ws"
    shutil.copytree(TINY, ws)
    s1 = ws / "scenarios" / "s1.yaml"
    lines = [
        "narrative: '**bold** <b>x</b> [link](http://e.x) Alpha rises'"
        if line.startswith("narrative:")
        else line
        for line in s1.read_text().splitlines()
    ]
    s1.write_text("\n".join(lines) + "\n")
    at = _page(monkeypatch, ws)
    at.selectbox(key="scn_pick").set_value("s1").run()
    narrative = next(m.value for m in at.markdown if "Alpha rises" in m.value)
    assert "\\*\\*bold\\*\\*" in narrative
    assert "\\<b\\>" in narrative and "\\[link\\]" in narrative
    # signpost names go through st.table, which renders Markdown: escaped too
    assert at.table[1].value.iloc[0, 0] == "Alpha index"


def test_the_by_country_table_is_drawn_while_its_expander_is_open(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The what-if's loss by country is built only while its expander is open (a slider move
    does not build a table nobody sees), and it stays open, and current, as sliders move."""
    at = _page(monkeypatch)

    def by_country() -> Any:
        (exp,) = [e for e in at.expander if e.label == "Loss by country"]
        found = [d for d in exp.dataframe]
        return found[0].value if found else None

    assert by_country() is None
    at.session_state["scn_whatif_by_country"] = True
    at.run()
    unchanged = by_country()
    assert unchanged is not None and len(unchanged) > 0
    assert (unchanged["change"] == 0).all()
    at.slider(key="scn_whatif_arctic_disputes").set_value(3.0).run()
    moved = by_country()
    assert moved is not None and (moved["change"].abs() >= 0.5).all() and len(moved) > 0
    assert moved["what_if"].sum() > moved["base"].sum()
