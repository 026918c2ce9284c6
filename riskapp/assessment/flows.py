"""Dependencies between located assets, laid out for maps (riskapp.charts.maps)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from riskapp.assessment.core import Assessment, memo

FLOW_COLUMNS = (
    "asset_id",
    "name",
    "depends_on",
    "depends_on_name",
    "share",
    "redundancy_group",
    "value_at_stake",
    "dependent_value",
    "lon",
    "lat",
    "to_lon",
    "to_lat",
    "mid_lon",
    "mid_lat",
    "bearing",
)


def dependency_flows(a: Assessment) -> pd.DataFrame:
    """`flow_table(a)`, built once per assessment (the Overview redraws its map on every
    widget change; 100,000 dependencies take about 0.4 s to lay out); a copy, the caller's
    to change."""
    return memo(a, "flows", lambda: flow_table(a)).copy()


def flow_table(a: Assessment) -> pd.DataFrame:
    """The register's dependencies (each asset's depends_on) between two assets with a
    location, for a map: one row per (asset, what it depends on), largest value at stake first.

    - asset_id, name: the dependent; depends_on, depends_on_name: the asset it depends on;
    - share: the link's share of the dependent's exposed value (riskapp.domain.assets.
      DependencyLink), NaN where no link of the assessment's source gives one (such a
      dependency passes on no loss); redundancy_group: the link's group, "" for none;
    - value_at_stake: share x the dependent's exposed value (0 without a share);
      dependent_value: the dependent's exposed value; rows are sorted by value at stake, then
      dependent value, descending (then register order);
    - lon, lat, to_lon, to_lat: the two ends; mid_lon, mid_lat: the geodesic midpoint (WGS84);
      bearing: the direction there towards the asset depended on, degrees clockwise from
      north."""
    import pyproj

    frame = a.ws.portfolio.frame
    ids = pd.Index(frame["id"].to_numpy(dtype=object))
    edges = (
        pd.DataFrame({"row": np.arange(len(frame)), "depends_on": frame["depends_on"].to_numpy()})
        .explode("depends_on")
        .dropna(subset=["depends_on"])
    )
    row = edges["row"].to_numpy(dtype=np.int64)
    to_row = ids.get_indexer(pd.Index(edges["depends_on"].to_numpy(dtype=object)))
    lon = frame["lon"].to_numpy(dtype=float, na_value=np.nan)
    lat = frame["lat"].to_numpy(dtype=float, na_value=np.nan)
    known = to_row >= 0
    row, to_row = row[known], to_row[known]
    located = ~(np.isnan(lon) | np.isnan(lat))
    both = located[row] & located[to_row]
    row, to_row = row[both], to_row[both]
    links = a.links
    given = pd.DataFrame(
        {
            "share": np.fromiter((link.share for link in links), dtype=float, count=len(links)),
            "redundancy_group": [link.redundancy_group or "" for link in links],
        },
        index=pd.MultiIndex.from_arrays(
            [[link.asset_id for link in links], [link.depends_on for link in links]]
        ),
    )
    pairs = pd.MultiIndex.from_arrays([ids[row], ids[to_row]])
    at = given.index.get_indexer(pairs) if len(given) else np.full(len(row), -1)
    # -1 (no link for the pair) reads the appended NaN and ""
    share = np.append(given["share"].to_numpy(dtype=float), np.nan)[at]
    group = np.append(given["redundancy_group"].to_numpy(dtype=object), "")[at]
    value = a.inputs.exposed_value[row]
    geod = pyproj.Geod(ellps="WGS84")
    forward, _, distance = geod.inv(lon[row], lat[row], lon[to_row], lat[to_row])
    mid_lon, mid_lat, back = geod.fwd(lon[row], lat[row], forward, np.asarray(distance) / 2)
    names = frame["name"].to_numpy(dtype=object)
    out = pd.DataFrame(
        {
            "asset_id": ids[row].to_numpy(dtype=object),
            "name": names[row],
            "depends_on": ids[to_row].to_numpy(dtype=object),
            "depends_on_name": names[to_row],
            "share": share,
            "redundancy_group": group.astype(object),
            "value_at_stake": np.nan_to_num(share * value),
            "dependent_value": value,
            "lon": lon[row],
            "lat": lat[row],
            "to_lon": lon[to_row],
            "to_lat": lat[to_row],
            "mid_lon": np.asarray(mid_lon, dtype=float),
            "mid_lat": np.asarray(mid_lat, dtype=float),
            "bearing": (np.asarray(back, dtype=float) + 180.0) % 360.0,
        },
        columns=list(FLOW_COLUMNS),
    )
    order = np.lexsort((np.arange(len(out)), -out["dependent_value"], -out["value_at_stake"]))
    return out.iloc[order].reset_index(drop=True)
