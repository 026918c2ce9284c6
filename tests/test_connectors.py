"""Connectors of `riskapp indicators fetch` (issue 11, item 1) against a local HTTP server that
serves recorded answers in each publisher's format (tests/data/connectors), and the failures
each must name: HTTP errors after retries, timeouts, malformed and truncated payloads, a
changed schema, an empty result. Nothing here reaches the network. What a fetch stores (and
that a failed one stores nothing) is in tests/store/test_fetch.py."""

from __future__ import annotations

import csv
import io
import json
import time
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from riskapp.io.connectors import Client, FetchError, fetch_feed, load_feeds
from riskapp.io.errors import InputError
from tests.connector_fixtures import (
    CSV_PATH,
    ES_PATH,
    EXPECTED,
    JSON_PATH,
    UCDP_PATH,
    WB_PATH,
    feed,
    feed_entries,
    recorded,
    recorded_json,
    serve,
    settings_for,
)


def fetched(server: HTTPServer, connector: str, **entry: Any) -> dict[str, float]:
    got = fetch_feed(
        feed({**feed_entries(server)[connector], **entry}), Client(settings_for(server))
    )
    return {o.period: o.value for o in got.series.observations}


def failure(server: HTTPServer, connector: str, **settings: Any) -> FetchError:
    with pytest.raises(FetchError) as caught:
        fetch_feed(feed(feed_entries(server)[connector]), Client(settings_for(server, **settings)))
    return caught.value


def gpr_column(column: str) -> dict[str, float]:
    """The column of the recorded GPR file, read with the csv module (not riskapp's loader)."""
    text = recorded("gpr_data_gpr_export.csv").decode("utf-8-sig")
    out = {}
    for row in csv.DictReader(io.StringIO(text)):
        if row[column]:
            _, month, year = row["month"].split("/")
            out[f"{year}-{month}"] = float(row[column])
    return out


# --- what each connector reads ---------------------------------------------------------------


@pytest.mark.parametrize("connector", ["worldbank", "eurostat", "ucdp", "http"])
def test_recorded_answers_are_read(httpserver: HTTPServer, connector: str) -> None:
    serve(httpserver, connector)
    assert fetched(httpserver, connector) == EXPECTED[connector]


def test_gpr_headline_and_country_columns(httpserver: HTTPServer) -> None:
    serve(httpserver, "gpr")
    assert fetched(httpserver, "gpr") == gpr_column("GPR")
    assert len(gpr_column("GPR")) == 12
    assert fetched(httpserver, "gpr", column="GPRC_DEU", id="gpr_deu") == gpr_column("GPRC_DEU")


def test_worldbank_follows_pages_and_keeps_publication_date(httpserver: HTTPServer) -> None:
    serve(httpserver, "worldbank")
    got = fetch_feed(feed(feed_entries(httpserver)["worldbank"]), Client(settings_for(httpserver)))
    assert {o.published_at.date().isoformat() for o in got.series.observations} == {"2024-10-29"}
    assert got.url.startswith(httpserver.url_for(WB_PATH)) and "page=1" in got.url
    assert got.connector == "worldbank"


def test_ucdp_sums_deaths_and_filters_by_region(httpserver: HTTPServer) -> None:
    serve(httpserver, "ucdp")
    assert fetched(httpserver, "ucdp", measure="deaths") == {
        "2024-01": 7.0,
        "2024-02": 1.0,
        "2024-03": 0.0,
        "2024-04": 7.0,
    }
    assert fetched(httpserver, "ucdp", frequency="quarterly") == {"2024-Q1": 3.0, "2024-Q2": 2.0}


def test_ucdp_region_filter(httpserver: HTTPServer) -> None:
    page = recorded_json("ucdp_gedevents_page0.json")
    page.update(TotalCount=3, TotalPages=1)
    page["Result"][0]["region"] = "Middle East"
    query = {"pagesize": "1000", "StartDate": "2024-01-01", "page": "0"}
    httpserver.expect_request(UCDP_PATH, query_string=query).respond_with_json(page)
    got = fetched(httpserver, "ucdp", region="Europe", country_id=None, end=None)
    assert got == {"2024-01": 1.0, "2024-02": 1.0}


def test_generic_csv_with_dates_and_token(httpserver: HTTPServer) -> None:
    httpserver.expect_request(CSV_PATH, headers={"X-Api-Key": "vendor-secret"}).respond_with_data(
        recorded("generic_prices.csv"), content_type="text/csv"
    )
    got = fetched(
        httpserver,
        "http",
        url=httpserver.url_for(CSV_PATH),
        format="csv",
        items="",
        period="Date",
        value="Close",
        period_format="%d/%m/%Y",
        frequency="daily",
        token_header="X-Api-Key",
    )
    assert got == {"2026-03-02": 52.5, "2026-03-03": 54.75, "2026-03-04": 50.95}


# --- failures: each names the indicator, the URL and the problem --------------------------------


@pytest.mark.parametrize("connector", ["worldbank", "eurostat", "gpr", "ucdp", "http"])
def test_server_error_is_retried_then_reported(httpserver: HTTPServer, connector: str) -> None:
    serve(httpserver, connector, body=b"upstream \x1b[2Jexploded", status=500)
    exc = failure(httpserver, connector)
    ident = feed_entries(httpserver)[connector]["id"]
    message = str(exc)
    assert message.startswith(f"{ident}: http://")
    assert "HTTP 500" in message and "upstream [2Jexploded" in message
    assert "\x1b" not in message  # no terminal control sequence from the server
    assert "after 3 attempts" in message
    assert len(httpserver.log) == 3  # one try and two retries


def test_server_error_then_success_recovers(httpserver: HTTPServer) -> None:
    httpserver.expect_oneshot_request(JSON_PATH).respond_with_data("busy", status=503)
    httpserver.expect_oneshot_request(JSON_PATH).respond_with_data("slow down", status=429)
    serve(httpserver, "http")
    assert fetched(httpserver, "http") == EXPECTED["http"]
    assert [r.path for r in (e[0] for e in httpserver.log)] == [JSON_PATH] * 3


def test_client_errors_are_not_retried(httpserver: HTTPServer) -> None:
    httpserver.expect_request(ES_PATH).respond_with_data(recorded("eurostat_error.json"), 404)
    exc = failure(httpserver, "eurostat")
    assert "HTTP 404" in str(exc) and "No results found" in str(exc)
    assert len(httpserver.log) == 1


def test_retries_wait_longer_each_time(httpserver: HTTPServer) -> None:
    httpserver.expect_request(JSON_PATH).respond_with_data("down", status=502)
    waits: list[float] = []
    client = Client(
        settings_for(httpserver, fetch_retries=3, fetch_backoff=0.5), sleep=waits.append
    )
    with pytest.raises(FetchError, match="HTTP 502"):
        fetch_feed(feed(feed_entries(httpserver)["http"]), client)
    assert waits == [0.5, 1.0, 2.0]


def test_slow_answer_times_out(httpserver: HTTPServer) -> None:
    def slow(request: Request) -> Response:
        time.sleep(1.5)
        return Response(recorded("generic_prices.json"), content_type="application/json")

    httpserver.expect_request(JSON_PATH).respond_with_handler(slow)
    exc = failure(httpserver, "http", fetch_timeout=0.2, fetch_retries=1)
    assert "timed out after 0.2 s" in str(exc) and "after 2 attempts" in str(exc)
    assert str(exc).startswith("ttf_vendor: " + httpserver.url_for(JSON_PATH))


def test_connection_refused_is_named(httpserver: HTTPServer) -> None:
    entry = {**feed_entries(httpserver)["http"], "url": "http://127.0.0.1:9/prices.json"}
    client = Client(settings_for(httpserver, fetch_retries=0))
    with pytest.raises(FetchError, match="connection failed") as caught:
        fetch_feed(feed(entry), client)
    assert caught.value.url == "http://127.0.0.1:9/prices.json"


def test_body_shorter_than_announced_is_truncated(httpserver: HTTPServer) -> None:
    body = recorded("generic_prices.json")

    def cut(request: Request) -> Response:
        response = Response(body[:100], content_type="application/json")
        response.headers["Content-Length"] = str(len(body))
        return response

    httpserver.expect_request(JSON_PATH).respond_with_handler(cut)
    exc = failure(httpserver, "http", fetch_retries=0)
    assert "truncated" in str(exc)


JSON_FIXTURES = {
    "worldbank": "worldbank_page1.json",
    "eurostat": "eurostat_prc_hicp_manr.json",
    "ucdp": "ucdp_gedevents_page0.json",
    "http": "generic_prices.json",
}


@pytest.mark.parametrize("connector", list(JSON_FIXTURES))
def test_malformed_and_truncated_json(httpserver: HTTPServer, connector: str) -> None:
    whole = recorded(JSON_FIXTURES[connector])
    serve(httpserver, connector, body=whole[: len(whole) // 2])
    assert "truncated JSON" in str(failure(httpserver, connector))
    httpserver.clear()
    serve(httpserver, connector, body=b"<html><body>Service maintenance</body></html>")
    assert "malformed JSON" in str(failure(httpserver, connector))


def _changed(connector: str, how: str) -> bytes:
    doc = recorded_json(JSON_FIXTURES[connector])
    if connector == "worldbank":
        row = doc[1][0]
        if how == "missing":
            row["val"] = row.pop("value")
        else:
            row["value"] = "n.a. (revised)"
    elif connector == "eurostat":
        if how == "missing":
            del doc["dimension"]
        else:
            doc["value"]["1"] = "2.6*"
    elif connector == "ucdp":
        if how == "missing":
            doc["results"] = doc.pop("Result")
        else:
            doc["Result"][1]["date_start"] = "yesterday"
    elif how == "missing":
        doc["data"]["rows"] = doc["data"].pop("items")
    else:
        doc["data"]["items"][1]["close"] = {"amount": 38.9}
    return json.dumps(doc).encode()


@pytest.mark.parametrize("how", ["missing", "not a number"])
@pytest.mark.parametrize("connector", list(JSON_FIXTURES))
def test_changed_schema(httpserver: HTTPServer, connector: str, how: str) -> None:
    serve(httpserver, connector, body=_changed(connector, how))
    message = str(failure(httpserver, connector))
    if how == "missing":
        assert "structure changed" in message, message
    else:
        assert "expected a number" in message or "is not a date" in message, message


@pytest.mark.parametrize(
    ("connector", "body", "words"),
    [
        ("worldbank", recorded("worldbank_error.json"), "refused the request: Invalid value"),
        ("eurostat", recorded("eurostat_error.json"), "refused the request"),
        ("http", b'{"data": {"items": []}}', "empty result"),
        ("ucdp", b'{"TotalCount": 0, "TotalPages": 0, "Result": []}', "empty result"),
        ("gpr", b"", "empty result"),
    ],
)
def test_refusals_and_empty_results(
    httpserver: HTTPServer, connector: str, body: bytes, words: str
) -> None:
    serve(httpserver, connector, body=body)
    assert words in str(failure(httpserver, connector))


def test_worldbank_rows_missing_from_pages_are_a_truncated_payload(httpserver: HTTPServer) -> None:
    first = recorded_json("worldbank_page1.json")
    first[0]["pages"] = 1  # the metadata still announces 5 rows; 3 arrive
    serve(httpserver, "worldbank", body=json.dumps(first).encode())
    assert "announces 5 rows, 3 arrived" in str(failure(httpserver, "worldbank"))


def test_eurostat_series_must_be_one(httpserver: HTTPServer) -> None:
    doc = recorded_json("eurostat_prc_hicp_manr.json")
    doc["size"][3] = 2
    doc["dimension"]["geo"]["category"]["index"]["FR"] = 1
    serve(httpserver, "eurostat", body=json.dumps(doc).encode())
    message = str(failure(httpserver, "eurostat"))
    assert "dimension 'geo' has 2 categories (DE, FR)" in message and "add a filter" in message


def test_gpr_changed_or_broken_file(httpserver: HTTPServer) -> None:
    text = recorded("gpr_data_gpr_export.csv")
    serve(httpserver, "gpr", body=text.replace(b",GPR,", b",GPR_HEADLINE,", 1))
    assert "no values in column 'GPR'" in str(failure(httpserver, "gpr"))
    httpserver.clear()
    serve(httpserver, "gpr", body=text.replace(b"01/12/2025", b"2025-12-01"))
    message = str(failure(httpserver, "gpr"))
    assert "not the GPR file's format" in message and "dd/mm/yyyy" in message
    httpserver.clear()
    serve(httpserver, "gpr", body=text.replace(b"127.32", b"high"))
    assert "not the GPR file's format" in str(failure(httpserver, "gpr"))


def test_generic_csv_truncated_or_renamed(httpserver: HTTPServer) -> None:
    entry = {
        "url": httpserver.url_for(CSV_PATH),
        "format": "csv",
        "items": "",
        "period": "Date",
        "value": "Close",
        "period_format": "%d/%m/%Y",
        "frequency": "daily",
        "token": None,
    }
    body = recorded("generic_prices.csv")
    httpserver.expect_request(CSV_PATH).respond_with_data(body[:-12])
    with pytest.raises(FetchError, match="line 4 has 4 cells, the header 5"):
        fetched(httpserver, "http", **entry)
    httpserver.clear()
    httpserver.expect_request(CSV_PATH).respond_with_data(body.replace(b"Close", b"Last"))
    with pytest.raises(FetchError, match="no column 'Close'; columns: Date, Open"):
        fetched(httpserver, "http", **entry)


def test_missing_token_is_named(httpserver: HTTPServer) -> None:
    serve(httpserver, "http")
    exc = failure(httpserver, "http", fetch_tokens={})
    assert "no token 'vendor' in the settings (RISKAPP_FETCH_TOKENS)" in str(exc)
    assert len(httpserver.log) == 0


def test_answer_over_the_size_limit(httpserver: HTTPServer) -> None:
    serve(httpserver, "http", body=b"[" + b"1," * 2_000 + b"1]")
    assert "limit" in str(failure(httpserver, "http", fetch_max_bytes=1_000))


# --- indicators.yaml --------------------------------------------------------------------------


def test_configuration_problems_name_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "indicators.yaml"
    path.write_text(
        "indicators:\n"
        "  - id: pv_deu\n"
        "    name: Political stability\n"
        "    frequency: annual\n"
        "    connector: worldbank\n"
        "    indicator_code: GOV_WGI_PV.EST\n"
        "    county: DEU\n"  # line 7: misspelt
        "  - id: gas\n"
        "    name: Gas\n"
        "    frequency: monthly\n"
        "    connector: ftp\n"  # line 11: no such connector
        "  - id: gpr\n"
        "    name: GPR\n"
        "    frequency: annual\n"  # line 14: GPR is monthly
        "    connector: gpr\n"
        "  - id: ev\n"
        "    name: Events\n"
        "    frequency: monthly\n"
        "    connector: ucdp\n"
        "    version: '25.1'\n"
        "    start: 2024-01-01\n"
        "  - id: api\n"
        "    name: API\n"
        "    frequency: monthly\n"
        "    connector: http\n"
        "    url: file:///etc/passwd\n"  # line 26: only http(s)
        "    format: json\n"
        "    period: p\n"
        "    value: v\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError) as caught:
        load_feeds(path, "indicators.yaml")
    found = {(p.line, p.field) for p in caught.value.problems}
    assert (7, "indicators[0].county") in found and (2, "indicators[0].country") in found
    messages = {(p.line, p.field): p.message for p in caught.value.problems}
    assert messages[(11, "indicators[1].connector")].startswith("unknown connector 'ftp'")
    assert "monthly" in messages[(14, "indicators[2].frequency")]
    assert "country_id or region" in messages[(16, "indicators[3]")]
    assert "expected an http:// or https:// URL" in messages[(26, "indicators[4].url")]


def test_configuration_duplicate_ids(tmp_path: Path) -> None:
    path = tmp_path / "indicators.yaml"
    entry = "  - {id: g, name: G, frequency: monthly, connector: gpr}\n"
    path.write_text("indicators:\n" + entry + entry, encoding="utf-8")
    with pytest.raises(InputError, match="defined more than once") as caught:
        load_feeds(path, "indicators.yaml")
    assert caught.value.problems[0].line == 3


def test_readme_example_is_a_valid_configuration(tmp_path: Path) -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme.split("#### Fetching indicators from their publishers", 1)[1]
    example = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "indicators.yaml"
    path.write_text(example, encoding="utf-8")
    feeds, _ = load_feeds(path)
    assert [f.connector for f in feeds.indicators] == [
        "worldbank",
        "eurostat",
        "gpr",
        "ucdp",
        "http",
    ]


def test_requests_go_through_the_configured_proxy(httpserver: HTTPServer) -> None:
    # the local server stands in for the proxy: it is asked for the publisher's absolute URL
    httpserver.expect_request("/ttf.json").respond_with_data(
        recorded("generic_prices.json"), content_type="application/json"
    )
    entry = {**feed_entries(httpserver)["http"], "url": "http://publisher.invalid/ttf.json"}
    client = Client(
        settings_for(
            httpserver,
            fetch_proxy=httpserver.url_for("/"),
            fetch_allowed_hosts=["publisher.invalid"],  # the allow-list names the publisher
        )
    )
    got = fetch_feed(feed(entry), client)
    assert {o.period for o in got.series.observations} == set(EXPECTED["http"])
    request = httpserver.log[0][0]
    assert request.headers["Host"] == "publisher.invalid"
    assert request.headers["Authorization"] == "Bearer vendor-secret"


def test_too_many_requests_honours_retry_after(httpserver: HTTPServer) -> None:
    httpserver.expect_oneshot_request(JSON_PATH).respond_with_data(
        "slow down", status=429, headers={"Retry-After": "7"}
    )
    serve(httpserver, "http")
    waits: list[float] = []
    client = Client(settings_for(httpserver, fetch_backoff=0.5), sleep=waits.append)
    fetch_feed(feed(feed_entries(httpserver)["http"]), client)
    assert waits == [7.0]


def test_validate_and_schema_know_the_feeds_file(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from riskapp.cli import app

    path = tmp_path / "indicators.yaml"
    path.write_text(
        "indicators:\n  - {id: g, name: G, frequency: monthly, connector: gpr, column: gpr}\n",
        encoding="utf-8",
    )
    runner = CliRunner()
    bad = runner.invoke(app, ["validate", str(path)])
    assert bad.exit_code == 1 and "indicators[0].column" in bad.output
    path.write_text(path.read_text().replace("column: gpr", "column: GPRT"), encoding="utf-8")
    good = runner.invoke(app, ["validate", str(path)])
    assert good.exit_code == 0, good.output
    written = runner.invoke(app, ["schema", "--out", str(tmp_path / "schemas")])
    assert written.exit_code == 0
    schema = json.loads((tmp_path / "schemas" / "indicators.schema.json").read_text())
    assert "WorldBankFeed" in json.dumps(schema)


def test_generic_connector_fetches_only_allowed_hosts(httpserver: HTTPServer) -> None:
    """A workspace file names the URL; only a host the operator allowed is fetched."""
    exc = failure(httpserver, "http", fetch_allowed_hosts=["data.vendor.example"])
    assert "not allowed: add it to RISKAPP_FETCH_ALLOWED_HOSTS" in str(exc)
    assert not httpserver.log  # nothing was requested


def _as_published_xls(csv_bytes: bytes) -> bytes:
    """The recorded GPR rows as the authors publish them: an .xls (BIFF) sheet whose `month`
    column holds dates, the numbers as numbers, the label columns as text."""
    import datetime as dt

    import xlwt

    rows = list(csv.reader(io.StringIO(csv_bytes.decode("utf-8-sig"))))
    book = xlwt.Workbook()
    sheet = book.add_sheet("Sheet1")
    dates = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    for c, name in enumerate(rows[0]):
        sheet.write(0, c, name)
    for r, row in enumerate(rows[1:], start=1):
        for c, cell in enumerate(row):
            if c == 0:
                day, month, year = map(int, cell.split("/"))
                sheet.write(r, c, dt.datetime(year, month, day), dates)
            elif cell:
                try:
                    sheet.write(r, c, float(cell))
                except ValueError:
                    sheet.write(r, c, cell)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_gpr_as_the_authors_publish_it(httpserver: HTTPServer) -> None:
    """The published .xls reads as the CSV riskapp ships does; a broken one is named."""
    xls = _as_published_xls(recorded("gpr_data_gpr_export.csv"))
    assert xls.startswith(b"\xd0\xcf\x11\xe0")
    serve(httpserver, "gpr", body=xls)
    assert fetched(httpserver, "gpr") == gpr_column("GPR")
    assert fetched(httpserver, "gpr", column="GPRC_DEU", id="gpr_deu") == gpr_column("GPRC_DEU")
    httpserver.clear()
    serve(httpserver, "gpr", body=xls[:2000])  # truncated
    assert "not a readable .xls file" in str(failure(httpserver, "gpr"))
