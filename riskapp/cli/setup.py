"""`riskapp init`: a new workspace (riskapp.assessment.scaffold)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from riskapp.cli.common import fail, out
from riskapp.io.errors import InputError


def init(
    folder: Annotated[Path, typer.Argument(help="The new workspace's folder (new or empty).")],
    template: Annotated[
        str,
        typer.Option(
            "--template",
            "-t",
            help="blank: factors, regions, the curve library, a baseline from public data, a "
            "status-quo scenario and an empty register; energy, logistics, manufacturing or "
            "telecom: blank with that sector's asset types; demo: a copy of the demo.",
        ),
    ] = "blank",
    name: Annotated[
        str | None, typer.Option(help="The workspace's name (default: the folder's).")
    ] = None,
    currency: Annotated[str, typer.Option(help="Reporting currency (ISO 4217).")] = "EUR",
) -> None:
    """Create a workspace: factors, regions, curves, a baseline from public data, a
    status-quo scenario and an empty register (or a copy of the demo).

    Everything an assessment needs but the client's assets, checked as `riskapp validate`
    checks it, created whole or not at all in a new or empty folder."""
    from riskapp.assessment.scaffold import create_workspace

    try:
        done = create_workspace(folder, template, name, currency.upper())
    except InputError as exc:
        fail(exc.problems, "nothing was created")
    where = escape(str(done.path))
    out.print(
        f"[green]created[/green] {where} ({done.template}): {', '.join(done.files[:12])}"
        + (f" and {len(done.files) - 12} more" if len(done.files) > 12 else ""),
        highlight=False,
        soft_wrap=True,
    )
    if done.template != "demo":
        out.print(
            f"Next: list the assets in {where}/assets.csv (one row per asset; types with curves: "
            f"{', '.join(done.asset_types)}), or import a register into the team database "
            f"(riskapp import); then riskapp validate {where} and riskapp serve {where}.",
            highlight=False,
            soft_wrap=True,
        )
    else:
        out.print(f"Next: riskapp serve {where}", highlight=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    app.command("init")(init)
