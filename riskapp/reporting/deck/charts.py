"""Native (editable) PowerPoint bar charts; categories go into the embedded workbook as strings."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from pptx.chart.data import CategoryChartData
from pptx.chart.xlsx import CategoryWorkbookWriter
from pptx.dml.color import RGBColor
from pptx.enum.chart import XL_CHART_TYPE, XL_LABEL_POSITION, XL_LEGEND_POSITION
from pptx.util import Emu, Pt
from xlsxwriter import Workbook

from riskapp.reporting.deck.common import (
    CATEGORY_CHARS,
    CONTENT_H,
    CONTENT_TOP,
    CONTENT_W,
    FONT,
    MARGIN,
    MUTED,
    Deck,
    Slide,
    clip,
    hex_colour,
    write,
)

if TYPE_CHECKING:
    pass


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
    value_axis.major_gridlines.format.line.color.rgb = hex_colour("E5E5E5")
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


def money_bars(
    deck: Deck, slide: Slide, categories: Sequence[str], label: str, values: Sequence[float]
) -> Any:
    """One series of money amounts as bars, in the unit that suits them (m, bn, ...)."""
    divisor, unit = deck.report.fmt.unit(list(values))
    return bar_chart(
        deck,
        slide,
        categories,
        [(label, [v / divisor for v in values], deck.accent)],
        f"{label} ({unit})",
    )
