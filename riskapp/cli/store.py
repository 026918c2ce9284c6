"""Team workspace commands: import, backup and restore, users, saved assessments, the audit
trail's check (`audit verify`) and the database's roles and schema (`db`).

Registered in riskapp/cli.py with `register(app)`. The database is the one the settings select
(RISKAPP_DATABASE_URL, or the SQLite file in RISKAPP_DATA_DIR); `--database` overrides it. The
command line acts as `system:cli-<login name>` in the audit trail: whoever can run it holds the
database credentials already.
"""

from __future__ import annotations

import functools
import getpass
import json
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, NoReturn, TypeVar

import typer
from rich.table import Table
from rich.text import Text

from riskapp.cli.common import DEMO, WorkspaceArg, err, fail, fail_message, out
from riskapp.format import NumberFormat
from riskapp.io.errors import InputError, Problem

if TYPE_CHECKING:
    from riskapp.settings import Settings
    from riskapp.store import Actor, ImportPreview, Store

# whole amounts of saved assessments, as every table of the product writes them
NUMBERS = NumberFormat()


def _signed(value: object) -> str:
    text = NUMBERS.number(value)
    return text if text.startswith("-") or text == "0" else "+" + text


DatabaseOpt = Annotated[
    str | None,
    typer.Option(
        "--database",
        help="SQLAlchemy URL of the database (default: RISKAPP_DATABASE_URL or the SQLite file "
        "in RISKAPP_DATA_DIR).",
        show_default=False,
    ),
]


def _open(database: str | None, seed: bool = True) -> Store:
    from riskapp.store import Store
    from riskapp.store.engine import SchemaNotCurrent

    settings = _settings(database)
    try:
        return Store.open(settings, seed=seed)
    except InputError as exc:  # the workspace files that would seed an empty database
        fail(exc.problems, "the database was not seeded: fix the workspace files first")
    except SchemaNotCurrent as exc:
        fail_message(str(exc), code=1)


def _settings(database: str | None) -> Settings:
    from pydantic import ValidationError

    from riskapp.settings import Settings

    try:
        return Settings() if database is None else Settings(database_url=database)
    except ValidationError as exc:
        for e in exc.errors():
            err.print(Text(f"settings [{'.'.join(map(str, e['loc']))}]: {e['msg']}", "red"))
        raise typer.Exit(2) from None


def _actor() -> Actor:
    from riskapp.store import Actor

    try:
        name = getpass.getuser()
    except (KeyError, OSError):
        name = "unknown"
    return Actor.system(f"cli-{name}")


def _import_failed(problems: list[Problem]) -> NoReturn:
    fail(problems, "nothing was imported")


def _refused(exc: Exception) -> None:
    err.print(Text(str(exc), style="red"), soft_wrap=True)
    raise typer.Exit(1)


Command = TypeVar("Command", bound=Callable[..., Any])


def busy_refused(command: Command) -> Command:
    """A command that gives up because another change held the database past the busy timeout
    says so in one line (nothing was written) and exits 1, without a traceback."""

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        from riskapp.store import StoreBusyError

        try:
            return command(*args, **kwargs)
        except StoreBusyError as exc:
            fail_message(str(exc), 1)

    return run  # type: ignore[return-value]


def _kind_of(path: Path) -> str:
    from riskapp.store.validation import Table as Rows

    if path.suffix.lower() in {".yaml", ".yml"}:
        return "plan-book"
    header = Rows.from_file(path).header
    return "assets" if "replacement_value" in header or "name" in header else "plans"


def _show_preview(preview: ImportPreview) -> None:
    s = preview.summary
    out.print(
        f"{preview.source}: {preview.rows} row(s); would add {len(s.added)}, change "
        f"{len(s.changed)}, remove {len(s.removed)}",
        highlight=False,
    )
    for asset_id, fields in list(s.changed.items())[:20]:
        out.print(f"  changed {asset_id}: {', '.join(fields)}", highlight=False)
    if s.removed:
        out.print(f"  removed: {', '.join(s.removed[:20])}", highlight=False)


def import_command(
    path: Annotated[Path, typer.Argument(help="assets or plan table (.csv/.xlsx), or plans.yaml.")],
    kind: Annotated[
        str,
        typer.Option(
            help="assets, plans (owner/status/review date table), plan-book (plans.yaml) "
            "or auto (by file type and header)."
        ),
    ] = "auto",
    mode: Annotated[
        str,
        typer.Option(help="replace: the file is the whole register; merge: add or update only."),
    ] = "replace",
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Preview problems and changes; write nothing.")
    ] = False,
    database: DatabaseOpt = None,
) -> None:
    """Import assets or plans into the team database, all or nothing.

    Every problem is listed with its row, column and reason; if there is any, nothing is
    written. Every change is recorded in the audit trail.
    """
    from riskapp.store import AccessDenied
    from riskapp.store.validation import Table as Rows
    from riskapp.store.validation import parse_plan_book

    if mode not in {"replace", "merge"}:
        err.print(Text("--mode is replace or merge", "red"))
        raise typer.Exit(2)
    if kind not in {"auto", "assets", "plans", "plan-book"}:
        err.print(Text("--kind is auto, assets, plans or plan-book", "red"))
        raise typer.Exit(2)
    chosen: Literal["replace", "merge"] = "merge" if mode == "merge" else "replace"
    store = _open(database)
    try:
        kind = _kind_of(path) if kind == "auto" else kind
        if kind == "plan-book":
            book = parse_plan_book(path)
            if dry_run:
                out.print(f"{path.name}: {len(book.plans)} plan(s), valid", highlight=False)
                return
            summary = store.import_plan_book(book, _actor(), path.name, chosen)
        else:
            table = Rows.from_file(path)
            preview = (
                store.preview_assets(table, chosen)
                if kind == "assets"
                else store.preview_plans(table)
            )
            if not preview.ok:
                _import_failed(preview.problems)
            _show_preview(preview)
            if dry_run:
                out.print("Dry run: nothing was written.")
                return
            summary = (
                store.import_assets(table, _actor(), chosen)
                if kind == "assets"
                else store.import_plan_table(table, _actor())
            )
    except InputError as exc:
        _import_failed(exc.problems)
        raise  # unreachable
    except AccessDenied as exc:
        _refused(exc)
        raise  # unreachable
    finally:
        store.close()
    out.print(f"[green]Imported[/green] {path.name}: {summary}", highlight=False)


def export_workspace(
    out_file: Annotated[Path, typer.Argument(help="Backup file (.json) to write; '-' for stdout.")],
    files: Annotated[
        Path | None,
        typer.Option(help="Also write assets.csv, plans.yaml and plan_status.csv to this folder."),
    ] = None,
    database: DatabaseOpt = None,
) -> None:
    """Back up everything in the database: register, plans, saved assessments, users (password
    hashes) and the whole audit trail."""
    from riskapp.store.exports import export_files

    store = _open(database)
    try:
        backup = store.export_workspace(_actor())
        written = export_files(store, files) if files is not None else []
    finally:
        store.close()
    text = json.dumps(backup, ensure_ascii=False, indent=1)
    if str(out_file) == "-":
        sys.stdout.write(text + "\n")
        return
    out_file.write_text(text, encoding="utf-8")
    counts = ", ".join(f"{k}: {len(v)}" for k, v in backup["tables"].items())
    out.print(f"Backup written to {out_file} ({counts})", highlight=False)
    out.print(f"Audit trail head: {backup['audit_head']}", highlight=False, soft_wrap=True)
    for path in written:
        out.print(f"Wrote {path}", highlight=False)


MAX_BACKUP_BYTES = 2_000_000_000


def import_workspace(
    backup_file: Annotated[Path, typer.Argument(help="Backup written by export-workspace.")],
    replace: Annotated[
        bool,
        typer.Option(
            "--replace",
            help="Overwrite a database that already holds data (its audit trail is kept: "
            "the restore is appended to it).",
        ),
    ] = False,
    database: DatabaseOpt = None,
) -> None:
    """Restore a backup, all or nothing."""
    try:
        if not backup_file.is_file():
            raise OSError("not a regular file")
        with backup_file.open("rb") as fh:
            raw = fh.read(MAX_BACKUP_BYTES + 1)
        if len(raw) > MAX_BACKUP_BYTES:
            raise ValueError(f"larger than {MAX_BACKUP_BYTES // 1_000_000} MB")
        backup = json.loads(raw.decode("utf-8"))
    except RecursionError:
        err.print(Text(f"{backup_file}: not a readable backup (nested too deep)", "red"))
        raise typer.Exit(1) from None
    except (OSError, ValueError) as exc:
        err.print(Text(f"{backup_file}: not a readable backup ({exc})", "red"), soft_wrap=True)
        raise typer.Exit(1) from None
    store = _open(database, seed=False)
    try:
        counts = store.import_workspace(backup, _actor(), replace=replace)
    except InputError as exc:
        _import_failed(exc.problems)
        raise  # unreachable
    finally:
        store.close()
    out.print("Restored " + ", ".join(f"{k}: {v}" for k, v in counts.items()), highlight=False)


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
    store = _open(database)
    try:
        user = store.add_user(username, password, chosen, _actor(), display_name=name)
    except InputError as exc:
        _import_failed(exc.problems)
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
    store = _open(database)
    try:
        store.remove_user(username, _actor())
    except KeyError as exc:
        _refused(Exception(exc.args[0]))
    except InputError as exc:
        _import_failed(exc.problems)
    finally:
        store.close()
    out.print(f"Removed {username}", highlight=False)


@users_app.command("list")
@busy_refused
def users_list(database: DatabaseOpt = None) -> None:
    """List users and their roles."""
    store = _open(database)
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
    store = _open(database)
    try:
        source = StoreSource(store, store.files or DEMO)
        saved = save(assess(source, basis=chosen), store, label, day, _actor())
    except InputError as exc:
        _import_failed(exc.problems)
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

    store = _open(database)
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
    store = _open(database)
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


def sync(
    workspace: WorkspaceArg = DEMO,
    to: Annotated[
        str | None,
        typer.Option(
            "--to",
            help="store: the files' register and plans replace the database's; files: the "
            "database's are written over the workspace's assets and plans files. Without "
            "--to: list what differs.",
        ),
    ] = None,
    check: Annotated[
        bool, typer.Option("--check", help="Exit 1 when the files and the database differ.")
    ] = False,
    database: DatabaseOpt = None,
) -> None:
    """Compare a workspace's files with its team database, or bring one in line with the
    other (the dashboard, `--source store` and reports from the store use the database)."""
    from riskapp.assessment import sync as syncing
    from riskapp.store import AccessDenied

    if to not in {None, "store", "files"}:
        fail_message("--to is store or files")
    store = _open(database)
    try:
        if to is None:
            status = syncing.status(workspace, store)
        else:
            result = (
                syncing.to_store(workspace, store, _actor())
                if to == "store"
                else syncing.to_files(workspace, store)
            )
            status = result.after
            if result.changed:
                out.print(
                    f"Brought in line ({result.before.summary()}); wrote "
                    + ", ".join(result.changed),
                    highlight=False,
                    soft_wrap=True,
                )
    except InputError as exc:
        fail(exc.problems)
    except AccessDenied as exc:
        _refused(exc)
        raise  # unreachable
    except ValueError as exc:
        fail_message(str(exc), code=1)
    finally:
        store.close()
    out.print(f"files:    {status.files_revision}", highlight=False)
    out.print(f"database: {status.store_revision}", highlight=False)
    out.print(Text(status.summary().capitalize() + "."), soft_wrap=True)
    for d in status.differences:
        out.print(Text(f"  {d}"), soft_wrap=True)
    if check and not status.in_sync:
        raise typer.Exit(1)


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
    store = _open(database, seed=False)
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
    settings = _settings(database)
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


def register(app: typer.Typer) -> None:
    """Add the team workspace commands to the riskapp command line."""
    app.command("sync")(busy_refused(sync))
    app.command("import")(busy_refused(import_command))
    app.command("export-workspace")(busy_refused(export_workspace))
    app.command("import-workspace")(busy_refused(import_workspace))
    app.add_typer(users_app, name="users")
    app.add_typer(assessments_app, name="assessments")
    app.add_typer(audit_app, name="audit")
    app.add_typer(db_app, name="db")
