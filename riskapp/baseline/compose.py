"""Composite-index maths: transformations, normalisation to 0-10 and aggregation up a tree.

Pure and vectorised: every function works on arrays of countries (rows) and children (columns),
with NaN for a missing value; nothing here reads files. Each formula is stated in its docstring;
the methodology text is taken from these docstrings.
"""

# The aggregation operators, missing-children rules and rounding are in
# riskapp/baseline/operators.py; this module keeps transformations, normalisation and the tree.

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from riskapp.baseline.method import (
    WORLD,
    ChildRule,
    Direction,
    Method,
    Node,
    Normalise,
    NormaliseMethod,
    Rounding,
    Transform,
    TransformOp,
    walk,
)
from riskapp.baseline.operators import (
    SCORE_MAX,
    SELECTING,
    Array,
    aggregate,
    coverage,
    present_mask,
    reliability,
    round_scores,
    selected,
)

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
        present = present_mask(x, weights)
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
