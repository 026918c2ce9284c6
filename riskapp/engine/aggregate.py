"""Aggregations of a score by asset, country, region group, asset type, factor and scenario.

Each table has one row per key, one column per scenario (loss in the workspace currency) and
an `eal` column (expected annual loss). Rows add up to the portfolio totals for every
dimension except region groups: groups may overlap (a country can be Nordic and Arctic), so
their rows add up only when the groups do not.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

import numpy as np
import pandas as pd

from riskapp.domain.regions import RegionCatalogue
from riskapp.domain.workspace import Workspace
from riskapp.engine.scoring import ScoreResult

Dimension = Literal["asset", "country", "region_group", "asset_type", "factor", "scenario"]
DIMENSIONS: tuple[Dimension, ...] = (
    "asset",
    "country",
    "region_group",
    "asset_type",
    "factor",
    "scenario",
)


def _with_eal(
    values: np.ndarray, eal: np.ndarray, index: list[str], result: ScoreResult, name: str
) -> pd.DataFrame:
    table = pd.DataFrame(values, index=pd.Index(index, name=name), columns=result.scenario_ids)
    table["eal"] = eal
    return table


def losses_by(ws: Workspace, result: ScoreResult, dimension: Dimension) -> pd.DataFrame:
    """Loss per scenario and expected annual loss, by the chosen dimension.

    The loss columns are the losses on the workspace's basis; `eal` counts the status quo once
    and each scenario's increment over it (see `riskapp.engine.scoring`). By scenario,
    `increment` is the loss above the status quo and `contribution_to_eal` = frequency x
    increment; the status-quo loss (`ScoreResult.status_quo_loss`) completes the total."""
    portfolio = ws.portfolio
    if dimension == "scenario":
        table = pd.DataFrame(
            {
                "frequency": result.frequencies,
                "loss": result.scenario_loss(),
                "increment": result.scenario_increment(),
            },
            index=pd.Index(result.scenario_ids, name="scenario"),
        )
        table["contribution_to_eal"] = table["frequency"] * table["increment"]
        return table
    if dimension == "factor":
        factor_eal = (
            result.status_quo_factor_loss()
            + result.frequencies @ result.scenario_factor_increment()
        )
        return _with_eal(
            result.scenario_factor_loss().T, factor_eal, result.factor_ids, result, "factor"
        )
    loss = result.asset_loss()
    eal = result.asset_eal()[:, np.newaxis]
    if dimension == "asset":
        return _with_eal(loss, eal[:, 0], portfolio.series("id").tolist(), result, "asset")
    if dimension == "asset_type":
        codes, uniques = pd.factorize(portfolio.series("type"), sort=True)
        n = len(uniques)
        return _with_eal(
            _sum_rows(loss, codes, n),
            _sum_rows(eal, codes, n)[:, 0],
            list(uniques),
            result,
            "asset_type",
        )
    n_c = len(result.countries)
    by_country = _sum_rows(loss, result.inputs.country_index, n_c)
    eal_country = _sum_rows(eal, result.inputs.country_index, n_c)[:, 0]
    present = np.unique(result.inputs.country_index)
    if dimension == "country":
        return _with_eal(
            by_country[present],
            eal_country[present],
            [result.countries[i] for i in present],
            result,
            "country",
        )
    return _by_region_group(by_country, eal_country, result, ws.regions)


def _sum_rows(values: np.ndarray, codes: np.ndarray, n: int) -> np.ndarray:
    out = np.zeros((n, values.shape[1]))
    np.add.at(out, codes, values)
    return out


def _by_region_group(
    by_country: np.ndarray, eal_country: np.ndarray, result: ScoreResult, regions: RegionCatalogue
) -> pd.DataFrame:
    c_index = {c: i for i, c in enumerate(result.countries)}
    rows, eals, names = [], [], []
    for group in regions.groups:
        idx = [c_index[c] for c in group.members if c in c_index]
        rows.append(by_country[idx].sum(axis=0) if idx else np.zeros(by_country.shape[1]))
        eals.append(float(eal_country[idx].sum()) if idx else 0.0)
        names.append(group.id)
    values = np.array(rows) if rows else np.zeros((0, len(result.scenario_ids)))
    return _with_eal(values, np.array(eals, dtype=float), names, result, "region_group")


def loss_table(ws: Workspace, result: ScoreResult) -> pd.DataFrame:
    """Long table: one row per (scenario, asset) with damage ratio, loss and loss by factor."""
    parts = list(loss_table_parts(ws, result))
    if not parts:
        return pd.DataFrame()
    out = pd.concat(parts, ignore_index=True)
    assert len(out) == len(ws.portfolio) * len(result.scenario_ids)
    return out


def loss_table_parts(ws: Workspace, result: ScoreResult) -> Iterator[pd.DataFrame]:
    """`loss_table` one scenario at a time (its rows in the same order), so that a writer can
    stream a million assets x twenty scenarios without holding the whole long table."""
    portfolio = ws.portfolio
    damage = result.asset_damage_ratio()  # (A, S)
    for s_i, sid in enumerate(result.scenario_ids):
        part = pd.DataFrame(
            {
                "scenario_id": sid,
                "asset_id": portfolio.series("id"),
                "asset_name": portfolio.series("name"),
                "asset_type": portfolio.series("type"),
                "country": portfolio.series("country"),
                "exposed_value": result.inputs.exposed_value,
                "damage_ratio": damage[:, s_i],
                "loss": result.inputs.exposed_value * damage[:, s_i],
            }
        )
        factor_loss = result.asset_factor_loss(s_i)
        for f_i, fid in enumerate(result.factor_ids):
            part[f"loss_{fid}"] = factor_loss[:, f_i]
        yield part


def key_figures(ws: Workspace, result: ScoreResult) -> dict[str, float | str]:
    """The scoring's own summary numbers (engine level, no simulation): the expected annual
    loss, the largest single-scenario loss and losses read from the per-scenario exceedance
    curve (`scenario_curve_loss_at_<rp>y`, one scenario a year). The headline set every surface
    shows, with its simulated tail, is `riskapp.assessment.headline`."""
    losses = result.scenario_loss()
    worst = int(np.argmax(losses)) if len(losses) else -1
    figures: dict[str, float | str] = {
        "assets": float(len(ws.portfolio)),
        "exposed_value": result.total_exposed_value,
        "expected_annual_loss": result.expected_annual_loss(),
        "worst_scenario": result.scenario_ids[worst] if worst >= 0 else "",
        "worst_scenario_loss": float(losses[worst]) if worst >= 0 else 0.0,
    }
    for rp, loss in result.loss_at_return_periods(ws.settings.return_periods).items():
        figures[f"scenario_curve_loss_at_{rp:g}y"] = loss
    return figures
