"""The recorded publisher answers of tests/data/connectors served by a local HTTP server
(pytest-httpserver), and the configured indicators that ask for them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pytest_httpserver import HTTPServer

from riskapp.io.connectors import FeedEntry, FeedFile
from riskapp.settings import Settings

DATA = Path(__file__).resolve().parent / "data" / "connectors"
CONNECTORS = ("worldbank", "eurostat", "gpr", "ucdp", "http")

WB_PATH = "/v2/country/DEU/indicator/GOV_WGI_PV.EST"
ES_PATH = "/eurostat/prc_hicp_manr"
GPR_PATH = "/gpr/data_gpr_export.csv"
UCDP_PATH = "/ucdp/gedevents/25.1"
JSON_PATH = "/vendor/prices.json"
CSV_PATH = "/vendor/prices.csv"


def recorded(name: str) -> bytes:
    return (DATA / name).read_bytes()


def recorded_json(name: str) -> Any:
    return json.loads(recorded(name))


def settings_for(server: HTTPServer, **overrides: Any) -> Settings:
    """Settings whose publishers are the local server; quick retries."""
    values: dict[str, Any] = {
        "worldbank_url": server.url_for("/v2"),
        "eurostat_url": server.url_for("/eurostat"),
        "ucdp_url": server.url_for("/ucdp"),
        "gpr_url": server.url_for(GPR_PATH),
        "ucdp_token": "ucdp-test-token",
        "fetch_tokens": {"vendor": "vendor-secret"},
        "fetch_retries": 2,
        "fetch_backoff": 0.0,
        "fetch_timeout": 5.0,
        "fetch_allowed_hosts": ["localhost", "127.0.0.1"],
        "_env_file": None,
        **overrides,
    }
    return Settings(**values)


def feed_entries(server: HTTPServer) -> dict[str, dict[str, Any]]:
    """One configured indicator per connector (as indicators.yaml would list them)."""
    return {
        "worldbank": {
            "id": "pv_deu",
            "name": "Political stability, Germany",
            "unit": "estimate",
            "frequency": "annual",
            "source": "World Bank WGI",
            "connector": "worldbank",
            "indicator_code": "GOV_WGI_PV.EST",
            "country": "DEU",
            "source_id": 3,
        },
        "eurostat": {
            "id": "hicp_de",
            "name": "HICP annual rate, Germany",
            "unit": "%",
            "frequency": "monthly",
            "source": "Eurostat prc_hicp_manr",
            "connector": "eurostat",
            "dataset": "prc_hicp_manr",
            "filters": {"geo": "DE", "coicop": "CP00", "unit": "RCH_A"},
            "since": "2025-01",
        },
        "gpr": {
            "id": "gpr_global",
            "name": "Geopolitical risk index",
            "unit": "index",
            "frequency": "monthly",
            "source": "Caldara-Iacoviello",
            "connector": "gpr",
            "column": "GPR",
        },
        "ucdp": {
            "id": "ukr_events",
            "name": "Conflict events in Ukraine",
            "unit": "events",
            "frequency": "monthly",
            "source": "UCDP GED",
            "connector": "ucdp",
            "version": "25.1",
            "country_id": 369,
            "start": "2024-01-01",
            "end": "2024-04-30",
        },
        "http": {
            "id": "ttf_vendor",
            "name": "TTF front month (vendor)",
            "unit": "EUR/MWh",
            "frequency": "monthly",
            "connector": "http",
            "url": server.url_for(JSON_PATH),
            "format": "json",
            "items": "data.items[*]",
            "period": "month",
            "value": "close",
            "token": "vendor",
        },
    }


def feed(entry: dict[str, Any]) -> FeedEntry:
    return FeedFile.model_validate({"indicators": [entry]}).indicators[0]


WB_QUERY = {"format": "json", "per_page": "1000", "source": "3"}
UCDP_QUERY = {
    "pagesize": "1000",
    "StartDate": "2024-01-01",
    "EndDate": "2024-04-30",
    "Country": "369",
}


def serve(server: HTTPServer, connector: str, body: bytes | None = None, status: int = 200) -> None:
    """The recorded answer of `connector` (or `body` in place of its first page)."""

    def answer(path: str, name: str, query: dict[str, str] | None = None, **kw: Any) -> None:
        server.expect_request(path, query_string=query, **kw).respond_with_data(
            recorded(name) if body is None else body,
            status=status,
            content_type="text/csv" if name.endswith(".csv") else "application/json",
        )

    if connector == "worldbank":
        answer(WB_PATH, "worldbank_page1.json", {**WB_QUERY, "page": "1"})
        server.expect_request(WB_PATH, query_string={**WB_QUERY, "page": "2"}).respond_with_data(
            recorded("worldbank_page2.json"), content_type="application/json"
        )
    elif connector == "eurostat":
        answer(ES_PATH, "eurostat_prc_hicp_manr.json")
    elif connector == "gpr":
        answer(GPR_PATH, "gpr_data_gpr_export.csv")
    elif connector == "ucdp":
        answer(
            UCDP_PATH,
            "ucdp_gedevents_page0.json",
            {**UCDP_QUERY, "page": "0"},
            headers={"x-ucdp-access-token": "ucdp-test-token"},
        )
        server.expect_request(
            UCDP_PATH,
            query_string={**UCDP_QUERY, "page": "1"},
            headers={"x-ucdp-access-token": "ucdp-test-token"},
        ).respond_with_data(recorded("ucdp_gedevents_page1.json"), content_type="application/json")
    else:
        answer(JSON_PATH, "generic_prices.json", headers={"Authorization": "Bearer vendor-secret"})


# what each connector's recorded answer holds, as stored
EXPECTED: dict[str, dict[str, float]] = {
    "worldbank": {"2019": 0.58931, "2020": 0.679498, "2022": 0.641581, "2023": 0.587286},
    "eurostat": {"2025-01": 2.8, "2025-02": 2.6, "2025-03": 2.3, "2025-04": 2.2, "2025-06": 2.0},
    "ucdp": {"2024-01": 2.0, "2024-02": 1.0, "2024-03": 0.0, "2024-04": 2.0},
    "http": {"2026-01": 34.1, "2026-02": 38.9, "2026-03": 52.5},
}
