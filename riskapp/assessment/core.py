"""One assessment behind every surface: a source's workspace scored under all its scenarios,
with its plans evaluated, and the headline figures every page, command and report shows."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import numpy as np
import pandas as pd

from riskapp.assessment.headline import Headline, HeadlineFigure, compute
from riskapp.assessment.headline import figures as headline_figures
from riskapp.assessment.scale import clamp_table
from riskapp.assessment.signposts import ProbabilityUpdate, SignpostStatus

if TYPE_CHECKING:
    from riskapp.assessment.changes import RefreshChanges
from riskapp.assessment.sources import (
    FileSource,
    MemorySource,
    Snapshot,
    SourceInfo,
    SyncStatus,
    WorkspaceSource,
    as_source,
    sync_status,
)
from riskapp.domain import LossBasis, Workspace, country_name
from riskapp.domain.assets import DependencyLink
from riskapp.engine import (
    PlanEvaluation,
    ScoreInputs,
    ScoreResult,
    evaluate_plans,
    losses_by,
    prepare,
    score,
)
from riskapp.engine.plans import TriggerSignals
from riskapp.format import Locale, NumberFormat
from riskapp.io.errors import InputError, Problem

Probabilities = Literal["prior", "current"]

if TYPE_CHECKING:
    from riskapp.assessment.risk import RiskRun
    from riskapp.engine.montecarlo import Simulation


_LOCALE_FREE = (
    "clamps",
    "prepared_simulation",
    "simulation",
    "headline",
)  # cached figures a locale does not change


T = TypeVar("T")


def memo(a: Assessment, key: str, build: Callable[[], T]) -> T:
    """`build()` once per assessment and key, kept on the assessment (it goes with it): for
    tables a page redraws on every widget change (the map's zones, routes and flows)."""
    kept: dict[str, Any] = a.__dict__.setdefault("_memo", {})
    if key not in kept:
        kept[key] = build()
    found: T = kept[key]
    return found


@dataclass(frozen=True)
class Assessment:
    """A workspace scored under all its scenarios, with its plans evaluated, and where its
    inputs came from (`source`: kind, revision, fingerprint) with the dependency links of the
    same source (for simulations)."""

    ws: Workspace
    inputs: ScoreInputs
    result: ScoreResult
    plans: PlanEvaluation
    source: SourceInfo
    links: tuple[DependencyLink, ...] = ()
    link_problems: tuple[str, ...] = ()
    locale: Locale = "en"  # of numbers, money and dates; a report sets its own (`with_locale`)
    # "prior": the scenarios' probabilities as written; "current": as their crossed signposts
    # make them (riskapp.assessment.signposts); the updates (prior -> current of each
    # scenario) are there whenever the team database gives the signposts values
    probabilities: Probabilities = "prior"
    probability_updates: tuple[ProbabilityUpdate, ...] = ()
    # red signposts and current probabilities, for plan triggers on them (None: no indicators)
    signals: TriggerSignals | None = None
    # what the latest refresh changed (riskapp.assessment.changes), for the team database
    refresh_changes: RefreshChanges | None = None
    # every scenario's signposts as the team database's indicators give them (None: no database)
    signposts: tuple[SignpostStatus, ...] | None = None

    @property
    def currency(self) -> str:
        return self.ws.settings.currency

    @cached_property
    def sync(self) -> SyncStatus | None:
        """For an assessment of the team database: what differs between its register and plans
        and those of the workspace's files (None for other sources, or when the files cannot
        be read). Computed once, on first use."""
        if self.source.kind != "store" or not self.source.folder:
            return None
        try:
            # the comparison reads no dependency links: it compares the register and plans
            files = FileSource(Path(self.source.folder)).load(links=False)
        except InputError:
            return None
        return sync_status(files, Snapshot(self.ws, self.source))

    @cached_property
    def clamps(self) -> pd.DataFrame:
        """Every place a scenario's shock ran past the 0-10 scale and was clamped, with the
        assets there (`riskapp.assessment.scale.clamp_table`); empty when none did."""
        return clamp_table(self.ws, self.inputs)

    @property
    def revision(self) -> str:
        """The source's revision: what caches of figures derived from this assessment key on."""
        return self.source.revision

    @property
    def fmt(self) -> NumberFormat:
        """The one number format of every surface: the workspace currency in `locale`."""
        return NumberFormat(currency=self.currency, locale=self.locale)

    @cached_property
    def prepared_simulation(self) -> Simulation:
        """The workspace compiled for the Monte Carlo on this assessment's loss basis, with
        its source's dependency links (what every run of any length or seed starts from);
        compiled once, on first use."""
        from riskapp.engine.montecarlo import prepare_simulation

        links = list(self.links) or None
        return prepare_simulation(
            self.ws,
            basis=self.result.basis,
            links=links,
            inputs=self.inputs,
            result=self.result,
            evaluation=self.plans,
        )

    @cached_property
    def simulation(self) -> RiskRun:
        """The headline simulation: the workspace's `simulation_years` with its
        `simulation_seed`, on this assessment's loss basis, with its source's dependency links.
        Run once, on first use; the Risk page's default run is the same."""
        from riskapp.assessment.risk import simulate

        s = self.ws.settings
        return simulate(self, s.simulation_years, s.simulation_seed)

    @cached_property
    def headline(self) -> Headline:
        """The headline numbers (exact expected annual loss and its check, the simulated tail,
        the largest scenario loss, plans), unformatted; computed once, on first use."""
        return compute(self)

    def with_locale(self, locale: Locale) -> Assessment:
        """The same assessment with numbers written in another locale (the figures computed
        so far are kept: a locale changes how they are written, not what they are)."""
        if locale == self.locale:
            return self
        other = replace(self, locale=locale)
        for name in _LOCALE_FREE:
            if name in self.__dict__:
                other.__dict__[name] = self.__dict__[name]
        return other

    def with_scenarios(self, scenario_ids: Sequence[str]) -> Assessment:
        """The same assessment restricted to some scenarios (in that order), rescored."""
        if list(scenario_ids) == list(self.result.scenario_ids):
            return self
        ws = self.ws.with_scenarios(list(scenario_ids))
        result = score(ws, basis=self.result.basis, inputs=self.inputs)
        return replace(self, ws=ws, result=result, plans=evaluate_plans(ws, result, self.signals))


NO_ASSETS = (
    "the register has no assets yet: list them in the workspace's assets.csv (riskapp init "
    "wrote its header) or import a register into the team database (riskapp import); riskapp "
    "validate checks them"
)


NO_INDICATORS = (
    "current probabilities read the signposts' indicators in the team database: assess the "
    "team database's source (--source store)"
)


def assess(
    source: WorkspaceSource | Workspace | str | Path,
    basis: LossBasis | None = None,
    scenarios: Sequence[str] | None = None,
    probabilities: Probabilities = "prior",
) -> Assessment:
    """Score a source's workspace and evaluate its plans: the one assessment the CLI, the
    dashboard, the Python API and every report format compute from.

    `source` is a WorkspaceSource (FileSource, StoreSource, MemorySource), a workspace folder
    (its files) or a Workspace (in memory); `basis` overrides the workspace's loss basis;
    `scenarios` restricts and orders the scenarios; `probabilities` "current" scores them at
    the probabilities their crossed signposts give (read from the team database's indicators).
    Raises riskapp.InputError listing every problem of the inputs, KeyError for an unknown
    scenario id."""
    src = as_source(source)
    snap = src.load()
    ws = snap.ws.with_scenarios(list(scenarios)) if scenarios else snap.ws
    from riskapp.assessment.signposts import (
        board,
        probability_updates,
        trigger_signals,
        with_probabilities,
    )

    updates: tuple[ProbabilityUpdate, ...] = ()
    statuses: tuple[SignpostStatus, ...] | None = None
    signals = None
    changes = None
    store = getattr(src, "store", None)
    if store is not None:  # the signposts' values: indicators in the team database, read once
        from riskapp.assessment.changes import refresh_changes

        statuses = tuple(board(ws, store))
        updates = tuple(probability_updates(ws, statuses))
        signals = trigger_signals(statuses, updates)
        changes = refresh_changes(store)
    if probabilities == "current":
        if statuses is None:
            raise InputError([Problem("probabilities", None, "", NO_INDICATORS)])
        ws = with_probabilities(ws, list(updates))
    if not len(ws.portfolio):
        raise InputError([Problem(snap.info.location or "the register", None, "", NO_ASSETS)])
    inputs = prepare(ws)
    result = score(ws, basis=basis, inputs=inputs)
    return Assessment(
        ws,
        inputs,
        result,
        evaluate_plans(ws, result, signals),
        snap.info,
        snap.links,
        snap.link_problems,
        probabilities=probabilities,
        probability_updates=updates,
        signals=signals,
        refresh_changes=changes,
        signposts=statuses,
    )


def assess_workspace(ws: Workspace, basis: LossBasis | None = None) -> Assessment:
    """An in-memory workspace's assessment (what-if and tests)."""
    return assess(MemorySource(ws), basis)


def key_figures(a: Assessment) -> list[HeadlineFigure]:
    """The headline figures of `a`, formatted in its locale, with their definitions: what the
    Overview, `riskapp score` and every report show (`riskapp.assessment.headline`)."""
    return headline_figures(a.headline, a.fmt)


def largest_first(
    frame: pd.DataFrame, column: str = "eal", tie: str = "id", top: int | None = None
) -> pd.DataFrame:
    """`frame` with the largest `column` first, equal values in ascending `tie` (a column or
    the index's name): the order every surface lists assets, scenarios, factors and regions
    in, so that the CLI, the dashboard and the reports list tied rows alike. With `top`, the
    first `top` rows only: the rows below the top-th largest value are left out before the
    sort (a register of 100,000 assets for a list of ten)."""
    if top is not None and 0 < top < len(frame):
        values = frame[column].to_numpy(dtype=float)
        known = values[~np.isnan(values)]  # (a blank value sorts last)
        if len(known) > top:
            frame = frame[values >= np.partition(known, len(known) - top)[len(known) - top]]
    ordered = frame.sort_values([column, tie], ascending=[False, True], kind="stable")
    return ordered if top is None else ordered.head(top)


def largest_total_first(table: pd.DataFrame) -> pd.DataFrame:
    """The rows of a table of amounts (a heat map's rows: countries or region groups by
    factor) with the largest row total first, equal totals in the table's own order: the
    Overview's heat map and the reports' list them alike."""
    if not len(table):
        return table
    return table.loc[table.sum(axis=1).sort_values(ascending=False, kind="stable").index]


def asset_table(a: Assessment) -> pd.DataFrame:
    """One row per asset: register columns, exposed value, EAL and dominant factor."""
    frame = a.ws.portfolio.frame
    r = a.result
    eal_by_factor = r.asset_factor_eal()
    dominant = np.where(
        eal_by_factor.sum(axis=1) > 0,
        np.asarray(r.factor_ids, dtype=object)[eal_by_factor.argmax(axis=1)],
        "",
    )
    out = frame[
        ["id", "name", "type", "country", "subdivision", "lat", "lon", "owner", "criticality"]
    ].copy()
    out["country_name"] = [country_name(c) for c in out["country"]]
    out["tags"] = frame["tags"].map(", ".join)
    out["depends_on"] = frame["depends_on"].map(", ".join)
    out["exposed_value"] = r.inputs.exposed_value
    out["eal"] = r.asset_eal()
    out["dominant_factor"] = dominant
    return out


def country_factor_eal(a: Assessment) -> pd.DataFrame:
    """Expected annual loss by country (rows) and factor (columns)."""
    r = a.result
    n_c = len(r.countries)
    out = np.zeros((n_c, len(r.factor_ids)))
    np.add.at(out, r.inputs.country_index, r.asset_factor_eal())
    present = np.unique(r.inputs.country_index)
    return pd.DataFrame(
        out[present],
        index=pd.Index([r.countries[i] for i in present], name="country"),
        columns=r.factor_ids,
    )


def group_factor_eal(a: Assessment) -> pd.DataFrame:
    """Expected annual loss by region group (rows, may overlap) and factor (columns)."""
    by_country = country_factor_eal(a)
    rows = {}
    for g in a.ws.regions.groups:
        members = [c for c in g.members if c in by_country.index]
        if members:
            rows[g.id] = by_country.loc[members].sum(axis=0)
    # one column per factor even when no asset lies in any group (an empty table, not none)
    return pd.DataFrame(rows, index=by_country.columns).T.rename_axis("region_group")


def country_losses(a: Assessment) -> pd.DataFrame:
    table = losses_by(a.ws, a.result, "country")
    value = (
        pd.Series(a.result.inputs.exposed_value)
        .groupby(a.ws.portfolio.series("country").to_numpy())
        .sum()
    )
    out = pd.DataFrame({"eal": table["eal"], "exposed_value": value.reindex(table.index)})
    out["country_name"] = [country_name(c) for c in out.index]
    return out
