"""Several workspaces on one server (issue 13, item 7): each workspace's register, plans, audit
trail, saved assessments, alerts and exports stay its own; people see only the workspaces they
hold a role in; an existing single-workspace database upgrades in place. SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from riskapp.assessment.scaffold import create_workspace as scaffold
from riskapp.domain.alerts import AlertEvent, AlertKind, Severity
from riskapp.io.errors import InputError
from riskapp.settings import Settings
from riskapp.store import AccessDenied, Actor, Role, Store, WorkspaceAccessDenied
from riskapp.store.backup import GRANTS, checksum
from riskapp.store.engine import alembic_config, current_revision, migrate
from riskapp.store.exports import export_files
from riskapp.store.tenants import create_workspace, list_workspaces, retire_workspace
from tests.store.conftest import PG_URL, SYSTEM, TINY

ALICE = Actor("alice", Role.ADMIN)  # admin of the default workspace: runs the server
BOB = Actor("bob", Role.ANALYST)  # client A's analyst
CAROL = Actor("carol", Role.VIEWER)  # client B's viewer


def _drop_workspace_schemas(url: str) -> None:
    """PostgreSQL: the workspace schemas made next to the test's own schema."""
    options = make_url(url).query.get("options", "")
    main = str(options).split("search_path=")[-1]
    admin = create_engine(PG_URL)
    try:
        with admin.begin() as conn:
            names = conn.execute(
                text("SELECT nspname FROM pg_namespace WHERE nspname LIKE :p"),
                {"p": f"{main}_ws_%"},
            ).scalars()
            for name in list(names):
                conn.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
    finally:
        admin.dispose()


@pytest.fixture
def server(db_url: str, settings: Settings, tmp_path: Path) -> Iterator[Settings]:
    """A server whose default workspace is the tiny one, with two client workspaces: client_a
    (a copy of the tiny files: the same asset ids as the default workspace) and client_b
    (scaffolded from the energy template: an empty register). alice runs the server, bob is
    client A's analyst, carol client B's viewer."""
    cfg = settings.model_copy(update={"database_url": db_url})
    shutil.copytree(TINY, tmp_path / "files_a")
    scaffold(tmp_path / "files_b", "energy", name="Client B")
    main = Store.open(cfg)
    try:
        main.add_user("alice", "alice-password", Role.ADMIN, SYSTEM)
        main.add_user("bob", "bob-password", Role.ANALYST, SYSTEM)
        main.add_user("carol", "carol-password", Role.VIEWER, SYSTEM)
        main.revoke("bob", ALICE)  # bob and carol are clients' people: not the server's team
        main.revoke("carol", ALICE)
        create_workspace(cfg, "client_a", "Client A", tmp_path / "files_a", ALICE)
        create_workspace(
            cfg, "client_b", "Client B", tmp_path / "files_b", ALICE, {"client": "B plc"}
        )
    finally:
        main.close()
    with _open(cfg, "client_a") as a:
        a.grant("bob", Role.ANALYST, ALICE)
    with _open(cfg, "client_b") as b:
        b.grant("carol", Role.VIEWER, ALICE)
    yield cfg
    if db_url.startswith("postgresql"):
        _drop_workspace_schemas(db_url)


class _open:
    """A workspace's store, closed after the `with`."""

    def __init__(self, cfg: Settings, workspace: str, **kwargs: object) -> None:
        self.store = Store.open(cfg, workspace=workspace, seed=False, **kwargs)  # type: ignore[arg-type]

    def __enter__(self) -> Store:
        return self.store

    def __exit__(self, *exc: object) -> None:
        self.store.close()


def _event(key: str) -> AlertEvent:
    return AlertEvent(key, AlertKind("signpost"), Severity.WARNING, f"title {key}", "detail")


def test_no_data_crosses_between_workspaces(server: Settings, tmp_path: Path) -> None:
    with (
        _open(server, "default") as home,
        _open(server, "client_a") as a,
        _open(server, "client_b") as b,
    ):
        # the same ids in the default workspace and client A, none in client B
        assert [s.id for s in home.assets()] == [s.id for s in a.assets()]
        assert b.assets() == [] and b.plans() == []
        # register and plans: an edit in client A changes nothing elsewhere
        p1 = a.asset("P1")
        a.update_asset("P1", {"owner": "Client A's owner"}, p1.version, BOB)
        assert home.asset("P1").asset.owner != "Client A's owner"
        plan = a.plans()[0]
        a.update_plan(plan.id, {"owner": "A planner"}, plan.version, BOB)
        assert home.plan(plan.id).plan.owner != "A planner"
        # audit trails: each holds its own changes only
        assert [e.new for e in a.audit(entity_id="P1", action="edit")] == ["Client A's owner"]
        assert home.audit(entity_id="P1", action="edit") == []
        assert b.audit(entity_id="P1") == []
        assert {e.entity_id for e in b.audit(entity="workspace")} == {"client_b"}
        assert "bob" not in home.audit_actors() and "bob" not in b.audit_actors()
        assert all(home.verify_audit().ok for home in (home, a, b))
        # saved assessments
        a.save_assessment("A's Q1", date(2026, 1, 1), {"x": 1}, {"eal": 5.0}, BOB)
        assert [s.label for s in a.assessments()] == ["A's Q1"]
        assert home.assessments() == [] and b.assessments() == []
        # alerts
        b.raise_alerts([_event("b-only")], SYSTEM)
        assert [x.key for x in b.alerts()] == ["b-only"]
        assert home.alerts() == [] and a.alerts() == []
        # exports: files and whole-database backups
        export_files(a, tmp_path / "out_a")
        export_files(home, tmp_path / "out_home")
        assert "Client A's owner" in (tmp_path / "out_a" / "assets.csv").read_text()
        assert "Client A's owner" not in (tmp_path / "out_home" / "assets.csv").read_text()
        dump_home = json.dumps(home.export_workspace(SYSTEM))
        dump_b = json.dumps(b.export_workspace(SYSTEM))
        assert "Client A's owner" not in dump_home and "Client A's owner" not in dump_b
        assert "b-only" in dump_b and "b-only" not in dump_home
        assert "A's Q1" in json.dumps(a.export_workspace(SYSTEM)) and "A's Q1" not in dump_b


def test_people_see_and_change_only_the_workspaces_granted_to_them(
    server: Settings, tmp_path: Path
) -> None:
    ids = {who.username: [w.id for w, _ in list_workspaces(server, who)] for who in (BOB, CAROL)}
    assert ids == {"bob": ["client_a"], "carol": ["client_b"]}
    assert [w.id for w, _ in list_workspaces(server, ALICE)] == ["default", "client_a", "client_b"]
    with _open(server, "client_b") as b, _open(server, "default") as home:
        with pytest.raises(
            WorkspaceAccessDenied, match="bob has no access to workspace 'client_b'"
        ):
            b.require_access(BOB)
        with pytest.raises(WorkspaceAccessDenied):
            b.add_asset(_any_asset(), BOB)
        with pytest.raises(WorkspaceAccessDenied):
            p1 = home.asset("P1")
            home.update_asset("P1", {"owner": "bob"}, p1.version, BOB)
        with pytest.raises(AccessDenied, match="viewer"):
            b.add_asset(_any_asset(), CAROL)  # a viewer of client B only reads it
        assert [u.username for u in b.users()] == ["alice", "carol"]
        with pytest.raises(InputError, match="workspaces grant client_b bob ROLE"):
            b.add_user("bob", "another-password", Role.VIEWER, ALICE)
        assert b.workspace_info().branding == {"client": "B plc"}
    # opening a workspace on a person's behalf (the command line, the Python API)
    as_bob = server.model_copy(update={"user": "bob"})
    with pytest.raises(WorkspaceAccessDenied, match="client_b"):
        Store.open(as_bob, workspace="client_b")
    with pytest.raises(WorkspaceAccessDenied, match="default"):
        Store.open(as_bob)
    with _open(as_bob, "client_a") as a:
        assert a.require_access(BOB) is Role.ANALYST
        # a revoked grant takes effect at once
        a.revoke("bob", ALICE)
        with pytest.raises(WorkspaceAccessDenied):
            p1 = a.asset("P1")
            a.update_asset("P1", {"owner": "late"}, p1.version, BOB)
    assert list_workspaces(server, BOB) == []
    # only the server's admins create and retire workspaces
    with pytest.raises(AccessDenied, match="admin role in the default workspace"):
        create_workspace(server, "client_c", "C", tmp_path / "files_b", BOB)
    with pytest.raises(WorkspaceAccessDenied, match="no workspace 'nope'"):
        Store.open(server, workspace="nope")


def test_a_workspace_register_goes_only_with_its_own_files(
    server: Settings, tmp_path: Path
) -> None:
    with pytest.raises(InputError, match="keeps its files in"):
        Store.open(server, workspace="client_a", files=TINY)
    with pytest.raises(InputError, match="holds the files of workspace 'client_a'"):
        Store.open(server, files=tmp_path / "files_a")
    with pytest.raises(InputError, match="exists already"):
        create_workspace(server, "client_a", "again", tmp_path / "files_b", ALICE)
    with pytest.raises(InputError, match="holds the files of workspace 'client_b'"):
        create_workspace(server, "client_c", "C", tmp_path / "files_b", ALICE)
    with pytest.raises(InputError, match="not a workspace id"):
        create_workspace(server, "Client-C", "C", tmp_path / "files_b", ALICE)
    with pytest.raises(InputError, match="holds the default workspace's files"):
        create_workspace(server, "client_c", "C", TINY, ALICE)


def test_a_retired_workspace_is_not_offered_nor_opened(server: Settings) -> None:
    opened = Store.open(server, workspace="client_b")  # e.g. a dashboard server's
    retire_workspace(server, "client_b", SYSTEM)
    try:
        with pytest.raises(WorkspaceAccessDenied, match="no workspace 'client_b'"):
            opened.add_asset(_any_asset(), ALICE)
    finally:
        opened.close()
    assert [w.id for w, _ in list_workspaces(server, ALICE)] == ["default", "client_a"]
    assert list_workspaces(server, CAROL) == []
    with pytest.raises(WorkspaceAccessDenied):
        Store.open(server, workspace="client_b")
    every = list_workspaces(server, SYSTEM, include_retired=True)
    assert [(w.id, w.retired) for w, _ in every][-1] == ("client_b", True)


def test_an_existing_database_upgrades_in_place(db_url: str, settings: Settings) -> None:
    """A single-workspace database of revision 0007 with accounts: upgraded, it is the default
    workspace with the same register, and each account keeps its role there."""
    from alembic import command

    cfg = settings.model_copy(update={"database_url": db_url})
    store = Store.open(cfg)
    try:
        store.add_user("alice", "alice-password", Role.ADMIN, SYSTEM)
        store.add_user("bob", "bob-password", Role.ANALYST, SYSTEM)
        before = [(s.id, s.version) for s in store.assets()]
        with store.engine.begin() as conn:
            command.downgrade(alembic_config(conn), "0007")
            conn.execute(text("UPDATE users SET role = 'viewer' WHERE username = 'bob'"))
        assert current_revision(store.engine) == "0007"
        migrate(store.engine)
        assert [(s.id, s.version) for s in store.assets()] == before
        assert {u.username: u.role for u in store.users()} == {
            "alice": Role.ADMIN,
            "bob": Role.VIEWER,
        }
        assert store.require_access(Actor("bob", Role.VIEWER)) is Role.VIEWER
        assert [w.id for w, _ in store.workspaces(Actor("bob", Role.VIEWER))] == ["default"]
        with pytest.raises(AccessDenied, match="viewer"):
            p1 = store.asset("P1")
            store.update_asset("P1", {"owner": "x"}, p1.version, Actor("bob", Role.VIEWER))
    finally:
        store.close()


def _any_asset():  # type: ignore[no-untyped-def]
    from riskapp.domain import Asset

    return Asset(
        id="NEW1",
        name="New",
        type="plant",
        country="NOR",
        lat=60.0,
        lon=10.0,
        replacement_value=1.0,
        annual_revenue_at_stake=1.0,
        currency="EUR",
        criticality=3,
    )


def test_the_python_api_opens_only_a_granted_workspace(server: Settings, tmp_path: Path) -> None:
    from riskapp.assessment import assess
    from riskapp.assessment.sources import StoreSource, choose_source

    files_a = tmp_path / "files_a"
    as_carol = server.model_copy(update={"user": "carol", "workspace_id": "client_a"})
    with pytest.raises(WorkspaceAccessDenied, match="carol has no access to workspace 'client_a'"):
        StoreSource.open(files_a, as_carol)
    with pytest.raises(WorkspaceAccessDenied):
        choose_source(files_a, "store", as_carol)
    as_bob = server.model_copy(update={"user": "bob", "workspace_id": "client_a"})
    source = StoreSource.open(files_a, as_bob)
    try:
        p1 = source.store.asset("P1")
        source.store.update_asset("P1", {"replacement_value": 1000.0}, p1.version, BOB)
        a = assess(source)
        assert a.source.kind == "store" and "client_a" in a.source.location
    finally:
        source.store.close()
    home = StoreSource.open(TINY, server)
    try:
        assert assess(home).source.fingerprint != a.source.fingerprint
        assert home.store.asset("P1").asset.replacement_value != 1000.0
    finally:
        home.store.close()


def test_the_application_role_serves_every_workspace(server: Settings, db_url: str) -> None:
    """PostgreSQL: `create-app-role` run again after a workspace was made gives the role the
    same privileges in the workspace's schema (and no more: the trail stays append-only)."""
    import uuid

    from sqlalchemy.exc import DBAPIError

    from riskapp.store.roles import create_app_role

    if not db_url.startswith("postgresql"):
        pytest.skip("database roles are PostgreSQL's")
    name = f"riskapp_app_{uuid.uuid4().hex[:10]}"
    owner = Store.open(server, seed=False)
    try:
        create_app_role(owner.engine, name)
        app_url = make_url(db_url).set(username=name, password=None)
        as_app = server.model_copy(
            update={
                "database_url": app_url.render_as_string(hide_password=False),
                "database_admin_url": db_url,
            }
        )
        with _open(as_app, "client_a") as a:
            p1 = a.asset("P1")
            a.update_asset("P1", {"owner": "App"}, p1.version, SYSTEM)
            assert a.verify_audit().ok
            with (
                pytest.raises(DBAPIError, match=r"must be owner|permission denied"),
                a.engine.begin() as conn,
            ):
                conn.execute(text("DELETE FROM audit_log"))
    finally:
        owner.close()
        admin = create_engine(PG_URL)
        with admin.begin() as conn:
            conn.execute(text(f'DROP OWNED BY "{name}"'))
            conn.execute(text(f'DROP ROLE "{name}"'))
        admin.dispose()


def test_backups_and_restores_stay_within_their_workspace(server: Settings) -> None:
    with _open(server, "client_a") as a, _open(server, "default") as home:
        p1 = a.asset("P1")
        a.update_asset("P1", {"owner": "before restore"}, p1.version, BOB)
        backup_a = json.loads(json.dumps(a.export_workspace(SYSTEM)))
        p1 = a.asset("P1")
        a.update_asset("P1", {"owner": "after backup"}, p1.version, BOB)
        a.import_workspace(backup_a, SYSTEM, replace=True)
        assert a.asset("P1").asset.owner == "before restore"
        assert home.asset("P1").asset.owner != "before restore"  # the default one untouched
        # restoring the default workspace keeps the roles people hold in the others
        backup_home = json.loads(json.dumps(home.export_workspace(SYSTEM)))
        home.import_workspace(backup_home, SYSTEM, replace=True)
        assert a.require_access(BOB) is Role.ANALYST
        assert [w.id for w, _ in list_workspaces(server, BOB)] == ["client_a"]
        assert {u.username: u.role for u in home.users()} == {"alice": Role.ADMIN}
        assert backup_home["tables"]["workspace_grants"] == [
            r for r in backup_home["tables"]["workspace_grants"] if r["workspace_id"] == "default"
        ]
        assert [r["username"] for r in backup_a["tables"]["workspace_grants"]] == ["alice", "bob"]
        # an older backup (no roles in it) of the default workspace: each account's own role
        older = {**backup_home, "version": 7}
        older["tables"] = {k: v for k, v in backup_home["tables"].items() if k != GRANTS}
        older["checksum"] = checksum(older["tables"])
        home.import_workspace(older, SYSTEM, replace=True)
        assert {u.username for u in home.users()} == {"alice", "bob", "carol"}


def test_each_workspace_refreshes_on_its_own(server: Settings) -> None:
    """A refresh of one workspace does not keep another's from running (job locks are per
    workspace); two of the same workspace still run once."""
    from riskapp.store.runlock import job_lock

    with (
        _open(server, "client_a") as a,
        _open(server, "client_b") as b,
        _open(server, "client_a") as again,
        job_lock(a.core, "refresh") as got_a,
    ):
        assert got_a
        with job_lock(b.core, "refresh") as got_b:
            assert got_b
        with job_lock(again.core, "refresh") as twice:
            assert not twice
