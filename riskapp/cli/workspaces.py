"""`riskapp workspaces`: the workspaces of a server serving several clients (list, create,
grant, revoke, retire, branding). Which workspace the other store commands open is the global
`riskapp --workspace-id ID` (or RISKAPP_WORKSPACE_ID); `riskapp --as USER` acts on an
account's behalf, refused where it holds no role."""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from riskapp.cli.common import err, fail_message, out
from riskapp.cli.store_common import (
    DatabaseOpt,
    busy_refused,
    cli_actor,
    import_failed,
    load_settings,
    refused,
    store_session,
)
from riskapp.io.errors import InputError

if TYPE_CHECKING:
    from riskapp.store import Store

workspaces_app = typer.Typer(
    rich_markup_mode="markdown",
    help="The workspaces of this server, one per client: list, create (from files or a "
    "template), grant and revoke roles, retire, report branding.",
    no_args_is_help=True,
)

RoleArg = Annotated[str, typer.Argument(help="viewer, analyst or admin.")]


def _role(value: str):  # type: ignore[no-untyped-def]
    from riskapp.store import Role

    try:
        return Role(value)
    except ValueError:
        err.print(Text("the role is viewer, analyst or admin", "red"))
        raise typer.Exit(2) from None


@workspaces_app.command("list")
@busy_refused
def workspaces_list(database: DatabaseOpt = None) -> None:
    """List the workspaces you may open (the operator: every one, retired ones too)."""
    from riskapp.store import AccessDenied
    from riskapp.store.tenants import list_workspaces

    settings = load_settings(database)
    actor = cli_actor()
    try:
        found = list_workspaces(settings, actor, include_retired=not settings.user)
    except AccessDenied as exc:
        refused(exc)
        return
    if not found:
        out.print("No workspace is open to you; an admin grants one with `workspaces grant`.")
        return
    table = Table()
    for col in ("id", "name", "files", "your role", "state"):
        table.add_column(col)
    for w, role in found:
        table.add_row(
            Text(w.id),
            Text(w.name),
            Text(str(w.files or settings.workspace)),
            role.value if role else "",
            "retired" if w.retired else "",
        )
    out.print(table)


@workspaces_app.command("create")
@busy_refused
def workspaces_create(
    workspace_id: Annotated[
        str, typer.Argument(help="Id: lower-case letters, digits, _ (e.g. client_a).")
    ],
    name: Annotated[str, typer.Option(help="Name shown in the dashboard.")] = "",
    files: Annotated[
        Path | None,
        typer.Option(help="An existing folder of workspace files (its register fills it)."),
    ] = None,
    template: Annotated[
        str | None,
        typer.Option(help="Make the files from a template of `riskapp init` instead."),
    ] = None,
    folder: Annotated[
        Path | None,
        typer.Option(help="Where --template puts the files (default: DATA_DIR/workspaces/ID)."),
    ] = None,
    currency: Annotated[str, typer.Option(help="Currency of a template's register.")] = "EUR",
    client: Annotated[
        str, typer.Option(help="Report branding default: the client's name on reports.")
    ] = "",
    database: DatabaseOpt = None,
) -> None:
    """Create a workspace with a database of its own: from a folder of files, or from a
    template (factors, regions, curves, a status-quo scenario and an empty register)."""
    from riskapp.assessment.workspaces import new_workspace
    from riskapp.store import AccessDenied

    settings = load_settings(database)
    try:
        info = new_workspace(
            settings,
            workspace_id,
            name or workspace_id,
            cli_actor(),
            template=template,
            files=files,
            folder=folder,
            currency=currency,
            branding={"client": client} if client else None,
        )
    except InputError as exc:
        import_failed(exc.problems)
        raise  # unreachable
    except AccessDenied as exc:
        refused(exc)
        return
    out.print(f"Created workspace {info.id} ({info.name}) on {info.files}", highlight=False)


def _in_workspace(workspace_id: str, database: str | None) -> AbstractContextManager[Store]:
    """The workspace's store for one command (`store_session`), never seeded."""
    return store_session(database, seed=False, workspace=workspace_id, note="nothing was imported")


@workspaces_app.command("grant")
@busy_refused
def workspaces_grant(
    workspace_id: Annotated[str, typer.Argument(help="The workspace.")],
    username: Annotated[str, typer.Argument(help="An existing account (`riskapp users add`).")],
    role: RoleArg,
    database: DatabaseOpt = None,
) -> None:
    """Give an account a role in a workspace (or change it)."""
    chosen = _role(role)
    with _in_workspace(workspace_id, database) as store:
        store.grant(username, chosen, cli_actor())
    out.print(f"{username} is {chosen.value} in {workspace_id}", highlight=False)


@workspaces_app.command("revoke")
@busy_refused
def workspaces_revoke(
    workspace_id: Annotated[str, typer.Argument(help="The workspace.")],
    username: Annotated[str, typer.Argument(help="The account.")],
    database: DatabaseOpt = None,
) -> None:
    """Take an account's role in a workspace away: it no longer sees the workspace."""
    with _in_workspace(workspace_id, database) as store:
        store.revoke(username, cli_actor())
    out.print(f"{username} no longer sees {workspace_id}", highlight=False)


@workspaces_app.command("retire")
@busy_refused
def workspaces_retire(
    workspace_id: Annotated[str, typer.Argument(help="The workspace.")],
    database: DatabaseOpt = None,
) -> None:
    """Retire a workspace: nobody opens it any more (its database and files are kept)."""
    from riskapp.store import AccessDenied
    from riskapp.store.tenants import retire_workspace

    try:
        retire_workspace(load_settings(database), workspace_id, cli_actor())
    except InputError as exc:
        import_failed(exc.problems)
    except AccessDenied as exc:
        fail_message(str(exc), 1)
    out.print(f"Retired workspace {workspace_id}", highlight=False)


@workspaces_app.command("branding")
@busy_refused
def workspaces_branding(
    workspace_id: Annotated[str, typer.Argument(help="The workspace.")],
    client: Annotated[str, typer.Option(help="The client's name on reports.")] = "",
    author: Annotated[str, typer.Option(help="Author of reports.")] = "",
    title: Annotated[str, typer.Option(help="Report title.")] = "",
    accent_colour: Annotated[str, typer.Option(help="Accent colour, #RRGGBB.")] = "",
    confidentiality: Annotated[str, typer.Option(help="Confidentiality label.")] = "",
    database: DatabaseOpt = None,
) -> None:
    """Set a workspace's report branding defaults (what the Reports page starts from)."""
    values = {
        "client": client,
        "author": author,
        "title": title,
        "accent_colour": accent_colour,
        "confidentiality": confidentiality,
    }
    with _in_workspace(workspace_id, database) as store:
        kept = store.set_branding(values, cli_actor())
    out.print(f"Branding of {workspace_id}: {kept or 'none'}", highlight=False)


def register(app: typer.Typer) -> None:
    app.add_typer(workspaces_app, name="workspaces")
