"""Administration commands: the audit trail's check (`audit verify`) and the database's schema
migrations and application role (`db upgrade`, `db create-app-role`), run as the tables' owner.
Registered by riskapp/cli/store.py's `register`.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.text import Text

from riskapp.cli.common import err, fail, fail_message, out
from riskapp.cli.store_common import DatabaseOpt, load_settings, open_store
from riskapp.io.errors import InputError

audit_app = typer.Typer(
    rich_markup_mode="markdown",
    help="The audit trail: hash-chained and append-only.",
    no_args_is_help=True,
)


@audit_app.command("verify")
def audit_verify(
    expect_head: Annotated[
        str | None,
        typer.Option(
            "--expect-head",
            help="A head hash printed by an earlier verify (kept outside the database): it must "
            "still be in the chain, or entries were removed from the end.",
            show_default=False,
        ),
    ] = None,
    expect_count: Annotated[
        int | None,
        typer.Option(
            "--expect-count",
            min=0,
            help="The trail must hold at least this many entries.",
            show_default=False,
        ),
    ] = None,
    database: DatabaseOpt = None,
) -> None:
    """Recompute the audit trail's hash chain and check its append-only guards. Prints the
    number of entries and the head hash (record it elsewhere); exit 1 names the first broken
    entry."""
    store = open_store(database, seed=False)
    try:
        result = store.verify_audit(expect_head=expect_head, expect_count=expect_count)
    finally:
        store.close()
    summary = f"{result.count} entries, head seq {result.head_seq}, head hash {result.head_hash}"
    if result.ok:
        out.print(f"Audit trail intact: {summary}", highlight=False, soft_wrap=True)
        out.print("Append-only guards in place.", highlight=False)
        return
    where = (
        f"first broken entry: seq {result.first_broken_seq}"
        if result.first_broken_seq is not None
        else "the chain itself holds"
    )
    err.print(Text(f"Audit trail NOT intact ({where}): {summary}", "red"), soft_wrap=True)
    for problem in result.problems():
        err.print(Text(f"  {problem}", "red"), soft_wrap=True)
    raise typer.Exit(1)


db_app = typer.Typer(
    rich_markup_mode="markdown",
    help="The database: schema migrations and the application's role (PostgreSQL).",
    no_args_is_help=True,
)

AdminDatabaseOpt = Annotated[
    str | None,
    typer.Option(
        "--database",
        help="SQLAlchemy URL of the tables' owner (default: RISKAPP_DATABASE_ADMIN_URL, else "
        "RISKAPP_DATABASE_URL, else the SQLite file in RISKAPP_DATA_DIR).",
        show_default=False,
    ),
]


def _admin_url(database: str | None) -> str:
    settings = load_settings(database)
    return database or settings.database_admin_url or settings.database


@db_app.command("upgrade")
def db_upgrade(database: AdminDatabaseOpt = None) -> None:
    """Migrate the database to the newest schema, as the tables' owner."""
    from riskapp.store.engine import SchemaNotCurrent, current_revision, make_engine, migrate

    engine = make_engine(_admin_url(database))
    try:
        before = current_revision(engine)
        migrate(engine)
        after = current_revision(engine)
    except SchemaNotCurrent as exc:
        fail_message(str(exc), code=1)
    finally:
        engine.dispose()
    out.print(f"Schema at revision {after} (was {before or 'none'}).", highlight=False)


@db_app.command("create-app-role")
def db_create_app_role(
    name: Annotated[str, typer.Argument(help="Role name (lower case, letters, digits, _).")],
    password_env: Annotated[
        str | None,
        typer.Option(
            "--password-env",
            help="Name of an environment variable holding the role's password (never on the "
            "command line). Without it the role's password is left as it is.",
            show_default=False,
        ),
    ] = None,
    database: AdminDatabaseOpt = None,
) -> None:
    """Create or update the LOGIN role the application connects as (PostgreSQL): it reads and
    writes the working tables, only reads and appends to audit_log, and owns nothing, so it
    cannot drop, alter or disable the audit trail's guards. Run it as the owner after
    `db upgrade`; point RISKAPP_DATABASE_URL at the new role and RISKAPP_DATABASE_ADMIN_URL
    at the owner."""
    import os

    from riskapp.store.engine import SchemaNotCurrent, make_engine, migrate
    from riskapp.store.roles import create_app_role

    password = None
    if password_env is not None:
        password = os.environ.get(password_env)
        if not password:
            fail_message(f"the environment variable {password_env} is not set or empty", code=2)
    engine = make_engine(_admin_url(database))
    try:
        migrate(engine)
        role = create_app_role(engine, name, password)
    except InputError as exc:
        fail(exc.problems)
    except SchemaNotCurrent as exc:
        fail_message(str(exc), code=1)
    finally:
        engine.dispose()
    out.print(
        f"{'Created' if role.created else 'Updated'} role {role.name} in schema {role.schema}:",
        highlight=False,
    )
    for table, privileges in role.grants.items():
        out.print(f"  {table}: {privileges}", highlight=False)
