"""`riskapp baseline ...`: build baseline intensities from public indicators, explain them.

Registered in riskapp/cli.py as `app.add_typer(baseline_app, name="baseline")`.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from riskapp.cli.common import fail, fail_message, out
from riskapp.io.errors import InputError
from riskapp.resources import DEFAULT_METHOD, REFDATA  # the defaults riskapp.baseline.build uses

if TYPE_CHECKING:
    from riskapp.baseline.build import BaselineResult
    from riskapp.baseline.method import Method

baseline_app = typer.Typer(
    rich_markup_mode="markdown",
    help="Baseline factor intensities built from public indicators (GPR, WGI, Eurostat, UCDP).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

MethodOpt = Annotated[
    Path, typer.Option("--method", "-m", help="Methodology file (YAML).", show_default=True)
]
AsOfOpt = Annotated[
    dt.datetime | None,
    typer.Option(
        "--as-of",
        formats=["%Y-%m-%d"],
        help="Use only data for periods that had ended by this date (default: today).",
    ),
]
DataOpt = Annotated[
    Path, typer.Option("--data", help="Folder of the reference data.", show_default=True)
]


def _method(method: Path) -> Method:
    from riskapp.baseline.build import load_method

    try:
        return load_method(method)
    except InputError as exc:
        fail(exc.problems)
        raise  # unreachable


def _run(method: Path, as_of: dt.datetime | None, data: Path) -> BaselineResult:
    return _compute(_method(method), method, as_of, data)


def _compute(loaded: Method, method: Path, as_of: dt.datetime | None, data: Path) -> BaselineResult:
    from riskapp.baseline.build import compute, load_sources_for

    try:
        sources = load_sources_for(loaded, data)
    except InputError as exc:
        fail(exc.problems)
        raise  # unreachable
    try:
        return compute(loaded, sources, as_of.date() if as_of else dt.date.today())
    except ValueError as exc:
        fail_message(f"{method}: {exc}", 1)
        raise  # unreachable


@baseline_app.command()
def build(
    out_file: Annotated[
        Path, typer.Option("--out", "-o", help="Baseline to write (.csv, as a workspace reads).")
    ],
    method: MethodOpt = DEFAULT_METHOD,
    as_of: AsOfOpt = None,
    details: Annotated[
        Path | None,
        typer.Option(
            help="Also write the provenance table (.csv, .parquet or .json): per country and "
            "node the score, weight, indicators, periods, coverage and reliability."
        ),
    ] = None,
    data: DataOpt = REFDATA,
) -> None:
    """Build baseline intensities of every factor for every country covered, with provenance."""
    from riskapp.baseline.build import write_baseline, write_details
    from riskapp.io.export import FORMATS

    if out_file.suffix.lower() != ".csv":
        fail_message(f"{out_file}: a baseline is written as .csv (the format a workspace reads)")
    if details is not None and details.suffix.lower() not in FORMATS:
        fail_message(f"{details}: unsupported output format; use one of {', '.join(FORMATS)}")
    result = _run(method, as_of, data)
    table = result.baseline()
    write_baseline(result, out_file)
    factors = result.method.factor_ids
    out.print(
        f"{result.method.title} (v{result.method.version}), as of {result.as_of.isoformat()}: "
        f"{table['country'].nunique()} countries x {len(factors)} factors, {len(table)} rows",
        highlight=False,
    )
    summary = Table(title="Intensity by factor across countries")
    for col in ("factor", "min", "median", "max", "low reliability"):
        summary.add_column(col, justify="left" if col == "factor" else "right")
    roots = result.nodes[result.nodes["depth"] == 0]
    for factor in factors:
        rows = roots[roots["factor"] == factor]
        s = rows["score"]
        summary.add_row(
            Text(factor),
            f"{s.min():.1f}",
            f"{s.median():.1f}",
            f"{s.max():.1f}",
            str(int((rows["reliability"] < 0.5).sum())),
        )
    out.print(summary)
    for warning in result.warnings:
        out.print(Text(f"note: {warning}", style="yellow"), soft_wrap=True)
    out.print(f"Baseline written to {out_file}", highlight=False)
    if details is not None:
        write_details(result, details)
        out.print(f"Provenance written to {details}", highlight=False)


@baseline_app.command()
def explain(
    country: Annotated[str, typer.Argument(help="ISO 3166-1 alpha-3 code, e.g. FIN.")],
    factor: Annotated[str | None, typer.Option("--factor", "-f", help="Only this factor.")] = None,
    method: MethodOpt = DEFAULT_METHOD,
    as_of: AsOfOpt = None,
    data: DataOpt = REFDATA,
) -> None:
    """Show how one country's intensities are built, from the indicators up to the score."""
    from riskapp.domain.common import iso_alpha3_codes

    code = country.strip().upper()
    if code not in iso_alpha3_codes():
        fail_message(f"{country!r} is not an ISO 3166-1 alpha-3 country code such as FIN")
    loaded = _method(method)
    if factor is not None and factor not in loaded.factor_ids:
        fail_message(f"unknown factor {factor!r}; expected one of {', '.join(loaded.factor_ids)}")
    result = _compute(loaded, method, as_of, data)
    if code not in result.countries:
        fail_message(f"no baseline for {code}: not covered by the method's sources or tables")
    rows = result.breakdown(code, factor)
    for fid in [factor] if factor else result.method.factor_ids:
        part = rows[rows["factor"] == fid]
        t = Table(title=f"{code} {fid}, as of {result.as_of.isoformat()}")
        t.add_column("node", overflow="fold")
        t.add_column("weight", justify="right", no_wrap=True)
        t.add_column("score", justify="right", no_wrap=True)
        t.add_column("rel.", justify="right", no_wrap=True)
        t.add_column("from", overflow="fold")
        for depth, node, agg, weight, used, score, rel, status, period, raw in zip(
            part["depth"].astype(int),
            part["node"].astype(str),
            part["aggregation"].astype(str),
            part["weight"].astype(float),
            part["used"].astype(bool),
            part["score"].astype(float),
            part["reliability"].astype(float),
            part["status"].astype(str),
            part["period"].astype(str),
            part["raw"].astype(float),
            strict=True,
        ):
            detail = f"{agg} of" if agg else f"{period}: {raw:.4g}" if period else ""
            if status != "observed":
                detail = status
            t.add_row(
                Text("  " * depth + node, style="" if used else "dim"),
                f"{weight:g}",
                "-" if math.isnan(score) else f"{score:.2f}",
                f"{rel:.2f}",
                Text(detail),
            )
        out.print(t)
        notes = [str(n) for n in part["note"] if str(n) and str(n) != "default"]
        for note in dict.fromkeys(notes):
            out.print(Text(f"note: {note}", style="yellow"), soft_wrap=True)
    out.print("Dimmed nodes do not enter the score (missing, not selected, or outside scope).")


@baseline_app.command()
def schema(
    out_dir: Annotated[
        Path, typer.Option("--out", "-o", help="Folder for the schema file.")
    ] = Path("schemas"),
) -> None:
    """Write the JSON Schema of methodology files (methodology.schema.json)."""
    from riskapp.baseline.method import method_json_schema

    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / "methodology.schema.json"
    target.write_text(
        json.dumps(method_json_schema(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    out.print(f"wrote {target}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add the `baseline` commands to a command line."""
    app.add_typer(baseline_app, name="baseline", help="Baseline intensities from public data.")
