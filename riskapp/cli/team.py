"""Team commands on the database: local users and their roles (`users`), and saved
assessments (`assessments save/list/compare`). Registered by riskapp/cli/store.py's `register`.
"""

from __future__ import annotations

import sys
from datetime import date
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from riskapp.cli.common import DEMO, err, out
from riskapp.cli.store_common import (
    DatabaseOpt,
    busy_refused,
    cli_actor,
    import_failed,
    open_store,
    refused,
)
from riskapp.format import NumberFormat
from riskapp.io.errors import InputError

# whole amounts of saved assessments, as every table of the product writes them
NUMBERS = NumberFormat()


def _signed(value: object) -> str:
    text = NUMBERS.number(value)
    return text if text.startswith("-") or text == "0" else "+" + text


users_app = typer.Typer(
    rich_markup_mode="markdown",
    help="Local accounts and roles (viewer, analyst, admin).",
    no_args_is_help=True,
)


@users_app.command("add")
@busy_refused
def users_add(
    username: Annotated[str, typer.Argument(help="Login name (for --oidc: the e-mail).")],
    role: Annotated[str, typer.Option(help="viewer, analyst or admin.")] = "viewer",
    name: Annotated[str, typer.Option(help="Display name.")] = "",
    oidc: Annotated[
        bool, typer.Option("--oidc", help="Logs in through OpenID Connect; no local password.")
    ] = False,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    database: DatabaseOpt = None,
) -> None:
    """Add a user. The password is asked for (twice) unless --password-stdin or --oidc."""
    from riskapp.store import Role

    try:
        chosen = Role(role)
    except ValueError:
        err.print(Text("--role is viewer, analyst or admin", "red"))
        raise typer.Exit(2) from None
    password: str | None = None
    if not oidc:
        if password_stdin:
            password = sys.stdin.readline().rstrip("\n")
        else:
            password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    store = open_store(database)
    try:
        user = store.add_user(username, password, chosen, cli_actor(), display_name=name)
    except InputError as exc:
        import_failed(exc.problems)
        raise  # unreachable
    finally:
        store.close()
    out.print(f"Added {user.username} ({user.role.value})", highlight=False)


@users_app.command("remove")
@busy_refused
def users_remove(
    username: Annotated[str, typer.Argument(help="Login name.")],
    database: DatabaseOpt = None,
) -> None:
    """Remove a user (their entries in the audit trail stay)."""
    store = open_store(database)
    try:
        store.remove_user(username, cli_actor())
    except KeyError as exc:
        refused(Exception(exc.args[0]))
    except InputError as exc:
        import_failed(exc.problems)
    finally:
        store.close()
    out.print(f"Removed {username}", highlight=False)


@users_app.command("list")
@busy_refused
def users_list(database: DatabaseOpt = None) -> None:
    """List users and their roles."""
    store = open_store(database)
    try:
        users = store.users()
    finally:
        store.close()
    if not users:
        out.print("No users: the dashboard runs without login (local demo mode).")
        return
    table = Table()
    for col in ("username", "name", "role", "login", "added (UTC)"):
        table.add_column(col)
    for u in users:
        table.add_row(
            Text(u.username),
            Text(u.display_name),
            u.role.value,
            "password" if u.local_password else "OpenID Connect",
            u.created_at.strftime("%Y-%m-%d %H:%M"),
        )
    out.print(table)


assessments_app = typer.Typer(
    rich_markup_mode="markdown",
    help="Saved assessments: save, list, compare.",
    no_args_is_help=True,
)


@assessments_app.command("save")
@busy_refused
def assessments_save(
    label: Annotated[str, typer.Argument(help="What this assessment is, e.g. 'Q4 2025 board'.")],
    as_of: Annotated[
        str | None, typer.Option("--date", help="Date of the assessment (default today).")
    ] = None,
    basis: Annotated[
        str | None, typer.Option(help="absolute or incremental (default: workspace setting).")
    ] = None,
    database: DatabaseOpt = None,
) -> None:
    """Score the workspace (files plus the database's register and plans) and save it."""
    from riskapp.assessment import StoreSource, assess
    from riskapp.assessment.history import save
    from riskapp.domain import LossBasis

    try:
        day = date.fromisoformat(as_of) if as_of else date.today()
        chosen = LossBasis(basis) if basis else None
    except ValueError as exc:
        err.print(Text(str(exc), "red"))
        raise typer.Exit(2) from None
    store = open_store(database)
    try:
        source = StoreSource(store, store.files or DEMO)
        saved = save(assess(source, basis=chosen), store, label, day, cli_actor())
    except InputError as exc:
        import_failed(exc.problems)
        raise  # unreachable
    finally:
        store.close()
    out.print(
        f"Saved assessment {saved.id} '{saved.label}' ({saved.as_of}, inputs "
        f"{saved.inputs_hash[:12]})",
        highlight=False,
    )


@assessments_app.command("list")
@busy_refused
def assessments_list(database: DatabaseOpt = None) -> None:
    """Saved assessments, oldest first, with their key figures."""
    from riskapp.store.assessments import KEY_FIGURES

    store = open_store(database)
    try:
        saved = store.assessments()
    finally:
        store.close()
    if not saved:
        out.print("No saved assessments yet: `riskapp assessments save LABEL`.")
        return
    table = Table()
    for col in ("id", "label", "date", "by", "inputs"):
        table.add_column(col)
    for key in ("expected_annual_loss", "loss_1_in_100"):
        table.add_column(KEY_FIGURES[key], justify="right")
    for s in saved:
        table.add_row(
            str(s.id),
            Text(s.label),
            s.as_of.isoformat(),
            Text(s.created_by),
            s.inputs_hash[:12],
            NUMBERS.number(s.key_figures.get("expected_annual_loss", 0)),
            NUMBERS.number(s.key_figures.get("loss_1_in_100", 0)),
        )
    out.print(table)


@assessments_app.command("compare")
@busy_refused
def assessments_compare(
    before: Annotated[int, typer.Argument(help="Id of the earlier assessment.")],
    after: Annotated[int, typer.Argument(help="Id of the later assessment.")],
    by: Annotated[
        str, typer.Option(help="asset, country, factor, asset_type or scenario.")
    ] = "country",
    top: Annotated[int, typer.Option(help="Rows to show.")] = 10,
    database: DatabaseOpt = None,
) -> None:
    """What changed between two saved assessments, and which inputs explain it."""
    from riskapp.store.assessments import DIMENSIONS, compare

    if by not in DIMENSIONS:
        err.print(Text(f"--by is one of {', '.join(DIMENSIONS)}", "red"))
        raise typer.Exit(2)
    store = open_store(database)
    try:
        a, b = store.assessment(before), store.assessment(after)
    except KeyError as exc:
        err.print(Text(str(exc.args[0]), "red"))
        raise typer.Exit(1) from None
    finally:
        store.close()
    c = compare(a, b)
    out.rule(
        Text(f"{a.summary.label} ({a.summary.as_of}) -> {b.summary.label} ({b.summary.as_of})")
    )
    if c.same_inputs:
        out.print("Same inputs (identical hash).")
    figures = Table(title="Key figures")
    for col in ("figure", "before", "after", "change"):
        figures.add_column(col, justify="left" if col == "figure" else "right")
    for row in c.key_figures.itertuples(index=False):
        figures.add_row(
            str(row.figure),
            NUMBERS.number(row.before),
            NUMBERS.number(row.after),
            _signed(row.change),
        )
    out.print(figures)
    table = Table(title=f"Expected annual loss by {by} (largest changes first)")
    for col in (by, "before", "after", "change", "why"):
        table.add_column(col, justify="right" if col in {"before", "after", "change"} else "left")
    for row in c.by[by].head(top).itertuples(index=False):
        table.add_row(
            Text(str(row[0])),
            NUMBERS.number(row.before),
            NUMBERS.number(row.after),
            _signed(row.change),
            Text(str(row.why)),
        )
    out.print(table)
    if c.changes:
        out.print(f"Inputs that changed ({len(c.changes)}):")
        for change in c.changes[:50]:
            out.print(Text(f"  {change}"), highlight=False)
