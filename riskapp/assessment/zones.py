"""Zones as tables and maps show them: for each zone of the workspace, the assets in it, their
value and expected annual loss, and the highest intensity a scenario brings there; and the
outlines a map draws (riskapp.engine.geo.outline)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

from riskapp.assessment.core import Assessment, memo
from riskapp.domain.regions import RegionCatalogue
from riskapp.domain.zones import Zone, ZoneCatalogue

FloatArray = npt.NDArray[np.float64]
LABEL_TOLERANCE_DEGREES = 0.05  # how exactly a zone's marker is placed (polylabel)

ZONE_COLUMNS = (
    "id",
    "name",
    "kind",
    "assets",
    "exposed_value",
    "eal",
    "peak_factor",
    "peak_intensity",
    "peak_scenario",
)


def place_zone_weights(a: Assessment) -> FloatArray:
    """(P, Z) each place the assessment scored (riskapp.engine.places) and its weight in each
    zone of `a.ws.zones`, in that order. An asset's weights are its place's."""
    places = a.inputs.places
    ids = a.ws.zones.ids
    column = pd.Index(places.zone_ids, dtype=object).get_indexer(pd.Index(ids, dtype=object))
    weight = np.zeros((places.count, len(ids)))
    known = np.flatnonzero(column >= 0)
    weight[:, known] = places.weight[:, column[known]]
    return weight


def zone_table(a: Assessment) -> pd.DataFrame:
    """`_zone_table(a)`, built once per assessment (the Overview redraws its map on every
    widget change); a copy, the caller's to change."""
    return memo(a, "zones", lambda: _zone_table(a)).copy()


def _zone_table(a: Assessment) -> pd.DataFrame:
    """One row per zone of the workspace (in catalogue order):

    - id, name, kind (polygon, corridor, circle or hotspot);
    - assets: how many assets lie in it: weight above 0 as the engine scored it (rounded to
      the workspace's zone_weight_step), so a hotspot's faded edge counts; a route where any
      of its parts does;
    - exposed_value, eal: the exposed value and expected annual loss of those assets, in full
      (not weighted). An asset in two zones counts in both, so the rows do not add up to the
      portfolio's figures;
    - peak_factor, peak_intensity, peak_scenario: the highest intensity any scenario brings
      to the places of the zone's assets (over every factor), its factor id and the title of
      its scenario (the first scenario, then factor, in workspace order on a tie). A place in
      several zones carries the worst of their shocks (riskapp.engine.intensity), so this is
      the intensity the zone's assets are scored at, not that of the zone's own shocks alone.
      Empty factor and scenario, and NaN, for a zone without assets (intensities are held
      where assets are) or a workspace without scenarios.

    An empty frame with these columns when the workspace has no zones."""
    zones = a.ws.zones.zones
    if not zones:
        return _empty()
    r = a.result
    place_inside = place_zone_weights(a) > 0  # (P, Z)
    inside = place_inside[a.inputs.place_index]  # (A, Z)
    routes = a.inputs.routes
    if routes is not None:  # a route lies in the zones any of its parts lies in
        parts = routes.table.parts
        by_route = np.logical_or.reduceat(place_inside[parts.place], parts.indptr[:-1], axis=0)
        inside[routes.rows] = by_route[routes.code]
    count = inside.sum(axis=0)
    exposed = a.inputs.exposed_value @ inside
    eal = r.asset_eal() @ inside
    titles = {s.id: s.title for s in a.ws.scenarios}
    peak_factor: list[str] = []
    peak_intensity: list[float] = []
    peak_scenario: list[str] = []
    intensities = r.intensities  # (S, P, F)
    for z in range(len(zones)):  # one numpy reduction per zone
        rows = np.flatnonzero(place_inside[:, z])
        if not len(rows) or not intensities.shape[0] or not intensities.shape[2]:
            peak_factor.append("")
            peak_intensity.append(float("nan"))
            peak_scenario.append("")
            continue
        worst = intensities[:, rows, :].max(axis=1)  # (S, F)
        s, f = np.unravel_index(int(np.argmax(worst)), worst.shape)
        peak_factor.append(r.factor_ids[f])
        peak_intensity.append(float(worst[s, f]))
        peak_scenario.append(titles.get(r.scenario_ids[s], r.scenario_ids[s]))
    return pd.DataFrame(
        {
            "id": [z.id for z in zones],
            "name": [z.name for z in zones],
            "kind": [z.kind for z in zones],
            "assets": count.astype(np.int64),
            "exposed_value": exposed.astype(float),
            "eal": eal.astype(float),
            "peak_factor": peak_factor,
            "peak_intensity": np.asarray(peak_intensity, dtype=float),
            "peak_scenario": peak_scenario,
        },
        columns=list(ZONE_COLUMNS),
    )


def _empty() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": pd.Series([], dtype=object),
            "name": pd.Series([], dtype=object),
            "kind": pd.Series([], dtype=object),
            "assets": pd.Series([], dtype=np.int64),
            "exposed_value": pd.Series([], dtype=float),
            "eal": pd.Series([], dtype=float),
            "peak_factor": pd.Series([], dtype=object),
            "peak_intensity": pd.Series([], dtype=float),
            "peak_scenario": pd.Series([], dtype=object),
        }
    )


def zone_outlines(zones: Sequence[Zone], tolerance_km: float = 2.0) -> pd.DataFrame:
    """What a map draws of each zone: id; lon and lat, arrays of the outline's rings one after
    the other with NaN between them, each clockwise (plotly's gaps: a filled trace closes and
    fills each ring on its own, so a hole is drawn filled, and outlined); label_lon and
    label_lat, where the map puts the zone's hover marker: the point inside the zone's
    largest part farthest from its outline (polylabel). What is drawn is
    riskapp.engine.geo.outline: the area of full weight, or a hotspot's reach. A subdivision
    without a polygon (its members named in the register) has no row."""
    import shapely
    from shapely.ops import polylabel

    from riskapp.engine.geo import outline

    rows = []
    for zone in zones:  # one per zone, each a handful of vectorised shapely calls
        if zone.geometry is None:  # a subdivision known only from the register: no outline
            continue
        shape = outline(zone, tolerance_km)
        rings = shapely.get_rings(shapely.get_parts(shape))
        # every ring clockwise: a map draws a filled ring on the sphere, where a ring's inside
        # is on its right (d3-geo, plotly.js); an anticlockwise ring, as GeoJSON writes an
        # exterior, would fill the whole world but the zone
        rings = np.where(shapely.is_ccw(rings), shapely.reverse(rings), rings)
        coords, which = shapely.get_coordinates(rings, return_index=True)
        # a NaN row before every ring but the first
        starts = np.flatnonzero(np.r_[False, which[1:] != which[:-1]])
        xy = np.insert(coords, starts, np.nan, axis=0)
        # the point of the zone's largest part farthest from its outline: its marker stands
        # apart from the outline's points, which a hover would pick instead
        parts = shapely.get_parts(shape)
        largest = parts[int(np.argmax(shapely.area(parts)))]
        label = polylabel(largest, tolerance=LABEL_TOLERANCE_DEGREES)
        rows.append((zone.id, xy[:, 0], xy[:, 1], float(label.x), float(label.y)))
    return pd.DataFrame(rows, columns=["id", "lon", "lat", "label_lon", "label_lat"])


def subdivision_labels(a: Assessment) -> pd.DataFrame:
    """For maps, the subdivisions that have no boundary (their members named in the register):
    no outline (lon and lat empty) and the hover marker at the mean position of their located
    assets, as `zone_outlines` has its columns. A subdivision without a located asset has no
    row."""
    zones = a.ws.zones.zones
    cols = [i for i, z in enumerate(zones) if z.subdivision and z.geometry is None]
    columns = ["id", "lon", "lat", "label_lon", "label_lat"]
    if not cols:
        return pd.DataFrame(columns=columns)
    inside = place_zone_weights(a)[a.inputs.place_index][:, cols] > 0  # (A, k)
    lon = a.ws.portfolio.series("lon").to_numpy(dtype=float, na_value=np.nan)
    lat = a.ws.portfolio.series("lat").to_numpy(dtype=float, na_value=np.nan)
    located = ~(np.isnan(lon) | np.isnan(lat))
    inside &= located[:, np.newaxis]
    count = inside.sum(axis=0)
    mean_lon = np.where(located, lon, 0.0) @ inside / np.maximum(count, 1)
    mean_lat = np.where(located, lat, 0.0) @ inside / np.maximum(count, 1)
    empty = np.zeros(0)
    rows = [
        (zones[i].id, empty, empty, float(mean_lon[k]), float(mean_lat[k]))
        for k, i in enumerate(cols)
        if count[k]
    ]
    return pd.DataFrame(rows, columns=columns)


ROUTE_COLUMNS = (
    "asset_id",
    "name",
    "type",
    "rule",
    "start_country",
    "end_country",
    "length_km",
    "parts",
    "eal",
    "dominant_factor",
    "peak_factor",
    "peak_intensity",
    "peak_scenario",
    "lon",
    "lat",
)


def route_table(a: Assessment) -> pd.DataFrame:
    """`_route_table(a)`, built once per assessment; a copy, the caller's to change."""
    return memo(a, "routes", lambda: _route_table(a)).copy()


def _route_table(a: Assessment) -> pd.DataFrame:
    """One row per asset with a route (riskapp.engine.routes), register order: its id, name,
    type and rule (any_cut or length_weighted), its landing countries, length (km) and the
    number of places it crosses (parts), its expected annual loss and dominant factor (as the
    asset table has them), the highest intensity a scenario brings to any of its parts of
    that factor (of any factor for a route without loss; factor, intensity, scenario title)
    and its line (lists of lon and lat) for maps."""
    info = a.inputs.routes
    if info is None:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in ROUTE_COLUMNS})
    from riskapp.assessment.core import asset_table
    from riskapp.domain.routes import RouteRule

    r = a.result
    assets = asset_table(a).iloc[info.rows]
    parts = info.table.parts
    by_asset = {route.asset_id: route for route in a.ws.routes.routes}
    lines = [by_asset[str(i)].line for i in assets["id"]]
    # per distinct route, the highest scenario intensity of each factor over its parts
    part_route = np.repeat(np.arange(parts.count), np.diff(parts.indptr))
    at_parts = r.intensities[:, parts.place, :]  # (S, parts, F)
    peak_s = at_parts.max(axis=0)  # (parts, F)
    peak = np.full((parts.count, len(r.factor_ids)), -np.inf)
    np.maximum.at(peak, part_route, peak_s)
    code = info.code
    # the dominant factor's peak (what drives the route's loss); the highest of all factors
    # for a route without loss
    f_index = {f: j for j, f in enumerate(r.factor_ids)}
    dominant = assets["dominant_factor"].to_numpy(dtype=object)
    best_f = np.array([f_index.get(str(d), -1) for d in dominant], dtype=np.int64)
    best_f = np.where(best_f >= 0, best_f, peak[code].argmax(axis=1))
    best = peak[code, best_f]
    # the scenario giving it: the first reaching the peak on one of the route's parts
    titles = {s.id: s.title for s in a.ws.scenarios}
    scen_of = []
    for k, (c, f) in enumerate(zip(code.tolist(), best_f.tolist(), strict=True)):
        places = parts.place[parts.indptr[c] : parts.indptr[c + 1]]
        hit = np.flatnonzero((r.intensities[:, places, f] >= best[k] - 1e-12).any(axis=1))
        scen_of.append(titles.get(r.scenario_ids[int(hit[0])], "") if len(hit) else "")
    rules = a.ws.settings.route_rules
    return pd.DataFrame(
        {
            "asset_id": assets["id"].to_numpy(dtype=object),
            "name": assets["name"].to_numpy(dtype=object),
            "type": assets["type"].to_numpy(dtype=object),
            "rule": [
                (by_asset[str(i)].rule or rules.get(str(t), RouteRule.ANY_CUT)).value
                for i, t in zip(assets["id"], assets["type"], strict=True)
            ],
            "start_country": info.start_country,
            "end_country": info.end_country,
            "length_km": info.length_km,
            "parts": np.diff(parts.indptr)[code],
            "eal": assets["eal"].to_numpy(dtype=float),
            "dominant_factor": assets["dominant_factor"].to_numpy(dtype=object),
            "peak_factor": np.asarray(r.factor_ids, dtype=object)[best_f],
            "peak_intensity": best,
            "peak_scenario": scen_of,
            "lon": [[p[0] for p in line] for line in lines],
            "lat": [[p[1] for p in line] for line in lines],
        },
        columns=list(ROUTE_COLUMNS),
    )


def target_labels(
    regions: RegionCatalogue, zones: ZoneCatalogue, countries: Sequence[str]
) -> dict[str, str]:
    """What a shock, a baseline row or a plan may name, with a label for pickers: region
    groups, the workspace's own zones, the shipped sea areas, the countries, then the ISO
    3166-2 subdivisions of those countries; in that order."""
    from riskapp.domain.common import country_name, iso_subdivision_codes, subdivision_name
    from riskapp.io.sea_areas import sea_area_names

    out = {g.id: f"{g.name} (group)" for g in regions.groups}
    out.update({z.id: f"{z.name} ({z.kind})" for z in zones.zones if not z.shipped})
    out.update({z: f"{name} (sea area)" for z, name in sea_area_names().items() if z not in out})
    out.update({c: f"{country_name(c)} ({c})" for c in countries if c not in out})
    alpha2 = {_alpha2(c): c for c in countries}
    subs = sorted(code for code in iso_subdivision_codes() if code[:2] in alpha2)
    for code in subs:
        country = country_name(alpha2[code[:2]])
        out.setdefault(code, f"{subdivision_name(code)} ({code}, subdivision of {country})")
    return out


def _alpha2(alpha3: str) -> str:
    import pycountry

    found = pycountry.countries.get(alpha_3=alpha3)
    return str(found.alpha_2) if found is not None else ""
