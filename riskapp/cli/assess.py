"""The commands that read a workspace's files: validate, score, plans; and the reference
ones, schema and methodology. Registered on the command line by `register(app)`
(riskapp/cli/main.py lists them and imports this module when one of them runs)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.text import Text

from riskapp.cli.common import (
    DEMO,
    LocaleName,
    LocaleOpt,
    ProbabilitiesName,
    ProbabilitiesOpt,
    ScenarioOpt,
    SourceName,
    SourceOpt,
    WorkspaceArg,
    assessment,
    bundled_demo,
    check_out,
    err,
    out,
)
from riskapp.domain.enums import LossBasis

if TYPE_CHECKING:
    import pandas as pd


class OutputFormat(StrEnum):
    text = "text"
    json = "json"


def validate(
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="Files or workspace folders to check; 'demo' is the bundled demo.",
            callback=lambda paths: [bundled_demo(p) for p in paths],
        ),
    ],
    every: Annotated[
        bool,
        typer.Option(
            "--all",
            help="List every problem (by default each rule shows its count and first rows).",
        ),
    ] = False,
    output: Annotated[
        OutputFormat,
        typer.Option(
            "--format",
            help="text for people; json for scripts (rule, count, problems with file, row, "
            "field, value, expected and suggestion). Exit code 1 when there are problems.",
        ),
    ] = OutputFormat.text,
) -> None:
    """Check scenario, plan, curve, factor, region, baseline, asset and dependency files.

    Every problem is reported in one run, the ones between files included, grouped by rule:
    a heading with the count, then the first rows (file, line or row, field, what was
    expected, and a "did you mean" where a close id, code or type exists). For a workspace,
    shocks that run past the 0-10 intensity scale and are clamped are listed as warnings (they
    do not fail the check).
    """
    import json

    from riskapp.assessment.placement import placement_warnings
    from riskapp.assessment.scale import clamp_lines, clamp_summary, clamp_table
    from riskapp.cli.main import imports_done
    from riskapp.io.findings import json_document, text_lines
    from riskapp.io.validate import check_paths, grouped

    imports_done()
    checked = check_paths(paths)
    groups = grouped([c for _, c in checked])
    count = sum(g.count for g in groups)
    text = output is OutputFormat.text
    warnings: list[str] = []
    for path, c in checked:
        if c.problems:
            continue
        if text:
            out.print(f"[green]ok[/green] {escape(str(path))} ({c.kind})", highlight=False)
        if c.workspace is not None:
            notes = list(c.workspace.portfolio.location_notes)
            if not len(c.workspace.portfolio):
                notes.insert(0, "no assets yet: list them in its assets.csv")
            clamps = clamp_table(c.workspace)
            placements = placement_warnings(c.workspace)
            if text:
                for note in notes:
                    out.print(f"[cyan]note[/cyan]: {escape(note)}", highlight=False, soft_wrap=True)
                _clamp_warnings(clamps)
                _placement_warnings(placements)
            else:
                warnings += [f"note: {note}" for note in notes]
                if len(clamps):
                    warnings += [clamp_summary(clamps), *clamp_lines(clamps)]
                warnings += [f"assets: {line}" for line in placements]
    if not text:
        listed = [
            {"path": str(path), "kind": c.kind, "problems": len(c.problems)} for path, c in checked
        ]
        print(json.dumps(json_document(groups, listed, warnings, every), indent=2))
    elif count:
        rules = f"{len(groups)} rule" + ("" if len(groups) == 1 else "s")
        err.print(f"[bold red]{count} problem(s) found ({rules}):[/bold red]", highlight=False)
        for line in text_lines(groups, every=every):
            err.print(line, markup=False, highlight=False, soft_wrap=True)
    if count:
        raise typer.Exit(1)


def _placement_warnings(lines: list[str]) -> None:
    """Assets whose coordinates contradict their country, as warnings (exit code 0)."""
    for line in lines:
        out.print(
            f"[yellow]warning[/yellow] (not an error): assets: {escape(line)}",
            highlight=False,
            soft_wrap=True,
        )


def _clamp_warnings(table: pd.DataFrame) -> None:
    """The clamp table as warnings: labelled, one line per clamp; the exit code stays 0."""
    from riskapp.assessment.scale import clamp_lines, clamp_summary

    if not len(table):
        return
    out.print(
        f"[yellow]warning[/yellow] (not an error): {escape(clamp_summary(table))} Each one:",
        highlight=False,
    )
    for line in clamp_lines(table):
        out.print(f"  [yellow]clamped[/yellow] {escape(line)}", highlight=False, soft_wrap=True)


def score(
    workspace: WorkspaceArg = DEMO,
    scenario: ScenarioOpt = None,
    out_file: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Write the loss table (.csv, .parquet or .json)."),
    ] = None,
    basis: Annotated[
        LossBasis | None,
        typer.Option(help="absolute: loss at scenario intensity; incremental: above baseline."),
    ] = None,
    top: Annotated[int, typer.Option(help="Assets to list in the summary.")] = 10,
    source: SourceOpt = SourceName.auto,
    probabilities: ProbabilitiesOpt = ProbabilitiesName.prior,
    locale: LocaleOpt = LocaleName.en,
    definitions: Annotated[
        bool,
        typer.Option(
            "--definitions",
            help="Print how each key figure is computed under the table (as the dashboard's "
            "tooltips and the reports' footnotes say it).",
        ),
    ] = False,
) -> None:
    """Score every asset under each scenario and print a summary."""
    from rich.table import Table

    from riskapp.assessment.core import key_figures, largest_first
    from riskapp.assessment.headline import footnote, nothing_to_count
    from riskapp.assessment.scale import clamp_summary
    from riskapp.cli.common import headline_table
    from riskapp.cli.main import imports_done
    from riskapp.engine import losses_by
    from riskapp.engine.aggregate import loss_table_parts
    from riskapp.io.export import write_table_parts

    imports_done()
    check_out(out_file)
    a = assessment(workspace, scenario, source, basis, locale, probabilities)
    ws, result = a.ws, a.result
    fmt = a.fmt

    out.rule(Text(ws.settings.name, style="bold"))
    out.print(
        f"{len(ws.portfolio)} assets, {len(ws.scenarios)} scenarios, "
        f"{len(ws.factors.factors)} factors; losses are {result.basis.value}",
        highlight=False,
    )
    out.print(headline_table(a))
    out.print(footnote(a.headline), highlight=False, style="dim")
    nothing = nothing_to_count(a)
    if nothing is not None:
        out.print(f"[yellow]note[/yellow]: {escape(nothing)}", highlight=False)
    if definitions:
        for k in key_figures(a):
            out.print(Text(f"{k.label}: ", style="bold") + Text(k.definition), highlight=False)
    else:
        out.print("Definitions: --definitions, or `riskapp methodology`.", style="dim")

    by_s = losses_by(ws, result, "scenario")
    t = Table(title="Scenarios")
    t.add_column("scenario", overflow="fold")
    for col in ("annual prob.", "loss", "% of value", "adds to EAL"):
        t.add_column(col, justify="right", no_wrap=True)
    total = result.total_exposed_value or 1.0
    for sid, row in by_s.iterrows():
        t.add_row(
            Text(str(sid)),
            fmt.percent(row["frequency"]),
            fmt.money(row["loss"]),
            fmt.percent(row["loss"] / total, 2),
            fmt.money(row["contribution_to_eal"]),
        )
    out.print(t)

    by_f = losses_by(ws, result, "factor")
    t = Table(title="Expected annual loss by factor")
    t.add_column("factor")
    t.add_column("EAL", justify="right")
    for fid, row in largest_first(by_f, "eal", "factor").iterrows():
        t.add_row(Text(ws.factors.get(str(fid)).name), fmt.money(row["eal"]))
    out.print(t)

    by_a = largest_first(losses_by(ws, result, "asset"), "eal", "asset", top)
    frame = ws.portfolio.frame.set_index("id")
    t = Table(title=f"Top {top} assets by expected annual loss")
    for col in ("asset", "type", "country", "EAL"):
        t.add_column(col, justify="right" if col == "EAL" else "left")
    for aid, row in by_a.iterrows():
        asset = frame.loc[str(aid)]
        t.add_row(
            Text(f"{aid} {asset['name']}"),
            Text(str(asset["type"])),
            str(asset["country"]),
            fmt.money(row["eal"]),
        )
    out.print(t)

    clamps = clamp_summary(a.clamps)
    if clamps:
        out.print(
            f"[yellow]note[/yellow]: {escape(clamps)} Each one: riskapp validate on the "
            "workspace, the Scenarios page or a report.",
            highlight=False,
        )

    if out_file is not None:
        write_table_parts(loss_table_parts(ws, result), out_file)
        out.print(f"Loss table written to {out_file}", highlight=False)


def plans(
    workspace: WorkspaceArg = DEMO,
    scenario: ScenarioOpt = None,
    out_file: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write the plan table (.csv/.parquet/.json).")
    ] = None,
    source: SourceOpt = SourceName.auto,
    locale: LocaleOpt = LocaleName.en,
) -> None:
    """Contingency plans: triggers, readiness, residual loss, cost and benefit-cost ratio."""
    from rich.table import Table

    from riskapp.assessment.plan_checks import flag_text, plan_flags
    from riskapp.io.export import write_table

    check_out(out_file)
    a = assessment(workspace, scenario, source, locale=locale)
    ws, ev = a.ws, a.plans
    fmt = a.fmt
    out.rule(Text(f"Contingency plans - {ws.settings.name}", style="bold"))
    out.print(
        f"Expected annual loss: gross {fmt.money(ev.gross_eal())}, with plans "
        f"{fmt.money(ev.residual_eal())} "
        f"(averted {fmt.money(ev.gross_eal() - ev.residual_eal())}). "
        f"Horizon {ws.settings.plan_horizon_years} years at "
        f"{fmt.percent(ws.settings.discount_rate)}.",
        highlight=False,
    )
    table = ev.table()
    n_s = len(ws.scenarios)
    t = Table(title="Plans (averted loss: each plan on its own)")
    t.add_column("plan", overflow="fold")
    t.add_column("status")
    for col in ("fires", "late", "cost NPV", "averted NPV", "BCR"):
        t.add_column(col, justify="right", no_wrap=True)
    t.add_column("flags", overflow="fold")
    flags = plan_flags(a)
    for _, row in table.iterrows():
        t.add_row(
            Text(str(row["plan_id"])),
            row["status"],
            f"{len(row['triggered_in'])}/{n_s}",
            str(len(row["not_ready_in"])) if row["not_ready_in"] else "-",
            fmt.money(row["cost_npv"]),
            fmt.money(row["averted_npv"]),
            fmt.ratio(row["benefit_cost_ratio"]),
            Text(flag_text(flags, str(row["plan_id"])) or "-"),
        )
    out.print(t)
    if len(flags):
        out.print("[bold]Plan sanity flags[/bold] (check before quoting these figures):")
        for r in flags.itertuples(index=False):
            out.print(Text(f"  {r.plan_id} ({r.severity}): {r.message}"))
    late = table[table["not_ready_in"].map(len) > 0]
    if len(late):
        out.print("[bold]Readiness gaps[/bold] (slowest action vs the scenario's warning time):")
        for _, row in late.iterrows():
            gaps = ev.gap_days[:, ev.plan_ids.index(row["plan_id"])]
            detail = ", ".join(
                f"{sid} {gaps[ev.scenario_ids.index(sid)]:.0f} d short"
                for sid in row["not_ready_in"]
            )
            out.print(Text(f"  {row['plan_id']}: {detail}"))
    st = ev.scenario_table()
    t = Table(title="Loss by scenario with plans applied")
    t.add_column("scenario", overflow="fold")
    for col in ("gross", "residual", "averted"):
        t.add_column(col, justify="right", no_wrap=True)
    t.add_column("plans effective", overflow="fold")
    for _, row in st.iterrows():
        t.add_row(
            Text(row["scenario_id"]),
            fmt.money(row["gross_loss"]),
            fmt.money(row["residual_loss"]),
            fmt.money(row["averted_loss"]),
            Text(", ".join(row["plans_effective"]) or "-"),
        )
    out.print(t)
    if out_file is not None:
        flat = table.assign(
            triggered_in=table["triggered_in"].map(";".join),
            not_ready_in=table["not_ready_in"].map(";".join),
            flags=[flag_text(flags, str(pid)) for pid in table["plan_id"]],
        )
        write_table(flat, out_file)
        out.print(f"Plan table written to {out_file}", highlight=False)


def schema(
    out_dir: Annotated[
        Path, typer.Option("--out", "-o", help="Folder for the schema files.")
    ] = Path("schemas"),
) -> None:
    """Write the JSON Schema of every file type (for editors to validate scenario files)."""
    from riskapp.io.validate import write_schemas

    for path in write_schemas(out_dir):
        out.print(f"wrote {path}", highlight=False)


def methodology(
    developer: Annotated[
        bool,
        typer.Option(
            "--developer",
            help="Print the developer notes instead: the engine's docstrings, naming internals.",
        ),
    ] = False,
) -> None:
    """Print how every figure is computed, in plain words with worked examples (Markdown)."""
    from riskapp.methodology import client_methodology, developer_methodology

    print(developer_methodology() if developer else client_methodology())


def register(app: typer.Typer) -> None:
    """Add validate, score, plans, schema and methodology to a command line."""
    app.command("validate")(validate)
    app.command("score")(score)
    app.command("plans")(plans)
    app.command("schema")(schema)
    app.command("methodology")(methodology)
