"""The numbers behind the Baseline data page (no Streamlit).

The page shows baselines built from public data by a methodology file (`riskapp.baseline`):
each factor's tree with its weights, the built intensity (0-10, 10 worst) by country, one
country's breakdown from indicators to the factor score, the built values next to the
workspace's own (analyst-set) baseline, and a what-if on the weights of a factor's top-level
components. The what-if rebuilds that one factor with `Method.with_weights` and rescores the
portfolio with the workspace baseline whose column for the factor is replaced by the rebuilt
values; every other factor keeps the workspace's values, so the change in expected annual
loss is the effect of that factor's baseline alone.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from riskapp.assessment.core import Assessment
from riskapp.baseline import BaselineResult, Method, compute, method_tree
from riskapp.baseline.indicators import SourceData
from riskapp.baseline.method import Aggregation, Source
from riskapp.domain import country_name
from riskapp.engine import score
from riskapp.engine.intensity import clamp_intensity

SOURCE_LABELS = {
    Source.GPR.value: "GPR",
    Source.WGI.value: "WGI",
    Source.EUROSTAT_GAS.value: "Eurostat",
    Source.UCDP.value: "UCDP",
    Source.TABLE.value: "expert table",
    Source.FILE.value: "own table",
}

AGGREGATION_TEXT = {
    Aggregation.MEAN.value: "weighted mean",
    Aggregation.GEOMETRIC_MEAN.value: "weighted geometric mean",
    Aggregation.COMPLEMENT_GEOMETRIC.value: (
        "complement-geometric mean (INFORM's 11 minus the geometric mean of 11 - score)"
    ),
    Aggregation.COMPLEMENT_PRODUCT.value: (
        "complement product (chance that at least one independent hazard strikes)"
    ),
    Aggregation.MAX.value: "maximum",
    Aggregation.SCALED_MAX.value: "scaled maximum (the highest weight x score)",
    Aggregation.MIN.value: "minimum",
    Aggregation.FIRST.value: "first child with data",
}

WEIGHT_MEANING = {
    Aggregation.MEAN.value: "Each weight is relative: the weights are re-normalised to add up to 1",
    Aggregation.GEOMETRIC_MEAN.value: (
        "Each weight is relative: the weights are re-normalised to add up to 1"
    ),
    Aggregation.COMPLEMENT_GEOMETRIC.value: (
        "Each weight is relative: the weights are re-normalised to add up to 1"
    ),
    Aggregation.COMPLEMENT_PRODUCT.value: (
        "Each weight is an exponent: 1 counts the part as a whole independent hazard, 0.5 as "
        "half of one"
    ),
    Aggregation.MAX.value: "A part weighted above 0 takes part in the maximum; 0 leaves it out",
    Aggregation.SCALED_MAX.value: (
        "Each weight is a scale factor: a part can raise the score to at most weight x its own"
    ),
    Aggregation.MIN.value: "A part weighted above 0 takes part in the minimum; 0 leaves it out",
    Aggregation.FIRST.value: "A part with a weight above 0 can be taken; 0 skips it",
}

WEIGHT_MAX = 10.0  # what-if weights offered on the page: 0 to this


def short_name(name: str, width: int = 42) -> str:
    """A node's name for a chart label: up to the first ' (' or ', ' (the qualifiers go to
    the hover), at most `width` characters."""
    text = name.strip()
    for sep in (" (", ", "):
        head = text.split(sep, 1)[0]
        if len(head) >= 12:
            text = head
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def is_imputed(status: str) -> bool:
    return status.startswith("imputed")


def status_text(status: str) -> str:
    """A node's status as a reader would put it ('imputed: mean of all countries')."""
    return status.replace("mean of group world", "mean of all countries")


# -- factors ---------------------------------------------------------------------------------
def factor_label(method: Method, factor: str, workspace_names: Mapping[str, str]) -> str:
    """The workspace's name of a factor, else the method file's, else its id."""
    if factor in workspace_names:
        return workspace_names[factor]
    node = next((f for f in method.factors if f.key == factor), None)
    return (node.name if node is not None and node.name else "") or factor


def factor_description(method: Method, factor: str) -> str:
    node = next(f for f in method.factors if f.key == factor)
    return node.description


# -- the tree --------------------------------------------------------------------------------
def factor_tree(method: Method, factor: str) -> pd.DataFrame:
    """One row per node of a factor's tree, parents first: path, parent, depth, kind, name,
    label (short), aggregation, weight, share (nominal share of the factor: weights normalised
    within each node, multiplied down the path), indicator, source (GPR, WGI, ...,
    expert table), description, and `weight_meaning` (what the weight does under the parent's
    aggregation)."""
    tree = method_tree(method)
    tree = tree[tree["factor"] == factor].reset_index(drop=True)
    if tree.empty:
        raise KeyError(factor)
    aggregation = dict(zip(tree["path"], tree["aggregation"], strict=True))
    out = tree[
        ["path", "parent", "depth", "kind", "name", "aggregation", "weight", "share", "indicator"]
    ].copy()
    out["name"] = [
        n or ind or p.rsplit("/", 1)[-1]
        for n, ind, p in zip(tree["name"], tree["indicator"], tree["path"], strict=True)
    ]
    out["label"] = [short_name(n) for n in out["name"]]
    out["source"] = [SOURCE_LABELS.get(s, "") for s in tree["source"]]
    out["description"] = tree["description"].fillna("").astype(str)
    out["weight_meaning"] = [
        WEIGHT_MEANING.get(aggregation.get(parent, ""), "") if parent else ""
        for parent in tree["parent"]
    ]
    return out


@dataclass(frozen=True)
class WeightChoice:
    """A top-level component of a factor whose weight the what-if can change."""

    path: str
    name: str
    weight: float
    meaning: str  # what the weight does under the factor's aggregation


def top_level_weights(method: Method, factor: str) -> list[WeightChoice]:
    tree = factor_tree(method, factor)
    top = tree[tree["depth"] == 1]
    return [
        WeightChoice(path=str(p), name=str(n), weight=float(w), meaning=str(m))
        for p, n, w, m in zip(
            top["path"], top["name"], top["weight"], top["weight_meaning"], strict=True
        )
    ]


# -- by country ------------------------------------------------------------------------------
def factor_map_frame(result: BaselineResult, factor: str) -> pd.DataFrame:
    """One row per country with a built score for the factor: country (ISO3), country_name,
    score (0-10), reliability (0-1), coverage, status, imputed (the factor score itself, or a
    component used for it, was imputed) and imputed_text (which parts, how)."""
    nodes = result.nodes[result.nodes["factor"] == factor]
    roots = nodes[(nodes["depth"] == 0) & nodes["score"].notna()]
    parts = nodes[(nodes["depth"] > 0) & nodes["used"] & nodes["status"].map(is_imputed)]
    labels = factor_tree(result.method, factor).set_index("path")["label"]
    notes: dict[str, list[str]] = {}
    for c, path, status in zip(parts["country"], parts["path"], parts["status"], strict=True):
        notes.setdefault(str(c), []).append(f"{labels[path]} {status_text(str(status))}")
    out = pd.DataFrame(
        {
            "country": roots["country"].astype(str).to_numpy(),
            "score": roots["score"].to_numpy(dtype=float),
            "reliability": roots["reliability"].to_numpy(dtype=float),
            "coverage": roots["coverage"].to_numpy(dtype=float),
            "status": roots["status"].astype(str).to_numpy(),
        }
    )
    out["country_name"] = [country_name(c) for c in out["country"]]
    texts = []
    for c, status in zip(out["country"], out["status"], strict=True):
        own = [f"factor score {status_text(status)}"] if is_imputed(status) else []
        items = own + notes.get(c, [])
        texts.append("; ".join(items))
    out["imputed_text"] = texts
    out["imputed"] = out["imputed_text"] != ""
    return out.reset_index(drop=True)


def breakdown_frame(result: BaselineResult, country: str, factor: str) -> pd.DataFrame:
    """One country's tree for a factor, the factor first and the indicators last in each
    branch: path, parent, depth, kind, name, label, aggregation, weight, effective_share
    (share of the factor score after re-weighting; 0 when the node is not used), used, score,
    reliability, coverage, status, indicator, source, series, period, raw, raw_text, note,
    description."""
    rows = result.breakdown(country, factor)
    out = rows[
        [
            "path", "parent", "depth", "kind", "name", "node", "aggregation", "weight",
            "share", "effective_share", "used", "score", "reliability", "coverage", "status",
            "indicator", "source", "series", "period", "raw", "note",
        ]
    ].copy()  # fmt: skip
    tree = factor_tree(result.method, factor).set_index("path")
    out["name"] = out["path"].map(tree["name"]).fillna(out["node"]).astype(str)
    out["label"] = [short_name(n) for n in out["name"]]
    out["description"] = out["path"].map(tree["description"]).fillna("").astype(str)
    out["source"] = [SOURCE_LABELS.get(s, s) for s in out["source"]]
    out["raw_text"] = [
        "" if kind != "indicator" or not math.isfinite(v) else f"{v:.4g}"
        for kind, v in zip(out["kind"], out["raw"].astype(float), strict=True)
    ]
    return out.drop(columns="node").reset_index(drop=True)


def country_exposure(a: Assessment) -> pd.Series:
    """Exposed value per country holding assets (workspace currency), largest first."""
    countries = a.ws.portfolio.series("country").to_numpy()
    value = pd.Series(a.inputs.exposed_value).groupby(countries).sum()
    return value.sort_values(ascending=False, kind="stable")


def default_country(a: Assessment, available: Sequence[str]) -> str | None:
    """The country with the most exposed value among `available`, else the first available."""
    known = set(available)
    for c in country_exposure(a).index:
        if c in known:
            return str(c)
    return available[0] if available else None


def comparison_frame(a: Assessment, result: BaselineResult, factor: str) -> pd.DataFrame:
    """The workspace's countries with a baseline for the factor: country, country_name,
    exposed_value, workspace (analyst-set intensity), built, difference (built - workspace),
    reliability and status of the built value. Largest exposed value first. Empty when the
    workspace has no baseline for the factor."""
    countries = a.inputs.countries
    if factor not in a.inputs.factor_ids:
        return pd.DataFrame(
            columns=[
                "country", "country_name", "exposed_value", "workspace", "built",
                "difference", "reliability", "status",
            ]
        )  # fmt: skip
    workspace = a.ws.baseline.matrix(countries, [factor])[:, 0]
    built = factor_map_frame(result, factor).set_index("country")
    exposure = country_exposure(a)
    out = pd.DataFrame({"country": countries, "workspace": workspace})
    out = out[out["workspace"].notna()].reset_index(drop=True)
    out["country_name"] = [country_name(c) for c in out["country"]]
    out["exposed_value"] = out["country"].map(exposure).fillna(0.0).astype(float)
    out["built"] = out["country"].map(built["score"]).astype(float)
    out["difference"] = out["built"] - out["workspace"]
    out["reliability"] = out["country"].map(built["reliability"]).astype(float)
    out["status"] = out["country"].map(built["status"]).fillna("not built").astype(str)
    out = out.sort_values(["exposed_value", "country_name"], ascending=[False, True])
    return out[
        [
            "country", "country_name", "exposed_value", "workspace", "built", "difference",
            "reliability", "status",
        ]
    ].reset_index(drop=True)  # fmt: skip


# -- what-if ---------------------------------------------------------------------------------
def rebuild_factor(
    method: Method,
    sources: Mapping[Source, SourceData],
    as_of: dt.date,
    factor: str,
    weights: Mapping[str, float] | None = None,
    countries: list[str] | None = None,
) -> pd.Series:
    """The factor's score (0-10) per country, built with some node weights changed (by path,
    'factor/child'); NaN where the country has no score. Only that factor's tree is computed,
    over the same countries as a full build (group means and data-driven bounds stay the
    same)."""
    one = method.model_copy(update={"factors": [f for f in method.factors if f.key == factor]})
    if not one.factors:
        raise KeyError(factor)
    if weights:
        one = one.with_weights(dict(weights))
    built = compute(one, sources, as_of, countries)
    return built.factor_scores()[factor]


@dataclass(frozen=True)
class Rescore:
    """The portfolio rescored with one factor's baseline replaced."""

    factor: str
    expected_annual_loss: float
    baseline: np.ndarray  # (C,) the factor's baseline used, over a.inputs.countries
    replaced: list[str]  # countries whose value came from the given values
    kept: list[str]  # countries that kept the workspace value (no value given)
    kept_with_assets: list[str]  # of those, the ones holding assets


def rescore_with_factor(a: Assessment, factor: str, values: Mapping[str, float]) -> Rescore:
    """Expected annual loss with the workspace's baseline for `factor` replaced by `values`
    (intensity 0-10 by ISO3 country) where a finite value is given; other countries and every
    other factor keep the workspace's values. The scenario shocks are applied to the new
    baseline, and on the incremental basis losses are counted above the new baseline. Rescoring
    with the workspace's own values gives the assessment's expected annual loss."""
    inputs = a.inputs
    if factor not in inputs.factor_ids:
        raise KeyError(factor)
    j = inputs.factor_ids.index(factor)
    baseline = inputs.baseline.copy()
    replaced, kept = [], []
    for i, c in enumerate(inputs.countries):
        v = values.get(c)
        if v is not None and math.isfinite(float(v)):
            baseline[i, j] = float(clamp_intensity(float(v)))
            replaced.append(c)
        else:
            kept.append(c)
    new_inputs = replace(inputs, baseline=baseline)
    # the shocks act on the new baseline at every place (score computes the intensities)
    result = score(a.ws, basis=a.result.basis, inputs=new_inputs)
    held = set(country_exposure(a).index)
    return Rescore(
        factor=factor,
        expected_annual_loss=result.expected_annual_loss(),
        baseline=baseline[:, j].copy(),
        replaced=replaced,
        kept=kept,
        kept_with_assets=[c for c in kept if c in held],
    )


def whatif_country_frame(
    a: Assessment, factor: str, default: Rescore, adjusted: Rescore
) -> pd.DataFrame:
    """Countries holding assets: the factor's intensity in the workspace, built with the
    method's weights and with the adjusted weights, and the exposed value."""
    exposure = country_exposure(a)
    countries = a.inputs.countries
    j = a.inputs.factor_ids.index(factor)
    index = {c: i for i, c in enumerate(countries)}
    rows = [index[c] for c in exposure.index if c in index]
    out = pd.DataFrame(
        {
            "country": [countries[i] for i in rows],
            "workspace": a.inputs.baseline[rows, j],
            "built": default.baseline[rows],
            "adjusted": adjusted.baseline[rows],
        }
    )
    out["country_name"] = [country_name(c) for c in out["country"]]
    out["change"] = out["adjusted"] - out["built"]
    out["exposed_value"] = out["country"].map(exposure).astype(float)
    return out
