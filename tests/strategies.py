"""Hypothesis strategies for random but valid workspaces."""

from __future__ import annotations

from hypothesis import strategies as st

from riskapp.domain import (
    Action,
    Asset,
    Baseline,
    BaselineEntry,
    Coverage,
    CurveSet,
    Effect,
    Factor,
    FactorCatalogue,
    FactorLevel,
    Plan,
    PlanBook,
    Portfolio,
    RegionCatalogue,
    RegionGroup,
    Scenario,
    Shock,
    Trigger,
    VulnerabilityCurve,
    Workspace,
    WorkspaceSettings,
)

COUNTRIES = ["DEU", "FIN", "NOR", "POL", "EST"]
TYPES = ["plant", "port", "office"]
FACTORS = ["f0", "f1", "f2"]

intensity = st.floats(0, 10, allow_nan=False)
ratio = st.floats(0, 1, allow_nan=False)


@st.composite
def curve_points(draw: st.DrawFn) -> list[tuple[float, float]]:
    xs = sorted(draw(st.sets(st.integers(0, 10), min_size=2, max_size=5)))
    ys = sorted(draw(st.lists(ratio, min_size=len(xs), max_size=len(xs))))
    return [(float(x), y) for x, y in zip(xs, ys, strict=True)]


@st.composite
def shocks(draw: st.DrawFn) -> Shock:
    op = draw(st.sampled_from(["set", "add", "scale", "toward_max", "toward_min"]))
    value = {
        "set": draw(intensity),
        "add": draw(st.floats(-10, 10, allow_nan=False)),
        "scale": draw(st.floats(0, 3, allow_nan=False)),
        "toward_max": draw(st.floats(0, 1, allow_nan=False)),
        "toward_min": draw(st.floats(0, 1, allow_nan=False)),
    }[op]
    return Shock(
        target=draw(st.sampled_from([*COUNTRIES, "grp"])),
        factor=draw(st.sampled_from(FACTORS)),
        op=op,
        value=value,
    )


@st.composite
def workspaces(draw: st.DrawFn, with_plans: bool = True) -> Workspace:
    n_f = draw(st.integers(1, 3))
    factors = FACTORS[:n_f]
    curves = []
    for t in TYPES:
        for f in factors:
            if draw(st.booleans()) or (t == "plant" and f == "f0"):
                curves.append(
                    VulnerabilityCurve(asset_type=t, factor=f, points=draw(curve_points()))
                )
    n_a = draw(st.integers(1, 12))
    assets = [
        Asset(
            id=f"A{i}",
            name=f"Asset {i}",
            type=draw(st.sampled_from(TYPES)),
            country=draw(st.sampled_from(COUNTRIES)),
            replacement_value=draw(st.floats(0, 1e9, allow_nan=False)),
            annual_revenue_at_stake=draw(st.floats(0, 1e8, allow_nan=False)),
            tags=draw(st.lists(st.sampled_from(["a", "b"]), max_size=2, unique=True)),
        )
        for i in range(n_a)
    ]
    # every asset type needs a curve
    have = {c.asset_type for c in curves}
    for t in {a.type for a in assets} - have:
        curves.append(
            VulnerabilityCurve(asset_type=t, factor=factors[0], points=draw(curve_points()))
        )
    if draw(st.booleans()):
        curves.append(
            VulnerabilityCurve(asset_id="A0", factor=factors[0], points=draw(curve_points()))
        )
    baseline = Baseline(
        entries=[
            BaselineEntry(country=c, factor=f, intensity=draw(intensity))
            for c in COUNTRIES
            for f in factors
        ]
    )
    n_s = draw(st.integers(1, 4))
    scenarios = []
    for s in range(n_s):
        sh = [x for x in draw(st.lists(shocks(), max_size=5)) if x.factor in factors]
        scenarios.append(
            Scenario(
                id=f"s{s}",
                title=f"S{s}",
                frequency=draw(ratio),
                warning_time_days=draw(st.floats(0, 100, allow_nan=False)),
                shocks=sh,
            )
        )
    plans = []
    if with_plans:
        for p in range(draw(st.integers(0, 3))):
            plans.append(
                Plan(
                    id=f"p{p}",
                    title=f"P{p}",
                    status=draw(st.sampled_from(["proposed", "ready", "active", "approved"])),
                    trigger=Trigger(
                        scenarios=draw(
                            st.lists(st.sampled_from([s.id for s in scenarios]), max_size=2)
                        ),
                        factor_levels=[
                            FactorLevel(region="grp", factor=factors[0], at_least=draw(intensity))
                        ],
                    ),
                    actions=[
                        Action(
                            title="a",
                            lead_time_days=draw(st.floats(0, 120, allow_nan=False)),
                            one_off_cost=draw(st.floats(0, 1e6, allow_nan=False)),
                        )
                    ],
                    coverage=Coverage(
                        tags=draw(st.lists(st.sampled_from(["a", "b"]), max_size=1)),
                        asset_types=draw(st.lists(st.sampled_from(TYPES), max_size=2)),
                    ),
                    effect=Effect(
                        damage_multiplier={factors[0]: draw(ratio)},
                        intensity_reduction={factors[-1]: draw(st.floats(0, 5, allow_nan=False))},
                    ),
                )
            )
    return Workspace(
        settings=WorkspaceSettings(name="random"),
        factors=FactorCatalogue(factors=[Factor(id=f, name=f) for f in factors]),
        regions=RegionCatalogue(groups=[RegionGroup(id="grp", name="G", members=["FIN", "EST"])]),
        curves=CurveSet(curves=curves),
        baseline=baseline,
        portfolio=Portfolio.from_assets(assets),
        scenarios=scenarios,
        plans=PlanBook(plans=plans),
    )
