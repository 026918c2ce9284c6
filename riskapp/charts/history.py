"""Charts of the History page: key figures across saved assessments."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from riskapp.charts.common import layout

TREND_FIGURES = ["Expected annual loss", "Expected annual loss after plans", "1-in-100-year loss"]


def trend_chart(trend: pd.DataFrame, currency: str) -> go.Figure:
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
                hovertemplate="%{text}<br>%{x|%Y-%m-%d}<br>%{y:,.0f} "
                + currency
                + "<extra>"
                + figure
                + "</extra>",
            )
        )
    fig.update_yaxes(title=currency, rangemode="tozero", gridcolor="#eee")
    fig.update_xaxes(title="Assessment date", gridcolor="#eee")
    return layout(fig, "Key figures across saved assessments", height=380)
