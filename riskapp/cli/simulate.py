"""`riskapp simulate`: the Monte Carlo from the command line.

Registered in riskapp/cli.py with `app.command(name="simulate")(simulate)`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from riskapp.cli.common import (
    ProbabilitiesName,
    ProbabilitiesOpt,
    SourceName,
    SourceOpt,
    WorkspaceArg,
)
from riskapp.domain.enums import LossBasis
from riskapp.engine.enums import RangeDistribution
from riskapp.format import NumberFormat
from riskapp.io.dependencies import DEPENDENCIES, DEPENDENCY_COLUMNS, load_dependencies
from riskapp.resources import DEMO

if TYPE_CHECKING:
    from riskapp.domain.assets import DependencyLink
    from riskapp.domain.workspace import Workspace
    from riskapp.engine.montecarlo import Simulation, SimulationResult

SE_WARNING = 0.05  # relative standard error of the mean above which the user is warned


def _summary(result: SimulationResult, fmt: NumberFormat) -> Table:
    port = {row["key"]: row for row in result.portfolio_table().to_dict("records")}
    gross = port["gross"]
    t = Table(title=f"Annual loss over {result.trials:,} simulated years", show_header=False)
    rel = gross["se_mean"] / gross["mean"] if gross["mean"] > 0 else 0.0
    t.add_row(
        "Simulated mean annual loss",
        f"{fmt.money(gross['mean'])} ± {fmt.money(gross['se_mean'])} (SE)",
    )
    t.add_row("Expected annual loss (exact, no ranges or cascades)", fmt.money(result.sim.eal))
    t.add_row("Standard deviation", fmt.money(gross["sd"]))
    for level in ("95", "99"):
        t.add_row(f"Value at risk {level} %", fmt.money(gross[f"var_{level}"]))
        t.add_row(f"Expected shortfall {level} %", fmt.money(gross[f"es_{level}"]))
    if "residual" in port:
        res = port["residual"]
        t.add_row("Simulated mean annual loss with plans", fmt.money(res["mean"]))
        t.add_row("Expected shortfall 99 % with plans", fmt.money(res["es_99"]))
    t.add_row("Relative standard error of the mean", fmt.percent(rel, 2))
    return t


def _top(table: Any, title: str, fmt: NumberFormat, n: int, total: float | None = None) -> Table:
    """The n rows with the largest contribution to the portfolio's ES 99 % (of `total`, the
    sum of all contributions: of the table's rows unless given)."""
    rows = table.sort_values("tail_es_99", ascending=False).head(n)
    t = Table(title=title)
    t.add_column("", overflow="fold")
    for col in ("mean", "ES 99 % alone", "share of portfolio ES 99 %"):
        t.add_column(col, justify="right", no_wrap=True)
    total = (float(table["tail_es_99"].sum()) if total is None else total) or 1.0
    for _, row in rows.iterrows():
        t.add_row(
            Text(str(row["key"])),
            fmt.money(row["mean"]),
            fmt.money(row["es_99"]),
            fmt.percent(row["tail_es_99"] / total),
        )
    return t


def _sensitivity(
    ws: Workspace,
    sim: Simulation,
    trials: int,
    seed: int,
    samples: int,
    fmt: NumberFormat,
    top: int,
) -> dict[str, Any]:
    """Print the tornado and the Sobol indices; return them as tables to write."""
    from riskapp.cli.common import out
    from riskapp.engine.sensitivity import loss_model, portfolio_sobol, tornado

    lm = loss_model(ws, sim)
    tor = tornado(lm, seed, trials)
    t = Table(
        title=f"What moves the loss: one input at a time (expected annual loss "
        f"{fmt.money(tor.eal)}, VaR 99 % {fmt.money(tor.var)})"
    )
    t.add_column("input (low - high)", overflow="fold")
    for col in ("expected loss", "VaR 99 %"):
        t.add_column(col, justify="right", no_wrap=True)
    for _, row in tor.table.head(top).iterrows():
        t.add_row(
            Text(f"{row['label']} ({row['range']})"),
            f"{fmt.money(row['eal_low'])} - {fmt.money(row['eal_high'])}",
            f"{fmt.money(row['var_low'])} - {fmt.money(row['var_high'])}",
        )
    out.print(t)
    sob = portfolio_sobol(lm, samples, seed)
    t = Table(
        title=f"Share of the expected loss's variance (Sobol indices, {sob.evaluations:,} "
        f"evaluations, {sob.conf_level:.0%} intervals)"
    )
    t.add_column("input", overflow="fold")
    for col in ("alone (S1)", "with interactions (ST)"):
        t.add_column(col, justify="right", no_wrap=True)
    for _, row in sob.table.sort_values("st", ascending=False).head(top).iterrows():
        t.add_row(
            Text(str(row["label"])),
            f"{row['s1']:.2f} ± {row['s1_conf']:.2f}",
            f"{row['st']:.2f} ± {row['st_conf']:.2f}",
        )
    out.print(t)
    return {"tornado": tor.table, "sobol": sob.table}


def simulate(
    workspace: WorkspaceArg = DEMO,
    trials: Annotated[
        int | None,
        typer.Option(
            "--trials",
            "-n",
            min=1,
            help="Simulated years (default: the workspace's simulation_years, the headline run "
            "every surface shows).",
        ),
    ] = None,
    seed: Annotated[
        int | None,
        typer.Option(
            min=0,
            help="Seed: the same seed, the same figures (default: the workspace's "
            "simulation_seed).",
        ),
    ] = None,
    out_file: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Write the statistics table (.csv, .parquet or .json); the exceedance curve "
            "and the plans go next to it (FILE.exceedance.csv, FILE.plans.csv).",
        ),
    ] = None,
    chunk_size: Annotated[
        int | None, typer.Option(min=1, help="Trials per chunk (default: sized to the memory).")
    ] = None,
    workers: Annotated[int, typer.Option(min=1, help="Processes to run chunks on.")] = 1,
    scheduler: Annotated[
        str | None,
        typer.Option(
            help="Dask scheduler address (tcp://HOST:PORT): run the chunks on that cluster "
            "instead of local processes (--workers is then not used). The workers need riskapp "
            "installed; the figures equal a local run's with the same seed.",
        ),
    ] = None,
    progress: Annotated[bool, typer.Option("--progress/--no-progress")] = True,
    scenario: Annotated[
        list[str] | None,
        typer.Option("--scenario", "-s", help="Scenario id to include (repeatable; default all)."),
    ] = None,
    distribution: Annotated[
        RangeDistribution, typer.Option(help="How shock values are drawn from their ranges.")
    ] = RangeDistribution.PERT,
    basis: Annotated[
        LossBasis | None, typer.Option(help="Loss basis (default: the workspace's setting).")
    ] = None,
    plans: Annotated[
        bool, typer.Option("--plans/--no-plans", help="Simulate residual loss with plans.")
    ] = True,
    assets: Annotated[
        bool, typer.Option("--assets/--no-assets", help="One row per asset in --out.")
    ] = True,
    dependencies: Annotated[
        Path | None,
        typer.Option(
            help=f"Dependency shares (CSV/XLSX: {', '.join(DEPENDENCY_COLUMNS)}); default: "
            f"{DEPENDENCIES} in the workspace if it exists."
        ),
    ] = None,
    top: Annotated[int, typer.Option(help="Rows in each top-contributors table.")] = 8,
    sensitivity: Annotated[
        bool,
        typer.Option(
            "--sensitivity/--no-sensitivity",
            help="Also show which inputs move the loss: a tornado (each scenario's frequency "
            "x0.5-x1.5, each factor's intensity -1..+1 point, each shock across its range; "
            "expected annual loss and 99 %% VaR at both ends) and Sobol indices of the expected "
            "annual loss. With --out, written to FILE.tornado and FILE.sobol.",
        ),
    ] = False,
    sobol_samples: Annotated[
        int,
        typer.Option(
            min=2, help="Base points of the Sobol indices (a power of 2; N x (inputs + 2) runs)."
        ),
    ] = 256,
    source: SourceOpt = SourceName.auto,
    probabilities: ProbabilitiesOpt = ProbabilitiesName.prior,
) -> None:
    """Monte Carlo: annual loss distribution (mean, VaR, expected shortfall, exceedance curve
    with confidence band), tail contributions, residual loss and benefit-cost ratios."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from riskapp.cli.common import assessment, check_out, err, fail, out
    from riskapp.engine.montecarlo import prepare_simulation, run
    from riskapp.io.dependencies import dependency_file
    from riskapp.io.errors import InputError
    from riskapp.io.export import write_table

    check_out(out_file)
    a = assessment(workspace, scenario, source, basis, probabilities=probabilities)
    ws = a.ws
    trials = ws.settings.simulation_years if trials is None else trials
    seed = ws.settings.simulation_seed if seed is None else seed
    # the source's own dependency links unless a file is named; a broken file is an error here
    dep_path = dependencies
    if dep_path is None and a.link_problems:
        dep_path = dependency_file(workspace)
    links: list[DependencyLink] | None = list(a.links) or None
    if dep_path is not None:
        try:
            links = load_dependencies(dep_path, ws.portfolio)
        except InputError as exc:
            fail(exc.problems)
    fmt = NumberFormat(currency=ws.settings.currency)
    # from the assessment's own score and plan evaluation: the workspace is scored once
    sim = prepare_simulation(
        ws,
        distribution=distribution,
        basis=basis,
        plans=plans,
        links=links,
        inputs=a.inputs,
        result=a.result,
        evaluation=a.plans,
    )
    client: Any = None
    if scheduler is not None:
        from riskapp.engine.distributed import connect

        try:
            client = connect(scheduler)
        except OSError as exc:
            err.print(
                f"[bold red]Cannot reach the Dask scheduler:[/bold red] {exc}", highlight=False
            )
            raise typer.Exit(1) from None

    def simulate_years(report: Any = None) -> SimulationResult:
        if client is None:
            return run(sim, trials, seed, chunk_size=chunk_size, workers=workers, progress=report)
        from riskapp.engine.distributed import run_distributed

        return run_distributed(sim, trials, seed, client, chunk_size=chunk_size, progress=report)

    try:
        if progress:
            with Progress(
                "[progress.description]{task.description}",
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                console=err,
                transient=True,
            ) as bar:
                task = bar.add_task("simulating years", total=trials)
                result = simulate_years(lambda done, _total: bar.update(task, completed=done))
        else:
            result = simulate_years()
    finally:
        if client is not None:
            client.close()

    out.rule(Text(f"Monte Carlo - {ws.settings.name}", style="bold"))
    n_links = 0 if links is None else len(links)
    out.print(
        f"{trials:,} years, seed {seed}, shocks drawn {distribution.value}; losses are "
        f"{sim.model.basis.value}; {len(ws.portfolio):,} assets in {sim.model.n_groups:,} groups; "
        f"{n_links} dependency links"
        + ("" if scheduler is None else f"; run on the Dask cluster at {scheduler}"),
        highlight=False,
    )
    out.print(_summary(result, fmt))
    port = result.portfolio_table().to_dict("records")[0]
    if port["mean"] > 0 and port["se_mean"] / port["mean"] > SE_WARNING:
        out.print(
            Text(
                f"The standard error is {fmt.percent(port['se_mean'] / port['mean'])} of the mean: "
                "run more trials for stable figures.",
                style="yellow",
            )
        )
    if result.overflow_trials():
        out.print(
            Text(
                f"In {result.overflow_trials()} simulated years some asset lost more than its "
                "exposed value (several severe scenarios in one year; losses add up).",
                style="yellow",
            )
        )
    curve = result.exceedance()
    t = Table(title="Loss exceedance curve (90 % confidence band)")
    for col in ("1 in N years", "loss", "band"):
        t.add_column(col, justify="right", no_wrap=True)
    for _, row in curve.iterrows():
        t.add_row(
            f"{row['return_period_years']:g}",
            fmt.money(row["loss"]),
            f"{fmt.money(row['lower'])} - {fmt.money(row['upper'])}",
        )
    out.print(t)
    out.print(_top(result.factor_table(), "Contributions to the tail by factor", fmt, top))
    out.print(_top(result.scenario_table(), "Contributions to the tail by scenario", fmt, top))
    out.print(_top(result.country_table(), "Contributions to the tail by country", fmt, top))
    # the largest contributors found without per-asset distributions, then only theirs built
    contributions = result.asset_contributions()
    largest = contributions.sort_values("tail_es_99", ascending=False).head(top).index
    out.print(
        _top(
            result.asset_table(largest.to_numpy()),
            "Contributions to the tail by asset",
            fmt,
            top,
            float(contributions["tail_es_99"].sum()),
        )
    )
    plan_table = result.plan_table()
    if len(plan_table):
        t = Table(title="Plans on their own: benefit-cost ratio over the plan horizon")
        t.add_column("plan", overflow="fold")
        for col in ("averted a year", "BCR mean", "5-95 %", "P(BCR >= 1)"):
            t.add_column(col, justify="right", no_wrap=True)
        for _, row in plan_table.iterrows():
            t.add_row(
                Text(str(row["plan_id"])),
                fmt.money(row["averted_mean"]),
                fmt.ratio(row["bcr_mean"]),
                f"{fmt.ratio(row['bcr_p5'])} - {fmt.ratio(row['bcr_p95'])}",
                fmt.percent(row["prob_bcr_at_least_1"]),
            )
        out.print(t)
    extra: dict[str, Any] = {}
    if sensitivity:
        extra = _sensitivity(ws, sim, trials, seed, sobol_samples, fmt, top)
    if out_file is not None:
        write_table(result.summary_table(assets=assets), out_file)
        written = [out_file]
        for name, table in extra.items():
            side = out_file.with_name(f"{out_file.stem}.{name}{out_file.suffix}")
            write_table(table, side)
            written.append(side)
        side = out_file.with_name(f"{out_file.stem}.exceedance{out_file.suffix}")
        write_table(curve, side)
        written.append(side)
        if len(plan_table):
            side = out_file.with_name(f"{out_file.stem}.plans{out_file.suffix}")
            write_table(
                plan_table.assign(effective_in=plan_table["effective_in"].map(";".join)), side
            )
            written.append(side)
        out.print("Written: " + ", ".join(str(p) for p in written), highlight=False)


def register(app: typer.Typer) -> None:
    """Add `simulate` to a command line."""
    app.command("simulate")(simulate)
