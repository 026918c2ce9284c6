"""Routes from files (riskapp.io.routes): a workspace's routes file in YAML (line or WKT) or
GeoJSON, read into riskapp.domain.routes.Route values, with every bad input a problem naming the
file, the line (YAML) or feature (GeoJSON, counted from 1), the field and what was expected; and
the demo workspace's routes. Files are written to tmp_path only."""

from __future__ import annotations

import json
import math
import textwrap
from pathlib import Path
from typing import Any

import pytest

from riskapp.domain.routes import MAX_ROUTE_POINTS, Route, RouteRule
from riskapp.io import routes
from riskapp.io.errors import InputError, Problem
from riskapp.io.geofile import MAX_GEOJSON_BYTES
from riskapp.io.routes import MAX_ROUTES, MAX_WKT_CHARS, load_route_file
from riskapp.io.tables import load_assets
from riskapp.io.yamlfile import MAX_YAML_BYTES
from riskapp.resources import DEMO

# one degree of longitude along the equator on the WGS 84 ellipsoid: 2 pi 6378.137 km / 360
KM_PER_EQUATOR_DEGREE = 2 * math.pi * 6378.137 / 360
LINE_TYPES = {"subsea_cable", "pipeline", "shipping_lane"}


def problems_of(path: Path, label: str | None = None) -> list[Problem]:
    with pytest.raises(InputError) as info:
        load_route_file(path, label)
    return info.value.problems


def write_yaml(tmp_path: Path, text: str, name: str = "routes.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def write_geojson(tmp_path: Path, *features: dict[str, Any], **extra: Any) -> Path:
    path = tmp_path / "routes.geojson"
    data = {"type": "FeatureCollection", **extra, "features": list(features)}
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def feature(geometry_type: str, coordinates: Any, **props: Any) -> dict[str, Any]:
    return {
        "type": "Feature",
        "properties": {"asset_id": "A", **props},
        "geometry": {"type": geometry_type, "coordinates": coordinates},
    }


# --- round trips -------------------------------------------------------------------------

EXAMPLE = """
routes:
  - asset_id: CBL-BAL-02
    line: [[24.93, 60.15], [22.9, 59.6], [19.5, 57.5], [14.5, 55.0], [12.1, 54.18]]
  - asset_id: SHP-EG-01
    rule: length_weighted
    line:
      - [32.3, 31.3]
      - [32.55, 29.9]
      - [33.5, 27.5]
  - asset_id: PIP-X
    rule: any_cut
    wkt: "LINESTRING (24.05 59.35, 24.5 59.7, 24.3 60.1)"
  - asset_id: PIP-Z
    wkt: "linestring z(1 2 30, 3 4 40)"
"""


def test_yaml_round_trip(tmp_path: Path) -> None:
    book, lines = load_route_file(write_yaml(tmp_path, EXAMPLE))
    assert book.routes == [
        Route(
            asset_id="CBL-BAL-02",
            line=[(24.93, 60.15), (22.9, 59.6), (19.5, 57.5), (14.5, 55.0), (12.1, 54.18)],
        ),
        Route(
            asset_id="SHP-EG-01",
            line=[(32.3, 31.3), (32.55, 29.9), (33.5, 27.5)],
            rule=RouteRule.LENGTH_WEIGHTED,
        ),
        Route(
            asset_id="PIP-X",
            line=[(24.05, 59.35), (24.5, 59.7), (24.3, 60.1)],
            rule=RouteRule.ANY_CUT,
        ),
        Route(asset_id="PIP-Z", line=[(1.0, 2.0), (3.0, 4.0)]),  # WKT's altitude dropped
    ]
    assert book.routes[0].rule is None  # the workspace's rule for its type applies
    assert book.asset_ids == ["CBL-BAL-02", "SHP-EG-01", "PIP-X", "PIP-Z"]
    assert lines is not None
    assert lines.line(("routes", 1, "line", 2)) == 9
    assert lines.line(("routes", 2, "wkt")) == 12


def test_the_docstring_example_loads(tmp_path: Path) -> None:
    doc = routes.__doc__ or ""
    block = doc[doc.index("    routes:") : doc.index("\n\n", doc.index("    routes:"))]
    book, _ = load_route_file(write_yaml(tmp_path, block))
    assert book.asset_ids == ["CBL-BAL-02", "SHP-EG-01", "PIP-X"]
    assert book.routes[2].line == [(24.05, 59.35), (24.5, 59.7), (24.3, 60.1)]


def test_geojson_round_trip(tmp_path: Path) -> None:
    path = write_geojson(
        tmp_path,
        feature("LineString", [[24.93, 60.15, -80.0], [12.1, 54.18, -20.0]], asset_id="CBL-1"),
        {  # the Feature's own id serves when its properties have none (or are null)
            "type": "Feature",
            "id": "LANE-1",
            "properties": None,
            "geometry": {"type": "LineString", "coordinates": [[32.3, 31.3], [33.5, 27.5]]},
        },
        feature(  # parts that touch, end to start, are joined, the shared point kept once
            "MultiLineString",
            [[[0, 0], [1, 1]], [[1, 1], [2, 1], [3, 2]], [[3, 2], [4, 2]]],
            asset_id="PIP-1",
            rule="length_weighted",
        ),
        crs={"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}},
    )
    book, lines = load_route_file(path)
    assert lines is None
    assert book.routes == [
        Route(asset_id="CBL-1", line=[(24.93, 60.15), (12.1, 54.18)]),
        Route(asset_id="LANE-1", line=[(32.3, 31.3), (33.5, 27.5)]),
        Route(
            asset_id="PIP-1",
            line=[(0, 0), (1, 1), (2, 1), (3, 2), (4, 2)],
            rule=RouteRule.LENGTH_WEIGHTED,
        ),
    ]


def test_an_empty_list_of_routes(tmp_path: Path) -> None:
    book, _ = load_route_file(write_yaml(tmp_path, "routes: []\n"))
    assert len(book) == 0
    book, _ = load_route_file(write_yaml(tmp_path, "routes:\n"))
    assert len(book) == 0


def test_a_long_step_under_the_limit_loads(tmp_path: Path) -> None:
    """44.9 degrees along the equator: 4,998 km, under the 5,000 km a step may take."""
    assert round(44.9 * KM_PER_EQUATOR_DEGREE, 1) == 4998.2
    path = write_yaml(tmp_path, "routes:\n  - {asset_id: A, line: [[0, 0], [44.9, 0]]}\n")
    book, _ = load_route_file(path)
    assert book.routes[0].line == [(0, 0), (44.9, 0)]


# --- bad input: the file -----------------------------------------------------------------


def test_a_file_neither_yaml_nor_geojson(tmp_path: Path) -> None:
    path = tmp_path / "routes.kml"
    path.write_text("<kml/>", encoding="utf-8")
    [p] = problems_of(path)
    assert (p.file, p.line, p.field) == (str(path), None, "")
    assert p.message.startswith(
        "expected a routes file in YAML (.yaml, .yml) or GeoJSON (.geojson, .json); got a .kml file"
    )
    bare = tmp_path / "routes"
    bare.write_text("routes: []\n", encoding="utf-8")
    [p] = problems_of(bare, "routes")
    assert "got a file without an extension" in p.message


def test_geojson_that_is_not_a_feature_collection(tmp_path: Path) -> None:
    path = tmp_path / "routes.json"
    path.write_text(json.dumps(feature("LineString", [[0, 0], [1, 1]])), encoding="utf-8")
    [p] = problems_of(path, "routes.json")
    assert (p.file, p.line, p.field) == ("routes.json", None, "")
    assert p.message == (
        "expected a GeoJSON FeatureCollection; found a Feature: put it in "
        '{"type": "FeatureCollection", "features": [...]}'
    )
    path.write_text("[1, 2]", encoding="utf-8")
    [p] = problems_of(path, "routes.json")
    assert p.message == "expected a GeoJSON FeatureCollection; found a JSON list"


def test_yaml_that_is_not_a_mapping_of_routes(tmp_path: Path) -> None:
    [p] = problems_of(write_yaml(tmp_path, "- asset_id: A\n"), "r.yaml")
    assert (p.line, p.field, p.message) == (
        1,
        "",
        "expected a mapping with a `routes:` list; found list",
    )
    [p] = problems_of(write_yaml(tmp_path, "routes: {asset_id: A}\n"), "r.yaml")
    assert (p.line, p.field, p.message) == (1, "routes", "expected a list of routes; found dict")
    [p] = problems_of(write_yaml(tmp_path, "routes:\n  - A\n"), "r.yaml")
    assert (p.line, p.field) == (2, "routes[0]")
    assert p.message == "expected a route: a mapping with asset_id and line (or wkt); found 'A'"


def test_malformed_json_nan_and_a_key_given_twice(tmp_path: Path) -> None:
    path = tmp_path / "routes.geojson"
    path.write_text('{"type": "FeatureCollection",\n "features": [}', encoding="utf-8")
    [p] = problems_of(path, "r.geojson")
    assert (p.file, p.line) == ("r.geojson", 2)
    assert p.message.startswith("malformed JSON: Expecting value")
    path.write_text('{"type": "FeatureCollection", "features": [NaN]}', encoding="utf-8")
    [p] = problems_of(path, "r.geojson")
    assert p.message == "malformed JSON: NaN is not a number JSON allows"
    path.write_text('{"type": "FeatureCollection", "features": [], "features": []}', "utf-8")
    [p] = problems_of(path, "r.geojson")
    assert p.message == "malformed JSON: key 'features' given twice in one object"


def test_files_over_the_size_limits(tmp_path: Path) -> None:
    path = tmp_path / "routes.geojson"
    with path.open("wb") as fh:
        fh.truncate(MAX_GEOJSON_BYTES + 1)
    [p] = problems_of(path, "r.geojson")
    assert (p.file, p.line, p.field) == ("r.geojson", None, "")
    assert p.message == "file is 20.0 MB; the limit for this kind of file is 20 MB"
    path = tmp_path / "routes.yaml"
    with path.open("wb") as fh:
        fh.truncate(MAX_YAML_BYTES + 1)
    [p] = problems_of(path, "r.yaml")
    assert p.message == "file is 5.0 MB; the limit for this kind of file is 5 MB"


def test_too_many_features(tmp_path: Path) -> None:
    path = tmp_path / "routes.geojson"
    path.write_text(
        '{"type": "FeatureCollection", "features": [' + ",".join(["{}"] * (MAX_ROUTES + 1)) + "]}",
        encoding="utf-8",
    )
    [p] = problems_of(path, "r.geojson")
    assert (p.line, p.field) == (None, "features")
    assert p.message == "100,001 features; a routes file holds at most 100,000"


def test_coordinates_in_another_reference_system(tmp_path: Path) -> None:
    path = write_geojson(
        tmp_path,
        feature("LineString", [[0, 0], [1, 1]]),
        crs={"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::3857"}},
    )
    [p] = problems_of(path, "r.geojson")
    assert (p.line, p.field) == (None, "crs")
    assert p.message == (
        "coordinates must be longitude/latitude in WGS 84 (EPSG:4326); this file's crs is "
        "'urn:ogc:def:crs:EPSG::3857': export it again in EPSG:4326"
    )


# --- bad input: a route ------------------------------------------------------------------


def test_unknown_keys(tmp_path: Path) -> None:
    path = write_yaml(
        tmp_path,
        """
        routes:
          - asset_id: A
            line: [[0, 0], [1, 1]]
            rules: any_cut
        rotues: []
        """,
    )
    assert problems_of(path, "r.yaml") == [
        Problem("r.yaml", 5, "rotues", "unknown field 'rotues'; did you mean 'routes'? "
                "expected one of: routes"),
        Problem("r.yaml", 4, "routes[0].rules", "unknown field 'rules'; did you mean 'rule'? "
                "expected one of: asset_id, rule, line, wkt"),
    ]  # fmt: skip
    path = write_geojson(tmp_path, feature("LineString", [[0, 0], [1, 1]], name="Cable"))
    [p] = problems_of(path, "r.geojson")
    assert p == Problem(
        "r.geojson",
        1,
        "properties.name",
        "unknown field 'name'; expected one of: asset_id, rule",
        "feature",
    )
    assert str(p) == (
        "r.geojson, feature 1 [properties.name]: unknown field 'name'; expected one of: "
        "asset_id, rule"
    )


def test_both_line_and_wkt_or_neither(tmp_path: Path) -> None:
    path = write_yaml(
        tmp_path,
        """
        routes:
          - asset_id: A
            line: [[0, 0], [1, 1]]
            wkt: LINESTRING (0 0, 1 1)
          - asset_id: B
            rule: any_cut
        """,
    )
    expected = (
        "a route takes its line as `line` (a list of [longitude, latitude]) or as `wkt` (such "
        'as "LINESTRING (24.05 59.35, 24.5 59.7)"): one of them; got '
    )
    assert problems_of(path, "r.yaml") == [
        Problem("r.yaml", 2, "routes[0]", expected + "both"),
        Problem("r.yaml", 5, "routes[1]", expected + "neither"),
    ]


def test_a_missing_or_malformed_asset_id(tmp_path: Path) -> None:
    path = write_yaml(
        tmp_path,
        """
        routes:
          - line: [[0, 0], [1, 1]]
          - asset_id: "bad id!"
            line: [[0, 0], [1, 1]]
        """,
    )
    assert problems_of(path, "r.yaml") == [
        Problem("r.yaml", 2, "routes[0].asset_id",
                "required field is missing: the id of the asset in the register"),
        Problem("r.yaml", 3, "routes[1].asset_id",
                "expected an identifier of 1-64 letters, digits, '_', '.' or '-', starting with "
                "a letter or digit; got 'bad id!'"),
    ]  # fmt: skip
    line = {"type": "LineString", "coordinates": [[0, 0], [1, 1]]}
    no_id = {"type": "Feature", "properties": {}, "geometry": line}
    number_id = {**no_id, "id": 7}
    path = write_geojson(tmp_path, no_id, number_id)
    assert problems_of(path, "r.geojson") == [
        Problem("r.geojson", 1, "properties.asset_id",
                "required field is missing: the id of the asset in the register (or give it as "
                "the Feature's own id)", "feature"),
        Problem("r.geojson", 2, "id",
                "the Feature's id serves as its asset_id: Input should be a valid string (got 7)",
                "feature"),
    ]  # fmt: skip


def test_a_route_of_one_point_or_of_one_position(tmp_path: Path) -> None:
    path = write_yaml(
        tmp_path,
        """
        routes:
          - asset_id: A
            line: [[24.9, 60.2]]
          - asset_id: B
            line: [[24.9, 60.2], [24.9, 60.2], [24.9, 60.2]]
          - asset_id: C
            wkt: LINESTRING (1 2, 1 2)
          - asset_id: D
            wkt: LINESTRING EMPTY
        """,
    )
    assert problems_of(path, "r.yaml") == [
        Problem("r.yaml", 3, "routes[0].line",
                "a route needs at least 2 points, one at each end; got 1"),
        Problem("r.yaml", 5, "routes[1].line",
                "all 3 points are at [24.9, 60.2]: a route needs at least 2 distinct points"),
        Problem("r.yaml", 7, "routes[2].wkt",
                "both points are at [1, 2]: a route needs at least 2 distinct points"),
        Problem("r.yaml", 9, "routes[3].wkt",
                "a route needs at least 2 points, one at each end; got 0"),
    ]  # fmt: skip


def test_coordinates_out_of_range_or_not_numbers(tmp_path: Path) -> None:
    path = write_yaml(
        tmp_path,
        """
        routes:
          - asset_id: A
            line:
              - [24.9, 60.2]
              - [60.2, 124.9]
              - [24.9, yes]
              - "24.9 60.2"
          - asset_id: B
            wkt: LINESTRING (24.9 60.2, 250 60)
        """,
    )
    assert problems_of(path, "r.yaml") == [
        Problem("r.yaml", 5, "routes[0].line[1]",
                "[60.2, 124.9] is out of range: expected longitude -180..180 and latitude "
                "-90..90; positions are [longitude, latitude], as GeoJSON writes them: are these "
                "two swapped?"),
        Problem("r.yaml", 6, "routes[0].line[2]",
                "expected a position [longitude, latitude] of numbers; got [24.9, True]"),
        Problem("r.yaml", 7, "routes[0].line[3]",
                "expected a position [longitude, latitude] of numbers; got '24.9 60.2'"),
        Problem("r.yaml", 9, "routes[1].wkt",
                "point 2 of the WKT: [250.0, 60.0] is out of range: expected longitude "
                "-180..180 and latitude -90..90"),
    ]  # fmt: skip
    path = write_geojson(tmp_path, feature("LineString", [[20.0, 0.0], [20.0, -91.0]]))
    [p] = problems_of(path, "r.geojson")
    assert (p.line, p.field, p.unit) == (1, "geometry.coordinates[1]", "feature")
    assert p.message.startswith("[20.0, -91.0] is out of range")


def test_many_bad_positions_are_counted_not_listed(tmp_path: Path) -> None:
    line = [[0, 0]] + [[200, 0]] * 12
    path = write_geojson(tmp_path, feature("LineString", line))
    problems = problems_of(path, "r.geojson")
    assert [p.field for p in problems[:10]] == [f"geometry.coordinates[{i}]" for i in range(1, 11)]
    assert problems[10] == Problem(
        "r.geojson",
        1,
        "geometry.coordinates",
        "and 2 more problem(s) with these coordinates",
        "feature",
    )
    assert len(problems) == 11


def test_an_unknown_rule(tmp_path: Path) -> None:
    path = write_yaml(
        tmp_path,
        """
        routes:
          - asset_id: A
            rule: any-cut
            line: [[0, 0], [1, 1]]
          - asset_id: B
            rule: 3
            line: [[0, 0], [1, 1]]
        """,
    )
    choices = (
        "any_cut (a cut anywhere cuts the whole route); length_weighted (each place damages "
        "its share of the length)"
    )
    assert problems_of(path, "r.yaml") == [
        Problem("r.yaml", 3, "routes[0].rule",
                f"unknown rule 'any-cut'; did you mean 'any_cut'? expected one of: {choices}"),
        Problem("r.yaml", 6, "routes[1].rule", f"expected a rule, one of: {choices}; got 3"),
    ]  # fmt: skip
    path = write_geojson(tmp_path, feature("LineString", [[0, 0], [1, 1]], rule="lenght_weighted"))
    [p] = problems_of(path, "r.geojson")
    assert (p.line, p.field) == (1, "properties.rule")
    assert p.message.startswith("unknown rule 'lenght_weighted'; did you mean 'length_weighted'?")


def test_an_asset_with_two_routes(tmp_path: Path) -> None:
    path = write_yaml(
        tmp_path,
        """
        routes:
          - asset_id: CBL-1
            line: [[0, 0], [1, 1]]
          - asset_id: CBL-2
            line: [[0, 0], [1, 1]]
          - asset_id: CBL-1
            wkt: LINESTRING (0 0, 2 2)
        """,
    )
    assert problems_of(path, "r.yaml") == [
        Problem("r.yaml", 6, "routes[2].asset_id",
                "asset 'CBL-1' has two routes, at line 2 and at line 6: an asset has one route; "
                "keep one of them"),
    ]  # fmt: skip
    by_id = {"type": "Feature", "id": "CBL-1", "properties": {}}
    by_id["geometry"] = {"type": "LineString", "coordinates": [[0, 0], [1, 1]]}
    path = write_geojson(tmp_path, feature("LineString", [[0, 0], [1, 1]], asset_id="CBL-1"), by_id)
    [p] = problems_of(path, "r.geojson")
    assert (p.line, p.field, p.unit) == (2, "id", "feature")
    assert p.message == (
        "asset 'CBL-1' has two routes, at feature 1 and at feature 2: an asset has one route; "
        "keep one of them"
    )


def test_a_line_that_jumps(tmp_path: Path) -> None:
    """60 degrees along the equator: 6,679 km in one step (hand-computed, see the constant)."""
    assert round(60 * KM_PER_EQUATOR_DEGREE, 1) == 6679.2
    assert round(45 * KM_PER_EQUATOR_DEGREE, 1) == 5009.4
    path = write_yaml(
        tmp_path,
        """
        routes:
          - asset_id: A
            line:
              - [0, 0]
              - [1, 0]
              - [61, 0]
          - asset_id: B
            wkt: LINESTRING (0 0, 45 0)
        """,
    )
    hint = (
        "consecutive points may be at most 5,000 km apart: are a longitude and a latitude "
        "swapped? ({}; a route that does go that far needs points along the way)"
    )
    assert problems_of(path, "r.yaml") == [
        Problem("r.yaml", 6, "routes[0].line[2]",
                "the line jumps 6,679 km from [1, 0] to [61, 0]; "
                + hint.format("positions are [longitude, latitude], as GeoJSON writes them")),
        Problem("r.yaml", 8, "routes[1].wkt",
                "the line jumps 5,009 km from [0, 0] to [45, 0]; "
                + hint.format("WKT positions are `longitude latitude`")),
    ]  # fmt: skip
    # Edinburgh, then Tallinn with its latitude and longitude swapped
    path = write_geojson(tmp_path, feature("LineString", [[-3.19, 55.95], [59.44, 24.75]]))
    [p] = problems_of(path, "r.geojson")
    assert (p.line, p.field) == (1, "geometry.coordinates[1]")
    assert p.message.startswith("the line jumps 6,")
    assert "swapped?" in p.message


def test_too_many_points(tmp_path: Path) -> None:
    line = [[(i % 1000) / 1000, i // 1000 / 1000] for i in range(MAX_ROUTE_POINTS + 1)]
    path = write_geojson(tmp_path, feature("LineString", line))
    [p] = problems_of(path, "r.geojson")
    assert (p.line, p.field) == (1, "geometry.coordinates")
    assert p.message == (
        "100,001 points; a route takes at most 100,000: simplify the line, e.g. with QGIS's "
        "Simplify or ogr2ogr -simplify"
    )
    parts = [line[:50_000], line[49_999:]]  # touching, 100,002 positions given
    path = write_geojson(tmp_path, feature("MultiLineString", parts))
    [p] = problems_of(path, "r.geojson")
    assert p.message.startswith("100,002 points; a route takes at most 100,000")


def test_wkt_that_is_not_a_linestring(tmp_path: Path) -> None:
    path = write_yaml(
        tmp_path,
        """
        routes:
          - {asset_id: A, wkt: "LINESTRING (0 0, 1"}
          - {asset_id: B, wkt: "POLYGON ((0 0, 1 0, 1 1, 0 0))"}
          - {asset_id: C, wkt: "MULTILINESTRING ((0 0, 1 1), (1 1, 2 2))"}
          - {asset_id: D, wkt: [0, 0]}
          - {asset_id: E, wkt: "__import__('os')"}
        """,
    )
    example = '"LINESTRING (24.05 59.35, 24.5 59.7)"'
    problems = problems_of(path, "r.yaml")
    assert [(p.line, p.field) for p in problems] == [
        (2, "routes[0].wkt"),
        (3, "routes[1].wkt"),
        (4, "routes[2].wkt"),
        (5, "routes[3].wkt"),
        (6, "routes[4].wkt"),
    ]
    assert problems[0].message == (
        f"not valid WKT: Expected number but encountered end of stream; expected a LineString "
        f"such as {example}"
    )
    assert problems[1].message == "expected a WKT LINESTRING; got a POLYGON"
    assert problems[2].message == (
        "expected a WKT LINESTRING; got a MULTILINESTRING: join its parts into one LINESTRING"
    )
    assert problems[3].message == f"expected a WKT LineString such as {example}; got [0, 0]"
    assert problems[4].message.startswith("not valid WKT: ")


def test_a_wkt_value_too_long(tmp_path: Path) -> None:
    wkt = "LINESTRING (" + ", ".join(["1 1"] * (MAX_WKT_CHARS // 5 + 1)) + ")"
    assert len(wkt) > MAX_WKT_CHARS
    path = tmp_path / "routes.yaml"
    path.write_text(f"routes:\n  - asset_id: A\n    wkt: '{wkt}'\n", encoding="utf-8")
    [p] = problems_of(path, "r.yaml")
    assert (p.line, p.field) == (3, "routes[0].wkt")
    assert p.message == (
        f"{len(wkt):,} characters; a wkt value takes at most 1,000,000: give a line this long "
        "in a GeoJSON file"
    )


def test_multilinestring_parts_that_do_not_join(tmp_path: Path) -> None:
    path = write_geojson(
        tmp_path,
        feature("MultiLineString", [[[0, 0], [1, 0]], [[2, 0], [1, 0]]]),  # second one reversed
        feature(
            "MultiLineString", [[[0, 0], [1, 0]], [[1, 0], [2, 0]], [[3, 0], [4, 0]]], asset_id="B"
        ),
    )  # fmt: skip
    km = f"{KM_PER_EQUATOR_DEGREE:.0f} km"  # one degree along the equator: 111 km
    assert problems_of(path, "r.geojson") == [
        Problem("r.geojson", 1, "geometry.coordinates[1][0]",
                f"this part starts at [2, 0], {km} from the end of the part before it ([1, 0]); "
                "it ends there instead: reverse it", "feature"),
        Problem("r.geojson", 2, "geometry.coordinates[2][0]",
                f"this part starts at [3, 0], {km} from the end of the part before it ([2, 0]): "
                "a route is one connected line, so each part of a MultiLineString must start "
                "where the part before it ends", "feature"),
    ]  # fmt: skip


def test_a_jump_inside_a_multilinestring_points_at_its_part(tmp_path: Path) -> None:
    path = write_geojson(
        tmp_path, feature("MultiLineString", [[[0, 0], [1, 0]], [[1, 0], [2, 0], [70, 0]]])
    )
    [p] = problems_of(path, "r.geojson")
    assert (p.line, p.field) == (1, "geometry.coordinates[1][2]")
    km = 68 * KM_PER_EQUATOR_DEGREE
    assert p.message.startswith(f"the line jumps {km:,.0f} km from [2, 0] to [70, 0]")


def test_a_geometry_that_is_no_line(tmp_path: Path) -> None:
    no_geometry = {"type": "Feature", "properties": {"asset_id": "B"}, "geometry": None}
    path = write_geojson(tmp_path, feature("Point", [0, 0]), no_geometry)
    assert problems_of(path, "r.geojson") == [
        Problem("r.geojson", 1, "geometry.type",
                "expected a geometry of type LineString or MultiLineString; got 'Point': a route "
                "is a line", "feature"),
        Problem("r.geojson", 2, "geometry",
                "a route needs a geometry (LineString or MultiLineString); got None", "feature"),
    ]  # fmt: skip


def test_every_problem_at_once_and_nothing_half_loaded(tmp_path: Path) -> None:
    path = write_yaml(
        tmp_path,
        """
        routes:
          - asset_id: GOOD
            line: [[0, 0], [1, 1]]
          - asset_id: BAD
            rule: some
            line: [[0, 0]]
          - asset_id: GOOD
            wkt: nonsense
        """,
    )
    problems = problems_of(path, "r.yaml")
    assert [(p.line, p.field) for p in problems] == [
        (5, "routes[1].rule"),
        (6, "routes[1].line"),
        (8, "routes[2].wkt"),
        (7, "routes[2].asset_id"),
    ]


# --- the demo workspace ------------------------------------------------------------------


def test_the_demo_routes_follow_the_registers_line_assets() -> None:
    book, _ = load_route_file(DEMO / "routes.yaml")
    assets = {a.id: a for a in load_assets(DEMO / "assets.csv")}
    line_assets = {a.id for a in assets.values() if a.type in LINE_TYPES}
    assert len(line_assets) == 14
    for route in book.routes:
        asset = assets.get(route.asset_id)
        assert asset is not None, f"{route.asset_id} is not in the demo register"
        assert asset.type in LINE_TYPES, (route.asset_id, asset.type)
        # the asset as a point lies on its route: one of its positions, exactly
        assert (asset.lon, asset.lat) in route.line, route.asset_id
        assert 5 <= len(route.line) <= 30, (route.asset_id, len(route.line))
    assert set(book.asset_ids) == line_assets  # every line asset has its route
