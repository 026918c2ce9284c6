"""Chart images kept on disk (`riskapp.reporting.chartcache.ChartStore`) under the data
directory: a report of the same inputs reads them and starts no browser, a changed figure is
drawn again, a damaged file is drawn again, the size bound evicts the images used longest
ago, two processes writing at once leave whole files, and `riskapp report` run twice writes the
same documents, the second time without a browser.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from riskapp.reporting import ReportOptions, build_report
from riskapp.reporting import deck as deck_format
from riskapp.reporting import pdf as pdf_format
from riskapp.reporting.chartcache import MAGIC, ChartStore, ImageCache, image_key
from riskapp.reporting.images import Chart, ImageSession, svg_data_uri
from riskapp.reporting.model import Report
from riskapp.reporting.svgprint import printable

from .test_image_cache import need

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2025, 11, 30, 9, 15, tzinfo=UTC)


def key(n: int) -> str:
    return hashlib.sha256(str(n).encode()).hexdigest()


@pytest.fixture(scope="module")
def report() -> Report:
    return build_report(ROOT / "demo", ReportOptions(), now=NOW)


# -- the store on its own ---------------------------------------------------------------------
def test_stored_images_read_back_and_a_damaged_file_reads_as_missing(tmp_path: Path) -> None:
    store = ChartStore(tmp_path / "charts", 10_000)
    store.put(key(1), b"<svg>one</svg>")
    assert store.get(key(1)) == b"<svg>one</svg>"
    path = store.path(key(1))
    assert path.read_bytes().startswith(MAGIC)
    path.write_bytes(path.read_bytes()[:-3])  # truncated
    assert store.get(key(1)) is None
    assert not path.exists() and store.damaged == 1  # deleted: drawn and stored again
    path.write_bytes(b"anything else")
    assert store.get(key(1)) is None and store.damaged == 2
    with pytest.raises(ValueError, match="not an image key"):
        store.get("../../etc/passwd")


def test_the_images_used_longest_ago_are_evicted_past_the_bound(tmp_path: Path) -> None:
    store = ChartStore(tmp_path, 10_000)
    for n in range(5):
        store.put(key(n), bytes(1000))
        os.utime(store.path(key(n)), (1_000_000 + n, 1_000_000 + n))  # written in order
    store.get(key(0))  # used now: the most recent
    small = ChartStore(tmp_path, 3 * 1100)  # three files with their headers
    assert small.evict() == 2
    assert {n for n in range(5) if small.has(key(n))} == {0, 3, 4}
    small.put(key(5), bytes(1000))  # a put evicts too
    assert {n for n in range(6) if small.has(key(n))} == {0, 4, 5}
    assert not list(tmp_path.glob(".tmp-*"))


WRITER = """
import sys
from pathlib import Path
from riskapp.reporting.chartcache import ChartStore
store = ChartStore(Path(sys.argv[1]), 10**9)
data = bytes([int(sys.argv[3])]) * 200_000
for _ in range(int(sys.argv[4])):
    store.put(sys.argv[2], data)
"""


def test_two_processes_writing_one_image_leave_a_whole_file(tmp_path: Path) -> None:
    """Each reader sees one writer's whole image or none, never a mix or a part."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(tmp_path), key(7), str(b), "150"], env=env
        )
        for b in (1, 2)
    ]
    store = ChartStore(tmp_path, 10**9)
    seen = set()
    while any(w.poll() is None for w in writers):
        data = store.get(key(7))
        if data is not None:
            seen.add(data[:1] * len(data) == data and len(data) == 200_000)
    assert [w.wait() for w in writers] == [0, 0]
    assert seen == {True} and store.damaged == 0 and store.reads > 0
    assert [p.name for p in tmp_path.iterdir()] == [f"{key(7)}.img"]


def test_the_store_is_under_the_data_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("RISKAPP_DATA_DIR", str(tmp_path / "data"))
    store = ChartStore.from_settings()
    assert store is not None and store.folder == tmp_path / "data" / "cache" / "charts"
    assert store.max_bytes == 200 * 1024 * 1024
    monkeypatch.setenv("RISKAPP_CHART_CACHE_MB", "0")
    assert ChartStore.from_settings() is None


def test_a_changed_figure_gets_another_key(report: Report) -> None:
    chart = deck_format.charts_of(report)[1]
    spec = chart.spec()
    first = image_key(spec, "png", 1000, 500, 2.0)
    assert image_key(chart.spec(), "png", 1000, 500, 2.0) == first  # the same content again
    figure = report.figures["exceedance"].figure
    changed = Chart(chart.key, figure, chart.width_px, layout={"title": {"text": "Other"}})
    assert image_key(changed.spec(), "png", 1000, 500, 2.0) != first
    data = [dict(t) for t in spec["data"]]
    data[0]["y"] = list(data[0]["y"])[:-1]  # one point less in one trace
    assert image_key({**spec, "data": data}, "png", 1000, 500, 2.0) != first


# -- sessions sharing the store -----------------------------------------------------------------
def test_a_second_session_reads_the_stored_images_and_starts_no_browser(
    report: Report, tmp_path: Path
) -> None:
    """The PDF and the deck of one assessment: drawn once into the store; a new process (a
    session with an empty memory) reads all of them and starts no browser; a damaged file is
    drawn again, and so is a changed figure."""
    need("chromium")
    store = ChartStore(tmp_path / "charts", 10**9)
    pdf_charts, deck_charts = pdf_format.charts_of(report), deck_format.charts_of(report)
    with ImageSession(cache=ImageCache(), store=store) as first:
        svgs = first.render(pdf_charts, "svg")
        pngs = first.render(deck_charts, "png", deck_format.IMAGE_SCALE)
        assert first.exports == 8 + 4 and store.writes == 12 and first.stored == 0
    assert len(list(store.folder.glob("*.img"))) == 12

    second = ImageSession(cache=ImageCache(), store=store)
    try:
        assert second.render(pdf_charts, "svg") == svgs
        assert second.render(deck_charts, "png", deck_format.IMAGE_SCALE) == pngs
        assert (second.exports, second.stored, second.launches) == (0, 12, 0)
        assert not second.is_open
    finally:
        second.close()

    damaged = store.path(second.asked[0])
    damaged.write_bytes(damaged.read_bytes()[:500])
    changed = Chart("other", deck_charts[1].figure, 700)
    with ImageSession(cache=ImageCache(), store=store) as third:
        again = third.render(pdf_charts, "svg")
        third.render([changed], "png")
        assert (third.exports, third.stored, third.launches) == (2, 7, 1)
    redrawn = pdf_charts[0].key  # the same chart but plotly's random element ids
    assert {k: v for k, v in again.items() if k != redrawn} == {
        k: v for k, v in svgs.items() if k != redrawn
    }
    assert (
        again[redrawn].startswith(b"<svg") and abs(len(again[redrawn]) - len(svgs[redrawn])) < 100
    )
    assert store.get(second.asked[0]) == again[redrawn]  # stored whole again


def test_the_pdf_asks_for_the_charts_it_prints_only(report: Report) -> None:
    """Every chart the PDF has drawn is in its pages (the deck's 4 pictures: the CLI test)."""
    charts = pdf_format.charts_of(report)
    svgs = {c.key: f'<svg id="{c.key}"/>'.encode() for c in charts}
    html = pdf_format.report_html(report, svgs)
    assert len(charts) == 8
    assert all(svg_data_uri(printable(svg)) in html for svg in svgs.values())


# -- the command line, twice --------------------------------------------------------------------
def _report(tmp: Path, out: Path) -> str:
    env = {**os.environ, "RISKAPP_DATA_DIR": str(tmp / "data"), "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "riskapp.cli", "report", "demo", "--out", str(out)]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def _pdf_text(path: Path) -> str:
    text = subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    return re.sub(r"\d\d:\d\d(:\d\d)?", "hh:mm", text)  # the time it was generated


def _pictures(path: Path) -> list[bytes]:
    from pptx import Presentation

    return [
        shape.image.blob
        for slide in Presentation(str(path)).slides
        for shape in slide.shapes
        if shape.shape_type == 13  # MSO_SHAPE_TYPE.PICTURE
    ]


def test_riskapp_report_twice_starts_no_browser_the_second_time(tmp_path: Path) -> None:
    need("chromium")
    need("pdftotext")
    said = _report(tmp_path, tmp_path / "one.pdf")
    assert "charts: 8 drawn" in said
    store = tmp_path / "data" / "cache" / "charts"
    written = {p: p.stat().st_mtime_ns for p in store.glob("*.img")}
    assert len(written) == 8
    time.sleep(0.05)
    said = _report(tmp_path, tmp_path / "two.pdf")
    assert "charts: 8 from the cache, no browser started" in said
    assert {p: p.stat().st_mtime_ns for p in store.glob("*.img")}.keys() == written.keys()
    assert _pdf_text(tmp_path / "one.pdf") == _pdf_text(tmp_path / "two.pdf")
    assert "Return period" in _pdf_text(tmp_path / "two.pdf")  # a chart's text

    # the deck's pictures are other images (PNG at slide size): drawn once, then read
    assert "charts: 4 drawn" in _report(tmp_path, tmp_path / "one.pptx")
    said = _report(tmp_path, tmp_path / "two.pptx")
    assert "charts: 4 from the cache, no browser started" in said
    pictures = _pictures(tmp_path / "two.pptx")
    assert len(pictures) == 4 and pictures == _pictures(tmp_path / "one.pptx")
    assert len(list(store.glob("*.img"))) == 12
    # nothing of the cache anywhere but the data directory
    assert not [p for p in tmp_path.rglob("*.img") if store not in p.parents]


def test_the_command_key_follows_the_inputs_not_the_file_written(tmp_path: Path) -> None:
    """`riskapp report` starts no browser when its command ran before on the same inputs with
    every image still kept: the key of the command ignores where it writes and changes with any
    file of the workspace."""
    import shutil

    from riskapp.cli.report import command_key

    ws = tmp_path / "ws"
    shutil.copytree(ROOT / "demo", ws)
    first = command_key("pdf", [str(ws), "--out", "a.pdf"])
    assert first is not None
    assert command_key("pdf", [str(ws), "-o", "b.pdf"]) == first
    assert command_key("pdf", [str(ws), "--out=c.pdf"]) == first
    assert command_key("pptx", [str(ws), "--out", "a.pptx"]) != first
    assert command_key("pdf", [str(ws), "--locale", "de", "--out", "a.pdf"]) != first
    scenario = next(ws.rglob("*.yaml"))
    scenario.write_text(scenario.read_text() + "\n")
    assert command_key("pdf", [str(ws), "--out", "a.pdf"]) != first


def test_keys_follow_array_values_not_their_objects() -> None:
    """Arrays of Python objects (plotly's customdata, hover texts) are keyed by their values:
    their bytes are pointers. A value of a type the key does not know matches nothing."""
    import numpy as np
    import pandas as pd

    def spec(x: object) -> dict[str, object]:
        return {"data": [{"type": "bar", "x": x, "y": np.array([1.0, 2.0])}]}

    def texts(*words: str) -> np.ndarray:
        return np.array(["".join(w) for w in words], dtype=object)  # new str objects

    same = image_key(spec(texts("a", "b")), "svg", 10, 10, 1.0)
    assert image_key(spec(texts("a", "b")), "svg", 10, 10, 1.0) == same
    assert image_key(spec(texts("a", "c")), "svg", 10, 10, 1.0) != same
    assert image_key(spec(pd.Series(["a", "b"], dtype=object)), "svg", 10, 10, 1.0) == same

    class Odd:
        def __repr__(self) -> str:
            return "Odd"

    assert image_key(spec(Odd()), "svg", 10, 10, 1.0) != image_key(spec(Odd()), "svg", 10, 10, 1.0)
