"""Several workspaces on one server: where each one's data lives, the registry of workspaces and
who may see which.

The main database (RISKAPP_DATABASE_URL, or data_dir/riskapp.db) holds the default workspace's
data as it always did, the accounts, the registry of the other workspaces (`workspaces`) and
the role each account holds in each workspace (`workspace_grants`). Every other workspace keeps
its register, plans, audit trail, saved assessments, indicators and alerts in a database of its
own, built by the same migrations, so no query can read one client's rows while serving
another's:

- SQLite: a file next to the main one, `<main name>.workspaces/<id>.db`;
- PostgreSQL: a schema of the same database, `ws_<id>` (`<main schema>_ws_<id>` when the main
  schema is not `public`), put first on the connection's search path.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from riskapp.io.errors import InputError, Problem
from riskapp.store import schema as t
from riskapp.store.auth import Actor, ActorKind, Role
from riskapp.store.errors import DEFAULT_WORKSPACE, AccessDenied, WorkspaceAccessDenied
from riskapp.store.records import from_db_time

DEFAULT = DEFAULT_WORKSPACE
INSUFFICIENT_PRIVILEGE = "42501"  # PostgreSQL's sqlstate
ID_RE = re.compile(r"^[a-z][a-z0-9_]{0,29}$")
BRANDING_KEYS = ("client", "author", "title", "accent_colour", "confidentiality")
"""Report branding defaults a workspace may set (fields of riskapp.reporting's Branding: the
Reports page's starting values)."""
HEX_COLOUR = re.compile(r"^#[0-9A-Fa-f]{6}$")


@dataclass(frozen=True)
class WorkspaceInfo:
    """One workspace of the server. `files`: its folder (None for the default workspace, whose
    folder is the settings' `workspace`)."""

    id: str
    name: str
    files: Path | None
    branding: dict[str, str] = field(default_factory=dict)
    created_at: datetime | None = None
    created_by: str = ""
    retired: bool = False


def check_id(value: str) -> str:
    """A workspace id: lower-case letters, digits and '_', starting with a letter, at most 30
    characters (it names a file or a PostgreSQL schema)."""
    if not ID_RE.match(value):
        raise InputError(
            [
                Problem(
                    "workspace",
                    None,
                    "id",
                    f"{value!r} is not a workspace id: use lower-case letters, digits and '_', "
                    "starting with a letter, at most 30 characters (e.g. client_a)",
                )
            ]
        )
    return value


def check_branding(branding: Mapping[str, Any]) -> dict[str, str]:
    unknown = sorted(set(branding) - set(BRANDING_KEYS))
    if unknown:
        raise InputError(
            [
                Problem(
                    "workspace",
                    None,
                    "branding",
                    f"unknown key(s) {', '.join(unknown)}; expected {', '.join(BRANDING_KEYS)}",
                )
            ]
        )
    values = {k: str(v)[:200] for k, v in branding.items() if v not in (None, "")}
    colour = values.get("accent_colour")
    if colour is not None and not HEX_COLOUR.match(colour):
        raise InputError(
            [
                Problem(
                    "workspace",
                    None,
                    "branding.accent_colour",
                    f"expected a colour as #RRGGBB, e.g. #0072B2, found {colour!r}",
                )
            ]
        )
    return values


# -- where a workspace's data lives --------------------------------------------------------------


def main_schema(engine: Engine) -> str | None:
    """The main database's PostgreSQL schema (None on SQLite)."""
    if engine.dialect.name != "postgresql":
        return None
    with engine.connect() as conn:
        return str(conn.execute(text("SELECT current_schema()")).scalar())


def schema_name(main: str, workspace_id: str) -> str:
    return f"ws_{workspace_id}" if main == "public" else f"{main}_ws_{workspace_id}"


def workspace_url(main_url: str, workspace_id: str, main: str | None = None) -> str:
    """The database URL of a workspace's own data, next to the main database's."""
    check_id(workspace_id)
    url = make_url(main_url)
    if url.get_backend_name() == "sqlite":
        if not url.database or url.database == ":memory:":
            raise ValueError("workspaces need a database file, not an in-memory database")
        path = Path(url.database)
        return url.set(
            database=str(path.parent / f"{path.stem}.workspaces" / f"{workspace_id}.db")
        ).render_as_string(hide_password=False)
    schema = schema_name(main or "public", workspace_id)
    return url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
        hide_password=False
    )


def create_schema(main: Engine, workspace_id: str) -> None:
    """PostgreSQL: the workspace's schema, created if missing (SQLite needs nothing)."""
    if main.dialect.name != "postgresql":
        return
    schema = schema_name(main_schema(main) or "public", check_id(workspace_id))
    with main.begin() as conn:
        found = conn.execute(
            text("SELECT 1 FROM pg_namespace WHERE nspname = :s"), {"s": schema}
        ).first()
        if found is None:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))


# -- the registry ---------------------------------------------------------------------------------


def _info(row: Any) -> WorkspaceInfo:
    return WorkspaceInfo(
        row.id,
        row.name,
        Path(row.files) if row.files else None,
        dict(row.branding or {}),
        from_db_time(row.created_at),
        row.created_by,
        row.retired_at is not None,
    )


def workspaces(conn: Connection, include_retired: bool = False) -> list[WorkspaceInfo]:
    """Every workspace of the server, the default one first (`conn`: the main database)."""
    rows = {r.id: _info(r) for r in conn.execute(select(t.workspaces).order_by(t.workspaces.c.id))}
    default = rows.pop(DEFAULT, None) or WorkspaceInfo(DEFAULT, "Default", None)
    found = [default, *rows.values()]
    return [w for w in found if include_retired or not w.retired]


def find(conn: Connection, workspace_id: str) -> WorkspaceInfo:
    """The workspace; WorkspaceAccessDenied when there is none of that id or it was retired
    (the same answer either way: nobody learns which ids exist)."""
    for w in workspaces(conn):
        if w.id == workspace_id:
            return w
    raise WorkspaceAccessDenied(f"there is no workspace {workspace_id!r} on this server")


def role_in(conn: Connection, workspace_id: str, username: str) -> Role | None:
    g = t.workspace_grants.c
    value = conn.execute(
        select(g.role).where(g.workspace_id == workspace_id, g.username == username)
    ).scalar()
    return Role(value) if value is not None else None


def accessible(conn: Connection, actor: Actor) -> list[tuple[WorkspaceInfo, Role]]:
    """The workspaces the actor may open, with its role in each: the command line (system)
    and the no-login local user (while there are no accounts) every one, a person the ones
    granted to them."""
    every = workspaces(conn)
    if actor.kind is ActorKind.SYSTEM:
        return [(w, Role.ADMIN) for w in every]
    has_accounts = conn.execute(select(t.users.c.username).limit(1)).first() is not None
    if actor.kind is ActorKind.LOCAL:
        return [] if has_accounts else [(w, Role.ADMIN) for w in every]
    g = t.workspace_grants.c
    roles = {
        r.workspace_id: Role(r.role)
        for r in conn.execute(select(g.workspace_id, g.role).where(g.username == actor.username))
    }
    return [(w, roles[w.id]) for w in every if w.id in roles]


def require_server_admin(conn: Connection, actor: Actor) -> None:
    """Creating and retiring workspaces: the command line, the local user while there are no
    accounts, or an admin of the default workspace (the server's own team)."""
    if actor.kind is ActorKind.SYSTEM:
        return
    if actor.kind is ActorKind.LOCAL:
        if conn.execute(select(t.users.c.username).limit(1)).first() is None:
            return
        raise AccessDenied("login required: this workspace has user accounts")
    if role_in(conn, DEFAULT, actor.username) is not Role.ADMIN:
        raise AccessDenied(
            f"{actor.username} may not create or retire workspaces; that needs the admin role "
            "in the default workspace"
        )


def add_row(
    conn: Connection,
    workspace_id: str,
    name: str,
    files: Path,
    branding: Mapping[str, Any],
    actor: Actor,
    at: datetime,
) -> None:
    """Register a workspace; InputError when the id or the folder is taken already."""
    check_id(workspace_id)
    folder = files.resolve()
    taken = [w for w in workspaces(conn, include_retired=True) if w.id == workspace_id]
    if taken or workspace_id == DEFAULT:
        raise InputError(
            [Problem("workspace", None, "id", f"workspace {workspace_id!r} exists already")]
        )
    for w in workspaces(conn, include_retired=True):
        if w.files is not None and w.files.resolve() == folder:
            raise InputError(
                [
                    Problem(
                        "workspace",
                        None,
                        "files",
                        f"{folder} holds the files of workspace {w.id!r} already; each "
                        "workspace needs a folder of its own",
                    )
                ]
            )
    conn.execute(
        insert(t.workspaces).values(
            id=workspace_id,
            name=name.strip()[:200] or workspace_id,
            files=str(folder),
            branding=check_branding(branding),
            created_at=at,
            created_by=actor.label,
            retired_at=None,
        )
    )


def retire_row(conn: Connection, workspace_id: str, at: datetime) -> None:
    if workspace_id == DEFAULT:
        raise InputError(
            [Problem("workspace", None, "id", "the default workspace cannot be retired")]
        )
    find(conn, workspace_id)
    conn.execute(
        update(t.workspaces).where(t.workspaces.c.id == workspace_id).values(retired_at=at)
    )


def set_branding_row(
    conn: Connection, workspace_id: str, branding: Mapping[str, Any], actor: Actor, at: datetime
) -> dict[str, str]:
    """Replace a workspace's report branding defaults (the default workspace gets a registry
    row for them on first use)."""
    values = check_branding(branding)
    found = find(conn, workspace_id)
    exists = conn.execute(
        select(t.workspaces.c.id).where(t.workspaces.c.id == workspace_id)
    ).scalar()
    if exists is None:
        conn.execute(
            insert(t.workspaces).values(
                id=workspace_id,
                name=found.name,
                files="",
                branding=values,
                created_at=at,
                created_by=actor.label,
            )
        )
    else:
        conn.execute(
            update(t.workspaces).where(t.workspaces.c.id == workspace_id).values(branding=values)
        )
    return values


def folder_owner(conn: Connection, folder: Path) -> str | None:
    """The non-default workspace whose files are in `folder`, if any. None too when this
    connection may not read the registry (an application role made before the upgrade that
    added it, until `riskapp db create-app-role` runs again): then there is no other workspace
    it could open anyway."""
    resolved = folder.resolve()
    try:
        with conn.begin_nested():
            found = workspaces(conn, include_retired=True)
    except DBAPIError as exc:
        if getattr(exc.orig, "sqlstate", None) == INSUFFICIENT_PRIVILEGE:
            return None
        raise
    for w in found:
        if w.files is not None and w.files.resolve() == resolved:
            return w.id
    return None
