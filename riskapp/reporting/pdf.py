"""The PDF report: the `Report` through a Jinja2 HTML/CSS template, laid out by WeasyPrint.

A4 with CSS paged media (templates/report.css): a title page, a table of contents with page
numbers, a running header (client, confidentiality label) and a "Page X of Y" footer, charts as
vector SVG drawn by kaleido (`images.py`) and made lighter for WeasyPrint (`svgprint.py`),
long tables cut to their first rows with "and K more". WeasyPrint runs as `weasy.py` sets it
up (heap frozen while it renders, SVG text drawn a run at a time). The template autoescapes
every value, so user text (client, asset and plan names, narratives) appears as text:
`<script>` is printed, never run or parsed; spreadsheet formulas mean nothing in a PDF and are
printed as they are.

    from riskapp.reporting import build_report, pdf
    pdf.render(build_report("demo"), Path("report.pdf"))
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from riskapp.reporting.images import Chart, ImageSession, merged, shared_session, svg_data_uri
from riskapp.reporting.logo import logo_data_uri
from riskapp.reporting.model import Report, markdown_parser
from riskapp.reporting.options import HEX_COLOUR
from riskapp.reporting.pdfprocess import (
    TEMPLATES,
    RendererLost,
    RendererProcess,
    take,
    write_pdf,
)
from riskapp.reporting.planflags import plans_flag_sentence
from riskapp.reporting.simulated import simulated_lead
from riskapp.reporting.svgprint import printable
from riskapp.reporting.tables import Table

if TYPE_CHECKING:
    import jinja2

DEFAULT_ACCENT = "#0072B2"
# chart widths in CSS px: content is 176 mm wide, charts take 88 %, so that 13 px plotly text
# prints at about 7.5 pt; wide charts take 100 % of the width at their own pixel width
CHART_WIDTH_PX = 760
WIDE_CHARTS = {"world_map": 820, "region_factor_heatmap": 860, "trigger_matrix": 860}
# the printed width of a chart (report.css: A4 less 17 mm margins; `figure.chart img` 88 %,
# `.wide` 100 %) and the smallest text a reader should meet on paper
CONTENT_MM = 210 - 2 * 17
CHART_SHARE, WIDE_SHARE = 0.88, 1.0
MIN_TEXT_PT = 7.0
# per-chart layout and trace settings for print: the heat maps' colour bar goes below the
# cells, so the cells are wide enough for print-sized amounts
PRINT_LAYOUT: dict[str, dict[str, Any]] = {"trigger_matrix": {"yaxis": {"title": {"text": ""}}}}
PRINT_TRACES: dict[str, dict[str, Any]] = {
    "region_factor_heatmap": {
        "colorbar": {"orientation": "h", "y": -0.04, "yanchor": "top", "thickness": 12}
    },
}
SLANTED_COLUMNS = {"region_factor_heatmap", "trigger_matrix"}  # column labels slanted
SLANTED_LABEL_CHARS = 30


def slanted_columns(figure: Any) -> dict[str, Any]:
    """Column labels on one slanted line each (cut at SLANTED_LABEL_CHARS): at print size the
    wrapped labels of a screen run into each other over narrow columns."""
    import html

    x = list(figure.to_dict()["data"][0].get("x") or [])
    text = [html.unescape(str(v).replace("<br>", " ")) for v in x]  # escaped for plotly
    cut = [t if len(t) <= SLANTED_LABEL_CHARS else t[: SLANTED_LABEL_CHARS - 1] + "…" for t in text]
    return {"xaxis": {"tickangle": -60, "tickvals": x, "ticktext": [html.escape(t) for t in cut]}}


def printed_mm_per_px(name: str) -> float:
    """Millimetres of paper one CSS pixel of the chart `name` takes in the PDF."""
    share = WIDE_SHARE if name in WIDE_CHARTS else CHART_SHARE
    return CONTENT_MM * share / WIDE_CHARTS.get(name, CHART_WIDTH_PX)


MAX_CHART_MM = 125  # half the page's text height: two charts, or a chart and a table, share a page


def print_height_px(name: str, height: int) -> int:
    """The chart's height for print: its own, at most MAX_CHART_MM on paper (taller charts
    would leave the page before them half empty)."""
    return min(height, int(MAX_CHART_MM / printed_mm_per_px(name)))


def min_font_px(name: str) -> float:
    """The font size (CSS px, whole) at which text of chart `name` prints at MIN_TEXT_PT."""
    import math

    return float(math.ceil(MIN_TEXT_PT * 25.4 / 72 / printed_mm_per_px(name)))


# rows shown per table before "and K more": the PDF is read, not searched
TABLE_ROWS = {
    "countries": 10,
    "regions": 14,
    "scenarios": 25,
    "clamps": 20,
    "factors": 20,
    "top_assets": 25,
    "plans": 25,
    "readiness_gaps": 15,
    "waterfall": 25,
    "return_periods": 12,
    "factor_tail": 15,
    "asset_tail": 10,
    "plan_bcr": 25,
    "inputs": 40,
    "checklist": 40,
}
# columns of each table that fit an A4 page (the Excel export has all of them); a key the
# model no longer has is skipped
TABLE_COLUMNS = {
    "countries": ("country_name", "exposed_value", "eal", "share_of_eal"),
    "regions": ("name", "eal", "share_of_eal", "worst_scenario_loss"),
    "scenarios": (
        "title",
        "frequency",
        "warning_time_days",
        "gross_loss",
        "residual_loss",
        "averted_loss",
        "contribution_to_eal",
    ),
    "factors": ("name", "eal", "share_of_eal", "worst_scenario_loss"),
    "clamps": (
        "scenario",
        "shock_text",
        "country_name",
        "factor",
        "before",
        "unclamped",
        "lost",
        "assets",
        "exposed_value",
    ),
    "top_assets": (
        "name",
        "type",
        "country_name",
        "owner",
        "exposed_value",
        "eal",
        "share_of_eal",
        "dominant_factor",
    ),
    "plans": (
        "number",
        "title",
        "status",
        "trigger",
        "lead_time_days",
        "cost_npv",
        "averted_eal",
        "averted_npv",
        "benefit_cost_ratio",
        "flags",
    ),
    "readiness_gaps": (
        "plan_title",
        "scenario_title",
        "lead_time_days",
        "warning_days",
        "gap_days",
        "gross_loss",
    ),
    "waterfall": ("label", "amount", "after_step"),
    "plan_bcr": (
        "name",
        "averted_mean",
        "bcr_deterministic",
        "bcr_p5",
        "bcr_p50",
        "bcr_p95",
        "prob_bcr_at_least_1",
    ),
    "inputs": ("setting", "value"),
}
# provenance rows printed as lists of their own in the appendix
LISTED_PROVENANCE = ("Baseline data sources", "Reference data")

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Cell:
    text: str
    css: str


@dataclass(frozen=True)
class TableView:
    """A table as the template prints it: formatted cells, how many rows were left out."""

    title: str
    headers: list[Cell]
    rows: list[list[Cell]]
    more: int
    more_text: str
    order: str
    note: str

    def __bool__(self) -> bool:
        return bool(self.rows)


@dataclass(frozen=True)
class ChartView:
    title: str
    caption: str
    uri: str
    wide: bool = False


def render(
    report: Report,
    path: Path,
    progress: Progress | None = None,
    *,
    images: ImageSession | None = None,
) -> None:
    """Write the PDF of `report` at `path` (the registry's entry point). Pass an open
    `images` session to share one browser with other formats."""
    path.write_bytes(render_bytes(report, progress=progress, images=images))


def render_bytes(
    report: Report,
    *,
    progress: Progress | None = None,
    images: ImageSession | None = None,
) -> bytes:
    """The PDF of `report`. The charts are drawn by the browser (`images`, else the process's
    shared session) while WeasyPrint lays the document out around frames of their exact size;
    each chart is put into its frame when its page is drawn (`pdf_from_html`). The document
    is laid out in the renderer process the command line started for it, if there is one
    (`pdfprocess.take`), else in this process."""
    say = progress or (lambda _text: None)
    charts = charts_of(report)
    pending: dict[str, PendingChart] = {}
    if charts:
        say(f"Drawing {len(charts)} charts while laying out the PDF")
        session = images if images is not None else shared_session()
        drawing = session.submit(charts, "svg")
        pending = {c.key: PendingChart(drawing[c.key], *c.size()) for c in charts}
    else:
        say("Laying out the PDF")
    frames = {name: chart_frame(name, p.width, p.height) for name, p in pending.items()}
    try:
        return pdf_from_html(report_html(report, frames), pending, take())
    except FrameMismatch:
        # a chart came back in another size than its frame: lay the pages out again around
        # the charts themselves (plotly's SVG takes the size it is asked for: a safety net)
        svgs = {name: p.drawing.result() for name, p in pending.items()}
        return pdf_from_html(report_html(report, svgs))


CHART_URL = "riskapp-chart:"  # + chart key: a chart the fetcher hands over when it is drawn


@dataclass(frozen=True)
class PendingChart:
    """A chart being drawn for the PDF, and the size (CSS px) its frame was laid out with."""

    drawing: Future[bytes]
    width: int
    height: int


class FrameMismatch(ValueError):
    """A chart's SVG is not the size of the frame the page was laid out with."""


def chart_frame(name: str, width: int, height: int) -> bytes:
    """An SVG of the chart's size that shows the chart `name` (an `<image>` WeasyPrint fetches
    when it draws the page, not when it lays it out): layout needs only the size."""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}">'
        f'<image x="0" y="0" width="{width}" height="{height}" '
        f'xlink:href="{chart_url(name)}"/></svg>'
    ).encode("ascii")


def chart_url(name: str) -> str:
    from urllib.parse import quote

    return CHART_URL + quote(name, safe="")


SVG_SIZE = re.compile(rb'<svg\b[^>]*?\swidth="([\d.]+)(?:px)?"[^>]*?\sheight="([\d.]+)(?:px)?"')


def svg_size(svg: bytes) -> tuple[float, float] | None:
    """The width and height (CSS px) an SVG's root element gives, or None."""
    size = SVG_SIZE.match(svg.lstrip()[:2000])
    return None if size is None else (float(size.group(1)), float(size.group(2)))


def _framed_chart(name: str, chart: PendingChart, failures: list[Exception]) -> bytes:
    """The chart `name` for its frame, once drawn; a failure is kept for the caller (WeasyPrint
    would only log it and leave the chart out)."""
    try:
        svg = chart.drawing.result()
        if svg_size(svg) != (chart.width, chart.height):
            raise FrameMismatch(f"chart {name!r} is not {chart.width} x {chart.height} px")
    except Exception as exc:
        failures.append(exc)
        raise
    return printable(svg)


def pdf_from_html(
    html: str,
    charts: Mapping[str, PendingChart] | None = None,
    renderer: RendererProcess | None = None,
) -> bytes:
    """Lay out and draw `html`. `charts` are the charts of the `chart_frame`s in it, by name,
    still being drawn: WeasyPrint lays the pages out meanwhile and waits for a chart only when
    it draws its page. Raises the first chart's error (ImageExportError) if one failed.
    `renderer`: a started renderer process lays it out instead of this process
    (`riskapp.reporting.pdfprocess`), with the same result; if it ended without answering
    (killed, or it could not import WeasyPrint), this process lays the document out after
    all."""
    from riskapp.reporting import weasy

    failures: list[Exception] = []
    served: dict[str, Callable[[], bytes]] = {
        chart_url(name): functools.partial(_framed_chart, name, chart, failures)
        for name, chart in (charts or {}).items()
    }
    if renderer is not None:
        try:
            data = renderer.render(html, served)
        except RendererLost:
            return pdf_from_html(html, charts)
    else:
        with weasy.frozen_heap():
            data = write_pdf(html, served)
    if failures:
        raise failures[0]
    return data


@cache
def page_order() -> dict[str, int]:
    """Where each chart comes in the document (read from the template's `chart("name")`
    calls): charts are drawn in this order, so the first pages to draw have theirs first."""
    text = (TEMPLATES / "report.html").read_text(encoding="utf-8")
    names = re.findall(r"""\bchart\(\s*["']([\w-]+)["']""", text)
    return {name: i for i, name in enumerate(dict.fromkeys(names))}


def charts_of(report: Report) -> list[Chart]:
    """Every figure of the report, sized for the page, in the order of the pages."""
    order = page_order()
    figures = sorted(report.figures.items(), key=lambda item: order.get(item[0], len(order)))
    return [
        Chart(
            name,
            f.figure,
            width_px=WIDE_CHARTS.get(name, CHART_WIDTH_PX),
            height_px=print_height_px(name, f.height),
            layout=merged(
                PRINT_LAYOUT.get(name, {}),
                slanted_columns(f.figure) if name in SLANTED_COLUMNS else {},
            ),
            traces=PRINT_TRACES.get(name, {}),
            min_font_px=min_font_px(name),
        )
        for name, f in figures
    ]


def report_html(report: Report, svgs: Mapping[str, bytes]) -> str:
    """The report as one HTML document for WeasyPrint; `svgs` are the chart images by
    figure name, as the browser drew them or their frames (a figure without an image is left
    out). Each is embedded made `printable`."""
    from markupsafe import Markup

    charts = {
        name: ChartView(
            f.title, f.caption, svg_data_uri(printable(svgs[name])), name in WIDE_CHARTS
        )
        for name, f in report.figures.items()
        if name in svgs
    }
    tables = {t.name: table_view(t, report) for t in report.tables}
    client = report.client or report.workspace_name
    context: dict[str, Any] = {
        "report": report,
        "client": client,
        "css": Markup((TEMPLATES / "report.css").read_text(encoding="utf-8")),
        "accent": accent(report.branding.accent_colour),
        "logo_uri": logo_data_uri(report.branding.logo),
        "charts": charts,
        "tables": tables,
        "sections": sections(report),
        "methodology_html": Markup(markdown_html(report.methodology)),
        "provenance": [r for r in report.provenance.rows() if r[0] not in LISTED_PROVENANCE],
        "labels": {
            "kicker": "Consultant report",
            "prepared_for": "Prepared for",
            "author": "Author",
            "date": "Date",
            "currency": "Money in",
            "provenance_lead": (
                "What this report was computed from. The input hash identifies the exact "
                "input files: the same hash means the same inputs and the same numbers."
            ),
        },
        **leads(report),
    }
    return str(_environment().get_template("report.html").render(context))


@cache
def _environment() -> jinja2.Environment:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,  # every value escaped, whatever the template file's name
        undefined=jinja2.StrictUndefined,
        trim_blocks=False,
        lstrip_blocks=False,
    )


def accent(colour: str) -> str:
    """The branding colour if it is #RRGGBB (it goes into CSS), else the default."""
    return colour if HEX_COLOUR.match(colour or "") else DEFAULT_ACCENT


def table_view(table: Table, report: Report, max_rows: int | None = None) -> TableView:
    """`table` cut to the columns and rows that fit the page, cells formatted by kind."""
    wanted = TABLE_COLUMNS.get(table.name)
    columns = table.columns
    if wanted:
        by_key = {c.key: c for c in table.columns}
        picked = tuple(by_key[k] for k in wanted if k in by_key)
        columns = picked or table.columns
    limit = max_rows or min(TABLE_ROWS.get(table.name, 25), report.options.max_table_rows)
    shown = dataclasses.replace(
        table, columns=columns, frame=table.frame.head(limit).reset_index(drop=True)
    )
    more = max(0, len(table.frame) - limit)
    css = ["text" if c.kind == "text" else "num" for c in columns]
    rows = [
        [Cell(text, cls) for text, cls in zip(row, css, strict=True)]
        for row in shown.formatted(report.fmt)
    ]
    return TableView(
        title=table.title,
        headers=[Cell(c.label, cls) for c, cls in zip(columns, css, strict=True)],
        rows=rows,
        more=more,
        more_text=report.fmt.number(more),
        order=table.order,
        note=table.note,
    )


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    sub: bool = False


def sections(report: Report) -> list[Section]:
    """The table of contents, in page order."""
    out = [
        Section("summary", "Executive summary"),
        Section("actions", "Three things to act on", sub=True),
        Section("definitions", "How the key figures are computed", sub=True),
        *([Section("changes", "Since the last refresh")] if report.changes else []),
        Section("portfolio", "Portfolio and map"),
        Section("scenarios", "Scenario results"),
        Section("simulated", "Simulated annual losses"),
        Section("heatmap", "Region x factor heat map"),
        Section("assets", "Top assets"),
        Section("plans", "Contingency plans"),
    ]
    if len(report.tables.plans):
        out += [
            Section("plan-bcr", report.tables.plan_bcr.title, sub=True),
            Section("gaps", "Readiness gaps", sub=True),
            Section("waterfall", "From gross to residual loss", sub=True),
        ]
    out.append(Section("checklist", "Reviewer checklist"))
    out.append(Section("methodology", "Appendix A: Methodology"))
    out.append(Section("sources", "Appendix B: Data sources and provenance"))
    return out


def leads(report: Report) -> dict[str, str]:
    """One opening sentence per chapter, stating its finding with the report's numbers."""
    fmt, tables = report.fmt, report.tables
    scen = tables.scenarios.frame
    worst_loss = report.money(float(scen["gross_loss"].iloc[0])) if len(scen) else "n/a"
    countries = tables.countries.frame
    top_country = (
        f"{countries['country_name'].iloc[0]} carries the most "
        f"({report.money(float(countries['eal'].iloc[0]))}, "
        f"{fmt.percent(float(countries['share_of_eal'].iloc[0]))} of it)"
        if len(countries) and "share_of_eal" in countries
        else ""
    )
    factors = tables.factors.frame
    top_factor = (
        f"{factors['name'].iloc[0]} drives the largest part "
        f"({fmt.percent(float(factors['share_of_eal'].iloc[0]))})"
        if len(factors) and "share_of_eal" in factors
        else ""
    )
    assets = tables.top_assets
    gaps = tables.readiness_gaps.frame
    plans = tables.plans.frame
    return {
        "summary_lead": (
            f"{report.workspace_name}: a portfolio of {fmt.number(tables.assets.total_rows)} "
            "assets worth "
            f"{report.figure_text('exposed_value')} stands to lose "
            f"{report.figure_text('expected_annual_loss')} a year on average "
            f"({report.basis_text}). One year in 100 the loss exceeds "
            f"{report.figure_text('var_99')}; the most damaging single scenario, "
            f"'{report.worst_scenario_title}', would cost {worst_loss}."
        ),
        "portfolio_lead": (
            "Expected annual loss by where the assets are. "
            + (f"{top_country}." if top_country else "")
        ),
        "scenarios_lead": (
            f"'{report.worst_scenario_title}' would cost {worst_loss}, the largest loss of the "
            f"{len(scen)} scenarios; the table gives each scenario's loss before and after the "
            "contingency plans."
        ),
        "heatmap_lead": (
            "Which factors cause the expected annual loss, and where. "
            + (f"{top_factor}." if top_factor else "")
        ),
        "assets_lead": (
            f"The {len(assets)} assets with the largest expected annual loss, of "
            f"{fmt.number(assets.total_rows)} in the register."
        ),
        "plans_flags": plans_flag_sentence(report),
        "simulated_lead": simulated_lead(report),
        "plans_lead": (
            f"{len(plans)} contingency plans, best benefit-cost ratio first; "
            f"{report.figure_text('plans_triggered')} fire in at least one scenario and "
            f"{len(gaps)} (plan, scenario) pairs are not ready within the warning time."
            if len(plans)
            else "The workspace has no contingency plans: every loss in this report is the "
            "loss with no plan in place."
        ),
    }


def markdown_html(text: str) -> str:
    """Markdown as HTML with raw HTML disabled: tags in the text are printed, never parsed."""
    return str(markdown_parser().render(text))
