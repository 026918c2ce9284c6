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
from riskapp.settings import Settings, get_settings
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
    ) -> None:
        self.core = StoreCore(engine, files, settings or get_settings(), clock)
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
    ) -> Store:
        """Connect, migrate to the newest schema and, if the database is empty, seed it with the
        register and plans of the workspace files (the demo by default). With an admin URL in
        the settings (and `url` not pointing elsewhere), migrations run as that role and the
        application's connection only checks the schema is current."""
        settings = settings or get_settings()
        engine = make_engine(
            url or settings.database,
            echo=settings.sql_echo,
            busy_timeout=settings.database_busy_timeout,
        )
        admin_url = settings.database_admin_url if url in (None, settings.database) else None
        try:
            if admin_url and admin_url != settings.database:
                admin = make_engine(
                    admin_url,
                    echo=settings.sql_echo,
                    busy_timeout=settings.database_busy_timeout,
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
        store = cls(engine, files=files or settings.workspace, settings=settings, clock=clock)
        if settings.seed_demo if seed is None else seed:
            store.seeded_now = store.seed_if_empty()
        return store

    def close(self) -> None:
        self.core.engine.dispose()

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
