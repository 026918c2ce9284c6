"""`riskapp indicators`: the indicator series in the team database (riskapp.store.indicators)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from riskapp.cli.common import WORKSPACE_HELP, bundled_demo, err, fail, fail_message, out
from riskapp.cli.store_common import DatabaseOpt, cli_actor, load_settings, open_store, refused
from riskapp.io.errors import InputError

indicators_app = typer.Typer(
    rich_markup_mode="markdown",
    help="Indicator series in the team database: import a file, fetch them from their "
    "publishers, list them, show one with its revisions.",
    no_args_is_help=True,
)


@indicators_app.command("import")
def import_command(
    file: Annotated[
        Path,
        typer.Argument(
            help="Observations (.csv, .xlsx: one per row; or .json).", exists=True, dir_okay=False
        ),
    ],
    database: DatabaseOpt = None,
) -> None:
    """Import observations: new periods are added, changed values are added as revisions (the
    values they revise are kept), all or nothing, recorded in the audit trail."""
    from riskapp.io.indicators import read_series
    from riskapp.store import AccessDenied

    try:
        series = read_series(file)
    except InputError as exc:
        fail(exc.problems, "nothing was imported")
    store = open_store(database)
    try:
        done = store.import_series(series, cli_actor(), f"file {file.name}")
    except AccessDenied as exc:
        refused(exc)
    finally:
        store.close()
    out.print(f"[green]Imported[/green] {escape(file.name)}: {done}", highlight=False)


@indicators_app.command("fetch")
def fetch_command(
    ids: Annotated[
        list[str] | None,
        typer.Argument(help="Indicator ids to fetch (default: every configured indicator)."),
    ] = None,
    workspace: Annotated[
        Path,
        typer.Option(
            "--workspace",
            "-w",
            help=f"{WORKSPACE_HELP} Its indicators.yaml says what is fetched from where.",
            callback=bundled_demo,
        ),
    ] = Path("."),
    database: DatabaseOpt = None,
) -> None:
    """Fetch the indicators configured in the workspace's indicators.yaml from their publishers
    (World Bank, Eurostat, GPR, UCDP, any CSV/JSON over HTTP) and store them like an import.
    Each indicator is all or nothing: one that fails (named with its URL and the problem)
    stores nothing and the others are stored. Exit code 1 if any failed."""
    from riskapp.assessment.feeds import configured_feeds, fetch_indicators
    from riskapp.store import AccessDenied

    try:
        feeds = configured_feeds(workspace, ids or [])
    except InputError as exc:
        fail(exc.problems, "nothing was fetched")
    settings = load_settings(database)
    store = open_store(database)
    try:
        outcomes = fetch_indicators(store, feeds, settings, cli_actor())
    except AccessDenied as exc:
        refused(exc)
    finally:
        store.close()
    for o in outcomes:
        if o.imported is not None:
            out.print(
                f"[green]Fetched[/green] {o.indicator} ({o.connector}): {o.imported}",
                highlight=False,
                soft_wrap=True,
            )
        else:
            err.print(Text(f"Failed {o.error}; nothing of it was stored", "red"), soft_wrap=True)
    failed = [o.indicator for o in outcomes if not o.ok]
    if failed:
        err.print(
            Text(f"{len(failed)} of {len(outcomes)} failed: {', '.join(failed)}", "red"),
            soft_wrap=True,
        )
        raise typer.Exit(1)


@indicators_app.command("list")
def list_command(database: DatabaseOpt = None) -> None:
    """Every indicator with its latest value and when it was stored."""
    store = open_store(database)
    try:
        infos = store.indicators()
    finally:
        store.close()
    table = Table("Indicator", "Name", "Latest", "Value", "Unit", "Periods", "Stored (UTC)")
    for col in (0, 2, 3, 6):
        table.columns[col].no_wrap = True
    for i in infos:
        ind = i.indicator
        table.add_row(
            ind.id,
            escape(ind.name),
            i.latest_period or "",
            "" if i.latest_value is None else f"{i.latest_value:,.6g}",
            escape(ind.unit),
            f"{i.observations} ({ind.frequency.value})",
            i.fetched_at.strftime("%Y-%m-%d %H:%M") if i.fetched_at else "",
        )
    out.print(table)


@indicators_app.command("show")
def show_command(
    indicator: Annotated[str, typer.Argument(help="Indicator id.")],
    vintages: Annotated[
        bool, typer.Option("--vintages", help="Every revision, not only the latest value.")
    ] = False,
    database: DatabaseOpt = None,
) -> None:
    """An indicator's values by period (with --vintages, each revision and when it came)."""
    store = open_store(database)
    try:
        frame = store.observations(indicator, vintages)
    except KeyError as exc:
        fail_message(str(exc.args[0]), 1)
    finally:
        store.close()
    table = Table("Period", "Value", "Vintage", "Published", "Stored (UTC)", "Source")
    for r in frame.to_dict("records"):
        published = r["published_at"]
        table.add_row(
            str(r["period"]),
            f"{float(r['value']):,.6g}",
            str(r["vintage"]),
            "" if pd.isna(published) else str(published)[:16],
            str(r["fetched_at"])[:16],
            escape(str(r["source"])),
        )
    out.print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(indicators_app, name="indicators")
