"""`riskapp refresh` and `riskapp watch` (riskapp.assessment.refresh)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from riskapp.cli.common import DEMO, WorkspaceArg, fail, out
from riskapp.cli.store_common import DatabaseOpt, cli_actor, load_settings
from riskapp.io.errors import InputError


def _print(r: object) -> None:
    from riskapp.assessment.refresh import RefreshReport

    assert isinstance(r, RefreshReport)
    when = r.at.strftime("%Y-%m-%d %H:%M UTC")
    if not r.ran:
        out.print(f"{when}: another server is refreshing; nothing done here", highlight=False)
        return
    ok = [f.indicator for f in r.fetched if f.ok]
    out.print(
        f"{when}: fetched {len(ok)} indicator(s)"
        + (f", {len(r.failed)} failed" if r.failed else "")
        + (f"; {r.baseline}" if r.baseline else "")
        + f"; expected annual loss {r.eal_before:,.0f} -> {r.eal_after:,.0f}; "
        f"{r.alerts} new alert(s); kept as saved assessment {r.saved_id}",
        highlight=False,
        soft_wrap=True,
    )
    for f in r.failed:
        out.print(
            f"  [red]failed[/red] {escape(f.indicator)}: {escape(str(f.error))}", soft_wrap=True
        )
    if r.delivery is not None:
        for name, count, storm in r.delivery.sent:
            out.print(
                f"  sent {count} alert(s) to {escape(name)}" + (" (summary)" if storm else "")
            )
        for problem in r.delivery.failed:
            out.print(f"  [red]not sent[/red] {escape(problem)}", soft_wrap=True)


def refresh_command(workspace: WorkspaceArg = DEMO, database: DatabaseOpt = None) -> None:
    """Fetch the configured indicators, rebuild the baseline if set, rescore, raise and deliver
    alerts, and keep the assessment in the history (what changed: the History page)."""
    from riskapp.assessment.refresh import refresh

    try:
        report = refresh(Path(workspace), load_settings(database), cli_actor())
    except InputError as exc:
        fail(exc.problems)
    _print(report)
    if report.failed or (report.delivery is not None and report.delivery.failed):
        raise typer.Exit(1)


def watch_command(
    workspace: WorkspaceArg = DEMO,
    runs: Annotated[
        int | None, typer.Option(help="Stop after this many refreshes (default: run on).")
    ] = None,
    database: DatabaseOpt = None,
) -> None:
    """Refresh on the schedule of RISKAPP_REFRESH_SCHEDULE (cron, UTC); several servers on one
    database refresh once between them."""
    from riskapp.assessment.refresh import next_run, watch

    settings = load_settings(database)
    first = next_run(settings.refresh_schedule, datetime.now(UTC))
    out.print(f"Next refresh {first:%Y-%m-%d %H:%M} UTC ({settings.refresh_schedule})")
    try:
        watch(Path(workspace), settings, cli_actor(), runs, report=_print)
    except InputError as exc:
        fail(exc.problems)


def register(app: typer.Typer) -> None:
    app.command("refresh")(refresh_command)
    app.command("watch")(watch_command)
