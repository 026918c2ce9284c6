"""Saved assessments: what to keep of a scored workspace, and what changed between two.

An assessment keeps a fingerprint of its inputs (every asset's fields, each plan's editable
fields and a hash of its definition, the baseline values, a hash per scenario, curve, factor and
region group, the settings) and its results (key figures, expected annual loss by asset,
country, factor, asset type and scenario). Comparing two says how each figure moved and which
inputs changed that could explain it.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd

from riskapp.domain import LossBasis, Workspace
from riskapp.engine import PlanEvaluation, ScoreResult, evaluate_plans, losses_by, score
from riskapp.store.auth import Actor
from riskapp.store.store import AssessmentSummary, SavedAssessment, Store

KEY_FIGURES = {
    "portfolio_value": "Portfolio value",
    "expected_annual_loss": "Expected annual loss",
    "worst_scenario_loss": "Largest single-scenario loss",
    "loss_1_in_100": "1-in-100-year loss",
    "var_99": "Value at risk 99 %",
    "es_99": "Expected shortfall 99 %",
    "residual_eal": "Expected annual loss after plans",
    "averted_eal": "Expected annual loss averted by plans",
}
DIMENSIONS = ("asset", "country", "factor", "asset_type", "scenario")


def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def fingerprint(ws: Workspace) -> dict[str, Any]:
    """The inputs of an assessment, compact enough to keep and detailed enough to explain."""
    frame = ws.portfolio.frame
    assets = {}
    for record in frame.to_dict(orient="records"):
        clean = {
            k: (None if isinstance(v, float) and math.isnan(v) else v)  # no coordinates
            for k, v in record.items()
        }
        assets[str(clean.pop("id"))] = clean
    plans = {
        p.id: {"status": p.status.value, "owner": p.owner, "definition": _digest(p.model_dump())}
        for p in ws.plans.plans
    }
    curves = {
        f"{c.asset_type or 'asset:' + str(c.asset_id)}/{c.factor}": _digest(c.model_dump())
        for c in ws.curves.curves
    }
    return {
        "settings": ws.settings.model_dump(mode="json"),
        "factors": {f.id: _digest(f.model_dump()) for f in ws.factors.factors},
        "regions": {g.id: _digest(g.model_dump()) for g in ws.regions.groups},
        "curves": curves,
        "baseline": {f"{e.country}/{e.factor}": e.intensity for e in ws.baseline.entries},
        "scenarios": {
            s.id: {
                "hash": _digest(s.model_dump(mode="json")),
                "frequency": s.frequency,
                "factors": sorted({sh.factor for sh in s.shocks}),
            }
            for s in ws.scenarios
        },
        "assets": assets,
        "plans": plans,
    }


def results_of(
    ws: Workspace,
    result: ScoreResult | None = None,
    plans: PlanEvaluation | None = None,
    simulated: Mapping[str, float] | None = None,
) -> dict[str, Any]:
    """Key figures and expected annual loss by dimension, JSON-ready.

    `simulated` holds the figures read from the headline simulation (the assessment layer's
    `Headline.as_dict()`): the 1-in-100-year loss, VaR and ES 99 % are kept only from it, so a
    saved figure is the one every surface showed; without it they are left out."""
    result = result if result is not None else score(ws)
    plans = plans if plans is not None else evaluate_plans(ws, result)
    losses = result.scenario_loss()
    figures = {
        "portfolio_value": float(result.total_exposed_value),
        "expected_annual_loss": float(result.expected_annual_loss()),
        "worst_scenario_loss": float(losses.max()) if len(losses) else 0.0,
        "residual_eal": float(plans.residual_eal()),
        "averted_eal": float(plans.gross_eal() - plans.residual_eal()),
    }
    if simulated is not None:
        for key, source in (
            ("loss_1_in_100", "loss_at_100y"),
            ("var_99", "var_99"),
            ("es_99", "es_99"),
            ("simulated_mean", "simulated_mean"),
            ("simulation_years", "simulation_years"),
            ("simulation_seed", "simulation_seed"),
        ):
            if source in simulated:
                figures[key] = float(simulated[source])
    eal: dict[str, dict[str, float]] = {}
    for dim in DIMENSIONS:
        table = losses_by(ws, result, dim)  # type: ignore[arg-type]
        column = "contribution_to_eal" if dim == "scenario" else "eal"
        eal[dim] = {str(k): float(v) for k, v in table[column].items()}
    return {
        "currency": ws.settings.currency,
        "basis": result.basis.value,
        "key_figures": figures,
        "eal": eal,
    }


@dataclass(frozen=True)
class InputChange:
    """One input that differs between two assessments."""

    part: str  # asset, plan, scenario, baseline, curve, factor, region, settings
    key: str
    what: str
    country: str = ""
    factors: tuple[str, ...] = ()

    def __str__(self) -> str:
        return f"{self.part} {self.key}: {self.what}"


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.0f}" if value.is_integer() else f"{value:,.6g}"
    if isinstance(value, list):
        return ";".join(str(v) for v in value) or "(none)"
    return "(none)" if value in (None, "") else str(value)


def _keyed_changes(part: str, a: Mapping[str, Any], b: Mapping[str, Any]) -> list[InputChange]:
    out = []
    for key in sorted(set(a) | set(b)):
        if key not in a:
            out.append(InputChange(part, key, "added"))
        elif key not in b:
            out.append(InputChange(part, key, "removed"))
        elif a[key] != b[key]:
            out.append(InputChange(part, key, "changed"))
    return out


def input_changes(a: Mapping[str, Any], b: Mapping[str, Any]) -> list[InputChange]:
    """Which inputs changed from fingerprint `a` to fingerprint `b`."""
    out: list[InputChange] = []
    sa, sb = a.get("settings", {}), b.get("settings", {})
    for key in sorted(set(sa) | set(sb)):
        if sa.get(key) != sb.get(key):
            out.append(InputChange("settings", key, f"{_fmt(sa.get(key))} -> {_fmt(sb.get(key))}"))
    aa, ab = a.get("assets", {}), b.get("assets", {})
    for key in sorted(set(aa) | set(ab)):
        if key not in aa:
            out.append(InputChange("asset", key, "added", ab[key].get("country", "")))
        elif key not in ab:
            out.append(InputChange("asset", key, "removed", aa[key].get("country", "")))
        else:
            fields = [
                f"{f} {_fmt(aa[key].get(f))} -> {_fmt(ab[key].get(f))}"
                for f in sorted(set(aa[key]) | set(ab[key]))
                if aa[key].get(f) != ab[key].get(f)
            ]
            if fields:
                out.append(InputChange("asset", key, "; ".join(fields), ab[key].get("country", "")))
    pa, pb = a.get("plans", {}), b.get("plans", {})
    for key in sorted(set(pa) | set(pb)):
        if key not in pa or key not in pb:
            out.append(InputChange("plan", key, "added" if key not in pa else "removed"))
            continue
        parts = [
            f"{f} {_fmt(pa[key][f])} -> {_fmt(pb[key][f])}"
            for f in ("status", "owner")
            if pa[key][f] != pb[key][f]
        ]
        if pa[key]["definition"] != pb[key]["definition"] and not parts:
            parts.append("trigger, actions, coverage or effect changed")
        if parts:
            out.append(InputChange("plan", key, "; ".join(parts)))
    ba, bb = a.get("baseline", {}), b.get("baseline", {})
    for key in sorted(set(ba) | set(bb)):
        if ba.get(key) != bb.get(key):
            country, factor = key.split("/", 1)
            out.append(
                InputChange(
                    "baseline",
                    key,
                    f"intensity {_fmt(ba.get(key))} -> {_fmt(bb.get(key))}",
                    country,
                    (factor,),
                )
            )
    sca, scb = a.get("scenarios", {}), b.get("scenarios", {})
    for key in sorted(set(sca) | set(scb)):
        before, after = sca.get(key), scb.get(key)
        if before == after:
            continue
        factors = tuple(
            sorted(set((before or {}).get("factors", [])) | set((after or {}).get("factors", [])))
        )
        if before is None or after is None:
            out.append(
                InputChange(
                    "scenario", key, "added" if before is None else "removed", factors=factors
                )
            )
        elif before["frequency"] != after["frequency"]:
            out.append(
                InputChange(
                    "scenario",
                    key,
                    f"frequency {_fmt(before['frequency'])} -> {_fmt(after['frequency'])}",
                    factors=factors,
                )
            )
        else:
            out.append(InputChange("scenario", key, "shocks or narrative changed", factors=factors))
    for part, name in (("curves", "curve"), ("factors", "factor"), ("regions", "region")):
        for change in _keyed_changes(name, a.get(part, {}), b.get(part, {})):
            factors = (change.key.rsplit("/", 1)[-1],) if name == "curve" else ()
            if name == "factor":
                factors = (change.key,)
            out.append(InputChange(name, change.key, change.what, factors=factors))
    return out


@dataclass(frozen=True)
class Comparison:
    """Two saved assessments side by side."""

    before: SavedAssessment
    after: SavedAssessment
    key_figures: pd.DataFrame
    by: dict[str, pd.DataFrame]
    changes: list[InputChange]

    @property
    def same_inputs(self) -> bool:
        return self.before.summary.inputs_hash == self.after.summary.inputs_hash


def _why(
    dim: str,
    key: str,
    changes: list[InputChange],
    asset_country: Mapping[str, str],
    asset_type: Mapping[str, str],
) -> str:
    reasons: list[str] = []
    if dim == "asset":
        reasons += [c.what for c in changes if c.part == "asset" and c.key == key]
        country = asset_country.get(key, "")
        reasons += [str(c) for c in changes if c.part == "baseline" and c.country == country]
        kind = asset_type.get(key, "")
        reasons += [
            str(c)
            for c in changes
            if c.part == "curve" and c.key.split("/")[0] in (kind, f"asset:{key}")
        ]
    elif dim == "country":
        reasons += [str(c) for c in changes if c.part == "asset" and c.country == key]
        reasons += [str(c) for c in changes if c.part == "baseline" and c.country == key]
    elif dim == "factor":
        reasons += [
            str(c)
            for c in changes
            if c.part in {"baseline", "scenario", "curve", "factor"} and key in c.factors
        ]
    elif dim == "asset_type":
        reasons += [str(c) for c in changes if c.part == "curve" and c.key.split("/")[0] == key]
        reasons += [str(c) for c in changes if c.part == "asset" and asset_type.get(c.key) == key]
    elif dim == "scenario":
        reasons += [str(c) for c in changes if c.part == "scenario" and c.key == key]
    return "; ".join(reasons)


def compare(before: SavedAssessment, after: SavedAssessment) -> Comparison:
    """How each figure moved from `before` to `after`, and which inputs changed."""
    changes = input_changes(before.inputs, after.inputs)
    kb = before.results.get("key_figures", {})
    ka = after.results.get("key_figures", {})
    figures = pd.DataFrame(
        [
            {
                "figure": label,
                "before": kb.get(key, float("nan")),
                "after": ka.get(key, float("nan")),
            }
            for key, label in KEY_FIGURES.items()
        ]
    )
    figures["change"] = figures["after"] - figures["before"]
    assets_all = {**before.inputs.get("assets", {}), **after.inputs.get("assets", {})}
    asset_country = {k: str(v.get("country", "")) for k, v in assets_all.items()}
    asset_type = {k: str(v.get("type", "")) for k, v in assets_all.items()}
    global_changes = [c for c in changes if c.part in {"settings", "scenario", "plan", "region"}]
    note = "; ".join(str(c) for c in global_changes[:3])
    if len(global_changes) > 3:
        note += f"; and {len(global_changes) - 3} more"
    by = {}
    for dim in DIMENSIONS:
        eb = before.results.get("eal", {}).get(dim, {})
        ea = after.results.get("eal", {}).get(dim, {})
        keys = sorted(set(eb) | set(ea))
        table = pd.DataFrame(
            {
                dim: keys,
                "before": [eb.get(k, 0.0) for k in keys],
                "after": [ea.get(k, 0.0) for k in keys],
            }
        )
        table["change"] = table["after"] - table["before"]
        whys = []
        for k, delta in zip(keys, table["change"], strict=True):
            why = _why(dim, k, changes, asset_country, asset_type)
            if not why and abs(delta) > 1e-9 and note:
                why = f"other inputs: {note}"
            whys.append(why)
        table["why"] = whys
        order = table["change"].abs().sort_values(ascending=False, kind="stable").index
        by[dim] = table.loc[order].reset_index(drop=True)
    return Comparison(before, after, figures, by, changes)


def trend(summaries: Sequence[AssessmentSummary]) -> pd.DataFrame:
    """Key figures of saved assessments in date order (one row per assessment), for a chart."""
    rows = []
    for s in summaries:
        row = {"id": s.id, "label": s.label, "as_of": pd.Timestamp(s.as_of)}
        for key, label in KEY_FIGURES.items():
            row[label] = s.key_figures.get(key, float("nan"))
        rows.append(row)
    columns = ["id", "label", "as_of", *KEY_FIGURES.values()]
    return pd.DataFrame(rows, columns=columns).sort_values(["as_of", "id"], kind="stable")


def save_current(
    store: Store,
    label: str,
    as_of: date,
    actor: Actor,
    basis: LossBasis | None = None,
) -> AssessmentSummary:
    """Score the store's workspace (files plus the stored register and plans) and save it."""
    ws = store.workspace()
    result = score(ws, basis=basis)
    return store.save_assessment(label, as_of, fingerprint(ws), results_of(ws, result), actor)
