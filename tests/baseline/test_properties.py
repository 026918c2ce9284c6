"""Invariants of the composite maths on random inputs (hypothesis)."""

from __future__ import annotations

import math
from itertools import count

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from riskapp.baseline.build import BaselineResult
from riskapp.baseline.compose import evaluate, normalise
from riskapp.baseline.method import (
    WEIGHTED,
    Aggregation,
    ChildRule,
    Direction,
    Group,
    Impute,
    Indicator,
    Method,
    Missing,
    Node,
    Normalise,
    NormaliseMethod,
    Rounding,
    RoundMode,
    Scope,
    Transform,
)
from riskapp.baseline.operators import aggregate
from riskapp.baseline.reference import reference_evaluate

SETTINGS = settings(max_examples=60, deadline=None)
COUNTRIES = ["AUT", "BEL", "CZE", "DEU", "EST", "FIN"]
INDICATORS = ["i0", "i1", "i2", "i3"]

scores = st.one_of(st.floats(0, 10, allow_nan=False), st.just(math.nan))
weights = st.sampled_from([0.0, 0.3, 0.5, 1.0, 2.0])
SHIFTED = {Aggregation.GEOMETRIC_MEAN, Aggregation.COMPLEMENT_GEOMETRIC}
roundings = st.one_of(
    st.none(),
    st.builds(Rounding, decimals=st.sampled_from([0, 1, 2]), mode=st.sampled_from(RoundMode)),
)


# ---------------------------------------------------------------------------- aggregations


@SETTINGS
@given(
    st.sampled_from(list(Aggregation)),
    st.lists(st.floats(0, 10, allow_nan=False), min_size=1, max_size=5),
    st.data(),
)
def test_aggregations_never_fall_when_a_child_rises(
    agg: Aggregation, values: list[float], data: st.DataObject
) -> None:
    k = len(values)
    w = np.array(data.draw(st.lists(weights, min_size=k, max_size=k)))
    j = data.draw(st.integers(0, k - 1))
    bump = data.draw(st.floats(0, 10, allow_nan=False))
    low = np.array([values])
    high = low.copy()
    high[0, j] = min(10.0, high[0, j] + bump)
    offset = data.draw(st.sampled_from([0.0, 1.0])) if agg in SHIFTED else 0.0
    a = aggregate(agg, low, w, offset)[0]
    b = aggregate(agg, high, w, offset)[0]
    if w.max() == 0:
        assert math.isnan(a) and math.isnan(b)
        return
    assert 0.0 <= a <= 10.0 and 0.0 <= b <= 10.0
    assert b >= a - 1e-9


@SETTINGS
@given(
    st.lists(
        st.one_of(st.floats(-5, 50, allow_nan=False), st.just(math.nan)), min_size=1, max_size=12
    ),
    st.sampled_from(list(NormaliseMethod)),
    st.sampled_from(list(Direction)),
    st.lists(
        st.sampled_from(
            [
                Transform(op="log", offset=10),
                Transform(op="cap", lower=0, upper=20),
                Transform(op="winsorise", lower_pct=5, upper_pct=95),
                Transform(op="winsorise", upper_pct=50),
            ]
        ),
        max_size=2,
    ),
    st.data(),
)
def test_normalised_score_moves_with_the_direction(
    values: list[float],
    method: NormaliseMethod,
    direction: Direction,
    steps: list[Transform],
    data: st.DataObject,
) -> None:
    spec = (
        Normalise(method=method, min=-5, max=50)
        if method is NormaliseMethod.MINMAX and data.draw(st.booleans())
        else Normalise(method=method)
    )
    present = [i for i, v in enumerate(values) if not math.isnan(v)]
    if not present:
        return
    i = data.draw(st.sampled_from(present))
    higher = list(values)
    higher[i] += data.draw(st.floats(0, 30, allow_nan=False))
    a = normalise(np.array(values), spec, steps, direction)
    b = normalise(np.array(higher), spec, steps, direction)
    ok = ~np.isnan(a)
    assert ((a[ok] >= 0) & (a[ok] <= 10)).all()
    if direction is Direction.HIGHER_IS_WORSE:
        assert b[i] >= a[i] - 1e-9
    else:
        assert b[i] <= a[i] + 1e-9


# ---------------------------------------------------------------------------- random trees


@st.composite
def trees(draw: st.DrawFn) -> Method:
    ids = count()

    def missing(leaf: bool, agg: Aggregation | None = None) -> Missing:
        rules: list[ChildRule | None] = [None]
        if agg in WEIGHTED:
            rules += [ChildRule.RENORMALISE, ChildRule.ZERO]
        elif agg is Aggregation.COMPLEMENT_PRODUCT:
            rules += [ChildRule.ZERO]
        rule = draw(st.sampled_from(rules))
        steps = draw(
            st.lists(
                st.one_of(
                    st.builds(Impute, group=st.sampled_from(["g1", "g2", "world"]),
                              reliability=st.sampled_from([0.2, 0.5])),
                    st.builds(Impute, value=st.sampled_from([0.0, 3.0]),
                              reliability=st.just(0.1)),
                ),
                max_size=2,
            )
        )  # fmt: skip
        cover = 0.5 if leaf else draw(st.sampled_from([0.0, 0.3, 0.5, 1.0]))
        return Missing(min_coverage=cover, impute=steps, rule=rule)

    def scope() -> Scope | None:
        if not draw(st.booleans()) or draw(st.booleans()):
            return None
        return Scope(group=draw(st.sampled_from(["g1", "g2"])), outside=draw(st.just(0.0)))

    def node(depth: int) -> Node:
        weight = draw(weights)
        if depth >= 3 or draw(st.integers(0, 2)) == 0:
            return Node(
                id=f"n{next(ids)}",
                indicator=draw(st.sampled_from(INDICATORS)),
                weight=weight,
                missing=missing(True),
                scope=scope(),
                round=draw(roundings),
            )
        children = [node(depth + 1) for _ in range(draw(st.integers(1, 3)))]
        if all(c.weight == 0 for c in children):
            children[0] = children[0].model_copy(update={"weight": 1.0})
        agg = draw(st.sampled_from(list(Aggregation)))
        return Node(
            id=f"n{next(ids)}",
            aggregation=agg,
            offset=draw(st.sampled_from([None, 0.0, 1.0])) if agg in SHIFTED else None,
            weight=weight,
            children=children,
            missing=missing(False, agg),
            scope=scope(),
            round=draw(roundings),
        )

    factors = [node(1) for _ in range(draw(st.integers(1, 2)))]
    factors = [f.model_copy(update={"weight": 1.0}) for f in factors]
    g1 = draw(st.lists(st.sampled_from(COUNTRIES), min_size=1, max_size=4, unique=True))
    g2 = draw(st.lists(st.sampled_from(COUNTRIES), min_size=1, max_size=4, unique=True))
    return Method(
        id="random",
        version="1",
        title="random",
        round=draw(roundings),
        groups=[Group(id="g1", members=g1), Group(id="g2", members=g2)],
        indicators=[Indicator(id=i, name=i, source="table", default=0) for i in INDICATORS],
        factors=factors,
    )


@st.composite
def leaf_data(draw: st.DrawFn) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    n = len(COUNTRIES)
    out = {}
    for ind in INDICATORS:
        s = draw(st.lists(scores, min_size=n, max_size=n))
        r = draw(st.lists(st.sampled_from([0.3, 0.6, 1.0]), min_size=n, max_size=n))
        out[ind] = (np.array(s, dtype=float), np.array(r, dtype=float))
    return out


@settings(max_examples=150, deadline=None)
@given(trees(), leaf_data())
def test_vectorised_tree_agrees_with_per_country_reference(
    method: Method, data: dict[str, tuple[np.ndarray, np.ndarray]]
) -> None:
    fast = {s.path: s for s in evaluate(method, COUNTRIES, data)}
    slow = reference_evaluate(
        method, COUNTRIES, {k: (list(v[0]), list(v[1])) for k, v in data.items()}
    )
    assert set(fast) == set(slow)
    for path, (score, cover, rel) in slow.items():
        np.testing.assert_allclose(fast[path].score, score, rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(fast[path].coverage, cover, rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(fast[path].reliability, rel, rtol=1e-9, atol=1e-9)


@settings(max_examples=100, deadline=None)
@given(trees(), leaf_data(), st.data())
def test_raising_an_indicator_never_lowers_that_countrys_scores(
    method: Method, data: dict[str, tuple[np.ndarray, np.ndarray]], more: st.DataObject
) -> None:
    ind = more.draw(st.sampled_from(INDICATORS))
    present = np.flatnonzero(~np.isnan(data[ind][0]))
    if present.size == 0:
        return
    i = int(more.draw(st.sampled_from(list(present))))
    higher = dict(data)
    bumped = data[ind][0].copy()
    bumped[i] = min(10.0, bumped[i] + more.draw(st.floats(0, 10, allow_nan=False)))
    higher[ind] = (bumped, data[ind][1])
    low = {s.path: s.score[i] for s in evaluate(method, COUNTRIES, data)}
    high = {s.path: s.score[i] for s in evaluate(method, COUNTRIES, higher)}
    for path, value in low.items():
        if not math.isnan(value):
            assert high[path] >= value - 1e-9, path


# ---------------------------------------------------------------------------- default method


def rescore(result: BaselineResult, raw: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Factor scores of the default method from (possibly changed) raw indicator values."""
    method = result.method
    leaves = {}
    for ind in method.indicators:
        rows = result.indicators[result.indicators["indicator"] == ind.id]
        rel = rows["reliability"].to_numpy(dtype=float)
        score = normalise(raw[ind.id], ind.normaliser, ind.transform, ind.direction)
        leaves[ind.id] = (score, np.where(np.isnan(score), 0.0, np.maximum(rel, 1e-9)))
    nodes = evaluate(method, result.countries, leaves)
    return {s.path: s.score for s in nodes if s.depth == 0}


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_default_method_moves_with_each_indicators_direction(
    result_2025: BaselineResult, data: st.DataObject
) -> None:
    method = result_2025.method
    frame = result_2025.indicators
    raw = {
        ind.id: frame[frame["indicator"] == ind.id]["raw"].to_numpy(dtype=float)
        for ind in method.indicators
    }
    ind = data.draw(st.sampled_from(method.indicators))
    present = np.flatnonzero(~np.isnan(raw[ind.id]))
    i = int(data.draw(st.sampled_from(list(present))))
    step = abs(float(np.nanmax(raw[ind.id]) - np.nanmin(raw[ind.id]))) or 1.0
    changed = dict(raw)
    changed[ind.id] = raw[ind.id].copy()
    changed[ind.id][i] += data.draw(st.floats(0.01, 1.0)) * step
    before = rescore(result_2025, raw)
    after = rescore(result_2025, changed)
    sign = 1.0 if ind.direction is Direction.HIGHER_IS_WORSE else -1.0
    for factor, values in before.items():
        assert sign * (after[factor][i] - values[i]) >= -1e-9, (ind.id, factor)
