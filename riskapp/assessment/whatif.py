"""The numbers behind the Scenarios page: what-if rescoring and the page's tables (no Streamlit).

What-if: each factor's delta (in intensity points) is added to one scenario's intensities in
the chosen countries, the result is clamped to 0-10 and only that scenario is rescored, with the
arrays prepared once for the cached assessment (`Assessment.inputs`). The unmodified figures
are rescored the same way, so zero deltas give exactly the unmodified figures.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from riskapp.assessment.core import Assessment
from riskapp.domain import Scenario, Workspace, country_name
from riskapp.domain.scenarios import ShockOperation
from riskapp.engine import ScoreResult, losses_by, score
from riskapp.engine.exceedance import exceedance_frequencies
from riskapp.engine.intensity import apply_shock
from riskapp.engine.scoring import status_quo_damage
from riskapp.text import plain

FloatArray = npt.NDArray[np.float64]

# the range the page's sliders offer, in intensity points
DELTA_MIN, DELTA_MAX, DELTA_STEP = -5.0, 5.0, 0.5

CompareDimension = Literal["region_group", "factor", "asset_type"]
COMPARE_DIMENSIONS: dict[CompareDimension, str] = {
    "region_group": "Region group",
    "factor": "Factor",
    "asset_type": "Asset type",
}


# -- what-if ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class WhatIf:
    """One scenario rescored with factor deltas, next to its unmodified figures.

    `by_factor` (index: factor id) and `by_country` (index: ISO code of every country holding
    an asset) have columns `base`, `what_if` and `change`, in the workspace currency.
    """

    scenario_id: str
    region: str | None
    countries: list[str]  # countries the deltas were applied to (those the engine knows)
    deltas: dict[str, float]  # intensity points per factor, as asked
    frequency: float
    base_intensities: FloatArray  # (C, F)
    intensities: FloatArray  # (C, F) after the deltas, clamped to 0-10
    base_loss: float
    loss: float
    base_increment: float  # loss above the status quo, unmodified (what the EAL counts)
    increment: float  # loss above the status quo, with the deltas
    portfolio_eal_base: float
    by_factor: pd.DataFrame
    country_base: pd.Series  # loss by country (ISO index), unmodified
    country_loss: FloatArray  # the same countries' loss with the deltas

    @cached_property
    def by_country(self) -> pd.DataFrame:
        """Loss by country: `base`, `what_if`, `change` (built when first read: a slider move
        that shows no country table does not build it)."""
        return _compare(self.country_base, self.country_loss, "country")

    @property
    def loss_change(self) -> float:
        return self.loss - self.base_loss

    @property
    def base_eal_contribution(self) -> float:
        """Annual probability x increment (loss above the status quo) of the unmodified
        scenario."""
        return self.frequency * self.base_increment

    @property
    def eal_contribution(self) -> float:
        return self.frequency * self.increment

    @property
    def eal_change(self) -> float:
        """Change of the portfolio's expected annual loss (only this scenario changes)."""
        return self.eal_contribution - self.base_eal_contribution

    @property
    def portfolio_eal(self) -> float:
        return self.portfolio_eal_base + self.eal_change

    @property
    def active(self) -> bool:
        """True when any delta is non-zero."""
        return any(v != 0 for v in self.deltas.values())


def region_countries(a: Assessment, region: str | None) -> list[str]:
    """Countries (of those the engine indexes) that a region names: None or "" = all countries,
    a region group id = its members, else one ISO 3166-1 alpha-3 code."""
    known = a.inputs.countries
    if not region:
        return list(known)
    if a.ws.regions.is_group(region):
        members = set(a.ws.regions.members(region))
        return [c for c in known if c in members]
    if region in known:
        return [region]
    raise ValueError(
        f"unknown region {region!r}; expected a region group id or a country with a baseline"
    )


def what_if(
    a: Assessment,
    scenario_id: str,
    deltas: Mapping[str, float],
    region: str | None = None,
) -> WhatIf:
    """Rescore one scenario with `deltas` (intensity points per factor id) added to its
    intensities in `region` (None = every country), clamped to 0-10."""
    r = a.result
    s = r.scenario_ids.index(a.ws.scenario(scenario_id).id)
    f_index = {f: j for j, f in enumerate(r.factor_ids)}
    unknown = [f for f in deltas if f not in f_index]
    if unknown:
        raise ValueError(
            f"unknown factor(s) {', '.join(unknown)}; expected one of {', '.join(r.factor_ids)}"
        )
    countries = region_countries(a, region)
    rows = a.inputs.places.country_rows(countries)  # every place of those countries
    base_int = r.intensities[s].copy()
    shift = np.zeros(len(r.factor_ids))
    for fid, value in deltas.items():
        shift[f_index[fid]] = float(value)
    modified = base_int.copy()
    if len(rows):
        modified[rows] = apply_shock(modified[rows], ShockOperation.ADD, shift)
    unmodified = _unmodified(a, r.scenario_ids[s])
    new = score(
        unmodified.ws,
        basis=r.basis,
        inputs=a.inputs,
        intensities=modified[np.newaxis],
        status_quo=unmodified.status_quo,
    )
    return WhatIf(
        scenario_id=scenario_id,
        region=region,
        countries=countries,
        deltas={f: float(v) for f, v in deltas.items()},
        frequency=float(r.frequencies[s]),
        base_intensities=base_int,
        intensities=modified,
        base_loss=unmodified.loss,
        loss=float(new.scenario_loss()[0]),
        base_increment=unmodified.increment,
        increment=float(new.scenario_increment()[0]),
        portfolio_eal_base=unmodified.portfolio_eal,
        by_factor=_compare(unmodified.by_factor, new.scenario_factor_loss()[0], "factor"),
        country_base=unmodified.by_country,
        country_loss=_country_sums(new)[unmodified.present],
    )


@dataclass(frozen=True)
class _Unmodified:
    """One scenario of an assessment rescored alone at its own intensities: what every what-if
    of that scenario is compared with (rescored the same way as the what-if, so that zero
    deltas give exactly these figures)."""

    ws: Workspace  # the workspace with only this scenario
    status_quo: FloatArray  # the baseline's damage, which no what-if changes
    portfolio_eal: float  # every scenario's, unmodified
    loss: float
    increment: float
    by_factor: pd.Series
    by_country: pd.Series
    present: npt.NDArray[np.int64]  # the countries (engine index) that hold assets


_UNMODIFIED: dict[int, dict[str, _Unmodified]] = {}  # id(assessment) -> scenario -> figures


def _unmodified(a: Assessment, scenario_id: str) -> _Unmodified:
    """`_Unmodified` of a scenario, computed once per assessment (a slider move rescores only
    the what-if; the entry goes when the assessment does)."""
    per = _UNMODIFIED.get(id(a))
    if per is None:
        per = _UNMODIFIED.setdefault(id(a), {})
        weakref.finalize(a, _UNMODIFIED.pop, id(a), None)
    found = per.get(scenario_id)
    if found is None:
        r = a.result
        s = r.scenario_ids.index(scenario_id)
        ws = a.ws.with_scenarios([scenario_id])
        status_quo = status_quo_damage(ws, a.inputs)
        base = score(
            ws,
            basis=r.basis,
            inputs=a.inputs,
            intensities=r.intensities[s][np.newaxis],
            status_quo=status_quo,
        )
        found = _Unmodified(
            ws=ws,
            status_quo=status_quo,
            portfolio_eal=r.expected_annual_loss(),
            loss=float(base.scenario_loss()[0]),
            increment=float(base.scenario_increment()[0]),
            by_factor=pd.Series(base.scenario_factor_loss()[0], index=r.factor_ids),
            by_country=_country_loss(base),
            present=np.unique(a.inputs.country_index),
        )
        per[scenario_id] = found
    return found


def _country_sums(result: ScoreResult) -> FloatArray:
    """Loss of the (one) scenario summed by country (engine index, every country)."""
    return np.bincount(
        result.inputs.country_index,
        weights=result.asset_loss()[:, 0],
        minlength=len(result.countries),
    ).astype(np.float64, copy=False)


def _country_loss(result: ScoreResult) -> pd.Series:
    """Loss by country holding assets (ISO index)."""
    present = np.unique(result.inputs.country_index)
    return pd.Series(_country_sums(result)[present], index=[result.countries[i] for i in present])


def _compare(base: pd.Series, new: FloatArray, name: str) -> pd.DataFrame:
    """base, what_if and change, indexed as `base` (`new`: the what-if values in that order)."""
    b = base.to_numpy(dtype=float)
    n = np.asarray(new, dtype=float)
    return pd.DataFrame({"base": b, "what_if": n, "change": n - b}, index=base.index.rename(name))


ALL_COUNTRIES = ""  # the region option that applies deltas everywhere (no group or country id)


def region_options(a: Assessment) -> list[str]:
    """What-if regions worth offering: all countries (`ALL_COUNTRIES`), the region groups that
    hold an asset, then each country that holds an asset (by name)."""
    held = set(a.ws.portfolio.series("country").tolist())
    groups = [g.id for g in a.ws.regions.groups if held & set(g.members)]
    countries = sorted(held & set(a.inputs.countries), key=country_name)
    return [ALL_COUNTRIES, *groups, *countries]


def region_label(ws: Workspace, region: str | None) -> str:
    if not region:
        return "All countries"
    for g in ws.regions.groups:
        if g.id == region:
            return f"{g.name} (group)"
    return f"{country_name(region)} (country)"


# -- scenario details ------------------------------------------------------------------------
def target_label(ws: Workspace, target: str) -> str:
    """A shock target as a reader knows it: 'Baltic states (group)' or 'Norway (NOR)'."""
    for g in ws.regions.groups:
        if g.id == target:
            return f"{g.name} (group)"
    name = country_name(target)
    return name if name == target else f"{name} ({target})"


def shock_table(ws: Workspace, scenario: Scenario) -> pd.DataFrame:
    """One row per shock, in file order: target, factor name, operation, value, range, the
    countries the target covers and the shock's note."""
    names = {f.id: f.name for f in ws.factors.factors}
    ops = {
        "set": "set to",
        "add": "add",
        "scale": "multiply by",
        "toward_max": "move toward 10 by the fraction",
        "toward_min": "move toward 0 by the fraction",
    }
    rows = [
        {
            "target": target_label(ws, s.target),
            "factor": names.get(s.factor, s.factor),
            "op": ops[s.op.value],
            "value": s.value,
            "range": (
                f"{s.range.low:g} to {s.range.high:g} (most likely {s.range.mode:g})"
                if s.range
                else ""
            ),
            "countries": ", ".join(ws.regions.members(s.target)),
            "note": s.note,
        }
        for s in scenario.shocks
    ]
    columns = ["target", "factor", "op", "value", "range", "countries", "note"]
    return pd.DataFrame(rows, columns=columns)


def signpost_table(scenario: Scenario) -> pd.DataFrame:
    rows = [
        {
            "name": p.name,
            "indicator": p.indicator,
            "watch_for": f"{p.direction.value} {p.threshold:g}",
            "description": p.description,
        }
        for p in scenario.signposts
    ]
    return pd.DataFrame(rows, columns=["name", "indicator", "watch_for", "description"])


def markdown_safe(table: pd.DataFrame, headers: Mapping[str, str]) -> pd.DataFrame:
    """A table for `st.table` (which renders cells as Markdown): the columns in `headers`,
    renamed, every cell shown literally; numbers as '2.5', empty columns left out."""

    def cell(value: object) -> str:
        text = f"{value:g}" if isinstance(value, float) else str(value)
        return plain(" ".join(text.split()))

    keep = [c for c in headers if (table[c].astype(str) != "").any()]
    out = pd.DataFrame({plain(headers[c]): [cell(v) for v in table[c]] for c in keep})
    return out


@dataclass(frozen=True)
class ScenarioFacts:
    loss: float
    frequency: float
    eal_contribution: float
    eal_share: float  # of the portfolio's expected annual loss, 0-1
    rank: int  # 1 = largest loss
    count: int


def scenario_facts(a: Assessment, scenario_id: str) -> ScenarioFacts:
    r = a.result
    s = r.scenario_ids.index(scenario_id)
    losses = r.scenario_loss()
    loss = float(losses[s])
    eal = r.expected_annual_loss()
    contribution = float(r.eal_contribution()[s])
    return ScenarioFacts(
        loss=loss,
        frequency=float(r.frequencies[s]),
        eal_contribution=contribution,
        eal_share=contribution / eal if eal > 0 else 0.0,
        rank=int((losses > loss).sum()) + 1,
        count=len(losses),
    )


def return_period_text(frequency: float) -> str:
    """'about once in 7 years' for an annual probability."""
    if frequency <= 0:
        return "never (probability 0)"
    if frequency >= 1:
        return "every year"
    return f"about once in {1 / frequency:.0f} years"


# -- comparison ------------------------------------------------------------------------------
def default_comparison(a: Assessment, n: int = 2) -> list[str]:
    """The `n` scenarios with the largest loss, in workspace order."""
    losses = a.result.scenario_loss()
    top = set(np.argsort(-losses, kind="stable")[:n].tolist())
    return [sid for i, sid in enumerate(a.result.scenario_ids) if i in top]


def compare_table(
    a: Assessment, scenario_ids: Sequence[str], dimension: CompareDimension
) -> pd.DataFrame:
    """Loss of each chosen scenario (columns, in the given order) by region group, factor or
    asset type (rows labelled for readers), largest first; rows with no loss in any chosen
    scenario are left out."""
    table = losses_by(a.ws, a.result, dimension)[list(scenario_ids)]
    if dimension == "factor":
        names = {f.id: f.name for f in a.ws.factors.factors}
    elif dimension == "region_group":
        names = {g.id: g.name for g in a.ws.regions.groups}
    else:
        names = {t: str(t).replace("_", " ").capitalize() for t in table.index}
    table = table[(table > 0).any(axis=1)]
    table = table.loc[table.max(axis=1).sort_values(ascending=False, kind="stable").index]
    out = table.copy()
    out.insert(0, "label", [names.get(str(k), str(k)) for k in table.index])
    return out


# -- exceedance ------------------------------------------------------------------------------
def exceedance_points(a: Assessment) -> pd.DataFrame:
    """One row per scenario that can occur, on the portfolio's exceedance curve: its loss, the
    frequency with which that loss is reached or exceeded and the return period, ordered by
    rising return period (as `exceedance_curve` orders them)."""
    r = a.result
    keep = np.flatnonzero(r.frequencies > 0)
    event = r.event_loss()
    order = keep[np.argsort(-event[keep], kind="stable")]
    exceed = exceedance_frequencies(event[order], r.frequencies[order])
    titles = {s.id: s.title for s in a.ws.scenarios}
    out = pd.DataFrame(
        {
            "scenario_id": [r.scenario_ids[i] for i in order],
            "title": [titles[r.scenario_ids[i]] for i in order],
            "frequency": r.frequencies[order],
            "loss": event[order],
            "exceedance_frequency": exceed,
            "return_period_years": 1.0 / exceed,
        }
    )
    return out.iloc[::-1].reset_index(drop=True)


def exceedance_line(a: Assessment, points: int = 200) -> pd.DataFrame:
    """The curve the engine reads return-period losses from (linear in the return period,
    clamped at its ends), sampled on a log grid that reaches the workspace's return periods."""
    curve = a.result.exceedance()
    if curve.empty:
        return pd.DataFrame({"return_period_years": [], "loss": []})
    rp = curve["return_period_years"].to_numpy()
    hi = max(float(rp.max()), *a.ws.settings.return_periods)
    lo = min(float(rp.min()), *a.ws.settings.return_periods)
    grid = np.unique(np.concatenate([np.geomspace(lo, hi, points), rp]))
    return pd.DataFrame(
        {"return_period_years": grid, "loss": np.interp(grid, rp, curve["loss"].to_numpy())}
    )


def return_period_losses(a: Assessment) -> pd.DataFrame:
    values = a.result.loss_at_return_periods(list(a.ws.settings.return_periods))
    return pd.DataFrame(
        {"return_period_years": list(values), "loss": list(values.values())},
    )
