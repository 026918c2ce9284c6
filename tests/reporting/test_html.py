"""The HTML report parsed back: self-contained (no network URL needed), plotly present once,
user text escaped; and opened in a real Chromium from file:// with the network unused."""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest
from PIL import Image

from riskapp.reporting import registry
from riskapp.reporting.model import Branding, ReportOptions, build_report
from tests.conftest import DEMO
from tests.reporting import CLIENT, FORMULA_NAME, PLAN_TITLE, SCRIPT_NAME, check_golden

NOW = datetime(2025, 11, 30, 12, 0, 0, tzinfo=UTC)


class Page(HTMLParser):
    """Tags, attributes and text of a document, as a browser would parse them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.scripts: list[str] = []
        self._in: list[str] = []
        self.headings: list[str] = []
        self.tables: dict[str, list[str]] = {}
        self._table: str | None = None
        self._th = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.tags.append((tag, a))
        self._in.append(tag)
        if tag == "table" and a.get("data-table"):
            self._table = a["data-table"]
            self.tables[self._table or ""] = []
        self._th = tag == "th"

    def handle_endtag(self, tag: str) -> None:
        if self._in and self._in[-1] == tag:
            self._in.pop()
        if tag == "table":
            self._table = None
        if tag == "th":
            self._th = False

    def handle_data(self, data: str) -> None:
        current = self._in[-1] if self._in else ""
        if current == "script":
            self.scripts.append(data)
            return
        self.text.append(data)
        if current == "h2":
            self.headings.append(data.strip())
        if self._th and self._table and data.strip():
            self.tables[self._table].append(data.strip())


def parse(html: str) -> Page:
    page = Page()
    page.feed(html)
    page.close()
    return page


@pytest.fixture(scope="module")
def demo_html(tmp_path_factory: pytest.TempPathFactory) -> str:
    report = build_report(DEMO, ReportOptions(max_table_rows=20), now=NOW)
    path = registry.render(report, "html", tmp_path_factory.mktemp("html") / "demo.html")
    return path.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def hostile_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.reporting import hostile_workspace

    folder = tmp_path_factory.mktemp("hostile")
    logo = folder / "logo.png"
    Image.new("RGBA", (1, 1), (0, 114, 178, 255)).save(logo)  # a real 1-pixel PNG
    branding = Branding(author="<i>Jane</i>", logo=logo, confidentiality="<u>secret</u>")
    report = build_report(hostile_workspace(folder), ReportOptions(), branding, now=NOW)
    return registry.render(report, "html", folder / "hostile.html")


def test_structure_golden(demo_html: str) -> None:
    page = parse(demo_html)
    charts = [a["data-chart"] for tag, a in page.tags if tag == "figure" and "data-chart" in a]
    content = {"sections": page.headings, "charts": charts, "tables": page.tables}
    check_golden("html_demo_structure.json", json.dumps(content, indent=1) + "\n")


def test_self_contained(demo_html: str) -> None:
    page = parse(demo_html)
    for tag, attrs in page.tags:
        if tag == "script":
            assert "src" not in attrs, attrs
        if tag in ("link", "iframe", "object", "embed"):
            raise AssertionError(f"external resource <{tag} {attrs}>")
        if tag == "img":
            assert (attrs.get("src") or "").startswith("data:"), attrs
    assert "@import" not in demo_html and "url(http" not in demo_html


def test_plotly_inlined_once_with_every_chart(demo_html: str) -> None:
    page = parse(demo_html)
    plotly_js = [s for s in page.scripts if "plotly.js" in s[:2000].lower() and len(s) > 1e6]
    assert len(plotly_js) == 1
    charts = [a for tag, a in page.tags if tag == "figure" and "data-chart" in a]
    assert len(charts) == 8
    assert demo_html.count("Plotly.newPlot(") == len(charts)
    assert 'window.PlotlyGeoAssets.topojson["world_110m"] = {"type":"Topology"' in demo_html
    assert '"topojsonURL": "./"' in demo_html  # never the CDN default


def test_executive_summary_and_appendix(demo_html: str) -> None:
    text = " ".join(parse(demo_html).text)
    assert "EUR 86.2m" in text  # 71.8m before the demo had zones and routes (issue 16)
    assert "Three things to act on" in text
    assert "Showing the first 20 of 75 rows" in text  # every asset, summarised
    assert "SHA-256" in text and "analyst judgement" in text and "Caldara" in text
    assert "ECB euro foreign exchange reference rates, 2026-04-13" in text  # rates' date
    assert (
        "Risk = hazard \N{MULTIPLICATION SIGN} exposure \N{MULTIPLICATION SIGN} vulnerability"
        in text
    )  # the client methodology


def test_headline_set_and_monte_carlo_results(demo_html: str) -> None:
    """Every key figure with its note and, one click away, its definition; the run they come
    from; the simulated chapter's tables with the report's formatted cells."""
    report = build_report(DEMO, ReportOptions(max_table_rows=20), now=NOW)
    page = parse(demo_html)
    text = " ".join(" ".join(page.text).split())
    cards = [a["data-key"] for tag, a in page.tags if tag == "div" and a.get("data-key")]
    assert cards == [k.key for k in report.key_figures]
    for k in report.key_figures:
        for part in (k.label, k.text, k.note, k.definition):
            assert " ".join(part.split()) in text, (k.key, part)
    assert demo_html.count("<summary>How it is computed</summary>") == len(report.key_figures)
    assert report.headline_note in text
    charts = {a.get("data-chart") for tag, a in page.tags if tag == "figure"}
    assert {"exceedance", "factor_tail"} <= charts
    for name in ("return_periods", "factor_tail", "asset_tail", "plan_bcr"):
        table = getattr(report.tables, name)
        assert page.tables[name][: len(table.columns)] == table.labels, name
        for row in table.formatted(report.fmt)[:20]:
            for cell in row:
                assert " ".join(cell.split()) in text, (name, cell)


def test_user_text_is_escaped(hostile_file: Path) -> None:
    html = hostile_file.read_text(encoding="utf-8")
    page = parse(html)
    text = "".join(page.text)
    for raw in (SCRIPT_NAME, PLAN_TITLE, CLIENT, "<i>Jane</i>", "<u>secret</u>", FORMULA_NAME):
        assert raw in text, raw  # shown as text ...
    assert "<script>alert" not in html  # ... never as markup
    assert "<img src=x" not in html
    assert "<i>Jane</i>" not in html and "<b>ACME</b>" not in html
    imgs = [a for tag, a in page.tags if tag == "img"]
    assert len(imgs) == 1 and (imgs[0]["src"] or "").startswith("data:image/png;base64,")
    tags = {tag for tag, _ in page.tags}
    assert "u" not in tags and "i" not in tags and "b" not in tags


def _chromium_unavailable() -> str | None:
    from tests.browser.conftest import _unavailable

    return _unavailable()


def _probe_offline(path: Path) -> tuple[list[str], list[str], str, int, int]:
    """Open the report from file:// in Chromium; what it requested, its errors and the map."""
    from playwright.sync_api import sync_playwright

    from tests.browser.conftest import CHROMIUM, LAUNCH_ARGS

    requests: list[str] = []
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            page = browser.new_page()
            page.on("request", lambda r: requests.append(r.url))
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("dialog", lambda d: errors.append(f"dialog: {d.message}"))
            page.goto(path.as_uri())
            page.wait_for_function(
                "document.querySelectorAll('.js-plotly-plot .main-svg').length >= 7"
                " && document.querySelectorAll('#chart-world_map path.choroplethlocation')"
                ".length > 0",
                timeout=30_000,
            )
            outline = page.evaluate(
                "(document.querySelector('#chart-world_map .layer.countries path')"
                " || {getAttribute: () => ''}).getAttribute('d') || ''"
            )
            shaded = page.evaluate(
                "Array.from(document.querySelectorAll("
                "'#chart-world_map path.choroplethlocation'))"
                ".filter(p => (p.getAttribute('d') || '').length > 50).length"
            )
            markers = page.locator("#chart-world_map .scattergeo path.point").count()
        finally:
            browser.close()
    return requests, errors, outline, shaded, markers


def test_opens_offline_in_chromium_and_draws_the_map(hostile_file: Path) -> None:
    reason = _chromium_unavailable()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"browser test cannot run in CI: {reason}", pytrace=False)
        pytest.skip(reason)
    # Playwright's sync API refuses to run where an asyncio loop is running (kaleido's, from
    # report tests earlier in the session): probe from a fresh thread, which has none.
    with ThreadPoolExecutor(max_workers=1) as pool:
        requests, errors, outline, shaded, markers = pool.submit(
            _probe_offline, hostile_file
        ).result()
    assert len(outline) > 10_000  # borders from the inlined outlines, not only the choropleth
    assert shaded == 3  # NOR, FIN, DEU shaded by expected annual loss
    assert markers >= 2  # the located assets
    assert not errors  # no script ran from user text, no plotly error
    remote = [u for u in requests if not u.startswith(("file:", "data:", "blob:", "about:"))]
    assert not remote, remote
