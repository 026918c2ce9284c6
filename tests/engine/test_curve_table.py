"""The vectorised curve reading (`CurveTable`, one `searchsorted` for every cell) against the
plain reading of each curve with `np.interp`, cell by cell."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from riskapp.domain.curves import CurveSet, VulnerabilityCurve
from riskapp.engine.damage import group_assets, group_damage
from tests.strategies import curve_points

TYPES = ["plant", "cable", "port"]
FACTORS = ["hybrid", "energy", "arctic"]


def plain_reading(groups, intensities, factors, curves, reduction=None):  # type: ignore[no-untyped-def]
    """Each group's curve for each factor read by np.interp on its own (what the engine
    read before the table)."""
    felt = intensities[:, groups.country_index, :]
    if reduction is not None:
        felt = np.maximum(felt - reduction, 0.0)
    out = np.zeros(felt.shape)
    by_type = curves.type_curves()
    by_asset = curves.override_curves()
    for g in range(groups.count):
        for f_i, factor in enumerate(factors):
            curve = by_asset.get((str(groups.override_owner[g]), factor)) or by_type.get(
                (str(groups.type[g]), factor)
            )
            if curve is None:
                continue
            xs = np.array([p[0] for p in curve.points])
            ys = np.array([p[1] for p in curve.points])
            out[:, g, f_i] = np.interp(felt[:, g, f_i], xs, ys)
    return out


@st.composite
def cases(draw: st.DrawFn):  # type: ignore[no-untyped-def]
    n_assets = draw(st.integers(1, 12))
    types = draw(st.lists(st.sampled_from(TYPES), min_size=n_assets, max_size=n_assets))
    countries = np.array(draw(st.lists(st.integers(0, 2), min_size=n_assets, max_size=n_assets)))
    ids = [f"A{i}" for i in range(n_assets)]
    curves = []
    for t in TYPES:
        for f in FACTORS:
            if draw(st.booleans()):
                curves.append(
                    VulnerabilityCurve(asset_type=t, factor=f, points=draw(curve_points()))
                )
    for a in draw(st.lists(st.sampled_from(ids), max_size=3, unique=True)):
        f = draw(st.sampled_from(FACTORS))
        curves.append(VulnerabilityCurve(asset_id=a, factor=f, points=draw(curve_points())))
    if not curves:
        curves.append(
            VulnerabilityCurve(asset_type="plant", factor="hybrid", points=[(0, 0), (10, 1)])
        )
    curve_set = CurveSet(curves=curves)
    overrides = {c.asset_id for c in curves if c.asset_id is not None}
    groups = group_assets(
        np.array(ids, dtype=object), np.array(types, dtype=object), countries, overrides
    )
    n_s = draw(st.integers(1, 4))
    # intensities on the scale, with every curve's own points among them (the segment ends)
    points = sorted({p[0] for c in curves for p in c.points} | {0.0, 10.0})
    values = st.one_of(st.sampled_from(points), st.floats(0, 10, allow_nan=False))
    grid = draw(st.lists(values, min_size=n_s * 3 * 3, max_size=n_s * 3 * 3))
    intensities = np.array(grid, dtype=float).reshape(n_s, 3, 3)
    reduction = None
    if draw(st.booleans()):
        cells = n_s * groups.count * 3
        reduction = np.array(
            draw(st.lists(st.floats(0, 4, allow_nan=False), min_size=cells, max_size=cells))
        ).reshape(n_s, groups.count, 3)
    return groups, intensities, curve_set, reduction


@settings(max_examples=200, deadline=None)
@given(cases())
def test_the_table_reads_every_curve_as_np_interp_does(case) -> None:  # type: ignore[no-untyped-def]
    groups, intensities, curves, reduction = case
    got = group_damage(groups, intensities, FACTORS, curves, reduction)
    want = plain_reading(groups, intensities, FACTORS, curves, reduction)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)


@settings(max_examples=50, deadline=None)
@given(cases(), st.permutations(FACTORS))
def test_a_subset_of_factors_reads_the_same_cells(case, order) -> None:  # type: ignore[no-untyped-def]
    """The Monte Carlo reads only the factors a shock varies, in its own order: the table kept
    for one factor list must not be used for another."""
    groups, intensities, curves, _ = case
    full = group_damage(groups, intensities, FACTORS, curves)
    cols = [FACTORS.index(f) for f in order[:2]]
    part = group_damage(groups, intensities[:, :, cols], list(order[:2]), curves)
    np.testing.assert_array_equal(part, full[:, :, cols])


def test_curve_sets_read_their_own_points_whichever_was_read_before() -> None:
    """Each curve's arrays are made once per curve set and kept for the last few sets: sets of
    the same types with other points, read in turn and again after more sets than are kept,
    each read their own curves (and groups read afresh for each set)."""
    from riskapp.engine.damage import POINTS_KEPT

    ids = np.array(["A0", "A1"], dtype=object)
    types = np.array(["plant", "cable"], dtype=object)
    intensities = np.array([[[2.5]]])  # (scenarios, countries, factors)

    def read(top: float) -> np.ndarray:
        curves = CurveSet(
            curves=[
                VulnerabilityCurve(asset_type=t, factor="hybrid", points=[(0, 0), (10, top)])
                for t in TYPES
            ]
        )
        groups = group_assets(ids, types, np.array([0, 0]), set())
        return group_damage(groups, intensities, ["hybrid"], curves)[0, :, 0]

    tops = [0.1 * (k + 1) for k in range(POINTS_KEPT + 2)]
    for _ in range(2):
        for top in tops:
            np.testing.assert_allclose(read(top), [0.25 * top, 0.25 * top])
