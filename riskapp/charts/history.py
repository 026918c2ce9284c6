"""Charts of the History page: key figures across saved assessments."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from riskapp.charts.common import layout, money_axis, money_text
from riskapp.format import NumberFormat

TREND_FIGURES = ["Expected annual loss", "Expected annual loss after plans", "1-in-100-year loss"]


def trend_chart(trend: pd.DataFrame, fmt: NumberFormat) -> go.Figure:
    """Key figures across saved assessments (x: assessment date), one line per figure."""
    fig = go.Figure()
    for figure in TREND_FIGURES:
        fig.add_trace(
            go.Scatter(
                x=trend["as_of"],
                y=trend[figure],
                name=figure,
                mode="lines+markers",
                text=trend["label"],
                customdata=np.asarray(money_text(trend[figure], fmt), dtype=object),
                hovertemplate="%{text}<br>%{x|%Y-%m-%d}<br>%{customdata}<extra>"
                + figure
                + "</extra>",
            )
        )
    values = trend[TREND_FIGURES].to_numpy(dtype=float) if len(trend) else np.zeros(1)
    top = float(np.nanmax(values)) if np.isfinite(values).any() else 0.0
    money_axis(fig, 0.0, max(top, 1.0), fmt, "y")
    fig.update_yaxes(title=fmt.currency, rangemode="tozero", gridcolor="#eee")
    fig.update_xaxes(title="Assessment date", gridcolor="#eee")
    return layout(fig, "Key figures across saved assessments", height=380, fmt=fmt)
