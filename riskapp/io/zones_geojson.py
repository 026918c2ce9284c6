"""Zones from a GeoJSON FeatureCollection (riskapp.io.zones reads the file and the YAML form):
each Feature's properties name the zone (id, name, description) and its extent (radius_km,
width_km or within_km; kernel and distance_km for a hotspot), its geometry the shape."""

from __future__ import annotations

from typing import Any

from riskapp.domain.common import Strict
from riskapp.domain.zones import Decay, GeometryType, Kernel, Kilometres
from riskapp.io.errors import describe_input
from riskapp.io.geofile import FEATURE_MEMBERS, GEOMETRY_MEMBERS, Loc, Reader, feature_list
from riskapp.io.zones import (
    GEOMETRY_TYPES,
    MAX_ZONES,
    Identity,
    PositiveKm,
    ZoneDraft,
    finish_zone,
    read_geometry,
)


class FeatureExtent(Strict):
    """The distances a GeoJSON feature's properties may give."""

    radius_km: PositiveKm | None = None
    width_km: PositiveKm | None = None
    within_km: Kilometres | None = None
    kernel: Kernel | None = None
    distance_km: PositiveKm | None = None


FEATURE_PROPERTIES = ("id", "name", "description", *FeatureExtent.model_fields)


def geojson_zones(reader: Reader, data: Any) -> None:
    features = feature_list(reader, data, MAX_ZONES, "zone")
    for i, feature in enumerate(features or []):
        draft = _feature(reader, feature, ("features", i))
        if draft is not None:
            finish_zone(reader, draft)


def _feature(reader: Reader, feature: Any, loc: Loc) -> ZoneDraft | None:
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        reader.add(loc, f"expected a GeoJSON Feature; got {describe_input(feature)}")
        return None
    before = len(reader.problems)
    reader.unknown_keys(feature, FEATURE_MEMBERS, loc)
    ploc: Loc = (*loc, "properties")
    props = feature.get("properties")
    identity = None
    if isinstance(props, dict):
        reader.unknown_keys(props, FEATURE_PROPERTIES, ploc)
        ident = {k: props[k] for k in Identity.model_fields if k in props}
        if "id" not in ident and isinstance(feature.get("id"), str):
            ident["id"] = feature["id"]
        identity = reader.validate(Identity, ident, ploc)
    else:
        reader.add(
            ploc, f"expected the zone's properties (id, name, ...); got {describe_input(props)}"
        )
        props = {}
    draft = ZoneDraft(loc, (*ploc, "id"), identity)
    extent = reader.validate(
        FeatureExtent, {k: props[k] for k in FeatureExtent.model_fields if k in props}, ploc
    )
    geometry: Any = feature.get("geometry")
    gloc: Loc = (*loc, "geometry")
    gtype = _geometry_type(reader, geometry, gloc)
    if gtype is not None:
        draft.geometry = read_geometry(
            reader, gtype, geometry.get("coordinates"), (*gloc, "coordinates"), altitude=True
        )
    if extent is not None and gtype is not None:
        _feature_extent(reader, draft, extent, gtype, ploc)
    if len(reader.problems) > before or draft.geometry is None:
        draft.ok = False
    return draft


def _geometry_type(reader: Reader, geometry: Any, loc: Loc) -> GeometryType | None:
    names = ", ".join(GEOMETRY_TYPES)
    if not isinstance(geometry, dict):
        reader.add(loc, f"a zone needs a geometry ({names}); got {describe_input(geometry)}")
        return None
    reader.unknown_keys(geometry, GEOMETRY_MEMBERS, loc)
    gtype = GEOMETRY_TYPES.get(str(geometry.get("type")))
    if gtype is None:
        reader.add(
            (*loc, "type"),
            f"expected a geometry of type {names}; got {describe_input(geometry.get('type'))}",
        )
    return gtype


def _feature_extent(
    reader: Reader, draft: ZoneDraft, extent: FeatureExtent, gtype: GeometryType, loc: Loc
) -> None:
    """A feature's band (radius_km, width_km or within_km) and decay (kernel, distance_km)."""
    own = {"radius_km": GeometryType.POINT, "width_km": GeometryType.LINE}
    band = extent.within_km
    for key, kind in own.items():
        value = getattr(extent, key)
        if value is None:
            continue
        if gtype is not kind:
            reader.add(
                (*loc, key),
                f"{key} is a {kind.value}'s; this feature is a {gtype.value}: give within_km",
            )
        elif extent.within_km is not None:
            reader.add((*loc, "within_km"), f"give {key} or within_km, not both")
        else:
            band = value
    draft.within_km = band or 0.0
    if (extent.kernel is None) != (extent.distance_km is None):
        missing = "kernel" if extent.kernel is None else "distance_km"
        reader.add((*loc, missing), "a hotspot takes both kernel and distance_km")
        return
    if extent.kernel is not None and extent.distance_km is not None:
        draft.decay = Decay(kernel=extent.kernel, distance_km=extent.distance_km)
    elif gtype in own.values() and not band:
        size = "radius_km (a circle)" if gtype is GeometryType.POINT else "width_km (a corridor)"
        reader.add(
            loc,
            f"a {gtype.value} has no area: give {size}, within_km, or kernel and "
            "distance_km (a hotspot)",
        )
