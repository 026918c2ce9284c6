"""Overview charts: the region x factor heat map (the world map: riskapp.charts.maps)."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from riskapp.charts.common import (
    LOSS_SCALE,
    esc,
    layout,
    money_colorbar,
    money_text,
)
from riskapp.domain import FactorCatalogue
from riskapp.format import NumberFormat

if TYPE_CHECKING:
    pass


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
