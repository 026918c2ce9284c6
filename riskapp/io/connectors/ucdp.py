"""UCDP API, GED events: `/gedevents/{version}?pagesize=...&page=...&StartDate=...`.

The answer is JSON {TotalCount, TotalPages, PreviousPageUrl, NextPageUrl, Result: [event]},
pages counted from 0; each event has date_start, region, country_id, best (the best estimate
of deaths), ... Events are counted (or their deaths summed) per period of the indicator's
frequency, from `start` to `end` (or the last event), a period without events counting 0.
Pages are asked of the configured base URL; the answer's NextPageUrl is not followed (it
names the public host)."""

from __future__ import annotations

from datetime import date

import pandas as pd

from riskapp.domain.indicators import Frequency
from riskapp.io.connectors.common import Fetched, number, period_of, schema_error, to_series
from riskapp.io.connectors.config import UcdpFeed
from riskapp.io.connectors.http import Client, FetchError, with_query

PAGE_SIZE = 1000
MAX_PAGES = 1000
_PANDAS_FREQ = {
    Frequency.WEEKLY: "W-MON",
    Frequency.MONTHLY: "MS",
    Frequency.QUARTERLY: "QS",
    Frequency.ANNUAL: "YS",
}


def _periods(first: date, last: date, frequency: Frequency) -> list[str]:
    """Every period from the one holding `first` to the one holding `last`."""
    start = pd.Timestamp(first)
    if frequency is Frequency.WEEKLY:
        start -= pd.Timedelta(days=start.weekday())
    else:
        start = start.to_period(_PANDAS_FREQ[frequency][0]).start_time
    days = pd.date_range(start, pd.Timestamp(last), freq=_PANDAS_FREQ[frequency])
    return [period_of(d.date(), frequency) for d in days]


def fetch_ucdp(feed: UcdpFeed, client: Client) -> Fetched:
    s = client.settings
    base = f"{s.ucdp_url}/gedevents/{feed.version}"
    params: dict[str, object] = {"pagesize": PAGE_SIZE, "StartDate": feed.start.isoformat()}
    if feed.end is not None:
        params["EndDate"] = feed.end.isoformat()
    if feed.country_id is not None:
        params["Country"] = feed.country_id
    headers = {"x-ucdp-access-token": s.ucdp_token.get_secret_value()} if s.ucdp_token else {}
    first_url = with_query(base, {**params, "page": 0})
    days: list[date] = []
    weights: list[float] = []
    page, pages, total, seen = 0, 1, 0, 0
    while page < pages:
        url = with_query(base, {**params, "page": page})
        doc = client.get_json(url, headers)
        if not isinstance(doc, dict):
            raise schema_error(url, "expected a JSON object with TotalCount and Result")
        missing = [k for k in ("TotalCount", "TotalPages", "Result") if k not in doc]
        if missing:
            raise schema_error(url, f"no {', '.join(missing)} in the answer")
        try:
            total, pages = int(doc["TotalCount"]), min(int(doc["TotalPages"]), MAX_PAGES)
        except (TypeError, ValueError):
            raise schema_error(url, "TotalCount or TotalPages is not a number") from None
        events = doc["Result"]
        if not isinstance(events, list):
            raise schema_error(url, "Result is not a list")
        for i, event in enumerate(events):
            where = f"event {i + 1} of page {page}"
            if not isinstance(event, dict) or "date_start" not in event:
                raise schema_error(url, f"{where} has no date_start")
            try:
                day = date.fromisoformat(str(event["date_start"])[:10])
            except ValueError:
                raise FetchError(
                    url, f"{where}: date_start {str(event['date_start'])[:30]!r} is not a date"
                ) from None
            if feed.region is not None:
                if "region" not in event:
                    raise schema_error(url, f"{where} has no region")
                if feed.region not in str(event["region"]).split(", "):
                    continue
            weight = 1.0
            if feed.measure == "deaths":
                if "best" not in event:
                    raise schema_error(url, f"{where} has no best (deaths)")
                try:
                    weight = number(event["best"]) or 0.0
                except ValueError as exc:
                    raise FetchError(url, f"{where}: best {exc}") from None
            days.append(day)
            weights.append(weight)
        seen += len(events)
        page += 1
    if seen < total:
        raise FetchError(
            first_url, f"truncated payload: TotalCount announces {total} events, {seen} arrived"
        )
    if not days:
        raise FetchError(first_url, "empty result: no events for this country or region")
    frame = pd.DataFrame({"period": [period_of(d, feed.frequency) for d in days], "value": weights})
    sums = frame.groupby("period")["value"].sum()
    # with an end, the periods up to it without events count 0 (never past today)
    latest = max(days)
    last = latest if feed.end is None else max(min(feed.end, date.today()), latest)
    everything = pd.Series(0.0, index=_periods(feed.start, last, feed.frequency))
    everything = everything.add(sums, fill_value=0.0)
    points = [(str(p), float(v)) for p, v in everything.items()]
    return to_series(feed, points, first_url, "ucdp")
