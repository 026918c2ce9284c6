"""Connectors: indicator series fetched from their publishers (`riskapp indicators fetch`).

Which indicator comes from where is configured in the workspace's indicators.yaml
(riskapp.io.connectors.config); how to reach the publishers (base URLs, tokens, proxy,
timeout, retries) in the Settings. Each connector returns a `Fetched` (a checked Series and
its URL) or raises a `FetchError` naming the URL and the problem; nothing is stored here."""

from __future__ import annotations

from riskapp.io.connectors.common import Fetched
from riskapp.io.connectors.config import (
    FEEDS_FILE,
    EurostatFeed,
    FeedEntry,
    FeedFile,
    GprFeed,
    HttpFeed,
    UcdpFeed,
    WorldBankFeed,
    load_feeds,
    select,
)
from riskapp.io.connectors.http import Client, FetchError


def fetch_feed(feed: FeedEntry, client: Client) -> Fetched:
    """One configured indicator fetched and checked; FetchError naming it, the URL and what
    went wrong."""
    from riskapp.io.connectors.eurostat import fetch_eurostat
    from riskapp.io.connectors.generic import fetch_http
    from riskapp.io.connectors.gpr import fetch_gpr
    from riskapp.io.connectors.ucdp import fetch_ucdp
    from riskapp.io.connectors.worldbank import fetch_worldbank

    try:
        if isinstance(feed, WorldBankFeed):
            return fetch_worldbank(feed, client)
        if isinstance(feed, EurostatFeed):
            return fetch_eurostat(feed, client)
        if isinstance(feed, GprFeed):
            return fetch_gpr(feed, client)
        if isinstance(feed, UcdpFeed):
            return fetch_ucdp(feed, client)
        return fetch_http(feed, client)
    except FetchError as exc:
        exc.indicator = feed.id
        raise


__all__ = [
    "FEEDS_FILE",
    "Client",
    "EurostatFeed",
    "FeedEntry",
    "FeedFile",
    "FetchError",
    "Fetched",
    "GprFeed",
    "HttpFeed",
    "UcdpFeed",
    "WorldBankFeed",
    "fetch_feed",
    "load_feeds",
    "select",
]
