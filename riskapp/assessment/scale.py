"""Shocks that hit the scale's limit: the one clamp table every surface draws.

The 0-10 intensity scale clamps: a country already at 9 gains 1 point from `add 3`, one at 10
gains nothing, so a scenario that adds the same points everywhere understates it where the
factor is already worst. `clamp_table` lists every place that happened (scenario, shock target,
country, factor, the intensity before the shock, what the shock asked for, what was used and
what was lost), with the assets that sit there. `riskapp validate` prints it as warnings,
`riskapp score` summarises it, the Scenarios page and every report show it. The fix is usually
a headroom operation (`toward_max`, `toward_min`), which never clamps.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from riskapp.domain import Workspace, country_name
from riskapp.engine import ScoreInputs, prepare, scenario_intensities_with_clamps

CLAMP_COLUMNS = [
    "scenario_id",
    "scenario",
    "shock",
    "target",
    "country",
    "country_name",
    "factor_id",
    "factor",
    "op",
    "value",
    "before",
    "unclamped",
    "clamped",
    "lost",
    "limit",
    "assets",
    "exposed_value",
]


def clamp_table(ws: Workspace, inputs: ScoreInputs | None = None) -> pd.DataFrame:
    """One row per (scenario, shock, country) where the shock ran past the 0-10 scale.

    Columns (`CLAMP_COLUMNS`): scenario id and title, `shock` (its position in the scenario
    file, from 1), the shock's `target` (country or region group), the `country` clamped and
    its name, factor id and name, the shock's `op` and `value`, the intensity `before` the
    shock, the `unclamped` result of the operation, the `clamped` intensity the scenario uses,
    `lost` (unclamped - clamped, positive at the top of the scale, negative at the bottom),
    `limit` ("10" or "0"), and the `assets` in that country with their `exposed_value` in the
    workspace currency. Rows in scenario order, then largest loss of intensity first. Empty
    (with these columns) when nothing clamped. `inputs`: the arrays already prepared for
    scoring (`Assessment.inputs`); prepared here when not given.
    """
    inputs = inputs or prepare(ws)
    countries, factors = inputs.countries, inputs.factor_ids
    n = len(countries)
    assets = np.bincount(inputs.country_index, minlength=n).astype(np.int64)
    value = np.bincount(inputs.country_index, weights=inputs.exposed_value, minlength=n)
    _, c = scenario_intensities_with_clamps(
        inputs.baseline, countries, factors, ws.scenarios, ws.regions
    )
    if not len(c):
        return pd.DataFrame({k: pd.Series(dtype=object) for k in CLAMP_COLUMNS})
    names = {f.id: f.name for f in ws.factors.factors}
    shocks = [ws.scenarios[s].shocks[k] for s, k in zip(c.scenario, c.shock, strict=True)]
    codes = [countries[i] for i in c.country]
    factor_ids = [factors[j] for j in c.factor]
    frame = pd.DataFrame(
        {
            "scenario_id": [ws.scenarios[s].id for s in c.scenario],
            "scenario": [ws.scenarios[s].title for s in c.scenario],
            "shock": c.shock + 1,
            "target": [s.target for s in shocks],
            "country": codes,
            "country_name": [country_name(x) for x in codes],
            "factor_id": factor_ids,
            "factor": [names.get(f, f) for f in factor_ids],
            "op": [s.op.value for s in shocks],
            "value": [s.value for s in shocks],
            "before": c.before,
            "unclamped": c.unclamped,
            "clamped": c.clamped,
            "lost": c.lost,
            "limit": np.where(c.lost > 0, "10", "0"),
            "assets": assets[c.country],
            "exposed_value": value[c.country],
            "_order": c.scenario,
            "_size": -np.abs(c.lost),
        }
    )
    frame = frame.sort_values(["_order", "_size", "shock", "country"], kind="stable")
    return frame[CLAMP_COLUMNS].reset_index(drop=True)


def _points(v: float) -> str:
    return f"{v:g} point" + ("" if v == 1 else "s")


def shock_text(op: str, value: float, target: str) -> str:
    """A shock as written in its file, in words: 'add +3 to eu', 'scale 1.5 to NOR'."""
    sign = "+" if op == "add" and value >= 0 else ""
    return f"{op} {sign}{value:g} to {target}"


def clamp_lines(table: pd.DataFrame) -> list[str]:
    """Each clamp in words, for text surfaces (validate, logs): 'energy_winter, shock 1
    (add +3 to eu): LVA energy_weaponization 9.5 -> 12.5, held at 10 (2.5 points lost;
    2 assets there)'. Unescaped: each surface escapes for its medium."""
    out = []
    for row in table.to_dict("records"):
        lost, assets = abs(float(row["lost"])), int(row["assets"])
        shock = shock_text(str(row["op"]), float(row["value"]), str(row["target"]))
        out.append(
            f"{row['scenario_id']}, shock {row['shock']} ({shock}): "
            f"{row['country']} {row['factor_id']} {float(row['before']):g} "
            f"-> {float(row['unclamped']):g}, held at {row['limit']} ({_points(lost)} lost; "
            f"{assets} asset{'' if assets == 1 else 's'} there)"
        )
    return out


def clamp_summary(table: pd.DataFrame) -> str:
    """One sentence on the clamps ('' if none): how many, in which scenarios, the largest.
    Unescaped: each surface escapes for its medium."""
    if not len(table):
        return ""
    scenarios: Sequence[str] = list(dict.fromkeys(table["scenario_id"]))
    worst = table.iloc[int(np.argmax(np.abs(table["lost"].to_numpy(dtype=float))))]
    with_assets = int((table["assets"] > 0).sum())
    n = len(table)
    return (
        f"{n} shocked intensit{'y' if n == 1 else 'ies'} ran past the 0-10 scale and "
        f"{'was' if n == 1 else 'were'} clamped, in "
        f"{len(scenarios)} scenario{'s' if len(scenarios) != 1 else ''} "
        f"({', '.join(scenarios)}); {with_assets} of them in countries "
        f"holding assets; the largest: {_points(abs(float(worst['lost'])))} of "
        f"{worst['factor_id']} in {worst['country']} "
        f"({worst['scenario_id']}). Such a scenario gives these places less than "
        "it says; a headroom shock (op toward_max or toward_min) moves a fraction of the "
        "distance to the scale's end and never clamps."
    )
