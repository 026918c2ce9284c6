"""Composite maths on small hand-made frames, each value worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from riskapp.baseline import compose
from riskapp.baseline.compose import (
    evaluate,
    minmax,
    normalise,
    percentile_rank,
    transform,
)
from riskapp.baseline.method import (
    Aggregation,
    Direction,
    Group,
    Impute,
    Indicator,
    Method,
    Missing,
    Node,
    Normalise,
    Scope,
    Transform,
)
from riskapp.baseline.operators import (
    complement_product,
    coverage,
    first_available,
    geometric_mean,
    maximum,
    minimum,
    reliability,
    scaled_maximum,
    selected,
    weighted_mean,
)

NAN = math.nan


def arr(*rows: list[float]) -> np.ndarray:
    return np.array(rows, dtype=float)


# ---------------------------------------------------------------------------- aggregations


def test_weighted_mean_reweights_over_children_present() -> None:
    x = arr([2, 4, NAN], [2, 4, 6], [NAN, NAN, NAN])
    w = np.array([1.0, 3.0, 2.0])
    got = weighted_mean(x, w)
    assert got[0] == pytest.approx((2 * 1 + 4 * 3) / 4)  # 3.5: the missing child is left out
    assert got[1] == pytest.approx((2 + 12 + 12) / 6)
    assert math.isnan(got[2])


def test_weighted_mean_ignores_zero_weight() -> None:
    assert weighted_mean(arr([9, 1]), np.array([0.0, 1.0]))[0] == pytest.approx(1.0)


def test_geometric_mean() -> None:
    w = np.array([1.0, 1.0])
    assert geometric_mean(arr([4, 9]), w)[0] == pytest.approx(6.0)
    assert geometric_mean(arr([4, 9]), np.array([1.0, 3.0]))[0] == pytest.approx(4**0.25 * 9**0.75)
    assert geometric_mean(arr([0, 9]), w)[0] == pytest.approx(0.0)  # a zero cancels
    assert geometric_mean(arr([0, 8]), w, offset=1.0)[0] == pytest.approx(2.0)  # sqrt(1*9)-1
    assert geometric_mean(arr([NAN, 5]), w)[0] == pytest.approx(5.0)


def test_complement_product_formula() -> None:
    w = np.array([1.0, 1.0])
    assert complement_product(arr([5, 5]), w)[0] == pytest.approx(7.5)  # 10(1 - .5 * .5)
    assert complement_product(arr([0, 6]), w)[0] == pytest.approx(6.0)
    assert complement_product(arr([10, 3]), w)[0] == pytest.approx(10.0)
    assert complement_product(arr([4, 7]), w)[0] == pytest.approx(10 - (10 - 4) * (10 - 7) / 10)
    # weights are exponents: a child with w = 0.5 counts as half an independent hazard
    got = complement_product(arr([5, 5]), np.array([1.0, 0.5]))[0]
    assert got == pytest.approx(10 * (1 - 0.5 * 0.5**0.5))
    assert math.isnan(complement_product(arr([NAN, NAN]), w)[0])


def test_maxima_minimum_and_first() -> None:
    x = arr([3, NAN, 7], [NAN, 4, 2])
    w = np.array([1.0, 1.0, 1.0])
    assert list(maximum(x, w)) == [7, 4]
    assert list(minimum(x, w)) == [3, 2]
    assert list(first_available(x, w)) == [3, 4]
    # scaled maximum: max(w_i x_i), at most 10
    sw = np.array([1.0, 0.6])
    assert scaled_maximum(arr([8, 10]), sw)[0] == pytest.approx(8.0)
    assert scaled_maximum(arr([4, 10]), sw)[0] == pytest.approx(6.0)
    assert scaled_maximum(arr([4, 10]), np.array([1.0, 2.0]))[0] == pytest.approx(10.0)


def test_selected_child_ties_go_to_the_first() -> None:
    w = np.array([1.0, 1.0, 1.0])
    x = arr([5, 5, 1], [NAN, NAN, NAN], [NAN, 2, 9])
    assert list(selected(Aggregation.MAX, x, w)) == [0, -1, 2]
    assert list(selected(Aggregation.MIN, x, w)) == [2, -1, 1]
    assert list(selected(Aggregation.FIRST, x, w)) == [0, -1, 1]
    assert list(selected(Aggregation.SCALED_MAX, arr([8, 10]), np.array([1.0, 0.6]))) == [0]
    with pytest.raises(ValueError, match="does not select"):
        selected(Aggregation.MEAN, x, w)


def test_coverage_and_reliability() -> None:
    x = arr([2, NAN, 4])
    w = np.array([1.0, 1.0, 2.0])
    r = arr([1.0, 0.5, 0.8])
    assert coverage(x, w)[0] == pytest.approx(0.75)
    assert coverage(x, w, Aggregation.FIRST)[0] == 1.0
    # weighted mean of reliabilities, a missing child counting 0: (1*1 + 2*0.8) / 4
    assert reliability(x, r, w)[0] == pytest.approx(0.65)
    # selecting: the selected child's reliability times coverage (max is 4 -> r 0.8)
    assert reliability(x, r, w, Aggregation.MAX)[0] == pytest.approx(0.8 * 0.75)
    assert reliability(x, r, w, Aggregation.FIRST)[0] == pytest.approx(1.0)


# ---------------------------------------------------------------------------- normalisation


def test_log_transform_and_bounds_in_raw_units() -> None:
    spec = Normalise(method="minmax", min=0.01, max=1.0)
    got = normalise(np.array([0.01, 0.1, 1.0, 5.0, NAN]), spec, [Transform(op="log")])
    assert got[:4] == pytest.approx([0.0, 5.0, 10.0, 10.0])
    assert math.isnan(got[4])
    values, _ = transform(np.array([-1.0, 0.0, math.e - 1]), [Transform(op="log", offset=1)])
    assert math.isnan(values[0]) and values[1] == 0 and values[2] == pytest.approx(1.0)


def test_cap_and_winsorise() -> None:
    v = np.arange(11, dtype=float)  # 0..10
    capped, bounds = transform(v, [Transform(op="cap", upper=5)], (0.0, 10.0))
    assert capped.max() == 5 and bounds == (0.0, 5.0)
    wins, _ = transform(v, [Transform(op="winsorise", lower_pct=10, upper_pct=90)])
    assert wins.min() == pytest.approx(1.0) and wins.max() == pytest.approx(9.0)
    # a capped indicator saturates: everything at or above the cap scores 10
    spec = Normalise(method="minmax", min=0, max=10)
    assert normalise(v, spec, [Transform(op="cap", upper=5)])[5:] == pytest.approx([10.0] * 6)


def test_minmax_observed_and_stated_bounds() -> None:
    assert list(minmax(np.array([2.0, 4.0, 6.0]))) == [0.0, 5.0, 10.0]
    assert list(minmax(np.array([2.0, 4.0, 6.0]), 0.0, 4.0)) == [5.0, 10.0, 10.0]
    assert list(minmax(np.array([3.0, 3.0]))) == [5.0, 5.0]  # nothing to rank by
    with pytest.raises(ValueError, match="collapse"):
        minmax(np.array([1.0]), 2.0, 2.0)


def test_percentile_rank_with_ties() -> None:
    got = percentile_rank(np.array([1.0, 2.0, 2.0, 3.0, NAN]))
    assert list(got[:4]) == [0.0, 5.0, 5.0, 10.0]
    assert math.isnan(got[4])
    assert list(percentile_rank(np.array([7.0]))) == [5.0]


def test_direction_inverts() -> None:
    spec = Normalise(method="minmax", min=-2.5, max=1.5)
    got = normalise(np.array([-2.5, 1.5, 0.0]), spec, [], Direction.HIGHER_IS_BETTER)
    assert list(got) == pytest.approx([10.0, 0.0, 3.75])


# ---------------------------------------------------------------------------- the tree

COUNTRIES = ["AUT", "BEL", "CZE", "DEU", "EST"]


def method_of(*factors: Node, groups: list[Group] | None = None) -> Method:
    ind = [Indicator(id=i, name=i, source="table", default=0) for i in ("a", "b", "c")]
    return Method(
        id="t", version="1", title="test", indicators=ind, factors=list(factors),
        groups=groups or [],
    )  # fmt: skip


def leaves(**columns: list[float]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    return {k: (np.array(v, dtype=float), np.ones(len(v))) for k, v in columns.items()}


def by_path(nodes: list[compose.NodeScores]) -> dict[str, compose.NodeScores]:
    return {s.path: s for s in nodes}


def test_coverage_threshold_and_reweighting() -> None:
    def factor(min_coverage: float) -> Node:
        return Node(
            id="f",
            aggregation="mean",
            missing=Missing(min_coverage=min_coverage),
            children=[Node(indicator="a", weight=1), Node(indicator="b", weight=1)],
        )

    data = leaves(a=[2, 2, NAN, 2, 2], b=[6, NAN, NAN, 6, 6])
    strict = by_path(evaluate(method_of(factor(0.6)), COUNTRIES, data))["f"]
    assert strict.score[0] == pytest.approx(4.0)
    assert math.isnan(strict.score[1])  # coverage 0.5 < 0.6
    assert strict.status[1] == compose.BELOW_COVERAGE
    assert strict.status[2] == compose.MISSING
    loose = by_path(evaluate(method_of(factor(0.5)), COUNTRIES, data))["f"]
    assert loose.score[1] == pytest.approx(2.0)  # re-weighted over the child present
    assert loose.coverage[1] == pytest.approx(0.5)
    assert loose.reliability[1] == pytest.approx(0.5)


def test_group_imputation_then_value() -> None:
    groups = [Group(id="g", members=["AUT", "BEL", "CZE"])]
    f = Node(
        id="f",
        aggregation="mean",
        missing=Missing(
            min_coverage=1.0,
            impute=[Impute(group="g", reliability=0.4), Impute(value=1.5, reliability=0.1)],
        ),
        children=[Node(indicator="a")],
    )
    data = leaves(a=[4, 6, NAN, 9, NAN])
    got = by_path(evaluate(method_of(f, groups=groups), COUNTRIES, data))["f"]
    assert got.score[2] == pytest.approx(5.0)  # mean of AUT and BEL, not of DEU
    assert got.reliability[2] == pytest.approx(0.4)
    assert got.status[2] == "imputed: mean of group g"
    assert got.score[4] == pytest.approx(1.5)  # EST is in no group: the fixed value
    assert got.reliability[4] == pytest.approx(0.1)
    assert got.reliability[0] == pytest.approx(1.0)


def test_imputed_values_never_donate() -> None:
    groups = [
        Group(id="g1", members=["AUT", "BEL"]),
        Group(id="g2", members=["BEL", "CZE", "DEU"]),
    ]
    f = Node(
        id="f", aggregation="mean", children=[Node(indicator="a")],
        missing=Missing(impute=[Impute(group="g1"), Impute(group="g2")]),
    )  # fmt: skip
    data = leaves(a=[2, NAN, NAN, 8, 0])
    got = by_path(evaluate(method_of(f, groups=groups), COUNTRIES, data))["f"]
    assert got.score[1] == pytest.approx(2.0)  # BEL from g1 (AUT)
    assert got.score[2] == pytest.approx(8.0)  # CZE from g2: DEU only, not the imputed BEL


def test_leaf_imputation_and_world_group() -> None:
    f = Node(
        id="f",
        aggregation="mean",
        children=[
            Node(indicator="a", missing=Missing(impute=[Impute(group="world", reliability=0.3)])),
            Node(indicator="b"),
        ],
    )
    data = leaves(a=[1, 3, NAN, 5, 7], b=[0, 0, 0, 0, 0])
    nodes = by_path(evaluate(method_of(f), COUNTRIES, data))
    assert nodes["f/a"].score[2] == pytest.approx(4.0)
    assert nodes["f"].score[2] == pytest.approx(2.0)
    assert nodes["f"].reliability[2] == pytest.approx((0.3 + 1.0) / 2)


def test_scope_sets_outside_value() -> None:
    f = Node(
        id="f",
        aggregation="max",
        children=[
            Node(indicator="a"),
            Node(indicator="b", scope=Scope(countries=["AUT", "BEL"], outside=0)),
        ],
    )
    data = leaves(a=[1, 1, 1, 1, 1], b=[9, NAN, 9, 9, 9])
    nodes = by_path(evaluate(method_of(f), COUNTRIES, data))
    assert list(nodes["f"].score) == [9, 1, 1, 1, 1]
    assert nodes["f/b"].status[3] == compose.OUTSIDE
    assert nodes["f/b"].reliability[3] == 1.0
    assert nodes["f/b"].status[1] == compose.MISSING  # inside the scope, no data


def test_hazard_and_vulnerability_tree_by_hand() -> None:
    """Risk = geometric mean of hazard (complement product of two hazards) and vulnerability.
    (INFORM itself combines hazards differently: see tests/baseline/test_inform.py.)"""
    f = Node(
        id="risk",
        aggregation="geometric_mean",
        children=[
            Node(
                id="hazard",
                aggregation="complement_product",
                children=[Node(indicator="a"), Node(indicator="b")],
            ),
            Node(indicator="c"),
        ],
    )
    data = leaves(a=[5, 0, 10, 2, 8], b=[5, 6, 3, 2, NAN], c=[4.8, 6, 1, 0, 2])
    nodes = by_path(evaluate(method_of(f), COUNTRIES, data))
    hazard = [7.5, 6.0, 10.0, 10 - 8 * 8 / 10, 8.0]
    assert list(nodes["risk/hazard"].score) == pytest.approx(hazard)
    expected = [math.sqrt(h * c) for h, c in zip(hazard, [4.8, 6, 1, 0, 2], strict=True)]
    assert list(nodes["risk"].score) == pytest.approx(expected)
    assert nodes["risk"].score[0] == pytest.approx(6.0)


def test_attribution_follows_the_selected_child() -> None:
    f = Node(
        id="f",
        aggregation="scaled_max",
        children=[
            Node(id="m", aggregation="mean",
                 children=[Node(indicator="a", weight=3), Node(indicator="b", weight=1)]),
            Node(indicator="c", weight=0.5),
        ],
    )  # fmt: skip
    data = leaves(a=[2, 2, 2, 2, 2], b=[6, NAN, 6, 6, 6], c=[2, 2, 10, 2, 2])
    nodes = evaluate(method_of(f), COUNTRIES, data)
    used, share = compose.attribution(nodes)
    n = len(COUNTRIES)
    table = {s.path: (used[i * n : (i + 1) * n], share[i * n : (i + 1) * n])
             for i, s in enumerate(nodes)}  # fmt: skip
    # AUT: m = 3 beats 0.5*2; a and b share 3:1
    assert table["f/m"][0][0] and not table["f/c"][0][0]
    assert table["f/m/a"][1][0] == pytest.approx(0.75)
    # BEL: b missing, a takes the whole weight of m
    assert table["f/m/a"][1][1] == pytest.approx(1.0) and not table["f/m/b"][0][1]
    # CZE: 0.5*10 = 5 beats m = 3: only c is used
    assert table["f/c"][0][2] and not table["f/m/a"][0][2]
