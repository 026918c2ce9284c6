"""Shared look: one colour per factor everywhere, money axes and text of a NumberFormat,
offline world map."""

from __future__ import annotations

import html
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import plotly.graph_objects as go

from riskapp.domain import FactorCatalogue
from riskapp.format import NumberFormat

STATIC = Path(__file__).resolve().parent.parent / "dashboard" / "static"
# plotly.js fetches world outlines from a CDN unless told where they are
TOPOJSON_URL = "/app/static/"
PLOTLY_CONFIG = {"topojsonURL": TOPOJSON_URL, "displaylogo": False}

# Okabe-Ito, colour-blind safe; used for factors without a colour of their own
OKABE_ITO = [
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#56B4E9",
    "#D55E00",
    "#F0E442",
    "#000000",
]
# sequential scale for loss (light = low, dark = high), readable for colour-blind users
LOSS_SCALE = "YlOrRd"
FONT = "Source Sans Pro, Helvetica, Arial, sans-serif"


def factor_colours(factors: FactorCatalogue) -> dict[str, str]:
    """The colour of each factor: its own, else a palette colour in catalogue order."""
    out = {}
    for i, f in enumerate(factors.factors):
        out[f.id] = f.colour or OKABE_ITO[i % len(OKABE_ITO)]
    return out


def esc_text(text: object) -> str:
    """User text for a plotly label or hover: plotly reads a subset of HTML tags in them."""
    return html.escape(str(text), quote=False)


def esc(values: Iterable[object]) -> list[str]:
    """`esc_text` of each value."""
    return [esc_text(v) for v in values]


def money_axis(
    fig: go.Figure,
    lo: float,
    hi: float,
    fmt: NumberFormat,
    axis: str,
    count: int = 5,
    **extra: object,
) -> None:
    """Money ticks written as every surface writes money (12.3m on an axis titled EUR; German
    12,3 Mio.), and the locale's separators for any other number plotly prints."""
    update = {**money_axis_props(lo, hi, fmt, count), **extra}
    if axis == "x":
        fig.update_xaxes(**update)
    else:
        fig.update_yaxes(**update)
    fig.update_layout(separators=fmt.plotly_separators)


def money_axis_props(lo: float, hi: float, fmt: NumberFormat, count: int = 5) -> dict[str, Any]:
    """The tick values and texts `money_axis` gives an axis, as an axis dict (`spec_figure`
    charts; their layout's separators come with `layout_props`)."""
    ticks, labels = fmt.money_ticks(lo, hi, count)
    return {"tickvals": ticks, "ticktext": labels}


def colorscale(name: str) -> list[list[Any]]:
    """A named plotly colour scale as the (position, colour) list plotly's checks make of it: a
    fast figure (`spec_figure`) passes the spec through unchecked, and plotly.js's own scale of
    the same name may run the other way."""
    return [list(step) for step in _colorscale(name)]


@lru_cache(maxsize=8)
def _colorscale(name: str) -> tuple[tuple[Any, ...], ...]:
    import plotly.colors

    return tuple(tuple(step) for step in plotly.colors.get_colorscale(name))


def money_colorbar(title: str, values: object, fmt: NumberFormat) -> dict[str, object]:
    """A colour bar of money: ticks written by `fmt` (plotly's own would read 14M)."""
    finite = np.asarray(values, dtype=float).ravel()
    finite = finite[np.isfinite(finite)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)
    bar: dict[str, object] = {"title": {"text": title}, "thickness": 12}
    if hi > lo:
        ticks, labels = fmt.money_ticks(min(lo, 0.0), hi)
        inside = [(t, s) for t, s in zip(ticks, labels, strict=True) if lo <= t <= hi]
        bar |= {"tickvals": [t for t, _ in inside], "ticktext": [s for _, s in inside]}
    return bar


def money_text(values: Iterable[float], fmt: NumberFormat) -> list[str]:
    """`fmt.money` of each value, for hover text and labels."""
    return [fmt.money(float(v)) for v in values]


def spec_figure(spec: dict[str, Any], fast: bool = False) -> go.Figure:
    """A figure from a plain spec ({"data": [...], "layout": {...}}), every property checked by
    plotly on the way in. `fast`: without those checks (`_validate=False`: building a small
    chart's objects and checking them costs about 20 ms, this about 1 ms), for charts the
    dashboard redraws on every widget change and passes straight to st.plotly_chart. A fast
    figure is for display only: plotly would not check later changes to it either (a template
    given by name would stay a name). It carries plotly's default template with only the
    trace defaults of its own trace types (a template's defaults for other types apply to
    nothing; the whole template is most of a small chart's bytes, copied and sent on every
    redraw). Tests hold each chart's fast figure equal to its checked one, template aside."""
    if not fast:
        return go.Figure(spec, _validate=True)
    types = tuple(sorted({str(t.get("type", "scatter")) for t in spec.get("data", [])}))
    layout = {"template": _template_for(types), **spec.get("layout", {})}
    return go.Figure({**spec, "layout": layout}, _validate=False)


def _template_for(types: tuple[str, ...]) -> dict[str, Any]:
    """Plotly's default template (as a dict) with trace defaults for `types` only."""
    import json

    import plotly.io as pio

    return dict(json.loads(_template_json(str(pio.templates.default), types)))


@lru_cache(maxsize=16)
def _template_json(name: str, types: tuple[str, ...]) -> str:
    import json

    import plotly.io as pio

    template = pio.templates[name].to_plotly_json()
    template["data"] = {k: v for k, v in template.get("data", {}).items() if k in types}
    return json.dumps(template)


def layout_props(
    title: str | None = None, height: int = 420, fmt: NumberFormat | None = None
) -> dict[str, Any]:
    """The shared look as a layout dict (for `spec_figure`, and what `layout` sets); with
    `fmt`, plotly's own numbers use the locale's separators. Plain values: no plotly object is
    made (a fast figure's first build in a process then loads none of plotly's checks)."""
    props: dict[str, Any] = {
        "height": height,
        "margin": {"l": 10, "r": 10, "t": 50 if title else 10, "b": 10},
        "font": {"family": FONT, "size": 13},
        "hoverlabel": {"font": {"family": FONT}},
        "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
        "plot_bgcolor": "white",
    }
    if title:
        props["title"] = {"text": title, "x": 0, "xanchor": "left"}
    if fmt is not None:
        props["separators"] = fmt.plotly_separators
    return props


def layout(
    fig: go.Figure,
    title: str | None = None,
    height: int = 420,
    fmt: NumberFormat | None = None,
) -> go.Figure:
    """The shared look (`layout_props`) set on a figure; a title it had is cleared when
    `title` is None."""
    props = layout_props(title, height, fmt)
    fig.update_layout(title=props.pop("title", None), **props)
    return fig
