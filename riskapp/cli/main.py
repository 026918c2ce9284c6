"""The riskapp command line: every action of the product, scriptable.

`riskapp --help` lists the commands from `COMMANDS` (name, the module that registers it, the
first paragraph of its help) without importing their modules or building their parameters
from the functions' signatures: that is most of what `--help` would otherwise cost over
importing Typer and rich. A command's module is imported and only that command built when it
runs or shows its own help. tests/test_startup.py holds the table equal to what the
modules register (names, order and help), and the listing equal to an eagerly built one.
"""

from __future__ import annotations

import gc
import importlib
from typing import TYPE_CHECKING, Any

import typer
import typer.main
from typer.core import TyperCommand, TyperGroup

from riskapp import collector

if TYPE_CHECKING:
    from collections.abc import Callable

# name: (module whose `register(app)` adds the command, the first paragraph of its help), in
# the order the help lists them
COMMANDS: dict[str, tuple[str, str]] = {
    "init": (
        "riskapp.cli.setup",
        "Create a workspace: factors, regions, curves, a baseline from public data, a "
        "status-quo scenario and an empty register (or a copy of the demo).",
    ),
    "validate": (
        "riskapp.cli.assess",
        "Check scenario, plan, curve, factor, region, baseline, asset and dependency files.",
    ),
    "score": (
        "riskapp.cli.assess",
        "Score every asset under each scenario and print a summary.",
    ),
    "plans": (
        "riskapp.cli.assess",
        "Contingency plans: triggers, readiness, residual loss, cost and benefit-cost ratio.",
    ),
    "simulate": (
        "riskapp.cli.simulate",
        "Monte Carlo: annual loss distribution (mean, VaR, expected shortfall, exceedance curve "
        "with confidence band), tail contributions, residual loss and benefit-cost ratios.",
    ),
    "report": (
        "riskapp.cli.report",
        "Write a consultant report: executive summary, map, scenarios, heat map, top assets, "
        "plans with triggers, readiness gaps, cost and benefit, methodology and data sources.",
    ),
    "serve": (
        "riskapp.cli.serve",
        "Start the dashboard on a workspace (http://127.0.0.1:8501 by default: this machine only).",
    ),
    "schema": (
        "riskapp.cli.assess",
        "Write the JSON Schema of every file type (for editors to validate scenario files).",
    ),
    "methodology": (
        "riskapp.cli.assess",
        "Print how every figure is computed, in plain words with worked examples (Markdown).",
    ),
    "baseline": ("riskapp.cli.baseline", "Baseline intensities from public data."),
    "sync": (
        "riskapp.cli.store",
        "Compare a workspace's files with its team database, or bring one in line with the "
        "other (the dashboard, `--source store` and reports from the store use the database).",
    ),
    "import": (
        "riskapp.cli.store",
        "Import assets or plans into the team database, all or nothing.",
    ),
    "export-workspace": (
        "riskapp.cli.store",
        "Back up everything in the database: register, plans, saved assessments, users "
        "(password hashes) and the whole audit trail.",
    ),
    "import-workspace": ("riskapp.cli.store", "Restore a backup, all or nothing."),
    "users": ("riskapp.cli.store", "Local accounts and roles (viewer, analyst, admin)."),
    "assessments": ("riskapp.cli.store", "Saved assessments: save, list, compare."),
    "audit": ("riskapp.cli.store", "The audit trail: hash-chained and append-only."),
    "curves": (
        "riskapp.cli.curves",
        "The curve library: default vulnerability curves for common asset types, each with "
        "its rationale and sources; add a type's curves to a workspace.",
    ),
    "mapping": (
        "riskapp.cli.mapping",
        "Map a client's asset spreadsheet onto the register: suggest a mapping from its "
        "header, apply a saved one.",
    ),
    "refresh": (
        "riskapp.cli.refresh",
        "Fetch the configured indicators, rebuild the baseline if set, rescore, raise and "
        "deliver alerts, and keep the assessment in the history (what changed: the History "
        "page).",
    ),
    "watch": (
        "riskapp.cli.refresh",
        "Refresh on the schedule of RISKAPP_REFRESH_SCHEDULE (cron, UTC); several servers on "
        "one database refresh once between them.",
    ),
    "alerts": (
        "riskapp.cli.alerts",
        "Alerts: raise those of what changed (signposts, plan triggers, overdue reviews, "
        "probabilities, stale data), list them, acknowledge, assign, comment.",
    ),
    "signposts": (
        "riskapp.cli.signposts",
        "Every scenario's signposts: the latest value of the indicator each watches, against "
        "its threshold, its state (green, amber, red) and since when.",
    ),
    "scenarios": (
        "riskapp.cli.scenarios",
        "A workspace's scenarios: list them, create, duplicate, retire and restore them (each "
        "change checked against the whole workspace and recorded in the audit trail).",
    ),
    "indicators": (
        "riskapp.cli.indicators",
        "Indicator series in the team database: import a file, fetch them from their "
        "publishers, list them, show one with its revisions.",
    ),
    "fx": (
        "riskapp.cli.fx",
        "Exchange rates: import the ECB's reference rates into a workspace's dated rates file "
        "(fx.csv); show the rates an assessment uses, with their date and source.",
    ),
    "workspaces": (
        "riskapp.cli.workspaces",
        "The workspaces of this server, one per client: list, create (from files or a "
        "template), grant and revoke roles, retire, report branding.",
    ),
    "db": (
        "riskapp.cli.store",
        "The database: schema migrations and the application's role (PostgreSQL).",
    ),
}

HELP = "riskapp: geopolitical risk assessment of a company's assets."


def new_app(**settings: Any) -> typer.Typer:
    """A Typer app with the command line's settings (its commands' help is Markdown)."""
    return typer.Typer(
        rich_markup_mode="markdown",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        add_completion=False,
        **settings,
    )


def register_all(app: typer.Typer) -> None:
    """Register every command of `COMMANDS` on `app`, built as Typer builds any app (what the
    lazy command line builds one command at a time)."""
    for module in dict.fromkeys(module for module, _ in COMMANDS.values()):
        importlib.import_module(module).register(app)


def build_command(name: str) -> TyperCommand | TyperGroup:
    """The command (or group) `name` as its module registers it, built alone."""
    app = new_app()
    register: Callable[[typer.Typer], None] = importlib.import_module(COMMANDS[name][0]).register
    register(app)
    app.registered_commands = [c for c in app.registered_commands if c.name == name]
    app.registered_groups = [g for g in app.registered_groups if g.name == name]
    built = typer.main.get_group(app).commands[name]
    assert isinstance(built, TyperCommand | TyperGroup)
    return built


class LazyGroup(TyperGroup):
    """The top-level group: lists `COMMANDS` as stand-ins carrying their one-line help and
    builds a command (`build_command`) the first time it is looked up to run or to show its
    own help."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self._unbuilt = set(COMMANDS) - set(self.commands)
        for name, (_, short_help) in COMMANDS.items():
            if name in self._unbuilt:
                self.commands[name] = TyperCommand(name, help=short_help)
        self._listing = False

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name in self._unbuilt and not self._listing:
            self.commands[cmd_name] = build_command(cmd_name)
            self._unbuilt.discard(cmd_name)
        return self.commands.get(cmd_name)

    def format_help(self, ctx: Any, formatter: Any) -> None:
        self._listing = True  # the listing needs each command's name and help only
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False


app = new_app(cls=LazyGroup, help=HELP)


@app.callback()
def root_options(
    ctx: typer.Context,
    workspace_id: str | None = typer.Option(
        None,
        "--workspace-id",
        "-W",
        help="The workspace of the team database the store commands open (default: "
        "RISKAPP_WORKSPACE_ID, or 'default'); `riskapp workspaces list` lists them.",
        show_default=False,
    ),
    user: str | None = typer.Option(
        None,
        "--as",
        help="Act as this account (RISKAPP_USER): refused in a workspace it holds no role in.",
        show_default=False,
    ),
) -> None:
    # a group needs a callback or a registered command for Typer to build it; the commands
    # come from LazyGroup. The options reach every command's settings through the environment
    # (RISKAPP_WORKSPACE_ID, RISKAPP_USER), put back as they were when the command ends
    import os

    if ctx.invoked_subcommand not in IMPORTS_IN_BODY:
        imports_done()
    given = {"RISKAPP_WORKSPACE_ID": workspace_id, "RISKAPP_USER": user}
    before = {k: os.environ.get(k) for k, v in given.items() if v is not None}
    for key in before:
        os.environ[key] = str(given[key])

    def restore() -> None:
        for key, value in before.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value

    ctx.call_on_close(restore)


_ONE_COMMAND = [False]  # set by `main`
# Commands that import their modules inside their own body and then call `imports_done`; any
# other command is collected from the moment it is invoked (`root_options`).
IMPORTS_IN_BODY = frozenset({"validate", "score", "report"})


def one_command_process() -> bool:
    """True in the `riskapp` command's own process (`main`), which runs one command and exits:
    only there may a command freeze the heap (`freeze_parsed_registers`). The app run inside
    another process (tests through Typer's runner, a notebook) leaves that process's heap as
    it is."""
    return _ONE_COMMAND[0]


def imports_done() -> None:
    """In the `riskapp` command's own process: its start-up, which `main` runs without the
    cyclic collector, is over (`riskapp.collector.start_done`: what the imports of typer,
    pandas, pydantic's models and the command's own modules made is frozen, the collector on
    for the command's work). Elsewhere (tests through Typer's runner, a notebook) nothing
    changes."""
    if _ONE_COMMAND[0]:
        collector.start_done()


def main() -> None:  # pragma: no cover - console entry point
    """The `riskapp` command (the console script and `python -m riskapp.cli`)."""
    import sys

    _ONE_COMMAND[0] = True
    collector.start_quietly()  # on again at `imports_done`, once the command's modules load
    if sys.argv[1:2] == ["report"]:
        from riskapp.cli.report import start_chart_browser

        start_chart_browser(sys.argv[2:])
    try:
        app()
    finally:
        # everything left is freed by reference counts as the interpreter exits; frozen, the
        # final collection of the exit does not scan it all once more (0.1-0.2 s at 100,000
        # assets)
        gc.freeze()
