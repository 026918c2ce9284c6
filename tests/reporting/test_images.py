"""Static chart images: one browser for every chart, vector SVG for the PDF, PNG for the deck,
world maps drawn offline from the shipped outlines."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from riskapp.assessment.core import (
    Assessment,
    assess,
    asset_table,
    country_factor_eal,
    country_losses,
)
from riskapp.charts.maps import world_map
from riskapp.charts.overview import factor_heatmap
from riskapp.reporting.images import (
    TOPOJSON_URL,
    Chart,
    ImageSession,
    png_size,
    svg_data_uri,
)

DEMO = Path(__file__).resolve().parents[2] / "demo"


def _need_chromium() -> None:
    """Skip without a browser on a developer machine; fail in CI (CI must install it)."""
    if shutil.which("chromium") or Path("/usr/bin/chromium").exists():
        return
    reason = "Chromium not found (apt-get install -y chromium)"
    if os.environ.get("CI"):
        pytest.fail(f"chart images cannot be tested in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def demo_assessment() -> Assessment:
    return assess(DEMO)


@pytest.fixture(scope="module")
def charts(demo_assessment: Assessment) -> list[Chart]:
    a = demo_assessment
    countries = country_losses(a)
    return [
        Chart("map", world_map(countries, asset_table(a), a.ws.factors, a.fmt)),
        Chart(
            "heat",
            factor_heatmap(country_factor_eal(a), a.ws.factors, a.fmt, "country"),
            width_px=800,
            height_px=600,
        ),
    ]


@pytest.fixture(scope="module")
def images(charts: list[Chart]) -> Iterator[tuple[dict[str, bytes], dict[str, bytes]]]:
    _need_chromium()
    with ImageSession() as session:
        svgs = session.render(charts, "svg")
        pngs = session.render(charts, "png", scale=2)
    yield svgs, pngs


def test_one_session_draws_every_chart_in_both_formats(
    images: tuple[dict[str, bytes], dict[str, bytes]],
) -> None:
    svgs, pngs = images
    assert list(svgs) == ["map", "heat"]
    assert list(pngs) == ["map", "heat"]
    for svg in svgs.values():
        assert svg.lstrip().startswith(b"<svg")
    for png in pngs.values():
        assert png.startswith(b"\x89PNG")


def test_png_size_follows_the_chart_and_the_scale(
    images: tuple[dict[str, bytes], dict[str, bytes]], charts: list[Chart]
) -> None:
    _, pngs = images
    assert png_size(pngs["heat"]) == (1600, 1200)
    width, height = charts[0].size()
    assert png_size(pngs["map"]) == (2 * width, 2 * height)


def test_world_map_draws_countries_offline(
    images: tuple[dict[str, bytes], dict[str, bytes]], demo_assessment: Assessment
) -> None:
    """Without the shipped outlines plotly.js would fetch them from a CDN and, offline, draw an
    empty map: the land layer and one shape per country with a loss must be in the SVG."""
    svg = images[0]["map"].decode()
    assert TOPOJSON_URL.startswith("file://")
    countries = len(country_losses(demo_assessment))
    assert svg.count('class="choroplethlocation"') == countries >= 10
    land = re.search(r'<g class="layer land">(.*?)</g>', svg, re.S)
    assert land is not None
    outline = re.findall(r'\sd="([^"]+)"', land.group(1))
    assert outline
    assert sum(len(d) for d in outline) > 10_000  # real coastlines, not an empty frame
    assert len(re.findall(r"<path", svg)) > 50


def test_svg_keeps_text_as_text(images: tuple[dict[str, bytes], dict[str, bytes]]) -> None:
    """Vector charts: labels stay text (crisp, searchable in the PDF), not pixels."""
    svg = images[0]["heat"].decode()
    assert "<text" in svg
    assert "DEU" in svg


def test_duplicate_keys_are_refused_before_any_browser_starts(charts: list[Chart]) -> None:
    session = ImageSession()
    with pytest.raises(ValueError, match="unique"):
        session.render([charts[0], charts[0]], "svg")
    assert not session.is_open


def test_chart_size_defaults_to_the_figure_height(charts: list[Chart]) -> None:
    assert charts[0].size() == (900, 560)
    assert charts[1].size() == (800, 600)


def test_png_size_refuses_other_bytes() -> None:
    with pytest.raises(ValueError, match="PNG"):
        png_size(b"GIF89a" + bytes(30))


def test_svg_data_uri_round_trips() -> None:
    import base64

    uri = svg_data_uri(b'<svg xmlns="http://www.w3.org/2000/svg"/>')
    head, data = uri.split(",", 1)
    assert head == "data:image/svg+xml;base64"
    assert base64.b64decode(data) == b'<svg xmlns="http://www.w3.org/2000/svg"/>'
