"""`riskapp fx`: a workspace's dated exchange rates (riskapp.io.fx)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from riskapp.cli.common import DEMO, WORKSPACE_HELP, bundled_demo, err, fail, fail_message, out
from riskapp.io.errors import InputError

fx_app = typer.Typer(
    rich_markup_mode="markdown",
    help="Exchange rates: import the ECB's reference rates into a workspace's dated rates "
    "file (fx.csv); show the rates an assessment uses, with their date and source.",
    no_args_is_help=True,
)

WorkspaceOpt = Annotated[
    Path, typer.Argument(help=WORKSPACE_HELP, callback=bundled_demo, show_default=True)
]


@fx_app.command("import")
def fx_import(
    file: Annotated[
        Path,
        typer.Argument(
            help="The ECB's euro foreign exchange reference rates: the day's "
            "(eurofxref.csv) or the history (eurofxref-hist.csv), or either zipped.",
            exists=True,
            dir_okay=False,
        ),
    ],
    workspace: WorkspaceOpt = Path("."),
    since: Annotated[
        str | None,
        typer.Option(
            help="Import every date from this one on (YYYY-MM-DD); default: only "
            "the file's latest date."
        ),
    ] = None,
    currency: Annotated[
        list[str] | None,
        typer.Option("--currency", "-c", help="Currency to import (repeatable; default all)."),
    ] = None,
) -> None:
    """Import the ECB's reference rates into the workspace's rates file (fx.csv), converted
    to the workspace currency. Rates of other dates already in the file are kept; the file is
    written whole or not at all."""
    from riskapp.io.fx import import_ecb

    if workspace.resolve().is_relative_to(DEMO.resolve()):
        fail_message("the bundled demo is read-only: copy its folder and import into the copy")
    first = None
    if since is not None:
        try:
            first = date.fromisoformat(since)
        except ValueError:
            fail_message(f"--since: expected a date such as 2026-01-31; got {since!r}")
    try:
        done = import_ecb(workspace, file, first, {c.upper() for c in currency or []} or None)
    except InputError as exc:
        fail(exc.problems, "the rates file was not changed")
    span = done.first.isoformat()
    if done.last != done.first:
        span += f" to {done.last.isoformat()}"
    out.print(
        f"{done.path}: {done.added} rate(s) added, {done.changed} changed, "
        f"{len(done.currencies)} currencies, {span}",
        highlight=False,
        soft_wrap=True,
    )


@fx_app.command("show")
def fx_show(workspace: WorkspaceOpt = Path(".")) -> None:
    """The exchange rates an assessment of the workspace uses: each currency's rate in the
    workspace currency, its date and the source."""
    from riskapp.io.workspace import load_manifest, manifest_path, workspace_settings

    try:
        mpath = manifest_path(workspace)
        manifest, _ = load_manifest(mpath)
        s = workspace_settings(manifest, mpath)
    except InputError as exc:
        fail(exc.problems)
    out.print(f"Exchange rates: {s.fx_provenance()}", highlight=False, soft_wrap=True)
    table = Table()
    table.add_column("Currency")
    table.add_column(f"{s.currency} per unit", justify="right")
    table.add_column("Date")
    for code, rate in sorted(s.fx_rates.items()):
        day = s.fx_rate_dates.get(code) or s.fx_date
        table.add_row(code, f"{rate:.6g}", day.isoformat() if day else "undated")
    if not s.fx_rates:
        err.print(f"no exchange rates: every asset is in {s.currency}")
    out.print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(fx_app, name="fx")
