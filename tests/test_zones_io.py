"""Zones from files (riskapp.io.zones): the shipped sea areas, and a workspace's zone file in
YAML or GeoJSON, read into riskapp.domain.zones.Zone values, with every bad input a problem
naming the file, the line (YAML) or feature (GeoJSON, counted from 1), the field and what was
expected. Files are written to tmp_path only."""

from __future__ import annotations

import hashlib
import json
import math
import re
import textwrap
from pathlib import Path
from typing import Any

import pytest
import shapely

from riskapp.domain.common import iso_alpha3_codes
from riskapp.domain.zones import MAX_VERTICES, Decay, Geometry, GeometryType, Kernel, Zone
from riskapp.engine.geo import geometry
from riskapp.io import zones
from riskapp.io.errors import InputError, Problem
from riskapp.io.geofile import MAX_GEOJSON_BYTES
from riskapp.io.sea_areas import sea_area, sea_area_ids, sea_area_lines
from riskapp.io.zones import load_zone_file
from riskapp.resources import GEO

SLUG = re.compile(r"^[a-z][a-z0-9_]{0,47}$")


def shipped_features() -> list[dict[str, Any]]:
    features: list[dict[str, Any]] = json.loads(
        (GEO / "sea_areas.geojson").read_text(encoding="utf-8")
    )["features"]
    return features


def contains(zone_id: str, lon: float, lat: float) -> bool:
    return bool(geometry(sea_area(zone_id)).contains(shapely.Point(lon, lat)))


def problems_of(path: Path, label: str | None = None) -> list[Problem]:
    with pytest.raises(InputError) as info:
        load_zone_file(path, label)
    return info.value.problems


def write_yaml(tmp_path: Path, text: str, name: str = "zones.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def write_geojson(tmp_path: Path, *features: dict[str, Any], **extra: Any) -> Path:
    path = tmp_path / "zones.geojson"
    data = {"type": "FeatureCollection", **extra, "features": list(features)}
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def feature(geometry_type: str, coordinates: Any, **props: Any) -> dict[str, Any]:
    return {
        "type": "Feature",
        "properties": {"id": "z", "name": "Z", **props},
        "geometry": {"type": geometry_type, "coordinates": coordinates},
    }


SQUARE = [[[24.0, 60.0], [25.5, 60.0], [25.5, 61.0], [24.0, 61.0], [24.0, 60.0]]]


# --- shipped sea areas -------------------------------------------------------------------


def test_shipped_ids_are_unique_slugs_and_no_country_code() -> None:
    ids = [f["properties"]["id"] for f in shipped_features()]
    assert len(ids) == len(set(ids)) == 117
    assert set(ids) == sea_area_ids()
    assert all(SLUG.match(i) for i in ids)
    assert not {i.upper() for i in ids} & iso_alpha3_codes()
    europe = {
        "baltic_sea", "gulf_of_finland", "gulf_of_bothnia", "north_sea", "norwegian_sea",
        "barents_sea", "greenland_sea", "kara_sea", "white_sea", "black_sea",
        "mediterranean_sea", "red_sea", "arabian_sea", "gulf_of_aden", "persian_gulf",
        "north_atlantic_ocean", "arctic_ocean", "english_channel", "irish_sea",
    }  # fmt: skip
    assert europe <= sea_area_ids()


def test_shipped_geometries_are_valid_polygons_within_range() -> None:
    for f in shipped_features():
        g = shapely.geometry.shape(f["geometry"])
        assert g.geom_type in ("Polygon", "MultiPolygon"), f["properties"]["id"]
        assert g.is_valid, (f["properties"]["id"], shapely.is_valid_reason(g))
        west, south, east, north = g.bounds
        assert -180 <= west <= east <= 180 and -90 <= south <= north <= 90
        assert set(f["properties"]) == {"id", "name", "ne_ids", "featurecla", "scalerank"}


def test_the_line_index_holds_every_feature_as_the_whole_file_does() -> None:
    """sea_area() parses one feature's line; the lines must be the features of the file."""
    lines = sea_area_lines()
    for f in shipped_features():
        assert json.loads(lines[f["properties"]["id"]]) == f


def test_each_shipped_sea_validates_to_the_geometry_it_is_read_as() -> None:
    # sea_area() builds a sea's geometry without checking each position (Geometry.shipped):
    # each one must pass the checks, to the same model
    for f in shipped_features():
        zone = sea_area(f["properties"]["id"])
        assert Geometry.model_validate(f["geometry"]) == zone.geometry, f["properties"]["id"]
        assert zone.geometry is not None
        assert Geometry.model_validate(zone.geometry.model_dump()) == zone.geometry


def test_points_in_the_middle_of_seas() -> None:
    assert contains("baltic_sea", 19.0, 57.0)
    assert contains("gulf_of_finland", 26.0, 60.0)
    assert contains("red_sea", 38.0, 20.0)
    assert not contains("north_sea", 19.0, 57.0)
    assert not contains("baltic_sea", 38.0, 20.0)
    # the renamed ones: Japan's Seto Inland Sea, and Scotland's Inner Seas
    assert contains("seto_inland_sea", 133.0, 34.2)
    assert contains("inner_seas_off_the_west_coast_of_scotland", -6.3, 56.7)
    assert sea_area("seto_inland_sea").name == "Seto Inland Sea"


def test_the_areas_tile_rather_than_nest() -> None:
    """Natural Earth cuts the gulfs and smaller seas out of the seas around them (the notes
    beside the source say otherwise): the Baltic Sea alone is not the whole Baltic."""
    assert contains("gulf_of_finland", 26.0, 60.0) and not contains("baltic_sea", 26.0, 60.0)
    assert contains("gulf_of_bothnia", 20.0, 63.0) and not contains("baltic_sea", 20.0, 63.0)
    assert contains("adriatic_sea", 15.0, 43.0)
    assert not contains("mediterranean_sea", 15.0, 43.0)
    baltic, finland = geometry(sea_area("baltic_sea")), geometry(sea_area("gulf_of_finland"))
    assert baltic.intersection(finland).area < 1e-6 * finland.area
    assert baltic.intersection(finland).length > 0.5  # they share an edge, in degrees


def test_the_mediterranean_is_one_zone_with_both_halves() -> None:
    med = sea_area("mediterranean_sea")
    assert contains("mediterranean_sea", 5.0, 40.0)  # west of Sardinia: the western feature
    assert contains("mediterranean_sea", 25.0, 34.0)  # south of Crete: the eastern feature
    assert "1159115321" in med.source and "1159116285" in med.source
    names = [f["properties"]["name"] for f in shipped_features()]
    assert names.count("Mediterranean Sea") == 1


def test_a_sea_area_zone() -> None:
    baltic = sea_area("baltic_sea")
    assert (baltic.id, baltic.name, baltic.shipped, baltic.within_km) == (
        "baltic_sea",
        "Baltic Sea",
        True,
        0.0,
    )
    assert baltic.kind == "polygon" and baltic.decay is None
    assert baltic.source == "Natural Earth 1:50m marine polygons (public domain), ne_id 1159115831"
    assert sea_area("baltic_sea") is baltic  # built once


def test_an_unknown_sea_area_raises_with_a_suggestion() -> None:
    with pytest.raises(KeyError, match="did you mean 'baltic_sea'"):
        sea_area("baltc_sea")


def test_sources_md_names_the_shipped_file() -> None:
    digest = hashlib.sha256((GEO / "sea_areas.geojson").read_bytes()).hexdigest()
    sources = (GEO / "SOURCES.md").read_text(encoding="utf-8")
    assert f"| sha256 of sea_areas.geojson | {digest} |" in sources
    assert "public domain (Natural Earth)" in sources
    for zone_id in sea_area_ids():
        assert f"\n| {zone_id} | " in sources


# --- round trips -------------------------------------------------------------------------

EXAMPLE = """
zones:
  - id: kaliningrad_150km
    name: Within 150 km of Kaliningrad
    circle: {center: [20.51, 54.71], radius_km: 150}
  - id: finland_russia_border_100km
    name: Finland-Russia border, 100 km
    description: Both sides
    corridor:
      line: [[27.8, 60.5], [29.6, 61.2], [31.5, 62.9]]
      width_km: 100
  - id: my_area
    name: Some polygon
    polygon: [[[24.0, 60.0], [25.5, 60.0], [25.5, 61.0], [24.0, 61.0], [24.0, 60.0]]]
  - id: front_line
    name: Front line
    hotspot: {line: [[37.5, 47.0], [38.0, 48.5]], kernel: linear, distance_km: 200}
  - id: port_blast
    name: Port
    hotspot: {point: [24.9, 60.2], kernel: exponential, distance_km: 25, within_km: 5}
  - id: baltic_coast
    name: Baltic Sea and its coast
    sea_area: baltic_sea
    within_km: 30
"""


def test_yaml_round_trip(tmp_path: Path) -> None:
    catalogue, lines = load_zone_file(write_yaml(tmp_path, EXAMPLE))
    square = Geometry(type=GeometryType.POLYGON, coordinates=SQUARE)
    assert catalogue.zones == [
        Zone(
            id="kaliningrad_150km",
            name="Within 150 km of Kaliningrad",
            geometry=Geometry(type=GeometryType.POINT, coordinates=(20.51, 54.71)),
            within_km=150,
        ),
        Zone(
            id="finland_russia_border_100km",
            name="Finland-Russia border, 100 km",
            description="Both sides",
            geometry=Geometry(
                type=GeometryType.LINE, coordinates=[(27.8, 60.5), (29.6, 61.2), (31.5, 62.9)]
            ),
            within_km=100,
        ),
        Zone(id="my_area", name="Some polygon", geometry=square),
        Zone(
            id="front_line",
            name="Front line",
            geometry=Geometry(type=GeometryType.LINE, coordinates=[(37.5, 47.0), (38.0, 48.5)]),
            decay=Decay(kernel=Kernel.LINEAR, distance_km=200),
        ),
        Zone(
            id="port_blast",
            name="Port",
            geometry=Geometry(type=GeometryType.POINT, coordinates=(24.9, 60.2)),
            within_km=5,
            decay=Decay(kernel=Kernel.EXPONENTIAL, distance_km=25),
        ),
        Zone(
            id="baltic_coast",
            name="Baltic Sea and its coast",
            geometry=sea_area("baltic_sea").geometry,
            within_km=30,
            source="sea area baltic_sea: Natural Earth 1:50m marine polygons (public domain), "
            "ne_id 1159115831",
        ),
    ]
    assert [z.kind for z in catalogue.zones] == [
        "circle", "corridor", "polygon", "hotspot", "hotspot", "polygon",
    ]  # fmt: skip
    assert not any(z.shipped for z in catalogue.zones)
    assert lines is not None
    assert lines.line(("zones", 1, "corridor", "width_km")) == 10
    assert lines.line(("zones", 5, "sea_area")) == 22


def test_the_docstring_example_loads(tmp_path: Path) -> None:
    doc = zones.__doc__ or ""
    block = doc[doc.index("    zones:") : doc.index("\n\n", doc.index("    zones:"))]
    catalogue, _ = load_zone_file(write_yaml(tmp_path, block))
    assert catalogue.ids == [
        "kaliningrad_150km", "finland_russia_border_100km", "my_area", "front_line",
        "baltic_coast",
    ]  # fmt: skip
    assert catalogue.get("my_area") is not None
    assert catalogue.get("my_area").within_km == 10  # type: ignore[union-attr]


def test_geojson_round_trip(tmp_path: Path) -> None:
    path = write_geojson(
        tmp_path,
        feature("Point", [20.51, 54.71], id="kaliningrad_150km", name="K", radius_km=150),
        feature("LineString", [[27.8, 60.5], [29.6, 61.2, 120.0]], id="border", width_km=100),
        feature("Polygon", SQUARE, id="area", description="d", within_km=5),
        {  # the Feature's own id serves when its properties have none
            "type": "Feature",
            "id": "blast",
            "properties": {"name": "B", "kernel": "exponential", "distance_km": 50},
            "geometry": {
                "type": "MultiPolygon",
                "coordinates": [
                    [[[0, 0], [1, 0], [1, 1], [0, 0]]],
                    [[[2, 2], [3, 2], [3, 3], [2, 2]]],
                ],
            },
        },
        crs={"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}},
    )
    catalogue, lines = load_zone_file(path)
    assert lines is None
    assert catalogue.zones == [
        Zone(
            id="kaliningrad_150km",
            name="K",
            geometry=Geometry(type=GeometryType.POINT, coordinates=(20.51, 54.71)),
            within_km=150,
        ),
        Zone(  # the altitude is dropped
            id="border",
            name="Z",
            geometry=Geometry(type=GeometryType.LINE, coordinates=[(27.8, 60.5), (29.6, 61.2)]),
            within_km=100,
        ),
        Zone(
            id="area",
            name="Z",
            description="d",
            geometry=Geometry(type=GeometryType.POLYGON, coordinates=SQUARE),
            within_km=5,
        ),
        Zone(
            id="blast",
            name="B",
            geometry=Geometry(
                type=GeometryType.MULTIPOLYGON,
                coordinates=[
                    [[(0, 0), (1, 0), (1, 1), (0, 0)]],
                    [[(2, 2), (3, 2), (3, 3), (2, 2)]],
                ],
            ),
            decay=Decay(kernel=Kernel.EXPONENTIAL, distance_km=50),
        ),
    ]


def test_an_empty_list_of_zones(tmp_path: Path) -> None:
    catalogue, _ = load_zone_file(write_yaml(tmp_path, "zones: []\n"))
    assert len(catalogue) == 0


# --- bad input ---------------------------------------------------------------------------


def test_a_file_neither_yaml_nor_geojson(tmp_path: Path) -> None:
    path = tmp_path / "zones.kml"
    path.write_text("<kml/>", encoding="utf-8")
    [p] = problems_of(path)
    assert (p.file, p.line, p.field) == (str(path), None, "")
    assert p.message.startswith(
        "expected a zone file in YAML (.yaml, .yml) or GeoJSON (.geojson, .json); got a .kml file"
    )


def test_geojson_that_is_not_a_feature_collection(tmp_path: Path) -> None:
    path = tmp_path / "zones.json"
    path.write_text(json.dumps(feature("Polygon", SQUARE)), encoding="utf-8")
    [p] = problems_of(path, "zones.json")
    assert (p.file, p.line, p.field) == ("zones.json", None, "")
    assert p.message == (
        "expected a GeoJSON FeatureCollection; found a Feature: put it in "
        '{"type": "FeatureCollection", "features": [...]}'
    )


def test_malformed_json_and_nan(tmp_path: Path) -> None:
    path = tmp_path / "zones.geojson"
    path.write_text('{"type": "FeatureCollection",\n "features": [}', encoding="utf-8")
    [p] = problems_of(path, "z.geojson")
    assert (p.file, p.line) == ("z.geojson", 2)
    assert p.message.startswith("malformed JSON: Expecting value")
    path.write_text('{"type": "FeatureCollection", "features": [NaN]}', encoding="utf-8")
    [p] = problems_of(path, "z.geojson")
    assert p.message == "malformed JSON: NaN is not a number JSON allows"


def test_a_geojson_file_over_the_size_limit(tmp_path: Path) -> None:
    path = tmp_path / "zones.geojson"
    with path.open("wb") as fh:
        fh.truncate(MAX_GEOJSON_BYTES + 1)
    [p] = problems_of(path, "z.geojson")
    assert (p.file, p.line, p.field) == ("z.geojson", None, "")
    assert p.message == "file is 20.0 MB; the limit for this kind of file is 20 MB"


def test_unknown_keys_in_yaml(tmp_path: Path) -> None:
    path = write_yaml(
        tmp_path,
        """
        zones:
          - id: a
            name: A
            colour: red
            circle: {center: [20.5, 54.7], radius: 150}
        """,
    )
    assert problems_of(path, "z.yaml") == [
        Problem(
            "z.yaml",
            4,
            "zones[0].colour",
            "unknown field 'colour'; expected one of: id, name, description, circle, corridor, "
            "polygon, hotspot, sea_area, within_km",
        ),
        Problem(
            "z.yaml",
            5,
            "zones[0].circle.radius_km",
            "required field is missing",
        ),
        Problem(
            "z.yaml",
            5,
            "zones[0].circle.radius",
            "unknown field 'radius'; did you mean 'radius_km'? expected one of: center, radius_km",
        ),
    ]


def test_unknown_keys_in_geojson(tmp_path: Path) -> None:
    path = write_geojson(tmp_path, feature("Polygon", SQUARE, fid=3), feature("Polygon", SQUARE))
    problems = problems_of(path, "z.geojson")
    assert problems[0] == Problem(
        "z.geojson",
        1,
        "properties.fid",
        "unknown field 'fid'; did you mean 'id'? expected one of: id, name, description, "
        "radius_km, width_km, within_km, kernel, distance_km",
        "feature",
    )
    assert str(problems[0]).startswith("z.geojson, feature 1 [properties.fid]: unknown field")
    # and the second feature repeats the first one's id
    assert problems[1] == Problem(
        "z.geojson",
        2,
        "properties.id",
        "zone id 'z' is defined more than once (first at feature 1)",
        "feature",
    )


def test_a_zone_with_two_shapes_or_none(tmp_path: Path) -> None:
    path = write_yaml(
        tmp_path,
        """
        zones:
          - id: two
            name: Two
            circle: {center: [20.5, 54.7], radius_km: 150}
            sea_area: baltic_sea
          - id: none
            name: None
        """,
    )
    assert problems_of(path, "z.yaml") == [
        Problem(
            "z.yaml",
            2,
            "zones[0]",
            "a zone takes exactly one shape, one of circle, corridor, polygon, hotspot, "
            "sea_area; got circle and sea_area",
        ),
        Problem(
            "z.yaml",
            6,
            "zones[1]",
            "a zone takes exactly one shape, one of circle, corridor, polygon, hotspot, "
            "sea_area; got none",
        ),
    ]


def test_coordinates_out_of_range(tmp_path: Path) -> None:
    path = write_yaml(
        tmp_path,
        """
        zones:
          - id: swapped
            name: Lat/lon
            circle: {center: [54.7, 120.5], radius_km: 150}
          - id: far
            name: Far
            polygon:
              - - [24.0, 60.0]
                - [250.0, 60.0]
                - [25.5, 61.0]
                - [24.0, 60.0]
        """,
    )
    assert problems_of(path, "z.yaml") == [
        Problem(
            "z.yaml",
            4,
            "zones[0].circle.center",
            "[54.7, 120.5] is out of range: expected longitude -180..180 and latitude -90..90; "
            "positions are [longitude, latitude], as GeoJSON writes them: are these two "
            "swapped?",
        ),
        Problem(
            "z.yaml",
            9,
            "zones[1].polygon[0][1]",
            "[250.0, 60.0] is out of range: expected longitude -180..180 and latitude -90..90",
        ),
    ]
    path = write_geojson(tmp_path, feature("Point", [20.0, -91.0], radius_km=5))
    [p] = problems_of(path, "z.geojson")
    assert (p.line, p.field, p.unit) == (1, "geometry.coordinates", "feature")
    assert p.message.startswith("[20.0, -91.0] is out of range")


def test_a_position_that_is_not_two_numbers(tmp_path: Path) -> None:
    path = write_yaml(
        tmp_path,
        """
        zones:
          - id: a
            name: A
            circle: {center: [20.5, yes], radius_km: 15}
        """,
    )
    [p] = problems_of(path, "z.yaml")
    assert (p.line, p.field) == (4, "zones[0].circle.center")
    assert p.message == "expected a position [longitude, latitude] of numbers; got [20.5, True]"


def test_a_ring_not_closed_or_too_short(tmp_path: Path) -> None:
    path = write_yaml(
        tmp_path,
        """
        zones:
          - id: open
            name: Open
            polygon: [[[24.0, 60.0], [25.5, 60.0], [25.5, 61.0], [24.0, 61.0]]]
          - id: short
            name: Short
            polygon:
              - [[24.0, 60.0], [25.5, 60.0], [25.5, 61.0], [24.0, 61.0], [24.0, 60.0]]
              - [[24.5, 60.5], [25.0, 60.5], [24.5, 60.5]]
        """,
    )
    assert problems_of(path, "z.yaml") == [
        Problem(
            "z.yaml",
            4,
            "zones[0].polygon[0]",
            "the ring is not closed: it ends at [24, 61], not at its first point [24, 60]; "
            "repeat the first point at the end",
        ),
        Problem(
            "z.yaml",
            9,
            "zones[1].polygon[1]",
            "a ring needs at least 4 points (3 corners, then the first again); got 3",
        ),
    ]


def test_a_self_intersecting_polygon(tmp_path: Path) -> None:
    path = write_yaml(
        tmp_path,
        """
        zones:
          - id: bowtie
            name: Figure of eight
            polygon:
              - - [20.0, 50.0]
                - [22.0, 50.0]
                - [20.0, 52.0]
                - [22.0, 52.0]
                - [20.0, 50.0]
        """,
    )
    [p] = problems_of(path, "z.yaml")
    # the edges (22, 50)-(20, 52) and (22, 52)-(20, 50) cross at (21, 51); the vertex nearest
    # it is the first of the four at the same distance
    assert (p.file, p.line, p.field) == ("z.yaml", 5, "zones[0].polygon[0][0]")
    assert p.message == (
        "not a valid polygon: self-intersection at [21, 51], near point 0 of ring 0; edges "
        "must not cross or overlap, and holes must lie inside the outer ring"
    )


def test_a_hole_outside_its_polygon_in_geojson(tmp_path: Path) -> None:
    hole = [[30.0, 60.0], [30.5, 60.0], [30.5, 60.5], [30.0, 60.0]]
    path = write_geojson(tmp_path, feature("Polygon", [SQUARE[0], hole]))
    [p] = problems_of(path, "z.geojson")
    assert (p.line, p.field) == (1, "geometry.coordinates[1][0]")
    assert p.message.startswith("not a valid polygon: hole lies outside shell at [30, 60]")


def test_a_line_with_one_point(tmp_path: Path) -> None:
    path = write_yaml(
        tmp_path,
        """
        zones:
          - id: border
            name: Border
            corridor: {line: [[27.8, 60.5]], width_km: 100}
        """,
    )
    assert problems_of(path, "z.yaml") == [
        Problem("z.yaml", 4, "zones[0].corridor.line", "a line needs at least 2 points; got 1")
    ]


def test_a_negative_or_zero_radius(tmp_path: Path) -> None:
    path = write_yaml(
        tmp_path,
        """
        zones:
          - id: negative
            name: Negative
            circle: {center: [20.5, 54.7], radius_km: -150}
          - id: zero
            name: Zero
            corridor: {line: [[27.8, 60.5], [29.6, 61.2]], width_km: 0}
        """,
    )
    assert problems_of(path, "z.yaml") == [
        Problem(
            "z.yaml",
            4,
            "zones[0].circle.radius_km",
            "Input should be greater than 0 (got -150)",
        ),
        Problem(
            "z.yaml",
            7,
            "zones[1].corridor.width_km",
            "Input should be greater than 0 (got 0)",
        ),
    ]
    path = write_geojson(tmp_path, feature("Point", [20.5, 54.7], radius_km=-1))
    assert problems_of(path, "z.geojson") == [
        Problem(
            "z.geojson",
            1,
            "properties.radius_km",
            "Input should be greater than 0 (got -1)",
            "feature",
        )
    ]


def test_an_unknown_sea_area(tmp_path: Path) -> None:
    path = write_yaml(
        tmp_path,
        """
        zones:
          - id: baltic_coast
            name: Baltic coast
            sea_area: baltc_sea
            within_km: 30
          - id: north
            name: North
            hotspot: {sea_area: North Sea, kernel: linear, distance_km: 50}
        """,
    )
    assert problems_of(path, "z.yaml") == [
        Problem(
            "z.yaml",
            4,
            "zones[0].sea_area",
            "unknown sea area 'baltc_sea'; did you mean 'baltic_sea'? riskapp ships 117 sea "
            "areas, listed in riskapp/resources/geo/SOURCES.md",
        ),
        Problem(
            "z.yaml",
            8,
            "zones[1].hotspot.sea_area",
            "unknown sea area 'North Sea'; did you mean 'north_sea'? riskapp ships 117 sea "
            "areas, listed in riskapp/resources/geo/SOURCES.md",
        ),
    ]


def test_ids_that_are_country_codes_shipped_seas_or_repeated(tmp_path: Path) -> None:
    path = write_yaml(
        tmp_path,
        """
        zones:
          - id: fin
            name: Finland, drawn
            polygon: [[[24.0, 60.0], [25.5, 60.0], [25.5, 61.0], [24.0, 60.0]]]
          - id: north_sea
            name: My North Sea
            polygon: [[[24.0, 60.0], [25.5, 60.0], [25.5, 61.0], [24.0, 60.0]]]
          - id: baltic_sea
            name: Baltic and coast
            sea_area: baltic_sea
            within_km: 30
          - id: fin
            name: Again
            circle: {center: [20.5, 54.7], radius_km: 150}
        """,
    )
    assert problems_of(path, "z.yaml") == [
        Problem(
            "z.yaml",
            2,
            "zones[0].id",
            "zone id 'fin' is the ISO 3166-1 alpha-3 code of Finland (FIN), by which targets "
            "name countries: pick another id",
        ),
        Problem(
            "z.yaml",
            5,
            "zones[1].id",
            "zone id 'north_sea' is the id of a shipped sea area (North Sea): pick another id "
            "(targets may name the shipped sea area itself)",
        ),
        Problem(
            "z.yaml",
            8,
            "zones[2].id",
            "zone id 'baltic_sea' is the shipped sea area's own id; a zone made of it needs an "
            "id of its own: pick another, such as 'baltic_sea_30km'",
        ),
        Problem(
            "z.yaml",
            12,
            "zones[3].id",
            "zone id 'fin' is the ISO 3166-1 alpha-3 code of Finland (FIN), by which targets "
            "name countries: pick another id",
        ),
        Problem(
            "z.yaml",
            12,
            "zones[3].id",
            "zone id 'fin' is defined more than once (first at line 2)",
        ),
    ]


def test_too_many_vertices(tmp_path: Path) -> None:
    n = MAX_VERTICES + 1
    ring = [
        [round(20 + math.cos(2 * math.pi * k / n), 6), round(55 + math.sin(2 * math.pi * k / n), 6)]
        for k in range(n - 1)
    ]
    path = write_geojson(tmp_path, feature("Polygon", [[*ring, ring[0]]]))
    assert problems_of(path, "z.geojson") == [
        Problem(
            "z.geojson",
            1,
            "geometry.coordinates",
            f"{n:,} points; a zone takes at most {MAX_VERTICES:,} (a zone is a region of "
            "interest, not a coastline survey): simplify the shape, e.g. with QGIS's Simplify "
            "or ogr2ogr -simplify",
            "feature",
        )
    ]


def test_geojson_extents_that_do_not_fit_their_geometry(tmp_path: Path) -> None:
    path = write_geojson(
        tmp_path,
        feature("Polygon", SQUARE, id="a", radius_km=5),
        feature("Point", [20.5, 54.7], id="b", kernel="linear"),
        feature("LineString", [[27.8, 60.5], [29.6, 61.2]], id="c"),
        feature("MultiPoint", [[20.5, 54.7]], id="d", radius_km=5),
        crs={"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::3067"}},
    )
    assert problems_of(path, "z.geojson") == [
        Problem(
            "z.geojson",
            None,
            "crs",
            "coordinates must be longitude/latitude in WGS 84 (EPSG:4326); this file's crs is "
            "'urn:ogc:def:crs:EPSG::3067': export it again in EPSG:4326",
            "feature",
        ),
        Problem(
            "z.geojson",
            1,
            "properties.radius_km",
            "radius_km is a Point's; this feature is a Polygon: give within_km",
            "feature",
        ),
        Problem(
            "z.geojson",
            2,
            "properties.distance_km",
            "a hotspot takes both kernel and distance_km",
            "feature",
        ),
        Problem(
            "z.geojson",
            3,
            "properties",
            "a LineString has no area: give width_km (a corridor), within_km, or kernel and "
            "distance_km (a hotspot)",
            "feature",
        ),
        Problem(
            "z.geojson",
            4,
            "geometry.type",
            "expected a geometry of type Point, LineString, Polygon, MultiPolygon; got "
            "'MultiPoint'",
            "feature",
        ),
    ]


def test_within_km_where_the_shape_has_its_own_band(tmp_path: Path) -> None:
    path = write_yaml(
        tmp_path,
        """
        zones:
          - id: a
            name: A
            circle: {center: [20.5, 54.7], radius_km: 150}
            within_km: 10
        """,
    )
    assert problems_of(path, "z.yaml") == [
        Problem(
            "z.yaml",
            5,
            "zones[0].within_km",
            "within_km widens a polygon or a sea area; a circle's band is its circle.radius_km",
        )
    ]


def test_every_problem_at_once_and_nothing_loaded(tmp_path: Path) -> None:
    path = write_yaml(
        tmp_path,
        """
        zones:
          - id: good
            name: Good
            circle: {center: [20.5, 54.7], radius_km: 150}
          - id: Bad Id
            name: ""
            circle: {center: [20.5, 54.7], radius_km: 150}
          - id: bad_line
            name: Bad line
            corridor: {line: [[27.8, 60.5]], width_km: 100}
        """,
    )
    problems = problems_of(path, "z.yaml")
    assert [(p.line, p.field) for p in problems] == [
        (5, "zones[1].id"),
        (6, "zones[1].name"),
        (10, "zones[2].corridor.line"),
    ]
    assert problems[0].message.startswith("expected a lower-case identifier")
    assert problems[1].message.startswith("String should have at least 1 character")


def test_overlapping_parts_of_a_multipolygon(tmp_path: Path) -> None:
    left = [[[0.0, 0.0], [2.0, 0.0], [2.0, 2.0], [0.0, 0.0]]]
    right = [[[1.0, 0.0], [3.0, 0.0], [3.0, 2.0], [1.0, 0.0]]]
    path = write_geojson(tmp_path, feature("MultiPolygon", [left, right], within_km=1))
    [p] = problems_of(path, "z.geojson")
    # the parts' edges cross first at (1, 0), the first point of the second part
    assert (p.line, p.field) == (1, "geometry.coordinates[1][0][0]")
    assert p.message.startswith(
        "not a valid MultiPolygon: self-intersection at [1, 0], near point 0 of ring 0 of "
        "polygon 1;"
    )


def test_a_shape_of_bad_positions_is_reported_ten_times_then_counted(tmp_path: Path) -> None:
    ring = [[200.0 + k, 10.0] for k in range(12)]
    path = write_geojson(tmp_path, feature("Polygon", [ring]))
    problems = problems_of(path, "z.geojson")
    assert [p.field for p in problems[:10]] == [f"geometry.coordinates[0][{k}]" for k in range(10)]
    assert problems[10] == Problem(
        "z.geojson",
        1,
        "geometry.coordinates",
        "and 2 more problem(s) with these coordinates",
        "feature",
    )
    assert len(problems) == 11


def test_too_many_zones(tmp_path: Path) -> None:
    path = write_geojson(tmp_path, *[{"type": "Feature"}] * (zones.MAX_ZONES + 1))
    assert problems_of(path, "z.geojson") == [
        Problem(
            "z.geojson",
            None,
            "features",
            f"{zones.MAX_ZONES + 1:,} features; a zone file holds at most {zones.MAX_ZONES:,}",
            "feature",
        )
    ]
