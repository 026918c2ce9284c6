"""`riskapp scenarios`: list a workspace's scenarios, create, duplicate, retire and restore them
(riskapp.store.scenario_authoring: the checks, conflict refusal and audit of the dashboard)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from riskapp.cli.common import WORKSPACE_HELP, bundled_demo, fail, fail_message, out
from riskapp.cli.store_common import DatabaseOpt, busy_refused, cli_actor, load_settings, refused
from riskapp.io.errors import InputError

if TYPE_CHECKING:
    from riskapp.store import Store
    from riskapp.store.scenario_authoring import ScenarioFile

scenarios_app = typer.Typer(
    rich_markup_mode="markdown",
    help="A workspace's scenarios: list them, create, duplicate, retire and restore them (each "
    "change checked against the whole workspace and recorded in the audit trail).",
    no_args_is_help=True,
)

Workspace = Annotated[Path, typer.Argument(help=WORKSPACE_HELP, callback=bundled_demo)]
ScenarioId = Annotated[str, typer.Argument(help="The scenario's id (its file name).")]
NoteOpt = Annotated[str, typer.Option("--note", help="Note for the audit trail.")]


def _store(workspace: Path, database: str | None) -> Store:
    from riskapp.assessment.sources import StoreSource

    try:
        return StoreSource.open(workspace, load_settings(database)).store
    except InputError as exc:
        fail(exc.problems)


def _find(store: Store, scenario_id: str, retired: bool) -> ScenarioFile:
    from riskapp.store.scenario_authoring import list_scenarios
    from riskapp.store.workspace import load_files

    assert store.files is not None
    try:
        listed = list_scenarios(load_files(store.files))
    except InputError as exc:
        store.close()
        fail(exc.problems)
    for f in listed:
        if f.id == scenario_id and f.retired == retired:
            return f
    store.close()
    state = "retired" if retired else "active"
    known = ", ".join(f.id for f in listed if f.retired == retired) or "none"
    fail_message(f"no {state} scenario {scenario_id!r}; {state} ones: {known}", 1)


def _run(store: Store, action: Any) -> Any:
    from riskapp.store import AccessDenied, ConflictError

    try:
        return action()
    except InputError as exc:
        fail(exc.problems, "nothing was written")
    except AccessDenied as exc:
        refused(exc)
    except ConflictError as exc:
        fail_message("; ".join(str(c) for c in exc.conflicts) + ". Nothing was written.", 1)
    finally:
        store.close()


@scenarios_app.command("list")
def list_command(workspace: Workspace, database: DatabaseOpt = None) -> None:
    """The scenario files, active ones first, then the retired ones."""
    from riskapp.store.scenario_authoring import list_scenarios
    from riskapp.store.workspace import load_files

    try:
        listed = list_scenarios(load_files(workspace))
    except InputError as exc:
        fail(exc.problems)
    table = Table("Id", "Title", "Status", "File")
    for f in listed:
        title = escape(f.title) if f.title is not None else "[red](does not load)[/red]"
        status = "retired" if f.retired else "active"
        table.add_row(escape(f.id), title, status, escape(str(f.path)))
    out.print(table)


@scenarios_app.command("new")
@busy_refused
def new_command(
    workspace: Workspace,
    name: Annotated[str, typer.Argument(help="The scenario's name (its title).")],
    frequency: Annotated[
        float, typer.Option(help="Annual probability (0-1), e.g. 0.05 for 5 %.")
    ] = 0.05,
    warning_days: Annotated[float, typer.Option(help="Days of warning before it hits.")] = 0.0,
    narrative: Annotated[str, typer.Option(help="What happens, in words.")] = "",
    note: NoteOpt = "",
    database: DatabaseOpt = None,
) -> None:
    """Create a scenario without shocks or signposts (add them in the dashboard's scenario
    editor or the file); its id comes from the name."""
    from riskapp.store.scenario_authoring import create_scenario

    store = _store(workspace, database)
    made = _run(
        store,
        lambda: create_scenario(
            store,
            cli_actor(),
            name,
            frequency=frequency,
            warning_time_days=warning_days,
            narrative=narrative,
            note=note,
        ),
    )
    out.print(f"Created scenario {escape(made.id)} ({escape(made.title)})", highlight=False)


@scenarios_app.command("duplicate")
@busy_refused
def duplicate_command(
    workspace: Workspace,
    scenario_id: ScenarioId,
    name: Annotated[
        str | None, typer.Option(help="The copy's name (default: 'Copy of <title>').")
    ] = None,
    note: NoteOpt = "",
    database: DatabaseOpt = None,
) -> None:
    """Copy a scenario (shocks, signposts, probability, escalation step) under a new id."""
    from riskapp.store.scenario_authoring import duplicate_scenario

    store = _store(workspace, database)
    found = _find(store, scenario_id, retired=False)
    made = _run(
        store,
        lambda: duplicate_scenario(
            store, cli_actor(), found.path, expected_version=found.version, name=name, note=note
        ),
    )
    out.print(f"Created scenario {escape(made.id)} ({escape(made.title)})", highlight=False)


@scenarios_app.command("retire")
@busy_refused
def retire_command(
    workspace: Workspace, scenario_id: ScenarioId, note: NoteOpt = "", database: DatabaseOpt = None
) -> None:
    """Retire a scenario: its file moves, unchanged, to the scenario folder's `retired`
    folder and assessments leave it out (`riskapp scenarios restore` brings it back)."""
    from riskapp.store.scenario_authoring import retire_scenario

    store = _store(workspace, database)
    found = _find(store, scenario_id, retired=False)
    moved = _run(
        store,
        lambda: retire_scenario(
            store, cli_actor(), found.path, expected_version=found.version, note=note
        ),
    )
    out.print(f"Retired {escape(scenario_id)}: {escape(str(moved))}", highlight=False)


@scenarios_app.command("restore")
@busy_refused
def restore_command(
    workspace: Workspace, scenario_id: ScenarioId, note: NoteOpt = "", database: DatabaseOpt = None
) -> None:
    """Bring a retired scenario back into the assessments."""
    from riskapp.store.scenario_authoring import restore_scenario

    store = _store(workspace, database)
    found = _find(store, scenario_id, retired=True)
    moved = _run(
        store,
        lambda: restore_scenario(
            store, cli_actor(), found.path, expected_version=found.version, note=note
        ),
    )
    out.print(f"Restored {escape(scenario_id)}: {escape(str(moved))}", highlight=False)


def register(app: typer.Typer) -> None:
    app.add_typer(scenarios_app, name="scenarios")
