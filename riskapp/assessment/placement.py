"""Where the register's points contradict what it says about them: warnings (not errors) for
`riskapp validate`. Apart from `riskapp.assessment.zones` so that checking a workspace does not
import the assessment (`riskapp.assessment.core`) it never builds."""

from __future__ import annotations

import numpy as np

from riskapp.domain.workspace import Workspace

SEA_WARNING_KM = 50.0  # a point this far off its country's coast (1:110m) is likely misplaced
BORDER_WARNING_KM = 25.0  # and this far inside another (borders at 1:110m are coarse)


def placement_warnings(ws: Workspace) -> list[str]:
    """Assets whose coordinates contradict their country: a point lying in another country
    more than BORDER_WARNING_KM from its own, or at sea more than SEA_WARNING_KM off its own
    country's coast (a plant placed at sea, lat and lon swapped, a sign lost). Routes are
    checked by their own file; countries too small for Natural Earth's 1:110m outlines
    (Singapore, Malta, ...) are not checked. One line per asset, for `riskapp validate` to
    print as warnings; first, the targeted subdivisions no asset can lie in
    (`_unplaced_subdivisions`)."""
    import shapely

    from riskapp.domain.assets import text_codes
    from riskapp.domain.common import country_name
    from riskapp.engine.countries import country_shapes

    out = _unplaced_subdivisions(ws)
    frame = ws.portfolio.frame
    lon = frame["lon"].to_numpy(dtype=float, na_value=np.nan)
    lat = frame["lat"].to_numpy(dtype=float, na_value=np.nan)
    shapes = country_shapes()
    filed = frame["country"].to_numpy(dtype=object)
    check = ~(np.isnan(lon) | np.isnan(lat)) & np.isin(filed, shapes.codes)
    check &= text_codes(frame["id"], list(ws.routes.asset_ids)) < 0
    rows = np.flatnonzero(check)
    if not len(rows):
        return out
    found = shapes.locate(lon[rows], lat[rows], near_km=22.2)
    wrong = rows[(found != filed[rows])]
    index = {c: i for i, c in enumerate(shapes.codes)}
    found_at = dict(zip(rows.tolist(), found.tolist(), strict=True))
    ids = frame["id"].to_numpy(dtype=object)
    for row in wrong.tolist():  # the few misplaced assets, one message each
        code, where = str(filed[row]), found_at[row]
        asset = f"asset {ids[row]!r} (lat {lat[row]:g}, lon {lon[row]:g})"
        point = shapely.Point(lon[row], lat[row])
        km = (
            shapes.shapes[index[code]].distance(point)
            * 111.32
            * max(np.cos(np.radians(lat[row])), 0.2)
        )
        if where and km > BORDER_WARNING_KM:
            out.append(
                f"{asset} lies in {country_name(where)} ({where}), not in "
                f"{country_name(code)} ({code}) where it is filed; expected a location in "
                f"{country_name(code)} (lat and lon swapped?)"
            )
            continue
        if km > SEA_WARNING_KM:
            out.append(
                f"{asset} lies at sea, about {km:,.0f} km off {country_name(code)}'s coast; "
                "expected a location on land, or a route if the asset is a line (cable, "
                "pipeline, lane)"
            )
    return out


def _unplaced_subdivisions(ws: Workspace) -> list[str]:
    """Subdivisions that shocks, groups, baseline rows or plans name, but that no register row
    names and the zones file gives no boundary for: no asset lies in them, so what names them
    changes nothing (riskapp.engine.scoring.located_weights)."""
    subs = [z for z in ws.zones.zones if z.subdivision and z.geometry is None]
    if not subs:
        return []
    named = set(ws.portfolio.series("subdivision").unique().tolist())
    return [
        f"subdivision {z.id!r} ({z.name}) is named as a target, but no asset's row names it "
        "in the register's subdivision column and the zones file gives no boundary for it: "
        "no asset lies in it, so what targets it changes nothing"
        for z in subs
        if z.id not in named
    ]
