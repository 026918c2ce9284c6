"""Scenarios charts: side-by-side comparison, exceedance curve, what-if loss by factor."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from riskapp.charts.common import (
    OKABE_ITO,
    esc_text,
    factor_colours,
    layout_props,
    money_axis_props,
    money_text,
    spec_figure,
)
from riskapp.domain import FactorCatalogue
from riskapp.format import NumberFormat

# scenarios get Okabe-Ito colours (colour-blind safe), kept apart from the factor palette
SCENARIO_COLOURS = OKABE_ITO[:3] + OKABE_ITO[5:6]
BASE_GREY = "#8c8c8c"


def _short(text: str, width: int = 48) -> str:
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def _bar_label(value: float, fmt: NumberFormat) -> str:
    return fmt.money_short(value) if value > 0 else ""


def compare_chart(
    table: pd.DataFrame,
    titles: dict[str, str],
    dimension_label: str,
    fmt: NumberFormat,
    fast: bool = False,
) -> go.Figure:
    """Horizontal grouped bars: one trace per scenario (the table's columns after `label`),
    one row per region group, factor or asset type, largest on top. `fast`: see
    `spec_figure`."""
    scenario_ids = [c for c in table.columns if c != "label"]
    labels = [esc_text(str(v)) for v in table["label"]]
    data = []
    for i, sid in enumerate(scenario_ids):
        title = esc_text(titles.get(sid, sid))
        values = table[sid].to_numpy(dtype=float)
        data.append(
            {
                "type": "bar",
                "y": labels,
                "x": values,
                "orientation": "h",
                "name": _short(title),
                "marker": {"color": SCENARIO_COLOURS[i % len(SCENARIO_COLOURS)]},
                "text": [_bar_label(v, fmt) for v in values],
                "textposition": "outside",
                "textfont": {"size": 11},
                "cliponaxis": False,
                "customdata": np.asarray(money_text(values, fmt), dtype=object),
                "hovertemplate": (
                    f"<b>%{{y}}</b><br>{title}<br>Loss: %{{customdata}}<extra></extra>"
                ),
            }
        )
    top = float(table[scenario_ids].to_numpy().max()) if len(table) else 0.0
    height = 140 + len(table) * (12 + 14 * len(scenario_ids))
    spec = {
        "data": data,
        "layout": {
            **layout_props(height=max(300, height), fmt=fmt),
            "xaxis": {
                **money_axis_props(0.0, top, fmt),
                "rangemode": "tozero",
                "title": {"text": f"Loss in the scenario ({fmt.currency})"},
                "gridcolor": "#e5e5e5",
                "zerolinecolor": "#999",
                "range": [0, top * 1.12 if top > 0 else 1],  # room for the value labels
            },
            "yaxis": {
                "autorange": "reversed",
                "title": {"text": dimension_label},
                "automargin": True,
            },
            "barmode": "group",
            "bargap": 0.25,
            "bargroupgap": 0.05,
        },
    }
    return spec_figure(spec, fast)


def exceedance_chart(
    points: pd.DataFrame,
    line: pd.DataFrame,
    readings: pd.DataFrame | None,
    fmt: NumberFormat,
    fast: bool = False,
) -> go.Figure:
    """Portfolio loss against return period (log axis): the interpolated curve, one marker per
    scenario (hover: its title) and, given `readings`, the loss read at return periods.
    `fast`: see `spec_figure`."""
    data: list[dict[str, object]] = [
        {
            "type": "scatter",
            "x": line["return_period_years"].to_numpy(),
            "y": line["loss"].to_numpy(),
            "mode": "lines",
            "name": "Exceedance curve",
            "line": {"color": "#0072B2", "width": 2},
            "customdata": np.asarray(money_text(line["loss"], fmt), dtype=object),
            "hovertemplate": "Once in %{x:.3~g} years on average:<br>a loss of at least "
            "%{customdata}<extra></extra>",
        },
        {
            "type": "scatter",
            "x": points["return_period_years"].to_numpy(),
            "y": points["loss"].to_numpy(),
            "mode": "markers",
            "name": "Scenario",
            "marker": {"color": "#0072B2", "size": 9, "line": {"color": "white", "width": 1}},
            "customdata": np.column_stack(
                [
                    np.asarray([esc_text(t) for t in points["title"]], dtype=object),
                    np.asarray(money_text(points["loss"], fmt), dtype=object),
                    np.asarray([fmt.percent(f) for f in points["frequency"]], dtype=object),
                    np.asarray(
                        [fmt.percent(f) for f in points["exceedance_frequency"]], dtype=object
                    ),
                ]
            ),
            "hovertemplate": (
                "<b>%{customdata[0]}</b><br>Loss: %{customdata[1]}<br>"
                "Annual probability: %{customdata[2]}<br>"
                "This loss or more: %{customdata[3]} a year, once in %{x:.3~g} years"
                "<extra></extra>"
            ),
        },
    ]
    if readings is None:
        readings = pd.DataFrame({"return_period_years": [], "loss": []})
    else:
        data.append(
            {
                "type": "scatter",
                "x": readings["return_period_years"].to_numpy(),
                "y": readings["loss"].to_numpy(),
                "mode": "markers+text",
                "name": "Return-period loss",
                "marker": {"color": "#D55E00", "size": 11, "symbol": "diamond"},
                "text": [f"1 in {rp:g}" for rp in readings["return_period_years"]],
                "textposition": "bottom center",
                "textfont": {"color": "#D55E00", "size": 12},
                "customdata": np.asarray(money_text(readings["loss"], fmt), dtype=object),
                "hovertemplate": "1-in-%{x:g}-year loss: %{customdata}<extra></extra>",
            }
        )
    rp = pd.concat([line["return_period_years"], readings["return_period_years"]])
    lo, hi = float(rp.min()), float(rp.max())
    ticks = [
        t for t in (0.5, 1, 2, 5, 10, 20, 50, 100, 250, 500, 1000) if lo * 0.8 <= t <= hi * 1.2
    ]
    top = float(pd.concat([line["loss"], points["loss"]]).max()) if len(line) else 0.0
    spec = {
        "data": data,
        "layout": {
            **layout_props(height=440, fmt=fmt),
            "xaxis": {
                "type": "log",
                "title": {"text": "Return period (years, log scale)"},
                "tickvals": ticks,
                "ticktext": [f"{t:g}" for t in ticks],
                "range": [math.log10(lo * 0.8), math.log10(hi * 1.25)],
                "gridcolor": "#e5e5e5",
            },
            "yaxis": {
                **money_axis_props(0.0, top, fmt),
                "rangemode": "tozero",
                "title": {"text": f"Portfolio loss ({fmt.currency})"},
                "gridcolor": "#e5e5e5",
            },
        },
    }
    return spec_figure(spec, fast)


def whatif_factor_chart(
    by_factor: pd.DataFrame,
    factors: FactorCatalogue,
    fmt: NumberFormat,
    order: Sequence[str] | None = None,
    fast: bool = False,
) -> go.Figure:
    """Loss by factor of one scenario, unmodified (hatched) and what-if (solid), in each
    factor's own colour. `fast` (the what-if section redraws it on every slider move): see
    `spec_figure`."""
    colours = factor_colours(factors)
    names = {f.id: f.name for f in factors.factors}
    ids = list(order) if order is not None else list(by_factor.index)
    table = by_factor if ids == list(by_factor.index) else by_factor.loc[ids]
    base = table["base"].to_numpy(dtype=float)
    new = table["what_if"].to_numpy(dtype=float)
    labels = [esc_text(names.get(f, f)) for f in ids]
    bar_colours = [colours.get(f, BASE_GREY) for f in ids]
    change = [fmt.money_change(float(c)) for c in table["change"].to_numpy()]
    custom = np.column_stack(
        [
            np.asarray(money_text(base, fmt), dtype=object),
            np.asarray(money_text(new, fmt), dtype=object),
            np.asarray(change, dtype=object),
        ]
    )
    # no outline on empty bars: it would draw a stray line at zero
    outline = [[1.5 if v > 0 else 0.0 for v in values] for values in (base, new)]
    top = float(max(base.max(), new.max())) if len(table) else 0.0
    common = {"orientation": "h", "cliponaxis": False, "textposition": "outside", "y": labels}
    spec = {
        "data": [
            {
                "type": "bar",
                "x": base,
                "name": "Unmodified",
                "text": [_bar_label(float(v), fmt) for v in base],
                "textfont": {"size": 11, "color": "#666"},
                "marker": {
                    "color": "white",
                    "line": {"color": bar_colours, "width": outline[0]},
                    "pattern": {"shape": "/", "fgcolor": bar_colours, "size": 6, "solidity": 0.4},
                },
                "customdata": custom,
                "hovertemplate": "<b>%{y}</b><br>Unmodified: %{customdata[0]}<extra></extra>",
                **common,
            },
            {
                "type": "bar",
                "x": new,
                "name": "What-if",
                "text": [_bar_label(float(v), fmt) for v in new],
                "textfont": {"size": 11},
                "marker": {
                    "color": bar_colours,
                    "line": {"color": bar_colours, "width": outline[1]},
                },
                "customdata": custom,
                "hovertemplate": "<b>%{y}</b><br>What-if: %{customdata[1]}<br>"
                "Unmodified: %{customdata[0]}<br>Change: %{customdata[2]}<extra></extra>",
                **common,
            },
        ],
        "layout": {
            **layout_props(height=max(300, 120 + 44 * len(ids)), fmt=fmt),
            "xaxis": {
                **money_axis_props(0.0, top, fmt),
                "rangemode": "tozero",
                "title": {"text": f"Loss in the scenario ({fmt.currency})"},
                "gridcolor": "#e5e5e5",
                "range": [0, top * 1.12 if top > 0 else 1],
            },
            "yaxis": {"autorange": "reversed", "automargin": True},
            "barmode": "group",
            "bargap": 0.3,
            "bargroupgap": 0.05,
        },
    }
    return spec_figure(spec, fast)
