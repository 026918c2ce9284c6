"""Baseline data charts: a factor's method tree, its built intensity by country, and one
country's breakdown from indicators to the factor score."""

from __future__ import annotations

import html
import textwrap

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from riskapp.assessment.baseline import AGGREGATION_TEXT
from riskapp.charts.common import LOSS_SCALE, esc, layout

# intensity 0-10 (10 worst) on the same colour-blind-safe sequential scale as loss: darker is worse
INTENSITY_SCALE = LOSS_SCALE
NOT_USED = "#c8c8c8"
INTENSITY_AXIS = "Intensity (0-10, 10 worst)"
LABEL_WIDTH = 400  # px left of the breakdown's bars for the tree's labels
INDENT = 22  # px per level of the tree


def blend(colour: str, fraction: float) -> str:
    """`colour` (#rrggbb) mixed with white: fraction 1 = the colour, 0 = white."""
    c = colour.lstrip("#")
    if len(c) != 6:
        return colour
    rgb = [int(c[i : i + 2], 16) for i in (0, 2, 4)]
    mixed = [round(255 - (255 - v) * fraction) for v in rgb]
    return "#" + "".join(f"{v:02x}" for v in mixed)


def depth_colour(colour: str, depth: int) -> str:
    """The factor's colour at the root, lighter down the tree."""
    return blend(colour, {0: 1.0, 1: 0.65}.get(depth, 0.4))


def hover_text(text: str, width: int = 60, limit: int = 400) -> str:
    """Long user text for a hover box: escaped, cut to `limit` characters, wrapped."""
    text = " ".join(str(text).split())
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return "<br>".join(html.escape(line) for line in textwrap.wrap(text, width)) or "-"


def _indicator_label(label: str, kind: str, source: str) -> str:
    if kind == "indicator" and source:
        return f"{label} · {source}"
    return label


def text_colour(background: str) -> str:
    """Dark or white text, whichever reads better on `background` (#rrggbb)."""
    c = background.lstrip("#")
    if len(c) != 6:
        return "#222222"
    r, g, b = (int(c[i : i + 2], 16) / 255 for i in (0, 2, 4))
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return "#222222" if luminance > 0.5 else "#ffffff"


def wrap_label(text: str, width: int = 22) -> str:
    """An escaped label broken over lines for a box of a treemap."""
    return "<br>".join(html.escape(line) for line in textwrap.wrap(text, width)) or "-"


def tree_chart(tree: pd.DataFrame, colour: str, factor_name: str) -> go.Figure:
    """Treemap of a factor's method tree: box size = nominal share of the factor score
    (weights normalised within each node), the factor's colour lighter down the tree."""
    leaf = ~tree["path"].isin(set(tree["parent"]))
    values = np.where(leaf, tree["share"].to_numpy(dtype=float), 0.0)
    labels = [
        _indicator_label(lab, k, s)
        for lab, k, s in zip(tree["label"], tree["kind"], tree["source"], strict=True)
    ]
    labels[0] = factor_name
    fills = [depth_colour(colour, int(d)) for d in tree["depth"]]
    custom = np.column_stack(
        [
            np.asarray(esc(tree["name"]), dtype=object),
            np.asarray(
                [
                    (
                        f"{kind}: {AGGREGATION_TEXT.get(agg, agg)} of its parts"
                        if agg
                        else f"indicator from {source or '-'}"
                    )
                    for kind, agg, source in zip(
                        tree["kind"], tree["aggregation"], tree["source"], strict=True
                    )
                ],
                dtype=object,
            ),
            np.asarray([f"{w:g}" for w in tree["weight"]], dtype=object),
            np.asarray([f"{s:.0%}" for s in tree["share"]], dtype=object),
            np.asarray([hover_text(d) for d in tree["description"]], dtype=object),
            np.asarray(
                [html.escape(m) if m else "the whole factor" for m in tree["weight_meaning"]],
                dtype=object,
            ),
        ]
    )
    fig = go.Figure(
        go.Treemap(
            ids=tree["path"],
            parents=tree["parent"],
            labels=[
                wrap_label(t)
                if is_leaf
                else html.escape(t if d == 0 else f"{t} · weight {w:g} · {sh:.0%}")
                for t, is_leaf, d, w, sh in zip(
                    labels, leaf, tree["depth"], tree["weight"], tree["share"], strict=True
                )
            ],
            values=values,
            branchvalues="remainder",
            sort=False,
            marker={"colors": fills, "line": {"color": "white", "width": 2}},
            textfont={"color": [text_colour(f) for f in fills], "size": 14},
            customdata=custom,
            # a parent shows its label as a header line (weight included); a leaf's box has
            # room for the weight below the name
            texttemplate=[
                "<b>%{label}</b><br>weight %{customdata[2]} · %{customdata[3]}"
                if is_leaf
                else "<b>%{label}</b>"
                for is_leaf in leaf
            ],
            textposition="top left",
            tiling={"pad": 4},
            pathbar={"visible": False},
            hovertemplate=(
                "<b>%{customdata[0]}</b><br>%{customdata[1]}<br>"
                "Weight in its parent: %{customdata[2]} (%{customdata[5]})<br>"
                "Nominal share of the factor score: %{customdata[3]}<br>"
                "<i>%{customdata[4]}</i><extra></extra>"
            ),
            name="method tree",
        )
    )
    fig = layout(fig, height=480)
    fig.update_layout(margin={"l": 0, "r": 0, "t": 10, "b": 10})
    return fig


def intensity_map(frame: pd.DataFrame, factor_name: str) -> go.Figure:
    """Choropleth of a factor's built baseline intensity (0-10) by country; the hover names
    the reliability (0-1) and what, if anything, was imputed."""
    status = [
        html.escape(t) if t else "observed (nothing imputed)"
        for t in frame.get("imputed_text", pd.Series([""] * len(frame)))
    ]
    fig = go.Figure(
        go.Choropleth(
            locations=frame["country"],
            z=frame["score"],
            zmin=0.0,
            zmax=10.0,
            locationmode="ISO-3",
            colorscale=INTENSITY_SCALE,
            marker_line_color="white",
            marker_line_width=0.5,
            colorbar={
                "title": {"text": "Intensity<br>(0-10,<br>10 worst)"},
                "thickness": 12,
                "tickvals": [0, 2, 4, 6, 8, 10],
            },
            customdata=np.column_stack(
                [
                    np.asarray(esc(frame["country_name"]), dtype=object),
                    np.asarray([f"{v:.1f}" for v in frame["score"]], dtype=object),
                    np.asarray([f"{v:.2f}" for v in frame["reliability"]], dtype=object),
                    np.asarray(status, dtype=object),
                ]
            ),
            hovertemplate=(
                "<b>%{customdata[0]}</b> (%{location})<br>"
                + html.escape(factor_name)
                + ": %{customdata[1]} of 10<br>Reliability: %{customdata[2]} (0-1)<br>"
                "%{customdata[3]}<extra></extra>"
            ),
            name=html.escape(factor_name),
            showlegend=False,
        )
    )
    fig.update_geos(
        projection_type="natural earth",
        projection_rotation_lon=0,
        lonaxis_range=[-180, 180],
        lataxis_range=[-58, 85],
        showcountries=True,
        countrycolor="#bbbbbb",
        showland=True,
        landcolor="#e6e6e6",
        showocean=True,
        oceancolor="#eaf2f8",
        showframe=False,
    )
    fig = layout(fig, height=480)
    fig.update_layout(margin={"l": 0, "r": 0, "t": 0, "b": 0})
    return fig


def breakdown_chart(frame: pd.DataFrame, colour: str) -> go.Figure:
    """One country's tree for a factor as horizontal bars of score (0-10), the factor on top
    and each node's parts indented under it; nodes that do not enter the score are grey."""
    paths = frame["path"].tolist()
    labels = [
        html.escape(_indicator_label(lab, k, s))
        for lab, k, s in zip(frame["label"], frame["kind"], frame["source"], strict=True)
    ]
    score = frame["score"].astype(float).to_numpy()
    rel = frame["reliability"].astype(float).to_numpy()
    used = frame["used"].astype(bool).to_numpy()
    colours = [
        depth_colour(colour, int(d)) if u and np.isfinite(s) else NOT_USED
        for d, u, s in zip(frame["depth"], used, score, strict=True)
    ]
    text = [
        "no data" if not np.isfinite(s) else f"{s:.1f}  (r {r:.2f})" + ("" if u else ", not used")
        for s, r, u in zip(score, rel, used, strict=True)
    ]
    what = [
        (
            f"{AGGREGATION_TEXT.get(agg, agg)} of the parts below"
            if agg
            else f"{src} {series}".strip() + (f", {period}" if period else "")
        )
        for agg, src, series, period in zip(
            frame["aggregation"], frame["source"], frame["series"], frame["period"], strict=True
        )
    ]
    custom = np.column_stack(
        [
            np.asarray(esc(frame["name"]), dtype=object),
            np.asarray(esc(what), dtype=object),
            np.asarray(["-" if not np.isfinite(s) else f"{s:.2f}" for s in score], dtype=object),
            np.asarray([f"{r:.2f}" for r in rel], dtype=object),
            np.asarray([f"{w:g}" for w in frame["weight"]], dtype=object),
            np.asarray(
                [
                    f"{e:.0%}" if u else "0% (not used for this country)"
                    for e, u in zip(frame["effective_share"], used, strict=True)
                ],
                dtype=object,
            ),
            np.asarray(esc(frame["status"]), dtype=object),
            np.asarray([html.escape(t) or "-" for t in frame["raw_text"]], dtype=object),
            np.asarray([hover_text(n) if n else "-" for n in frame["note"]], dtype=object),
        ]
    )
    fig = go.Figure(
        go.Bar(
            y=paths,
            x=np.nan_to_num(score, nan=0.0),
            orientation="h",
            marker={"color": colours, "line": {"color": "#666666", "width": 0.5}},
            text=text,
            textposition="outside",
            cliponaxis=False,
            customdata=custom,
            hovertemplate=(
                "<b>%{customdata[0]}</b><br>%{customdata[1]}<br>"
                "Score: %{customdata[2]} of 10 · reliability %{customdata[3]} (0-1)<br>"
                "Raw value: %{customdata[7]}<br>"
                "Weight in its parent: %{customdata[4]} · share of the factor score: "
                "%{customdata[5]}<br>Status: %{customdata[6]}<br>Note: %{customdata[8]}"
                "<extra></extra>"
            ),
            name="score",
        )
    )
    # the tree's labels, left-aligned and indented by depth (tick labels are right-aligned)
    fig.update_yaxes(tickvals=paths, showticklabels=False, autorange="reversed", title=None)
    for path, label, depth in zip(paths, labels, frame["depth"], strict=True):
        fig.add_annotation(
            x=0,
            y=path,
            xref="paper",
            yref="y",
            xanchor="left",
            xshift=-LABEL_WIDTH + INDENT * int(depth),
            text=f"<b>{label}</b>" if int(depth) == 0 else label,
            showarrow=False,
            font={"size": 13, "color": "#333333" if int(depth) < 2 else "#555555"},
        )
    fig.update_xaxes(
        range=[0, 12.5],
        tickvals=[0, 2, 4, 6, 8, 10],
        title=INTENSITY_AXIS,
        showgrid=True,
        gridcolor="#eeeeee",
        zeroline=False,
    )
    fig = layout(fig, height=90 + 34 * len(frame))
    fig.update_layout(
        bargap=0.3, showlegend=False, margin={"l": LABEL_WIDTH + 10, "r": 10, "t": 10, "b": 10}
    )
    return fig
