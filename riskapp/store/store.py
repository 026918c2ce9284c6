"""The team workspace store: one interface over SQLite (default) or PostgreSQL.

`Store` is a facade: each concern lives in its own module and the store hands every call to it.

    core         engine, transactions, the role check, appending to the audit trail
    register     the asset register: reading, edits, imports
    plans        plans: reading, edits, plan tables and plan books
    conflicts    what changed since a writer read a record (optimistic locking)
    audit        the audit trail, read-only, and its verification
    chain        the audit trail's hash chain (how entries are hashed and checked)
    saved        saved assessments
    users        accounts, roles and login
    backup       export and restore of the whole database
    seed         an empty database filled from the workspace files
    roles        the application's PostgreSQL role that owns no table

Every change runs in one transaction (nothing is half-written when a process dies), checks the
acting user's role, refuses to overwrite a record someone else changed since it was read
(optimistic locking on a version column), and appends who/when/what/old/new to the audit log.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Engine

from riskapp.domain import Asset, PlanBook, Scenario, Workspace
from riskapp.domain.alerts import AlertEvent
from riskapp.domain.indicators import Series
from riskapp.io.errors import InputError, Problem
from riskapp.settings import Settings, get_settings
from riskapp.store import tenancy
from riskapp.store.alerts import Alerts, StoredAlert
from riskapp.store.audit import AuditTrail
from riskapp.store.auth import Actor, Permission, Role
from riskapp.store.backup import BACKUP_FORMAT, BACKUP_VERSION, Backup
from riskapp.store.chain import AuditVerification
from riskapp.store.core import (
    CHUNK,
    Hook,
    ImportPreview,
    Mode,
    StoreCore,
    stored_plans,
)
from riskapp.store.engine import make_engine, migrate, require_current
from riskapp.store.errors import DEFAULT_WORKSPACE, AccessDenied
from riskapp.store.frames import stored_register
from riskapp.store.indicators import IndicatorInfo, Indicators, SeriesImport
from riskapp.store.plans import PlanEdit, Plans
from riskapp.store.records import AuditEntry, ChangeSummary, StoredAsset, StoredPlan, utcnow
from riskapp.store.register import AssetEdit, Register
from riskapp.store.saved import AssessmentSummary, SavedAssessment, SavedAssessments, inputs_hash
from riskapp.store.seed import Seeding
from riskapp.store.users import UserInfo, Users
from riskapp.store.validation import Table
from riskapp.store.workspace import FileInputs, load_files, workspace_of_frame

__all__ = [
    "BACKUP_FORMAT",
    "BACKUP_VERSION",
    "CHUNK",
    "AssessmentSummary",
    "AssetEdit",
    "Hook",
    "ImportPreview",
    "Mode",
    "PlanEdit",
    "SavedAssessment",
    "Store",
    "UserInfo",
    "inputs_hash",
]


class Store:
    """The asset register, plans, saved assessments, audit trail and users of a team."""

    def __init__(
        self,
        engine: Engine,
        files: Path | None = None,
        settings: Settings | None = None,
        clock: Callable[[], datetime] = utcnow,
        workspace_id: str = DEFAULT_WORKSPACE,
        accounts: Engine | None = None,
    ) -> None:
        self.core = StoreCore(
            engine, files, settings or get_settings(), clock, workspace_id, accounts
        )
        self._register = Register(self.core)
        self._plans = Plans(self.core)
        self._trail = AuditTrail(self.core)
        self._saved = SavedAssessments(self.core)
        self._users = Users(self.core)
        self._backup = Backup(self.core)
        self._seeding = Seeding(self.core)
        self._indicators = Indicators(self.core)
        self._alerts = Alerts(self.core)
        # whether opening this store filled it from its workspace (a demo's first start)
        self.seeded_now = False

    @classmethod
    def open(
        cls,
        settings: Settings | None = None,
        *,
        url: str | None = None,
        files: Path | None = None,
        seed: bool | None = None,
        clock: Callable[[], datetime] = utcnow,
        workspace: str | None = None,
    ) -> Store:
        """Connect, migrate to the newest schema and, if the database is empty, seed it with the
        register and plans of the workspace files (the demo by default). With an admin URL in
        the settings (and `url` not pointing elsewhere), migrations run as that role and the
        application's connection only checks the schema is current.

        `workspace` (default: the settings' `workspace_id`): which workspace of the server to
        open (riskapp.store.tenancy); the default one is the main database itself, another one
        its own database with the files of its registered folder. With `settings.user`, the
        account must hold a role in it (WorkspaceAccessDenied otherwise)."""
        settings = settings or get_settings()
        workspace_id = workspace or settings.workspace_id
        own_url = url in (None, settings.database)
        main = migrated_engine(
            url or settings.database, settings.database_admin_url if own_url else None, settings
        )
        try:
            with main.connect() as conn:
                if workspace_id == tenancy.DEFAULT:
                    folder = files or settings.workspace
                    owner = tenancy.folder_owner(conn, Path(folder))
                    info = None
                else:
                    info = tenancy.find(conn, workspace_id)
                    folder, owner = info.files or settings.workspace, None
            if owner is not None:
                raise InputError([_folder_taken(Path(folder), owner)])
            if info is None:
                store = cls(main, files=folder, settings=settings, clock=clock)
            else:
                if files is not None and Path(files).resolve() != Path(folder).resolve():
                    raise InputError([_not_its_folder(workspace_id, Path(folder), Path(files))])
                engine = workspace_engine(main, url, settings, workspace_id)
                store = cls(
                    engine,
                    files=Path(folder),
                    settings=settings,
                    clock=clock,
                    workspace_id=workspace_id,
                    accounts=main,
                )
        except BaseException:
            main.dispose()
            raise
        if settings.user:
            try:
                store.require_access(Actor(settings.user, Role.VIEWER))
            except BaseException:
                store.close()
                raise
        # another workspace was filled from its files when it was made: seeded again only when
        # asked (an emptied register stays empty)
        default_seed = settings.seed_demo if info is None else False
        if default_seed if seed is None else seed:
            store.seeded_now = store.seed_if_empty()
        return store

    def close(self) -> None:
        self.core.engine.dispose()
        if not self.core.is_default:
            self.core.accounts.dispose()

    # -- workspaces of the server (riskapp.store.tenancy) ----------------------------------------

    @property
    def workspace_id(self) -> str:
        return self.core.workspace_id

    def require_access(self, actor: Actor) -> Role:
        """The actor's role in this workspace; WorkspaceAccessDenied when it holds none."""
        with self.core.accounts_read() as conn:
            return self.core.role_of(conn, actor)

    def workspaces(self, actor: Actor) -> list[tuple[tenancy.WorkspaceInfo, Role]]:
        """The server's workspaces the actor may open, with its role in each."""
        with self.core.accounts_read() as conn:
            return tenancy.accessible(conn, actor)

    def can_create_workspaces(self, actor: Actor) -> bool:
        """Whether the actor may create and retire workspaces (for pages that adapt)."""
        try:
            with self.core.accounts_read() as conn:
                tenancy.require_server_admin(conn, actor)
        except AccessDenied:
            return False
        return True

    def workspace_info(self) -> tenancy.WorkspaceInfo:
        """This workspace's registry entry (name, folder, branding defaults)."""
        with self.core.accounts_read() as conn:
            return tenancy.find(conn, self.core.workspace_id)

    def set_branding(self, branding: Mapping[str, Any], actor: Actor) -> dict[str, str]:
        """Replace this workspace's report branding defaults (admins of it)."""
        with self.core.accounts_write() as conn:
            self.core.authorize(conn, actor, Permission.MANAGE_USERS)
            values = tenancy.set_branding_row(
                conn, self.core.workspace_id, branding, actor, self.core.now()
            )
            entry = self.core.audit_entry(
                actor, "edit", "workspace", self.core.workspace_id, "branding", None, values
            )
            self.core.log_account_change(conn, [entry])
        return values

    def grant(self, username: str, role: Role, actor: Actor) -> None:
        """Give an account a role in this workspace (admins of it)."""
        self._users.grant(username, role, actor)

    def revoke(self, username: str, actor: Actor) -> None:
        """Take an account's role in this workspace away (admins of it)."""
        self._users.revoke(username, actor)

    # -- what the store runs on -----------------------------------------------------------------

    @property
    def engine(self) -> Engine:
        return self.core.engine

    @property
    def files(self) -> Path | None:
        return self.core.files

    @files.setter
    def files(self, value: Path | None) -> None:
        self.core.files = value

    @property
    def settings(self) -> Settings:
        return self.core.settings

    @property
    def clock(self) -> Callable[[], datetime]:
        return self.core.clock

    @property
    def dialect(self) -> str:
        return self.core.dialect

    def check(self, actor: Actor, permission: Permission) -> bool:
        """Whether the actor may do this now (for pages that adapt; the store checks anyway)."""
        return self.core.check(actor, permission)

    def file_inputs(self) -> FileInputs | None:
        return self.core.file_inputs()

    def workspace(self, files: Path | None = None) -> Workspace:
        """The workspace the engine runs on: file inputs plus the stored register and plans."""
        path = files or self.core.files
        if path is None:
            raise ValueError("the store has no workspace files to combine the register with")
        inputs = self.core.file_inputs() if path == self.core.files else load_files(path)
        with self.core.read() as conn:
            register = stored_register(conn).drop(columns="version")
            plans = [p.plan for p in stored_plans(conn)]
        assert inputs is not None
        return workspace_of_frame(inputs, register, plans)

    # -- the register (riskapp.store.register) --------------------------------------------------

    def assets(self) -> list[StoredAsset]:
        return self._register.assets()

    def asset(self, asset_id: str) -> StoredAsset:
        return self._register.asset(asset_id)

    def register(self) -> list[Asset]:
        return self._register.register()

    def update_asset(
        self, asset_id: str, changes: Mapping[str, Any], expected_version: int, actor: Actor
    ) -> StoredAsset:
        return self._register.update_asset(asset_id, changes, expected_version, actor)

    def add_asset(self, asset: Asset, actor: Actor) -> StoredAsset:
        return self._register.add_asset(asset, actor)

    def delete_asset(self, asset_id: str, expected_version: int, actor: Actor) -> None:
        self._register.delete_asset(asset_id, expected_version, actor)

    def save_assets(
        self, edits: Sequence[AssetEdit], actor: Actor, note: str = ""
    ) -> ChangeSummary:
        return self._register.save_assets(edits, actor, note)

    def preview_assets(self, table: Table, mode: Mode = "replace") -> ImportPreview:
        return self._register.preview_assets(table, mode)

    def import_assets(
        self,
        table: Table,
        actor: Actor,
        mode: Mode = "replace",
        hook: Hook | None = None,
    ) -> ChangeSummary:
        return self._register.import_assets(table, actor, mode, hook)

    # -- plans (riskapp.store.plans) ------------------------------------------------------------

    def plans(self) -> list[StoredPlan]:
        return self._plans.plans()

    def plan(self, plan_id: str) -> StoredPlan:
        return self._plans.plan(plan_id)

    def plan_book(self) -> PlanBook:
        return self._plans.plan_book()

    def update_plan(
        self, plan_id: str, changes: Mapping[str, Any], expected_version: int, actor: Actor
    ) -> StoredPlan:
        return self._plans.update_plan(plan_id, changes, expected_version, actor)

    def save_plans(self, edits: Sequence[PlanEdit], actor: Actor, note: str = "") -> ChangeSummary:
        return self._plans.save_plans(edits, actor, note)

    def preview_plans(self, table: Table) -> ImportPreview:
        return self._plans.preview_plans(table)

    def import_plan_table(self, table: Table, actor: Actor) -> ChangeSummary:
        return self._plans.import_plan_table(table, actor)

    def import_plan_book(
        self, book: PlanBook, actor: Actor, source: str = "plans.yaml", mode: Mode = "replace"
    ) -> ChangeSummary:
        return self._plans.import_plan_book(book, actor, source, mode)

    # -- seeding (riskapp.store.seed) -----------------------------------------------------------

    def is_empty(self) -> bool:
        return self._seeding.is_empty()

    def seed_if_empty(self, files: Path | None = None) -> bool:
        return self._seeding.seed_if_empty(files)

    # -- the audit trail (riskapp.store.audit) --------------------------------------------------

    def raise_alerts(self, events: Sequence[AlertEvent], actor: Actor) -> list[StoredAlert]:
        return self._alerts.raise_alerts(events, actor)

    def alerts(self, status: str | None = None) -> list[StoredAlert]:
        return self._alerts.alerts(status)

    def acknowledge_alert(self, alert_id: int, actor: Actor) -> None:
        self._alerts.acknowledge(alert_id, actor)

    def assign_alert(self, alert_id: int, assignee: str, actor: Actor) -> None:
        self._alerts.assign(alert_id, assignee, actor)

    def comment_alert(self, alert_id: int, text: str, actor: Actor) -> None:
        self._alerts.comment(alert_id, text, actor)

    def subscribe(
        self, actor: Actor, email: str, kinds: Sequence[str] = (), min_severity: str = "info"
    ) -> None:
        from riskapp.store.alerts import subscribe

        subscribe(self.core, actor, email, kinds, min_severity)

    def unsubscribe(self, actor: Actor) -> None:
        from riskapp.store.alerts import unsubscribe

        unsubscribe(self.core, actor)

    def personal_subscriptions(self) -> list[Any]:
        from riskapp.store.alerts import personal_subscriptions

        return list(personal_subscriptions(self.core))

    def import_series(self, series: Series, actor: Actor, source: str) -> SeriesImport:
        return self._indicators.import_series(series, actor, source)

    def indicators(self) -> list[IndicatorInfo]:
        return self._indicators.indicators()

    def observations(self, indicator_id: str, vintages: bool = False) -> pd.DataFrame:
        return self._indicators.observations(indicator_id, vintages)

    def audit(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        actor: str | None = None,
        entity: str | None = None,
        entity_id: str | None = None,
        action: str | None = None,
        limit: int | None = None,
    ) -> list[AuditEntry]:
        return self._trail.audit(
            since=since,
            until=until,
            actor=actor,
            entity=entity,
            entity_id=entity_id,
            action=action,
            limit=limit,
        )

    def revision(self) -> int:
        return self._trail.revision()

    def audit_actors(self) -> list[str]:
        return self._trail.audit_actors()

    def verify_audit(
        self, *, expect_head: str | None = None, expect_count: int | None = None
    ) -> AuditVerification:
        return self._trail.verify_audit(expect_head=expect_head, expect_count=expect_count)

    def save_scenario(
        self,
        path: str | Path,
        scenario_data: Mapping[str, Any],
        expected_version: str,
        actor: Actor,
        note: str = "",
    ) -> Scenario:
        """Replace a scenario file (role-checked, validated, conflict-checked, audited): see
        `riskapp.store.scenarios.save_scenario`. Returns the saved Scenario."""
        from riskapp.store.scenarios import save_scenario

        return save_scenario(
            self, actor, path, dict(scenario_data), expected_version=expected_version, note=note
        )

    # -- saved assessments (riskapp.store.saved) ------------------------------------------------

    def save_assessment(
        self,
        label: str,
        as_of: date,
        inputs: Mapping[str, Any],
        results: Mapping[str, Any],
        actor: Actor,
    ) -> AssessmentSummary:
        return self._saved.save_assessment(label, as_of, inputs, results, actor)

    def assessments(self) -> list[AssessmentSummary]:
        return self._saved.assessments()

    def assessment(self, assessment_id: int) -> SavedAssessment:
        return self._saved.assessment(assessment_id)

    # -- users (riskapp.store.users) ------------------------------------------------------------

    def has_users(self) -> bool:
        return self._users.has_users()

    def users(self) -> list[UserInfo]:
        return self._users.users()

    def add_user(
        self,
        username: str,
        password: str | None,
        role: Role,
        actor: Actor,
        display_name: str = "",
    ) -> UserInfo:
        return self._users.add_user(username, password, role, actor, display_name)

    def remove_user(self, username: str, actor: Actor) -> None:
        self._users.remove_user(username, actor)

    def set_role(self, username: str, role: Role, actor: Actor) -> None:
        self._users.set_role(username, role, actor)

    def set_password(self, username: str, password: str, actor: Actor) -> None:
        self._users.set_password(username, password, actor)

    def authenticate(self, username: str, password: str, source: str | None = None) -> Actor:
        return self._users.authenticate(username, password, source)

    def oidc_actor(self, email: str) -> Actor:
        return self._users.oidc_actor(email)

    # -- backup and restore (riskapp.store.backup) ----------------------------------------------

    def export_workspace(self, actor: Actor) -> dict[str, Any]:
        return self._backup.export_workspace(actor)

    def import_workspace(
        self, backup: Mapping[str, Any], actor: Actor, replace: bool = False
    ) -> dict[str, int]:
        return self._backup.import_workspace(backup, actor, replace)


def migrated_engine(url: str, admin_url: str | None, settings: Settings) -> Engine:
    """An engine for `url` at the newest schema: migrated by the admin URL's role when one is
    given (the application's role only checks), by itself otherwise."""
    engine = make_engine(url, echo=settings.sql_echo, busy_timeout=settings.database_busy_timeout)
    try:
        if admin_url and admin_url != url:
            admin = make_engine(
                admin_url, echo=settings.sql_echo, busy_timeout=settings.database_busy_timeout
            )
            try:
                migrate(admin)
            finally:
                admin.dispose()
            require_current(engine)
        else:
            migrate(engine)
    except BaseException:
        engine.dispose()
        raise
    return engine


def workspace_engine(
    main: Engine, url: str | None, settings: Settings, workspace_id: str
) -> Engine:
    """The engine of a workspace's own database (created and migrated on first use)."""
    schema = tenancy.main_schema(main)
    admin = settings.database_admin_url if url in (None, settings.database) else None
    if admin and main.dialect.name == "postgresql":  # the owner makes the schema
        owner = make_engine(admin, busy_timeout=settings.database_busy_timeout)
        try:
            tenancy.create_schema(owner, workspace_id)
        finally:
            owner.dispose()
    else:
        tenancy.create_schema(main, workspace_id)
    return migrated_engine(
        tenancy.workspace_url(url or settings.database, workspace_id, schema),
        tenancy.workspace_url(admin, workspace_id, schema) if admin else None,
        settings,
    )


def _folder_taken(folder: Path, owner: str) -> Problem:
    return Problem(
        "workspace",
        None,
        "files",
        f"{folder} holds the files of workspace {owner!r}: open that workspace (riskapp "
        f"--workspace-id {owner}, RISKAPP_WORKSPACE_ID={owner}) rather than mixing its files "
        "with the default workspace's register",
    )


def _not_its_folder(workspace_id: str, folder: Path, files: Path) -> Problem:
    return Problem(
        "workspace",
        None,
        "files",
        f"workspace {workspace_id!r} keeps its files in {folder}, not {files}: a workspace's "
        "register is combined only with its own files",
    )
