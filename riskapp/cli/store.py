"""Team workspace commands: import, backup and restore, and sync between a workspace's files
and its database. Users and saved assessments are in riskapp/cli/team.py, the audit trail's check
(`audit verify`) and the database's roles and schema (`db`) in riskapp/cli/admin.py; the pieces
they share in riskapp/cli/store_common.py.

Registered on the command line by `register(app)`, which adds all of them (riskapp/cli/main.py
lists them and imports this module when one of them runs). The database is
the one the settings select (RISKAPP_DATABASE_URL, or the SQLite file in RISKAPP_DATA_DIR);
`--database` overrides it. The command line acts as `system:cli-<login name>` in the audit trail:
whoever can run it holds the database credentials already.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer
from rich.text import Text

from riskapp.cli.admin import audit_app, db_app
from riskapp.cli.common import DEMO, WorkspaceArg, err, fail, fail_message, out
from riskapp.cli.store_common import (
    DatabaseOpt,
    busy_refused,
    cli_actor,
    import_failed,
    open_store,
    refused,
)
from riskapp.cli.team import assessments_app, users_app
from riskapp.io.errors import InputError

if TYPE_CHECKING:
    from riskapp.store import ImportPreview


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
    for note in preview.notes:
        out.print(Text(f"  note: {note}"), soft_wrap=True)
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
    mapping: Annotated[
        Path | None,
        typer.Option(
            help="Register mapping (YAML, from `riskapp mapping suggest`): the file's columns, "
            "units and type names read as the register's (assets only)."
        ),
    ] = None,
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
    store = open_store(database)
    try:
        kind = _kind_of(path) if kind == "auto" else kind
        if kind == "plan-book":
            book = parse_plan_book(path)
            if dry_run:
                out.print(f"{path.name}: {len(book.plans)} plan(s), valid", highlight=False)
                return
            summary = store.import_plan_book(book, cli_actor(), path.name, chosen)
        else:
            table = Rows.from_file(path)
            if mapping is not None:
                table = _mapped(table, mapping)
                kind = "assets"
            preview = (
                store.preview_assets(table, chosen)
                if kind == "assets"
                else store.preview_plans(table)
            )
            if not preview.ok:
                import_failed(preview.problems)
            _show_preview(preview)
            if dry_run:
                out.print("Dry run: nothing was written.")
                return
            summary = (
                store.import_assets(table, cli_actor(), chosen)
                if kind == "assets"
                else store.import_plan_table(table, cli_actor())
            )
    except InputError as exc:
        import_failed(exc.problems)
        raise  # unreachable
    except AccessDenied as exc:
        refused(exc)
        raise  # unreachable
    finally:
        store.close()
    out.print(f"[green]Imported[/green] {path.name}: {summary}", highlight=False)


def _mapped(table: Any, mapping: Path) -> Any:
    """The table read through a register mapping (riskapp.io.mapping)."""
    from riskapp.io.mapping import apply_mapping, load_mapping

    header, rows = apply_mapping(
        table.name, table.header, table.rows, load_mapping(mapping), str(mapping)
    )
    return type(table)(table.name, header, rows)


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
    from riskapp.store.backup import backup_text, write_backup
    from riskapp.store.exports import export_files

    store = open_store(database)
    try:
        backup = store.export_workspace(cli_actor())
        written = export_files(store, files) if files is not None else []
    finally:
        store.close()
    if str(out_file) == "-":
        sys.stdout.writelines(backup_text(backup))
        return
    try:
        write_backup(backup, out_file)
    except OSError as exc:
        fail_message(f"{out_file}: the backup could not be written ({exc.strerror or exc})", 1)
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
    store = open_store(database, seed=False)
    try:
        counts = store.import_workspace(backup, cli_actor(), replace=replace)
    except InputError as exc:
        import_failed(exc.problems)
        raise  # unreachable
    finally:
        store.close()
    out.print("Restored " + ", ".join(f"{k}: {v}" for k, v in counts.items()), highlight=False)


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
    store = open_store(database)
    try:
        if to is None:
            status = syncing.status(workspace, store)
        else:
            result = (
                syncing.to_store(workspace, store, cli_actor())
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
        refused(exc)
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
