"""The PDF report read back as a person would: text through pdftotext, pages through pdftoppm.

One PDF of the demo workspace is rendered per module (with every chart, through one browser),
with hostile user text planted in it: a client, an asset, a plan and a scenario whose names are
HTML or spreadsheet formulas. They must be printed as text. Content is compared with a golden
outline (tests/reporting/golden/pdf_outline.txt), never with bytes that carry timestamps; set
RISKAPP_UPDATE_GOLDEN=1 to rewrite it after a deliberate change.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import ClassVar

import pytest

from riskapp.reporting import Branding, ReportOptions, build_report
from riskapp.reporting import pdf as pdf_format
from riskapp.reporting.images import ImageSession
from riskapp.reporting.model import Report

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).resolve().parent / "golden"
NOW = datetime(2025, 11, 30, 9, 15, tzinfo=UTC)

CLIENT = "<script>alert('client')</script> & Söhne"
ASSET = '<script>alert("asset")</script> Gdańsk plant'
PLAN = '=HYPERLINK("http://evil.example","Crisis comms")'
SCENARIO = "Accidental NATO-Russia escalation <b>not bold</b>"

SECTION_HEADINGS = [
    "Contents",
    "Executive summary",
    "Three things to act on",
    "Portfolio and map",
    "Scenario results",
    "Region x factor heat map",
    "Top assets",
    "Contingency plans",
    "Readiness gaps",
    "Appendix A: Methodology",
    "Appendix B: Data sources and provenance",
]


def need(tool: str) -> None:
    """Skip without `tool` on a developer machine; fail in CI, which must install it."""
    if shutil.which(tool):
        return
    reason = f"{tool} not found (apt-get install -y chromium poppler-utils)"
    if os.environ.get("CI"):
        pytest.fail(f"the PDF cannot be checked in CI: {reason}")
    pytest.skip(reason)


def hostile_workspace(folder: Path) -> Path:
    """A copy of the demo whose largest asset, best plan and worst scenario carry names that
    are HTML or a spreadsheet formula."""
    shutil.copytree(ROOT / "demo", folder / "demo")
    shutil.copytree(ROOT / "scenarios", folder / "scenarios")
    assets = folder / "demo" / "assets.csv"
    text = assets.read_text(encoding="utf-8")
    quoted = '"' + ASSET.replace('"', '""') + '"'
    assets.write_text(text.replace("Gdańsk power-electronics plant", quoted), encoding="utf-8")
    plans = folder / "demo" / "plans.yaml"
    plans.write_text(
        plans.read_text(encoding="utf-8").replace(
            "title: Crisis communications and narrative monitoring", f"title: '{PLAN}'"
        ),
        encoding="utf-8",
    )
    scenario = folder / "scenarios" / "nato_russia_accidental_escalation.yaml"
    scenario.write_text(
        scenario.read_text(encoding="utf-8").replace(
            "title: Accidental NATO\u2013Russia military escalation", f"title: {SCENARIO}"
        ),
        encoding="utf-8",
    )
    return folder / "demo"


@dataclass(frozen=True)
class Rendered:
    report: Report
    html: str
    path: Path
    text: str  # pdftotext -layout, pages separated by form feeds
    raw: str  # pdftotext in reading order (blocks kept together)
    seconds: float
    svgs: dict[str, bytes]  # the chart images inside the PDF, by figure name

    @property
    def pages(self) -> list[str]:
        return self.text.split("\f")[:-1]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    need("chromium")
    need("pdftotext")
    folder = tmp_path_factory.mktemp("pdf")
    report = build_report(
        hostile_workspace(folder),
        ReportOptions(),
        Branding(client=CLIENT, author="A. Consultant", confidentiality="Strictly confidential"),
        now=NOW,
    )
    start = time.perf_counter()
    with ImageSession() as images:
        svgs = images.render(pdf_format.charts_of(report), "svg")
    html = pdf_format.report_html(report, svgs)
    path = folder / "report.pdf"
    path.write_bytes(pdf_format.pdf_from_html(html))
    seconds = time.perf_counter() - start
    return Rendered(
        report, html, path, pdftotext(path, "-layout"), pdftotext(path), seconds, dict(svgs)
    )


def pdftotext(path: Path, *options: str) -> str:
    return subprocess.run(
        ["pdftotext", *options, str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def squash(text: str) -> str:
    """`text` without white space and hyphens."""
    return re.sub(r"[\s\-]+", "", text)


def flat(text: str) -> str:
    """Text with runs of white space as one space (pdftotext breaks lines in tables)."""
    return re.sub(r"\s+", " ", text)


# -- read back -----------------------------------------------------------------------------
def test_page_count_is_that_of_a_report(rendered: Rendered) -> None:
    assert 10 <= len(rendered.pages) <= 30


def test_every_page_but_the_cover_is_numbered_page_x_of_y(rendered: Rendered) -> None:
    n = len(rendered.pages)
    assert "Page " not in rendered.pages[0]  # the cover carries no number
    for i, page in enumerate(rendered.pages[1:], start=2):
        assert f"Page {i} of {n}" in page


def test_running_header_names_client_and_confidentiality(rendered: Rendered) -> None:
    for page in rendered.pages[1:]:
        head = page.strip().splitlines()[0]
        assert CLIENT in head
        assert "STRICTLY CONFIDENTIAL" in head


def test_title_page_has_client_author_date_and_mark(rendered: Rendered) -> None:
    cover = rendered.pages[0]
    assert "Geopolitical risk assessment" in cover
    assert CLIENT in cover
    assert "A. Consultant" in cover
    assert "2025-11-30" in cover
    assert "STRICTLY CONFIDENTIAL" in cover


def test_every_section_heading_is_there(rendered: Rendered) -> None:
    text = flat(rendered.text)
    for heading in SECTION_HEADINGS:
        assert heading in text


def test_table_of_contents_points_at_the_right_pages(rendered: Rendered) -> None:
    toc = rendered.pages[1]
    entries = re.findall(r"^\s*(\S.*?)\s*\.{3,}\s*(\d+)\s*$", toc, re.M)
    titles = [t.rstrip(" .") for t, _ in entries]
    assert titles[:2] == ["Executive summary", "Three things to act on"]
    assert "Appendix B: Data sources and provenance" in titles
    for title, page in entries:
        assert title.rstrip(" .") in flat(rendered.pages[int(page) - 1]), title


def test_key_figures_and_actions_appear_as_the_model_formats_them(rendered: Rendered) -> None:
    text = flat(rendered.text)
    # pdftotext joins a word broken at a hyphen without it: compare without spaces and hyphens
    summary = squash(rendered.raw.split("\f")[2])
    defined = squash("\n".join(rendered.raw.split("\f")[2:4]))
    for k in rendered.report.key_figures:
        assert squash(k.text) in summary, k.label
        assert squash(k.label.upper()) in summary, k.label
        assert squash(k.note) in summary, k.label  # the card's note, e.g. the check or the band
        assert squash(k.definition) in defined, k.label  # its numbered definition
    assert squash(rendered.report.headline_note) in summary
    for a in rendered.report.actions:
        assert flat(a.title) in text


def test_worst_scenario_loss_is_stated(rendered: Rendered) -> None:
    worst = rendered.report.key_figure("worst_scenario_loss").text
    assert worst == "EUR 528.9m"  # 529.2m at the undated rates of Nov 2025; 543.3m before zones
    assert f"would cost {worst}" in flat(rendered.text)


def test_user_text_is_printed_literally(rendered: Rendered) -> None:
    text = flat(rendered.text)
    assert CLIENT in text
    assert ASSET in text
    assert PLAN in text
    assert SCENARIO in text
    # in the HTML behind the PDF it is escaped: no element was made from user text
    assert "<script>" not in rendered.html
    assert "&lt;script&gt;alert(&#39;client&#39;)&lt;/script&gt;" in rendered.html
    assert "<b>not bold</b>" not in rendered.html


def test_long_tables_are_cut_with_and_k_more(rendered: Rendered) -> None:
    countries = len(rendered.report.tables.countries)
    shown = pdf_format.TABLE_ROWS["countries"]
    assert countries > shown
    assert f"and {countries - shown} more" in flat(rendered.text)


def test_provenance_is_printed(rendered: Rendered) -> None:
    text = flat(rendered.text)
    prov = rendered.report.provenance
    assert prov.input_hash in text.replace(" ", "")
    assert prov.riskapp_version in text
    assert "2025-11-30 09:15:00" in text
    for source in prov.data_sources:
        assert source in text
    assert "Caldara" in text
    # the exchange rates' source and date (the demo's fx.csv: the ECB's of 2026-04-13)
    assert prov.exchange_rates == "ECB euro foreign exchange reference rates, 2026-04-13"
    assert prov.exchange_rates in text


def test_methodology_appendix_is_the_client_text(rendered: Rendered) -> None:
    """Plain words with worked examples (tests/test_methodology.py), not the developer notes."""
    from riskapp.methodology import client_section_titles

    text = flat(rendered.text)
    for title in client_section_titles():
        assert flat(title) in text, title
    assert (
        "EAL = 0.1 \N{MULTIPLICATION SIGN} 400 + 0.02 \N{MULTIPLICATION SIGN} 800 = 40 + 16 = 56"
        in text
    )
    for internal in ("SeedSequence", "Dask", "simulate_chunk", "COUPLING_KEY", "ACTION_RULE"):
        assert internal not in text, internal


def test_charts_are_vector_and_present(rendered: Rendered) -> None:
    """SVG charts keep their text (axis titles are searchable) and their shapes are vector:
    the only raster images are the cells of heat maps, which plotly draws as a picture."""
    text = flat(rendered.text)
    assert "Return period (years, log scale)" in text
    assert "Region group" in text
    listing = subprocess.run(
        ["pdfimages", "-list", str(rendered.path)], capture_output=True, text=True, check=True
    ).stdout
    image_pages = {int(line.split()[0]) for line in listing.strip().splitlines()[2:]}
    heat_maps = {
        i
        for i, page in enumerate(rendered.pages, start=1)
        if "Region x factor heat map" in page or "Which plans fire in which scenario" in page
    }
    assert image_pages <= heat_maps
    map_page = next(
        i
        for i, page in enumerate(rendered.pages, start=1)
        if "Where the expected annual loss is" in page
    )
    assert map_page not in image_pages


def css_printed_width_mm(css: str) -> tuple[float, float]:
    """The printed width (mm) of a chart and of a wide chart, read from report.css: the A4
    page less the side margins of `@page`, times the `figure.chart img` widths."""
    page = re.search(r"@page \{[^}]*?margin: ([\d.]+)mm ([\d.]+)mm ([\d.]+)mm ([\d.]+)mm", css)
    assert page is not None
    content = 210 - float(page.group(2)) - float(page.group(4))
    normal = re.search(r"figure\.chart img \{ width: ([\d.]+)%; \}", css)
    wide = re.search(r"figure\.chart\.wide img \{ width: ([\d.]+)%; \}", css)
    assert normal is not None and wide is not None
    return content * float(normal.group(1)) / 100, content * float(wide.group(1)) / 100


def embedded_charts(rendered: Rendered) -> dict[str, bytes]:
    """The chart images the PDF's HTML embeds (decoded from their data: URIs), by figure
    name: the charts come in the order of the pages."""
    import base64

    uris = re.findall(r'<img src="data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)"', rendered.html)
    order = pdf_format.page_order()
    names = sorted(rendered.svgs, key=lambda n: order.get(n, len(order)))
    assert len(uris) == len(names)
    return {name: base64.b64decode(uri) for name, uri in zip(names, uris, strict=True)}


def test_no_chart_text_prints_smaller_than_seven_points(rendered: Rendered) -> None:
    """Every font size inside every chart as the PDF embeds it, scaled to the chart's printed
    width, is at least 7 pt (the charts are drawn in CSS pixels and shrunk onto A4)."""
    css = (ROOT / "riskapp" / "reporting" / "templates" / "report.css").read_text()
    normal_mm, wide_mm = css_printed_width_mm(css)
    charts = {c.key: c for c in pdf_format.charts_of(rendered.report)}
    assert set(rendered.svgs) == set(charts)
    smallest = {}
    for name, svg in embedded_charts(rendered).items():
        # a style declaration as the browser writes it, or the attribute it becomes
        sizes = [float(x) for x in re.findall(rb'font-size(?:: ?|=")([\d.]+)px', svg)]
        assert sizes, name
        texts = len(re.findall(rb"<text\b", svg))
        assert len(re.findall(rb"<text\b[^>]*font-size", svg)) == texts, name
        mm = (wide_mm if name in pdf_format.WIDE_CHARTS else normal_mm) / charts[name].width_px
        smallest[name] = min(sizes) * mm / 25.4 * 72
    assert min(smallest.values()) >= 7.0 - 0.01, smallest


def test_printable_charts_draw_as_the_browsers_svg(rendered: Rendered, tmp_path: Path) -> None:
    """Each chart made `printable` (svgprint.py) draws in WeasyPrint as the browser's SVG
    draws: pixel for pixel, but for edge pixels of outlines whose coordinates were rounded."""
    import base64

    import numpy as np
    from PIL import Image
    from weasyprint import HTML

    from riskapp.reporting.svgprint import printable

    need("pdftoppm")

    def drawn(svg: bytes, name: str) -> np.ndarray:
        uri = "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")
        html = (
            "<style>@page { size: 900px 720px; margin: 0 } body { margin: 0 }</style>"
            f'<img src="{uri}" style="display: block">'
        )
        HTML(string=html).write_pdf(tmp_path / f"{name}.pdf")
        subprocess.run(
            ["pdftoppm", "-r", "100", "-png", "-singlefile", f"{name}.pdf", name],
            check=True,
            cwd=tmp_path,
        )
        return np.asarray(Image.open(tmp_path / f"{name}.png").convert("RGB"), dtype=int)

    for name, svg in rendered.svgs.items():
        light = printable(svg)
        assert len(light) < len(svg), name
        before, after = drawn(svg, f"{name}-browser"), drawn(light, f"{name}-printable")
        differs = np.abs(before - after).max(axis=2)
        assert differs.max() <= 96, name
        assert (differs > 16).mean() < 2e-4, (name, int((differs > 16).sum()))


def page_fill(pdf: Path, folder: Path) -> list[float]:
    """How far down each page's text area (inside the @page margins, below the running
    header) the content reaches, 0 to 1, read off the pages drawn at 20 dpi."""
    from PIL import Image

    subprocess.run(
        ["pdftoppm", "-r", "20", "-gray", "-png", str(pdf), str(folder / "p")], check=True
    )
    fills = []
    for path in sorted(folder.glob("p-*.png")):
        image = Image.open(path).convert("L")
        w, h = image.size
        top, bottom = round(h * 22 / 297), round(h * (297 - 20) / 297)
        left, right = round(w * 17 / 210), round(w * (210 - 17) / 210)
        px = image.load()
        assert px is not None
        last = top
        for y in range(top + round(h * 6 / 297), bottom):
            if any(px[x, y] < 200 for x in range(left, right)):
                last = y
        fills.append((last - top) / (bottom - top))
    return fills


def test_no_page_is_left_half_empty(rendered: Rendered, tmp_path: Path) -> None:
    """Chapters flow on from one another, charts are at most half a page tall and a chapter's
    heading stays with its first block: a page is short only where it must be (the cover, the
    contents, the page before an appendix, the last page)."""
    fills = page_fill(rendered.path, tmp_path)
    assert len(fills) == len(rendered.pages)
    appendix = {
        i
        for i, page in enumerate(rendered.pages)
        if i > 1 and re.search(r"^\s*Appendix [AB]:", page, re.MULTILINE)
    }
    assert len(appendix) == 2, appendix
    may_be_short = {0, 1, len(fills) - 1} | {i - 1 for i in appendix}
    short = {i + 1: round(f, 2) for i, f in enumerate(fills) if i not in may_be_short and f < 0.6}
    assert not short, f"pages less than 60 % full: {short}"


def test_a_chapter_heading_is_never_the_last_thing_on_a_page(rendered: Rendered) -> None:
    headings = [s.title for s in pdf_format.sections(rendered.report) if not s.sub]
    for number, page in enumerate(rendered.pages[2:], start=3):
        lines = [line.strip() for line in page.splitlines() if line.strip()]
        body = lines[1:-1]  # without the running header and footer
        tail = body[-3:]
        for title in headings:
            assert title not in tail, f"'{title}' ends page {number}: {tail}"


def test_first_page_renders_to_a_picture(rendered: Rendered, tmp_path: Path) -> None:
    need("pdftoppm")
    from PIL import Image

    subprocess.run(
        ["pdftoppm", "-png", "-r", "40", "-f", "1", "-l", "3", str(rendered.path), "page"],
        cwd=tmp_path,
        check=True,
    )
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) == 3
    with Image.open(pages[0]) as cover:
        width, height = cover.size
        assert abs(height / width - 297 / 210) < 0.02  # A4 portrait
        rgb = cover.convert("RGB")
        # the accent band down the left edge of the cover
        assert rgb.getpixel((5, height // 2)) == (0, 114, 178)


def test_outline_matches_golden() -> None:
    """Headings, chart titles and table headers of the demo report in reading order (charts
    stand in as empty images: the outline needs no browser)."""
    report = build_report(ROOT / "demo", ReportOptions(), Branding(client="Golden"), now=NOW)
    blank = {name: b'<svg xmlns="http://www.w3.org/2000/svg"/>' for name in report.figures}
    outline = "\n".join(outline_of(pdf_format.report_html(report, blank))) + "\n"
    golden = GOLDEN / "pdf_outline.txt"
    if os.environ.get("RISKAPP_UPDATE_GOLDEN"):
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(outline, encoding="utf-8")
    assert outline == golden.read_text(encoding="utf-8")


class _Outline(HTMLParser):
    TAGS: ClassVar[dict[str, str]] = {"h1": "#", "h2": "##", "h3": "###", "th": "|"}

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []
        self._tag: str | None = None
        self._text = ""
        self._chart = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = dict(attrs).get("class") or ""
        if tag in self.TAGS or (tag == "p" and "chart-title" in classes):
            self._tag, self._text = tag, ""
            self._chart = tag == "p"
        if tag == "nav":
            self.lines.append("[contents]")

    def handle_data(self, data: str) -> None:
        if self._tag:
            self._text += data

    def handle_endtag(self, tag: str) -> None:
        if self._tag == tag:
            mark = "chart:" if self._chart else self.TAGS[tag]
            self.lines.append(f"{mark} {' '.join(self._text.split())}")
            self._tag = None


def outline_of(html: str) -> list[str]:
    parser = _Outline()
    parser.feed(html)
    # consecutive table headers on one line
    out: list[str] = []
    for line in parser.lines:
        if line.startswith("| ") and out and out[-1].startswith("| "):
            out[-1] += " " + line
        else:
            out.append(line)
    return out


# -- formats and branding, without charts (no browser) -------------------------------------
@pytest.fixture(scope="module")
def german_pdf_text(tmp_path_factory: pytest.TempPathFactory) -> str:
    need("pdftotext")
    folder = tmp_path_factory.mktemp("pdf_de")
    logo = folder / "logo.png"
    from PIL import Image

    Image.new("RGB", (120, 40), (200, 30, 30)).save(logo)
    report = build_report(
        ROOT / "demo",
        ReportOptions(include_figures=False),
        Branding(client="Kunde AG", locale="de", logo=logo, accent_colour="#C81E1E"),
        now=NOW,
    )
    path = folder / "report.pdf"
    pdf_format.render(report, path)
    listing = subprocess.run(
        ["pdfimages", "-list", str(path)], capture_output=True, text=True, check=True
    ).stdout
    assert len(listing.strip().splitlines()) == 3  # one raster image: the logo
    return pdftotext(path, "-layout")


def test_german_number_formats(german_pdf_text: str) -> None:
    text = flat(german_pdf_text)
    assert "528,9 Mio. EUR" in text
    assert "5,68 Mrd. EUR" in text
    assert "30.11.2025" in text
    assert "Kunde AG" in text


def test_without_figures_no_chart_is_drawn(german_pdf_text: str) -> None:
    assert "Return period (years, log scale)" not in flat(german_pdf_text)


def test_accent_colour_only_passes_as_hex() -> None:
    assert pdf_format.accent("#C81E1E") == "#C81E1E"
    assert pdf_format.accent("red;} body {display:none") == pdf_format.DEFAULT_ACCENT


def test_table_view_cuts_rows_and_counts_the_rest() -> None:
    report = build_report(ROOT / "demo", ReportOptions(include_figures=False), now=NOW)
    view = pdf_format.table_view(report.tables.assets, report, max_rows=5)
    assert len(view.rows) == 5
    assert view.more == len(report.tables.assets) - 5
    assert [h.text for h in view.headers] == [
        c.label for c in report.tables.assets.columns
    ]  # no PDF column choice for the full register: every column
    money = [c.css for c in view.headers]
    assert "num" in money
    assert "text" in money


def test_table_view_skips_columns_the_model_does_not_have() -> None:
    report = build_report(ROOT / "demo", ReportOptions(include_figures=False), now=NOW)
    view = pdf_format.table_view(report.tables.top_assets, report)
    labels = [h.text for h in view.headers]
    assert "Asset" in labels
    assert "Asset id" not in labels  # not one of the PDF's columns


def test_a_workspace_without_plans_says_so(tmp_path: Path) -> None:
    need("pdftotext")
    shutil.copytree(ROOT / "demo", tmp_path / "demo")
    shutil.copytree(ROOT / "scenarios", tmp_path / "scenarios")
    (tmp_path / "demo" / "plans.yaml").write_text("plans: []\n", encoding="utf-8")
    report = build_report(tmp_path / "demo", ReportOptions(include_figures=False), now=NOW)
    path = tmp_path / "report.pdf"
    pdf_format.render(report, path)
    text = flat(pdftotext(path, "-layout"))
    assert "The workspace has no contingency plans" in text
    assert "Readiness gaps" not in text
    assert "Appendix B: Data sources and provenance" in text


def test_methodology_tables_are_tables_not_pipes(rendered: Rendered) -> None:
    """The methodology's Markdown tables (shock operations, aggregation rules) are laid out as
    tables in the PDF, not printed as rows of '|'."""
    assert "|---|" not in rendered.text and "| operation |" not in rendered.text
    assert "<table>" in rendered.html.split("Appendix A")[-1]
    assert "toward max" in rendered.text
