"""The PowerPoint deck: the report's story, one message per slide (python-pptx).

Each slide's title states its finding in the report's numbers ("Accidental NATO-Russia
escalation would cost EUR 543.3m"); the speaker notes hold the definitions of the figures on it.
Bar charts are native PowerPoint charts (editable, data in the embedded workbook); the world
map, heat maps and the exceedance curve are PNG images drawn by kaleido in one browser
session (`images.py`). Tables are native tables cut to what fits, with "and K more".

User text is written as text: PowerPoint has no markup to inject, and chart categories go into
the embedded workbook as strings, never as formulas (`=HYPERLINK(...)` stays a label).

    from riskapp.reporting import build_report, pptx
    pptx.render(build_report("demo"), Path("deck.pptx"))
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pptx import Presentation
from pptx.chart.data import CategoryChartData
from pptx.chart.xlsx import CategoryWorkbookWriter
from pptx.dml.color import RGBColor
from pptx.enum.chart import XL_CHART_TYPE, XL_LABEL_POSITION, XL_LEGEND_POSITION
from pptx.enum.shapes import MSO_SHAPE
from pptx.enum.text import MSO_ANCHOR, PP_ALIGN
from pptx.util import Emu, Inches, Pt
from xlsxwriter import Workbook

from riskapp.reporting.images import Chart, ImageSession, png_size
from riskapp.reporting.model import Report
from riskapp.reporting.options import HEX_COLOUR
from riskapp.reporting.tables import Table

if TYPE_CHECKING:
    from pathlib import Path

# python-pptx is only partly annotated (and some annotations are wrong: add_chart returns a
# graphic frame, not a Chart), so its objects are handled as Any here
Slide = Any
TextFrame = Any
PresentationType = Any
_hex: Any = RGBColor.from_string

Progress = Callable[[str], None]

# 16:9 slide; every shape this module places lies inside it (tests check)
SLIDE_W = Inches(13.333)
SLIDE_H = Inches(7.5)
MARGIN = Inches(0.5)
CONTENT_TOP = Inches(1.65)
CONTENT_BOTTOM = Inches(6.85)
CONTENT_W = SLIDE_W - 2 * MARGIN
CONTENT_H = CONTENT_BOTTOM - CONTENT_TOP
FONT = "Calibri"
INK = _hex("1F2328")
MUTED = _hex("5B6470")
BAND = _hex("F4F6F8")
GREY = _hex("8C8C8C")
ORANGE = _hex("D55E00")
DEFAULT_ACCENT = "#0072B2"
# images: drawn at this CSS width, twice the pixels (sharp when projected)
IMAGE_WIDTH_PX = {"world_map": 1100, "region_factor_heatmap": 1200, "trigger_matrix": 1100}
IMAGE_SCALE = 2.0
IMAGE_FIGURES = ("world_map", "exceedance", "region_factor_heatmap", "trigger_matrix")
TABLE_ROWS = 10  # rows of a table slide before "and K more"
CATEGORY_CHARS = 48  # chart category labels are shortened beyond this


def render(
    report: Report,
    path: Path,
    progress: Progress | None = None,
    *,
    images: ImageSession | None = None,
) -> None:
    """Write the deck of `report` at `path` (the registry's entry point). Pass an open
    `images` session to share one browser with other formats."""
    path.write_bytes(render_bytes(report, progress=progress, images=images))


def render_bytes(
    report: Report,
    *,
    progress: Progress | None = None,
    images: ImageSession | None = None,
) -> bytes:
    say = progress or (lambda _text: None)
    charts = charts_of(report)
    pngs: dict[str, bytes] = {}
    if charts:
        say(f"Drawing {len(charts)} chart images")
        if images is not None:
            pngs = images.render(charts, "png", IMAGE_SCALE)
        else:
            with ImageSession() as session:
                pngs = session.render(charts, "png", IMAGE_SCALE)
    say("Building the slides")
    buffer = io.BytesIO()
    build_deck(report, pngs).save(buffer)
    return buffer.getvalue()


def charts_of(report: Report) -> list[Chart]:
    """The figures the deck shows as pictures (the others are native charts)."""
    return [
        Chart(name, report.figures[name].figure, IMAGE_WIDTH_PX.get(name, 1000))
        for name in IMAGE_FIGURES
        if name in report.figures
    ]


# -- text fitting ----------------------------------------------------------------------------
def text_lines(text: str, width_emu: int, size_pt: float, bold: bool = False) -> int:
    """Lines `text` takes in a box `width_emu` wide at `size_pt`: an average glyph is about
    half the font size wide (a little more in bold; Calibri is narrower than that, so the
    estimate errs on the safe side); words are not split."""
    chars = max(1, int(width_emu / Pt(size_pt * (0.58 if bold else 0.52))))
    lines = 0
    for paragraph in text.split("\n") or [""]:
        line = 0
        count = 1
        for word in paragraph.split():
            need = len(word) if line == 0 else line + 1 + len(word)
            if need > chars and line > 0:
                count += 1
                line = len(word)
            else:
                line = need
            count += max(0, (line - 1) // chars) if len(word) > chars else 0
        lines += count
    return lines


def text_height(
    text: str, width_emu: int, size_pt: float, spacing: float = 1.2, bold: bool = False
) -> int:
    return int(text_lines(text, width_emu, size_pt, bold) * Pt(size_pt * spacing))


def fit_size(
    text: str, width_emu: int, height_emu: int, largest: int, smallest: int, bold: bool = False
) -> int:
    """The largest font size (pt) from `largest` down to `smallest` at which `text` fits."""
    for size in range(largest, smallest - 1, -1):
        if text_height(text, width_emu, size, bold=bold) <= height_emu:
            return size
    return smallest


def clip(text: str, limit: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# -- building blocks -------------------------------------------------------------------------
def rgb(colour: str) -> RGBColor:
    value: RGBColor = _hex((colour if HEX_COLOUR.match(colour) else DEFAULT_ACCENT)[1:])
    return value


@dataclass
class Deck:
    """The presentation being built and the report's look."""

    prs: PresentationType
    report: Report
    accent: RGBColor

    @property
    def title_only(self) -> Any:
        return self.prs.slide_layouts[5]

    def slide(self, section: str, headline: str, notes: str) -> Slide:
        """A slide with a small section label, a headline stating the finding, notes."""
        slide = self.prs.slides.add_slide(self.title_only)
        label = textbox(slide, MARGIN, Inches(0.3), CONTENT_W, Inches(0.3))
        write(label.text_frame, section.upper(), 11, colour=self.accent, bold=True)
        title = slide.shapes.title
        assert title is not None
        place(title, MARGIN, Inches(0.6), CONTENT_W, Inches(0.95))
        frame = title.text_frame
        frame.margin_left = frame.margin_right = Inches(0.05)
        frame.margin_top = frame.margin_bottom = Inches(0.03)
        size = fit_size(headline, CONTENT_W - Inches(0.1), Inches(0.89), 28, 18, bold=True)
        write(frame, clip(headline, 160), size, bold=True, colour=INK)
        frame.vertical_anchor = MSO_ANCHOR.TOP
        frame.word_wrap = True
        set_notes(slide, notes)
        return slide


def place(shape: Any, left: int, top: int, width: int, height: int) -> None:
    shape.left, shape.top, shape.width, shape.height = (
        Emu(int(left)),
        Emu(int(top)),
        Emu(int(width)),
        Emu(int(height)),
    )


def textbox(slide: Slide, left: int, top: int, width: int, height: int) -> Any:
    box = slide.shapes.add_textbox(Emu(int(left)), Emu(int(top)), Emu(int(width)), Emu(int(height)))
    frame = box.text_frame
    frame.word_wrap = True
    frame.margin_left = frame.margin_right = Inches(0.05)
    frame.margin_top = frame.margin_bottom = Inches(0.03)
    return box


def write(
    frame: TextFrame,
    text: str,
    size: float,
    *,
    bold: bool = False,
    colour: RGBColor = INK,
    align: PP_ALIGN | None = None,
) -> None:
    """Replace the frame's text with `text` (one paragraph per line) in one style."""
    frame.clear()
    for i, line in enumerate(text.split("\n")):
        paragraph = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
        if align is not None:
            paragraph.alignment = align
        run = paragraph.add_run()
        run.text = line
        font = run.font
        font.size = Pt(size)
        font.bold = bold
        font.name = FONT
        font.color.rgb = colour


def add_paragraph(
    frame: TextFrame, text: str, size: float, *, bold: bool = False, colour: RGBColor = INK
) -> None:
    paragraph = frame.add_paragraph()
    run = paragraph.add_run()
    run.text = text
    run.font.size = Pt(size)
    run.font.bold = bold
    run.font.name = FONT
    run.font.color.rgb = colour


def set_notes(slide: Slide, text: str) -> None:
    slide.notes_slide.notes_text_frame.text = text


def picture(slide: Slide, png: bytes, top: int = CONTENT_TOP, height: int = CONTENT_H) -> Any:
    """The image as large as fits the content area, keeping its proportions, centred."""
    width_px, height_px = png_size(png)
    scale = min(CONTENT_W / width_px, height / height_px)
    width, tall = int(width_px * scale), int(height_px * scale)
    left = MARGIN + (CONTENT_W - width) // 2
    return slide.shapes.add_picture(
        io.BytesIO(png), Emu(int(left)), Emu(int(top)), Emu(width), Emu(tall)
    )


# -- native charts ---------------------------------------------------------------------------
class _TextCategoryWriter(CategoryWorkbookWriter):
    """The chart's embedded workbook with every text cell a string: a category named
    `=HYPERLINK(...)` is not turned into a formula when the chart is edited in PowerPoint."""

    @contextmanager
    def _open_worksheet(self, xlsx_file: Any) -> Iterator[tuple[Any, Any]]:
        workbook = Workbook(
            xlsx_file,
            {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False},
        )
        worksheet = workbook.add_worksheet()
        yield workbook, worksheet
        workbook.close()


class TextChartData(CategoryChartData):
    @property
    def _workbook_writer(self) -> Any:
        writer: Any = _TextCategoryWriter
        return writer(self)


def bar_chart(
    deck: Deck,
    slide: Slide,
    categories: Sequence[str],
    series: Sequence[tuple[str, Sequence[float], RGBColor | None]],
    axis_title: str,
    *,
    stacked: bool = False,
    labels: bool = True,
    legend: bool = True,
    height: int = CONTENT_H,
    point_labels: dict[int, Sequence[str]] | None = None,
) -> Any:
    """A native horizontal bar chart, first category on top; `series` are (name, values,
    colour); a colour None makes the series invisible (the base of a waterfall).
    `point_labels` gives some series their own label text per bar ("" for none)."""
    make: Any = TextChartData
    data = make(number_format="#,##0.0")
    data.categories = [clip(c, CATEGORY_CHARS) for c in categories]
    for name, values, _ in series:
        data.add_series(name, [round(float(v), 3) for v in values])
    kind = XL_CHART_TYPE.BAR_STACKED if stacked else XL_CHART_TYPE.BAR_CLUSTERED
    frame = slide.shapes.add_chart(
        kind, Emu(int(MARGIN)), Emu(int(CONTENT_TOP)), Emu(int(CONTENT_W)), Emu(int(height)), data
    )
    chart = frame.chart
    chart.font.size = Pt(12)
    chart.font.name = FONT
    category_axis = chart.category_axis
    category_axis.reverse_order = True
    category_axis.tick_labels.font.size = Pt(11)
    category_axis.has_major_gridlines = False
    value_axis = chart.value_axis
    value_axis.has_major_gridlines = True
    value_axis.major_gridlines.format.line.color.rgb = _hex("E5E5E5")
    value_axis.tick_labels.font.size = Pt(11)
    value_axis.tick_labels.number_format = "#,##0"
    value_axis.tick_labels.number_format_is_linked = False
    value_axis.has_title = True
    write(value_axis.axis_title.text_frame, axis_title, 12, colour=MUTED)
    plot = chart.plots[0]
    plot.gap_width = 60
    if stacked:
        plot.overlap = 100
    visible = [s for s in series if s[2] is not None]
    chart.has_legend = legend and len(visible) > 1
    if chart.has_legend:
        chart.legend.position = XL_LEGEND_POSITION.TOP
        chart.legend.include_in_layout = False
        chart.legend.font.size = Pt(12)
    for k, ((_, _, colour), chart_series) in enumerate(zip(series, plot.series, strict=True)):
        for i, text in enumerate((point_labels or {}).get(k, ())):
            if text:
                label = chart_series.points[i].data_label
                label.text_frame.text = text
                label.font.size = Pt(11)
                label.position = XL_LABEL_POSITION.INSIDE_BASE
        fill = chart_series.format.fill
        if colour is None:
            fill.background()
            chart_series.format.line.fill.background()
            continue
        fill.solid()
        fill.fore_color.rgb = colour
        if labels:
            chart_series.data_labels.show_value = True
            chart_series.data_labels.number_format = "#,##0.0"
            chart_series.data_labels.number_format_is_linked = False
            chart_series.data_labels.font.size = Pt(10)
            chart_series.data_labels.position = (
                XL_LABEL_POSITION.INSIDE_END if stacked else XL_LABEL_POSITION.OUTSIDE_END
            )
    return frame


# -- tables ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class TableSpec:
    """Which columns of a report table a slide shows, with a width share and a text limit."""

    key: str
    share: float
    limit: int = 60


def table(
    deck: Deck,
    slide: Slide,
    source: Table,
    columns: Sequence[TableSpec],
    *,
    max_rows: int = TABLE_ROWS,
    size: int = 11,
) -> Any:
    """A native table of the first rows of `source` that fit the content area, formatted as
    the report formats them; a last line says how many rows were left out."""
    by_key = {c.key: c for c in source.columns}
    specs = [c for c in columns if c.key in by_key]
    cols = [by_key[c.key] for c in specs]
    total = sum(c.share for c in specs)
    widths = [int(CONTENT_W * c.share / total) for c in specs]
    import dataclasses

    shown = dataclasses.replace(source, columns=tuple(cols))
    texts = shown.formatted(deck.report.fmt)
    texts = [[clip(t, s.limit) for t, s in zip(row, specs, strict=True)] for row in texts]
    header = [c.label for c in cols]
    padding = Inches(0.1)

    def row_height(cells: Sequence[str], pt: int) -> int:
        lines = max(
            text_lines(t, max(1, w - 2 * padding), pt) for t, w in zip(cells, widths, strict=True)
        )
        return int(lines * Pt(pt * 1.2) + padding)

    room = CONTENT_H - Inches(0.45)  # the "and K more" line below the table
    used = row_height(header, size)
    rows: list[list[str]] = []
    heights: list[int] = []
    for cells in texts[:max_rows]:
        h = row_height(cells, size)
        if used + h > room:
            break
        rows.append(cells)
        heights.append(h)
        used += h
    shape = slide.shapes.add_table(
        len(rows) + 1,
        len(cols),
        Emu(int(MARGIN)),
        Emu(int(CONTENT_TOP)),
        Emu(int(CONTENT_W)),
        Emu(int(used)),
    )
    grid = shape.table
    for i, w in enumerate(widths):
        grid.columns[i].width = Emu(w)
    grid.rows[0].height = Emu(row_height(header, size))
    for i, h in enumerate(heights, start=1):
        grid.rows[i].height = Emu(h)
    numeric = [c.kind != "text" for c in cols]
    for j, text in enumerate(header):
        cell = grid.cell(0, j)
        write(
            cell.text_frame,
            text,
            size,
            bold=True,
            colour=_hex("FFFFFF"),
            align=PP_ALIGN.RIGHT if numeric[j] else PP_ALIGN.LEFT,
        )
        cell.fill.solid()
        cell.fill.fore_color.rgb = deck.accent
    for i, cells in enumerate(rows, start=1):
        for j, text in enumerate(cells):
            cell = grid.cell(i, j)
            write(
                cell.text_frame,
                text,
                size,
                align=PP_ALIGN.RIGHT if numeric[j] else PP_ALIGN.LEFT,
            )
            cell.fill.solid()
            cell.fill.fore_color.rgb = BAND if i % 2 == 0 else _hex("FFFFFF")
    more = len(source.frame) - len(rows)
    if more > 0 or source.note:
        note = textbox(slide, MARGIN, CONTENT_TOP + used + Inches(0.05), CONTENT_W, Inches(0.4))
        text = (
            f"… and {deck.report.fmt.number(more)} more"
            + (f" ({source.order})" if source.order else "")
            + "; the Excel export has every row."
            if more > 0
            else source.note
        )
        write(note.text_frame, clip(text, 200), 11, colour=MUTED)
    return shape


# -- the deck --------------------------------------------------------------------------------
def build_deck(report: Report, pngs: dict[str, bytes]) -> PresentationType:
    """Every slide of the deck; `pngs` are the chart images by figure name (a slide whose
    image is missing is left out)."""
    prs: Any = Presentation()
    prs.slide_width = Emu(int(SLIDE_W))
    prs.slide_height = Emu(int(SLIDE_H))
    core = prs.core_properties
    core.title = clip(report.branding.title, 200)
    core.author = clip(report.branding.author, 200)
    core.subject = clip(f"{report.client} - {report.workspace_name}", 250)
    core.keywords = f"riskapp {report.provenance.riskapp_version}; {report.provenance.input_hash}"
    deck = Deck(prs, report, rgb(report.branding.accent_colour))
    title_slide(deck)
    summary_slide(deck)
    actions_slide(deck)
    if "world_map" in pngs:
        map_slide(deck, pngs["world_map"])
    scenario_slide(deck)
    if "exceedance" in pngs:
        exceedance_slide(deck, pngs["exceedance"])
    factor_slide(deck)
    if "region_factor_heatmap" in pngs:
        heatmap_slide(deck, pngs["region_factor_heatmap"])
    assets_slide(deck)
    if len(report.tables.plans):
        plans_slide(deck)
        cost_benefit_slide(deck)
        gaps_slide(deck)
        if "trigger_matrix" in pngs:
            trigger_slide(deck, pngs["trigger_matrix"])
        waterfall_slide(deck)
    methodology_slide(deck)
    provenance_slide(deck)
    footers(deck)
    return prs


def title_slide(deck: Deck) -> None:
    report, b = deck.report, deck.report.branding
    slide = deck.prs.slides.add_slide(deck.prs.slide_layouts[0])
    band = slide.shapes.add_shape(MSO_SHAPE.RECTANGLE, 0, 0, Inches(0.35), SLIDE_H)
    band.fill.solid()
    band.fill.fore_color.rgb = deck.accent
    band.line.fill.background()
    left, width = Inches(1.0), SLIDE_W - Inches(2.0)
    if b.logo is not None:
        try:
            logo = slide.shapes.add_picture(str(b.logo), Emu(int(left)), Inches(0.6))
            scale = min(Inches(0.9) / logo.height, Inches(3.0) / logo.width)
            logo.height, logo.width = Emu(int(logo.height * scale)), Emu(int(logo.width * scale))
        except (OSError, ValueError):
            pass  # an unreadable logo does not stop the deck
    title = slide.shapes.title
    assert title is not None
    place(title, left, Inches(2.2), width, Inches(1.4))
    write(
        title.text_frame,
        clip(b.title, 120),
        fit_size(b.title, width, Inches(1.4), 40, 28),
        bold=True,
    )
    title.text_frame.vertical_anchor = MSO_ANCHOR.BOTTOM
    subtitle = slide.placeholders[1]
    place(subtitle, left, Inches(3.75), width, Inches(1.2))
    client = report.client or report.workspace_name
    write(subtitle.text_frame, clip(client, 120), 24, colour=INK)
    add_paragraph(subtitle.text_frame, clip(report.workspace_name, 150), 16, colour=MUTED)
    subtitle.text_frame.vertical_anchor = MSO_ANCHOR.TOP
    meta = textbox(slide, left, Inches(5.4), width, Inches(1.2))
    lines = [f"{b.author}  ·  {report.generated_on}" if b.author else report.generated_on]
    lines.append(f"Money in {report.currency}; {report.basis_text}")
    write(meta.text_frame, "\n".join(clip(x, 150) for x in lines), 14, colour=MUTED)
    add_paragraph(
        meta.text_frame, clip(b.confidentiality.upper(), 100), 14, bold=True, colour=deck.accent
    )
    set_notes(
        slide,
        f"{b.title} for {client}. Generated by riskapp {report.provenance.riskapp_version} on "
        f"{report.generated_on}; input hash {report.provenance.input_hash[:12]}. "
        "The last slide lists the inputs, scenarios, plans and data sources.",
    )


def _figure_text(report: Report, key: str) -> str:
    try:
        return report.key_figure(key).text
    except KeyError:
        return "n/a"


def summary_slide(deck: Deck) -> None:
    report = deck.report
    headline = (
        f"Expected annual loss of {_figure_text(report, 'expected_annual_loss')} on a "
        f"{_figure_text(report, 'exposed_value')} portfolio"
    )
    figures = report.key_figures[:8]
    notes = "Key figures and how they are computed:\n" + "\n".join(
        f"- {k.label} ({k.text}): {k.definition}" for k in report.key_figures
    )
    slide = deck.slide("Executive summary", headline, notes)
    cols, gap = 4, Inches(0.2)
    rows = max(1, math.ceil(len(figures) / cols))
    width = (CONTENT_W - (cols - 1) * gap) // cols
    height = min(Inches(2.3), (CONTENT_H - (rows - 1) * gap) // rows)
    for i, k in enumerate(figures):
        left = MARGIN + (i % cols) * (width + gap)
        top = CONTENT_TOP + (i // cols) * (height + gap)
        card = slide.shapes.add_shape(
            MSO_SHAPE.RECTANGLE, Emu(int(left)), Emu(int(top)), Emu(width), Emu(height)
        )
        card.fill.solid()
        card.fill.fore_color.rgb = BAND
        card.line.color.rgb = deck.accent
        card.line.width = Pt(1)
        frame = card.text_frame
        frame.word_wrap = True
        frame.vertical_anchor = MSO_ANCHOR.TOP
        frame.margin_left = frame.margin_right = Inches(0.15)
        frame.margin_top = Inches(0.12)
        write(frame, clip(k.label.upper(), 40), 12, bold=True, colour=MUTED)
        add_paragraph(frame, clip(k.text, 24), 28, bold=True, colour=INK)
        definition = clip(k.definition, 170)
        add_paragraph(
            frame,
            definition,
            fit_size(definition, width - Inches(0.3), height - Inches(1.2), 11, 9),
            colour=MUTED,
        )


def actions_slide(deck: Deck) -> None:
    report = deck.report
    actions = report.actions[:3]
    notes = "How each action was chosen (from the numbers, not by hand):\n" + "\n".join(
        f"{i}. {a.rule}" for i, a in enumerate(actions, 1)
    )
    slide = deck.slide("Three things to act on", "Three things to act on", notes)
    gap = Inches(0.2)
    height = (CONTENT_H - 2 * gap) // 3
    for i, a in enumerate(actions):
        top = CONTENT_TOP + i * (height + gap)
        badge = slide.shapes.add_shape(
            MSO_SHAPE.OVAL, Emu(int(MARGIN)), Emu(int(top)), Inches(0.6), Inches(0.6)
        )  # 9: oval
        badge.fill.solid()
        badge.fill.fore_color.rgb = deck.accent
        badge.line.fill.background()
        write(
            badge.text_frame,
            str(i + 1),
            20,
            bold=True,
            colour=_hex("FFFFFF"),
            align=PP_ALIGN.CENTER,
        )
        badge.text_frame.vertical_anchor = MSO_ANCHOR.MIDDLE
        left = MARGIN + Inches(0.85)
        box = textbox(slide, left, top, CONTENT_W - Inches(0.85), height)
        title = clip(a.title, 110)
        detail = clip(a.detail, 320)
        write(box.text_frame, title, 20, bold=True)
        add_paragraph(
            box.text_frame,
            detail,
            fit_size(detail, CONTENT_W - Inches(0.95), height - Inches(0.55), 15, 11),
            colour=MUTED,
        )


def _first(table: Table, column: str) -> Any:
    frame = table.frame
    return frame[column].iloc[0] if len(frame) and column in frame else None


def map_slide(deck: Deck, png: bytes) -> None:
    report = deck.report
    countries = report.tables.countries
    name, eal, share = (
        _first(countries, "country_name"),
        _first(countries, "eal"),
        _first(countries, "share_of_eal"),
    )
    headline = (
        f"{name} carries the largest expected annual loss: {report.money(float(eal))} "
        f"({report.fmt.percent(float(share))})"
        if name is not None and eal is not None and share is not None
        else "Where the expected annual loss is"
    )
    figure = report.figures["world_map"]
    notes = (
        f"{figure.caption}\nExpected annual loss: the sum over scenarios of annual probability "
        f"x loss ({report.basis_text}). Countries by expected annual loss:\n"
        + "\n".join(
            f"- {r['country_name']}: {report.money(float(r['eal']))}"
            for _, r in countries.frame.head(10).iterrows()
        )
    )
    slide = deck.slide("Portfolio and map", headline, notes)
    picture(slide, png)


def scenario_slide(deck: Deck) -> None:
    report = deck.report
    t = report.tables.scenarios
    frame = t.frame
    worst_loss = report.money(float(frame["gross_loss"].iloc[0]))
    headline = f"{report.worst_scenario_title} would cost {worst_loss}"
    gross = [float(v) for v in frame["gross_loss"]]
    residual = [float(v) for v in frame["residual_loss"]]
    divisor, unit = report.fmt.unit(gross)
    definitions = {c.key: c.definition for c in t.columns if c.definition}
    notes = (
        f"Portfolio loss in each scenario ({report.basis_text}), in {unit}.\n"
        f"Gross loss: {definitions.get('gross_loss', 'portfolio loss with no plan.')}\n"
        f"Residual loss: {definitions.get('residual_loss', 'loss with every effective plan.')}"
        "\nAnnual probabilities:\n"
        + "\n".join(
            f"- {r['title']}: {report.fmt.percent(float(r['frequency']))} a year, "
            f"gross {report.money(float(r['gross_loss']))}"
            for _, r in frame.iterrows()
        )
    )
    slide = deck.slide("Scenario results", headline, notes)
    rows = frame.head(12)
    bar_chart(
        deck,
        slide,
        [str(x) for x in rows["title"]],
        [
            ("Gross loss", [v / divisor for v in gross[: len(rows)]], deck.accent),
            ("Residual loss (with plans)", [v / divisor for v in residual[: len(rows)]], GREY),
        ],
        f"Loss in the scenario ({unit})",
    )


def exceedance_slide(deck: Deck, png: bytes) -> None:
    report = deck.report
    rp100 = _figure_text(report, "loss_at_100y")
    figure = report.figures["exceedance"]
    definition = report.key_figure("loss_at_100y").definition if rp100 != "n/a" else ""
    slide = deck.slide(
        "Scenario results",
        f"A 1-in-100-year loss of {rp100}",
        f"{figure.caption}\n1-in-100-year loss: {definition}\nReturn period: the average "
        "number of years between losses of at least this size (1 / annual exceedance "
        "frequency).",
    )
    picture(slide, png)


def factor_slide(deck: Deck) -> None:
    report = deck.report
    t = report.tables.factors
    frame = t.frame
    if not len(frame):
        return
    top, share = str(frame["name"].iloc[0]), float(frame["share_of_eal"].iloc[0])
    headline = f"{top} drives {report.fmt.percent(share)} of the expected annual loss"
    eal = [float(v) for v in frame["eal"]]
    divisor, unit = report.fmt.unit(eal)
    notes = (
        "Expected annual loss by factor. Where several factors hit one asset, the loss is "
        "shared among them by their share of the log-survival, -ln(1 - d_f), so the parts add "
        "up to the total.\n"
        + "\n".join(
            f"- {r['name']}: {report.money(float(r['eal']))} "
            f"({report.fmt.percent(float(r['share_of_eal']))})"
            for _, r in frame.iterrows()
        )
    )
    slide = deck.slide("Region x factor", headline, notes)
    bar_chart(
        deck,
        slide,
        [str(x) for x in frame["name"]],
        [("Expected annual loss", [v / divisor for v in eal], deck.accent)],
        f"Expected annual loss ({unit})",
    )


def heatmap_slide(deck: Deck, png: bytes) -> None:
    report = deck.report
    regions = report.tables.regions
    name, eal = _first(regions, "name"), _first(regions, "eal")
    headline = (
        f"Most expected annual loss sits in {name}: {report.money(float(eal))} a year"
        if name is not None and eal is not None
        else "Expected annual loss by region group and factor"
    )
    figure = report.figures["region_factor_heatmap"]
    slide = deck.slide(
        "Region x factor",
        headline,
        f"{figure.title}. {figure.caption} {regions.note}".strip(),
    )
    picture(slide, png)


def assets_slide(deck: Deck) -> None:
    report = deck.report
    t = report.tables.top_assets
    frame = t.frame
    share = float(frame["share_of_eal"].sum()) if "share_of_eal" in frame else 0.0
    headline = (
        f"{len(frame)} of {report.fmt.number(t.total_rows)} assets carry "
        f"{report.fmt.percent(share)} of the expected annual loss"
    )
    notes = (
        f"{t.title}. {t.note}\n"
        "Exposed value: replacement value plus annual revenue at stake.\n"
        "Expected annual loss: sum over scenarios of annual probability x loss.\n"
        "Main factor: the factor behind most of the asset's expected annual loss."
    )
    slide = deck.slide("Top assets", headline, notes)
    table(
        deck,
        slide,
        t,
        [
            TableSpec("name", 3.2, 48),
            TableSpec("type", 1.1, 16),
            TableSpec("country_name", 1.3, 20),
            TableSpec("exposed_value", 1.3),
            TableSpec("eal", 1.3),
            TableSpec("share_of_eal", 1.0),
            TableSpec("dominant_factor", 2.6, 40),
        ],
    )


def plans_slide(deck: Deck) -> None:
    report = deck.report
    t = report.tables.plans
    frame = t.frame
    best = frame.iloc[0]
    bcr = float(best["benefit_cost_ratio"]) if "benefit_cost_ratio" in frame else math.nan
    headline = (
        f"Best value: '{best['title']}' returns {report.fmt.ratio(bcr)} its cost"
        if math.isfinite(bcr)
        else "Contingency plans: cost against averted loss"
    )
    notes = "Columns:\n" + "\n".join(
        f"- {c.label}: {c.definition}" for c in t.columns if c.definition
    )
    notes += "\nTriggers:\n" + "\n".join(
        f"- {r['title']}: {r['trigger']}" for _, r in frame.iterrows() if "trigger" in frame
    )
    slide = deck.slide("Contingency plans", headline, notes)
    table(
        deck,
        slide,
        t,
        [
            TableSpec("title", 3.0, 50),
            TableSpec("status", 1.0, 12),
            TableSpec("lead_time_days", 1.0),
            TableSpec("cost_npv", 1.2),
            TableSpec("averted_eal", 1.2),
            TableSpec("averted_npv", 1.2),
            TableSpec("benefit_cost_ratio", 1.1),
        ],
        size=12,
    )


def cost_benefit_slide(deck: Deck) -> None:
    report = deck.report
    frame = report.tables.plans.frame
    if not {"title", "cost_npv", "averted_npv"} <= set(frame.columns):
        return
    cost = [float(v) for v in frame["cost_npv"]]
    averted = [float(v) for v in frame["averted_npv"]]
    paying = sum(1 for c, a in zip(cost, averted, strict=True) if a >= c)
    headline = f"{paying} of {len(frame)} plans avert more loss than they cost"
    divisor, unit = report.fmt.unit(cost + averted)
    horizon = ""
    inputs = report.tables.inputs.frame
    if len(inputs) and "setting" in inputs:
        match = inputs[inputs["setting"].astype(str).str.contains("horizon", case=False)]
        horizon = f" over {match['value'].iloc[0]} years" if len(match) else ""
    notes = (
        f"Net present values{horizon}. Cost (NPV): one-off cost plus annual cost times the "
        "annuity factor. Averted (NPV): expected annual loss the plan averts on its own, "
        "discounted over the same horizon. A plan pays for itself when averted NPV is at least "
        "its cost NPV (benefit-cost ratio of 1 or more)."
    )
    slide = deck.slide("Contingency plans", headline, notes)
    bar_chart(
        deck,
        slide,
        [str(x) for x in frame["title"]],
        [
            ("Cost (NPV)", [v / divisor for v in cost], ORANGE),
            ("Averted loss (NPV)", [v / divisor for v in averted], deck.accent),
        ],
        f"Net present value ({unit})",
    )


def gaps_slide(deck: Deck) -> None:
    report = deck.report
    t = report.tables.readiness_gaps
    frame = t.frame
    if not len(frame):
        deck.slide(
            "Contingency plans",
            "Every triggered plan can be ready within its scenario's warning time",
            "Readiness gap: lead time of a plan's slowest action minus the warning time of the "
            "scenario that triggers it. There is none.",
        )
        return
    plans = frame["plan_id"].nunique() if "plan_id" in frame else len(frame)
    worst = frame.iloc[0]
    headline = (
        f"{plans} plans would not be ready in time; '{worst['plan_title']}' is "
        f"{report.fmt.days(float(worst['gap_days']))} late"
    )
    notes = (
        "Readiness gap: lead time of the plan's slowest action minus the warning time of the "
        "scenario that triggers it. A plan that is not ready in time averts nothing in that "
        "scenario (the workspace requires readiness)."
    )
    slide = deck.slide("Readiness gaps", headline, notes)
    table(
        deck,
        slide,
        t,
        [
            TableSpec("plan_title", 2.6, 60),
            TableSpec("scenario_title", 3.0, 90),
            TableSpec("lead_time_days", 1.1),
            TableSpec("warning_days", 1.1),
            TableSpec("gap_days", 1.0),
            TableSpec("gross_loss", 1.4),
        ],
        size=12,
    )


def trigger_slide(deck: Deck, png: bytes) -> None:
    report = deck.report
    triggered = _figure_text(report, "plans_triggered")
    late = _figure_text(report, "plans_not_ready")
    figure = report.figures["trigger_matrix"]
    slide = deck.slide(
        "Contingency plans",
        f"{triggered} plans fire in at least one scenario; {late} are not ready in time",
        f"{figure.caption}\nA plan fires in a scenario when any of its trigger conditions "
        "holds: the scenario is listed, a factor reaches its level in a region, or the gross "
        "loss of the covered assets reaches the amount.",
    )
    picture(slide, png)


def waterfall_slide(deck: Deck) -> None:
    report = deck.report
    t = report.tables.waterfall
    frame = t.frame
    if len(frame) < 2:
        return
    amounts = [float(v) for v in frame["amount"]]
    after = [float(v) for v in frame["after_step"]]
    gross, residual = after[0], after[-1]
    headline = (
        f"Plans cut the loss of '{report.worst_scenario_title}' from "
        f"{report.money(gross)} to {report.money(residual)}"
    )
    divisor, unit = report.fmt.unit([gross])
    base, step, total = [], [], []
    last = len(frame) - 1
    for i, (amount, level) in enumerate(zip(amounts, after, strict=True)):
        if i in (0, last):  # gross and residual: bars from zero
            base.append(0.0)
            step.append(0.0)
            total.append(level / divisor)
        else:  # the loss a plan averts: a floating bar from `level` up
            base.append(level / divisor)
            step.append(abs(amount) / divisor)
            total.append(0.0)
    notes = f"{t.title}. {t.order}.\n" + "\n".join(
        f"- {label}: {report.money(a)} (loss after step {report.money(level)})"
        for label, a, level in zip(frame["label"], amounts, after, strict=True)
    )
    slide = deck.slide("Contingency plans", headline, notes)
    bar_chart(
        deck,
        slide,
        [str(x) for x in frame["label"]],
        [
            ("base", base, None),
            ("Averted by the plan", step, deck.accent),
            ("Gross and residual loss", total, GREY),
        ],
        f"Loss in the scenario ({unit})",
        stacked=True,
        labels=False,
        legend=False,  # the invisible base series would show in it
        point_labels={
            1: [
                "" if i in (0, last) else "-" + report.money(abs(a)) for i, a in enumerate(amounts)
            ],
            2: [report.money(level) if i in (0, last) else "" for i, level in enumerate(after)],
        },
    )


def methodology_slide(deck: Deck) -> None:
    report = deck.report
    headings = [
        line.removeprefix("## ").strip()
        for line in report.methodology.splitlines()
        if line.startswith("## ")
    ]
    slide = deck.slide(
        "Methodology",
        "Risk = hazard x exposure x vulnerability, per asset and scenario",
        "How every figure is computed is written in the PDF's methodology appendix and by "
        "`riskapp methodology`; the text comes from the documentation of the code that "
        "computes the figures.\n\n" + clip(report.methodology, 4000),
    )
    box = textbox(slide, MARGIN, CONTENT_TOP, CONTENT_W, CONTENT_H)
    intro = (
        "Each scenario sets factor intensities (0-10) per country; vulnerability curves turn "
        "intensity into a damage ratio per asset type; loss = exposed value x damage ratio; "
        "expected annual loss = sum of annual probability x loss. The full method:"
    )
    write(box.text_frame, intro, 16, colour=INK)
    body = "\n".join(f"• {clip(h, 90)}" for h in headings[:14])
    size = fit_size(body, CONTENT_W, CONTENT_H - Inches(1.1), 15, 10)
    for h in headings[:14]:
        add_paragraph(box.text_frame, f"• {clip(h, 90)}", size, colour=MUTED)


def provenance_slide(deck: Deck) -> None:
    report = deck.report
    p = report.provenance
    slide = deck.slide(
        "Provenance",
        "What these numbers were computed from",
        "The input hash identifies the exact input files: the same hash means the same inputs "
        "and the same numbers.\nBaseline data sources:\n"
        + "\n".join(f"- {s}" for s in p.data_sources)
        + "\nReference data:\n"
        + "\n".join(f"- {s}" for s in p.attribution),
    )
    rows = [
        ("riskapp version", p.riskapp_version),
        ("Generated", p.generated_at.strftime("%Y-%m-%d %H:%M UTC")),
        (f"Input hash (SHA-256 of {p.input_hash_basis})", p.input_hash),
        ("Scenarios", ", ".join(p.scenario_ids)),
        ("Plans", ", ".join(p.plan_ids)),
        ("Baseline data sources", "; ".join(p.data_sources) or "none recorded"),
    ]
    size = 11
    label_w = Inches(2.6)
    value_w = CONTENT_W - label_w
    texts = [(label, clip(value, 420)) for label, value in rows]
    heights = [
        int(text_lines(v, value_w - Inches(0.2), size) * Pt(size * 1.2) + Inches(0.1))
        for _, v in texts
    ]
    shape = slide.shapes.add_table(
        len(rows),
        2,
        Emu(int(MARGIN)),
        Emu(int(CONTENT_TOP)),
        Emu(int(CONTENT_W)),
        Emu(min(int(CONTENT_H), sum(heights))),
    )
    grid = shape.table
    grid.first_row = False
    grid.columns[0].width = Emu(int(label_w))
    grid.columns[1].width = Emu(int(value_w))
    for i, ((label, value), h) in enumerate(zip(texts, heights, strict=True)):
        grid.rows[i].height = Emu(h)
        write(grid.cell(i, 0).text_frame, label, size, bold=True, colour=MUTED)
        write(grid.cell(i, 1).text_frame, value, size)
        for j in (0, 1):
            grid.cell(i, j).fill.solid()
            grid.cell(i, j).fill.fore_color.rgb = BAND if i % 2 else _hex("FFFFFF")


def footers(deck: Deck) -> None:
    """Client, confidentiality and "n / N" at the foot of every slide but the title."""
    report = deck.report
    slides = list(deck.prs.slides)
    total = len(slides)
    left_text = clip(
        f"{report.client or report.workspace_name}  ·  {report.branding.confidentiality}", 120
    )
    for n, slide in enumerate(slides[1:], start=2):
        left = textbox(slide, MARGIN, Inches(7.0), Inches(9.0), Inches(0.3))
        write(left.text_frame, left_text, 10, colour=MUTED)
        right = textbox(
            slide, SLIDE_W - MARGIN - Inches(2.0), Inches(7.0), Inches(2.0), Inches(0.3)
        )
        write(right.text_frame, f"{n} / {total}", 10, colour=MUTED, align=PP_ALIGN.RIGHT)
