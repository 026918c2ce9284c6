"""Risk distribution charts: histogram, exceedance curve with band, tail contributions,
tornado, Sobol indices, an asset's dependency graph and the cascade's share of its losses."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from riskapp.assessment.risk import Graph, Histogram
from riskapp.charts.common import esc_text, factor_colours, layout, money_axis, money_text
from riskapp.domain import FactorCatalogue
from riskapp.format import NumberFormat

GROSS = "#0072B2"
RESIDUAL = "#009E73"
LOW = "#56B4E9"
HIGH = "#D55E00"
GREY = "#8c8c8c"
GRID = "#e5e5e5"
S1_COLOUR = "#0072B2"
ST_COLOUR = "#E69F00"


def _short(text: str, width: int = 52) -> str:
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def _wrap(text: str, width: int = 46, lines: int = 2) -> str:
    """Escaped text in at most `lines` lines of about `width` characters (plotly's <br>)."""
    words, out, line = text.split(), [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > width:
            out.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    out.append(line)
    if len(out) > lines:
        out = [*out[: lines - 1], _short(" ".join(out[lines - 1 :]), width)]
    return "<br>".join(esc_text(part) for part in out)


def _custom(*columns: object) -> np.ndarray:
    return np.column_stack([np.asarray(c, dtype=object) for c in columns])


# -- distribution ---------------------------------------------------------------------------------


def histogram_chart(h: Histogram, markers: dict[str, float], fmt: NumberFormat) -> go.Figure:
    """Simulated years by annual loss (years without loss left out; log count axis, so that
    the rare severe years stay visible), with VaR and ES marked."""
    b = h.bins
    fig = go.Figure()
    centre = (b["left"] + b["right"]) / 2.0
    fig.add_trace(
        go.Bar(
            x=centre,
            y=b["years"],
            width=b["right"] - b["left"],
            name="Simulated years",
            marker={"color": GROSS, "line": {"color": "white", "width": 0.5}},
            customdata=_custom(
                money_text(b["left"], fmt),
                money_text(b["right"], fmt),
                [fmt.percent(s, 2) for s in b["share"]],
            ),
            hovertemplate="Annual loss %{customdata[0]} to %{customdata[1]}:<br>%{y:,} years "
            "(%{customdata[2]} of all years)<extra></extra>",
        )
    )
    top = float(b["years"].max()) if len(b) else 1.0
    styles = {"VaR": "dash", "ES": "dot"}
    for label, value in markers.items():
        fig.add_trace(
            go.Scatter(
                x=[value, value],
                y=[0.7, top * 1.6],
                mode="lines",
                name=label,
                line={
                    "color": HIGH if "99" in label else GREY,
                    "width": 1.5,
                    "dash": styles[label.split(" ")[0]],
                },
                customdata=[fmt.money(value)] * 2,
                hovertemplate=f"{label}: %{{customdata}}<extra></extra>",
            )
        )
    right = max([float(b["right"].max()) if len(b) else 1.0, *markers.values()])
    money_axis(fig, 0.0, right, fmt, "x", gridcolor=GRID)
    fig.update_xaxes(title=f"Annual loss ({fmt.currency})", range=[0, right * 1.03])
    fig.update_yaxes(type="log", title="Simulated years (log scale)", gridcolor=GRID, dtick=1)
    fig.update_layout(bargap=0.02, showlegend=True)
    return layout(fig, height=400, fmt=fmt)


def exceedance_chart(
    gross: pd.DataFrame, residual: pd.DataFrame | None, fmt: NumberFormat
) -> go.Figure:
    """Annual loss against return period (log axis) with the confidence band, gross and, if
    plans exist, with every effective plan applied."""
    fig = go.Figure()
    curves = [("Without plans", gross, GROSS, "solid")]
    if residual is not None and len(residual):
        curves.append(("With plans", residual, RESIDUAL, "dash"))
    for name, curve, colour, dash in curves:
        conf = fmt.percent(float(curve["confidence"].iloc[0]) if len(curve) else 0.9, 0)
        rp = curve["return_period_years"]
        band = _custom(money_text(curve["lower"], fmt), money_text(curve["upper"], fmt))
        fig.add_trace(
            go.Scatter(
                x=rp,
                y=curve["upper"],
                mode="lines",
                line={"width": 0},
                showlegend=False,
                name=f"{name}: {conf} band",
                customdata=band,
                hovertemplate=f"{name}, {conf} band: up to %{{customdata[1]}}<extra></extra>",
            )
        )
        fig.add_trace(
            go.Scatter(
                x=rp,
                y=curve["lower"],
                mode="lines",
                line={"width": 0},
                fill="tonexty",
                fillcolor="rgba(0,114,178,0.15)" if colour == GROSS else "rgba(0,158,115,0.15)",
                showlegend=False,
                name=f"{name}: {conf} band",
                customdata=band,
                hovertemplate=f"{name}, {conf} band: from %{{customdata[0]}}<extra></extra>",
            )
        )
        fig.add_trace(
            go.Scatter(
                x=rp,
                y=curve["loss"],
                mode="lines",
                name=name,
                line={"color": colour, "width": 2, "dash": dash},
                customdata=_custom(money_text(curve["loss"], fmt), band[:, 0], band[:, 1]),
                hovertemplate=f"<b>{name}</b><br>Once in %{{x:.3~g}} years on average: a loss "
                f"of at least %{{customdata[0]}}<br>{conf} band: %{{customdata[1]}} to "
                "%{customdata[2]}<extra></extra>",
            )
        )
    top = float(gross["upper"].max()) if len(gross) else 1.0
    money_axis(fig, 0.0, top, fmt, "y", gridcolor=GRID)
    fig.update_yaxes(title=f"Annual loss ({fmt.currency})", rangemode="tozero")
    hi = float(gross["return_period_years"].max()) if len(gross) else 10.0
    steps = (2, 5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 100_000)
    ticks = [t for t in steps if t <= hi * 1.05]
    fig.update_xaxes(
        type="log",
        title="Return period (years, log scale)",
        tickvals=ticks,
        ticktext=[f"{t / 1000:g}k" if t >= 1000 else f"{t:g}" for t in ticks],
        tickangle=0,
        gridcolor=GRID,
    )
    return layout(fig, height=400, fmt=fmt)


# -- tail contributions -----------------------------------------------------------------------


CASCADE_COLOUR = "#8c8c8c"


def factor_tail_chart(
    table: pd.DataFrame, fmt: NumberFormat, factors: FactorCatalogue
) -> go.Figure:
    """Each factor's part of the expected shortfall at 99 %, in its own colour (the cascade,
    which is no factor of the catalogue, in grey)."""
    labels = [esc_text(n) for n in table["name"]]
    colours = factor_colours(factors)
    fig = go.Figure(
        go.Bar(
            y=labels,
            x=table["tail_es_99"],
            orientation="h",
            marker={"color": [colours.get(k, CASCADE_COLOUR) for k in table["factor"]]},
            text=[fmt.percent(s, 0) for s in table["share"]],
            textposition="outside",
            cliponaxis=False,
            customdata=_custom(
                money_text(table["tail_es_99"], fmt),
                [fmt.percent(s) for s in table["share"]],
                money_text(table["mean"], fmt),
            ),
            hovertemplate="<b>%{y}</b><br>Part of the ES 99 %: %{customdata[0]} "
            "(%{customdata[1]})<br>Mean annual loss: %{customdata[2]}<extra></extra>",
        )
    )
    top = float(table["tail_es_99"].max()) if len(table) else 1.0
    money_axis(fig, 0.0, top, fmt, "x", count=3, gridcolor=GRID)
    fig.update_xaxes(
        title=f"Part of the ES 99 % ({fmt.currency})", range=[0, top * 1.15], tickangle=0
    )
    fig.update_yaxes(autorange="reversed", automargin=True)
    return layout(fig, height=max(260, 80 + 30 * len(table)), fmt=fmt)


def asset_tail_chart(table: pd.DataFrame, fmt: NumberFormat) -> go.Figure:
    """The assets with the largest part of the expected shortfall at 99 %."""
    labels = [
        esc_text(f"{i} {_short(str(n), 30)}")
        for i, n in zip(table["id"], table["name"], strict=True)
    ]
    fig = go.Figure(
        go.Bar(
            y=labels,
            x=table["tail_es_99"],
            orientation="h",
            marker={"color": GROSS},
            text=[fmt.percent(s, 0) for s in table["share"]],
            textposition="outside",
            cliponaxis=False,
            customdata=_custom(
                [esc_text(n) for n in table["name"]],
                [esc_text(c) for c in table["country"]],
                money_text(table["tail_es_99"], fmt),
                [fmt.percent(s) for s in table["share"]],
                money_text(table["mean"], fmt),
            ),
            hovertemplate="<b>%{customdata[0]}</b> (%{customdata[1]})<br>Part of the ES 99 %: "
            "%{customdata[2]} (%{customdata[3]})<br>Mean annual loss: %{customdata[4]}"
            "<extra></extra>",
        )
    )
    top = float(table["tail_es_99"].max()) if len(table) else 1.0
    money_axis(fig, 0.0, top, fmt, "x", count=3, gridcolor=GRID)
    fig.update_xaxes(
        title=f"Part of the ES 99 % ({fmt.currency})", range=[0, top * 1.15], tickangle=0
    )
    fig.update_yaxes(autorange="reversed", automargin=True)
    return layout(fig, height=max(260, 80 + 30 * len(table)), fmt=fmt)


# -- sensitivity --------------------------------------------------------------------------------


def tornado_chart(rows: pd.DataFrame, centre: float, measure: str, fmt: NumberFormat) -> go.Figure:
    """One row per input: bars from the figure with every input at its value to the figure
    at the low end (light) and at the high end (dark) of the input's range."""
    what = "Expected annual loss" if measure == "eal" else "VaR 99 %"
    labels = [_wrap(str(t)) for t in rows["label"]]
    full = [esc_text(t) for t in rows["label"]]
    ranges = [esc_text(t) for t in rows["range"]]
    fig = go.Figure()
    for end, colour, name in (("low", LOW, "Low end of the range"), ("high", HIGH, "High end")):
        values = rows[f"{measure}_{end}"].to_numpy(dtype=float)
        change = values - centre
        setting = [
            esc_text(f"{v:g}")
            if k == "shock"
            else esc_text(f"x{v:g}" if k == "frequency" else f"{v:+g} points")
            for k, v in zip(rows["kind"], rows[end], strict=True)
        ]
        fig.add_trace(
            go.Bar(
                y=labels,
                x=change,
                base=centre,
                orientation="h",
                name=name,
                marker={"color": colour},
                customdata=_custom(
                    full,
                    ranges,
                    setting,
                    money_text(values, fmt),
                    [("+" if c >= 0 else "-") + fmt.money(abs(c)) for c in change],
                ),
                hovertemplate="<b>%{customdata[0]}</b><br>Range: %{customdata[1]}<br>"
                f"At %{{customdata[2]}}: {what} %{{customdata[3]}} (%{{customdata[4]}})"
                "<extra></extra>",
            )
        )
    lo = (
        min(centre, float(rows[[f"{measure}_low", f"{measure}_high"]].min().min()))
        if len(rows)
        else 0.0
    )
    hi = (
        max(centre, float(rows[[f"{measure}_low", f"{measure}_high"]].max().max()))
        if len(rows)
        else 1.0
    )
    pad = (hi - lo) * 0.05 or max(1.0, abs(centre) * 0.05)
    fig.add_vline(x=centre, line={"color": "#333", "width": 1})
    money_axis(fig, lo, hi, fmt, "x", gridcolor=GRID)
    fig.update_xaxes(title=f"{what} ({fmt.currency})", range=[lo - pad, hi + pad])
    fig.update_yaxes(autorange="reversed", automargin=True)
    fig.update_layout(barmode="overlay", bargap=0.3)
    fig.update_yaxes(tickfont={"size": 12})
    return layout(fig, height=max(300, 110 + 40 * len(rows)), fmt=fmt)


def sobol_chart(table: pd.DataFrame) -> go.Figure:
    """First-order (S1) and total (ST) Sobol indices with their confidence intervals."""
    labels = [_wrap(str(t)) for t in table["label"]]
    full = [esc_text(t) for t in table["label"]]
    fig = go.Figure()
    for col, colour, name in (
        ("s1", S1_COLOUR, "Alone (first order, S1)"),
        ("st", ST_COLOUR, "With interactions (total, ST)"),
    ):
        fig.add_trace(
            go.Bar(
                y=labels,
                x=table[col],
                orientation="h",
                name=name,
                marker={"color": colour},
                error_x={
                    "type": "data",
                    "array": table[f"{col}_conf"],
                    "color": "#444",
                    "thickness": 1,
                },
                customdata=_custom(
                    full,
                    [f"{v:.2f}" for v in table[col]],
                    [f"{v:.2f}" for v in table[f"{col}_conf"]],
                ),
                hovertemplate=f"<b>%{{customdata[0]}}</b><br>{name}: %{{customdata[1]}} ± "
                "%{customdata[2]}<extra></extra>",
            )
        )
    top = float((table["st"] + table["st_conf"]).max()) if len(table) else 1.0
    fig.update_xaxes(
        title="Share of the variance of the expected annual loss",
        range=[
            min(0.0, float((table["s1"] - table["s1_conf"]).min()) if len(table) else 0.0),
            max(0.1, min(1.2, top * 1.08)),
        ],
        tickformat=".0%",
        gridcolor=GRID,
        zerolinecolor="#999",
    )
    fig.update_yaxes(autorange="reversed", automargin=True)
    fig.update_layout(barmode="group", bargap=0.3, bargroupgap=0.05)
    fig.update_yaxes(tickfont={"size": 12})
    return layout(fig, height=max(300, 110 + 42 * len(table)))


# -- dependencies ---------------------------------------------------------------------------------


def cascade_chart(frame: pd.DataFrame, fmt: NumberFormat) -> go.Figure:
    """An asset's loss in each scenario, split into its own damage and what arrives through
    its dependencies."""
    labels = [_wrap(str(t), 34) for t in frame["title"]]
    full = [esc_text(t) for t in frame["title"]]
    share = [fmt.percent(s, 0) for s in frame["share"]]
    fig = go.Figure()
    for col, colour, name in (
        ("direct", GROSS, "Own damage"),
        ("cascade", HIGH, "Through its dependencies"),
    ):
        fig.add_trace(
            go.Bar(
                y=labels,
                x=frame[col],
                orientation="h",
                name=name,
                marker={"color": colour},
                customdata=_custom(
                    full,
                    money_text(frame[col], fmt),
                    money_text(frame["total"], fmt),
                    share,
                ),
                text=share if col == "cascade" else None,
                textposition="outside",
                textfont={"size": 11, "color": "#333"},
                cliponaxis=False,
                hovertemplate=f"<b>%{{customdata[0]}}</b><br>{name}: %{{customdata[1]}}<br>"
                "Loss if it occurs: %{customdata[2]}, %{customdata[3]} through dependencies"
                "<extra></extra>",
            )
        )
    top = float(frame["total"].max()) if len(frame) else 1.0
    money_axis(fig, 0.0, top, fmt, "x", count=3, gridcolor=GRID)
    fig.update_xaxes(
        title=f"Loss if it occurs ({fmt.currency})", range=[0, top * 1.15], tickangle=0
    )
    fig.update_yaxes(autorange="reversed", automargin=True)
    fig.update_layout(barmode="stack", bargap=0.3)
    return layout(fig, height=max(260, 100 + 38 * len(frame)), fmt=fmt)


def graph_chart(g: Graph) -> go.Figure:
    """The asset (centre), what it depends on (left, further left for what those depend on)
    and what depends on it (right). Edge labels: the share of the dependent's value riding on
    the link; dashed edges belong to a redundancy group (all must fail)."""
    pos = {r["id"]: (r["x"], r["y"]) for r in g.nodes.to_dict("records")}
    fig = go.Figure()
    mid_x, mid_y, mid_text, mid_hover = [], [], [], []
    groups = (
        g.edges.groupby(["target", "group"])["source"].apply(list).to_dict() if len(g.edges) else {}
    )
    for e in g.edges.to_dict("records"):
        (x0, y0), (x1, y1) = pos[e["source"]], pos[e["target"]]
        dashed = bool(e["group"])
        fig.add_trace(
            go.Scatter(
                x=[x0, x1],
                y=[y0, y1],
                mode="lines",
                line={
                    "color": GREY,
                    "width": 1 + 6 * float(e["share"]),
                    "dash": "dash" if dashed else "solid",
                },
                showlegend=False,
                hoverinfo="skip",
                hovertemplate=None,
            )
        )
        mid_x.append(x0 + (x1 - x0) * 0.4)
        mid_y.append(y0 + (y1 - y0) * 0.4)
        mid_text.append(f"{float(e['share']):.0%}")
        target, source = esc_text(e["target"]), esc_text(e["source"])
        text = f"{float(e['share']):.0%} of {target}'s value rides on {source}"
        if dashed:
            others = [s for s in groups.get((e["target"], e["group"]), []) if s != e["source"]]
            text += (
                f"<br>Redundancy group {esc_text(e['group'])}: lost only as far as "
                f"{esc_text(', '.join([e['source'], *others]))} all fail"
            )
        mid_hover.append(text)
    if mid_x:
        fig.add_trace(
            go.Scatter(
                x=mid_x,
                y=mid_y,
                mode="markers+text",
                marker={"size": 30, "color": "white", "line": {"color": GREY, "width": 1}},
                text=mid_text,
                textfont={"size": 10, "color": "#333"},
                name="Share of the dependent's value",
                showlegend=False,
                customdata=mid_hover,
                hovertemplate="%{customdata}<extra></extra>",
            )
        )
    colours = {"asset": HIGH, "provider": GROSS, "dependent": RESIDUAL}
    names = {"asset": "This asset", "provider": "It depends on", "dependent": "Depends on it"}
    for role in ("asset", "provider", "dependent"):
        nodes = g.nodes[g.nodes["role"] == role]
        if not len(nodes):
            continue
        fig.add_trace(
            go.Scatter(
                x=nodes["x"],
                y=nodes["y"],
                mode="markers+text",
                name=names[role],
                marker={
                    "size": 22 if role == "asset" else 16,
                    "color": colours[role],
                    "line": {"color": "white", "width": 1},
                },
                text=[esc_text(i) for i in nodes["id"]],
                textposition="top center",
                textfont={"size": 11, "color": "#333"},
                customdata=_custom(
                    [esc_text(n) for n in nodes["name"]],
                    [esc_text(t) for t in nodes["type"]],
                    [esc_text(c) for c in nodes["country"]],
                ),
                hovertemplate="<b>%{text}</b> %{customdata[0]}<br>%{customdata[1]}, "
                "%{customdata[2]}<extra></extra>",
            )
        )
    xs = g.nodes["x"] if len(g.nodes) else pd.Series([0.0])
    ys = g.nodes["y"] if len(g.nodes) else pd.Series([0.0])
    fig.update_xaxes(visible=False, range=[float(xs.min()) - 0.5, float(xs.max()) + 0.5])
    fig.update_yaxes(visible=False, range=[float(ys.min()) - 0.8, float(ys.max()) + 0.8])
    fig.update_layout(plot_bgcolor="white")
    return layout(
        fig,
        height=max(260, 90 + 60 * int(g.nodes.groupby("x").size().max() if len(g.nodes) else 1)),
    )
