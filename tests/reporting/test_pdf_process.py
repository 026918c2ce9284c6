"""The PDF laid out in a renderer process of its own (`riskapp.reporting.pdfprocess`): the same
pages as laid out in the command's process, charts taken as they arrive (one still being drawn
is waited for), a chart that failed or has another size fails the PDF as in one process, a
renderer that stopped says so, one that gets no document exits, and the command line starts
one only when the report's chart images are kept (no browser to share the second core with).
"""

from __future__ import annotations

import subprocess
import threading
from concurrent.futures import Future
from datetime import UTC, datetime
from pathlib import Path

import pytest

from riskapp.reporting import ReportOptions, build_report, pdfprocess, registry
from riskapp.reporting import pdf as pdf_format
from riskapp.reporting.chartcache import ChartStore
from riskapp.reporting.images import ImageExportError, ImageSession, svg_data_uri
from riskapp.reporting.model import Report
from riskapp.reporting.pdfprocess import RendererLost, RendererProcess, RendererStopped

from .test_image_cache import _done, _failed, assert_same_pages, need

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2025, 11, 30, 9, 15, tzinfo=UTC)
CHART = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="300" height="120">'
    b'<text x="10" y="60" font-size="20">Drawn late</text></svg>'
)


def one_chart_page() -> str:
    """A page with one chart frame (300 x 120 px) between two paragraphs."""
    frame = svg_data_uri(pdf_format.chart_frame("c", 300, 120))
    return f"<html><body><p>Before the chart</p><img src='{frame}'><p>After it</p></body></html>"


def text_of(data: bytes, tmp_path: Path) -> str:
    need("pdftotext")
    path = tmp_path / "out.pdf"
    path.write_bytes(data)
    return subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def test_a_chart_drawn_while_the_page_is_laid_out_is_waited_for(tmp_path: Path) -> None:
    late: Future[bytes] = Future()
    timer = threading.Timer(1.0, late.set_result, [CHART])
    timer.start()
    try:
        data = pdf_format.pdf_from_html(
            one_chart_page(), {"c": pdf_format.PendingChart(late, 300, 120)}, RendererProcess()
        )
    finally:
        timer.cancel()
    text = text_of(data, tmp_path)
    assert "Before the chart" in text and "Drawn late" in text and "After it" in text


def test_a_chart_that_failed_fails_the_pdf_laid_out_elsewhere() -> None:
    pending = {"c": pdf_format.PendingChart(_failed(ImageExportError("no browser")), 300, 120)}
    with pytest.raises(ImageExportError, match="no browser"):
        pdf_format.pdf_from_html(one_chart_page(), pending, RendererProcess())


def test_a_chart_of_another_size_than_its_frame_is_refused_there_too() -> None:
    pending = {"c": pdf_format.PendingChart(_done(CHART), 300, 200)}
    with pytest.raises(pdf_format.FrameMismatch):
        pdf_format.pdf_from_html(one_chart_page(), pending, RendererProcess())


def test_a_renderer_that_stopped_says_so_and_the_pdf_is_laid_out_here(tmp_path: Path) -> None:
    renderer = RendererProcess()
    renderer._process.kill()
    renderer._process.wait()
    with pytest.raises(RendererLost, match="ended without a PDF"):
        renderer.render(one_chart_page(), {})
    gone = RendererProcess()
    gone._process.kill()
    gone._process.wait()
    pending = {"c": pdf_format.PendingChart(_done(CHART), 300, 120)}
    assert "Drawn late" in text_of(
        pdf_format.pdf_from_html(one_chart_page(), pending, gone), tmp_path
    )


def test_a_renderer_lays_out_one_document_and_one_without_a_document_exits(
    tmp_path: Path,
) -> None:
    renderer = RendererProcess()
    assert "After it" in text_of(renderer.render(one_chart_page(), {}), tmp_path)
    with pytest.raises(RendererStopped, match="one document only"):
        renderer.render(one_chart_page(), {})
    idle = RendererProcess()
    idle.close()  # its command never sent a document: it reads the end of its input and exits
    assert idle._process.returncode == 0


def test_the_renderer_runs_this_riskapp_whatever_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A `riskapp` folder in the current folder (another checkout) is not the one the
    renderer imports: it runs the riskapp of the command that started it."""
    other = tmp_path / "riskapp"
    other.mkdir()
    (other / "__init__.py").write_text("raise ImportError('the wrong riskapp')\n")
    monkeypatch.chdir(tmp_path)
    assert "After it" in text_of(RendererProcess().render(one_chart_page(), {}), tmp_path)


@pytest.fixture(scope="module")
def report() -> Report:
    return build_report(ROOT / "demo", ReportOptions(), now=NOW)


def test_the_report_laid_out_elsewhere_is_the_same_page_for_page(
    report: Report, tmp_path: Path
) -> None:
    """The demo report with its charts, laid out in this process and in a renderer process:
    every page the same, pixel for pixel (text, charts, page breaks)."""
    need("chromium")
    with ImageSession(store="off") as session:
        svgs = session.render(pdf_format.charts_of(report), "svg")
    pending = {
        name: pdf_format.PendingChart(_done(svg), *map(int, pdf_format.svg_size(svg) or (0, 0)))
        for name, svg in svgs.items()
    }
    html = pdf_format.report_html(
        report, {n: pdf_format.chart_frame(n, p.width, p.height) for n, p in pending.items()}
    )
    there = pdf_format.pdf_from_html(html, pending, RendererProcess())
    assert_same_pages(there, pdf_format.pdf_from_html(html, pending), tmp_path)
    assert "Return period" in text_of(there, tmp_path)


def test_the_command_line_starts_a_renderer_only_with_the_images_kept(
    report: Report, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`registry.prepare` for a process writing one PDF: with every chart image of its command
    kept, the renderer process starts and the PDF is laid out there (`take` hands it over
    once); a format without a renderer of its own starts none."""
    from riskapp.reporting import images

    monkeypatch.setenv("RISKAPP_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr(images, "_SHARED", None)  # this test's own shared session
    store = ChartStore.from_settings()
    assert store is not None
    key = "0" * 64
    store.put(key, CHART)
    store.remember_run("1" * 64, [key])
    assert pdfprocess.take() is None
    registry.prepare("xlsx", only_report=True)
    assert pdfprocess.take() is None
    registry.prepare("pdf", only_report=True, run="1" * 64)
    started = pdfprocess._STARTED[0]
    page = pdf_format.pdf_from_html(one_chart_page(), {}, pdfprocess.take())
    assert started.used and pdfprocess.take() is None
    assert "After it" in text_of(page, tmp_path)
