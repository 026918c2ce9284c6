"""`riskapp indicators fetch` (issue 11, item 1): what each connector fetches from a local HTTP
server serving recorded answers is stored, every revision kept; a failed fetch changes nothing
and names the indicator, the URL and the problem; several indicators are each all or
nothing. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from pytest_httpserver import HTTPServer
from typer.testing import CliRunner

from riskapp.assessment.feeds import fetch_indicators
from riskapp.store import Store
from tests.connector_fixtures import (
    CONNECTORS,
    EXPECTED,
    WB_PATH,
    WB_QUERY,
    feed,
    feed_entries,
    recorded,
    recorded_json,
    serve,
    settings_for,
)
from tests.store.conftest import ADMIN, TINY


def snapshot(store: Store) -> tuple[list[tuple[Any, ...]], pd.DataFrame, int]:
    infos = [
        (i.indicator, i.latest_period, i.latest_value, i.observations) for i in store.indicators()
    ]
    every = [store.observations(i[0].id, vintages=True) for i in infos]
    frame = pd.concat(every) if every else pd.DataFrame()
    return infos, frame, len(store.audit())


def expected(connector: str) -> dict[str, float]:
    if connector != "gpr":
        return EXPECTED[connector]
    # the headline column of the recorded file: 2025-01 .. 2025-12
    text = recorded("gpr_data_gpr_export.csv").decode("utf-8-sig").splitlines()
    rows = [line.split(",") for line in text[-12:]]
    return {f"{r[0][6:10]}-{r[0][3:5]}": float(r[1]) for r in rows}


@pytest.mark.parametrize("connector", CONNECTORS)
def test_fetch_stores_then_a_failure_changes_nothing(
    team: Store, httpserver: HTTPServer, connector: str
) -> None:
    settings = settings_for(httpserver)
    entry = feed(feed_entries(httpserver)[connector])
    serve(httpserver, connector)
    [done] = fetch_indicators(team, [entry], settings, ADMIN)
    assert done.ok, done.error
    assert done.imported is not None and done.imported.added == len(expected(connector))
    stored = team.observations(entry.id)
    assert dict(zip(stored["period"], stored["value"], strict=True)) == pytest.approx(
        expected(connector)
    )
    assert stored["source"].str.startswith(f"fetch {connector} http://").all()
    info = {i.indicator.id: i.indicator for i in team.indicators()}[entry.id]
    assert info == entry.indicator()

    before = snapshot(team)
    for status in (500, 200):  # the server fails, then answers with a broken body
        httpserver.clear()
        serve(httpserver, connector, body=b'{"half": [1, 2', status=status)
        [failed] = fetch_indicators(team, [entry], settings, ADMIN)
        assert not failed.ok and failed.imported is None
        assert failed.error is not None and failed.error.startswith(f"{entry.id}: http://")
        after = snapshot(team)
        assert after[0] == before[0] and after[2] == before[2]
        pd.testing.assert_frame_equal(after[1], before[1])


def test_refetch_keeps_revisions(team: Store, httpserver: HTTPServer) -> None:
    settings = settings_for(httpserver)
    entry = feed(feed_entries(httpserver)["worldbank"])
    serve(httpserver, "worldbank")
    fetch_indicators(team, [entry], settings, ADMIN)
    # the publisher revises 2023 and the second page is unchanged
    page = recorded_json("worldbank_page1.json")
    page[1][0]["value"] = 0.6
    httpserver.clear()
    serve(httpserver, "worldbank", body=json.dumps(page).encode())
    [again] = fetch_indicators(team, [entry], settings, ADMIN)
    assert again.imported is not None
    assert (again.imported.added, again.imported.revised, again.imported.unchanged) == (0, 1, 3)
    every = team.observations("pv_deu", vintages=True)
    y2023 = every[every["period"] == "2023"]
    assert y2023[["vintage", "value"]].to_numpy().tolist() == [[1, 0.587286], [2, 0.6]]


def test_a_failure_late_in_the_pages_stores_nothing(team: Store, httpserver: HTTPServer) -> None:
    settings = settings_for(httpserver)
    entry = feed(feed_entries(httpserver)["worldbank"])
    httpserver.expect_request(WB_PATH, query_string={**WB_QUERY, "page": "1"}).respond_with_data(
        recorded("worldbank_page1.json"), content_type="application/json"
    )
    httpserver.expect_request(WB_PATH, query_string={**WB_QUERY, "page": "2"}).respond_with_data(
        "Bad gateway", status=502
    )
    [failed] = fetch_indicators(team, [entry], settings, ADMIN)
    assert failed.error is not None and "page=2" in failed.error and "HTTP 502" in failed.error
    assert team.indicators() == []


def test_several_indicators_each_all_or_nothing(team: Store, httpserver: HTTPServer) -> None:
    settings = settings_for(httpserver)
    entries = feed_entries(httpserver)
    serve(httpserver, "eurostat")
    serve(httpserver, "http", body=b"<html>maintenance</html>")
    serve(httpserver, "ucdp")
    feeds = [feed(entries[c]) for c in ("eurostat", "http", "ucdp")]
    outcomes = fetch_indicators(team, feeds, settings, ADMIN)
    assert [(o.indicator, o.ok) for o in outcomes] == [
        ("hicp_de", True),
        ("ttf_vendor", False),
        ("ukr_events", True),
    ]
    assert "malformed JSON" in (outcomes[1].error or "")
    assert {i.indicator.id for i in team.indicators()} == {"hicp_de", "ukr_events"}


def _workspace(tmp_path: Path, server: HTTPServer) -> Path:
    folder = tmp_path / "ws"
    shutil.copytree(TINY, folder)
    entries = feed_entries(server)
    (folder / "indicators.yaml").write_text(
        yaml.safe_dump({"indicators": [entries["eurostat"], entries["http"]]}, sort_keys=False),
        encoding="utf-8",
    )
    return folder


def test_command_line(
    tmp_path: Path, db_url: str, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from riskapp.cli import app

    workspace = _workspace(tmp_path, httpserver)
    monkeypatch.setenv("RISKAPP_DATABASE_URL", db_url)
    monkeypatch.setenv("RISKAPP_WORKSPACE", str(TINY))
    monkeypatch.setenv("RISKAPP_EUROSTAT_URL", httpserver.url_for("/eurostat"))
    monkeypatch.setenv("RISKAPP_FETCH_TOKENS", '{"vendor": "vendor-secret"}')
    monkeypatch.setenv("RISKAPP_FETCH_BACKOFF", "0")
    monkeypatch.setenv("RISKAPP_FETCH_RETRIES", "1")
    monkeypatch.setenv("RISKAPP_FETCH_ALLOWED_HOSTS", '["localhost", "127.0.0.1"]')
    monkeypatch.chdir(tmp_path)
    serve(httpserver, "eurostat")
    serve(httpserver, "http", status=503)
    runner = CliRunner()
    both = runner.invoke(app, ["indicators", "fetch", "-w", str(workspace)])
    assert both.exit_code == 1, both.output
    assert "Fetched hicp_de (eurostat): 5 value(s) added" in both.output
    assert "Failed ttf_vendor: http://" in both.output and "HTTP 503" in both.output
    assert "nothing of it was stored" in both.output
    assert "1 of 2 failed: ttf_vendor" in both.output
    one = runner.invoke(app, ["indicators", "fetch", "hicp_de", "-w", str(workspace)])
    assert one.exit_code == 0, one.output
    assert "0 value(s) added, 0 revised (earlier values kept), 5 unchanged" in one.output
    listed = runner.invoke(app, ["indicators", "list"])
    assert "hicp_de" in listed.output and "ttf_vendor" not in listed.output
    unknown = runner.invoke(app, ["indicators", "fetch", "nope", "-w", str(workspace)])
    assert unknown.exit_code == 1 and "no indicator 'nope' configured" in unknown.output
    (workspace / "indicators.yaml").unlink()
    missing = runner.invoke(app, ["indicators", "fetch", "-w", str(workspace)])
    assert missing.exit_code == 1 and "no indicators configured" in missing.output
