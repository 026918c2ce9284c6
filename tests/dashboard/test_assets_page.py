"""Assets page: the register with its filters and one asset's drill-down (AppTest on the demo),
and the page's figures built without Streamlit."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from riskapp.assessment.core import Assessment, assess
from riskapp.assessment.tables import (
    asset_curves,
    asset_factor_loss,
    asset_intensity_marks,
    register,
)
from riskapp.charts.assets import curve_chart, factor_loss_bars
from riskapp.charts.common import factor_colours
from riskapp.dashboard.format import plain
from riskapp.format import NumberFormat
from tests.conftest import DEMO, TINY

APP = str(Path(__file__).resolve().parents[2] / "riskapp" / "dashboard" / "app.py")


def values(data: Any) -> list[Any]:
    """Plotly 7 sends numeric arrays as base64 typed arrays; decode them to a list."""
    if isinstance(data, dict) and "bdata" in data:
        return np.frombuffer(base64.b64decode(data["bdata"]), dtype=data["dtype"]).tolist()
    return list(data)


def chart(at: AppTest, key: str) -> dict[str, Any]:
    for el in at.get("plotly_chart"):
        if el.proto.id.endswith(f"-{key}"):
            spec: dict[str, Any] = json.loads(el.proto.spec)
            return spec
    raise AssertionError(f"no chart with key {key}")


@pytest.fixture
def at(monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.delenv("RISKAPP_WORKSPACE", raising=False)  # the bundled demo
    app = AppTest.from_file(APP, default_timeout=60)
    app.run()
    app.switch_page("views/assets.py").run()
    assert not app.exception, [e.value for e in app.exception]
    return app


@pytest.fixture(scope="module")
def demo_a() -> Assessment:
    return assess(DEMO)


# -- the page in AppTest --------------------------------------------------------------------
def test_renders_on_the_demo(at: AppTest, demo_a: Assessment) -> None:
    assert at.title[0].value == "Assets"
    assert "Money in EUR" in at.caption[0].value
    n = len(demo_a.ws.portfolio)
    assert len(at.dataframe[0].value) == n
    assert any(c.value.startswith(f"{n} of {n} assets") for c in at.caption)
    assert {"ast_factor_loss", "ast_curves"} <= {
        el.proto.id.rsplit("-", 1)[-1] for el in at.get("plotly_chart")
    }


def test_type_filter_narrows_the_register(at: AppTest, demo_a: Assessment) -> None:
    before = at.dataframe[0].value
    at.multiselect(key="ast_filter_type").set_value(["plant"]).run()
    after = at.dataframe[0].value
    assert 0 < len(after) < len(before)
    assert set(after["type"]) == {"plant"}
    n = len(demo_a.ws.portfolio)
    assert any(c.value.startswith(f"{len(after)} of {n} assets") for c in at.caption)
    # the drill-down only offers the filtered assets
    assert set(at.selectbox(key="ast_asset").options) <= {
        f"{name} ({aid})" for aid, name in zip(after["id"], after["name"], strict=True)
    }


def test_filters_that_match_nothing_say_what_to_do(at: AppTest, demo_a: Assessment) -> None:
    frame = demo_a.ws.portfolio.frame
    offices = set(frame.loc[frame["type"] == "office", "country"])
    country = sorted(set(frame["country"]) - offices)[0]
    at.multiselect(key="ast_filter_type").set_value(["office"])
    at.multiselect(key="ast_filter_country").set_value([country]).run()
    assert not at.exception
    assert [i.value for i in at.info] == ["No asset matches these filters - clear a filter."]
    assert len(at.dataframe) == 0
    assert not at.get("plotly_chart")


def test_drill_down_shows_the_chosen_asset(at: AppTest, demo_a: Assessment) -> None:
    frame = demo_a.ws.portfolio.frame.set_index("id")
    depended_on = frame["depends_on"].explode().value_counts().index[0]
    at.selectbox(key="ast_asset").set_value(depended_on).run()
    assert not at.exception
    assert plain(str(frame.loc[depended_on, "name"])) in [h.value for h in at.subheader]
    curves = chart(at, "ast_curves")
    markers = [t for t in curves["data"] if t.get("mode") == "markers"]
    assert markers, "the curve chart marks where the scenarios put the asset"
    assert any(len(values(t["x"])) for t in markers)
    # the most depended-on asset lists what depends on it
    assert "No asset in the register depends on this one." not in [c.value for c in at.caption]
    titles = [h.value for h in at.subheader]
    assert "What depends on it" in titles and "What it depends on" in titles


def test_scenario_choice_changes_the_loss_column(at: AppTest, demo_a: Assessment) -> None:
    ids = demo_a.result.scenario_ids
    losses = demo_a.result.scenario_loss()
    mild = ids[int(np.argmin(losses))]
    first = at.dataframe[0].value["scenario_loss"].sum()
    at.selectbox(key="ast_scenario").set_value(mild).run()
    second = at.dataframe[0].value["scenario_loss"].sum()
    assert first == pytest.approx(float(losses.max()))
    assert second == pytest.approx(float(losses.min()))


# -- figures without Streamlit --------------------------------------------------------------
def test_factor_loss_bars_use_factor_colours_and_money_units(demo_a: Assessment) -> None:
    reg = register(demo_a, demo_a.result.scenario_ids[0])
    aid = str(reg.sort_values("eal").iloc[-1]["id"])
    table = asset_factor_loss(demo_a, aid)
    fig = factor_loss_bars(table, demo_a.ws.factors, NumberFormat(), demo_a.result.scenario_ids)
    colours = factor_colours(demo_a.ws.factors)
    names = {f.id: f.name for f in demo_a.ws.factors.factors}
    by_name = {names[f]: colours[f] for f in table["factor_id"].unique()}
    for trace in fig.data:
        assert trace.marker.color == by_name[trace.name]
        assert trace.hovertemplate
    assert fig.layout.xaxis.title.text.startswith("Loss of this asset (EUR")
    total = sum(np.asarray(t.x, dtype=float).sum() for t in fig.data)
    divisor = {"EUR m": 1e6, "EUR k": 1e3, "EUR bn": 1e9, "EUR": 1.0}[
        fig.layout.xaxis.title.text.split("(")[1].rstrip(")")
    ]
    assert total * divisor == pytest.approx(table["loss"].sum())


def test_curve_chart_lines_and_markers() -> None:
    a = assess(TINY)
    fig = curve_chart(asset_curves(a, "P2"), asset_intensity_marks(a, "P2"), a.ws.factors)
    lines = [t for t in fig.data if t.mode == "lines"]
    markers = [t for t in fig.data if t.mode == "markers"]
    assert [t.name for t in lines] == ["Alpha factor", "Beta factor"]
    assert list(lines[1].y) == pytest.approx([0, 0, 40, 40])  # percent
    assert sorted(markers[0].x) == [4.0, 8.0]
    assert sorted(markers[0].y) == pytest.approx([40.0, 80.0])
    assert "Northern escalation" in list(markers[0].customdata)
    assert all(t.hovertemplate for t in fig.data)
    assert fig.layout.yaxis.title.text == "Damage ratio (% of exposed value)"
    assert "0-10" in fig.layout.xaxis.title.text


def test_user_text_is_not_markup_in_charts() -> None:
    a = assess(TINY)
    table = asset_factor_loss(a, "P2")
    table["scenario_title"] = '<a href="https://evil">x</a>'
    fig = factor_loss_bars(table, a.ws.factors, NumberFormat(), a.result.scenario_ids)
    labels = [y for t in fig.data for y in t.y]
    assert labels and all("<a" not in y and "&lt;a" in y for y in labels)


def test_a_register_past_the_table_limit_lists_the_largest(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Past 2,000 matching assets the table lists the 2,000 largest by a measure the user picks
    (styling every row of a large register cost seconds per run) and says so; the count, the
    drill-down and the CSV download cover every matching asset."""
    import shutil

    import pandas as pd

    ws = tmp_path / "big"
    shutil.copytree(DEMO, ws)
    shutil.copytree(DEMO.parent / "scenarios", tmp_path / "scenarios")
    demo = pd.read_csv(DEMO / "assets.csv", dtype=str, keep_default_na=False)
    n = 2_100
    extra = demo.sample(n - len(demo), replace=True, random_state=0).reset_index(drop=True)
    extra["id"] = [f"BIG-{i:05d}" for i in range(len(extra))]
    extra["name"] = [f"Copy {i} of {name}" for i, name in enumerate(extra["name"])]
    extra["depends_on"] = ""
    pd.concat([demo, extra], ignore_index=True).to_csv(ws / "assets.csv", index=False)
    monkeypatch.setenv("RISKAPP_WORKSPACE", str(ws))
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.switch_page("views/assets.py").run()
    assert not at.exception, [e.value for e in at.exception]
    table = at.dataframe[0].value
    assert len(table) == 2_000
    reg = register(assess(ws), worst_scenario_of(ws))
    # copies of one demo asset tie: the listed EALs are the 2,000 largest
    largest = reg["eal"].sort_values(ascending=False).head(2_000).to_numpy()
    np.testing.assert_allclose(table["eal"].sort_values(ascending=False).to_numpy(), largest)
    assert any(c.value.startswith(f"{n:,} of {n:,} assets; the 2,000 with") for c in at.caption)
    assert len(at.selectbox(key="ast_asset").options) == n  # the drill-down offers every one
    at.selectbox(key="ast_rank").set_value("exposed_value").run()
    by_value = at.dataframe[0].value["exposed_value"].sort_values(ascending=False).to_numpy()
    top = reg["exposed_value"].sort_values(ascending=False).head(2_000).to_numpy()
    np.testing.assert_allclose(by_value, top)
    assert "ast_download" in [b.key for b in at.get("download_button")]


def worst_scenario_of(ws: Path) -> str:
    from riskapp.assessment.tables import worst_scenario

    return worst_scenario(assess(ws))


def test_the_drill_down_says_where_a_subdivision_was_read_from(at: AppTest) -> None:
    """CBL-BAL-02's register row names no subdivision: the demo targets NO-54, so its
    coordinates (Helsinki's landing) were read into Uusimaa; PLT-DE-01 names Hamburg itself."""
    at.selectbox(key="ast_asset").set_value("CBL-BAL-02").run()
    assert not at.exception
    read = plain("Uusimaa (FI-18, read from its coordinates)")  # as the page escapes it
    assert any(read in c.value for c in at.caption)
    at.selectbox(key="ast_asset").set_value("PLT-DE-01").run()
    assert any(plain("Hamburg (DE-HH)") in c.value for c in at.caption)
    assert not any(plain("read from its coordinates") in c.value for c in at.caption)
