"""`riskapp mapping`: a client's spreadsheet mapped onto the register (riskapp.io.mapping)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from riskapp.cli.common import fail, fail_message, out
from riskapp.io.errors import InputError

mapping_app = typer.Typer(
    rich_markup_mode="markdown",
    help="Map a client's asset spreadsheet onto the register: suggest a mapping from its "
    "header, apply a saved one.",
    no_args_is_help=True,
)

FileArg = Annotated[
    Path,
    typer.Argument(
        help="The client's asset table (.csv, .xlsx or .parquet).", exists=True, dir_okay=False
    ),
]


def known_types(workspace: Path | None) -> list[str]:
    """The asset types with curves in a workspace (the demo's without one)."""
    from riskapp.domain.curves import CurveSet
    from riskapp.io.workspace import load_manifest, load_model, manifest_path
    from riskapp.resources import DEMO

    mpath = manifest_path(workspace or DEMO)
    manifest, _ = load_manifest(mpath)
    curves, _ = load_model(mpath.parent / manifest.paths.curves, CurveSet)
    return sorted(curves.asset_types)


@mapping_app.command("suggest")
def suggest_command(
    file: FileArg,
    workspace: Annotated[
        Path | None,
        typer.Option(
            help="Workspace whose asset types the type names are matched to (default: the demo's)."
        ),
    ] = None,
    out_file: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write the mapping (YAML) here.")
    ] = None,
) -> None:
    """Suggest how the file's columns map onto the register: column names in several
    languages, units (thousands, millions) and currencies in the headers, asset type names.
    Check the suggestion, then import with `riskapp import FILE --mapping MAPPING`."""
    from riskapp.assessment.mapping import type_values
    from riskapp.io.mapping import suggest, to_yaml
    from riskapp.io.tables import read_rows
    from riskapp.store.validation import Table as MappedTable

    try:
        header, rows = read_rows(file, file.name)
        first = suggest(header, [], [])
        upload = MappedTable(file.name, header, rows)
        found = suggest(
            header,
            type_values(upload, first.mapping.columns.get("type")),
            known_types(workspace),
            type_values(upload, first.mapping.columns.get("country")),
        )
    except InputError as exc:
        fail(exc.problems)
    table = Table("Register column", "File column", "How", title_justify="left")
    for m in found.matches:
        table.add_row(m.field, escape(m.column), escape(m.how))
    out.print(table)
    for field, factor in found.mapping.units.items():
        out.print(f"{field}: values multiplied by {factor:g} (a unit in the header)")
    if found.mapping.currency:
        out.print(f"currency: {found.mapping.currency} for every row (named in the headers)")
    if found.missing:
        out.print(f"[red]not found (required):[/red] {', '.join(found.missing)}")
    if found.unmatched:
        out.print("left out: " + escape(", ".join(found.unmatched)), soft_wrap=True)
    for value, t, how in found.type_matches:
        if how != "name":
            out.print(f"type {escape(value)!r} -> {t} ({escape(how)})", soft_wrap=True)
    for value, t, how in found.library_types:
        out.print(
            f"type {escape(value)!r} -> {t} ({escape(how)}): the curve library's, "
            "not yet the workspace's",
            soft_wrap=True,
        )
    if found.to_add:
        where = f" --workspace {escape(str(workspace))}" if workspace is not None else ""
        out.print(
            f"[yellow]add their curves first:[/yellow] riskapp curves add "
            f"{' '.join(found.to_add)}{where}",
            soft_wrap=True,
        )
    for value, codes in found.uncertain_countries:
        from riskapp.domain.common import country_name

        listed = " or ".join(f"{country_name(c)} ({c})" for c in codes)
        out.print(
            f"[yellow]country {escape(value)!r}:[/yellow] {escape(listed)}? confirm it in the "
            "mapping's countries",
            soft_wrap=True,
        )
    if found.unknown_types:
        names = ", ".join(repr(v) for v in found.unknown_types)
        out.print(
            f"[yellow]types with no suggestion (map them by hand):[/yellow] {escape(names)}",
            soft_wrap=True,
        )
    if out_file is not None:
        if out_file.exists():
            fail_message(f"{out_file} exists: choose another name (a saved mapping is kept)")
        out_file.write_text(to_yaml(found), encoding="utf-8")
        out.print(
            f"Mapping written to {escape(str(out_file))}: check it, then riskapp import "
            f"{escape(str(file))} --mapping {escape(str(out_file))}",
            soft_wrap=True,
        )


@mapping_app.command("apply")
def apply_command(
    file: FileArg,
    mapping: Annotated[Path, typer.Option("--mapping", "-m", help="The mapping (YAML).")],
    out_file: Annotated[Path, typer.Option("--out", "-o", help="The register to write (.csv).")],
    set_aside: Annotated[
        Path | None,
        typer.Option(
            help="Write the rows the register's row checks refuse here (.csv: the file's own "
            "cells, its row number, the fields and problems), and only the others to --out.",
        ),
    ] = None,
) -> None:
    """Write the file as a register (riskapp's columns) through a saved mapping, for a
    workspace's assets.csv; `riskapp validate` then checks every row."""
    from riskapp.assessment.mapping import register_from
    from riskapp.io.export import write_table
    from riskapp.io.mapping import load_mapping
    from riskapp.io.tables import read_rows

    for path in (out_file, set_aside):
        if path is not None and path.suffix.lower() != ".csv":
            fail_message(f"{path}: a register is written as .csv")
    try:
        header, rows = read_rows(file, file.name)
        frame, aside = register_from(
            file.name, header, rows, load_mapping(mapping), str(mapping), set_aside is not None
        )
    except InputError as exc:
        fail(exc.problems, "nothing was written")
    if set_aside is not None and aside is not None:
        write_table(aside, set_aside)
        out.print(
            f"{len(aside)} row(s) set aside to {escape(str(set_aside))} (row, fields, problems)",
            highlight=False,
        )
    write_table(frame, out_file)
    out.print(f"{len(frame)} row(s) written to {escape(str(out_file))}", highlight=False)


def register(app: typer.Typer) -> None:
    app.add_typer(mapping_app, name="mapping")
