"""Contingency-plan charts: trigger matrix, action Gantt, loss waterfall, cost against benefit."""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from riskapp.assessment.tables import (
    BAR_STATES,
    EFFECTIVE,
    IN_PLACE,
    IN_TIME,
    LATE,
    NOT_READY,
    NOT_TRIGGERED,
    RETIRED,
    TRIGGER_STATES,
)
from riskapp.charts.common import esc_text, layout, money_text
from riskapp.format import NumberFormat

# Okabe-Ito (colour-blind safe); the states also carry a text label in every cell
STATE_COLOURS = {
    NOT_TRIGGERED: "#F0F0F0",
    EFFECTIVE: "#0072B2",
    NOT_READY: "#D55E00",
    RETIRED: "#999999",
}
BAR_COLOURS = {IN_TIME: "#0072B2", LATE: "#D55E00", IN_PLACE: "#999999"}
STATUS_COLOURS = {
    "proposed": "#E69F00",
    "approved": "#56B4E9",
    "ready": "#009E73",
    "active": "#0072B2",
    "retired": "#999999",
}
GRID = "#e5e5e5"


def wrap(text: str, width: int = 22) -> str:
    """Escaped user text broken into lines for a category axis."""
    return "<br>".join(
        esc_text(line) for line in textwrap.wrap(text, width, break_long_words=False) or [""]
    )


def short(text: str, width: int = 48) -> str:
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def trigger_heatmap(
    matrix: pd.DataFrame, fmt: NumberFormat, chosen: str | None = None
) -> go.Figure:
    """Scenarios (rows) x plans (columns) coloured by the plan's state in the scenario;
    `matrix` is `tables.trigger_matrix`. The `chosen` scenario's row is outlined."""
    scenarios = matrix.drop_duplicates("scenario_id")
    plans = matrix.drop_duplicates("plan_id")
    n_s, n_p = len(scenarios), len(plans)
    z = matrix["code"].to_numpy(dtype=float).reshape(n_s, n_p)
    cell = {
        NOT_TRIGGERED: "",
        EFFECTIVE: "effective",
        RETIRED: "retired",
    }
    records = matrix.to_dict("records")
    text = np.array(
        [
            f"{fmt.number(row['gap_days'])} d<br>late"  # two short lines fit narrow columns
            if row["state"] == NOT_READY
            else cell[row["state"]]
            for row in records
        ],
        dtype=object,
    ).reshape(n_s, n_p)
    hover = np.array(
        [
            f"<b>{esc_text(row['plan_title'])}</b><br>in {esc_text(row['scenario_title'])}<br>"
            f"State: {row['state']}<br>"
            + (
                "Plan in place (ready/active): no lead time"
                if row["in_place"]
                else f"Lead time {fmt.number(row['lead_time_days'])} d, "
                f"warning {fmt.number(row['warning_days'])} d"
            )
            + (
                f"<br>Readiness gap: {fmt.days(row['gap_days'])}"
                if row["state"] == NOT_READY
                else ""
            )
            for row in records
        ],
        dtype=object,
    ).reshape(n_s, n_p)
    k = len(TRIGGER_STATES)
    scale = []
    for i, state in enumerate(TRIGGER_STATES):
        scale += [[i / k, STATE_COLOURS[state]], [(i + 1) / k, STATE_COLOURS[state]]]
    x = [wrap(t, 12) for t in plans["plan_title"]]
    y = [wrap(t, 34) for t in scenarios["scenario_title"]]
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=x,
            y=y,
            zmin=-0.5,
            zmax=k - 0.5,
            colorscale=scale,
            text=text,
            texttemplate="%{text}",
            textfont={"size": 11},
            customdata=hover,
            hovertemplate="%{customdata}<extra></extra>",
            xgap=2,
            ygap=2,
            showscale=False,
            name="plan state",
        )
    )
    for state in TRIGGER_STATES:  # the legend: one swatch per state
        fig.add_trace(
            go.Scatter(
                x=[None],
                y=[None],
                mode="markers",
                marker={
                    "symbol": "square",
                    "size": 14,
                    "color": STATE_COLOURS[state],
                    "line": {"color": "#999999", "width": 1},
                },
                name=state,
                hoverinfo="skip",
            )
        )
    if chosen is not None and chosen in set(scenarios["scenario_id"]):
        row = list(scenarios["scenario_id"]).index(chosen)
        fig.add_shape(
            type="rect",
            xref="x",
            yref="y",
            x0=-0.5,
            x1=n_p - 0.5,
            y0=row - 0.5,
            y1=row + 0.5,
            line={"color": "#000000", "width": 2.5},
            fillcolor="rgba(0,0,0,0)",
        )
    fig.update_yaxes(autorange="reversed", title="Scenario", automargin=True)
    fig.update_xaxes(side="top", tickangle=0, automargin=True, tickfont={"size": 10})
    layout(fig, height=max(380, 46 * n_s + 220), fmt=fmt)
    fig.update_layout(
        legend={"orientation": "h", "yanchor": "top", "y": -0.02, "x": 0, "title": "Plan state"}
    )
    return fig


def action_gantt(timeline: pd.DataFrame, warning_days: float, fmt: NumberFormat) -> go.Figure:
    """Each action as a bar from day 0 to its lead time, grouped under its plan, with the
    scenario's warning time as a vertical line; `timeline` is `tables.action_timeline`."""
    # categories are ids (equal action titles in two plans stay apart); ticks show titles
    keys: list[str] = []
    ticks: list[str] = []
    headers: list[int] = []
    key_of: dict[object, str] = {}
    for pid, part in timeline.groupby("plan_id", sort=False):
        headers.append(len(keys))
        keys.append(f"plan:{pid}")
        ticks.append(f"<b>{esc_text(short(str(part['plan_title'].iloc[0]), 52))}</b>")
        for i, (idx, action) in enumerate(part["action"].items()):
            key_of[idx] = f"action:{pid}:{i}"
            keys.append(key_of[idx])
            ticks.append(esc_text(short(str(action), 52)))
    fig = go.Figure()
    for state in BAR_STATES:
        part = timeline[timeline["bar_state"] == state]
        if part.empty:
            continue
        custom = np.column_stack(
            [
                np.asarray([esc_text(t) for t in part["plan_title"]], dtype=object),
                np.asarray([esc_text(t) for t in part["action"]], dtype=object),
                np.asarray([esc_text(t) for t in part["owner"]], dtype=object),
                np.asarray(money_text(part["one_off_cost"], fmt), dtype=object),
                np.asarray(money_text(part["annual_cost"], fmt), dtype=object),
                np.asarray(
                    [
                        f"{late:.0f} days after the warning time" if late > 0 else "in time"
                        for late in part["late_days"]
                    ],
                    dtype=object,
                ),
                np.asarray(part["plan_status"], dtype=object),
            ]
        )
        fig.add_trace(
            go.Bar(
                y=[key_of[i] for i in part.index],
                x=part["lead_time_days"],
                base=0,
                orientation="h",
                name=state,
                marker={"color": BAR_COLOURS[state], "line": {"color": "white", "width": 0.5}},
                customdata=custom,
                hovertemplate="<b>%{customdata[1]}</b><br>Plan: %{customdata[0]} "
                "(%{customdata[6]})<br>Owner: %{customdata[2]}<br>Lead time: %{x:.0f} days"
                " (%{customdata[5]})<br>One-off cost: %{customdata[3]}<br>Annual cost: "
                "%{customdata[4]}<extra></extra>",
            )
        )
    fig.add_vline(
        x=warning_days,
        line={"color": "#000000", "width": 2, "dash": "dash"},
        annotation_text=f"warning time: {warning_days:.0f} days",
        annotation_position="top right",
        annotation_font={"size": 12},
    )
    fig.update_yaxes(
        categoryorder="array",
        categoryarray=keys,
        tickvals=keys,
        ticktext=ticks,
        autorange="reversed",
        automargin=True,
        tickfont={"size": 11},
    )
    for row in headers:
        fig.add_hrect(
            y0=row - 0.5,
            y1=row + 0.5,
            fillcolor="#f3f3f3",
            line_width=0,
            layer="below",
        )
    longest = max([float(timeline["lead_time_days"].max()), warning_days, 1.0])
    fig.update_xaxes(
        title="Days from the warning (lead time of each action)",
        range=[0, longest * 1.08],
        gridcolor=GRID,
        zeroline=True,
        zerolinecolor="#999999",
    )
    fig.update_layout(barmode="overlay", bargap=0.3, legend_title_text="Action")
    return layout(fig, height=max(320, 24 * len(keys) + 140), fmt=fmt)


def loss_waterfall(steps: pd.DataFrame, fmt: NumberFormat) -> go.Figure:
    """Gross loss, the loss each effective plan averts on top of those before it, residual
    loss; `steps` is `tables.waterfall_steps`."""
    divisor, unit = fmt.unit(steps["after_step"].to_numpy())
    labels = [wrap(t, 34) for t in steps["label"]]
    amounts = steps["amount"].to_numpy(dtype=float)
    text = [
        money_text([v], fmt)[0] if m != "relative" else "-" + money_text([-v], fmt)[0]
        for v, m in zip(amounts, steps["measure"], strict=True)
    ]
    after = money_text(steps["after_step"], fmt)
    fig = go.Figure(
        go.Waterfall(
            y=labels,
            x=amounts / divisor,
            measure=steps["measure"].tolist(),
            orientation="h",
            text=text,
            textposition="outside",
            customdata=np.column_stack(
                [np.asarray(text, dtype=object), np.asarray(after, dtype=object)]
            ),
            hovertemplate="<b>%{y}</b><br>%{customdata[0]}<br>Loss after this step: "
            "%{customdata[1]}<extra></extra>",
            decreasing={"marker": {"color": "#0072B2"}},
            increasing={"marker": {"color": "#D55E00"}},
            totals={"marker": {"color": "#555555"}},
            connector={"line": {"color": "#999999", "width": 1, "dash": "dot"}},
            cliponaxis=False,
            name="loss",
        )
    )
    fig.update_yaxes(autorange="reversed", automargin=True)
    fig.update_xaxes(
        title=f"Loss in the scenario ({unit})",
        gridcolor=GRID,
        rangemode="tozero",
        range=[0, float(steps["amount"].iloc[0]) / divisor * 1.2 or 1.0],
    )
    layout(fig, height=max(260, 46 * len(steps) + 120))
    fig.update_layout(showlegend=False, margin={"r": 90}, separators=fmt.plotly_separators)
    return fig


def cost_benefit(plans: pd.DataFrame, fmt: NumberFormat, horizon_years: int) -> go.Figure:
    """Cost NPV (x) against averted-loss NPV (y) per plan, bubble size = benefit-cost ratio,
    colour = status, with the break-even diagonal; `plans` is `tables.plan_register`."""
    values = np.concatenate([plans["cost_npv"].to_numpy(), plans["averted_npv"].to_numpy()])
    divisor, unit = fmt.unit(values)
    top = float(np.nanmax(values)) / divisor * 1.12 if len(values) else 1.0
    top = top or 1.0
    fig = go.Figure(
        go.Scatter(
            x=[0, top],
            y=[0, top],
            mode="lines",
            line={"color": "#777777", "dash": "dash", "width": 1.5},
            name="break-even (benefit = cost)",
            hovertemplate="Break-even: averted loss = cost<extra></extra>",
        )
    )
    statuses = [s for s in STATUS_COLOURS if s in set(plans["status"])]
    for status in statuses:
        part = plans[plans["status"] == status]
        custom = np.column_stack(
            [
                np.asarray([esc_text(t) for t in part["title"]], dtype=object),
                np.asarray([esc_text(t) for t in part["owner"]], dtype=object),
                np.asarray(money_text(part["cost_npv"], fmt), dtype=object),
                np.asarray(money_text(part["averted_npv"], fmt), dtype=object),
                np.asarray(part["bcr_label"], dtype=object),
                np.asarray(money_text(part["averted_eal"], fmt), dtype=object),
            ]
        )
        fig.add_trace(
            go.Scatter(
                x=part["cost_npv"] / divisor,
                y=part["averted_npv"] / divisor,
                mode="markers+text",
                marker={
                    "size": part["size"],
                    "color": STATUS_COLOURS[status],
                    "opacity": 0.85,
                    "line": {"color": "white", "width": 1},
                },
                text=[str(n) for n in part["number"]],
                textposition="top center",
                textfont={"size": 12, "color": "#222222"},
                cliponaxis=False,
                name=status,
                customdata=custom,
                hovertemplate="<b>%{text}. %{customdata[0]}</b><br>Owner: %{customdata[1]}<br>"
                "Status: %{fullData.name}<br>Cost (NPV): %{customdata[2]}<br>Averted loss "
                "(NPV): %{customdata[3]}<br>Averted EAL: %{customdata[5]} a year<br>"
                "Benefit-cost ratio: %{customdata[4]}<extra></extra>",
            )
        )
    fig.update_xaxes(
        title=f"Cost, NPV over {horizon_years} years ({unit})",
        range=[-top * 0.03, top],
        gridcolor=GRID,
        zerolinecolor="#999999",
    )
    fig.update_yaxes(
        title=f"Averted loss, NPV over {horizon_years} years ({unit})",
        range=[-top * 0.03, top],
        gridcolor=GRID,
        zerolinecolor="#999999",
    )
    fig.update_layout(legend_title_text="Status")
    return layout(fig, height=520, fmt=fmt)
