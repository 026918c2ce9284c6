"""Chart images are drawn once per process and only where a format shows them: the PDF and the
deck built one after the other in one process share one browser, and building them again draws
nothing (counted by `ImageSession.exports`, the number of images the browser drew). The PDF
laid out around chart frames while its charts are drawn is the same, page for page, as the PDF
laid out around the finished charts.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from riskapp.reporting import ReportOptions, build_report, registry
from riskapp.reporting import deck as deck_format
from riskapp.reporting import pdf as pdf_format
from riskapp.reporting.figures import DECK_IMAGE_FIGURES
from riskapp.reporting.images import (
    Chart,
    ImageCache,
    ImageExportError,
    ImageSession,
    image_key,
)
from riskapp.reporting.model import Report

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2025, 11, 30, 9, 15, tzinfo=UTC)


def need(tool: str) -> None:
    """Skip without `tool` on a developer machine; fail in CI, which must install it."""
    if shutil.which(tool):
        return
    reason = f"{tool} not found (apt-get install -y chromium poppler-utils)"
    if os.environ.get("CI"):
        pytest.fail(f"chart images cannot be checked in CI: {reason}")
    pytest.skip(reason)


def assert_same_pages(deferred: bytes, direct: bytes, tmp_path: Path) -> None:
    """The two PDFs have the same pages (more than 20), pixel for pixel at 40 dpi; the first
    is written to tmp_path / "deferred.pdf"."""
    need("pdftoppm")
    from PIL import Image, ImageChops

    pages: dict[str, list[Path]] = {}
    for name, data in (("deferred", deferred), ("direct", direct)):
        path = tmp_path / f"{name}.pdf"
        path.write_bytes(data)
        subprocess.run(
            ["pdftoppm", "-r", "40", "-png", str(path), str(tmp_path / name)], check=True
        )
        pages[name] = sorted(tmp_path.glob(f"{name}-*.png"))
    assert len(pages["deferred"]) == len(pages["direct"]) > 20
    for a, b in zip(pages["deferred"], pages["direct"], strict=True):
        with Image.open(a) as one, Image.open(b) as two:
            assert one.size == two.size
            assert ImageChops.difference(one.convert("RGB"), two.convert("RGB")).getbbox() is None


@pytest.fixture(scope="module")
def report() -> Report:
    return build_report(ROOT / "demo", ReportOptions(), now=NOW)


@dataclass
class Built:
    session: ImageSession
    exports_after: dict[str, int]
    hits_after_second_round: int
    pdf_deferred: bytes
    pdf_direct: bytes


@pytest.fixture(scope="module")
def built(report: Report) -> Iterator[Built]:
    """PDF, then deck, then both again, in one session with a cache of its own."""
    need("chromium")
    session = ImageSession(cache=ImageCache(), store="off")
    exports: dict[str, int] = {}
    try:
        pdf_deferred = pdf_format.render_bytes(report, images=session)
        exports["pdf"] = session.exports
        deck_format.render_bytes(report, images=session)
        exports["pdf+deck"] = session.exports
        hits = session.cache.hits
        pdf_format.render_bytes(report, images=session)
        deck_format.render_bytes(report, images=session)
        exports["again"] = session.exports
        svgs = session.render(pdf_format.charts_of(report), "svg")
        pdf_direct = pdf_format.pdf_from_html(pdf_format.report_html(report, svgs))
        yield Built(session, exports, session.cache.hits - hits, pdf_deferred, pdf_direct)
    finally:
        session.close()


def test_each_image_is_drawn_once_in_a_process(built: Built, report: Report) -> None:
    pdf_charts = pdf_format.charts_of(report)
    deck_charts = deck_format.charts_of(report)
    assert len(pdf_charts) == len(report.figures) == 8
    assert [c.key for c in deck_charts] == list(DECK_IMAGE_FIGURES)
    # the PDF draws its 8 vector charts; the deck its 4 pictures as PNG at twice the pixels
    # (other images than the PDF's: another format, size and scale); again: nothing
    assert built.exports_after == {"pdf": 8, "pdf+deck": 12, "again": 12}
    assert built.hits_after_second_round >= 8 + 4


def test_the_pdf_laid_out_while_charts_are_drawn_looks_the_same(
    built: Built, tmp_path: Path
) -> None:
    """Every page of the PDF whose charts went into frames during layout is, pixel for pixel,
    the page of the PDF laid out around the finished charts (charts, text, page breaks)."""
    assert_same_pages(built.pdf_deferred, built.pdf_direct, tmp_path)
    # and the charts are in it: a chart's axis title is text of the page
    text = subprocess.run(
        ["pdftotext", str(tmp_path / "deferred.pdf"), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "Return period" in text


def test_an_image_asked_for_twice_while_drawn_is_drawn_once(report: Report) -> None:
    need("chromium")
    charts = deck_format.charts_of(report)[:2]
    with ImageSession(cache=ImageCache(), store="off") as session:
        first = session.submit(charts, "svg")
        second = session.submit(charts, "svg")
        assert {k: f.result() for k, f in first.items()} == {
            k: f.result() for k, f in second.items()
        }
        assert session.exports == 2


def test_each_format_builds_only_the_figures_it_draws() -> None:
    base = ReportOptions()
    deck = build_report(ROOT / "demo", registry.options_for("pptx", base), now=NOW)
    assert set(deck.figures) == set(DECK_IMAGE_FIGURES)
    workbook = build_report(ROOT / "demo", registry.options_for("xlsx", base), now=NOW)
    assert workbook.figures == {}
    assert registry.options_for("pdf", base).figures is None
    assert registry.options_for("html", base).figures is None


def test_image_key_follows_content_format_size_and_scale(report: Report) -> None:
    figure = report.figures["exceedance"].figure
    spec = Chart("a", figure).spec()
    key = image_key(spec, "svg", 760, 400, 1.0)
    assert key == image_key(Chart("b", figure).spec(), "svg", 760, 400, 1.0)
    others = {
        image_key(spec, "png", 760, 400, 1.0),
        image_key(spec, "svg", 761, 400, 1.0),
        image_key(spec, "svg", 760, 401, 1.0),
        image_key(spec, "png", 760, 400, 2.0),
        image_key(
            {**spec, "layout": {**spec["layout"], "title": {"text": "x"}}}, "svg", 760, 400, 1.0
        ),
    }
    assert key not in others
    assert len(others) == 5


def test_image_key_sees_numpy_data() -> None:
    import numpy as np

    one = {"data": [{"type": "bar", "x": np.array([1.0, 2.0])}]}
    two = {"data": [{"type": "bar", "x": np.array([1.0, 3.0])}]}
    assert image_key(one, "svg", 10, 10, 1.0) != image_key(two, "svg", 10, 10, 1.0)


def test_cache_drops_the_least_recently_used_beyond_its_size() -> None:
    cache = ImageCache(max_bytes=10)
    cache.put("a", b"1234")
    cache.put("b", b"5678")
    assert cache.get("a") == b"1234"  # a is now the most recently used
    cache.put("c", b"90ab")
    assert cache.get("b") is None
    assert cache.get("a") == b"1234"
    assert cache.get("c") == b"90ab"
    cache.put("huge", b"x" * 11)
    assert cache.get("huge") is None
    assert len(cache) == 2


def _failed(exc: Exception) -> Future[bytes]:
    future: Future[bytes] = Future()
    future.set_exception(exc)
    return future


def _done(data: bytes) -> Future[bytes]:
    future: Future[bytes] = Future()
    future.set_result(data)
    return future


def test_a_chart_that_failed_fails_the_pdf(report: Report) -> None:
    """WeasyPrint only logs an image it cannot load and leaves it out: the PDF must raise the
    chart's error instead of being written without the chart."""
    frames = {"world_map": pdf_format.chart_frame("world_map", 820, 400)}
    html = pdf_format.report_html(report, frames)
    pending = {
        "world_map": pdf_format.PendingChart(_failed(ImageExportError("no browser")), 820, 400)
    }
    with pytest.raises(ImageExportError, match="no browser"):
        pdf_format.pdf_from_html(html, pending)


def test_a_chart_of_another_size_than_its_frame_is_refused(report: Report) -> None:
    frames = {"world_map": pdf_format.chart_frame("world_map", 820, 400)}
    html = pdf_format.report_html(report, frames)
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" width="820" height="500"/>'
    pending = {"world_map": pdf_format.PendingChart(_done(svg), 820, 400)}
    with pytest.raises(pdf_format.FrameMismatch):
        pdf_format.pdf_from_html(html, pending)


def test_prepare_starts_the_browser_only_for_formats_that_draw_images() -> None:
    from riskapp.reporting import images

    before = images._SHARED
    images._SHARED = None
    try:
        registry.prepare("xlsx")
        registry.prepare("html")
        assert images._SHARED is None
        need("chromium")
        registry.prepare("pdf")
        assert images._SHARED is not None
        assert images._SHARED.is_open
    finally:
        if images._SHARED is not None:
            images._SHARED.close()
        images._SHARED = before


def test_pdf_charts_are_drawn_in_the_order_of_the_pages(report: Report) -> None:
    """The browser draws one chart at a time: the PDF asks for them in the order its pages
    show them, so the first page with a chart waits for one chart only."""
    from riskapp.reporting.images import svg_data_uri
    from riskapp.reporting.svgprint import printable

    names = [c.key for c in pdf_format.charts_of(report)]
    assert set(names) == set(report.figures)
    svgs = {n: f'<svg xmlns="http://www.w3.org/2000/svg" id="{n}"/>'.encode() for n in names}
    html = pdf_format.report_html(report, svgs)
    positions = [html.index(svg_data_uri(printable(svgs[n]))) for n in names]  # as embedded
    assert positions == sorted(positions)


def test_after_a_failed_image_the_next_one_gets_a_fresh_browser(report: Report) -> None:
    """A failed image may mean a crashed browser: a long-lived session (the dashboard's) must
    not fail every later report, so the next request starts the browser afresh."""
    need("chromium")
    chart = deck_format.charts_of(report)[1]
    with ImageSession(cache=ImageCache(), store="off") as session:
        with pytest.raises(ImageExportError, match="could not be drawn"):
            session.render([chart], "gif")  # type: ignore[arg-type]  # not a format kaleido draws
        assert session.exports == 0
        browser = session._opening
        assert session.render([chart], "svg")[chart.key].lstrip().startswith(b"<svg")
        assert session.exports == 1
        assert session._opening is not browser  # started afresh


def test_close_when_drawn_shuts_the_browser_after_the_next_images(report: Report) -> None:
    """`riskapp report` draws one report and exits: the browser shuts down in the background
    once the report's images are drawn (not at exit), and a later image opens it again."""
    need("chromium")
    charts = deck_format.charts_of(report)[:2]
    with ImageSession(cache=ImageCache(), store="off") as session:
        session.close_when_drawn()
        assert session.is_open  # nothing drawn yet: still open
        images = session.render(charts, "png")
        assert set(images) == {c.key for c in charts}
        closing = session._closing
        assert closing is not None
        closing.join(timeout=30)
        assert not session.is_open
        assert session.exports == 2
        again = session.render(charts[:1], "svg")  # opened again
        assert again[charts[0].key].lstrip().startswith(b"<svg")
        assert session.is_open and session.exports == 3


def _browser(session: ImageSession) -> Any:
    """The session's kaleido browser (opened)."""
    session.open()
    assert session._opening is not None
    return session._opening.result()


def test_a_page_draws_many_images_before_it_is_reloaded(
    report: Report, monkeypatch: pytest.MonkeyPatch
) -> None:
    """kaleido reloads its page (plotly.js again) after every image, 0.25-0.5 s each: the
    session's browser reloads a page only every RELOAD_EVERY images."""
    need("chromium")
    from riskapp.reporting import images

    charts = pdf_format.charts_of(report)[:3]
    with ImageSession(cache=ImageCache(), store="off") as session:
        browser = _browser(session)
        assert isinstance(browser, images.kaleido_class())
        session.render(charts, "svg")
        assert session.exports == 3
        assert browser.reloads == 0
    monkeypatch.setattr(images, "RELOAD_EVERY", 2)
    with ImageSession(cache=ImageCache(), store="off") as session:
        browser = _browser(session)
        drawn = session.render(charts, "svg")
        assert all(svg.lstrip().startswith(b"<svg") for svg in drawn.values())
        assert browser.reloads == 1  # before the third image


def test_a_failed_image_is_drawn_again_on_a_reloaded_page(report: Report) -> None:
    """kaleido's page now and then loses its script ("kaleido_scopes is not defined"): the
    image is drawn once more on a reloaded page, and the browser is kept."""
    need("chromium")
    chart = deck_format.charts_of(report)[1]
    with ImageSession(cache=ImageCache(), store="off") as session:
        browser = _browser(session)

        async def break_page() -> None:
            tab = await browser.tabs_ready.get()
            try:
                await tab.tab.send_command(
                    "Runtime.evaluate",
                    params={
                        "expression": "delete window.kaleido_scopes",
                        "contextId": tab._current_js_id,
                    },
                )
            finally:
                await browser.tabs_ready.put(tab)

        assert session._runner is not None
        session._runner.submit(break_page()).result()
        opening = session._opening
        svg = session.render([chart], "svg")[chart.key]
        assert svg.lstrip().startswith(b"<svg")
        assert browser.reloads == 1  # the first try failed; the second had a fresh page
        assert session.exports == 1
        assert not session._failed
        session.render([deck_format.charts_of(report)[2]], "svg")
        assert session._opening is opening  # the same browser
        assert browser.reloads == 1
