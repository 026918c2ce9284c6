"""The world map of the Overview and the reports: countries shaded by loss, asset markers, zones,
routes and dependencies, framed on where the loss is, with its caption."""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from riskapp.charts.common import (
    LOSS_SCALE,
    colorscale,
    esc,
    esc_text,
    factor_colours,
    layout_props,
    money_colorbar,
    money_text,
    spec_figure,
)
from riskapp.charts.framing import frame_spec, frame_weight, framed
from riskapp.domain import FactorCatalogue
from riskapp.format import NumberFormat

if TYPE_CHECKING:
    from riskapp.assessment.core import Assessment


ZONE_LINE = "#5E3C99"  # zones: one colour, apart from the factors' and the loss scale's
ZONE_FILL = "rgba(94, 60, 153, 0.12)"
FLOW_LINE = "rgba(60, 60, 60, 0.45)"  # dependencies: thin grey lines, arrows at their middle
FLOW_ARROW = "rgba(60, 60, 60, 0.8)"


def world_map(
    countries: pd.DataFrame,
    assets: pd.DataFrame,
    factors: FactorCatalogue,
    fmt: NumberFormat,
    measure: str = "eal",
    max_markers: int | None = None,
    fast: bool = False,
    zones: pd.DataFrame | None = None,
    flows: pd.DataFrame | None = None,
    max_flows: int | None = None,
    routes: pd.DataFrame | None = None,
) -> go.Figure:
    """Choropleth of `measure` by country with asset markers sized by EAL and coloured by the
    factor that drives most of their loss. `max_markers`: at most that many markers, those of
    the assets with the largest EAL (`marker_count` tells how many a map draws). `fast`: see
    `spec_figure` (the Overview's first chart: a checked map's first build in a process loads
    plotly's checks of its trace types, about 0.15 s).

    `zones`: `riskapp.assessment.zones.zone_table` with the `zone_outlines` columns, drawn as
    filled outlines (one legend entry, "Zones") with a marker inside each; hovering either
    shows the zone's assets, loss and peak intensity. `flows`:
    `riskapp.assessment.flows.dependency_flows` (largest value at stake first), drawn as thin
    lines from each asset to what it depends on with an arrow at their middle pointing to it
    (hover: the share and value at stake); `max_flows`: only the first that many. `routes`:
    `riskapp.assessment.zones.route_table`, drawn as lines in the colour of their dominant
    factor (hover: the route, its landings, length, loss and peak intensity).

    The map is framed on the assets (`framed`), not on zones or flows."""
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
    if zones is not None and len(zones):
        data += zone_traces(zones, factors, fmt)
    if flows is not None and len(flows):
        data += flow_traces(flows if max_flows is None else flows.iloc[:max_flows], fmt)
    if routes is not None and len(routes):
        data += route_traces(routes, factors, fmt)
    everything = assets.dropna(subset=["lat", "lon"])
    located = everything
    if max_markers is not None and len(located) > max_markers:
        from riskapp.assessment.core import largest_first

        # markers sized by EAL: the largest are the ones a reader sees (ranked as every surface
        # ranks assets, so the Top assets table's all have one); the sizes keep the scale of
        # the largest asset, which is among them; drawn in the register's order
        located = largest_first(located, top=max_markers).sort_index()
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
                **frame_spec(everything[framed(everything)]),
            },
            "legend": {"orientation": "h", "x": 0, "y": -0.02, "yanchor": "top"},
            "margin": {"l": 0, "r": 0, "t": 0, "b": 0},
            "separators": fmt.plotly_separators,
        },
    }
    return spec_figure(spec, fast)


def zone_hover(zones: pd.DataFrame, factors: FactorCatalogue, fmt: NumberFormat) -> list[str]:
    """Each zone's hover text (`zone_table` rows): name and kind, its assets, their exposed
    value and expected annual loss, and the peak intensity with its factor and scenario."""
    names = {f.id: f.name for f in factors.factors}
    out = []
    columns = [
        zones[c].tolist()
        for c in (
            "name",
            "kind",
            "assets",
            "exposed_value",
            "eal",
            "peak_factor",
            "peak_intensity",
            "peak_scenario",
        )
    ]
    for name, kind, count, exposed, eal, factor, intensity, scenario in zip(
        *columns, strict=True
    ):  # one per zone
        lines = [f"<b>{esc_text(name)}</b> ({kind})"]
        if count:
            lines += [
                f"Assets: {fmt.number(count)}, exposed value {fmt.money(exposed)}",
                f"Expected annual loss: {fmt.money(eal)}",
                f"Peak intensity: {fmt.number(intensity, 1)} "
                f"({esc_text(names.get(factor, factor))}) in {esc_text(scenario)}"
                if factor
                else "Peak intensity: n/a (no scenario)",
            ]
        else:
            lines.append("No asset in it")
        out.append("<br>".join(lines))
    return out


def zone_traces(
    zones: pd.DataFrame, factors: FactorCatalogue, fmt: NumberFormat
) -> list[dict[str, Any]]:
    """One filled outline per zone, and one trace of markers inside them (plotly hovers on a
    trace's points, not inside its fill: the marker is where to point at a large zone)."""
    text = zone_hover(zones, factors, fmt)
    # a subdivision known only from the register has no outline: its marker alone
    drawn = [
        (i, lon, lat)
        for i, (lon, lat) in enumerate(zip(zones["lon"], zones["lat"], strict=True))
        if len(lon)
    ]
    traces: list[dict[str, Any]] = [
        {
            "type": "scattergeo",
            "lon": np.asarray(lon, dtype=float),
            "lat": np.asarray(lat, dtype=float),
            "mode": "lines",
            "fill": "toself",
            "fillcolor": ZONE_FILL,
            "line": {"color": ZONE_LINE, "width": 1.5},
            "name": "Zones",
            "legendgroup": "zones",
            "showlegend": k == 0,
            # the trace's own text, not one per vertex (plotly reads no single `text` in a
            # hover template)
            "meta": text[i],
            "hovertemplate": "%{meta}<extra></extra>",
        }
        for k, (i, lon, lat) in enumerate(drawn)
    ]
    traces.append(
        {
            "type": "scattergeo",
            "lon": zones["label_lon"].to_numpy(dtype=float),
            "lat": zones["label_lat"].to_numpy(dtype=float),
            "mode": "markers",
            "marker": {
                "symbol": "diamond",
                "size": 8,
                "color": ZONE_LINE,
                "line": {"color": "white", "width": 1},
            },
            "name": "Zones",
            "legendgroup": "zones",
            "showlegend": not drawn,  # the legend entry is the first outline's, if any
            "text": text,
            "hovertemplate": "%{text}<extra></extra>",
        }
    )
    return traces


def route_traces(
    routes: pd.DataFrame, factors: FactorCatalogue, fmt: NumberFormat
) -> list[dict[str, Any]]:
    """Routes (`route_table` rows) as lines, one trace per dominant factor in its colour; each
    vertex carries the route's hover text."""
    colours = factor_colours(factors)
    names = {f.id: f.name for f in factors.factors}
    out: list[dict[str, Any]] = []
    for fid in [f.id for f in factors.factors] + [""]:
        part = routes[routes["dominant_factor"] == fid]
        if part.empty:
            continue
        lon: list[float | None] = []
        lat: list[float | None] = []
        text: list[str | None] = []
        columns = [
            part[c].tolist()
            for c in (
                "name", "type", "start_country", "end_country", "length_km", "parts", "rule",
                "eal", "peak_intensity", "peak_factor", "peak_scenario", "lon", "lat",
            )
        ]  # fmt: skip
        for (
            name, kind, start, end, km, crossed, rule, eal, peak, factor, scenario, xs, ys,
        ) in zip(*columns, strict=True):  # fmt: skip
            hover = (
                f"<b>{esc_text(name)}</b><br>{esc_text(kind)}, {esc_text(start)} to "
                f"{esc_text(end)}, {float(km):,.0f} km across {int(crossed)} place(s) "
                f"({esc_text(rule)})<br>Expected annual loss: {fmt.money(float(eal))}<br>"
                f"Peak intensity: {float(peak):.1f} ({esc_text(names.get(factor, factor))}, "
                f"{esc_text(scenario)})"
            )
            lon += [*xs, None]
            lat += [*ys, None]
            text += [hover] * len(xs) + [None]
        out.append(
            {
                "type": "scattergeo",
                "mode": "lines",
                "lon": lon,
                "lat": lat,
                "line": {"color": colours.get(fid, "#888888"), "width": 2.5},
                "opacity": 0.85,
                "name": "Routes (coloured by main factor)",
                "legendgroup": "routes",
                "showlegend": not out,
                "text": text,
                "hovertemplate": "%{text}<extra>route</extra>",
            }
        )
    return out


def flow_traces(flows: pd.DataFrame, fmt: NumberFormat) -> list[dict[str, Any]]:
    """Dependencies (`dependency_flows` rows): one trace of lines (drawn as great circles, the
    way the midpoints were found), one of arrows at their middle carrying the hover."""
    n = len(flows)
    gap = np.full(n, np.nan)
    bearing = flows["bearing"].to_numpy(dtype=float)
    lon = np.column_stack([flows["lon"], flows["to_lon"], gap]).ravel()
    lat = np.column_stack([flows["lat"], flows["to_lat"], gap]).ravel()
    detail = [
        f"Share of its value: {fmt.percent(share, 0)}<br>Value at stake: {fmt.money(value)}"
        + (f"<br>Backed up by its other '{esc_text(group)}' links" if group else "")
        if not math.isnan(share)
        else "No share given: no loss passes on"
        for share, value, group in zip(
            flows["share"], flows["value_at_stake"], flows["redundancy_group"], strict=True
        )
    ]
    return [
        {
            "type": "scattergeo",
            "lon": lon,
            "lat": lat,
            "mode": "lines",
            "line": {"color": FLOW_LINE, "width": 1},
            "name": "Dependencies",
            "legendgroup": "flows",
            "hoverinfo": "skip",
        },
        {
            "type": "scattergeo",
            "lon": flows["mid_lon"].to_numpy(dtype=float),
            "lat": flows["mid_lat"].to_numpy(dtype=float),
            "mode": "markers",
            "marker": {
                "symbol": "arrow",
                "size": 9,
                # in -180..180 as plotly's checks write angles (to the last bit)
                "angle": (bearing + 180.0) % 360.0 - 180.0,
                "angleref": "north",
                "color": FLOW_ARROW,
            },
            "name": "Dependencies",
            "legendgroup": "flows",
            "showlegend": False,
            "customdata": np.column_stack(
                [
                    np.asarray(esc(flows["name"]), dtype=object),
                    np.asarray(esc(flows["depends_on_name"]), dtype=object),
                    np.asarray(detail, dtype=object),
                ]
            ),
            "hovertemplate": "<b>%{customdata[0]}</b> depends on <b>%{customdata[1]}</b>"
            "<br>%{customdata[2]}<extra></extra>",
        },
    ]


def marker_count(assets: pd.DataFrame, max_markers: int | None = None) -> tuple[int, int]:
    """(markers `world_map` draws, assets with a location) for these assets."""
    located = int(assets[["lat", "lon"]].notna().all(axis=1).sum())
    return (located if max_markers is None else min(located, max_markers)), located


@dataclass(frozen=True)
class WorldMap:
    """The map of an assessment, and the caption that says what it shows and leaves out."""

    figure: go.Figure
    caption: str


def overview_map(
    a: Assessment,
    measure: str = "eal",
    max_markers: int | None = None,
    max_flows: int | None = None,
    fast: bool = False,
    assets: pd.DataFrame | None = None,
    interactive: bool = True,
) -> WorldMap:
    """The world map of the Overview and the reports: countries, asset markers, the
    workspace's zones and the dependencies between located assets (`world_map`), with its
    caption (`map_caption`; `interactive`: it tells where to hover and zoom). `assets`:
    `asset_table(a)` when the caller has it."""
    from riskapp.assessment.core import asset_table, country_losses
    from riskapp.assessment.flows import dependency_flows
    from riskapp.assessment.zones import (
        route_table,
        subdivision_labels,
        zone_outlines,
        zone_table,
    )

    assets = asset_table(a) if assets is None else assets
    zones = zone_table(a)
    if len(zones):
        drawn = [d for d in (zone_outlines(a.ws.zones.zones), subdivision_labels(a)) if len(d)]
        zones = zones.merge(pd.concat(drawn) if drawn else zone_outlines([]), on="id")
    flows = dependency_flows(a)
    figure = world_map(
        country_losses(a),
        assets,
        a.ws.factors,
        a.fmt,
        measure,
        max_markers,
        fast,
        zones=zones,
        flows=flows,
        max_flows=max_flows,
        routes=route_table(a),
    )
    caption = map_caption(
        assets, a.fmt, measure, max_markers, len(flows), max_flows, len(zones), interactive
    )
    return WorldMap(figure, caption)


def map_caption(
    assets: pd.DataFrame,
    fmt: NumberFormat,
    measure: str = "eal",
    max_markers: int | None = None,
    flows: int = 0,
    max_flows: int | None = None,
    zones: int = 0,
    interactive: bool = True,
) -> str:
    """What the map shows, and what it leaves out: markers beyond `max_markers`, dependencies
    beyond `max_flows`, assets outside the frame. `interactive`: for a map one can hover and
    zoom (the dashboard's), not a picture."""
    shaded = {"eal": "expected annual loss", "exposed_value": "exposed value"}[measure]
    text = (
        f"Countries shaded by {shaded}; markers are assets with a location, sized by expected "
        "annual loss and coloured by the factor that drives most of it."
    )
    if flows:
        text += " Lines join an asset to what it depends on, the arrow pointing to it" + (
            " (hover an arrow for the value at stake)." if interactive else "."
        )
    if zones:
        text += " Shaded areas are zones" + (
            " (hover the outline or the diamond for the zone's assets, loss and highest intensity)."
            if interactive
            else "."
        )
    drawn, located = marker_count(assets, max_markers)
    if drawn < located:
        text += (
            f" The {fmt.number(drawn)} markers with the largest expected annual loss of "
            f"{fmt.number(located)} are drawn; the countries' colours count every asset."
        )
    if max_flows is not None and flows > max_flows:
        text += (
            f" The {fmt.number(max_flows)} dependencies with the most value at stake of "
            f"{fmt.number(flows)} are drawn."
        )
    placed = assets.dropna(subset=["lat", "lon"])
    left_out = ~framed(placed)
    outside = placed[left_out]
    if len(outside):
        weight = frame_weight(placed)
        share = weight[left_out].sum() / weight.sum()
        where = outside.groupby("country_name")["eal"].sum().sort_values(ascending=False)
        named = ", ".join(where.index[:4]) + (
            f" and {fmt.number(len(where) - 4)} more" if len(where) > 4 else ""
        )
        text += (
            f" The map is framed on where most of the loss is: {fmt.number(len(outside))} "
            f"asset{'s' if len(outside) != 1 else ''} with a location lie outside it ("
            f"{fmt.percent(share)} of the expected annual loss; {named})"
            + ("; zoom out to see them." if interactive else ".")
        )
    return text
