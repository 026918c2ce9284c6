"""Assets page charts: one asset's loss by factor per scenario, and its vulnerability curves."""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from riskapp.charts.common import esc_text, factor_colours, layout, money_text
from riskapp.domain import FactorCatalogue
from riskapp.format import NumberFormat

# legend on the right, one entry per line: factor names are long
SIDE_LEGEND = {"orientation": "v", "x": 1.02, "xanchor": "left", "y": 1, "yanchor": "top"}


def _wrap(text: str, width: int = 36) -> str:
    return "<br>".join(
        esc_text(line) for line in textwrap.wrap(text, width, break_long_words=False)
    )


def factor_loss_bars(
    table: pd.DataFrame, factors: FactorCatalogue, fmt: NumberFormat, scenario_order: list[str]
) -> go.Figure:
    """Horizontal bars, one per scenario, stacked by factor (factor colours); `table` is
    `tables.asset_factor_loss`. Scenarios are drawn in `scenario_order` (ids), top first."""
    colours = factor_colours(factors)
    titles = (
        table.drop_duplicates("scenario_id").set_index("scenario_id")["scenario_title"].to_dict()
    )
    order = [s for s in scenario_order if s in titles]
    totals = table.groupby("scenario_id")["loss"].sum()
    divisor, unit = fmt.unit(totals.to_numpy())
    fig = go.Figure()
    for fid, rows in table.groupby("factor_id", sort=False):
        part = rows.set_index("scenario_id").reindex(order)
        loss = part["loss"].to_numpy(dtype=float)
        share = np.divide(
            loss,
            totals.reindex(order).to_numpy(dtype=float),
            out=np.zeros_like(loss),
            where=totals.reindex(order).to_numpy(dtype=float) > 0,
        )
        fig.add_trace(
            go.Bar(
                y=[_wrap(titles[s]) for s in order],
                x=loss / divisor,
                orientation="h",
                name=esc_text(part["factor_name"].iloc[0]),
                marker={"color": colours.get(str(fid), "#888888")},
                customdata=np.column_stack(
                    [
                        np.asarray(money_text(loss, fmt), dtype=object),
                        np.asarray([fmt.percent(v, 0) for v in share], dtype=object),
                    ]
                ),
                hovertemplate="<b>%{y}</b><br>%{fullData.name}: %{customdata[0]}"
                " (%{customdata[1]} of the scenario's loss)<extra></extra>",
            )
        )
    for s in order:
        fig.add_annotation(
            x=float(totals.get(s, 0.0)) / divisor,
            y=_wrap(titles[s]),
            text=fmt.money(float(totals.get(s, 0.0))),
            showarrow=False,
            xanchor="left",
            xshift=4,
            font={"size": 11, "color": "#444444"},
        )
    fig.update_layout(barmode="relative")
    fig.update_xaxes(
        title=f"Loss of this asset ({unit})", gridcolor="#e5e5e5", zerolinecolor="#999999"
    )
    fig.update_yaxes(autorange="reversed", automargin=True)
    layout(fig, height=max(300, 40 * len(order) + 150))
    fig.update_layout(
        margin={"r": 20},
        legend=SIDE_LEGEND | {"title": {"text": "Factor"}},
        separators=fmt.plotly_separators,
    )
    fig.update_xaxes(range=[0, float(totals.max()) / divisor * 1.18 or 1.0])
    return fig


def curve_chart(curves: pd.DataFrame, marks: pd.DataFrame, factors: FactorCatalogue) -> go.Figure:
    """One line per factor (damage ratio in % against intensity 0-10) with a marker where each
    scenario puts the asset; `curves` and `marks` come from `tables.asset_curves` and
    `tables.asset_intensity_marks`."""
    colours = factor_colours(factors)
    fig = go.Figure()
    for fid, pts in curves.groupby("factor_id", sort=False):
        colour = colours.get(str(fid), "#888888")
        name = esc_text(pts["factor_name"].iloc[0])
        source = esc_text(pts["source"].iloc[0])
        fig.add_trace(
            go.Scatter(
                x=pts["intensity"],
                y=pts["damage_ratio"] * 100,
                mode="lines",
                line={"color": colour, "width": 2.5},
                name=name,
                legendgroup=str(fid),
                hovertemplate=f"<b>{name}</b> ({source} curve)<br>Intensity %{{x:.1f}}"
                "<br>Damage ratio %{y:.1f}%<extra></extra>",
            )
        )
        here = marks[marks["factor_id"] == fid]
        if here.empty:
            continue
        labels = ["<br>".join(esc_text(t) for t in scen) for scen in here["scenarios"]]
        fig.add_trace(
            go.Scatter(
                x=here["intensity"],
                y=here["damage_ratio"] * 100,
                mode="markers",
                marker={
                    "color": colour,
                    "size": 11,
                    "symbol": "circle",
                    "line": {"color": "white", "width": 1.5},
                },
                name=f"{name}: scenarios",
                legendgroup=str(fid),
                showlegend=False,
                customdata=np.asarray(labels, dtype=object),
                hovertemplate=f"<b>{name}</b><br>Intensity %{{x:.1f}}, damage ratio "
                "%{y:.1f}%<br>in: %{customdata}<extra></extra>",
            )
        )
    fig.update_xaxes(
        title="Intensity the asset's country feels (0-10 scale)",
        range=[-0.2, 10.2],
        dtick=1,
        gridcolor="#e5e5e5",
    )
    fig.update_yaxes(
        title="Damage ratio (% of exposed value)",
        ticksuffix="%",
        rangemode="tozero",
        gridcolor="#e5e5e5",
    )
    layout(fig, height=460)
    fig.update_layout(legend=SIDE_LEGEND | {"title": {"text": "Factor"}}, hovermode="closest")
    return fig
