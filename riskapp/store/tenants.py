"""Creating, listing and retiring the workspaces of a server (the registry is
riskapp.store.tenancy; a workspace is then opened with `Store.open(settings, workspace=ID)`)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from riskapp.io.errors import InputError, Problem
from riskapp.settings import Settings
from riskapp.store import tenancy
from riskapp.store.auth import Actor, ActorKind, Role
from riskapp.store.records import to_db_time, utcnow
from riskapp.store.store import Store, migrated_engine, workspace_engine
from riskapp.store.users import put_grant


def _main(settings: Settings) -> Store:
    """The default workspace's store (the main database), not seeded, whoever the settings
    act for (what it is used for checks the actor itself)."""
    anyone = settings.model_copy(update={"user": None})
    return Store.open(anyone, workspace=tenancy.DEFAULT, seed=False)


def list_workspaces(
    settings: Settings, actor: Actor, include_retired: bool = False
) -> list[tuple[tenancy.WorkspaceInfo, Role | None]]:
    """The workspaces the actor may open with its role in each; with `include_retired` (the
    command line), every one, retired ones included, with no role for those."""
    store = _main(settings)
    try:
        allowed = store.workspaces(actor)
        if not include_retired:
            return [(w, r) for w, r in allowed]
        with store.core.accounts_read() as conn:
            every = tenancy.workspaces(conn, include_retired=True)
        roles = {w.id: r for w, r in allowed}
        return [(w, roles.get(w.id)) for w in every]
    finally:
        store.close()


def create_workspace(
    settings: Settings,
    workspace_id: str,
    name: str,
    files: Path,
    actor: Actor,
    branding: Mapping[str, Any] | None = None,
) -> tenancy.WorkspaceInfo:
    """Register a workspace whose files are in `files`, build its own database and fill its
    register and plans from those files (an empty register stays empty). The creator, when a
    person, becomes its admin. Creating workspaces needs the admin role in the default
    workspace (or the command line)."""
    tenancy.check_id(workspace_id)
    branding = tenancy.check_branding(branding or {})
    folder = Path(files).resolve()
    if not folder.is_dir():
        raise InputError(
            [Problem("workspace", None, "files", f"{folder} is not a folder of workspace files")]
        )
    if folder == Path(settings.workspace).resolve():
        raise InputError(
            [
                Problem(
                    "workspace",
                    None,
                    "files",
                    f"{folder} holds the default workspace's files; each workspace needs a "
                    "folder of its own",
                )
            ]
        )
    main = migrated_engine(settings.database, settings.database_admin_url, settings)
    engine = None
    try:
        with main.connect() as conn:
            tenancy.require_server_admin(conn, actor)
            if any(w.id == workspace_id for w in tenancy.workspaces(conn, True)):
                raise InputError(
                    [Problem("workspace", None, "id", f"workspace {workspace_id!r} exists already")]
                )
        engine = workspace_engine(main, None, settings, workspace_id)
        store = Store(
            engine,
            files=folder,
            settings=settings,
            clock=utcnow,
            workspace_id=workspace_id,
            accounts=main,
        )
        now = to_db_time(utcnow())
        with store.core.accounts_write() as conn:
            tenancy.require_server_admin(conn, actor)
            tenancy.add_row(conn, workspace_id, name, folder, branding, actor, now)
            if actor.kind is ActorKind.USER:
                put_grant(conn, workspace_id, actor.username, Role.ADMIN, actor, now)
        store.seed_if_empty(folder)
        with store.core.write(lock=False) as conn:
            store.core.append_audit(
                conn,
                [
                    store.core.audit_entry(
                        actor,
                        "create",
                        "workspace",
                        workspace_id,
                        new={"name": name, "files": str(folder), "branding": branding},
                        at=now,
                    )
                ],
            )
        with main.connect() as conn:
            return tenancy.find(conn, workspace_id)
    finally:
        if engine is not None:
            engine.dispose()
        main.dispose()


def retire_workspace(settings: Settings, workspace_id: str, actor: Actor) -> None:
    """Retire a workspace: nobody opens it any more; its database and files are kept."""
    store = _main(settings)
    try:
        with store.core.accounts_write() as conn:
            tenancy.require_server_admin(conn, actor)
            tenancy.retire_row(conn, workspace_id, store.core.now())
            store.core.append_audit(
                conn,
                [store.core.audit_entry(actor, "retire", "workspace", workspace_id)],
            )
    finally:
        store.close()
