"""Scheduled refresh (issue 11, item 6): fetch -> rescore -> alerts -> history in one run, on
the schedule of a cron expression, never twice at once on servers sharing a database. The
indicator comes from a local HTTP server serving a recorded-format CSV; nothing leaves this
machine."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from riskapp.assessment.refresh import next_run, refresh, watch
from riskapp.assessment.scaffold import create_workspace
from riskapp.settings import Settings
from riskapp.store import Store
from riskapp.store.runlock import job_lock
from tests.store.conftest import SYSTEM


def _workspace(tmp_path: Path, url: str) -> Path:
    ws = tmp_path / "ws"
    create_workspace(ws, "demo")
    (ws / "indicators.yaml").write_text(
        "indicators:\n"
        "  - {id: gpr_russia, name: Geopolitical risk index Russia, unit: '% of articles',\n"
        "     frequency: monthly, source: test feed, connector: http, url: '" + url + "',\n"
        "     format: csv, period: month, value: value}\n"
    )
    return ws


def _settings(db_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=db_url,
        data_dir=tmp_path,
        fetch_retries=0,
        fetch_timeout=5,
        fetch_allowed_hosts=["localhost", "127.0.0.1"],
    )


def test_one_refresh(db_url: str, httpserver: HTTPServer, tmp_path: Path) -> None:
    httpserver.expect_request("/gpr.csv").respond_with_data("month,value\n2026-01,4.2\n")
    ws = _workspace(tmp_path, httpserver.url_for("/gpr.csv"))
    settings = _settings(db_url, tmp_path)
    at = datetime(2026, 2, 3, 6, 0, tzinfo=UTC)
    report = refresh(ws, settings, SYSTEM, at)
    assert report.ran and [f.indicator for f in report.fetched if f.ok] == ["gpr_russia"]
    # January's 4.2 crosses the Russia signpost (2.5): its alert, the probability's
    assert report.alerts >= 2 and report.saved_id is not None
    store = Store.open(settings, files=ws)
    try:
        assert store.observations("gpr_russia")["period"].iloc[-1] == "2026-01"
        kinds = {a.kind.value for a in store.alerts()}
        assert {"signpost", "probability_moved"} <= kinds
        saved = {s.id: s for s in store.assessments()}
        assert saved[report.saved_id].label == "refresh 2026-02-03 06:00 UTC"
    finally:
        store.close()
    again = refresh(ws, settings, SYSTEM, at)
    assert again.ran and again.alerts == 0  # the same events: nothing raised twice


def test_never_twice_at_once(db_url: str, httpserver: HTTPServer, tmp_path: Path) -> None:
    httpserver.expect_request("/gpr.csv").respond_with_data("month,value\n2026-01,1.0\n")
    ws = _workspace(tmp_path, httpserver.url_for("/gpr.csv"))
    settings = _settings(db_url, tmp_path)
    other = Store.open(settings, files=ws)  # another server, holding the refresh
    try:
        with job_lock(other.core, "refresh") as held:
            assert held
            assert not refresh(ws, settings, SYSTEM).ran
        assert refresh(ws, settings, SYSTEM).ran  # released: this server may
    finally:
        other.close()
    assert httpserver.log  # the second refresh fetched


def test_schedule() -> None:
    at = datetime(2026, 12, 6, 7, 0, tzinfo=UTC)
    assert next_run("0 6 * * *", at) == datetime(2026, 12, 7, 6, 0, tzinfo=UTC)
    assert next_run("*/15 * * * *", at) == datetime(2026, 12, 6, 7, 15, tzinfo=UTC)
    with pytest.raises(ValueError, match="not a cron expression"):
        Settings(refresh_schedule="every morning")


def test_watch_waits_for_the_schedule(db_url: str, httpserver: HTTPServer, tmp_path: Path) -> None:
    httpserver.expect_request("/gpr.csv").respond_with_data("month,value\n2026-01,1.0\n")
    ws = _workspace(tmp_path, httpserver.url_for("/gpr.csv"))
    settings = Settings(
        database_url=db_url,
        data_dir=tmp_path,
        refresh_schedule="0 6 * * *",
        fetch_retries=0,
        fetch_allowed_hosts=["localhost", "127.0.0.1"],
    )
    now = [datetime(2026, 12, 6, 5, 0, tzinfo=UTC)]
    slept: list[float] = []

    def sleep(seconds: float) -> None:  # time passes as the schedule asks
        slept.append(seconds)
        now[0] = datetime.fromtimestamp(now[0].timestamp() + seconds, UTC)

    assert watch(ws, settings, SYSTEM, runs=2, sleep=sleep, clock=lambda: now[0]) == 2
    assert slept == [3600.0, 86400.0]  # to 06:00, then to 06:00 the next day


def test_what_the_last_refresh_changed(db_url: str, httpserver: HTTPServer, tmp_path: Path) -> None:
    from riskapp.assessment.changes import refresh_changes

    httpserver.expect_oneshot_request("/gpr.csv").respond_with_data("month,value\n2026-01,1.0\n")
    httpserver.expect_oneshot_request("/gpr.csv").respond_with_data(
        "month,value\n2026-01,1.0\n2026-02,4.2\n"
    )
    ws = _workspace(tmp_path, httpserver.url_for("/gpr.csv"))
    settings = _settings(db_url, tmp_path)
    first = refresh(ws, settings, SYSTEM, datetime(2026, 2, 3, 6, 0, tzinfo=UTC))
    store = Store.open(settings, files=ws)
    try:
        one = refresh_changes(store)
        assert one is not None and one.previous_at is None and one.eal_before is None
    finally:
        store.close()
    second = refresh(ws, settings, SYSTEM, datetime(2026, 3, 3, 6, 0, tzinfo=UTC))
    store = Store.open(settings, files=ws)
    try:
        changes = refresh_changes(store)
    finally:
        store.close()
    assert changes is not None and changes.previous_at is not None
    # February's 4.2 crossed the Russia signpost: its alert, the probability, the loss
    (crossed,) = changes.crossed
    assert crossed.title.startswith("Signpost red: Geopolitical risk, Russia (Accidental NATO")
    assert len(changes.moved) == 1
    assert changes.eal_change == pytest.approx(second.eal_after - first.eal_after)
    assert changes.eal_change > 0
    top = changes.by_scenario.iloc[0]
    assert top["scenario"] == "nato_russia_accidental_escalation" and top["change"] > 0
    text = "\n".join(changes.lines(lambda v: f"{v:,.0f}"))
    assert "Signposts crossed: Signpost red: Geopolitical risk, Russia" in text


def test_reports_say_what_the_last_refresh_changed(
    db_url: str, httpserver: HTTPServer, tmp_path: Path
) -> None:
    """The PDF (its HTML) and the deck gain the section, from the assessment's own summary."""
    from riskapp.assessment import assess
    from riskapp.assessment.sources import StoreSource
    from riskapp.reporting import deck as deck_format
    from riskapp.reporting import pdf as pdf_format
    from riskapp.reporting.model import ReportOptions, build_report

    httpserver.expect_request("/gpr.csv").respond_with_data("month,value\n2026-01,4.2\n")
    ws = _workspace(tmp_path, httpserver.url_for("/gpr.csv"))
    settings = _settings(db_url, tmp_path)
    refresh(ws, settings, SYSTEM, datetime(2026, 2, 3, 6, 0, tzinfo=UTC))
    store = Store.open(settings, files=ws)
    try:
        a = assess(StoreSource(store, ws))
    finally:
        store.close()
    assert a.refresh_changes is not None
    report = build_report(a, ReportOptions(include_figures=False))
    assert report.changes[0].startswith("Last refresh ") and "(the first)" in report.changes[0]
    html = pdf_format.report_html(report, {})
    assert "Since the last refresh" in html and "Signpost red: Geopolitical risk, Russia" in html
    prs = deck_format.build_deck(report, {})
    titles = [s.shapes.title.text for s in prs.slides]
    assert report.changes[0][:60] in " ".join(titles)
    # from the files alone (no database) the section is not there
    assert build_report(assess(ws), ReportOptions(include_figures=False)).changes == ()
