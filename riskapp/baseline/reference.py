"""A plain per-country reference implementation of the tree evaluation.

Slow on purpose: one country and one child at a time, with Python floats and the `math`
module, written from the formulas in the docstrings of riskapp.baseline.compose and
riskapp.baseline.operators rather than from their code. Tests and the benchmark check that the
vectorised `compose.evaluate` agrees with it; nothing else should use it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal

from riskapp.baseline.method import (
    WORLD,
    Aggregation,
    ChildRule,
    Method,
    Node,
    Rounding,
    RoundMode,
)

TEN = 10.0
TIE = 1e-9  # selecting nodes: values this close tie (riskapp.baseline.operators.TIE)
Values = dict[str, tuple[list[float], list[float], list[float]]]
"""path -> (scores, coverages, reliabilities), one entry per country."""


def reference_evaluate(
    method: Method,
    countries: list[str],
    leaves: Mapping[str, tuple[list[float], list[float]]],
    groups: Mapping[str, list[str]] | None = None,
) -> Values:
    """Score, coverage and reliability of every node for every country, country by country."""
    members = {k: set(v) for k, v in (groups or method.group_members()).items()}
    members[WORLD] = set(countries)
    out: Values = {}
    for factor in method.factors:
        _node(factor, factor.key, countries, leaves, members, out, method.round)
    return out


def _node(
    node: Node,
    path: str,
    countries: list[str],
    leaves: Mapping[str, tuple[list[float], list[float]]],
    members: Mapping[str, set[str]],
    out: Values,
    rounding: Rounding | None,
) -> tuple[list[float], list[float], list[float]]:
    n = len(countries)
    scores = [math.nan] * n
    cover = [0.0] * n
    rel = [0.0] * n
    if node.indicator is not None:
        leaf_scores, leaf_rel = leaves[node.indicator]
        for i in range(n):
            if not math.isnan(leaf_scores[i]):
                scores[i] = float(leaf_scores[i])
                cover[i] = 1.0
                rel[i] = float(leaf_rel[i])
    else:
        kids = [
            _node(c, f"{path}/{c.key}", countries, leaves, members, out, rounding)
            for c in node.children
        ]
        weights = [c.weight for c in node.children]
        total = sum(weights)
        assert node.aggregation is not None
        for i in range(n):
            present = [
                (w, k[0][i], k[2][i])
                for w, k in zip(weights, kids, strict=True)
                if w > 0 and not math.isnan(k[0][i])
            ]
            if node.aggregation is Aggregation.FIRST:
                cover[i] = 1.0 if present else 0.0
            else:
                cover[i] = sum(w for w, _, _ in present) / total if total > 0 else 0.0
            if not present or cover[i] <= 0 or cover[i] < node.missing.min_coverage:
                continue
            if node.child_rule is ChildRule.ZERO:  # a missing child counts as 0
                present = [
                    (w, 0.0 if math.isnan(k[0][i]) else k[0][i], k[2][i])
                    for w, k in zip(weights, kids, strict=True)
                    if w > 0
                ]
            scores[i], rel[i] = _aggregate(node, present, total, cover[i])
    computed = [not math.isnan(s) for s in scores]
    for step in node.missing.impute:
        if step.group is not None:
            donors = [
                scores[j]
                for j, c in enumerate(countries)
                if c in members[step.group] and computed[j]
            ]
            if not donors:
                continue
            mean = sum(donors) / len(donors)
            for i, c in enumerate(countries):
                if math.isnan(scores[i]) and c in members[step.group]:
                    scores[i], rel[i] = mean, step.reliability
        else:
            assert step.value is not None
            for i in range(n):
                if math.isnan(scores[i]):
                    scores[i], rel[i] = step.value, step.reliability
    if node.scope is not None:
        inside = members[node.scope.group] if node.scope.group else set(node.scope.countries)
        for i, c in enumerate(countries):
            if c not in inside:
                scores[i], rel[i], cover[i] = node.scope.outside, 1.0, 1.0
    scores = [s if math.isnan(s) else min(max(s, 0.0), TEN) for s in scores]
    rounding = node.round or rounding
    if rounding is not None:
        scores = [_round(s, rounding) for s in scores]
    out[path] = (scores, cover, rel)
    return scores, cover, rel


def _aggregate(
    node: Node, present: list[tuple[float, float, float]], total: float, cover: float
) -> tuple[float, float]:
    agg = node.aggregation
    assert agg is not None
    wsum = sum(w for w, _, _ in present)
    weighted_rel = sum(w * r for w, _, r in present) / total
    if agg is Aggregation.MEAN:
        return sum(w * x for w, x, _ in present) / wsum, weighted_rel
    if agg is Aggregation.COMPLEMENT_GEOMETRIC:
        top = TEN + node.shift
        if any(top - x <= 0 for _, x, _ in present):
            value = TEN
        else:
            value = top - math.exp(sum(w * math.log(top - x) for w, x, _ in present) / wsum)
        return value, weighted_rel
    if agg is Aggregation.GEOMETRIC_MEAN:
        c = node.shift
        if any(x + c <= 0 for _, x, _ in present):
            value = 0.0
        else:
            value = math.exp(sum(w * math.log(x + c) for w, x, _ in present) / wsum) - c
        return value, weighted_rel
    if agg is Aggregation.COMPLEMENT_PRODUCT:
        prod = 1.0
        for w, x, _ in present:
            prod *= max(0.0, min(1.0, 1.0 - x / TEN)) ** w
        return TEN * (1.0 - prod), weighted_rel
    # selecting aggregations: the first child within TIE of the best value (a tie, however
    # the arithmetic rounded it)
    key = {
        Aggregation.MAX: lambda w, x: x,
        Aggregation.SCALED_MAX: lambda w, x: w * x,
        Aggregation.MIN: lambda w, x: -x,
    }.get(agg)
    best = 0
    if key is not None:
        values = [key(w, x) for w, x, _ in present]
        top = max(values)
        best = next(j for j, v in enumerate(values) if v >= top - TIE)
    w, x, r = present[best]
    if agg is Aggregation.FIRST:
        return x, r
    if agg is Aggregation.SCALED_MAX:
        return min(w * x, TEN), r * cover
    return x, r * cover


def _round(value: float, rounding: Rounding) -> float:
    """One score to `decimals` places from its 15-significant-digit decimal form."""
    if math.isnan(value):
        return value
    text = f"{value:.15g}"
    mode = ROUND_HALF_UP if rounding.mode is RoundMode.HALF_UP else ROUND_HALF_EVEN
    return float(Decimal(text).quantize(Decimal(10) ** -rounding.decimals, rounding=mode))
