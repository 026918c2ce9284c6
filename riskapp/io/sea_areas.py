"""The sea areas riskapp ships: riskapp/resources/geo/sea_areas.geojson holds 117 named seas,
gulfs, bays, straits and oceans (Natural Earth's 1:50m marine polygons, public domain;
geo/SOURCES.md lists their ids and what was changed, tools/build_sea_areas.py builds the file).
`sea_area_ids()` gives their ids and `sea_area(id)` one of them as a Zone (shipped=True, within_km
0). The file is read once per process, on first use, and each sea area parsed and built when
first asked for (a few ms)."""

from __future__ import annotations

import functools
import json
import re

from riskapp.domain.zones import Geometry, Zone
from riskapp.io.errors import did_you_mean
from riskapp.resources import GEO

SEA_AREAS = GEO / "sea_areas.geojson"


SEA_AREA_SOURCE = "Natural Earth 1:50m marine polygons (public domain), ne_id"


# a feature's line in sea_areas.geojson, which holds one feature a line, its id first
FEATURE_LINE = re.compile(r'\{"type":"Feature","properties":\{"id":"([a-z][a-z0-9_]*)"')


@functools.cache
def sea_area_lines() -> dict[str, str]:
    """Each shipped sea area's GeoJSON feature, as text, by id. The file is read once and a
    feature parsed only when its sea area is asked for: parsing the whole file takes 30-45 ms,
    finding the lines 2 ms."""
    out: dict[str, str] = {}
    for line in SEA_AREAS.read_text(encoding="utf-8").splitlines():
        match = FEATURE_LINE.match(line)
        if match is not None:
            out[match.group(1)] = line.rstrip(",")
    return out


@functools.cache
def sea_area_ids() -> frozenset[str]:
    """The ids of the sea areas riskapp ships (baltic_sea, gulf_of_finland, ...)."""
    return frozenset(sea_area_lines())


@functools.cache
def sea_area_names() -> dict[str, str]:
    """Each shipped sea area's English name by id (the names alone, for pickers)."""
    names = {}
    for zone_id, line in sea_area_lines().items():
        found = _NAME.search(line)
        names[zone_id] = json.loads(found.group(1)) if found else zone_id
    return dict(sorted(names.items(), key=lambda kv: kv[1]))


_NAME = re.compile(r'"name":\s*("(?:[^"\\]|\\.)*")')


@functools.cache
def sea_area(zone_id: str) -> Zone:
    """A shipped sea area as a Zone (built once); KeyError for an id riskapp does not ship."""
    line = sea_area_lines().get(zone_id)
    if line is None:
        hint = did_you_mean(zone_id, sea_area_ids())
        raise KeyError(f"no shipped sea area {zone_id!r}; {hint}see {SEA_AREAS.parent}/SOURCES.md")
    feature = json.loads(line)
    props = feature["properties"]
    return Zone(
        id=props["id"],
        name=props["name"],
        geometry=Geometry.shipped(feature["geometry"]),
        within_km=0.0,
        source=f"{SEA_AREA_SOURCE} {', '.join(str(i) for i in props['ne_ids'])}",
        shipped=True,
    )
