"""Backup and restore: export-workspace / import-workspace round-trip everything, audit included."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from riskapp.io import InputError
from riskapp.store import Role, Store
from riskapp.store.assessments import save_current
from tests.store.conftest import ADMIN, ANALYST, SYSTEM, OpenStore


def _everything(store: Store) -> dict[str, object]:
    return {
        "assets": store.assets(),
        "plans": store.plans(),
        "audit": store.audit(),
        "users": store.users(),
        "assessments": [store.assessment(a.id) for a in store.assessments()],
    }


def _busy(team: Store) -> None:
    p1 = team.asset("P1")
    team.update_asset("P1", {"owner": "Ops North", "lat": None, "lon": None}, p1.version, ANALYST)
    shield = team.plan("shield")
    team.update_plan("shield", {"review_date": date(2025, 6, 30)}, shield.version, ANALYST)
    save_current(team, "Q4 2025", date(2025, 12, 31), ANALYST)


def test_round_trip_into_an_empty_database(
    team: Store, open_store: OpenStore, new_db_url: Callable[[], str]
) -> None:
    _busy(team)
    backup = json.loads(json.dumps(team.export_workspace(ADMIN)))  # through a file's JSON
    before = _everything(team)
    fresh = open_store(new_db_url(), seed=False)  # another, empty database of the same kind
    assert fresh.is_empty()
    restored_counts = fresh.import_workspace(backup, SYSTEM)
    assert restored_counts["assets"] == 3
    after = _everything(fresh)
    assert after["assets"] == before["assets"]
    assert after["plans"] == before["plans"]
    assert after["users"] == before["users"]
    assert after["assessments"] == before["assessments"]
    restored_audit = fresh.audit()
    assert restored_audit[0].action == "restore"  # the restore is the newest entry
    assert restored_audit[1:] == before["audit"]
    # logins and sequences work after a restore
    assert fresh.authenticate("bob", "bob-password").role is Role.ANALYST
    save_current(fresh, "after restore", date(2026, 1, 1), ANALYST)
    assert [a.label for a in fresh.assessments()] == ["Q4 2025", "after restore"]


def test_restoring_over_data_needs_replace(team: Store) -> None:
    backup = team.export_workspace(ADMIN)
    with pytest.raises(InputError, match="not empty"):
        team.import_workspace(backup, ADMIN)


def test_the_audit_guard_is_back_after_a_restore(team: Store) -> None:
    team.import_workspace(team.export_workspace(ADMIN), ADMIN, replace=True)
    with pytest.raises(DBAPIError, match="append-only"), team.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_log"))


def test_a_foreign_file_is_refused(store: Store) -> None:
    with pytest.raises(InputError, match="not a riskapp workspace backup"):
        store.import_workspace({"format": "something-else"}, SYSTEM, replace=True)
    good = store.export_workspace(SYSTEM)
    good["tables"]["assets"][0]["colour"] = "red"
    count = len(store.audit())
    with pytest.raises(InputError, match=r"assets\.colour"):
        store.import_workspace(good, SYSTEM, replace=True)
    assert len(store.audit()) == count  # all or nothing: the old state stays
