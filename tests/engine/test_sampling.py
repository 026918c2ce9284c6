"""Draws of the Monte Carlo: PERT and triangular shocks against theory, escalation ladders
against probabilities worked out by hand, and seeds that do not depend on the chunking."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from riskapp.domain import Scenario, find_inconsistencies
from riskapp.engine.sampling import (
    TRIALS_PER_BLOCK,
    RangeDistribution,
    SamplingSpec,
    block_seed,
    pert_parameters,
    range_moments,
    sample_range,
)
from tests.engine.builders import linear_workspace, scenario

N = 200_000


@pytest.mark.parametrize("distribution", list(RangeDistribution))
@pytest.mark.parametrize(("low", "mode", "high"), [(2.0, 3.0, 5.0), (0.0, 0.0, 4.0), (1, 6, 6)])
def test_range_draws_match_theoretical_moments(
    distribution: RangeDistribution, low: float, mode: float, high: float
) -> None:
    rng = np.random.default_rng(1)
    lo, mo, hi = (np.array([v], dtype=float) for v in (low, mode, high))
    x = sample_range(rng, lo, mo, hi, distribution, N)[:, 0]
    mean, var = range_moments(lo, mo, hi, distribution)
    assert x.min() >= low and x.max() <= high
    assert abs(x.mean() - mean[0]) < 4 * math.sqrt(var[0] / N)
    assert x.var() == pytest.approx(var[0], rel=0.02)


def test_pert_formulas_by_hand() -> None:
    lo, mo, hi = np.array([2.0]), np.array([3.0]), np.array([5.0])
    a, b = pert_parameters(lo, mo, hi)
    assert a[0] == pytest.approx(1 + 4 * 1 / 3) and b[0] == pytest.approx(1 + 4 * 2 / 3)
    mean, var = range_moments(lo, mo, hi, RangeDistribution.PERT)
    assert mean[0] == pytest.approx((2 + 12 + 5) / 6)
    assert var[0] == pytest.approx((mean[0] - 2) * (5 - mean[0]) / 7)
    # the beta distribution's own variance gives the same figure
    ab = a[0] + b[0]
    assert var[0] == pytest.approx(9 * a[0] * b[0] / (ab**2 * (ab + 1)))
    mean, var = range_moments(lo, mo, hi, RangeDistribution.TRIANGULAR)
    assert mean[0] == pytest.approx(10 / 3)
    assert var[0] == pytest.approx((4 + 9 + 25 - 6 - 10 - 15) / 18)


def test_triangular_median_by_hand() -> None:
    # low 0, mode 0, high 1: F(x) = 1 - (1 - x)^2, median 1 - sqrt(1/2)
    x = sample_range(
        np.random.default_rng(2),
        np.zeros(1),
        np.zeros(1),
        np.ones(1),
        RangeDistribution.TRIANGULAR,
        N,
    )
    assert np.median(x) == pytest.approx(1 - math.sqrt(0.5), abs=0.005)


def test_shock_values_follow_file_order_and_ranges() -> None:
    ws = linear_workspace(
        [
            scenario("a", 0.5, [{"target": "NOR", "factor": "alpha", "op": "set", "value": 4}]),
            scenario(
                "b",
                0.5,
                [
                    {"target": "NOR", "factor": "alpha", "op": "add", "value": 1},
                    {
                        "target": "FIN",
                        "factor": "alpha",
                        "op": "set",
                        "value": 5,
                        "range": {"low": 4, "mode": 5, "high": 8},
                    },
                    {
                        "target": "FIN",
                        "factor": "alpha",
                        "op": "add",
                        "value": 2,
                        "range": {"low": 2, "mode": 2, "high": 2},
                    },
                ],
            ),
        ]
    )
    spec = SamplingSpec.from_scenarios(ws.scenarios)
    assert spec.ranged.tolist() == [2]  # a zero-width range is no range
    draws = spec.draw(seed=3, start=0, stop=500)
    assert (draws.shock_values[:, [0, 1, 3]] == [4.0, 1.0, 2.0]).all()
    assert draws.shock_values[:, 2].min() >= 4 and draws.shock_values[:, 2].max() <= 8
    assert len(np.unique(draws.shock_values[:, 2])) == 500


def test_block_seeds_are_spawned_children() -> None:
    children = np.random.SeedSequence(42).spawn(4)
    for b in range(4):
        assert (block_seed(42, b).generate_state(4) == children[b].generate_state(4)).all()


def test_draws_do_not_depend_on_the_chunking() -> None:
    spec = SamplingSpec.from_scenarios(
        [
            scenario(
                "a",
                0.3,
                [
                    {
                        "target": "NOR",
                        "factor": "alpha",
                        "op": "set",
                        "value": 5,
                        "range": {"low": 1, "mode": 5, "high": 9},
                    }
                ],
            )
        ]
    )
    whole = spec.draw(7, 0, 2 * TRIALS_PER_BLOCK + 500)
    cuts = [0, 1, 999, 1000, 1001, 1700, 2 * TRIALS_PER_BLOCK + 500]
    parts = [spec.draw(7, a, b) for a, b in itertools.pairwise(cuts)]
    assert np.array_equal(whole.occurs, np.concatenate([p.occurs for p in parts]))
    assert np.array_equal(whole.shock_values, np.concatenate([p.shock_values for p in parts]))
    # a longer run extends a shorter one; another seed gives other draws
    shorter = spec.draw(7, 0, 1234)
    assert np.array_equal(shorter.shock_values, whole.shock_values[:1234])
    assert not np.array_equal(spec.draw(8, 0, 1234).shock_values, shorter.shock_values)


def ladder() -> list[Scenario]:
    """incident (0.2) -> limited exchange (x 0.5 = 0.1) -> wider conflict (x 0.4 = 0.04);
    incident -> blockade (x 0.25 = 0.05). Children come first in file order on purpose."""
    return [
        scenario("wider", 0.04, [], escalates_from={"scenario": "limited", "probability": 0.4}),
        scenario("limited", 0.1, [], escalates_from={"scenario": "incident", "probability": 0.5}),
        scenario("incident", 0.2, []),
        scenario(
            "blockade", 0.05, [], escalates_from={"scenario": "incident", "probability": 0.25}
        ),
    ]


def test_ladder_marginals_by_hand() -> None:
    spec = SamplingSpec.from_scenarios(ladder())
    assert spec.marginal_probabilities() == pytest.approx([0.04, 0.1, 0.2, 0.05])
    occ = spec.draw(11, 0, N).occurs
    wider, limited, incident, blockade = occ.T
    for rate, p in zip(occ.mean(axis=0), [0.04, 0.1, 0.2, 0.05], strict=True):
        assert abs(rate - p) < 4 * math.sqrt(p * (1 - p) / N)
    # a rung never occurs without the rung below it
    assert not (wider & ~limited).any()
    assert not (limited & ~incident).any()
    assert not (blockade & ~incident).any()
    # conditional probabilities, and branches independent given their parent
    assert (limited[incident]).mean() == pytest.approx(0.5, abs=0.01)
    assert (wider[limited]).mean() == pytest.approx(0.4, abs=0.02)
    both = (limited & blockade)[incident].mean()
    assert both == pytest.approx(0.5 * 0.25, abs=0.01)


def test_a_rung_whose_parent_is_left_out_occurs_on_its_own() -> None:
    only = [s for s in ladder() if s.id == "limited"]
    spec = SamplingSpec.from_scenarios(only)
    assert spec.parent.tolist() == [-1]
    assert spec.draw(1, 0, N).occurs.mean() == pytest.approx(0.1, abs=0.003)


def test_ladder_cross_checks() -> None:
    ws = linear_workspace(ladder())
    assert find_inconsistencies(ws) == []
    bad = [
        scenario("a", 0.2, []),
        scenario("b", 0.05, [], escalates_from={"scenario": "a", "probability": 0.5}),
        scenario("c", 0.1, [], escalates_from={"scenario": "nope", "probability": 0.5}),
        scenario("d", 0.1, [], escalates_from={"scenario": "e", "probability": 0.5}),
        scenario("e", 0.1, [], escalates_from={"scenario": "d", "probability": 0.5}),
    ]
    found = {(i.part, i.loc): i.message for i in find_inconsistencies(linear_workspace(bad))}
    assert "set frequency to 0.1" in found[("scenario:b", ("frequency",))]
    assert "unknown scenario 'nope'" in found[("scenario:c", ("escalates_from", "scenario"))]
    assert found[("scenario:d", ("escalates_from", "scenario"))] == "escalation cycle: d -> e -> d"
    assert found[("scenario:e", ("escalates_from", "scenario"))] == "escalation cycle: e -> d -> e"
    with pytest.raises(ValueError, match="cannot escalate from itself"):
        scenario("x", 0.1, [], escalates_from={"scenario": "x", "probability": 0.5})
    with pytest.raises(ValueError):
        scenario("x", 0.1, [], escalates_from={"scenario": "a", "probability": 1.5})
