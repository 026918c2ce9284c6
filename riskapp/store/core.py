"""What every part of the store shares: the database engine, transactions, the role check and
appending to the audit trail, and reading the stored register and plans inside a transaction.

Every change runs in one transaction (nothing is half-written when a process dies), checks the
acting user's role, refuses to overwrite a record someone else changed since it was read
(optimistic locking on a version column), and appends who/when/what/old/new to the audit log.

Writers queue for one lock (BEGIN IMMEDIATE on SQLite, a table lock on PostgreSQL), so the lock
is held for as short a time as possible: `write_checked` reads and validates a change before
taking it and, holding it, only confirms that nothing changed meanwhile and writes. A lock not
granted within `Settings.database_busy_timeout` is `StoreBusyError` (nothing written).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, TypeVar

from sqlalchemy import Connection, Engine, func, select, text
from sqlalchemy.exc import DBAPIError

from riskapp.io.errors import Problem
from riskapp.settings import Settings
from riskapp.store import schema as t
from riskapp.store.auth import ROLE_PERMISSIONS, Actor, ActorKind, Permission, Role, minimum_role
from riskapp.store.bulk import driver_value, insert_rows, insert_stream
from riskapp.store.chain import GENESIS, chained, link
from riskapp.store.engine import WRITE, is_busy, lock_timeout, roomy_cache
from riskapp.store.errors import (
    DEFAULT_WORKSPACE,
    AccessDenied,
    StoreBusyError,
    WorkspaceAccessDenied,
)
from riskapp.store.records import (
    AuditEntry,
    ChangeSummary,
    StoredAsset,
    StoredPlan,
    asset_from_row,
    dump_value,
    from_db_time,
    load_value,
    plan_from_row,
    to_db_time,
)
from riskapp.store.workspace import FileInputs, FilesCache

Mode = Literal["replace", "merge"]
Hook = Callable[[int, int], None]
"""Called as hook(records written, records to write) while an import writes (progress)."""

CHUNK = 500
AUDIT_COLUMNS = (
    "seq",
    "at",
    "actor",
    "action",
    "entity",
    "entity_id",
    "field",
    "old_value",
    "new_value",
    "version",
    "note",
    "prev_hash",
    "hash",
)
AUDIT_LOCK = 7_245_318_002  # pg_advisory_xact_lock key of the audit trail's head

P = TypeVar("P")
R = TypeVar("R")


@dataclass(frozen=True)
class ImportPreview:
    """What an import would do, before anything is written."""

    kind: str
    source: str
    rows: int
    problems: list[Problem]
    summary: ChangeSummary
    notes: tuple[str, ...] = ()  # what reading the locations converted (riskapp.io.locations)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class AuditColumns:
    """The audit entries of one change, column by column: what they share (`at`, `actor`,
    `action`, `entity`, `note`) and one value per entry of the rest (old and new values as
    JSON text already, as `audit_entry` writes them)."""

    shared: dict[str, Any]
    entity_ids: Sequence[str]
    fields: Sequence[str]
    old_values: Sequence[str | None]
    new_values: Sequence[str | None]
    versions: Sequence[int | None]


class StoreCore:
    """The engine, the workspace files the register is combined with, settings and clock."""

    def __init__(
        self,
        engine: Engine,
        files: Path | None,
        settings: Settings,
        clock: Callable[[], datetime],
        workspace_id: str = DEFAULT_WORKSPACE,
        accounts: Engine | None = None,
    ) -> None:
        self.engine = engine
        self.files = files
        self.settings = settings
        self.clock = clock
        # the workspace this store holds the data of, and the main database that keeps the
        # accounts, the workspaces and who may see which (the same engine for the default one)
        self.workspace_id = workspace_id
        self.accounts = accounts if accounts is not None else engine
        self._files = FilesCache()

    @property
    def is_default(self) -> bool:
        return self.accounts is self.engine

    @contextmanager
    def accounts_read(self) -> Iterator[Connection]:
        """A read transaction of the main database (accounts, workspaces, grants)."""
        with busy_as_store_error(), self.accounts.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def accounts_write(self) -> Iterator[Connection]:
        """A write transaction of the main database (accounts, workspaces, grants)."""
        if self.is_default:
            with self.write(lock=False) as conn:
                yield conn
            return
        with busy_as_store_error(), self.accounts.connect() as plain:
            conn = plain.execution_options(**WRITE)
            with conn.begin():
                if conn.dialect.name == "postgresql":
                    lock_timeout(conn)
                yield conn

    @contextmanager
    def _accounts_of(self, conn: Connection) -> Iterator[Connection]:
        """`conn` when it is the main database's, otherwise a read transaction of it."""
        if self.is_default or conn.engine is self.accounts:
            yield conn
            return
        with self.accounts_read() as acc:
            yield acc

    def log_account_change(self, conn: Connection, entries: Sequence[dict[str, Any]]) -> None:
        """Audit a change of accounts or grants made in `conn` (the main database's) in this
        workspace's own trail: in the same transaction for the default workspace, otherwise in
        a transaction of this workspace's database."""
        if self.is_default:
            self.append_audit(conn, entries)
            return
        with self.write(lock=False) as own:
            self.append_audit(own, entries)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with busy_as_store_error(), self.engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def write(self, lock: bool = True) -> Iterator[Connection]:
        """One write transaction; register writers queue behind each other (BEGIN IMMEDIATE on
        SQLite, a table lock on PostgreSQL), each waiting at most the busy timeout for the lock
        (then StoreBusyError, nothing written). Keep the work inside short: see `write_checked`."""
        with busy_as_store_error(), self.engine.connect() as plain, roomy_cache(plain):
            conn = plain.execution_options(**WRITE)
            with conn.begin():
                if self.dialect == "postgresql":
                    lock_timeout(conn)
                    if lock:
                        conn.execute(text("LOCK TABLE assets, plans IN SHARE ROW EXCLUSIVE MODE"))
                yield conn

    def write_checked(
        self,
        actor: Actor,
        permission: Permission,
        prepare: Callable[[Connection], P],
        commit: Callable[[Connection, P], R],
        known: tuple[DataState, P] | None = None,
    ) -> R:
        """A change of the register or plans with its checks outside the write lock.

        `prepare(conn)` reads what the change needs, refuses it (ConflictError, InputError) and
        returns what to write; it runs in a read transaction, before the lock. Holding the lock,
        the register and plans are compared with what `prepare` saw: unchanged, `commit(conn,
        prepared)` writes at once; changed meanwhile (another writer got in first), `prepare`
        runs again under the lock, so a check never passes on data that is no longer there and
        no update is lost. `prepare` should take what is expensive and independent of the
        database (the workspace files) from outside, read once. `known`: what `prepare`
        returned earlier (an import's preview) with the state it saw; taken instead of
        preparing again while the register and plans are still in that state."""
        with self.read() as conn:
            self.authorize(conn, actor, permission)
            seen = data_state(conn)
            prepared = known[1] if known is not None and known[0] == seen else prepare(conn)
        with self.write() as conn:
            self.authorize(conn, actor, permission)
            if data_state(conn) != seen:
                prepared = prepare(conn)
            return commit(conn, prepared)

    def now(self) -> datetime:
        return to_db_time(self.clock())

    def file_inputs(self) -> FileInputs | None:
        """The workspace files' inputs, read again only when a file read has changed."""
        return self._files.get(Path(self.files)) if self.files is not None else None

    def authorize(self, conn: Connection, actor: Actor, permission: Permission) -> Role:
        """The role the actor holds now, if it allows `permission`; AccessDenied otherwise."""
        with self._accounts_of(conn) as acc:
            role = self.role_of(acc, actor)
        if permission not in ROLE_PERMISSIONS[role]:
            raise AccessDenied(
                f"{actor.username} ({role.value}) may not {permission.value}; that needs the "
                f"{minimum_role(permission).value} role"
            )
        return role

    def role_of(self, acc: Connection, actor: Actor) -> Role:
        """The role the actor holds in this workspace now (`acc`: a main database connection);
        AccessDenied when it holds none: a removed account, an account with no grant here
        (WorkspaceAccessDenied), or the no-login local user once accounts exist."""
        if actor.kind is ActorKind.SYSTEM:
            return Role.ADMIN
        if not self.is_default:
            w = t.workspaces.c
            retired = acc.execute(select(w.retired_at).where(w.id == self.workspace_id)).first()
            if retired is None or retired.retired_at is not None:
                raise WorkspaceAccessDenied(
                    f"there is no workspace {self.workspace_id!r} on this server"
                )
        if actor.kind is ActorKind.LOCAL:
            if self.count(acc, t.users):
                raise AccessDenied("login required: this workspace has user accounts")
            return Role.ADMIN
        known = acc.execute(
            select(t.users.c.username).where(t.users.c.username == actor.username)
        ).scalar()
        if known is None:
            raise AccessDenied(f"user {actor.username!r} no longer exists")
        g = t.workspace_grants.c
        value = acc.execute(
            select(g.role).where(g.workspace_id == self.workspace_id, g.username == actor.username)
        ).scalar()
        if value is None:
            raise WorkspaceAccessDenied(
                f"{actor.username} has no access to workspace {self.workspace_id!r}; an admin "
                "of it grants a role with `riskapp workspaces grant`"
            )
        return Role(value)

    def require(self, actor: Actor, permission: Permission) -> None:
        """AccessDenied unless the actor may do this now (before work the change needs)."""
        with self.read() as conn:
            self.authorize(conn, actor, permission)

    def check(self, actor: Actor, permission: Permission) -> bool:
        """Whether the actor may do this now (for pages that adapt; the store checks anyway)."""
        try:
            with self.read() as conn:
                self.authorize(conn, actor, permission)
        except AccessDenied:
            return False
        return True

    @staticmethod
    def count(conn: Connection, table: Any) -> int:
        return int(conn.execute(select(func.count()).select_from(table)).scalar() or 0)

    def append_audit(
        self, conn: Connection, entries: Sequence[dict[str, Any]] | AuditColumns
    ) -> None:
        """Append entries to the audit trail (the only write the trail allows), numbered and
        hash-chained after the newest entry, written in bulk; `entries` are `audit_entry`
        dicts, or the entries of one change column by column (`AuditColumns`). Appenders queue
        for the head: a transaction-scoped advisory lock on PostgreSQL (taken before the head
        is read, so two transactions never chain onto the same entry); on SQLite every write
        transaction holds the database's write lock from its BEGIN IMMEDIATE."""
        if not len(entries.entity_ids if isinstance(entries, AuditColumns) else entries):
            return
        head_seq, head_hash = self._chain_head(conn)
        if not isinstance(entries, AuditColumns):
            rows = link(head_seq, head_hash, entries)
            columns = [c.name for c in t.audit_log.c]
            insert_rows(conn, t.audit_log, {c: [r.get(c) for r in rows] for c in columns})
            return
        shared = {**entries.shared, "note": str(entries.shared["note"])[:500]}
        table = t.audit_log
        at = driver_value(conn, table, "at", shared["at"])
        actor, action, entity, note = (shared[k] for k in ("actor", "action", "entity", "note"))
        chain = chained(
            head_seq,
            head_hash,
            shared,
            entries.entity_ids,
            entries.fields,
            entries.old_values,
            entries.new_values,
            entries.versions,
        )
        # each entry is sent as soon as it is chained (PostgreSQL stores it meanwhile)
        stream = (
            (seq, at, actor, action, entity, e, f, o, n, v, note, prev, h)
            for (seq, prev, h), e, f, o, n, v in zip(
                chain,
                entries.entity_ids,
                entries.fields,
                entries.old_values,
                entries.new_values,
                entries.versions,
                strict=True,
            )
        )
        insert_stream(conn, table, AUDIT_COLUMNS, stream)

    def _chain_head(self, conn: Connection) -> tuple[int, str]:
        """The newest entry's seq and hash, once this transaction may append after it."""
        if self.dialect == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": AUDIT_LOCK})
        head = conn.execute(
            select(t.audit_log.c.seq, t.audit_log.c.hash)
            .order_by(t.audit_log.c.seq.desc())
            .limit(1)
        ).first()
        return (head.seq, head.hash) if head else (0, GENESIS)

    def audit_entry(
        self,
        actor: Actor,
        action: str,
        entity: str,
        entity_id: str,
        field: str = "",
        old: Any = None,
        new: Any = None,
        version: int | None = None,
        note: str = "",
        at: datetime | None = None,
    ) -> dict[str, Any]:
        """One audit row: who, when, what, the old and the new value."""
        return {
            "at": at or self.now(),
            "actor": actor.label,
            "action": action,
            "entity": entity,
            "entity_id": entity_id,
            "field": field,
            "old_value": dump_value(old),
            "new_value": dump_value(new),
            "version": version,
            "note": note[:500],
        }


@contextmanager
def busy_as_store_error() -> Iterator[None]:
    """A lock not granted within the busy timeout becomes StoreBusyError (the transaction was
    rolled back: nothing written)."""
    try:
        yield
    except DBAPIError as exc:
        if is_busy(exc):
            raise StoreBusyError(str(exc.orig)) from exc
        raise


DataState = tuple[Any, ...]


def data_state(conn: Connection) -> DataState:
    """What a check of the register and plans depends on: every record's id, version and
    position and the newest audit entry. Equal states: nothing changed in between."""
    a, p = t.assets.c, t.plans.c
    # plain tuples: comparing 100,000 of them is one C loop, comparing result rows is not
    return (
        conn.execute(select(func.max(t.audit_log.c.seq))).scalar(),
        tuple(map(tuple, conn.execute(select(a.id, a.version, a.position).order_by(a.id)))),
        tuple(map(tuple, conn.execute(select(p.id, p.version, p.position).order_by(p.id)))),
    )


def stored_assets(conn: Connection) -> list[StoredAsset]:
    """The register in its order, inside a transaction."""
    rows = conn.execute(select(t.assets).order_by(t.assets.c.position, t.assets.c.id))
    return [asset_from_row(r) for r in rows]


def stored_plans(conn: Connection) -> list[StoredPlan]:
    """The plans in their order, inside a transaction."""
    rows = conn.execute(select(t.plans).order_by(t.plans.c.position, t.plans.c.id))
    return [plan_from_row(r) for r in rows]


def audit_from_row(row: Any) -> AuditEntry:
    m = row._mapping
    return AuditEntry(
        seq=m["seq"],
        at=from_db_time(m["at"]),
        actor=m["actor"],
        action=m["action"],
        entity=m["entity"],
        entity_id=m["entity_id"],
        field=m["field"],
        old=load_value(m["old_value"]),
        new=load_value(m["new_value"]),
        version=m["version"],
        note=m["note"],
    )
