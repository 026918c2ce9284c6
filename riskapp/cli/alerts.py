"""`riskapp alerts`: raise the alerts of what changed, list them, work them
(riskapp.assessment.alerts, riskapp.store.alerts)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from riskapp.cli.common import DEMO, WORKSPACE_HELP, bundled_demo, fail, out
from riskapp.cli.store_common import DatabaseOpt, cli_actor, refused, store_session
from riskapp.io.errors import InputError

alerts_app = typer.Typer(
    rich_markup_mode="markdown",
    help="Alerts: raise those of what changed (signposts, plan triggers, overdue reviews, "
    "probabilities, stale data), list them, acknowledge, assign, comment.",
    no_args_is_help=True,
)
STYLE = {"critical": "bold red", "warning": "yellow", "info": "dim"}


def _table(alerts: list[object]) -> Table:
    table = Table("Id", "Severity", "Alert", "Status", "Assignee", "Raised (UTC)")
    for col in (0, 1, 3, 5):
        table.columns[col].no_wrap = True
    for a in alerts:
        table.add_row(
            str(a.id),  # type: ignore[attr-defined]
            f"[{STYLE[a.severity.value]}]{a.severity.value}[/]",  # type: ignore[attr-defined]
            escape(a.title),  # type: ignore[attr-defined]
            a.status,  # type: ignore[attr-defined]
            escape(a.assignee),  # type: ignore[attr-defined]
            a.raised_at.strftime("%Y-%m-%d %H:%M"),  # type: ignore[attr-defined]
        )
    return table


@alerts_app.command("check")
def check_command(
    workspace: Annotated[Path, typer.Argument(help=WORKSPACE_HELP, callback=bundled_demo)] = DEMO,
    database: DatabaseOpt = None,
) -> None:
    """Raise an alert for every event not alerted before: a signpost amber or red, a plan
    triggered by a signpost or probability, a plan review overdue, a probability moved, an
    indicator gone stale. Running it again raises nothing twice."""
    from riskapp.assessment import assess
    from riskapp.assessment.alerts import check
    from riskapp.assessment.sources import StoreSource
    from riskapp.cli.store_common import load_settings
    from riskapp.store import AccessDenied

    try:
        source = StoreSource.open(workspace, load_settings(database))
    except InputError as exc:
        fail(exc.problems)
    store = source.store
    try:
        a = assess(source)
        raised = check(a, store, cli_actor())
    except InputError as exc:
        fail(exc.problems)
    except AccessDenied as exc:
        refused(exc)
    finally:
        store.close()
    out.print(f"{len(raised)} new alert(s)", highlight=False)
    if raised:
        out.print(_table(list(raised)))


@alerts_app.command("deliver")
def deliver_command(database: DatabaseOpt = None) -> None:
    """Send the alerts each subscriber wants and has not had (RISKAPP_ALERT_SUBSCRIPTIONS:
    e-mail through RISKAPP_SMTP_HOST, webhooks as JSON signed with RISKAPP_WEBHOOK_SECRET, or
    Slack or Teams messages); none twice, a storm as one summary. Exit 1 if any send failed
    (it is tried again next run)."""
    from riskapp.assessment.alerts import deliver
    from riskapp.cli.store_common import load_settings

    settings = load_settings(database)
    with store_session(database) as store:
        done = deliver(store, settings)
    for name, count, storm in done.sent:
        how = " as one summary" if storm else ""
        out.print(f"{escape(name)}: {count} alert(s) sent{how}", highlight=False)
    for problem in done.failed:
        out.print(f"[red]not sent:[/red] {escape(problem)}", highlight=False, soft_wrap=True)
    if not done.sent and not done.failed:
        out.print("Nothing to send.")
    if done.failed:
        raise typer.Exit(1)


@alerts_app.command("subscribe")
def subscribe_command(
    email: Annotated[str, typer.Argument(help="Where your alerts go.")],
    kind: Annotated[
        list[str] | None,
        typer.Option("--kind", "-k", help="Alert kind to receive (repeatable; default all)."),
    ] = None,
    min_severity: Annotated[
        str, typer.Option(help="The lowest severity to receive: info, warning or critical.")
    ] = "info",
    database: DatabaseOpt = None,
) -> None:
    """Choose the alerts that reach you by e-mail (replaces your earlier choice)."""
    with store_session(database) as store:
        store.subscribe(cli_actor(), email, kind or [], min_severity)
    out.print(f"Subscribed {escape(email)}", highlight=False)


@alerts_app.command("unsubscribe")
def unsubscribe_command(database: DatabaseOpt = None) -> None:
    """Stop your alert e-mail."""
    with store_session(database) as store:
        store.unsubscribe(cli_actor())
    out.print("Unsubscribed")


@alerts_app.command("list")
def list_command(
    all_: Annotated[bool, typer.Option("--all", help="Acknowledged ones too.")] = False,
    database: DatabaseOpt = None,
) -> None:
    """Open alerts, newest first (with --all every alert)."""
    with store_session(database) as store:
        alerts = store.alerts(None if all_ else "open")
    out.print(_table(list(alerts)))


def _work(action: str, alert_id: int, value: str, database: str | None) -> None:
    with store_session(database) as store:
        if action == "ack":
            store.acknowledge_alert(alert_id, cli_actor())
        elif action == "assign":
            store.assign_alert(alert_id, value, cli_actor())
        else:
            store.comment_alert(alert_id, value, cli_actor())
    out.print(f"alert {alert_id}: {action} recorded in the audit trail", highlight=False)


@alerts_app.command("ack")
def ack_command(alert_id: int, database: DatabaseOpt = None) -> None:
    """Acknowledge an alert."""
    _work("ack", alert_id, "", database)


@alerts_app.command("assign")
def assign_command(alert_id: int, assignee: str, database: DatabaseOpt = None) -> None:
    """Assign an alert to someone."""
    _work("assign", alert_id, assignee, database)


@alerts_app.command("comment")
def comment_command(alert_id: int, text: str, database: DatabaseOpt = None) -> None:
    """Comment on an alert."""
    _work("comment", alert_id, text, database)


def register(app: typer.Typer) -> None:
    app.add_typer(alerts_app, name="alerts")
