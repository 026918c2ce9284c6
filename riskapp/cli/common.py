"""What every command shares: the two consoles, the problem printer and the workspace loader."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console
from rich.text import Text

from riskapp.io.errors import InputError
from riskapp.resources import DEMO

# Only what every command's options need is imported here (typer, rich, the standard library):
# `riskapp --help` imports every command module, so pandas, pydantic and the engine are
# imported inside the commands that use them (tests/test_startup.py).
if TYPE_CHECKING:
    from rich.table import Table

    from riskapp.assessment import Assessment
    from riskapp.domain import LossBasis, Workspace
    from riskapp.io.errors import Problem

# emoji=False: a ':name:' in a file's text (an asset's or a scenario's name) prints as written,
# not as an emoji (and printing does not load rich's table of emoji codes)
out = Console(emoji=False)
err = Console(stderr=True, emoji=False)

WORKSPACE_HELP = "Workspace folder (with workspace.yaml); 'demo' is the bundled demo."


def bundled_demo(path: Path) -> Path:
    """`demo` names the demo shipped in the package unless the working directory has a folder
    of that name (README commands work after `pip install`, from any directory)."""
    if path == Path("demo") and not path.exists():
        return DEMO
    return path


WorkspaceArg = Annotated[
    Path, typer.Argument(help=WORKSPACE_HELP, show_default=True, callback=bundled_demo)
]
ScenarioOpt = Annotated[
    list[str] | None,
    typer.Option("--scenario", "-s", help="Scenario id to include (repeatable; default all)."),
]

__all__ = [
    "DEMO",
    "WORKSPACE_HELP",
    "LocaleName",
    "LocaleOpt",
    "ProbabilitiesName",
    "ProbabilitiesOpt",
    "ScenarioOpt",
    "SourceName",
    "SourceOpt",
    "WorkspaceArg",
    "assessment",
    "bundled_demo",
    "check_out",
    "err",
    "fail",
    "fail_message",
    "load",
    "out",
    "print_source",
]


LIST_ALL_UP_TO = 20  # more problems than this are grouped by rule


def fail(problems: list[Problem], note: str = "") -> NoReturn:
    """Print the problems (file, line or row, field, what was expected) and exit 1; `note`
    follows the count (e.g. "nothing was imported"). Up to LIST_ALL_UP_TO problems are listed
    one a line; more are grouped by rule with their first rows (as `riskapp validate` does;
    `riskapp validate --all` lists every one)."""
    tail = f"; {note}" if note else ""
    err.print(f"[bold red]{len(problems)} problem(s) found{tail}:[/bold red]")
    if len(problems) <= LIST_ALL_UP_TO:
        for p in problems:
            err.print(f"  {p}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(1)
    from riskapp.io.findings import group, tabulate, text_lines

    lines = text_lines(group(tabulate(problems, {})), more="riskapp validate --all lists every one")
    for line in lines:
        err.print(line, markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(1)


def fail_message(message: str, code: int = 2) -> NoReturn:
    """Print one message in red and exit with `code` (2: the command line was wrong)."""
    err.print(Text(message, style="red"), soft_wrap=True)
    raise typer.Exit(code)


def check_out(path: Path | None) -> None:
    """Refuse an unsupported output format before any work is done."""
    from riskapp.io.export import FORMATS

    if path is not None and path.suffix.lower() not in FORMATS:
        fail_message(f"{path}: unsupported output format; use one of {', '.join(FORMATS)}")


def _freeze_in_one_command() -> None:
    """In the `riskapp` command's own process (one command, then it exits), keep the register
    about to be parsed out of the cyclic collector's walks (`freeze_parsed_registers`); the app
    run inside another process leaves that process's heap alone."""
    from riskapp.cli.main import one_command_process
    from riskapp.io.columnar import freeze_parsed_registers

    if one_command_process():
        freeze_parsed_registers()


def load(workspace: Path, scenarios: list[str] | None) -> Workspace:
    """The workspace's files, restricted to `scenarios`; exits listing every problem."""
    from riskapp.io import load_workspace

    _freeze_in_one_command()
    try:
        ws = load_workspace(workspace)
        if scenarios:
            ws = ws.with_scenarios(scenarios)
    except InputError as exc:
        fail(exc.problems)
    except KeyError as exc:
        fail_message(str(exc.args[0]))
    return ws


class SourceName(StrEnum):
    """--source: which inputs a command uses (riskapp.assessment.sources.choose_source)."""

    auto = "auto"
    files = "files"
    store = "store"


class LocaleName(StrEnum):
    en = "en"
    de = "de"


LocaleOpt = Annotated[
    LocaleName,
    typer.Option(
        "--locale",
        help="Numbers and money: en (EUR 5.68bn, 1,234.5) or de (5,68 Mrd. EUR, 1.234,5).",
        case_sensitive=False,
    ),
]


SourceOpt = Annotated[
    SourceName,
    typer.Option(
        "--source",
        help="files: the workspace's files; store: its model files with the register and plans "
        "of the team database (what the dashboard shows); auto: store when a team database is "
        "in use (RISKAPP_DATABASE_URL, or RISKAPP_DATA_DIR/riskapp.db exists), else files.",
        case_sensitive=False,
    ),
]


class ProbabilitiesName(StrEnum):
    """--probabilities: the scenarios' probabilities as written, or as signposts make them."""

    prior = "prior"
    current = "current"


ProbabilitiesOpt = Annotated[
    ProbabilitiesName,
    typer.Option(
        help="prior: the scenarios' probabilities as written; current: as their crossed "
        "signposts make them (likelihood ratios; read from the team database's indicators)."
    ),
]


def assessment(
    workspace: Path,
    scenarios: list[str] | None,
    source: SourceName = SourceName.auto,
    basis: LossBasis | None = None,
    locale: LocaleName = LocaleName.en,
    probabilities: ProbabilitiesName = ProbabilitiesName.prior,
) -> Assessment:
    """The one assessment of a command: the chosen source, scored; prints which source and
    revision it used (and, for the team database, what differs from the files); exits listing
    every problem."""
    from riskapp.assessment import assess, choose_source

    _freeze_in_one_command()
    try:
        src = choose_source(workspace, source.value)
        a = assess(src, basis=basis, scenarios=scenarios, probabilities=probabilities.value)
    except InputError as exc:
        fail(exc.problems)
    except KeyError as exc:
        fail_message(str(exc.args[0]))
    except PermissionError as exc:  # riskapp.store.AccessDenied: no role in the workspace
        fail_message(str(exc), 1)
    print_source(a)
    return a.with_locale(locale.value)


def print_source(a: Assessment) -> None:
    """`Source: <kind> <revision> (<where>)` on stderr, and a warning listing what differs
    when the team database and the files disagree."""
    err.print(Text(f"Source: {a.source.describe()}", style="dim"), soft_wrap=True)
    if a.probabilities == "current":
        moved = [u for u in a.probability_updates if u.current != u.prior]
        text = "; ".join(f"{u.scenario_id} {u.prior:.1%} -> {u.current:.1%}" for u in moved)
        err.print(
            Text(f"Scenario probabilities: current ({text or 'no signpost crossed'})", "dim"),
            soft_wrap=True,
        )
    if a.ws.settings.fx_rates:
        rates = a.ws.settings.fx_provenance()
        err.print(Text(f"Exchange rates: {rates}", style="dim"), soft_wrap=True)
    status = a.sync
    if status is not None and not status.in_sync:
        err.print(
            Text(
                f"note: {status.summary()} (`riskapp sync` lists them and brings one in line "
                "with the other; `--source files` uses the files)",
                style="yellow",
            ),
            soft_wrap=True,
        )


def headline_table(a: Assessment) -> Table:
    """The headline figures (`riskapp.assessment.headline`), as the Overview and every report
    show them: figure, value and its note; `riskapp methodology` has the definitions."""
    from rich.table import Table

    from riskapp.assessment.core import key_figures

    t = Table(title="Key figures", show_header=False)
    t.add_column("figure")
    t.add_column("value", justify="right", no_wrap=True)
    t.add_column("note", style="dim", overflow="fold")
    for k in key_figures(a):
        t.add_row(k.label, k.text, Text(k.note))
    return t
