"""Aggregation operators of the composite index: how a node's children combine (weighted and
geometric means, complement geometric and complement product, maxima, minimum, first
available), how missing children are handled (left out, the weights of the others
re-normalised), which child a selecting node takes, coverage and reliability, and the rounding
of scores (half-up or half-even on the decimal form). x is (countries, children) with NaN for
missing; w is (children,). Used by riskapp/baseline/compose.py's tree evaluation.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal

import numpy as np

from riskapp.baseline.method import Aggregation, ChildRule, Rounding, RoundMode

SCORE_MAX = 10.0
TIE = 1e-9  # scores closer than this are equal when a node selects one of its children
Array = np.ndarray

# --------------------------------------------------------------------------------------------
# Aggregations: x is (countries, children) with NaN for missing; w is (children,)
# --------------------------------------------------------------------------------------------


def present_mask(x: Array, w: Array) -> Array:
    out: Array = ~np.isnan(x) & (w > 0)[None, :]
    return out


def weighted_mean(x: Array, w: Array) -> Array:
    """Weighted arithmetic mean of the children present: sum(w_i x_i) / sum(w_i).

    Missing children are left out and the weights of the others re-normalised."""
    p = present_mask(x, w)
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
    p = present_mask(x, w)
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
    p = present_mask(x, w)
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
    p = present_mask(x, w)
    comp = np.clip(1.0 - np.where(p, x, 0.0) / SCORE_MAX, 0.0, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        powered = np.where(p, comp ** w[None, :], 1.0)
    out = SCORE_MAX * (1.0 - powered.prod(axis=1))
    return np.where(p.any(axis=1), out, np.nan)


def maximum(x: Array, w: Array) -> Array:
    """Maximum of the children present (weights only decide which children take part: w > 0)."""
    p = present_mask(x, w)
    out = np.where(p, x, -np.inf).max(axis=1)
    return np.where(p.any(axis=1), out, np.nan)


def scaled_maximum(x: Array, w: Array) -> Array:
    """Scaled maximum: max(w_i * x_i) over the children present, at most 10. A child with
    w = 0.6 can raise the node to at most 60 % of its own score (e.g. a general tension
    indicator that should not outrank a specific one)."""
    p = present_mask(x, w)
    out = np.where(p, x * w[None, :], -np.inf).max(axis=1)
    return np.where(p.any(axis=1), np.minimum(out, SCORE_MAX), np.nan)


def minimum(x: Array, w: Array) -> Array:
    """Minimum of the children present (w > 0)."""
    p = present_mask(x, w)
    out = np.where(p, x, np.inf).min(axis=1)
    return np.where(p.any(axis=1), out, np.nan)


def first_available(x: Array, w: Array) -> Array:
    """The first child present, in the order given: data where published, a fallback (such as
    an expert table) elsewhere."""
    p = present_mask(x, w)
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
    (min) or first present (first). Values within TIE of each other tie (floating-point
    rounding must not decide which child, and so which reliability, a node takes)."""
    p = present_mask(x, w)
    if aggregation is Aggregation.FIRST:
        idx = p.argmax(axis=1)
    else:
        if aggregation is Aggregation.MAX:
            key = x
        elif aggregation is Aggregation.SCALED_MAX:
            key = x * w[None, :]
        elif aggregation is Aggregation.MIN:
            key = -x
        else:
            raise ValueError(f"{aggregation.value} does not select a child")
        key = np.where(p, key, -np.inf)
        top = key.max(axis=1, initial=-np.inf)
        # the first child within TIE of the best: a tie however the arithmetic rounded it
        idx = (p & (key >= top[:, None] - TIE)).argmax(axis=1)
    return np.where(p.any(axis=1), idx, -1)


def coverage(x: Array, w: Array, aggregation: Aggregation = Aggregation.MEAN) -> Array:
    """Weight share of the children present: sum(w_i present) / sum(w_i). For `first` it is 1
    when any child is present (the node is fully determined by the child it takes)."""
    p = present_mask(x, w)
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
    p = present_mask(x, w)
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
