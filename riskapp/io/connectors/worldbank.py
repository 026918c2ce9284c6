"""World Bank Indicators API v2: `/country/{code}/indicator/{indicator}?format=json`.

The answer is a JSON array: [page metadata {page, pages, per_page, total, lastupdated}, rows
[{indicator, country, countryiso3code, date, value, ...}]], paged; an error is an array of one
{"message": [{id, key, value}]}. A null value is a period without data."""

from __future__ import annotations

from typing import Any

from riskapp.io.connectors.common import (
    Fetched,
    normal_period,
    number,
    schema_error,
    to_series,
    when,
)
from riskapp.io.connectors.config import WorldBankFeed
from riskapp.io.connectors.http import Client, FetchError, with_query

PER_PAGE = 1000
MAX_PAGES = 100


def _int(meta: dict[str, Any], key: str, url: str) -> int:
    try:
        return int(meta[key])
    except KeyError:
        raise schema_error(url, f"page metadata has no {key!r}") from None
    except (TypeError, ValueError):
        raise schema_error(url, f"page metadata {key!r} is {meta[key]!r}, not a number") from None


def fetch_worldbank(feed: WorldBankFeed, client: Client) -> Fetched:
    base = f"{client.settings.worldbank_url}/country/{feed.country}/indicator/{feed.indicator_code}"
    params: dict[str, object] = {"format": "json", "per_page": PER_PAGE}
    if feed.source_id is not None:
        params["source"] = feed.source_id
    if feed.since is not None:
        params["date"] = f"{feed.since}:2200"
    first_url = with_query(base, {**params, "page": 1})
    points: list[tuple[str, float]] = []
    rows_seen = 0
    page, pages, total = 1, 1, 0
    updated = None
    while page <= pages:
        url = with_query(base, {**params, "page": page})
        doc = client.get_json(url)
        if (
            isinstance(doc, list)
            and len(doc) == 1
            and isinstance(doc[0], dict)
            and "message" in doc[0]
        ):
            messages = doc[0]["message"]
            text = "; ".join(
                f"{m.get('key', '')}: {m.get('value', '')}" for m in messages if isinstance(m, dict)
            )
            raise FetchError(url, "the API refused the request: " + (text or repr(messages)[:300]))
        if not isinstance(doc, list) or len(doc) != 2 or not isinstance(doc[0], dict):
            raise schema_error(url, "expected a JSON array [page metadata, rows]")
        meta, rows = doc
        pages = min(_int(meta, "pages", url), MAX_PAGES)
        total = _int(meta, "total", url)
        updated = updated or when(meta.get("lastupdated"))
        if rows is None:
            rows = []
        if not isinstance(rows, list):
            raise schema_error(url, f"expected a list of rows, found {type(rows).__name__}")
        for i, row in enumerate(rows):
            where = f"row {i + 1} of page {page}"
            if not isinstance(row, dict):
                raise schema_error(url, f"{where} is not an object")
            missing = [k for k in ("date", "value") if k not in row]
            if missing:
                raise schema_error(url, f"{where} has no {' or '.join(map(repr, missing))}")
            try:
                value = number(row["value"])
            except ValueError as exc:
                raise FetchError(url, f"{where} (date {row['date']!r}): value {exc}") from None
            if value is not None:
                points.append((normal_period(str(row["date"])), value))
        rows_seen += len(rows)
        page += 1
    if rows_seen < total:
        raise FetchError(
            first_url,
            f"truncated payload: the metadata announces {total} rows, {rows_seen} arrived",
        )
    return to_series(feed, points, first_url, "worldbank", updated)
