"""Eurostat dissemination API: `/data/{dataset}?format=JSON&<dimension>=<code>...`.

The answer is JSON-stat 2.0: `id` (dimension names), `size` (categories per dimension),
`dimension` (each with category.index: code -> position), `value` keyed by the flat index
(row-major over `id`), `updated`. The filters must leave one category in every dimension but
time; the values are then the time series."""

from __future__ import annotations

import urllib.parse
from typing import Any

from riskapp.io.connectors.common import (
    Fetched,
    normal_period,
    number,
    schema_error,
    to_series,
    when,
)
from riskapp.io.connectors.config import EurostatFeed
from riskapp.io.connectors.http import Client, FetchError


def _positions(dimension: Any, name: str, url: str) -> dict[str, int]:
    """A dimension's category codes with their positions."""
    try:
        index = dimension["category"]["index"]
    except (KeyError, TypeError):
        raise schema_error(url, f"dimension {name!r} has no category.index") from None
    if isinstance(index, list):
        return {str(code): i for i, code in enumerate(index)}
    if isinstance(index, dict) and all(isinstance(v, int) for v in index.values()):
        return {str(k): v for k, v in index.items()}
    raise schema_error(url, f"dimension {name!r}: category.index is not a list or a mapping")


def fetch_eurostat(feed: EurostatFeed, client: Client) -> Fetched:
    query: list[tuple[str, str]] = [("format", "JSON"), ("lang", "EN")]
    query += list(feed.filters.items())
    if feed.since:
        query.append(("sinceTimePeriod", feed.since))
    url = f"{client.settings.eurostat_url}/{feed.dataset}?{urllib.parse.urlencode(query)}"
    doc = client.get_json(url)
    if not isinstance(doc, dict):
        raise schema_error(url, "expected a JSON-stat object")
    if "error" in doc:
        raise FetchError(url, f"the API refused the request: {str(doc['error'])[:300]}")
    missing = [k for k in ("id", "size", "dimension", "value") if k not in doc]
    if missing:
        raise schema_error(url, f"no {', '.join(missing)} in the JSON-stat answer")
    ids, sizes, dims = doc["id"], doc["size"], doc["dimension"]
    if (
        not isinstance(ids, list)
        or not isinstance(sizes, list)
        or len(ids) != len(sizes)
        or not all(isinstance(s, int) for s in sizes)
    ):
        raise schema_error(url, "'id' and 'size' are not lists of the same length")
    if not isinstance(dims, dict):
        raise schema_error(url, "'dimension' is not an object")
    role = doc.get("role")
    times = role.get("time") if isinstance(role, dict) else None
    time_dim = times[0] if isinstance(times, list) and times else "time"
    if time_dim not in ids:
        raise schema_error(url, f"no time dimension {time_dim!r} among {ids}")
    for name, size in zip(ids, sizes, strict=True):
        if name not in dims:
            raise schema_error(url, f"dimension {name!r} is listed in 'id' but not described")
        if name != time_dim and size != 1:
            codes = ", ".join(list(_positions(dims[name], name, url))[:8])
            raise FetchError(
                url,
                f"dimension {name!r} has {size} categories ({codes}); one series needs one: "
                f"add a filter {name}: <code> in indicators.yaml",
            )
    k = ids.index(time_dim)
    stride = 1
    for s in sizes[k + 1 :]:
        stride *= s
    values = doc["value"]
    if isinstance(values, list):
        values = {str(i): v for i, v in enumerate(values)}
    if not isinstance(values, dict):
        raise schema_error(url, "'value' is not an object or a list")
    points: list[tuple[str, float]] = []
    for code, pos in sorted(_positions(dims[time_dim], time_dim, url).items(), key=lambda c: c[1]):
        raw = values.get(str(pos * stride))
        try:
            value = number(raw)
        except ValueError as exc:
            raise FetchError(url, f"period {code}: value {exc}") from None
        if value is not None:
            points.append((normal_period(code), value))
    return to_series(feed, points, url, "eurostat", when(doc.get("updated")))
