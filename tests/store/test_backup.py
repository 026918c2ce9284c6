"""Backup and restore: export-workspace / import-workspace round-trip everything, audit included."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from riskapp.io import InputError
from riskapp.io.indicators import read_series
from riskapp.store import Role, Store
from riskapp.store.assessments import save_current
from riskapp.store.backup import _parsed_json, checksum, write_backup
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
    with pytest.raises(InputError, match="checksum"):  # edited after export
        store.import_workspace(good, SYSTEM, replace=True)
    good["checksum"] = checksum(good["tables"])  # edited with care: the row is still wrong
    with pytest.raises(InputError, match=r"tables\.assets\[0\]\.colour"):
        store.import_workspace(good, SYSTEM, replace=True)
    assert len(store.audit()) == count  # all or nothing: the old state stays


def _without(name: str) -> Callable[[dict[str, Any]], None]:
    def spoil(tables: dict[str, Any]) -> None:
        del tables[name]

    return spoil


def _set(name: str, field: str, value: object) -> Callable[[dict[str, Any]], None]:
    def spoil(tables: dict[str, Any]) -> None:
        tables[name][0][field] = value

    return spoil


def _drop_column(name: str, field: str) -> Callable[[dict[str, Any]], None]:
    def spoil(tables: dict[str, Any]) -> None:
        del tables[name][0][field]

    return spoil


CORRUPTIONS: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    "no users table": (_without("users"), r"tables\.users\]: the users table is missing"),
    "no audit table": (_without("audit_log"), "the audit_log table is missing"),
    "no assets table": (_without("assets"), "the assets table is missing"),
    "no plans table": (_without("plans"), "the plans table is missing"),
    "no assessments table": (_without("assessments"), "the assessments table is missing"),
    "bad country": (_set("assets", "country", "XXX"), r"tables\.assets\[0\]\.country"),
    "negative value": (
        _set("assets", "replacement_value", -5),
        r"tables\.assets\[0\]\.replacement_value",
    ),
    "NUL in a name": (_set("assets", "name", "a\x00b"), r"tables\.assets\[0\]\.name"),
    "NUL in a note after a bad row": (
        lambda tables: (
            tables["assets"][0].update(country="XXX"),
            tables["audit_log"][1].update(note="a\x00b"),
        ),
        r"tables\.assets\[0\]\.country.*\n.*tables\.audit_log\[1\]\.note\]: contains a NUL",
    ),
    "unknown role": (_set("users", "role", "root"), r"tables\.users\[0\]\.role"),
    "bad username": (_set("users", "username", "x y"), r"tables\.users\[0\]\.username"),
    "plan without title": (_drop_column("plans", "title"), r"tables\.plans\[0\]\.title"),
    "bad plan status": (_set("plans", "status", "maybe"), r"tables\.plans\[0\]\.status"),
    "audit row without actor": (
        _drop_column("audit_log", "actor"),
        r"tables\.audit_log\[0\]\.actor\]: required column is missing",
    ),
    "audit row without its old value": (
        _drop_column("audit_log", "old_value"),
        r"tables\.audit_log\[0\]\.old_value\]: required column is missing",
    ),
    "bad time": (_set("audit_log", "at", {"$datetime": "yesterday"}), "not a valid value"),
    "a time as plain text": (
        _set("audit_log", "at", "2025-06-30T10:00:00"),
        r"tables\.audit_log\[0\]\.\]: not a valid value: at: expected \{\"\$datetime\"",
    ),
    "a date as a number": (
        _set("plans", "review_date", 20250630),
        r"tables\.plans\[0\]\.\]: not a valid value: review_date",
    ),
    "a row that is no object": (_set("assets", "0", None), "unknown column"),
    "duplicate asset": (
        lambda tables: tables["assets"].append(dict(tables["assets"][0])),
        "could not be restored",
    ),
}


@pytest.mark.parametrize("case", list(CORRUPTIONS))
def test_corrupted_backups_are_refused_and_nothing_is_lost(
    team: Store, open_store: OpenStore, new_db_url: Callable[[], str], case: str
) -> None:
    """Each corruption is refused with the table, row and field, into an empty database and
    over a full one (with replace); neither database changes, and login stays as it was."""
    _busy(team)
    spoil, expected = CORRUPTIONS[case]
    backup = json.loads(json.dumps(team.export_workspace(ADMIN)))
    spoil(backup["tables"])
    backup["checksum"] = checksum(backup["tables"])  # a careful forger; the rows still fail
    empty = open_store(new_db_url(), seed=False)
    for target, replace in ((team, True), (empty, False)):
        before = _everything(target)
        with pytest.raises(InputError, match=expected):
            target.import_workspace(backup, ADMIN if target is team else SYSTEM, replace=replace)
        assert _everything(target) == before
    assert team.authenticate("bob", "bob-password").role is Role.ANALYST


def test_a_backup_without_accounts_cannot_turn_login_off(team: Store) -> None:
    backup = team.export_workspace(ADMIN)
    backup["tables"]["users"] = []
    backup["checksum"] = checksum(backup["tables"])
    with pytest.raises(InputError, match="would turn login off"):
        team.import_workspace(backup, ADMIN, replace=True)
    assert team.has_users()


def test_an_old_unchecksummed_backup_is_refused_with_what_to_do(store: Store) -> None:
    backup = store.export_workspace(SYSTEM)
    backup["version"] = 1
    del backup["checksum"]
    with pytest.raises(InputError, match="export it again with this version"):
        store.import_workspace(backup, SYSTEM, replace=True)


def test_a_restore_over_data_keeps_the_audit_trail_and_appends_to_it(team: Store) -> None:
    backup = team.export_workspace(ADMIN)
    _busy(team)
    history = team.audit()
    team.import_workspace(backup, ADMIN, replace=True)
    after = team.audit()
    assert after[1:] == history  # nothing of the history is gone
    assert after[0].action == "restore" and "audit trail is kept" in after[0].note
    assert team.asset("P1").asset.owner != "Ops North"  # the register is the backup's


def test_the_backup_file_reads_back_whole_a_row_a_line(team: Store, tmp_path: Path) -> None:
    """The file's text is the backup (json.loads gives it back: non-ASCII text as it is,
    empty tables, dates), with each table row on a line of its own."""
    _busy(team)
    team.update_asset("P1", {"name": "Gdańsk plant — “north”"}, team.asset("P1").version, ADMIN)
    backup = team.export_workspace(ADMIN)
    folder = tmp_path / "out"
    folder.mkdir()
    path = folder / "backup.json"
    write_backup(backup, path)
    text = path.read_text(encoding="utf-8")
    assert json.loads(text) == json.loads(json.dumps(backup))
    assert "Gdańsk plant — “north”" in text
    lines = text.splitlines()
    rows = sum(len(rows) for rows in backup["tables"].values())
    assert sum(1 for line in lines if line.startswith("   {")) == rows
    assert [p.name for p in folder.iterdir()] == ["backup.json"]


def test_a_backup_file_is_written_whole_or_not_at_all(team: Store, tmp_path: Path) -> None:
    """A write that fails part way (here a value JSON cannot write, after many rows) leaves
    the earlier file at that path as it was, and no temporary file."""
    folder = tmp_path / "out"
    folder.mkdir()
    path = folder / "backup.json"
    path.write_text("the earlier backup", encoding="utf-8")
    backup = team.export_workspace(ADMIN)
    backup["tables"]["audit_log"][-1]["note"] = {1, 2}  # a set: not JSON
    with pytest.raises(TypeError):
        write_backup(backup, path)
    assert path.read_text(encoding="utf-8") == "the earlier backup"
    assert [p.name for p in folder.iterdir()] == ["backup.json"]


def test_export_holds_each_row_as_the_database_reads_it(team: Store) -> None:
    """The export reads its tables column by column (JSON columns parsed together, dates
    and times converted a column at a time): each row equals the row SQLAlchemy reads, with
    its dates and times written as {"$date": ...} and {"$datetime": ...}."""
    _busy(team)
    backup = team.export_workspace(ADMIN)
    from riskapp.store import schema as t

    def as_backup(value: object) -> object:
        if isinstance(value, datetime):
            return {"$datetime": value.isoformat()}
        if isinstance(value, date):
            return {"$date": value.isoformat()}
        return value

    with team.core.read() as conn:
        for name, table in (
            ("assets", t.assets),
            ("plans", t.plans),
            ("assessments", t.assessments),
            ("audit_log", t.audit_log),
            ("users", t.users),
        ):
            expected = [
                {k: as_backup(v) for k, v in row._mapping.items()}
                for row in conn.execute(select(table).order_by(*table.primary_key.columns))
            ]
            assert expected, name
            assert backup["tables"][name] == expected, name
    assert any(isinstance(r["tags"], list) and r["tags"] for r in backup["tables"]["assets"])
    assert all(isinstance(r["definition"], dict) for r in backup["tables"]["plans"])


@given(
    st.lists(
        st.one_of(
            st.none(),
            st.recursive(
                st.none() | st.booleans() | st.integers() | st.text(max_size=5),
                lambda inner: (
                    st.lists(inner, max_size=3)
                    | st.dictionaries(st.text(max_size=3), inner, max_size=3)
                ),
                max_leaves=6,
            ).map(json.dumps),
        ),
        max_size=8,
    )
)
def test_stored_json_texts_parse_together_as_one_by_one(texts: list[str | None]) -> None:
    assert _parsed_json(texts) == [None if v is None else json.loads(v) for v in texts]


def test_stored_json_texts_that_do_not_read_one_value_each_are_read_one_by_one() -> None:
    assert _parsed_json(["[1, 2]", None, '"a"']) == [[1, 2], None, "a"]
    with pytest.raises(ValueError):  # "1, 2" is not one JSON value, as SQLAlchemy finds
        _parsed_json(["1, 2", "3"])


def test_a_restore_fills_a_column_some_rows_leave_out_with_null(
    team: Store, open_store: OpenStore, new_db_url: Callable[[], str], tmp_path: Path
) -> None:
    """A backup row may leave out a column that can be empty (an older backup, or an edited
    one): it is restored empty there, the other rows keep their values."""
    series = tmp_path / "series.csv"
    series.write_text(
        "indicator,name,unit,frequency,source,period,value,published_at\n"
        "ttf,Dutch TTF front-month gas price,EUR/MWh,monthly,ICE Endex,2026-01,34.1,2026-02-01\n"
        "ttf,,,,,2026-02,38.9,2026-03-01\n",
        encoding="utf-8",
    )
    team.import_series(read_series(series), ADMIN, "file series.csv")
    backup = json.loads(json.dumps(team.export_workspace(ADMIN)))
    rows = backup["tables"]["observations"]
    assert len(rows) >= 2
    rows[0]["published_at"] = {"$datetime": "2026-03-31T12:00:00"}
    del rows[1]["published_at"]
    backup["checksum"] = checksum(backup["tables"])
    fresh = open_store(new_db_url(), seed=False)
    fresh.import_workspace(backup, SYSTEM)
    restored = fresh.export_workspace(ADMIN)["tables"]["observations"]
    assert restored[0]["published_at"] == {"$datetime": "2026-03-31T12:00:00"}
    assert restored[1]["published_at"] is None
    assert [{k: v for k, v in r.items() if k != "published_at"} for r in restored] == [
        {k: v for k, v in r.items() if k != "published_at"} for r in rows
    ]
