"""The tables the Risk distribution page draws, from a Monte Carlo run (no Streamlit).

The page simulates the workspace as `riskapp simulate` does (the same seed gives the same
figures), with the workspace's `dependencies.csv` if it has one, on the loss basis chosen in
the sidebar.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np
import pandas as pd

from riskapp.assessment.core import Assessment
from riskapp.assessment.headline import (
    LEVELS,
    HeadlineFigure,
    money_figure,
    portfolio_row,
    run_phrase,
    simulated_figures,
)
from riskapp.domain import country_name
from riskapp.domain.assets import DependencyLink
from riskapp.engine.cascade import CascadeResult, cascade_losses
from riskapp.engine.montecarlo import (
    CASCADE_FACTOR,
    Simulation,
    SimulationResult,
    prepare_simulation,
    run,
)
from riskapp.engine.sensitivity import (
    LossModel,
    SobolResult,
    Tornado,
    loss_model,
    portfolio_sobol,
    tornado,
)
from riskapp.format import NumberFormat

MIN_TRIALS = 500
MAX_TRIALS = 200_000
HISTOGRAM_BINS = 40
CASCADE_NAME = "Dependency cascade"
TORNADO_ROWS = 15
SOBOL_SAMPLE_CHOICES = (64, 128, 256, 512, 1024)
SENSITIVITY_CACHE = 16  # tornado and Sobol results kept (least recently used dropped)


# -- inputs ------------------------------------------------------------------------------------


def dependency_links(workspace: Path, a: Assessment) -> tuple[list[DependencyLink], list[str]]:
    """The workspace's dependency links (none without a file) and the problems of its file
    (a file with problems gives no links: the page simulates without cascades and says so)."""
    from riskapp.io.dependencies import dependency_file, load_dependencies
    from riskapp.io.errors import InputError

    path = dependency_file(workspace)
    if not path.exists():
        return [], []
    try:
        return load_dependencies(path, a.ws.portfolio), []
    except InputError as exc:
        return [], [str(p) for p in exc.problems]


@dataclass(frozen=True)
class RiskRun:
    """One simulation of the page: the result, its loss model for sensitivity, the links."""

    sim: Simulation
    result: SimulationResult
    links: list[DependencyLink]
    link_problems: list[str]

    @property
    def trials(self) -> int:
        return self.result.trials

    def loss_model(self, a: Assessment) -> LossModel:
        return loss_model(a.ws, self.sim, a.inputs)

    def cascades(self, a: Assessment) -> CascadeResult | None:
        """Each dependent's direct and cascade loss per scenario at the shocks' values (what
        `cascade_losses` gives for the run's links), from the run's model: its graph and
        deterministic cascades are compiled already. None without links."""
        c = self.sim.model.cascade
        if c is None:
            return None
        dep = c.graph.dependents
        rows = c.graph.assets[dep]
        ids = a.ws.portfolio.series("id").to_numpy(dtype=object)
        direct = a.result.increment[:, c.node_group[dep]] * c.dependent_value
        return CascadeResult(
            asset_ids=[str(x) for x in ids[rows]],
            scenario_ids=list(a.result.scenario_ids),
            frequencies=a.result.frequencies,
            direct_loss=direct.T.copy(),
            cascade_loss=c.nominal.T.copy(),
        )


def simulate(
    a: Assessment,
    trials: int,
    seed: int,
    links: list[DependencyLink] | None = None,
    link_problems: list[str] | None = None,
) -> RiskRun:
    """Simulate the assessment's workspace on its loss basis, plans and cascades included
    (by default with the dependency links of the assessment's own source, from the
    assessment's compiled model: a run of another length or seed compiles nothing again)."""
    if links is None:
        sim = a.prepared_simulation
        links, link_problems = list(a.links), list(a.link_problems)
    else:
        sim = prepare_simulation(
            a.ws,
            basis=a.result.basis,
            links=links or None,
            inputs=a.inputs,
            result=a.result,
            evaluation=a.plans,
        )
    return RiskRun(sim, run(sim, trials, seed), links, list(link_problems or []))


# -- headline figures -----------------------------------------------------------------------------


def headline(run_: RiskRun, fmt: NumberFormat) -> list[HeadlineFigure]:
    """The run's simulated mean (± its standard error), values at risk and expected
    shortfalls: the headline's own figures (`riskapp.assessment.headline.simulated_figures`),
    so the page's default run (the headline run) shows the Overview's numbers in the same
    words, and any other run the same figures of its own years."""
    r = run_.result
    row = portfolio_row(r)
    return simulated_figures(
        row["mean"],
        row["se_mean"],
        {level: row[f"var_{level}"] for level in LEVELS},
        {level: row[f"es_{level}"] for level in LEVELS},
        years=run_phrase(r.trials, r.seed),
        basis=run_.sim.model.basis,
        cascades=bool(run_.sim.model.n_dependents),
        fmt=fmt,
    )


def residual_figures(run_: RiskRun, fmt: NumberFormat) -> list[HeadlineFigure]:
    """Gross against residual (every effective plan applied); empty without plans."""
    r = run_.result
    if r.model.plans is None:
        return []
    gross, res = portfolio_row(r), portfolio_row(r, "residual")
    out = []
    for col, label in (
        ("mean", "Simulated mean annual loss"),
        ("var_99", "Value at risk 99 %"),
        ("es_99", "Expected shortfall 99 %"),
    ):
        saved = gross[col] - res[col]
        out.append(
            money_figure(
                fmt,
                f"residual_{col}",
                label,
                res[col],
                f"With every effective contingency plan applied: {fmt.money(res[col])} "
                f"against {fmt.money(gross[col])} without.",
                f"{fmt.money(saved)} less",
            )
        )
    return out


# -- distribution ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Histogram:
    """Bins of the years with a loss (`bins`: left, right, years, share) and the years with
    no loss at all, which a histogram of losses would hide in one tall bar at zero."""

    bins: pd.DataFrame
    zero_years: int
    trials: int


def histogram(loss: np.ndarray, bins: int = HISTOGRAM_BINS) -> Histogram:
    positive = loss[loss > 0]
    trials = len(loss)
    if not len(positive):
        frame = pd.DataFrame(columns=["left", "right", "years", "share"])
        return Histogram(frame, trials, trials)
    top = float(positive.max())
    edges = np.linspace(0.0, top if top > 0 else 1.0, bins + 1)
    counts, _ = np.histogram(positive, bins=edges)
    frame = pd.DataFrame(
        {
            "left": edges[:-1],
            "right": edges[1:],
            "years": counts.astype(int),
            "share": counts / trials,
        }
    )
    return Histogram(frame, trials - len(positive), trials)


def return_periods(trials: int, points: int = 40) -> list[float]:
    """Return periods from just over 1 year to the trial count, evenly on a log scale."""
    top = max(2.0, float(trials))
    return [float(v) for v in np.geomspace(1.05, top, points)]


def exceedance(run_: RiskRun, residual: bool = False) -> pd.DataFrame:
    """The exceedance curve with its 90 % band (see `SimulationResult.exceedance`)."""
    return run_.result.exceedance(return_periods(run_.trials), residual=residual)


# -- tail contributions -----------------------------------------------------------------------


def factor_tail(run_: RiskRun, a: Assessment) -> pd.DataFrame:
    """Each factor's share of the expected shortfall at 99 % (Euler allocation: they add up to
    the portfolio's ES), largest first, with its name; cascades are a part of their own.
    The chart gives each factor its colour (`riskapp.charts.risk.factor_tail_chart`)."""
    table = run_.result.factor_table()
    names = {f.id: f.name for f in a.ws.factors.factors}
    total = float(table["tail_es_99"].sum())
    out = pd.DataFrame(
        {
            "factor": table["key"],
            "name": [
                names.get(k, CASCADE_NAME if k == CASCADE_FACTOR else k) for k in table["key"]
            ],
            "tail_es_99": table["tail_es_99"],
            "share": table["tail_es_99"] / total if total > 0 else 0.0,
            "mean": table["mean"],
        }
    )
    return out.sort_values("tail_es_99", ascending=False).reset_index(drop=True)


def asset_tail(run_: RiskRun, a: Assessment, n: int = 10) -> pd.DataFrame:
    """The n assets with the largest share of the expected shortfall at 99 %."""
    table = run_.result.asset_contributions()
    frame = a.ws.portfolio.frame.set_index("id")
    top = table.nlargest(n, "tail_es_99")
    total = float(table["tail_es_99"].sum())
    ids = top["key"].tolist()
    return pd.DataFrame(
        {
            "id": ids,
            "name": frame.loc[ids, "name"].tolist(),
            "country": [country_name(c) for c in frame.loc[ids, "country"]],
            "tail_es_99": top["tail_es_99"].to_numpy(),
            "share": top["tail_es_99"].to_numpy() / total if total > 0 else 0.0,
            "mean": top["mean"].to_numpy(),
        }
    )


# -- sensitivity --------------------------------------------------------------------------------


def tornado_rows(table: pd.DataFrame, measure: str, n: int = TORNADO_ROWS) -> pd.DataFrame:
    """The n inputs with the largest swing in `measure` ('eal' or 'var'); inputs that move
    nothing are left out."""
    swing = table[f"{measure}_swing"]
    moving = table[swing > 1e-9 * max(1.0, float(swing.max()) if len(swing) else 1.0)]
    return moving.sort_values(f"{measure}_swing", ascending=False, kind="stable").head(n)


def sobol_rows(table: pd.DataFrame, floor: float = 0.005) -> pd.DataFrame:
    """Inputs whose first-order or total index reaches `floor`, largest total index first."""
    shown = table[np.maximum(table["s1"], table["st"]) >= floor]
    return shown.sort_values("st", ascending=False, kind="stable")


# -- sensitivity, on request and cached -----------------------------------------------------------

T = TypeVar("T")
Progress = Callable[[int, int], None]


class _Cache:
    """Results by key, least recently used dropped first; safe across the server's threads
    (one computation per key at a time: a second caller waits for the first's result)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.items: OrderedDict[Hashable, object] = OrderedDict()
        self.lock = threading.Lock()
        self.running: dict[Hashable, threading.Lock] = {}

    def get(self, key: Hashable) -> object | None:
        with self.lock:
            if key not in self.items:
                return None
            self.items.move_to_end(key)
            return self.items[key]

    def compute(self, key: Hashable, fn: Callable[[], T]) -> T:
        with self.lock:
            gate = self.running.setdefault(key, threading.Lock())
        with gate:
            found = self.get(key)
            if found is not None:
                return found  # type: ignore[return-value]
            value = fn()
            with self.lock:
                self.items[key] = value
                self.items.move_to_end(key)
                while len(self.items) > self.size:
                    self.items.popitem(last=False)
                self.running.pop(key, None)
            return value


_SENSITIVITY = _Cache(SENSITIVITY_CACHE)


def clear_sensitivity_cache() -> None:
    """Forget every cached tornado and Sobol result (tests; a server keeps them)."""
    with _SENSITIVITY.lock:
        _SENSITIVITY.items.clear()


def _key(a: Assessment, *rest: Hashable) -> tuple[Hashable, ...]:
    """What a sensitivity result depends on: the source's revision (files or team database),
    the loss basis and the scenarios assessed, then the analysis's own settings."""
    return (a.revision, a.result.basis.value, tuple(a.result.scenario_ids), *rest)


def cached_tornado(a: Assessment, trials: int, seed: int) -> Tornado | None:
    """The tornado of the run (trials, seed) if it was computed for this source revision."""
    found = _SENSITIVITY.get(_key(a, "tornado", trials, seed))
    return found if isinstance(found, Tornado) else None


def sensitivity_tornado(
    a: Assessment, run_: RiskRun, seed: int, progress: Progress | None = None
) -> Tornado:
    """The tornado of a run (each input at both ends of its range, VaR from the run's years),
    computed once per source revision, loss basis, trial count and seed."""
    key = _key(a, "tornado", run_.trials, seed)
    return _SENSITIVITY.compute(
        key, lambda: tornado(run_.loss_model(a), seed, run_.trials, progress=progress)
    )


def cached_sobol(a: Assessment, samples: int, seed: int) -> SobolResult | None:
    """The Sobol indices with `samples` base points and `seed` if computed for this source
    revision."""
    found = _SENSITIVITY.get(_key(a, "sobol", samples, seed))
    return found if isinstance(found, SobolResult) else None


def sensitivity_sobol(a: Assessment, run_: RiskRun, samples: int, seed: int) -> SobolResult:
    """Sobol indices of the expected annual loss, computed once per source revision, loss
    basis, sample size and seed. They do not depend on the simulated years (one result serves
    every trial count); the seed scrambles the sample points and draws the bootstrap, and is
    the run's seed, as `riskapp simulate --sensitivity` takes it, so both show the same."""
    return _SENSITIVITY.compute(
        _key(a, "sobol", samples, seed),
        lambda: portfolio_sobol(run_.loss_model(a), samples, seed=seed),
    )


# -- dependencies ---------------------------------------------------------------------------------


def dependents(links: list[DependencyLink], a: Assessment) -> list[str]:
    """Assets that have at least one link with a share, in register order."""
    with_links = {link.asset_id for link in links if link.share > 0}
    return [aid for aid in a.ws.portfolio.series("id").tolist() if aid in with_links]


def cascade_by_scenario(
    links: list[DependencyLink], a: Assessment, asset_id: str, run_: RiskRun | None = None
) -> pd.DataFrame:
    """One row per scenario: the asset's direct and cascade loss if the scenario occurs (at
    the shocks' values, as scored), and the cascade's share of its loss. With the run of
    those links, read from its model (no graph built again)."""
    c = run_.cascades(a) if run_ is not None else None
    if c is None:
        c = cascade_losses(a.ws, a.result, links)
    if asset_id not in c.asset_ids:
        return pd.DataFrame(columns=["scenario_id", "title", "direct", "cascade", "share"])
    d = c.asset_ids.index(asset_id)
    titles = {s.id: s.title for s in a.ws.scenarios}
    share = c.cascade_share()[d]
    frame = pd.DataFrame(
        {
            "scenario_id": c.scenario_ids,
            "title": [titles.get(s, s) for s in c.scenario_ids],
            "direct": c.direct_loss[d],
            "cascade": c.cascade_loss[d],
            "share": share,
            "frequency": c.frequencies,
        }
    )
    frame["total"] = frame["direct"] + frame["cascade"]
    frame = frame[frame["total"] > 0]
    return frame.sort_values("total", ascending=False).reset_index(drop=True)


@dataclass(frozen=True)
class Graph:
    """Nodes (id, name, type, x, y, role) and edges (source provider, target dependent, share,
    redundancy group) of the dependency graph around one asset: what it depends on, as far
    up as it goes, and what depends on it directly."""

    nodes: pd.DataFrame
    edges: pd.DataFrame


def dependency_graph(links: list[DependencyLink], a: Assessment, asset_id: str) -> Graph:
    frame = a.ws.portfolio.frame.set_index("id")
    by_dependent: dict[str, list[DependencyLink]] = {}
    by_provider: dict[str, list[DependencyLink]] = {}
    for link in links:
        if link.share > 0:
            by_dependent.setdefault(link.asset_id, []).append(link)
            by_provider.setdefault(link.depends_on, []).append(link)
    depth = {asset_id: 0}
    edges: list[dict[str, object]] = []
    frontier = [asset_id]
    while frontier:  # upstream, breadth first: a provider sits left of what depends on it
        nxt: list[str] = []
        for node in frontier:
            for link in by_dependent.get(node, []):
                edges.append(
                    {
                        "source": link.depends_on,
                        "target": node,
                        "share": link.share,
                        "group": link.redundancy_group or "",
                    }
                )
                if link.depends_on not in depth:
                    depth[link.depends_on] = depth[node] - 1
                    nxt.append(link.depends_on)
        frontier = nxt
    for link in by_provider.get(asset_id, []):  # direct dependents, right of it
        edges.append(
            {
                "source": asset_id,
                "target": link.asset_id,
                "share": link.share,
                "group": link.redundancy_group or "",
            }
        )
        depth.setdefault(link.asset_id, 1)
    rows = []
    for level in sorted(set(depth.values())):
        members = [n for n, d in depth.items() if d == level]
        for i, node in enumerate(members):
            rows.append(
                {
                    "id": node,
                    "name": str(frame.loc[node, "name"]),
                    "type": str(frame.loc[node, "type"]),
                    "country": country_name(str(frame.loc[node, "country"])),
                    "x": float(level),
                    "y": (len(members) - 1) / 2.0 - i,
                    "role": "asset"
                    if node == asset_id
                    else ("provider" if level < 0 else "dependent"),
                }
            )
    return Graph(
        nodes=pd.DataFrame(rows, columns=["id", "name", "type", "country", "x", "y", "role"]),
        edges=pd.DataFrame(edges, columns=["source", "target", "share", "group"]),
    )
