"""Overview and Methodology pages, and the view-model functions behind them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from riskapp.assessment.core import (
    Assessment,
    assess,
    asset_table,
    country_factor_eal,
    group_factor_eal,
    key_figures,
)
from tests.conftest import DEMO, TINY
from tests.dashboard.figures import same_figure

APP = str(Path(__file__).resolve().parents[2] / "riskapp" / "dashboard" / "app.py")
PAGES = [
    "views/overview.py",
    "views/scenarios.py",
    "views/risk.py",
    "views/assets.py",
    "views/plans.py",
    "views/reports.py",
    "views/register.py",
    "views/scenario_editor.py",
    "views/history.py",
    "views/audit.py",
    "views/baseline.py",
    "views/methodology.py",
]


def values_of(data: object) -> list[object]:
    """Plotly 7 sends numeric arrays as base64 typed arrays; decode them to a list."""
    if isinstance(data, dict) and "bdata" in data:
        import base64

        import numpy as np

        return np.frombuffer(base64.b64decode(data["bdata"]), dtype=data["dtype"]).tolist()
    assert isinstance(data, list)
    return data


@pytest.fixture(scope="module")
def demo_assessment() -> Assessment:
    return assess(DEMO)


def _app(monkeypatch: pytest.MonkeyPatch, workspace: Path = DEMO) -> AppTest:
    monkeypatch.setenv("RISKAPP_WORKSPACE", str(workspace))
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    return at


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_on_the_demo(monkeypatch: pytest.MonkeyPatch, page: str) -> None:
    at = _app(monkeypatch)
    at.switch_page(page).run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]


def test_overview_key_figures_match_the_engine(
    monkeypatch: pytest.MonkeyPatch, demo_assessment: Assessment
) -> None:
    at = _app(monkeypatch)
    metrics = {m.label: m.value for m in at.metric}
    a = demo_assessment
    assert metrics["Expected annual loss"] == a.fmt.money(a.result.expected_annual_loss())
    assert metrics["Portfolio value"] == a.fmt.money(a.result.total_exposed_value)
    assert metrics["Plans triggered"].endswith(f"of {len(a.ws.plans.plans)}")


def test_loss_basis_switch_changes_the_figures(monkeypatch: pytest.MonkeyPatch) -> None:
    at = _app(monkeypatch)
    before = {m.label: m.value for m in at.metric}
    at.sidebar.radio(key="basis").set_value("absolute").run()
    after = {m.label: m.value for m in at.metric}
    # absolute losses include today's baseline damage, so expected loss rises
    assert before["Expected annual loss"] != after["Expected annual loss"]
    assert before["Portfolio value"] == after["Portfolio value"]


def test_map_and_heatmap_carry_the_losses(
    monkeypatch: pytest.MonkeyPatch, demo_assessment: Assessment
) -> None:
    at = _app(monkeypatch)
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    choropleth = next(t for c in charts for t in c["data"] if t["type"] == "choropleth")
    by_country = country_factor_eal(demo_assessment).sum(axis=1)
    values = dict(zip(values_of(choropleth["locations"]), values_of(choropleth["z"]), strict=True))
    assert values["POL"] == pytest.approx(by_country["POL"])
    # asset markers: the map's other scattergeo traces are zones, routes and dependencies
    markers = [
        t
        for c in charts
        for t in c["data"]
        if t["type"] == "scattergeo" and t.get("legendgroup") not in ("zones", "routes", "flows")
    ]
    assert (
        sum(len(values_of(t["lat"])) for t in markers)
        == asset_table(demo_assessment)["lat"].notna().sum()
    )
    # every trace says what hovering it shows, or that it shows nothing (the dependency
    # lines: their arrows carry the hover)
    assert all(
        "hovertemplate" in t or t.get("hoverinfo") == "skip" for c in charts for t in c["data"]
    )


def test_broken_workspace_shows_problems_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import shutil

    ws = tmp_path / "ws"
    shutil.copytree(TINY, ws)
    (ws / "scenarios" / "s2.yaml").write_text("id: s2\ntitle: [unclosed\n")
    at = _app(monkeypatch, ws)
    assert not at.exception
    assert "problem" in at.error[0].value
    assert "s2.yaml" in at.code[0].value


def test_user_text_is_escaped_on_the_page(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import shutil

    ws = tmp_path / "ws"
    shutil.copytree(TINY, ws)
    manifest = (
        (ws / "workspace.yaml")
        .read_text()
        .replace("name: Tiny test workspace", 'name: "**bold** <script>x</script>"')
    )
    (ws / "workspace.yaml").write_text(manifest)
    at = _app(monkeypatch, ws)
    caption = at.caption[0].value
    assert "\\*\\*bold\\*\\*" in caption and "\\<script\\>" in caption


def test_key_figures_on_the_tiny_workspace() -> None:
    a = assess(TINY)
    figures = {f.label: f.text for f in key_figures(a)}
    assert figures["Expected annual loss"] == "EUR 176"  # 175.5 (was 193.1, status quo twice)
    assert figures["Largest single-scenario loss"] == "EUR 305"
    assert figures["Plans triggered"] == "2 of 2"
    assert figures["Plans not ready in time"] == "1 of 2"


def test_country_and_group_tables_add_up(demo_assessment: Assessment) -> None:
    a = demo_assessment
    table = country_factor_eal(a)
    assert table.to_numpy().sum() == pytest.approx(a.result.expected_annual_loss())
    assets = asset_table(a)
    assert assets["eal"].sum() == pytest.approx(a.result.expected_annual_loss())
    groups = group_factor_eal(a)
    baltic = [c for c in ("EST", "LVA", "LTU") if c in table.index]
    assert groups.loc["baltic"].sum() == pytest.approx(table.loc[baltic].to_numpy().sum())


def test_map_markers_capped_to_the_largest_losses(demo_assessment: Assessment) -> None:
    """max_markers draws that many markers, those of the assets with the largest EAL, at the
    sizes they have without the cap (the largest asset sets the scale either way); the
    countries' colours are untouched."""
    import numpy as np

    from riskapp.assessment.core import country_losses
    from riskapp.charts.maps import marker_count, world_map

    a = demo_assessment
    assets = asset_table(a)
    located = assets.dropna(subset=["lat", "lon"])
    cap = 10
    full = world_map(country_losses(a), assets, a.ws.factors, a.fmt)
    capped = world_map(country_losses(a), assets, a.ws.factors, a.fmt, max_markers=cap)

    def markers(fig: object) -> dict[str, float]:
        out = {}
        for t in fig.data:  # type: ignore[attr-defined]
            if t.type == "scattergeo":
                for name, size in zip(
                    t.customdata[:, 0], np.atleast_1d(t.marker.size), strict=True
                ):
                    out[str(name)] = float(size)
        return out

    drawn = markers(capped)
    assert len(drawn) == cap == marker_count(assets, cap)[0]
    assert marker_count(assets, cap)[1] == marker_count(assets)[0] == len(located)
    largest = located.sort_values("eal", ascending=False).head(cap)
    assert set(drawn) == set(largest["name"])
    everything = markers(full)
    assert all(drawn[name] == everything[name] for name in drawn)
    assert list(capped.data[0].z) == list(full.data[0].z)  # the choropleth


@pytest.mark.parametrize("locale", ["en", "de"])
@pytest.mark.parametrize("measure", ["eal", "exposed_value"])
def test_the_overview_map_fast_and_checked_are_the_same(
    demo_assessment: Assessment, locale: str, measure: str
) -> None:
    # the Overview draws the map fast (its first chart); reports draw it checked
    from riskapp.assessment.core import country_losses
    from riskapp.charts.maps import world_map
    from riskapp.format import NumberFormat

    a = demo_assessment
    fmt = NumberFormat(currency=a.currency, locale=locale)  # type: ignore[arg-type]
    assets = asset_table(a)
    for cap in (None, 5):
        fig = same_figure(
            lambda fast, cap=cap: world_map(
                country_losses(a), assets, a.ws.factors, fmt, measure, cap, fast
            )
        )
        assert fig.layout.geo.projection.type == "natural earth"
    # no located asset: the whole world, no markers
    bare = assets.assign(lat=float("nan"), lon=float("nan"))
    fig = same_figure(lambda fast: world_map(country_losses(a), bare, a.ws.factors, fmt, fast=fast))
    assert [t.type for t in fig.data] == ["choropleth"]
    assert list(fig.layout.geo.lonaxis.range) == [-180.0, 180.0]
