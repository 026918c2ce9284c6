"""Overview charts: world map of loss and assets, and the region x factor heat map."""

from __future__ import annotations

import html
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from riskapp.charts.common import (
    LOSS_SCALE,
    colorscale,
    esc,
    factor_colours,
    layout,
    layout_props,
    money_colorbar,
    money_text,
    spec_figure,
)
from riskapp.domain import FactorCatalogue
from riskapp.format import NumberFormat


def world_map(
    countries: pd.DataFrame,
    assets: pd.DataFrame,
    factors: FactorCatalogue,
    fmt: NumberFormat,
    measure: str = "eal",
    max_markers: int | None = None,
    fast: bool = False,
) -> go.Figure:
    """Choropleth of `measure` by country with asset markers sized by EAL and coloured by the
    factor that drives most of their loss. `max_markers`: at most that many markers, those of
    the assets with the largest EAL (`marker_count` tells how many a map draws). `fast`: see
    `spec_figure` (the Overview's first chart: a checked map's first build in a process loads
    plotly's checks of its trace types, about 0.15 s)."""
    label = {"eal": "Expected annual loss", "exposed_value": "Exposed value"}[measure]
    data: list[dict[str, Any]] = [
        {
            "type": "choropleth",
            "locations": list(countries.index),
            "z": countries[measure].to_numpy(),
            "locationmode": "ISO-3",
            "colorscale": colorscale(LOSS_SCALE),
            "marker": {"line": {"color": "white", "width": 0.5}},
            "colorbar": money_colorbar(f"{label}<br>({fmt.currency})", countries[measure], fmt),
            "customdata": np.column_stack(
                [
                    np.asarray(esc(countries["country_name"]), dtype=object),
                    np.asarray(money_text(countries[measure], fmt), dtype=object),
                ]
            ),
            "hovertemplate": "<b>%{customdata[0]}</b><br>"
            + label
            + ": %{customdata[1]}<extra></extra>",
            "name": label,
            "showlegend": False,
        }
    ]
    located = assets.dropna(subset=["lat", "lon"])
    if max_markers is not None and len(located) > max_markers:
        # markers sized by EAL: the largest are the ones a reader sees; the sizes keep the scale
        # of the largest asset, which is among them
        located = located.loc[located["eal"].sort_values(ascending=False).index[:max_markers]]
        located = located.sort_index()  # the order of the register, as without a cap
    colours = factor_colours(factors)
    names = {f.id: f.name for f in factors.factors}
    peak = float(located["eal"].max()) if len(located) else 0.0
    for fid in [f.id for f in factors.factors] + [""]:
        part = located[located["dominant_factor"] == fid]
        if part.empty:
            continue
        size = 6 + 24 * np.sqrt(part["eal"] / peak) if peak > 0 else np.full(len(part), 6.0)
        data.append(
            {
                "type": "scattergeo",
                "lat": part["lat"].to_numpy(),
                "lon": part["lon"].to_numpy(),
                "mode": "markers",
                "marker": {
                    "size": np.asarray(size),
                    "color": colours.get(fid, "#888888"),
                    "line": {"color": "white", "width": 1},
                    "opacity": 0.9,
                },
                "name": html.escape(names.get(fid, "no loss")),
                "customdata": np.column_stack(
                    [
                        np.asarray(esc(part["name"]), dtype=object),
                        np.asarray(esc(part["type"]), dtype=object),
                        np.asarray(esc(part["country_name"]), dtype=object),
                        np.asarray(money_text(part["eal"], fmt), dtype=object),
                    ]
                ),
                "hovertemplate": (
                    "<b>%{customdata[0]}</b><br>%{customdata[1]}, %{customdata[2]}<br>"
                    "Expected annual loss: %{customdata[3]}<extra>%{fullData.name}</extra>"
                ),
            }
        )
    spec = {
        "data": data,
        "layout": {
            **layout_props(height=560),
            "geo": {
                "projection": {"type": "natural earth"},
                "showcountries": True,
                "countrycolor": "#bbbbbb",
                "showland": True,
                "landcolor": "#f2f2f2",
                "showocean": True,
                "oceancolor": "#eaf2f8",
                "showframe": False,
                **_frame(located),
            },
            "legend": {"orientation": "h", "x": 0, "y": -0.02, "yanchor": "top"},
            "margin": {"l": 0, "r": 0, "t": 0, "b": 0},
            "separators": fmt.plotly_separators,
        },
    }
    return spec_figure(spec, fast)


def marker_count(assets: pd.DataFrame, max_markers: int | None = None) -> tuple[int, int]:
    """(markers `world_map` draws, assets with a location) for these assets."""
    located = int(assets[["lat", "lon"]].notna().all(axis=1).sum())
    return (located if max_markers is None else min(located, max_markers)), located


def _frame(located: pd.DataFrame) -> dict[str, Any]:
    """The map's geo ranges around the located assets (with a margin), or the whole world."""
    if located.empty:
        return {
            "lonaxis": {"range": [-180.0, 180.0]},
            "lataxis": {"range": [-60.0, 85.0]},
            "projection": {"type": "natural earth", "rotation": {"lon": 0.0}},
        }
    lat, lon = located["lat"].astype(float), located["lon"].astype(float)
    lon_range = [max(-180.0, float(lon.min()) - 12), min(180.0, float(lon.max()) + 12)]
    middle = (lon_range[0] + lon_range[1]) / 2
    return {
        "lonaxis": {"range": lon_range},
        "lataxis": {"range": [max(-60.0, float(lat.min()) - 8), min(85.0, float(lat.max()) + 8)]},
        "projection": {"type": "natural earth", "rotation": {"lon": middle}},
        "center": {"lon": middle, "lat": float(lat.mean())},
    }


def _wrap(text: str, width: int = 16) -> str:
    """Break a long axis label over lines so that columns stay narrow."""
    words, lines, line = text.split(), [], ""
    for w in words:
        if line and len(line) + len(w) + 1 > width:
            lines.append(line)
            line = w
        else:
            line = f"{line} {w}".strip()
    lines.append(line)
    return "<br>".join(lines)


def factor_heatmap(
    table: pd.DataFrame, factors: FactorCatalogue, fmt: NumberFormat, rows: str
) -> go.Figure:
    """Rows (countries or region groups) x factors, coloured by expected annual loss."""
    names = {f.id: f.name for f in factors.factors}
    columns = [_wrap(html.escape(names.get(c, c))) for c in table.columns]
    text = np.array([money_text(row, fmt) for row in table.to_numpy()]) if len(table) else None
    fig = go.Figure(
        go.Heatmap(
            z=table.to_numpy(),
            x=columns,
            y=esc(table.index),
            colorscale=LOSS_SCALE,
            text=text,
            texttemplate="%{text}" if len(table) <= 25 else None,
            textfont={"size": 10},
            hovertemplate="<b>%{y}</b> - %{x}<br>Expected annual loss: %{text}<extra></extra>",
            colorbar=money_colorbar(f"EAL ({fmt.currency})", table.to_numpy(), fmt),
            xgap=1,
            ygap=1,
        )
    )
    fig.update_yaxes(autorange="reversed", title=rows)
    fig.update_xaxes(side="top", tickangle=0)
    return layout(fig, height=max(320, 30 * len(table) + 120), fmt=fmt)
