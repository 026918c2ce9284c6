"""One truth: with the register edited in the team database, the dashboard, the CLI
(`--source store`), the Python API and a report built from the store show the same headline
numbers, and all name the same source revision (SQLite and PostgreSQL)."""

from __future__ import annotations

import re

from typer.testing import CliRunner

from riskapp.assessment import StoreSource, assess
from riskapp.cli import app
from riskapp.reporting import build_report
from riskapp.reporting.model import ReportOptions
from riskapp.store import Store
from tests.store.conftest import SYSTEM, TINY
from tests.store.test_pages import page, page_env, shared

__all__ = ["page_env", "shared"]  # fixtures used here
EAL = "Expected annual loss"


def test_every_surface_shows_the_store_figures(shared: Store) -> None:
    for stored in shared.assets():
        value = stored.asset.replacement_value
        shared.update_asset(
            stored.asset.id, {"replacement_value": value * 3}, stored.version, SYSTEM
        )
    files_eal = assess(TINY).result.expected_annual_loss()

    api = assess(StoreSource(shared, TINY))
    assert api.result.expected_annual_loss() > files_eal  # the edit is in the figures
    shown = api.fmt.money(api.result.expected_annual_loss())

    overview = page("overview")
    cards = {m.label: m.value for m in overview.metric}
    assert cards[EAL] == shown

    result = CliRunner().invoke(app, ["score", str(TINY), "--source", "store"])
    assert result.exit_code == 0, result.output
    row = next(line for line in result.output.splitlines() if EAL in line)
    assert re.search(rf"\b{re.escape(shown)}\b", row), row
    assert f"Source: {api.source.revision}" in result.output

    files = CliRunner().invoke(app, ["score", str(TINY), "--source", "files"])
    assert files.exit_code == 0, files.output
    assert shown not in next(line for line in files.output.splitlines() if EAL in line)

    report = build_report(StoreSource(shared, TINY), ReportOptions(include_figures=False))
    figures = {k.label: k.text for k in report.key_figures}
    assert figures[EAL] == shown
    p = report.provenance
    assert (p.source, p.source_revision, p.input_hash) == (
        "store",
        api.source.revision,
        api.source.fingerprint,
    )
    assert any(i.startswith("register: ") for i in p.input_files)
    # the report says the database's register is not the files' one, and lists what differs
    assert p.sync_summary == "the files and the team database differ: 3 assets changed"
    rows = dict(p.rows())
    assert "asset P1: changed (replacement_value)" in rows["Files and team database"]
    # so does the CLI
    assert "note: the files and the team database differ: 3 assets changed" in " ".join(
        result.output.split()
    )
