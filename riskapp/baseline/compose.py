"""Composite-index maths: transformations, normalisation to 0-10 and aggregation up a tree.

Pure and vectorised: every function works on arrays of countries (rows) and children (columns),
with NaN for a missing value; nothing here reads files. Each formula is stated in its docstring;
the methodology text is taken from these docstrings.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd

from riskapp.baseline.method import (
    WORLD,
    Aggregation,
    ChildRule,
    Direction,
    Method,
    Node,
    Normalise,
    NormaliseMethod,
    Rounding,
    RoundMode,
    Transform,
    TransformOp,
    walk,
)

SCORE_MAX = 10.0
Array = np.ndarray


# --------------------------------------------------------------------------------------------
# Transformations and normalisation of one indicator (a vector over countries)
# --------------------------------------------------------------------------------------------


def transform(
    values: Array, steps: list[Transform], bounds: tuple[float | None, float | None] = (None, None)
) -> tuple[Array, tuple[float | None, float | None]]:
    """Apply transformation steps in order to the values and to stated min-max bounds.

    - log: v -> ln(v + offset); v + offset <= 0 becomes missing.
    - cap: v -> min(max(v, lower), upper).
    - winsorise: v -> min(max(v, P_lower), P_upper), where P_p is the p-th percentile of the
      values present (linear interpolation).

    Stated min-max bounds pass through log and cap, so they can be given in the indicator's raw
    units; winsorising depends on the data and leaves stated bounds where they are.
    """
    out = np.asarray(values, dtype=float).copy()
    lo, hi = bounds
    for step in steps:
        if step.op is TransformOp.LOG:
            offset = step.offset or 0.0
            out = _log(out, offset)
            lo = None if lo is None else float(_log(np.array([lo]), offset)[0])
            hi = None if hi is None else float(_log(np.array([hi]), offset)[0])
        else:
            if step.op is TransformOp.CAP:
                low, high = step.lower, step.upper
            else:
                present = out[~np.isnan(out)]
                if present.size == 0:
                    continue
                low = (
                    None
                    if step.lower_pct is None
                    else float(np.percentile(present, step.lower_pct))
                )
                high = (
                    None
                    if step.upper_pct is None
                    else float(np.percentile(present, step.upper_pct))
                )
            out = np.clip(out, low, high) if (low is not None or high is not None) else out
            if step.op is TransformOp.CAP:
                lo = None if lo is None else float(np.clip(lo, low, high))
                hi = None if hi is None else float(np.clip(hi, low, high))
    return out, (lo, hi)


def _log(values: Array, offset: float) -> Array:
    shifted = values + offset
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(shifted > 0, np.log(np.where(shifted > 0, shifted, 1.0)), np.nan)


def minmax(values: Array, lo: float | None = None, hi: float | None = None) -> Array:
    """Min-max scaling to 0-10: 10 * (v - lo) / (hi - lo), clipped to [0, 10].

    Missing bounds are the lowest and highest value present. When every country has the same
    value and no bounds are stated there is nothing to rank them by: all score 5.
    """
    v = np.asarray(values, dtype=float)
    present = v[~np.isnan(v)]
    if present.size == 0:
        return v.copy()
    low = float(present.min()) if lo is None else lo
    high = float(present.max()) if hi is None else hi
    if high <= low:
        if lo is not None and hi is not None:
            raise ValueError(f"min-max bounds collapse after transformation ({lo} .. {hi})")
        return np.where(np.isnan(v), np.nan, 5.0)
    return np.clip(SCORE_MAX * (v - low) / (high - low), 0.0, SCORE_MAX)


def percentile_rank(values: Array) -> Array:
    """Percentile rank on 0-10: 10 * (rank - 1) / (n - 1) among the n values present, ties
    sharing their average rank; a single value scores 5."""
    s = pd.Series(np.asarray(values, dtype=float))
    n = int(s.notna().sum())
    if n <= 1:
        return np.where(s.isna(), np.nan, 5.0)
    ranks = s.rank(method="average").to_numpy()
    return SCORE_MAX * (ranks - 1.0) / (n - 1.0)


def normalise(
    values: Array,
    spec: Normalise,
    steps: list[Transform] | None = None,
    direction: Direction = Direction.HIGHER_IS_WORSE,
) -> Array:
    """Transformations, then normalisation to 0-10, then direction: an indicator where higher
    is better scores 10 - s (inversion, so that 10 is always worst)."""
    transformed, (lo, hi) = transform(values, steps or [], (spec.min, spec.max))
    if spec.method is NormaliseMethod.MINMAX:
        score = minmax(transformed, lo, hi)
    elif spec.method is NormaliseMethod.PERCENTILE_RANK:
        score = percentile_rank(transformed)
    else:
        score = np.clip(transformed, 0.0, SCORE_MAX)
    if direction is Direction.HIGHER_IS_BETTER:
        score = SCORE_MAX - score
    return score


# --------------------------------------------------------------------------------------------
# Aggregations: x is (countries, children) with NaN for missing; w is (children,)
# --------------------------------------------------------------------------------------------


def _present(x: Array, w: Array) -> Array:
    out: Array = ~np.isnan(x) & (w > 0)[None, :]
    return out


def weighted_mean(x: Array, w: Array) -> Array:
    """Weighted arithmetic mean of the children present: sum(w_i x_i) / sum(w_i).

    Missing children are left out and the weights of the others re-normalised."""
    p = _present(x, w)
    ww = np.where(p, w[None, :], 0.0)
    den = ww.sum(axis=1)
    num = (np.where(p, x, 0.0) * ww).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def geometric_mean(x: Array, w: Array, offset: float = 0.0) -> Array:
    """Weighted geometric mean: prod((x_i + c) ^ (w_i / sum w)) - c, over the children present.

    With c = 0 (the default) a zero child makes the node zero: a risk needs every dimension, as
    in INFORM's Risk = (Hazard & Exposure x Vulnerability x Lack of coping capacity) ^ (1/3),
    equal weights. An offset c = 1 is the variant that lets a zero child lower, but not cancel,
    the result."""
    p = _present(x, w)
    ww = np.where(p, w[None, :], 0.0)
    den = ww.sum(axis=1)
    base = np.where(p, x + offset, 1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        logs = np.log(base)
        num = np.where(ww > 0, ww * logs, 0.0).sum(axis=1)
        out = np.exp(num / np.where(den > 0, den, 1.0)) - offset
    return np.where(den > 0, np.clip(out, 0.0, SCORE_MAX), np.nan)


def complement_geometric(x: Array, w: Array, offset: float = 1.0) -> Array:
    """Complement-geometric mean (INFORM's rule): T - prod((T - x_i) ^ (w_i / sum w)), with
    T = 10 + c, over the children present (their weights re-normalised).

    With the default c = 1 this is INFORM's "11 minus the geometric mean of (11 - x)", which
    INFORM uses, with equal weights, for its Hazard & Exposure, Vulnerability and Lack of
    coping capacity dimensions and for several categories (natural hazards among them). It lies
    between the arithmetic mean and the maximum: a high child pulls the node up more than a low
    one pulls it down (4 and 8 give 6.42 where the mean gives 6), equal children give their
    value, and the node reaches 10 only when every child is 10. With c = 0 a single child at 10
    makes the node 10."""
    top = SCORE_MAX + offset
    p = _present(x, w)
    ww = np.where(p, w[None, :], 0.0)
    den = ww.sum(axis=1)
    base = np.where(p, np.maximum(top - x, 0.0), 1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        logs = np.log(base)
        num = np.where(ww > 0, ww * logs, 0.0).sum(axis=1)
        out = top - np.exp(num / np.where(den > 0, den, 1.0))
    return np.where(den > 0, np.clip(out, 0.0, SCORE_MAX), np.nan)


def complement_product(x: Array, w: Array) -> Array:
    """Complement product (probabilistic OR): 10 * (1 - prod((1 - x_i / 10) ^ w_i)).

    The chance that at least one of several independent hazards strikes, each scored as a
    probability x_i / 10: two high scores give a higher one (5 and 5 give 7.5), a zero child
    changes nothing and a 10 gives 10. A weight acts as an exponent (w = 0.5 counts a child as
    half an independent hazard). A missing child adds no hazard (it counts as 0); the weights
    are not shares, so there is nothing to renormalise. This is not INFORM's aggregation (that
    is `complement_geometric`)."""
    p = _present(x, w)
    comp = np.clip(1.0 - np.where(p, x, 0.0) / SCORE_MAX, 0.0, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        powered = np.where(p, comp ** w[None, :], 1.0)
    out = SCORE_MAX * (1.0 - powered.prod(axis=1))
    return np.where(p.any(axis=1), out, np.nan)


def maximum(x: Array, w: Array) -> Array:
    """Maximum of the children present (weights only decide which children take part: w > 0)."""
    p = _present(x, w)
    out = np.where(p, x, -np.inf).max(axis=1)
    return np.where(p.any(axis=1), out, np.nan)


def scaled_maximum(x: Array, w: Array) -> Array:
    """Scaled maximum: max(w_i * x_i) over the children present, at most 10. A child with
    w = 0.6 can raise the node to at most 60 % of its own score (e.g. a general tension
    indicator that should not outrank a specific one)."""
    p = _present(x, w)
    out = np.where(p, x * w[None, :], -np.inf).max(axis=1)
    return np.where(p.any(axis=1), np.minimum(out, SCORE_MAX), np.nan)


def minimum(x: Array, w: Array) -> Array:
    """Minimum of the children present (w > 0)."""
    p = _present(x, w)
    out = np.where(p, x, np.inf).min(axis=1)
    return np.where(p.any(axis=1), out, np.nan)


def first_available(x: Array, w: Array) -> Array:
    """The first child present, in the order given: data where published, a fallback (such as
    an expert table) elsewhere."""
    p = _present(x, w)
    idx = p.argmax(axis=1)
    out = x[np.arange(x.shape[0]), idx]
    return np.where(p.any(axis=1), out, np.nan)


AGGREGATIONS: dict[Aggregation, Callable[[Array, Array], Array]] = {
    Aggregation.MEAN: weighted_mean,
    Aggregation.COMPLEMENT_GEOMETRIC: complement_geometric,
    Aggregation.COMPLEMENT_PRODUCT: complement_product,
    Aggregation.MAX: maximum,
    Aggregation.SCALED_MAX: scaled_maximum,
    Aggregation.MIN: minimum,
    Aggregation.FIRST: first_available,
}


def aggregate(
    aggregation: Aggregation,
    x: Array,
    w: Array,
    offset: float = 0.0,
    rule: ChildRule | None = None,
) -> Array:
    """Score of a node from its children's scores, by the node's aggregation. With the `zero`
    rule a missing child (weight above 0) counts as a score of 0; otherwise missing children
    are left out (for the means: their weights re-normalised over the children present)."""
    if rule is ChildRule.ZERO:
        x = np.where(np.isnan(x) & (w > 0)[None, :], 0.0, x)
    if aggregation is Aggregation.GEOMETRIC_MEAN:
        return geometric_mean(x, w, offset)
    if aggregation is Aggregation.COMPLEMENT_GEOMETRIC:
        return complement_geometric(x, w, offset)
    return AGGREGATIONS[aggregation](x, w)


def round_scores(values: Array, rounding: Rounding) -> Array:
    """Scores rounded to `decimals` places, a tie (a 5 in the next place) away from zero
    (`half_up`: 2.25 -> 2.3, 2.35 -> 2.4, where Python's round() gives 2.2 for 2.25) or to the
    even digit (`half_even`). Each score is first written with 15 significant digits, as a
    spreadsheet shows it, so that a float a hair below a tie (2.2499999999999996) rounds as
    the tie it stands for. Missing scores stay missing."""
    v = np.asarray(values, dtype=float)
    scale = 10.0**rounding.decimals
    with np.errstate(invalid="ignore"):
        scaled = v * scale
        low = np.floor(scaled)
        frac = scaled - low
        # clear of a tie, the nearest step is plain; n / 10^d is the float of the decimal
        out: Array = (low + (frac > 0.5)) / scale
    near = np.flatnonzero(np.isfinite(v) & (np.abs(frac - 0.5) < 1e-6))
    step = Decimal(1).scaleb(-rounding.decimals)
    how = ROUND_HALF_UP if rounding.mode is RoundMode.HALF_UP else ROUND_HALF_EVEN
    for i in near:  # ties and near-ties: decide on the decimal form
        out[i] = float(Decimal(f"{v[i]:.15g}").quantize(step, rounding=how))
    return np.where(np.isfinite(v), out, v)


SELECTING = frozenset({Aggregation.MAX, Aggregation.SCALED_MAX, Aggregation.MIN, Aggregation.FIRST})
"""Aggregations whose value is one child's (possibly scaled) value."""


def selected(aggregation: Aggregation, x: Array, w: Array) -> Array:
    """Index of the child that gives a selecting node its value (-1 where no child is present;
    on ties the first child listed): the largest (max), largest w_i x_i (scaled_max), smallest
    (min) or first present (first)."""
    p = _present(x, w)
    if aggregation is Aggregation.MAX:
        idx = np.where(p, x, -np.inf).argmax(axis=1)
    elif aggregation is Aggregation.SCALED_MAX:
        idx = np.where(p, x * w[None, :], -np.inf).argmax(axis=1)
    elif aggregation is Aggregation.MIN:
        idx = np.where(p, x, np.inf).argmin(axis=1)
    elif aggregation is Aggregation.FIRST:
        idx = p.argmax(axis=1)
    else:
        raise ValueError(f"{aggregation.value} does not select a child")
    return np.where(p.any(axis=1), idx, -1)


def coverage(x: Array, w: Array, aggregation: Aggregation = Aggregation.MEAN) -> Array:
    """Weight share of the children present: sum(w_i present) / sum(w_i). For `first` it is 1
    when any child is present (the node is fully determined by the child it takes)."""
    p = _present(x, w)
    total = float(w.sum())
    if aggregation is Aggregation.FIRST:
        return p.any(axis=1).astype(float)
    if total <= 0:
        return np.zeros(x.shape[0])
    out: Array = np.where(p, w[None, :], 0.0).sum(axis=1) / total
    return out


def reliability(x: Array, r: Array, w: Array, aggregation: Aggregation = Aggregation.MEAN) -> Array:
    """Reliability of a node: sum(w_i r_i, children present) / sum(w_i), i.e. the weighted mean
    of the children's reliabilities with a missing child counting 0. For a selecting
    aggregation (max, scaled_max, min, first) it is the reliability of the child selected,
    times the coverage for all but `first` (a missing child might have been the one)."""
    p = _present(x, w)
    if aggregation in SELECTING:
        idx = selected(aggregation, x, w)
        out: Array = np.where(idx >= 0, r[np.arange(r.shape[0]), np.maximum(idx, 0)], 0.0)
        if aggregation is not Aggregation.FIRST:
            out = out * coverage(x, w, aggregation)
        return out
    total = float(w.sum())
    if total <= 0:
        return np.zeros(x.shape[0])
    weighted: Array = np.where(p, r * w[None, :], 0.0).sum(axis=1) / total
    return weighted


# --------------------------------------------------------------------------------------------
# The tree
# --------------------------------------------------------------------------------------------

OBSERVED = "observed"
OUTSIDE = "outside scope"
MISSING = "missing"
BELOW_COVERAGE = "below coverage"
BASE_LABELS = (OBSERVED, MISSING, BELOW_COVERAGE, OUTSIDE)
C_OBSERVED, C_MISSING, C_BELOW, C_OUTSIDE = range(4)


@dataclass(frozen=True)
class NodeScores:
    """Scores of one node for every country, with how each came about."""

    factor: str
    path: str
    parent: str
    depth: int
    node: Node
    share: float  # nominal share of the node in its factor (product of normalised weights)
    score: Array
    coverage: Array
    reliability: Array
    codes: Array  # int8 index into `labels`, per country
    labels: tuple[str, ...]  # observed, missing, below coverage, outside scope, imputed: ...

    @property
    def status(self) -> Array:
        """How each country's score came about: observed | missing | below coverage |
        outside scope | imputed: mean of group <id> | imputed: fixed value."""
        out: Array = np.asarray(self.labels, dtype=object)[self.codes]
        return out


def group_masks(countries: list[str], groups: Mapping[str, list[str]]) -> dict[str, Array]:
    """Boolean membership of each country in each group (plus the built-in `world`)."""
    position = {c: i for i, c in enumerate(countries)}
    out: dict[str, Array] = {}
    for gid, members in groups.items():
        mask = np.zeros(len(countries), dtype=bool)
        mask[[position[m] for m in members if m in position]] = True
        out[gid] = mask
    out[WORLD] = np.ones(len(countries), dtype=bool)
    return out


def impute_labels(node: Node) -> tuple[str, ...]:
    """Status labels of a node: the base ones, then one per imputation step."""
    steps = tuple(
        f"imputed: mean of group {s.group}" if s.group is not None else "imputed: fixed value"
        for s in node.missing.impute
    )
    return BASE_LABELS + steps


def impute(
    node: Node,
    score: Array,
    rel: Array,
    codes: Array,
    computed: Array,
    masks: Mapping[str, Array],
) -> None:
    """Fill the countries without a score by the node's imputation steps, in order (in place).

    A group step gives the mean score of the group's members whose score was computed (never
    one that was itself imputed); a value step gives the value. Each sets the reliability it
    states."""
    for j, step in enumerate(node.missing.impute):
        todo = np.isnan(score)
        if not todo.any():
            return
        if step.group is not None:
            donors = masks[step.group] & computed & ~np.isnan(score)
            if not donors.any():
                continue
            fill = todo & masks[step.group]
            score[fill] = float(score[donors].mean())
        else:
            assert step.value is not None
            fill = todo
            score[fill] = step.value
        rel[fill] = step.reliability
        codes[fill] = len(BASE_LABELS) + j


def evaluate(
    method: Method,
    countries: list[str],
    leaves: Mapping[str, tuple[Array, Array]],
    groups: Mapping[str, list[str]] | None = None,
) -> list[NodeScores]:
    """Score every node of every factor for every country.

    `leaves` maps an indicator id to (0-10 score, reliability) arrays over `countries` (NaN
    where the indicator has no value). A node is computed from its children when their
    coverage reaches the node's `min_coverage` (re-weighting over the children present);
    otherwise, or for a leaf without a value, the imputation steps apply. A node with a scope
    gives every country outside it the scope's `outside` value. Scores are clipped to 0-10,
    then rounded when the node (or, for a node without its own, the method) states `round`:
    the parent aggregates the rounded scores, level by level, as INFORM does.
    Returns the nodes parents-last (children before their parent), each factor in turn.
    """
    members = dict(groups if groups is not None else method.group_members())
    members.update(scope_masks(method))
    masks = group_masks(countries, members)
    out: list[NodeScores] = []
    for factor in method.factors:
        _evaluate_node(
            factor,
            factor.key,
            "",
            0,
            1.0,
            len(countries),
            leaves,
            masks,
            out,
            factor.key,
            method.round,
        )
    return out


def _evaluate_node(
    node: Node,
    path: str,
    parent: str,
    depth: int,
    share: float,
    n: int,
    leaves: Mapping[str, tuple[Array, Array]],
    masks: Mapping[str, Array],
    out: list[NodeScores],
    factor: str,
    rounding: Rounding | None = None,
) -> NodeScores:
    codes = np.zeros(n, dtype=np.int8)
    if node.indicator is not None:
        leaf_score, leaf_rel = leaves[node.indicator]
        score = np.asarray(leaf_score, dtype=float).copy()
        rel = np.where(np.isnan(score), 0.0, np.asarray(leaf_rel, dtype=float))
        cov = (~np.isnan(score)).astype(float)
        codes[np.isnan(score)] = C_MISSING
    else:
        weights = np.array([c.weight for c in node.children], dtype=float)
        total = weights.sum()
        kids = [
            _evaluate_node(
                child,
                f"{path}/{child.key}",
                path,
                depth + 1,
                share * (child.weight / total if total > 0 else 0.0),
                n,
                leaves,
                masks,
                out,
                factor,
                rounding,
            )
            for child in node.children
        ]
        x = np.column_stack([k.score for k in kids])
        r = np.column_stack([k.reliability for k in kids])
        assert node.aggregation is not None
        cov = coverage(x, weights, node.aggregation)
        ok = (cov >= node.missing.min_coverage) & (cov > 0)
        value = aggregate(node.aggregation, x, weights, node.shift, node.child_rule)
        score = np.where(ok, value, np.nan)
        rel = np.where(ok, reliability(x, r, weights, node.aggregation), 0.0)
        codes[~ok] = np.where(cov[~ok] > 0, C_BELOW, C_MISSING)
    computed = ~np.isnan(score)
    impute(node, score, rel, codes, computed, masks)
    if node.scope is not None:
        inside = masks[node.scope.group or _scope_key(node)]
        score = np.where(inside, score, node.scope.outside)
        rel = np.where(inside, rel, 1.0)
        cov = np.where(inside, cov, 1.0)
        codes = np.where(inside, codes, C_OUTSIDE).astype(np.int8)
    score = np.clip(score, 0.0, SCORE_MAX)
    rounding = node.round or rounding
    if rounding is not None:
        score = round_scores(score, rounding)
    result = NodeScores(
        factor=factor,
        path=path,
        parent=parent,
        depth=depth,
        node=node,
        share=share,
        score=score,
        coverage=cov,
        reliability=rel,
        codes=codes,
        labels=impute_labels(node),
    )
    out.append(result)
    return result


def _scope_key(node: Node) -> str:
    """Mask key of a scope given as a country list (registered by `scope_masks`)."""
    assert node.scope is not None
    return "countries:" + ",".join(sorted(node.scope.countries))


def scope_masks(method: Method) -> dict[str, list[str]]:
    """Pseudo-groups for the scopes given as country lists."""
    out: dict[str, list[str]] = {}
    for factor in method.factors:
        for _, node in walk(factor):
            if node.scope is not None and node.scope.group is None:
                out[_scope_key(node)] = list(node.scope.countries)
    return out


def scores_frame(countries: list[str], nodes: list[NodeScores]) -> pd.DataFrame:
    """Tidy table of every node's scores: one row per (country, node).

    Columns: country, factor, path, parent, depth, node, kind (factor|component|indicator),
    name, aggregation, weight (within parent), share (nominal share in the factor), indicator,
    score, coverage, reliability, status."""
    n = len(countries)
    k = len(nodes)
    cols: dict[str, object] = {
        "country": np.tile(np.array(countries, dtype=object), k),
        "factor": np.repeat([s.factor for s in nodes], n),
        "path": np.repeat([s.path for s in nodes], n),
        "parent": np.repeat([s.parent for s in nodes], n),
        "depth": np.repeat([s.depth for s in nodes], n),
        "node": np.repeat([s.node.key for s in nodes], n),
        "kind": np.repeat(
            [
                "factor" if s.depth == 0 else "indicator" if s.node.is_leaf else "component"
                for s in nodes
            ],
            n,
        ),
        "name": np.repeat([s.node.name for s in nodes], n),
        "aggregation": np.repeat(
            [s.node.aggregation.value if s.node.aggregation else "" for s in nodes], n
        ),
        "weight": np.repeat([s.node.weight for s in nodes], n),
        "share": np.repeat([s.share for s in nodes], n),
        "indicator": np.repeat([s.node.indicator or "" for s in nodes], n),
        "score": np.concatenate([s.score for s in nodes]) if k else np.array([]),
        "coverage": np.concatenate([s.coverage for s in nodes]) if k else np.array([]),
        "reliability": np.concatenate([s.reliability for s in nodes]) if k else np.array([]),
        "status": np.concatenate([s.status for s in nodes]) if k else np.array([]),
    }
    return pd.DataFrame(cols)


def preorder(nodes: list[NodeScores]) -> list[NodeScores]:
    """The nodes with every parent before its children, children in the order listed."""
    by_path = {s.path: s for s in nodes}
    out: list[NodeScores] = []

    def visit(s: NodeScores) -> None:
        out.append(s)
        for child in s.node.children:
            visit(by_path[f"{s.path}/{child.key}"])

    for root in (s for s in nodes if not s.parent):
        visit(root)
    return out


def attribution(nodes: list[NodeScores]) -> tuple[Array, Array]:
    """Which values enter each country's factor score, and with what effective share.

    A node is used when its parent is used and was computed from its children (not imputed or
    outside scope) and the node has a score: for mean-type aggregations every child present,
    for selecting ones (max, scaled_max, min, first) only the child selected. Its effective
    share is the parent's times w_i / sum(w of the children used): the nominal weights
    re-normalised over the children present (under the `zero` rule, w_i / sum(all w): a
    missing child keeps its share, at a score of 0). Returned concatenated like `scores_frame`
    rows."""
    by_path = {s.path: s for s in nodes}
    used: dict[str, Array] = {}
    share: dict[str, Array] = {}
    for s in preorder(nodes):
        n = s.score.shape[0]
        if not s.parent:
            used[s.path] = np.ones(n, dtype=bool)
            share[s.path] = np.ones(n)
            continue
        parent = by_path[s.parent]
        siblings = [by_path[f"{parent.path}/{c.key}"] for c in parent.node.children]
        mine = [k.path for k in siblings].index(s.path)
        weights = np.array([k.node.weight for k in siblings], dtype=float)
        x = np.column_stack([np.where(k.codes == C_MISSING, np.nan, k.score) for k in siblings])
        parent_ok = used[parent.path] & (parent.codes == C_OBSERVED)
        assert parent.node.aggregation is not None
        if parent.node.aggregation in SELECTING:
            take = selected(parent.node.aggregation, x, weights) == mine
            used[s.path] = parent_ok & take
            share[s.path] = np.where(used[s.path], share[parent.path], 0.0)
            continue
        present = _present(x, weights)
        if parent.node.child_rule is ChildRule.ZERO:  # a missing child keeps its share, at 0
            total = np.full(n, float(weights.sum()))
        else:
            total = (present * weights[None, :]).sum(axis=1)
        used[s.path] = parent_ok & present[:, mine]
        with np.errstate(invalid="ignore", divide="ignore"):
            frac = np.where(total > 0, weights[mine] / np.where(total > 0, total, 1.0), 0.0)
        share[s.path] = np.where(used[s.path], share[parent.path] * frac, 0.0)
    return (
        np.concatenate([used[s.path] for s in nodes]),
        np.concatenate([share[s.path] for s in nodes]),
    )
