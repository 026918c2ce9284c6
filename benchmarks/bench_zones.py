"""Zones at scale: assigning point assets to zones and scoring them, against a plain
shapely/numpy reference run in the same process.

    .venv/bin/python benchmarks/bench_zones.py                       # 1,000,000 assets
    .venv/bin/python benchmarks/bench_zones.py --assets 100000 --repeat 3

The synthetic workspace of bench_scoring.py (60 countries, 12 factors, 20 scenarios, 10 plans)
gets coordinates over Europe and the seas around it (lon -12..45, lat 34..72, rounded to
0.001 degree, about 100 m, as registers hold them) and 40 zones: 8 polygons (boxes), 16 circles
(50-300 km), 8 corridors (lines of 3-6 points, 25-100 km either side) and 8 hotspots (a point or
a line, linear or exponential decay over 100-400 km). Each scenario gains 2-6 zone shocks.

It prints, for each step, the cold time, the best of --repeat further runs, the tracemalloc
peak and the process's max RSS:

- `zone_weights`: every asset's weight in every zone (riskapp.engine.geo), the product's way:
  unique coordinates sorted by longitude, each zone's reach box a slice of them, distances only
  for the locations in reach (held compactly, `geo.ZoneWeights`; made dense here to compare);
- `prepare + score` with the zones and routes, with the zones only (the same point assets, no
  routes), and the same workspace without zones (what scoring cost before zones existed);
- the reference: the same weights computed plainly, every zone against every asset
  (shapely.contains_xy for boxes, pyproj.Geod distances for circles and point hotspots,
  shapely.distance in the same projection as the product for lines), rounded to the same 5 %
  step, then a grouped numpy pass over (type, country, weights) (one sort of a byte key per
  asset). The product's weights must equal the reference's.

With --routes N (default 10,000) N assets also get a route: a random line of 2-6 points from
the asset, legs of up to 2 degrees. Assets take the country their coordinates lie in (Natural
Earth 1:110m; the synthetic baseline is widened to those countries), so that routes cross
countries with baselines. Printed: cutting the routes into pieces and locating them (the
product's way, inside `prepare`), against a plain reference locating every piece against every
country outline (contains, then the nearest within 22 km) and every zone.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench_scoring import build_baseline, build_workspace, measure

from riskapp.domain import Scenario, Shock, ShockOperation, Workspace
from riskapp.domain.assets import Portfolio
from riskapp.domain.routes import Route, RouteBook
from riskapp.domain.zones import Decay, Geometry, Kernel, Zone, ZoneCatalogue
from riskapp.engine import prepare, score
from riskapp.engine.countries import country_shapes
from riskapp.engine.geo import DEFAULT_STEP, _distance_km, geometry, kernel_weights, zone_weights
from riskapp.engine.routes import cut

LON, LAT = (-12.0, 45.0), (34.0, 72.0)


def build_zones(rng: np.random.Generator) -> list[Zone]:
    def point() -> tuple[float, float]:
        return (round(float(rng.uniform(*LON)), 3), round(float(rng.uniform(*LAT)), 3))

    def line(k: int) -> list[tuple[float, float]]:
        x, y = point()
        out = [(x, y)]
        for _ in range(k - 1):
            x = float(np.clip(x + rng.uniform(-3, 3), *LON))
            y = float(np.clip(y + rng.uniform(-2, 2), *LAT))
            out.append((round(x, 3), round(y, 3)))
        return out

    zones: list[Zone] = []
    for i in range(8):
        x, y = point()
        w, h = rng.uniform(1, 6), rng.uniform(1, 4)
        ring = [(x, y), (x + w, y), (x + w, y + h), (x, y + h), (x, y)]
        zones.append(
            Zone(
                id=f"box_{i}",
                name=f"Box {i}",
                geometry=Geometry(type="Polygon", coordinates=[ring]),
            )
        )
    for i in range(16):
        zones.append(
            Zone(
                id=f"circle_{i}",
                name=f"Circle {i}",
                geometry=Geometry(type="Point", coordinates=point()),
                within_km=float(rng.uniform(50, 300)),
            )
        )
    for i in range(8):
        zones.append(
            Zone(
                id=f"corridor_{i}",
                name=f"Corridor {i}",
                geometry=Geometry(type="LineString", coordinates=line(int(rng.integers(3, 7)))),
                within_km=float(rng.uniform(25, 100)),
            )
        )
    for i in range(8):
        shape = (
            Geometry(type="Point", coordinates=point())
            if i % 2
            else Geometry(type="LineString", coordinates=line(4))
        )
        kernel = Kernel.LINEAR if i % 4 < 2 else Kernel.EXPONENTIAL
        distance = float(rng.uniform(100, 400)) if kernel is Kernel.LINEAR else rng.uniform(30, 80)
        zones.append(
            Zone(
                id=f"hotspot_{i}",
                name=f"Hotspot {i}",
                geometry=shape,
                decay=Decay(kernel=kernel, distance_km=float(distance)),
            )
        )
    return zones


def with_zones(ws: Workspace, rng: np.random.Generator) -> Workspace:
    n = len(ws.portfolio)
    frame = ws.portfolio.frame
    frame["lon"] = np.round(rng.uniform(*LON, n), 3)
    frame["lat"] = np.round(rng.uniform(*LAT, n), 3)
    zones = build_zones(rng)
    factors = ws.factors.ids
    ops = [ShockOperation.ADD, ShockOperation.SET, ShockOperation.TOWARD_MAX]
    scenarios = []
    for s in ws.scenarios:
        extra = []
        for _ in range(int(rng.integers(2, 7))):
            op = ops[int(rng.integers(len(ops)))]
            value = {
                ShockOperation.ADD: float(rng.uniform(-2, 4)),
                ShockOperation.SET: float(rng.uniform(3, 9)),
                ShockOperation.TOWARD_MAX: float(rng.uniform(0.1, 0.8)),
            }[op]
            extra.append(
                Shock(
                    target=zones[int(rng.integers(len(zones)))].id,
                    factor=factors[int(rng.integers(len(factors)))],
                    op=op,
                    value=round(value, 2),
                )
            )
        scenarios.append(s.model_copy(update={"shocks": [*s.shocks, *extra]}))
    return dataclasses.replace(
        ws,
        portfolio=Portfolio.from_frame(frame),
        scenarios=[Scenario.model_validate(s.model_dump()) for s in scenarios],
        zones=ZoneCatalogue(zones=zones),
    )


def membership_only(ws: Workspace) -> Workspace:
    """The zones an asset is in or not (boxes, circles, corridors), without the hotspots
    whose weights fade with distance, and the scenarios without the hotspots' shocks: what
    the group key holds when zones are membership only."""
    keep = [z for z in ws.zones.zones if z.decay is None]
    faded = {z.id for z in ws.zones.zones} - {z.id for z in keep}
    scenarios = [
        s.model_copy(update={"shocks": [k for k in s.shocks if k.target not in faded]})
        for s in ws.scenarios
    ]
    return dataclasses.replace(ws, zones=ZoneCatalogue(zones=keep), scenarios=scenarios)


def with_routes(ws: Workspace, rng: np.random.Generator, n_routes: int) -> Workspace:
    """Assets in the countries their coordinates lie in, and `n_routes` of them routes."""
    from riskapp.engine.countries import country_shapes

    frame = ws.portfolio.frame
    located = country_shapes().locate(
        frame["lon"].to_numpy(dtype=float), frame["lat"].to_numpy(dtype=float), near_km=22.2
    )
    frame["country"] = np.where(located != "", located, frame["country"].to_numpy(dtype=object))
    countries = sorted(set(frame["country"].tolist()) | set(ws.baseline.countries))
    baseline = build_baseline(rng, countries)
    rows = rng.choice(len(frame), size=min(n_routes, len(frame)), replace=False)
    routes = []
    lons, lats = frame["lon"].to_numpy(dtype=float), frame["lat"].to_numpy(dtype=float)
    ids = frame["id"].to_numpy(dtype=object)
    for row in rows.tolist():  # building the synthetic input, not the measured work
        x, y = float(lons[row]), float(lats[row])
        line = [(x, y)]
        for _ in range(int(rng.integers(1, 6))):
            x = float(np.clip(x + rng.uniform(-2, 2), -179, 179))
            y = float(np.clip(y + rng.uniform(-1.5, 1.5), -89, 89))
            line.append((round(x, 3), round(y, 3)))
        routes.append(Route(asset_id=str(ids[row]), line=line))
    return dataclasses.replace(
        ws,
        portfolio=Portfolio.from_frame(frame),
        baseline=baseline,
        routes=RouteBook(routes=routes),
    )


def reference_pieces(ws: Workspace) -> tuple[np.ndarray, np.ndarray]:
    """Every route's pieces located plainly: each piece against every country outline
    (contains, else the nearest within 22 km) and every zone; (countries, weights)."""
    import shapely

    from riskapp.engine.countries import KM_PER_DEGREE, country_shapes

    pieces = cut([r.line for r in ws.routes.routes], ws.settings.route_piece_km)
    shapes = country_shapes()
    x, y = pieces.lon, pieces.lat
    found = np.full(len(x), "", dtype=object)
    best = np.full(len(x), np.inf)
    points = shapely.points(np.column_stack([x, y]))
    for code, shape in zip(shapes.codes, shapes.shapes, strict=True):
        inside = shapely.contains_xy(shape, x, y)
        found[inside & (found == "")] = code
    near = np.full(len(x), "", dtype=object)
    for code, shape in zip(shapes.codes, shapes.shapes, strict=True):
        d = shapely.distance(shape, points)
        closer = (found == "") & (d < best) & (d <= 22.2 / KM_PER_DEGREE)
        best = np.where(closer, d, best)
        near[closer] = code
    found = np.where(found == "", near, found)
    return found, reference_weights(x, y, ws.zones.zones)


def reference_weights(lon: np.ndarray, lat: np.ndarray, zones: list[Zone]) -> np.ndarray:
    """Every zone against every asset, no tree and no de-duplication of coordinates."""
    import pyproj
    import shapely

    geod = pyproj.Geod(ellps="WGS84")
    out = np.zeros((len(lon), len(zones)))
    for z, zone in enumerate(zones):
        geom = geometry(zone)
        t = zone.geometry.type.value
        if t == "Polygon":
            out[:, z] = shapely.contains_xy(geom, lon, lat).astype(float)
            continue
        if t == "Point":
            x, y = zone.geometry.coordinates  # type: ignore[misc]
            d = geod.inv(np.full(len(lon), x), np.full(len(lon), y), lon, lat)[2] / 1000
        else:
            d = _distance_km(geom, lon, lat)
        out[:, z] = kernel_weights(zone, np.rint(d))
    return np.minimum(np.rint(out / DEFAULT_STEP) * DEFAULT_STEP, 1.0)


def grouped_floor(ws: Workspace, weights: np.ndarray) -> np.ndarray:
    """A grouped numpy pass over (type, country, weights): a damage ratio per group and
    scenario (drawn, not computed) gathered to the assets and multiplied by their value."""
    types, _ = pd.factorize(ws.portfolio.series("type"))
    countries, _ = pd.factorize(ws.portfolio.series("country"))
    key = np.ascontiguousarray(
        np.column_stack([types, countries, np.rint(weights * 1000)]).astype(np.uint16)
    )
    rows = key.view(np.dtype((np.void, key.shape[1] * 2))).reshape(-1)
    _, of_asset = np.unique(rows, return_inverse=True)
    of_asset = of_asset.reshape(-1)
    ratio = np.random.default_rng(0).random((int(of_asset.max()) + 1, len(ws.scenarios))) * 0.1
    exposed = ws.portfolio.exposed_value(ws.settings.fx_to_reporting())
    loss: np.ndarray = exposed[:, np.newaxis] * ratio[of_asset]
    return loss


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--assets", type=int, default=1_000_000)
    p.add_argument("--repeat", type=int, default=1)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--routes", type=int, default=10_000)
    args = p.parse_args(argv)

    rng = np.random.default_rng(args.seed)
    plain = build_workspace(args.assets, args.seed)
    ws = with_zones(plain, rng)
    if args.routes:
        ws = with_routes(ws, rng, args.routes)
        plain = dataclasses.replace(
            plain, portfolio=ws.portfolio, baseline=ws.baseline, scenarios=plain.scenarios
        )
    lon = ws.portfolio.series("lon").to_numpy(dtype=float)
    lat = ws.portfolio.series("lat").to_numpy(dtype=float)
    zones = ws.zones.zones
    print(
        f"workspace: {len(ws.portfolio):,} assets, {len(zones)} zones, {len(ws.scenarios)} "
        f"scenarios, {sum(len(s.shocks) for s in ws.scenarios)} shocks, "
        f"{len(ws.routes):,} routes"
    )
    rows: list[Any] = []
    ok = True
    if args.routes:

        def product_pieces() -> tuple[np.ndarray, np.ndarray]:
            pieces = cut([r.line for r in ws.routes.routes], ws.settings.route_piece_km)
            found = country_shapes().locate(pieces.lon, pieces.lat, near_km=22.2)
            return found, zone_weights(pieces.lon, pieces.lat, zones)

        (p_found, p_w), m = measure("route pieces (product)", product_pieces, args.repeat)
        rows.append(m)
        (r_found, r_w), m = measure("route pieces (reference)", lambda: reference_pieces(ws), 1)
        rows.append(m)
        same = bool((p_found == r_found).all() and np.array_equal(p_w, r_w))
        print(f"route pieces: {len(p_found):,}; product and reference agree: {same}")
        ok &= same
    weights, m = measure(
        "zone_weights (product)", lambda: zone_weights(lon, lat, zones), args.repeat
    )
    rows.append(m)
    ref, m = measure("weights (reference)", lambda: reference_weights(lon, lat, zones), args.repeat)
    rows.append(m)
    inputs, m = measure("prepare (zones, routes)", lambda: prepare(ws), args.repeat)
    rows.append(m)
    _, m = measure("score (zones, routes)", lambda: score(ws, inputs=inputs), args.repeat)
    rows.append(m)
    points = dataclasses.replace(ws, routes=RouteBook(routes=[]))  # zones, no routes
    point_inputs, m = measure("prepare (zones)", lambda: prepare(points), args.repeat)
    rows.append(m)
    _, m = measure("score (zones)", lambda: score(points, inputs=point_inputs), args.repeat)
    rows.append(m)
    member = membership_only(points)
    member_inputs, m = measure("prepare (membership)", lambda: prepare(member), args.repeat)
    rows.append(m)
    _, m = measure("score (membership)", lambda: score(member, inputs=member_inputs), args.repeat)
    rows.append(m)
    plain_inputs, m = measure("prepare (no zones)", lambda: prepare(plain), args.repeat)
    rows.append(m)
    _, m = measure("score (no zones)", lambda: score(plain, inputs=plain_inputs), args.repeat)
    rows.append(m)
    _, m = measure("floor: grouped pass", lambda: grouped_floor(ws, ref), args.repeat)
    rows.append(m)
    print(f"{'step':<26}{'cold s':>9}{'best s':>9}{'peak MB':>10}{'RSS MB':>9}")
    for r in rows:
        print(f"{r.step:<26}{r.cold_s:>9.3f}{r.best_s:>9.3f}{r.peak_mb:>10.1f}{r.maxrss_mb:>9.0f}")
    by = {r.step: r for r in rows}
    product = by["zone_weights (product)"].best_s
    reference = by["weights (reference)"].best_s
    with_z = by["prepare (zones, routes)"].best_s + by["score (zones, routes)"].best_s
    without = by["prepare (no zones)"].best_s + by["score (no zones)"].best_s
    with_points = by["prepare (zones)"].best_s + by["score (zones)"].best_s
    floor = by["weights (reference)"].best_s + by["floor: grouped pass"].best_s
    print(
        f"places: {inputs.places.count:,} (countries {len(inputs.countries)}), "
        f"groups {inputs.groups.count:,} (without zones {plain_inputs.groups.count:,})"
    )
    print(
        f"zoned point assets (no routes): prepare+score {with_points:.3f} s vs the same assets "
        f"without zones {without:.3f} s ({with_points / without:.2f}x); score alone "
        f"{by['score (zones)'].best_s:.3f} s vs {by['score (no zones)'].best_s:.3f} s; "
        f"places {point_inputs.places.count:,}, groups {point_inputs.groups.count:,}"
    )
    with_member = by["prepare (membership)"].best_s + by["score (membership)"].best_s
    print(
        f"membership zones only (no fading hotspots): prepare+score {with_member:.3f} s "
        f"({with_member / without:.2f}x); score alone {by['score (membership)'].best_s:.3f} s; "
        f"places {member_inputs.places.count:,}, groups {member_inputs.groups.count:,}"
    )
    print(
        f"weights: product {product:.3f} s vs reference {reference:.3f} s "
        f"({product / reference:.2f}x); equal: {bool(np.array_equal(weights, ref))}"
    )
    print(
        f"prepare+score with zones and routes {with_z:.3f} s vs without {without:.3f} s "
        f"({with_z / without:.2f}x); vs the plain reference + grouped floor {floor:.3f} s "
        f"({with_z / floor:.2f}x)"
    )
    return 0 if ok and np.array_equal(weights, ref) else 1


if __name__ == "__main__":
    raise SystemExit(main())
