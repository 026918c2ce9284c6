"""Zones and dependencies on the world map: its traces and hover text (the zoned tiny workspace
of test_zone_table, whose figures are worked out there), its frame and caption, and the
Overview page drawing them."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pyproj
import pytest
from streamlit.testing.v1 import AppTest

from riskapp.assessment.core import Assessment, assess, assess_workspace, asset_table
from riskapp.assessment.flows import dependency_flows
from riskapp.assessment.sources import MemorySource
from riskapp.charts.framing import MAP_ASPECT, fit_aspect, framed
from riskapp.charts.maps import overview_map
from riskapp.domain import Workspace
from riskapp.domain.assets import DependencyLink
from tests.conftest import DEMO
from tests.dashboard.figures import same_figure
from tests.dashboard.test_zone_table import zoned

GEOD = pyproj.Geod(ellps="WGS84")
APP = str(Path(__file__).resolve().parents[2] / "riskapp" / "dashboard" / "app.py")


@pytest.fixture(scope="module")
def tiny_zoned(tiny: Workspace) -> Assessment:
    return assess_workspace(zoned(tiny))


@pytest.fixture(scope="module")
def demo_assessment() -> Assessment:
    return assess(DEMO)


# -- the map ----------------------------------------------------------------------------------


def traces(fig: object, name: str) -> list[object]:
    return [t for t in fig.data if t.name == name]  # type: ignore[attr-defined]


def test_the_map_draws_zones_with_their_hover_text(tiny_zoned: Assessment) -> None:
    fig = overview_map(tiny_zoned).figure
    zones = traces(fig, "Zones")
    outlines = [t for t in zones if t.mode == "lines"]
    markers = [t for t in zones if t.mode == "markers"]
    assert len(outlines) == 5 and len(markers) == 1
    assert [t.showlegend for t in outlines] == [True, False, False, False, False]
    assert {t.legendgroup for t in zones} == {"zones"}
    assert all(t.fill == "toself" for t in outlines)
    hel = (
        "<b>Helsinki</b> (circle)<br>Assets: 1, exposed value EUR 250<br>"
        "Expected annual loss: EUR 128<br>Peak intensity: 9.0 (Alpha factor) in Helsinki alpha up"
    )
    front = (
        "<b>Front &lt;b&gt;line&lt;/b&gt;</b> (hotspot)<br>Assets: 1, exposed value EUR 250<br>"
        "Expected annual loss: EUR 128<br>Peak intensity: 9.0 (Alpha factor) in Helsinki alpha up"
    )
    north = (
        "<b>north</b> (polygon)<br>Assets: 1, exposed value EUR 100<br>"
        "Expected annual loss: EUR 24<br>Peak intensity: 6.0 (Alpha factor) in Northern escalation"
    )
    far = "<b>far</b> (circle)<br>No asset in it"
    # an outline's hover text is the trace's own (meta), the markers' one per zone (text)
    assert [t.meta for t in outlines] == [hel, north, markers[0].text[2], front, far]
    assert list(markers[0].text) == [hel, north, markers[0].text[2], front, far]
    assert markers[0].text[2].startswith("<b>wide</b> (circle)<br>Assets: 2, exposed value EUR 350")
    assert all(t.hovertemplate == "%{meta}<extra></extra>" for t in outlines)
    assert markers[0].hovertemplate == "%{text}<extra></extra>"
    # each marker inside its own zone: Helsinki's 50 km circle is centred on it
    assert GEOD.inv(24.9, 60.2, markers[0].lon[0], markers[0].lat[0])[2] < 1000
    # the Helsinki circle's outline: 50 km from its centre (or a chord's width inside)
    lon, lat = np.asarray(outlines[0].lon), np.asarray(outlines[0].lat)
    d = GEOD.inv(np.full(len(lon), 24.9), np.full(len(lon), 60.2), lon, lat)[2] / 1000
    assert d.max() == pytest.approx(50, abs=0.01) and d.min() > 48


def test_the_demo_draws_troms_og_finnmark_from_its_shipped_boundary(
    demo_assessment: Assessment,
) -> None:
    """The Arctic flashpoint aims at NO-54 through the demo's high_north group; riskapp ships
    its boundary (Natural Earth's admin-1), so the map draws its outline, with the four assets
    the register names in it and the coastal lane (its point 7.5 km off the coast, read into
    NO-54 from its coordinates; its route runs through the subdivision's fjords)."""
    a = demo_assessment
    reg = a.ws.portfolio.frame
    named = reg[reg["subdivision"] == "NO-54"]
    assert sorted(named["id"]) == [
        "OFF-NO-01",
        "OFF-NO-02",
        "PRT-NO-01",
        "SHP-NO-01",
        "WHS-NO-01",
    ]
    zones = traces(overview_map(a).figure, "Zones")
    outlines = [t for t in zones if t.mode == "lines"]
    (markers,) = [t for t in zones if t.mode == "markers"]
    texts = list(markers.text)
    (k,) = [i for i, t in enumerate(texts) if t.startswith("<b>Troms og Finnmark</b>")]
    assert "(subdivision)<br>Assets: 5," in texts[k]
    assert len(outlines) == len(texts)  # every zone has an outline, the subdivision too
    (troms,) = [t for t in outlines if t.meta == texts[k]]
    lon, lat = np.asarray(troms.lon, dtype=float), np.asarray(troms.lat, dtype=float)
    # Troms og Finnmark reaches from about 15.6 E to 31.2 E (Vardø), 68.4 N to 71.2 N
    assert 15 < np.nanmin(lon) < 17 and 31 < np.nanmax(lon) < 32
    assert 68 < np.nanmin(lat) < 69 and 71 < np.nanmax(lat) < 71.5


def test_the_map_draws_flows_with_arrows(tiny: Workspace) -> None:
    link = DependencyLink(asset_id="P2", depends_on="P1", share=0.2)
    a = assess(MemorySource(tiny, links=(link,)))
    fig = overview_map(a).figure
    lines, arrows = traces(fig, "Dependencies")
    assert lines.mode == "lines" and lines.hoverinfo == "skip" and lines.showlegend is not False
    assert np.allclose(lines.lon, [24.9, 18.9, np.nan], equal_nan=True)
    assert np.allclose(lines.lat, [60.2, 69.6, np.nan], equal_nan=True)
    flow = dependency_flows(a).iloc[0]
    assert arrows.mode == "markers" and arrows.showlegend is False
    assert arrows.marker.symbol == "arrow" and arrows.marker.angleref == "north"
    # the bearing, about 345 degrees (north-north-west), as plotly keeps angles: -15
    assert list(arrows.marker.angle) == pytest.approx([flow["bearing"] - 360])
    assert list(arrows.lon) == pytest.approx([flow["mid_lon"]])
    assert arrows.customdata.tolist() == [
        ["Plant Finland", "Plant north", "Share of its value: 20%<br>Value at stake: EUR 50"]
    ]
    # without a link the line is drawn and says it carries no loss
    fig = overview_map(assess_workspace(tiny)).figure
    assert traces(fig, "Dependencies")[1].customdata[0, 2] == "No share given: no loss passes on"


def test_flows_are_capped_to_the_largest_and_the_caption_says_so(
    demo_assessment: Assessment,
) -> None:
    a = demo_assessment
    world = overview_map(a, max_flows=5)
    _, arrows = traces(world.figure, "Dependencies")
    top = dependency_flows(a).head(5)
    assert arrows.customdata[:, 0].tolist() == top["name"].tolist()
    assert "The 5 dependencies with the most value at stake of 88 are drawn." in world.caption
    assert "dependencies with the most" not in overview_map(a).caption


@pytest.mark.parametrize("locale", ["en", "de"])
def test_the_map_with_zones_and_flows_fast_and_checked_are_the_same(
    tiny_zoned: Assessment, demo_assessment: Assessment, locale: str
) -> None:
    for a in (tiny_zoned.with_locale(locale), demo_assessment.with_locale(locale)):  # type: ignore[arg-type]
        same_figure(
            lambda fast, a=a: overview_map(a, max_markers=20, max_flows=30, fast=fast).figure
        )


# -- the frame --------------------------------------------------------------------------------


def test_the_demo_is_framed_on_europe(demo_assessment: Assessment) -> None:
    """The demo's East Asian suppliers and offices (15 assets, about 3 % of the expected annual
    loss) are drawn but left outside the frame: the European assets fill the map."""
    a = demo_assessment
    assets = asset_table(a)
    located = assets.dropna(subset=["lat", "lon"])
    inside = framed(located)
    asia = located["lon"].to_numpy() > 45
    assert asia.sum() == 15
    assert inside.tolist() == (~asia).tolist()
    geo = overview_map(a).figure.layout.geo
    west, east = geo.lonaxis.range
    south, north = geo.lataxis.range
    europe = located[~asia]
    assert west <= europe["lon"].min() - 12 and east >= europe["lon"].max() + 12
    assert south <= europe["lat"].min() - 8 and north >= europe["lat"].max() + 8
    assert east < located["lon"].max()  # Tokyo is off the frame
    # widened to the map's shape, no more: natural earth's width over height is MAP_ASPECT
    assert _aspect((west, east), (south, north)) == pytest.approx(MAP_ASPECT, rel=0.01)
    share = located.loc[asia, "eal"].sum() / located["eal"].sum()
    assert 0 < share < 0.10  # the frame holds at least 90 % of the loss
    caption = overview_map(a).caption
    assert (
        f"15 assets with a location lie outside it ({a.fmt.percent(share)} of the expected "
        "annual loss; China, Taiwan, Vietnam, Japan and 2 more); zoom out to see them." in caption
    )
    report = overview_map(a, interactive=False).caption
    assert "zoom" not in report and "hover" not in report


def _aspect(lon: tuple[float, float], lat: tuple[float, float]) -> float:
    """Natural Earth (d3's geoNaturalEarth1Raw): x = lambda x A(phi), y = phi x B(phi)."""

    def a(phi: float) -> float:
        p2 = math.radians(phi) ** 2
        return 0.8707 - 0.131979 * p2 - 0.013791 * p2**2 + 0.003971 * p2**5 - 0.001529 * p2**6

    def y(phi: float) -> float:
        p = math.radians(phi)
        p2 = p * p
        return p * (
            1.007226 + 0.015085 * p2 - 0.044475 * p2**3 + 0.028874 * p2**4 - 0.005916 * p2**5
        )

    nearest = 0.0 if lat[0] <= 0 <= lat[1] else min(abs(lat[0]), abs(lat[1]))
    return math.radians(lon[1] - lon[0]) * a(nearest) / (y(lat[1]) - y(lat[0]))


def test_a_portfolio_on_two_continents_is_framed_on_both() -> None:
    # half the loss in Europe, half in East Asia: neither group holds 90 % of it
    located = pd.DataFrame(
        {"lon": [10.0, 12.0, 121.0, 139.0], "lat": [50.0, 52.0, 31.0, 35.0], "eal": [1, 1, 1, 1.0]}
    )
    assert framed(located).tolist() == [True] * 4
    # 95 % in Europe: Asia is left out; across the antimeridian (170 E, 175 W) one group
    assert framed(located.assign(eal=[50.0, 45, 3, 2])).tolist() == [True, True, False, False]
    pacific = pd.DataFrame(
        {"lon": [170.0, -175.0, 10.0], "lat": [-40, -42, 50], "eal": [5.0, 5, 1]}
    )
    assert framed(pacific).tolist() == [True, True, False]
    # no loss anywhere: the exposed value decides, then the count
    assert framed(located.assign(eal=0.0, exposed_value=[1.0, 1, 30, 30])).tolist() == [
        False,
        False,
        True,
        True,
    ]


def test_fit_aspect_widens_the_narrow_side_only() -> None:
    lon, lat = fit_aspect((-14.0, 44.0), (22.0, 79.0))  # Europe: too tall for the map
    assert lat == (22.0, 79.0) and lon[0] < -14.0 and lon[1] > 44.0
    assert (lon[0] + lon[1]) / 2 == pytest.approx(15.0)
    assert _aspect(lon, lat) == pytest.approx(MAP_ASPECT, rel=0.01)
    lon, lat = fit_aspect((-130.0, 30.0), (30.0, 60.0))  # North Atlantic: too wide
    assert lon == (-130.0, 30.0) and lat[0] < 30.0 and lat[1] > 60.0
    assert _aspect(lon, lat) == pytest.approx(MAP_ASPECT, rel=0.02)
    # at the edge of the world: shifted to stay within -180..180, still holding the assets
    lon, _ = fit_aspect((160.0, 180.0), (-50.0, -30.0))
    assert lon[1] == 180.0 and lon[0] < 160.0


# -- the Overview page ------------------------------------------------------------------------


def test_the_overview_draws_the_demo_dependencies(
    monkeypatch: pytest.MonkeyPatch, demo_assessment: Assessment
) -> None:
    monkeypatch.setenv("RISKAPP_WORKSPACE", str(DEMO))
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    chart = json.loads(at.get("plotly_chart")[0].proto.spec)
    flows = [t for t in chart["data"] if t.get("name") == "Dependencies"]
    assert [t["mode"] for t in flows] == ["lines", "markers"]
    assert len(flows[1]["customdata"]) == 88  # every dependency, all under the page's cap
    geo = chart["layout"]["geo"]
    assert geo["lonaxis"]["range"][1] < 100  # framed on Europe
    captions = [c.value for c in at.caption]
    assert any("15 assets with a location lie outside it" in c for c in captions)
