"""What every command shares: the two consoles, the problem printer and the workspace loader."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.text import Text

from riskapp.domain.workspace import Workspace
from riskapp.io.errors import InputError, Problem
from riskapp.settings import DEMO

out = Console()
err = Console(stderr=True)

WorkspaceArg = Annotated[
    Path, typer.Argument(help="Workspace folder (with workspace.yaml).", show_default=True)
]
ScenarioOpt = Annotated[
    list[str] | None,
    typer.Option("--scenario", "-s", help="Scenario id to include (repeatable; default all)."),
]

__all__ = [
    "DEMO",
    "ScenarioOpt",
    "WorkspaceArg",
    "check_out",
    "err",
    "fail",
    "fail_message",
    "load",
    "out",
]


def fail(problems: list[Problem], note: str = "") -> NoReturn:
    """Print every problem (file, line or row, field, what was expected) and exit 1; `note`
    follows the count (e.g. "nothing was imported")."""
    tail = f"; {note}" if note else ""
    err.print(f"[bold red]{len(problems)} problem(s) found{tail}:[/bold red]")
    for p in problems:
        err.print(f"  {p}", markup=False, highlight=False, soft_wrap=True)
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


def load(workspace: Path, scenarios: list[str] | None) -> Workspace:
    """The workspace's files, restricted to `scenarios`; exits listing every problem."""
    from riskapp.io import load_workspace

    try:
        ws = load_workspace(workspace)
        if scenarios:
            ws = ws.with_scenarios(scenarios)
    except InputError as exc:
        fail(exc.problems)
    except KeyError as exc:
        fail_message(str(exc.args[0]))
    return ws
