"""The report's own plotly.js (riskapp/reporting/vendor/plotly-report.min.js, built by
tools/plotly_report_bundle): the version plotly ships, every trace type the report draws, and
the same images as plotly's full plotly.js."""

from __future__ import annotations

import asyncio
import importlib.util
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import plotly.graph_objects as go
import pytest

from riskapp.reporting import registry
from riskapp.reporting.images import (
    TOPOJSON_URL,
    Chart,
    ImageSession,
    kaleido_class,
)
from riskapp.reporting.model import Report, build_report
from riskapp.reporting.options import ReportOptions
from riskapp.reporting.plotlyjs import (
    BUNDLE_TRACES,
    REPORT_PLOTLYJS,
    plotlyjs_for_images,
    plotlyjs_version,
)

from .test_images import DEMO, _need_chromium

ENTRY = Path(__file__).resolve().parents[2] / "tools" / "plotly_report_bundle" / "entry.js"


@pytest.fixture(scope="module")
def report() -> Report:
    return build_report(DEMO, registry.options_for("html", ReportOptions()))


def _shipped() -> Path:
    spec = importlib.util.find_spec("plotly")
    assert spec is not None and spec.origin is not None
    return Path(spec.origin).parent / "package_data" / "plotly.min.js"


def test_bundle_is_the_plotlyjs_version_plotly_ships() -> None:
    ours = plotlyjs_version(REPORT_PLOTLYJS)
    assert ours is not None
    assert ours == plotlyjs_version(_shipped()), "rebuild tools/plotly_report_bundle"
    assert plotlyjs_for_images() == REPORT_PLOTLYJS.as_uri()


def test_bundle_registers_the_trace_types_images_allow() -> None:
    registered = set(re.findall(r"require\('plotly\.js/lib/(\w+)'\)", ENTRY.read_text()))
    assert registered - {"core"} | {"scatter"} == BUNDLE_TRACES  # core: plotly.js with scatter


def test_every_report_chart_draws_trace_types_of_the_bundle(report: Report) -> None:
    assert len(report.figures) == 8
    for name, f in report.figures.items():
        types = {str(t.get("type") or "scatter") for t in f.figure.to_dict()["data"]}
        assert types <= BUNDLE_TRACES, name


def test_a_trace_type_outside_the_bundle_is_refused_before_any_browser_starts() -> None:
    session = ImageSession()
    pie = go.Figure(go.Pie(values=[1, 2], labels=["a", "b"]))
    with pytest.raises(ValueError, match="pie"):
        session.submit([Chart("pie", pie)], "png")
    assert not session.is_open


def test_bundle_draws_the_report_charts_as_plotlys_own_plotlyjs(report: Report) -> None:
    """PNG byte for byte (SVG differs only in plotly's random element ids)."""
    _need_chromium()
    names = ("world_map", "region_factor_heatmap", "waterfall", "cost_benefit")
    specs = [(report.figures[n].figure.to_dict(), report.figures[n].height) for n in names]

    async def draw(plotlyjs: str | None) -> list[bytes]:
        browser = kaleido_class()(n=1, mathjax=False, plotlyjs=plotlyjs)
        await browser.__aenter__()
        try:
            return [
                await browser.calc_fig(
                    spec,
                    opts={"format": "png", "width": 700, "height": height},
                    topojson=TOPOJSON_URL,
                )
                for spec, height in specs
            ]
        finally:
            await browser.__aexit__(None, None, None)

    # a loop of their own in a thread of its own: another test may leave one running here
    with ThreadPoolExecutor(1) as pool:
        ours = pool.submit(asyncio.run, draw(plotlyjs_for_images())).result()
        full = pool.submit(asyncio.run, draw(None)).result()
    for name, a, b in zip(names, ours, full, strict=True):
        assert a[:8] == b"\x89PNG\r\n\x1a\n", name
        assert a == b, name
