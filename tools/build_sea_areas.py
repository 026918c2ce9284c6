"""Build riskapp/resources/geo/sea_areas.geojson and its SOURCES.md from Natural Earth's 1:50m
marine polygons (public domain).

    .venv/bin/python tools/build_sea_areas.py --source ne_50m_geography_marine_polys.geojson

The source is geojson/ne_50m_geography_marine_polys.geojson of the nvkelso/natural-earth-vector
repository at commit 693f11422f4e08d2da4566b854dda53eb7c39fb3. The script refuses any other
content: it checks a digest of the fields it uses (every feature's ne_id, name, name_en,
featurecla, scalerank and geometry), so a copy that differs only in an unused translation (such
as the Bengali name of the Sea of Okhotsk, uncertain by one invisible character in the project's
copy) builds the same output, byte for byte.

What it does, in order:

1. One sea area per name: features that share a `name` (the Mediterranean Sea's eastern and
   western parts, the Ross Sea's two sides of the antimeridian) are merged with shapely's
   union, so the Mediterranean's two halves, which share an edge, become one Polygon (a
   MultiPolygon of two parts sharing an edge would not be valid) and the Ross Sea stays a
   MultiPolygon of its two sides.
2. The English name: `name_en`, except where two areas of different names share it (the North
   and South Atlantic and Pacific Oceans are all "Atlantic/Pacific Ocean" there), where `name`
   is taken, and the corrections of NAMES below (the mislabelled "Inner Sea", which is Japan's
   Seto Inland Sea, among them).
3. The id: the English name in lower case, accents dropped, every run of other characters an
   underscore (Río de la Plata -> rio_de_la_plata). Ids are checked to be unique, to match
   riskapp's slug pattern and not to be an ISO 3166-1 alpha-3 country code.
4. Coordinates on a grid of 0.0001 degrees (about 11 m; the 1:50m source is accurate to a few
   km at best) with shapely's set_precision, which keeps every polygon valid, and written
   rounded to 4 decimals; exterior rings counter-clockwise, holes clockwise (RFC 7946). Where
   the grid would collapse a ring (a sliver such as the Luzon Strait, or a tiny island hole in
   an ocean) or move the area by more than 0.5 %, the area keeps the source's 6 decimals
   instead. Nothing is simplified.
5. Checks: every geometry valid, a Polygon or MultiPolygon with all of its source's rings;
   after writing, the file is read back and checked again.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import textwrap
import unicodedata
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import mapping, shape

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # riskapp of this checkout, for its slug and country checks

from riskapp.domain.common import check_slug, iso_alpha3_codes  # noqa: E402

OUT = ROOT / "riskapp" / "resources" / "geo"
REPOSITORY = "nvkelso/natural-earth-vector"
COMMIT = "693f11422f4e08d2da4566b854dda53eb7c39fb3"
PATH = "geojson/ne_50m_geography_marine_polys.geojson"
# sha256 of the canonical JSON of the fields used (see used_fields)
CONTENT_DIGEST = "02c2bf3dce271c36020c9c71289718f0dbba205a4939c73c3f25637b447e1314"
GRID = 0.0001  # degrees
DECIMALS = 4
# the source's own precision, for the slivers that the 0.0001-degree grid would collapse
FINE_GRID = 0.000001
FINE_DECIMALS = 6
SMALL_KM2 = 1_000  # SOURCES.md lists the areas smaller than this
MAX_AREA_CHANGE = 0.005  # relative, per sea area (the smallest move most: Gibraltar 0.34 %)

# Corrections of the source's English name, by ne_id, with the reason.
NAMES: dict[int, tuple[str, str]] = {
    1159116927: (
        "Seto Inland Sea",
        'the source names it "Inner Sea", with the translations of Scotland\'s Inner Seas '
        '(name_en "Inner Seas off the West Coast of Scotland"), but its geometry is Japan\'s '
        "Seto Inland Sea (130.9-135.4 E, 32.9-34.8 N)",
    ),
    1159115921: (
        "Inner Seas off the West Coast of Scotland",
        'the source\'s name is "Inner Seas" and its name_en "Sea of the Hebrides", which is '
        "only a part of it; the polygon (54.6-58.6 N, down to the North Channel) is the "
        "International Hydrographic Organization's Inner Seas off the West Coast of Scotland, "
        "the English name the source gives the mislabelled Japanese feature",
    ),
    1159119967: (
        "Amazon River",
        'name_en is "Amazon"; the source\'s name "Amazon River" says what it is',
    ),
    1159120729: (
        "Yangtze River",
        'name_en is "Yangtze"; the source\'s name "Yangtze River" says what it is',
    ),
}


def used_fields(source: dict[str, Any]) -> list[dict[str, Any]]:
    keys = ("ne_id", "name", "name_en", "featurecla", "scalerank")
    return [
        {**{k: f["properties"][k] for k in keys}, "geometry": f["geometry"]}
        for f in source["features"]
    ]


def content_digest(source: dict[str, Any]) -> str:
    text = json.dumps(used_fields(source), sort_keys=True, ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()


def slug(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", ascii_name.lower()).strip("_")


def english_names(features: list[dict[str, Any]]) -> dict[str, str]:
    """The English name of each `name` (one sea area per name)."""
    names_by_en: dict[str, set[str]] = defaultdict(set)
    for f in features:
        p = f["properties"]
        names_by_en[p["name_en"]].add(p["name"])
    out: dict[str, str] = {}
    for f in features:
        p = f["properties"]
        if p["ne_id"] in NAMES:
            english = NAMES[p["ne_id"]][0]
        elif len(names_by_en[p["name_en"]]) > 1:
            english = p["name"]
        else:
            english = p["name_en"]
        if out.setdefault(p["name"], english) != english:
            raise SystemExit(f"two English names for {p['name']!r}")
    return out


def on_grid(geom: shapely.Geometry, grid: float, decimals: int) -> shapely.Geometry:
    """The geometry on a grid (degrees), valid, oriented as RFC 7946 asks, with every
    coordinate the shortest decimal of at most `decimals` places."""
    snapped = shapely.set_precision(geom, grid)
    snapped = shapely.orient_polygons(snapped, exterior_cw=False)
    return shapely.transform(snapped, lambda xy: np.round(xy, decimals))


def rings(geom: shapely.Geometry) -> int:
    """Exterior and interior rings of a Polygon or MultiPolygon."""
    return int(
        shapely.get_num_geometries(geom)
        + sum(shapely.get_num_interior_rings(p) for p in getattr(geom, "geoms", [geom]))
    )


def fits(geom: shapely.Geometry, original: shapely.Geometry) -> bool:
    """A valid Polygon or MultiPolygon with every ring of the source's (none collapsed on the
    grid) and its area within MAX_AREA_CHANGE of the source's."""
    return (
        geom.geom_type in ("Polygon", "MultiPolygon")
        and geom.is_valid
        and rings(geom) == rings(original)
        and abs(geom.area - original.area) <= MAX_AREA_CHANGE * original.area
    )


def build(source: dict[str, Any]) -> tuple[list[dict[str, Any]], list[str]]:
    """The sea areas, sorted by id, and the names of those kept at the source's precision."""
    features = source["features"]
    english = english_names(features)
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for f in features:
        groups[f["properties"]["name"]].append(f)
    areas = []
    fine = []
    for name, members in groups.items():
        props = [m["properties"] for m in members]
        for key in ("featurecla", "scalerank"):
            if len({p[key] for p in props}) != 1:
                raise SystemExit(f"{name!r}: the parts disagree on {key}")
        parts = [shape(m["geometry"]) for m in members]
        original = shapely.union_all(parts) if len(parts) > 1 else parts[0]
        geom = on_grid(original, GRID, DECIMALS)
        if not fits(geom, original):  # a sliver: kept at the source's precision
            geom = on_grid(original, FINE_GRID, FINE_DECIMALS)
            if not fits(geom, original):
                raise SystemExit(f"{name!r}: {geom.geom_type}, {shapely.is_valid_reason(geom)}")
            fine.append(english[name])
        area_id = check_slug(slug(english[name]))
        if area_id.upper() in iso_alpha3_codes():
            raise SystemExit(f"{area_id!r} is an ISO 3166-1 alpha-3 country code")
        areas.append(
            {
                "type": "Feature",
                "properties": {
                    "id": area_id,
                    "name": english[name],
                    "ne_ids": sorted(p["ne_id"] for p in props),
                    "featurecla": props[0]["featurecla"],
                    "scalerank": props[0]["scalerank"],
                },
                "geometry": mapping(geom),
            }
        )
    ids = [a["properties"]["id"] for a in areas]
    if len(set(ids)) != len(ids):
        raise SystemExit(f"ids repeat: {sorted(i for i in ids if ids.count(i) > 1)}")
    areas.sort(key=lambda a: a["properties"]["id"])
    return areas, sorted(fine)


def to_text(areas: list[dict[str, Any]]) -> str:
    """A FeatureCollection with one feature per line (readable diffs)."""
    lines = [
        json.dumps(a, ensure_ascii=False, separators=(",", ":"), allow_nan=False) for a in areas
    ]
    return '{"type":"FeatureCollection","features":[\n' + ",\n".join(lines) + "\n]}\n"


def check_written(path: Path, areas: list[dict[str, Any]]) -> None:
    back = json.loads(path.read_text(encoding="utf-8"))
    assert [f["properties"] for f in back["features"]] == [a["properties"] for a in areas]
    for f in back["features"]:
        geom = shape(f["geometry"])
        if not geom.is_valid:
            raise SystemExit(f"{f['properties']['id']}: {shapely.is_valid_reason(geom)}")


def area_km2(geometry: dict[str, Any]) -> float:
    """Geodesic area on the WGS 84 ellipsoid (pyproj)."""
    from pyproj import Geod

    area, _ = Geod(ellps="WGS84").geometry_area_perimeter(shape(geometry))
    return abs(float(area)) / 1e6


def overlaps(areas: list[dict[str, Any]]) -> str:
    """The pairs of areas whose overlap exceeds 0.01 % of the smaller's area."""
    ids = [a["properties"]["id"] for a in areas]
    shapes = [shape(a["geometry"]) for a in areas]
    first, second = shapely.STRtree(shapes).query(shapes, predicate="intersects")
    out = []
    for i, j in zip(first.tolist(), second.tolist(), strict=True):
        if i < j:
            share = shapes[i].intersection(shapes[j]).area / min(shapes[i].area, shapes[j].area)
            if share > 1e-4:
                out.append(f"{ids[i]} and {ids[j]} ({share:.0%} of the smaller)")
    return "; ".join(out)


# a point in the middle of waters the source does not name
MISSING_WATERS = {
    "Gulf of Riga": (23.5, 57.6),
    "Kattegat": (11.5, 57.0),
    "Skagerrak": (9.0, 58.0),
    "Sea of Azov": (36.5, 46.0),
    "Sea of Marmara": (28.0, 40.7),
    "Ligurian Sea": (9.0, 43.8),
    "Alboran Sea": (-3.5, 36.0),
    "Levantine Sea": (33.0, 34.0),
    "Celtic Sea": (-7.5, 50.5),
    "Strait of Hormuz": (56.4, 26.5),
    "Bab-el-Mandeb": (43.3, 12.6),
}


def where_missing(areas: list[dict[str, Any]]) -> str:
    shapes = {a["properties"]["id"]: shape(a["geometry"]) for a in areas}
    out = []
    for water, (lon, lat) in MISSING_WATERS.items():
        point = shapely.Point(lon, lat)
        inside = [i for i, g in shapes.items() if g.contains(point)]
        out.append(f"{water} ({lon:g}, {lat:g}) {', '.join(inside) or 'no area'}")
    return "; ".join(out)


def bullet(text: str) -> str:
    return textwrap.fill(text, width=96, initial_indent="- ", subsequent_indent="  ")


def km2(value: float) -> str:
    return f"{value:,.2f} km²" if value >= 0.01 else "under 0.01 km²"


def sources_md(
    areas: list[dict[str, Any]], fine: list[str], digest: str, size: int, vertices: int
) -> str:
    rows = "\n".join(
        "| {id} | {name} | {featurecla} | {scalerank} | {ids} | {km2:,.0f} |".format(
            **a["properties"],
            ids=", ".join(map(str, a["properties"]["ne_ids"])),
            km2=area_km2(a["geometry"]),
        )
        for a in areas
    )
    small = ", ".join(
        f"{a['properties']['name']} ({km2(area_km2(a['geometry']))})"
        for a in areas
        if area_km2(a["geometry"]) < SMALL_KM2
    )
    overlap_bullet = bullet(
        "The areas tile the sea rather than nest: each smaller sea is cut out of the larger one "
        "around it, and they share edges. The Baltic Sea stops where the Gulf of Finland and the "
        "Gulf of Bothnia begin (a point off Helsinki is in gulf_of_finland, not in baltic_sea), "
        "and the Mediterranean Sea where the Adriatic, Aegean, Ionian, Tyrrhenian and Balearic "
        "Seas and the Gulf of Lion begin; for the whole Baltic, name the three (for instance in "
        "a region group). (The notes beside the source file say that smaller seas overlap their "
        "parents; in this file they do not.) The only overlaps larger than 0.01 % of the "
        f"smaller area: {overlaps(areas)}."
    )
    missing_bullet = bullet(
        "Not in the source at any name: Gulf of Riga, Sea of Azov, Sea of Marmara, Bosporus, "
        "Dardanelles, Skagerrak, Kattegat, Ligurian Sea, Alboran Sea, Levantine Sea, Celtic "
        "Sea, Strait of Hormuz and Bab-el-Mandeb. A point in the middle of some of them falls "
        f"in: {where_missing(areas)}. A workspace draws such waters as its own zones."
    )
    small_bullet = bullet(
        f"Some areas are small in the source (under {SMALL_KM2:,} km²), most of them label "
        "shapes far smaller than the water they name; they hold next to no point unless "
        f"widened: {small}."
    )
    fine_bullet = bullet(
        "Coordinates are snapped to a 0.0001-degree grid (about 11 m) with shapely's "
        "`set_precision`, which keeps polygons valid, and written with at most 4 decimals. "
        "Where that grid would collapse a ring (a sliver, or a tiny island in an ocean) or "
        "move the area by more than 0.5 %, the area keeps the source's 6 decimals "
        f"({', '.join(fine)}). Nothing is simplified. Exterior rings run counter-clockwise "
        "and holes clockwise (RFC 7946). Every geometry is valid (shapely `is_valid`)."
    )
    corrections = "\n".join(
        textwrap.fill(
            f'- ne_id {ne_id}: named "{name}": {why}.',
            width=96,
            initial_indent="  ",
            subsequent_indent="    ",
        )
        for ne_id, (name, why) in NAMES.items()
    )
    return f"""# Shipped sea areas (sea_areas.geojson)

Written by `tools/build_sea_areas.py` (run it again rather than editing these files).

| | |
|---|---|
| source | Natural Earth 1:50m marine polygons, naturalearthdata.com |
| taken from | repository {REPOSITORY}, commit {COMMIT}, path {PATH} |
| licence | public domain (Natural Earth) |
| sha256 of sea_areas.geojson | {digest} |
| size | {size:,} bytes; {len(areas)} sea areas; {vertices:,} vertices |

Natural Earth data is in the public domain; no permission is needed to use it, and crediting it
is optional ("Made with Natural Earth").

## What was changed

- Only five properties are kept: `id` (new, see below), `name` (English), `ne_ids` (the
  source features the area is made of), `featurecla` and `scalerank` (the source's class and
  scale rank: 0 for oceans, up to 4 for the smallest areas). Names in other languages are
  dropped.
- One feature per named area. The Mediterranean Sea (eastern part ne_id 1159115321, western
  part ne_id 1159116285) is one zone, the union of the two: a single Polygon, because the two
  halves share an edge south of Sicily (a MultiPolygon whose parts share an edge is not
  valid). The Ross Sea's two parts, either side of the antimeridian, are one MultiPolygon.
- The English name is the source's `name_en`, except for the North and South Atlantic and
  Pacific Oceans (whose name_en is "Atlantic Ocean" or "Pacific Ocean" for both halves; the
  source's `name` is kept) and these corrections:
{corrections}
- The id is the English name in lower case, accents dropped, with underscores between words.
{fine_bullet}

## Things to know

{overlap_bullet}
- The polygons are generalised (1:50m): a port may lie just outside its sea's polygon. A zone
  that widens a sea area (`sea_area:` with `within_km` in a workspace's zone file) takes the
  coast in.
{small_bullet}
- The Chukchi Sea, the Bering Sea and the Ross Sea are split at the antimeridian (longitude
  180) into two parts.
{missing_bullet}

## Sea areas

Areas are geodesic (WGS 84 ellipsoid, pyproj), in km².

| id | name | class | scalerank | ne_ids | area km² |
|---|---|---|---|---|---|
{rows}
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path, required=True, help=f"{PATH} of {REPOSITORY}")
    parser.add_argument(
        "--out", type=Path, default=OUT, help="folder to write (default: %(default)s)"
    )
    args = parser.parse_args()
    source = json.loads(args.source.read_text(encoding="utf-8"))
    digest = content_digest(source)
    if digest != CONTENT_DIGEST:
        raise SystemExit(
            f"{args.source}: the fields used differ from those of {REPOSITORY} @ {COMMIT[:8]} "
            f"(digest {digest}, expected {CONTENT_DIGEST})"
        )
    areas, fine = build(source)
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "sea_areas.geojson"
    path.write_text(to_text(areas), encoding="utf-8", newline="\n")
    check_written(path, areas)
    raw = path.read_bytes()
    file_digest = hashlib.sha256(raw).hexdigest()
    vertices = sum(shapely.get_num_coordinates(shape(a["geometry"])) for a in areas)
    md = sources_md(areas, fine, file_digest, len(raw), vertices)
    (args.out / "SOURCES.md").write_text(md, encoding="utf-8", newline="\n")
    print(f"{path}: {len(areas)} sea areas, {vertices:,} vertices, {len(raw):,} bytes")
    print(f"kept at 6 decimals: {', '.join(fine)}")
    print(f"sha256 {file_digest}")


if __name__ == "__main__":
    main()
