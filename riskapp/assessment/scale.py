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
    "at",
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
# what a page shows of one scenario's clamps: ids and the scale's limit are left to the data
SHOWN_CLAMP_COLUMNS = [
    c
    for c in CLAMP_COLUMNS
    if c not in {"scenario_id", "scenario", "country", "factor_id", "limit"}
]
AT_VALUE, AT_LOW, AT_HIGH = "value", "range low", "range high"


def _range_ends(ws: Workspace) -> dict[str, np.ndarray]:
    """Shock values (flattened over scenarios in file order) with every ranged shock at the
    low and at the high end of its range: the extremes the Monte Carlo draws from."""
    shocks = [sh for sc in ws.scenarios for sh in sc.shocks]
    if not any(sh.range is not None and sh.range.high > sh.range.low for sh in shocks):
        return {}
    return {
        AT_LOW: np.array([sh.range.low if sh.range else sh.value for sh in shocks], dtype=float),
        AT_HIGH: np.array([sh.range.high if sh.range else sh.value for sh in shocks], dtype=float),
    }


def clamp_table(ws: Workspace, inputs: ScoreInputs | None = None) -> pd.DataFrame:
    """One row per (scenario, shock, country) where the shock ran past the 0-10 scale.

    Shocks are checked at their values (`at` = "value": the figures every surface shows) and,
    for scenarios with uncertainty ranges, with every ranged shock at the low and at the high
    end of its range ("range low", "range high": the extremes the Monte Carlo draws, where a
    clamp flattens the tail); a range-end row that repeats a clamp at the value is left out.

    Columns (`CLAMP_COLUMNS`): scenario id and title, `shock` (its position in the scenario
    file, from 1), `at`, the shock's `target` (country or region group), the `country` clamped
    and its name, factor id and name, the shock's `op` and the `value` used, the intensity
    `before` the shock, the `unclamped` result of the operation, the `clamped` intensity used,
    `lost` (unclamped - clamped, positive at the top of the scale, negative at the bottom),
    `limit` ("10" or "0"), and the `assets` in that country with their `exposed_value` in the
    workspace currency. Rows in scenario order, clamps at the value first, then the largest
    loss of intensity. Empty (with these columns) when nothing clamped. `inputs`: the arrays
    already prepared for scoring (`Assessment.inputs`); prepared here when not given.
    """
    inputs = inputs or prepare(ws)
    countries, factors, places = inputs.countries, inputs.factor_ids, inputs.places
    # by place: a country's own place holds its assets outside every zone; a zoned place
    # those in its zones (riskapp.engine.places)
    n = places.count
    assets = np.bincount(inputs.place_index, minlength=n).astype(np.int64)
    value = np.bincount(inputs.place_index, weights=inputs.exposed_value, minlength=n)
    names = {f.id: f.name for f in ws.factors.factors}
    offsets = np.cumsum([0] + [len(sc.shocks) for sc in ws.scenarios])
    parts = []
    ends: dict[str, np.ndarray | None] = {AT_VALUE: None, **_range_ends(ws)}
    for rank, (at, values) in enumerate(ends.items()):
        _, c = scenario_intensities_with_clamps(
            inputs.place_baseline,
            countries,
            factors,
            ws.scenarios,
            ws.regions,
            values,
            places,
            ws.zones,
        )
        if not len(c):
            continue
        shocks = [ws.scenarios[s].shocks[k] for s, k in zip(c.scenario, c.shock, strict=True)]
        codes = [countries[i] for i in c.country]
        factor_ids = [factors[j] for j in c.factor]
        used = (
            [sh.value for sh in shocks]
            if values is None
            else values[offsets[c.scenario] + c.shock].tolist()
        )
        parts.append(
            pd.DataFrame(
                {
                    "scenario_id": [ws.scenarios[s].id for s in c.scenario],
                    "scenario": [ws.scenarios[s].title for s in c.scenario],
                    "shock": c.shock + 1,
                    "at": at,
                    "target": [sh.target for sh in shocks],
                    "country": codes,
                    "country_name": [
                        country_name(x) + places.zones_text(int(p))
                        for x, p in zip(codes, c.place, strict=True)
                    ],
                    "factor_id": factor_ids,
                    "factor": [names.get(f, f) for f in factor_ids],
                    "op": [sh.op.value for sh in shocks],
                    "value": used,
                    "before": c.before,
                    "unclamped": c.unclamped,
                    "clamped": c.clamped,
                    "lost": c.lost,
                    "limit": np.where(c.lost > 0, "10", "0"),
                    "assets": assets[c.place],
                    "exposed_value": value[c.place],
                    "_order": c.scenario,
                    "_at": rank,
                    "_size": -np.abs(c.lost),
                }
            )
        )
    if not parts:
        return pd.DataFrame({k: pd.Series(dtype=object) for k in CLAMP_COLUMNS})
    frame = pd.concat(parts, ignore_index=True)
    same = ["scenario_id", "shock", "country_name", "factor_id", "value", "before"]
    frame = frame.drop_duplicates(same, keep="first")  # a range end equal to the value
    # the places of one country that the shock met at the same intensity are one row, with
    # their assets together and the country's plain name (zones made no difference there)
    key = ["scenario_id", "shock", "at", "country", "factor_id", "value", "before", "unclamped"]
    grouped = frame.groupby(key, sort=False, dropna=False)
    several = grouped["country"].transform("size") > 1
    if several.any():
        totals = grouped[["assets", "exposed_value"]].transform("sum")
        frame = frame.assign(
            assets=totals["assets"],
            exposed_value=totals["exposed_value"],
            country_name=frame["country_name"].where(~several, frame["country"].map(country_name)),
        ).drop_duplicates(key, keep="first")
    frame = frame.sort_values(["_order", "_at", "_size", "shock", "country"], kind="stable")
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
        at = "" if row["at"] == AT_VALUE else f" at its {row['at']}"
        out.append(
            f"{row['scenario_id']}, shock {row['shock']}{at} ({shock}): "
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
    at_ends = int((table["at"] != AT_VALUE).sum())
    split = (
        f" ({n - at_ends} at the shocks' values, {at_ends} only at the ends of their "
        "uncertainty ranges, which the Monte Carlo draws)"
        if at_ends
        else ""
    )
    where = "" if worst["at"] == AT_VALUE else f", at its {worst['at']}"
    return (
        f"{n} shocked intensit{'y' if n == 1 else 'ies'} ran past the 0-10 scale and "
        f"{'was' if n == 1 else 'were'} clamped{split}, in "
        f"{len(scenarios)} scenario{'s' if len(scenarios) != 1 else ''} "
        f"({', '.join(scenarios)}); {with_assets} of them in countries "
        f"holding assets; the largest: {_points(abs(float(worst['lost'])))} of "
        f"{worst['factor_id']} in {worst['country']} ({worst['scenario_id']}{where}). "
        "Such a scenario gives these places less than it says; a headroom shock (op "
        "toward_max or toward_min) moves a fraction of the distance to the scale's end and "
        "never clamps."
    )
