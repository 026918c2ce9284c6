"""The audit trail: every change recorded (who, when, what, old, new); nobody can alter it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from riskapp.store import Store
from riskapp.store.audit import AuditTrail
from riskapp.store.core import StoreCore
from riskapp.store.store import Store as StoreClass
from tests.store.conftest import ANALYST, SYSTEM, Clock


def test_an_edit_records_who_when_field_old_and_new(team: Store, clock: Clock) -> None:
    clock.advance(hours=1)
    p1 = team.asset("P1")
    team.update_asset("P1", {"owner": "Ops North", "criticality": 5}, p1.version, ANALYST)
    entries = team.audit(entity="asset", entity_id="P1", action="edit")
    assert {(e.field, e.old, e.new) for e in entries} == {
        ("owner", "Ops", "Ops North"),
        ("criticality", 4, 5),
    }
    assert {e.actor for e in entries} == {"bob"}
    assert {e.at for e in entries} == {datetime(2025, 11, 20, 10, 0, tzinfo=UTC)}
    assert {e.version for e in entries} == {2}


def test_creations_and_deletions_keep_the_whole_record(team: Store) -> None:
    o1 = team.asset("O1")
    team.delete_asset("O1", o1.version, ANALYST)
    (gone,) = team.audit(entity_id="O1", action="edit")
    assert gone.field == ""
    assert gone.old["name"] == "Office Berlin"
    assert gone.new is None


def test_filters(team: Store, clock: Clock) -> None:
    start = clock.now
    clock.advance(days=1)
    shield = team.plan("shield")
    team.update_plan("shield", {"status": "ready"}, shield.version, ANALYST)
    assert [e.entity_id for e in team.audit(actor="bob")] == ["shield"]
    assert all(e.entity == "plan" for e in team.audit(entity="plan", action="edit"))
    later = team.audit(since=start.replace(hour=12))
    assert [e.field for e in later] == ["status"]
    assert all(e.action != "edit" for e in team.audit(until=start.replace(hour=12)))
    assert len(team.audit(limit=2)) == 2
    assert "bob" in team.audit_actors()


def test_newest_entries_come_first(team: Store, clock: Clock) -> None:
    for owner in ("A", "B"):
        clock.advance(minutes=1)
        p1 = team.asset("P1")
        team.update_asset("P1", {"owner": owner}, p1.version, SYSTEM)
    assert [e.new for e in team.audit(entity_id="P1", action="edit")] == ["B", "A"]


def test_the_store_offers_no_way_to_change_or_remove_an_entry() -> None:
    names = [n for n in dir(StoreClass) if "audit" in n.lower()]
    assert sorted(names) == ["audit", "audit_actors", "verify_audit"]  # verify only reads
    assert [n for n in dir(AuditTrail) if not n.startswith("_")] == [
        "audit",
        "audit_actors",
        "revision",
        "verify_audit",
    ]
    # the one write: appending, inside each change's transaction
    assert sorted(n for n in dir(StoreCore) if "audit" in n) == ["append_audit", "audit_entry"]


@pytest.mark.parametrize(
    "statement",
    ["UPDATE audit_log SET actor = 'mallory'", "DELETE FROM audit_log"],
)
def test_the_database_refuses_updates_and_deletes(store: Store, statement: str) -> None:
    count = len(store.audit())
    with pytest.raises(DBAPIError, match="append-only"), store.engine.begin() as conn:
        conn.execute(text(statement))
    assert len(store.audit()) == count
    assert "mallory" not in store.audit_actors()


def test_postgres_refuses_truncate(store: Store) -> None:
    if store.dialect != "postgresql":
        pytest.skip("TRUNCATE is PostgreSQL's")
    with pytest.raises(DBAPIError, match="append-only"), store.engine.begin() as conn:
        conn.execute(text("TRUNCATE audit_log"))
