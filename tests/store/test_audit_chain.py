"""The audit trail is tamper-evident: a hash chain that `riskapp audit verify` recomputes, guards
the application's database role cannot remove, and restores that append instead of replacing.

Tampering is done the way an attacker with the tables' owner rights would: plain SQL, guards
dropped or disabled first.
"""

from __future__ import annotations

import itertools
import json
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest
import typer
from alembic import command
from sqlalchemy import create_engine, make_url, select, text
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from riskapp.cli.store import register
from riskapp.io import InputError
from riskapp.settings import Settings
from riskapp.store import Store
from riskapp.store.assessments import save_current
from riskapp.store.backup import checksum
from riskapp.store.chain import GENESIS, entry_hash
from riskapp.store.engine import SchemaNotCurrent, alembic_config, migrate
from riskapp.store.roles import create_app_role
from riskapp.store.schema import audit_log
from riskapp.store.validation import Table
from tests.store.conftest import ADMIN, ANALYST, PG_URL, SYSTEM, TINY, OpenStore

runner = CliRunner()
app = typer.Typer()
register(app)

SQLITE_GUARD = {
    "audit_log_no_update": "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
    "audit_log_no_delete": "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
}


@pytest.fixture
def env(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("RISKAPP_DATABASE_URL", db_url)
    monkeypatch.setenv("RISKAPP_WORKSPACE", str(TINY))
    monkeypatch.setenv("RISKAPP_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("RISKAPP_DATABASE_ADMIN_URL", raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env file
    return db_url


def verify(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["audit", "verify", *args])
    return result.exit_code, result.output


def _busy(store: Store) -> None:
    for owner in ("A", "B", "C"):
        p1 = store.asset("P1")
        store.update_asset("P1", {"owner": owner}, p1.version, SYSTEM)


def _seqs(store: Store) -> list[int]:
    return sorted(e.seq for e in store.audit())


def _owner_sql(store: Store, *statements: str, unguard: tuple[str, ...] = ()) -> None:
    """Run SQL as the tables' owner, with the named SQLite guards dropped (on PostgreSQL every
    user trigger of audit_log is disabled) first."""
    with store.engine.begin() as conn:
        if store.dialect == "postgresql":
            conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER USER"))
        else:
            for name in unguard:
                conn.execute(text(f"DROP TRIGGER {name}"))
        for statement in statements:
            conn.execute(text(statement))


def _reguard(store: Store) -> None:
    """Put the guards back (so only the chain tells what happened)."""
    with store.engine.begin() as conn:
        if store.dialect == "postgresql":
            conn.execute(text("ALTER TABLE audit_log ENABLE TRIGGER USER"))
            return
        present = set(
            conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")).scalars()
        )
        for name, sql in SQLITE_GUARD.items():
            if name not in present:
                conn.execute(text(sql))


# -- an intact trail --------------------------------------------------------------------------


def test_an_untampered_store_verifies_and_prints_count_and_head(env: str, store: Store) -> None:
    _busy(store)
    entries = store.audit()
    result = store.verify_audit()
    assert result.ok, result.problems()
    assert result.count == len(entries)
    assert result.head_seq == entries[0].seq == len(entries)  # numbered 1..n without gaps
    code, output = verify()
    assert code == 0, output
    assert "Audit trail intact" in output
    assert f"{len(entries)} entries" in output
    assert result.head_hash in output.replace("\n", "")
    assert len(result.head_hash) == 64 and result.head_hash != GENESIS


def test_each_entry_hashes_the_one_before(store: Store) -> None:
    _busy(store)
    with store.engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(select(audit_log).order_by(audit_log.c.seq))]
    assert rows[0]["prev_hash"] == GENESIS
    for before, row in itertools.pairwise(rows):
        assert row["prev_hash"] == before["hash"]
        assert row["hash"] == entry_hash(row["prev_hash"], row)


# -- tampering --------------------------------------------------------------------------------


def test_an_edited_entry_is_named_by_its_seq(env: str, store: Store) -> None:
    _busy(store)
    seq = _seqs(store)[-2]
    _owner_sql(
        store,
        f"UPDATE audit_log SET new_value = '\"Mallory\"' WHERE seq = {seq}",
        unguard=("audit_log_no_update",),
    )
    code, output = verify()
    assert code == 1
    assert f"first broken entry: seq {seq}" in output
    assert f"seq {seq}: its content does not match its hash" in output
    guard = (
        "audit_log_no_change is disabled"
        if store.dialect == "postgresql"
        else ("audit_log_no_update is missing")
    )
    assert guard in output


def test_a_forger_who_rehashes_the_edited_entry_breaks_the_next_link(
    env: str, store: Store
) -> None:
    _busy(store)
    seq = _seqs(store)[-2]
    with store.engine.connect() as conn:
        row = dict(conn.execute(select(audit_log).where(audit_log.c.seq == seq)).one()._mapping)
    forged = entry_hash(row["prev_hash"], {**row, "new_value": '"Mallory"'})
    _owner_sql(
        store,
        f"UPDATE audit_log SET new_value = '\"Mallory\"', hash = '{forged}' WHERE seq = {seq}",
        unguard=("audit_log_no_update",),
    )
    _reguard(store)
    result = store.verify_audit()
    assert result.first_broken_seq == seq + 1
    assert not result.missing_guards
    code, output = verify()
    assert code == 1
    assert f"seq {seq + 1}: does not link to seq {seq}" in output


def test_a_removed_middle_entry_is_named(env: str, store: Store) -> None:
    _busy(store)
    seq = _seqs(store)[-2]
    _owner_sql(store, f"DELETE FROM audit_log WHERE seq = {seq}", unguard=("audit_log_no_delete",))
    _reguard(store)
    code, output = verify()
    assert code == 1
    assert f"first broken entry: seq {seq + 1}" in output
    assert f"seq {seq} missing: entries were removed after seq {seq - 1}" in output


def test_sqlite_insert_or_replace_is_refused_then_found_once_the_guard_is_dropped(
    env: str, store: Store
) -> None:
    if store.dialect != "sqlite":
        pytest.skip("INSERT OR REPLACE is SQLite's")
    _busy(store)
    seq = _seqs(store)[1]
    replace = (
        "INSERT OR REPLACE INTO audit_log (seq, at, actor, action, entity, entity_id, field, "
        "old_value, new_value, version, note, prev_hash, hash) SELECT seq, at, 'mallory', action, "
        f"entity, entity_id, field, old_value, new_value, version, note, prev_hash, hash "
        f"FROM audit_log WHERE seq = {seq}"
    )
    with pytest.raises(DBAPIError, match="append-only"), store.engine.begin() as conn:
        conn.execute(text(replace))
    assert "mallory" not in store.audit_actors()
    _owner_sql(store, replace, unguard=("audit_log_no_replace",))
    assert "mallory" in store.audit_actors()  # replaced: the delete trigger did not fire
    code, output = verify()
    assert code == 1
    assert f"first broken entry: seq {seq}" in output
    assert "audit_log_no_replace is missing" in output


def test_postgres_owner_disabling_the_guard_is_reported(env: str, store: Store) -> None:
    if store.dialect != "postgresql":
        pytest.skip("trigger enabling is PostgreSQL's")
    with store.engine.begin() as conn:
        conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER USER"))
    code, output = verify()
    assert code == 1
    assert "audit_log_no_change is disabled" in output
    assert "audit_log_no_truncate is disabled" in output
    assert "the chain itself holds" in output


def test_tail_truncation_is_found_with_the_recorded_head_or_count(env: str, store: Store) -> None:
    _busy(store)
    recorded = store.verify_audit()
    p1 = store.asset("P1")
    store.update_asset("P1", {"owner": "D"}, p1.version, SYSTEM)
    # the chain grew: the recorded head is still in it
    code, output = verify(
        "--expect-head", recorded.head_hash, "--expect-count", str(recorded.count)
    )
    assert code == 0, output
    _owner_sql(
        store,
        f"DELETE FROM audit_log WHERE seq >= {recorded.head_seq}",
        unguard=("audit_log_no_delete",),
    )
    _reguard(store)
    assert verify()[0] == 0  # the chain alone cannot see a cut-off end
    code, output = verify("--expect-head", recorded.head_hash)
    assert code == 1
    assert f"the recorded head {recorded.head_hash} is not in the chain" in output.replace("\n", "")
    code, output = verify("--expect-count", str(recorded.count))
    assert code == 1
    assert f"{recorded.count - 1} entries where {recorded.count} were recorded" in output


# -- appending under contention -------------------------------------------------------------


def test_concurrent_appenders_never_fork_the_chain(open_store: OpenStore, team: Store) -> None:
    """Writers that do not lock the register (accounts, saved assessments) still queue for the
    audit trail's head: every entry is kept and the chain holds."""
    store = team
    before = store.verify_audit().count
    stores = [open_store(seed=False) for _ in range(4)]
    errors: list[BaseException] = []

    def work(i: int, s: Store) -> None:
        try:
            for j in range(5):
                s.add_user(f"user{i}x{j}", "a-long-password", ANALYST.role, SYSTEM)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i, s)) for i, s in enumerate(stores)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    result = store.verify_audit()
    assert result.ok, result.problems()
    assert result.count == before + 20
    assert _seqs(store) == list(range(1, before + 21))


# -- migration --------------------------------------------------------------------------------


def test_the_migration_chains_existing_entries(store: Store) -> None:
    _busy(store)
    count = store.verify_audit().count
    with store.engine.begin() as conn:
        command.downgrade(alembic_config(conn), "0001")
        conn.execute(
            text(
                "INSERT INTO audit_log (at, actor, action, entity, entity_id, field, note) "
                "VALUES ('2025-11-21 10:00:00.000000', 'legacy', 'edit', 'asset', 'P1', '', '')"
            )
        )
    migrate(store.engine)
    result = store.verify_audit()
    assert result.ok, result.problems()
    assert result.count == count + 1
    assert "legacy" in store.audit_actors()


# -- backups ----------------------------------------------------------------------------------


def _edited_audit(backup: dict[str, object], index: int) -> dict[str, object]:
    edited = json.loads(json.dumps(backup))
    edited["tables"]["audit_log"][index]["actor"] = "mallory"
    edited["checksum"] = checksum(edited["tables"])  # a careful forger
    return edited


def test_a_backup_with_an_edited_audit_section_is_refused(
    team: Store, open_store: OpenStore, new_db_url: Callable[[], str]
) -> None:
    _busy(team)
    backup = team.export_workspace(ADMIN)
    edited = _edited_audit(backup, 2)
    seq = backup["tables"]["audit_log"][2]["seq"]
    empty = open_store(new_db_url(), seed=False)
    for target, replace in ((team, True), (empty, False)):
        before = target.audit()
        with pytest.raises(InputError, match=rf"hash chain is broken at seq {seq}: its content"):
            target.import_workspace(edited, ADMIN if target is team else SYSTEM, replace=replace)
        assert target.audit() == before
    cut = json.loads(json.dumps(backup))
    cut["tables"]["audit_log"].pop()
    cut["checksum"] = checksum(cut["tables"])
    with pytest.raises(InputError, match="entries were removed from its end"):
        team.import_workspace(cut, ADMIN, replace=True)


def test_a_restore_with_replace_appends_and_keeps_the_chain(team: Store) -> None:
    backup = team.export_workspace(ADMIN)
    _busy(team)
    history = team.audit()
    team.import_workspace(backup, ADMIN, replace=True)
    after = team.audit()
    assert after[1:] == history
    restore = after[0]
    assert restore.action == "restore" and restore.seq == history[0].seq + 1
    assert restore.new["backup_audit_head"] == backup["audit_head"]
    assert restore.new["backup_audit_entries"] == len(backup["tables"]["audit_log"])
    assert "they are this trail up to seq" in restore.note
    result = team.verify_audit()
    assert result.ok, result.problems()


def test_a_restore_into_an_empty_database_carries_the_chain_on(
    team: Store, open_store: OpenStore, new_db_url: Callable[[], str]
) -> None:
    _busy(team)
    backup = json.loads(json.dumps(team.export_workspace(ADMIN)))
    fresh = open_store(new_db_url(), seed=False)
    fresh.import_workspace(backup, SYSTEM)
    result = fresh.verify_audit(expect_head=backup["audit_head"])
    assert result.ok, result.problems()
    assert result.count == len(backup["tables"]["audit_log"]) + 1
    save_current(fresh, "after restore", date(2026, 1, 1), SYSTEM)
    assert fresh.verify_audit().ok


def test_a_version_2_backup_is_chained_on_restore(
    team: Store, open_store: OpenStore, new_db_url: Callable[[], str]
) -> None:
    _busy(team)
    backup = json.loads(json.dumps(team.export_workspace(ADMIN)))
    backup["version"] = 2
    del backup["audit_head"]
    for row in backup["tables"]["audit_log"]:
        del row["prev_hash"], row["hash"]
    backup["checksum"] = checksum(backup["tables"])
    fresh = open_store(new_db_url(), seed=False)
    fresh.import_workspace(backup, SYSTEM)
    result = fresh.verify_audit()
    assert result.ok, result.problems()
    assert [e.actor for e in fresh.audit()][1:] == [e.actor for e in team.audit()]
    assert fresh.audit()[0].new["backup_version"] == 2


# -- the application role (PostgreSQL) --------------------------------------------------------


@pytest.fixture
def app_role(store: Store) -> Iterator[str]:
    if store.dialect != "postgresql":
        pytest.skip("database roles are PostgreSQL's")
    name = f"riskapp_app_{uuid.uuid4().hex[:10]}"
    yield name
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        if conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :n"), {"n": name}).first():
            conn.execute(text(f'DROP OWNED BY "{name}"'))
            conn.execute(text(f'DROP ROLE "{name}"'))
    admin.dispose()


def _as(url: str, role: str) -> str:
    return make_url(url).set(username=role, password=None).render_as_string(hide_password=False)


REFUSED = [
    "ALTER TABLE audit_log DISABLE TRIGGER USER",
    "DROP TRIGGER audit_log_no_change ON audit_log",
    "UPDATE audit_log SET actor = 'mallory'",
    "DELETE FROM audit_log",
    "TRUNCATE audit_log",
    "ALTER TABLE audit_log DROP COLUMN hash",
]


def test_the_app_role_works_but_cannot_touch_the_trail(
    store: Store, app_role: str, db_url: str, open_store: OpenStore, tmp_path: Path
) -> None:
    made = create_app_role(store.engine, app_role, "app-secret")
    assert made.created
    assert made.grants["audit_log"] == "SELECT, INSERT"
    assert create_app_role(store.engine, app_role).created is False  # updates in place
    app_store = open_store(_as(db_url, app_role), seed=False)
    before = app_store.verify_audit().count
    path = tmp_path / "assets.csv"
    path.write_text(
        (TINY / "assets.csv").read_text().replace("NOR,69.6,18.9,100", "NOR,69.6,18.9,175")
    )
    summary = app_store.import_assets(Table.from_file(path), SYSTEM)
    assert summary.changed
    p1 = app_store.asset("P1")
    app_store.update_asset("P1", {"owner": "App"}, p1.version, SYSTEM)
    save_current(app_store, "as the app", date(2026, 1, 1), SYSTEM)  # a sequence, too
    assert app_store.audit(entity_id="P1", action="edit")[0].new == "App"
    result = app_store.verify_audit()
    assert result.ok, result.problems()
    assert result.count > before
    for statement in REFUSED:
        with (
            pytest.raises(DBAPIError, match=r"must be owner|permission denied"),
            app_store.engine.begin() as conn,
        ):
            conn.execute(text(statement))
    assert app_store.verify_audit().ok
    assert "mallory" not in app_store.audit_actors()


def test_the_owner_cannot_become_the_app_role(store: Store, app_role: str) -> None:
    with store.engine.connect() as conn:
        owner = str(conn.execute(text("SELECT current_user")).scalar())
    with pytest.raises(InputError, match="owns the tables: the application role must not"):
        create_app_role(store.engine, owner)
    with pytest.raises(InputError, match="expected a lower-case role name"):
        create_app_role(store.engine, 'x"; DROP TABLE assets; --')


def test_postgres_upsert_into_the_trail_is_refused(store: Store) -> None:
    if store.dialect != "postgresql":
        pytest.skip("ON CONFLICT is PostgreSQL's spelling of a replace")
    upsert = (
        "INSERT INTO audit_log SELECT * FROM audit_log WHERE seq = 1 "
        "ON CONFLICT (seq) DO UPDATE SET actor = 'mallory'"
    )
    with pytest.raises(DBAPIError, match="append-only"), store.engine.begin() as conn:
        conn.execute(text(upsert))
    assert store.verify_audit().ok


def test_the_app_role_does_not_migrate_and_says_how(
    store: Store, app_role: str, db_url: str, settings: Settings, open_store: OpenStore
) -> None:
    create_app_role(store.engine, app_role)
    with store.engine.begin() as conn:
        command.downgrade(alembic_config(conn), "0001")
    with pytest.raises(SchemaNotCurrent, match="riskapp db upgrade"):
        Store.open(settings, url=_as(db_url, app_role), seed=False)
    both = settings.model_copy(
        update={"database_url": _as(db_url, app_role), "database_admin_url": db_url}
    )
    app_store = Store.open(both, seed=False)  # migrates as the owner, runs as the app
    try:
        assert app_store.verify_audit().ok
        p1 = app_store.asset("P1")
        app_store.update_asset("P1", {"owner": "App"}, p1.version, SYSTEM)
    finally:
        app_store.close()


def test_create_app_role_command(
    env: str, store: Store, app_role: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("APP_PASSWORD", "s3cret:%s'")
    result = runner.invoke(
        app, ["db", "create-app-role", app_role, "--password-env", "APP_PASSWORD"]
    )
    assert result.exit_code == 0, result.output
    assert f"Created role {app_role}" in result.output
    assert "audit_log: SELECT, INSERT" in result.output
    result = runner.invoke(app, ["db", "create-app-role", app_role, "--password-env", "NOPE_X"])
    assert result.exit_code == 2 and "NOPE_X is not set" in result.output


def test_sqlite_has_no_roles(env: str, store: Store) -> None:
    if store.dialect != "sqlite":
        pytest.skip("SQLite only")
    result = runner.invoke(app, ["db", "create-app-role", "riskapp_app"])
    assert result.exit_code == 1
    assert "riskapp audit verify" in result.output


def test_db_upgrade_and_export_print_what_to_record(env: str, store: Store, tmp_path: Path) -> None:
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    from riskapp.store.engine import HEAD_REVISION

    assert f"Schema at revision {HEAD_REVISION} (was {HEAD_REVISION})" in result.output
    result = runner.invoke(app, ["export-workspace", str(tmp_path / "backup.json")])
    assert result.exit_code == 0, result.output
    head = store.verify_audit().head_hash
    assert f"Audit trail head: {head}" in result.output.replace("\n", "")
    assert json.loads((tmp_path / "backup.json").read_text())["audit_head"] == head


def test_the_dashboard_says_how_when_the_app_role_cannot_migrate(
    store: Store, app_role: str, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from streamlit.testing.v1 import AppTest

    create_app_role(store.engine, app_role)
    with store.engine.begin() as conn:
        command.downgrade(alembic_config(conn), "0001")
    monkeypatch.setenv("RISKAPP_DATABASE_URL", _as(db_url, app_role))
    monkeypatch.setenv("RISKAPP_WORKSPACE", str(TINY))
    monkeypatch.setenv("RISKAPP_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("RISKAPP_DATABASE_ADMIN_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    views = Path(__file__).resolve().parents[2] / "riskapp" / "dashboard" / "views"
    at = AppTest.from_file(str(views / "audit.py"), default_timeout=30)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    (error,) = at.error
    assert "riskapp db upgrade" in error.value
