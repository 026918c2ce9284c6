"""Every figure of the dashboard follows the source's revision: a register edit in the team
database changes the Overview's expected loss AND its 99 % VaR, and the Risk page's figures;
the sidebar names the source and says when the files and the database differ (AppTest,
SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from riskapp.store import Store
from tests.store.conftest import SYSTEM, TINY
from tests.store.test_pages import page, page_env, shared

__all__ = ["page_env", "shared"]  # fixtures used here

APP = Path(__file__).resolve().parents[2] / "riskapp" / "dashboard" / "app.py"


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def multiply_register(store: Store, factor: float) -> None:
    for stored in store.assets():
        value = stored.asset.replacement_value
        store.update_asset(
            stored.asset.id, {"replacement_value": value * factor}, stored.version, SYSTEM
        )


def test_overview_and_risk_page_follow_a_register_edit(shared: Store) -> None:
    overview, risk = page("overview"), page("risk")
    before_o, before_r = metrics(overview), metrics(risk)
    eal, var = "Expected annual loss", "Value at risk 99 %"
    assert eal in before_o and var in before_o

    multiply_register(shared, 10)
    overview.run()
    risk.run()
    after_o, after_r = metrics(overview), metrics(risk)
    assert after_o[eal] != before_o[eal]
    assert after_o[var] != before_o[var]  # the VaR cache keys on the revision too
    changed = [k for k in before_r if after_r.get(k) != before_r[k]]
    assert var in changed and "Simulated mean annual loss" in changed, (before_r, after_r)


def test_sidebar_names_the_source_and_lists_differences(shared: Store) -> None:
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    texts = [t.value for t in at.sidebar.text]
    assert any(t.startswith("store r") and "+ files " in t for t in texts), texts
    assert not at.sidebar.warning  # just seeded from the files: in sync

    stored = shared.asset("P1")
    shared.update_asset("P1", {"owner": "Changed in the database"}, stored.version, SYSTEM)
    at.run()
    warnings = [w.value for w in at.sidebar.warning]
    assert warnings and "differ: 1 asset changed" in warnings[0], warnings
    assert any("asset P1: changed (owner)" in t.value for t in at.sidebar.text)


@pytest.fixture(autouse=True)
def _tiny_workspace(page_env: str) -> None:
    assert TINY.is_dir()


def test_the_store_is_read_and_compared_with_the_files_once_per_revision(
    shared: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both loss bases of one revision share one reading of the store and one comparison with
    the files; an edit (a new revision) reads and compares again."""
    from riskapp.assessment.sources import FileSource, StoreSource

    reads: list[int] = []
    compared: list[int] = []
    read, files = StoreSource.load, FileSource.load
    monkeypatch.setattr(StoreSource, "load", lambda self: reads.append(1) or read(self))
    monkeypatch.setattr(
        FileSource, "load", lambda self, **kw: compared.append(1) or files(self, **kw)
    )
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    absolute = metrics(at)
    at.sidebar.radio(key="basis").set_value("incremental").run()
    assert not at.exception, [e.message for e in at.exception]
    assert metrics(at) != absolute  # the other basis was scored
    assert (len(reads), len(compared)) == (1, 1)
    assert not at.sidebar.warning

    stored = shared.asset("P1")
    shared.update_asset("P1", {"owner": "Changed in the database"}, stored.version, SYSTEM)
    at.run()
    at.sidebar.radio(key="basis").set_value("absolute").run()
    assert (len(reads), len(compared)) == (2, 2)
    warnings = [w.value for w in at.sidebar.warning]
    assert warnings and "differ: 1 asset changed" in warnings[0], warnings
