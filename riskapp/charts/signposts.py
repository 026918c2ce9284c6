"""Charts of the Signposts page: an indicator's history against a signpost's threshold."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from riskapp.charts.common import esc_text, layout
from riskapp.domain.scenarios import Direction, Signpost

STATE_COLOURS = {"green": "#117733", "amber": "#DDAA33", "red": "#CC3311"}


def signpost_chart(history: pd.DataFrame, signpost: Signpost, unit: str = "") -> go.Figure:
    """The series by period, coloured by state, with the threshold and the amber band."""
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=history["period"],
            y=history["value"],
            mode="lines",
            line={"color": "#777", "width": 1.5},
            showlegend=False,
            hoverinfo="skip",
        )
    )
    for state, colour in STATE_COLOURS.items():
        part = history[history["state"] == state]
        fig.add_trace(
            go.Scatter(
                x=part["period"],
                y=part["value"],
                mode="markers",
                marker={"color": colour, "size": 7},
                name=state,
                hovertemplate="%{x}: %{y:,.4g}"
                + (f" {esc_text(unit)}" if unit else "")
                + f"<extra>{state}</extra>",
            )
        )
    t, band = signpost.threshold, signpost.amber_band
    fig.add_hline(y=t, line={"color": STATE_COLOURS["red"], "dash": "dash"})
    if band > 0:
        lo, hi = (t - band, t) if signpost.direction is Direction.ABOVE else (t, t + band)
        fig.add_hrect(y0=lo, y1=hi, fillcolor=STATE_COLOURS["amber"], opacity=0.15, line_width=0)
    fig.update_xaxes(type="category", gridcolor="#eee", nticks=12)
    fig.update_yaxes(title=esc_text(unit) if unit else None, gridcolor="#eee")
    title = f"{esc_text(signpost.name)}: {signpost.direction.value} {t:,.4g}"
    return layout(fig, title, height=320)
