"""`riskapp curves`: the curve library riskapp ships (riskapp.io.curve_library)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from riskapp.cli.common import DEMO, WORKSPACE_HELP, bundled_demo, fail, fail_message, out
from riskapp.io.errors import InputError

curves_app = typer.Typer(
    rich_markup_mode="markdown",
    help="The curve library: default vulnerability curves for common asset types, each with "
    "its rationale and sources; add a type's curves to a workspace.",
    no_args_is_help=True,
)


@curves_app.command("list")
def list_command(
    sector: Annotated[str | None, typer.Option(help="Only the types of this sector.")] = None,
    full: Annotated[bool, typer.Option("--full", help="Rationale, sources and curves.")] = False,
) -> None:
    """The library's asset types: name, sectors, the names files give them and, with --full,
    why the curves are so, the sources and the curves themselves."""
    from riskapp.io.curve_library import curve_library

    lib = curve_library()
    types = [t for t in lib.types if sector is None or sector in t.sectors]
    if not types:
        fail_message(f"no sector {sector!r}; the library has {', '.join(lib.sectors())}")
    if not full:
        table = Table("Type", "Name", "Sectors", "Also called")
        for t in types:
            table.add_row(t.type, t.name, ", ".join(t.sectors), escape(", ".join(t.synonyms)))
        out.print(table)
        return
    for t in types:
        out.print(f"[bold]{t.type}[/bold]: {escape(t.name)} ({', '.join(t.sectors)})")
        out.print(f"  {escape(t.rationale)}", soft_wrap=True, highlight=False)
        for s in t.sources:
            out.print(f"  Source: {escape(s)}", soft_wrap=True, highlight=False)
        for factor, points in t.curves.items():
            pts = ", ".join(f"{x:g}:{y:g}" for x, y in points)
            out.print(f"    {factor}: {pts}", highlight=False)


@curves_app.command("add")
def add_command(
    types: Annotated[list[str], typer.Argument(help="Library type ids (riskapp curves list).")],
    workspace: Annotated[Path, typer.Option(help=WORKSPACE_HELP, callback=bundled_demo)] = Path(
        "."
    ),
) -> None:
    """Add library types' curves (every factor, with their rationale and sources as comments)
    to the workspace's curves file."""
    from riskapp.io.curve_library import add_to_workspace

    if workspace.resolve().is_relative_to(DEMO.resolve()):
        fail_message("the bundled demo is read-only: copy it first (riskapp init DIR -t demo)")
    try:
        added = add_to_workspace(workspace, types)
    except InputError as exc:
        fail(exc.problems, "the curves file was not changed")
    out.print(f"Curves added for {', '.join(added)}", highlight=False)


def register(app: typer.Typer) -> None:
    app.add_typer(curves_app, name="curves")
