"""Benchmark of the riskapp scoring engine on a synthetic, seeded, in-memory workspace.

Times `prepare`, `score`, the asset-level figures and `evaluate_plans` (cold run, then best of
`--repeat` runs), measures their peak traced memory, and checks the engine's losses against a
plain per-asset Python reference on a subset of the assets.

    .venv/bin/python benchmarks/bench_scoring.py [--assets N] [--reference-assets K]
                                                  [--seed S] [--repeat R]

Exits 0 whether or not the targets are met (they are informational); exits 1 if the reference
and the engine disagree.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import resource
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pycountry

from riskapp.domain import (
    Action,
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
    PlanStatus,
    Portfolio,
    RegionCatalogue,
    RegionGroup,
    Scenario,
    Shock,
    ShockOperation,
    Trigger,
    VulnerabilityCurve,
    Workspace,
    WorkspaceSettings,
    find_inconsistencies,
)
from riskapp.domain.assets import ASSET_COLUMNS
from riskapp.engine import coverage_matrix, evaluate_plans, group_assets, prepare, score

FACTORS = [
    "sanctions",
    "armed_conflict",
    "civil_unrest",
    "expropriation",
    "cyber_attack",
    "trade_barriers",
    "capital_controls",
    "terrorism",
    "export_controls",
    "regime_change",
    "supply_disruption",
    "corruption",
]
ASSET_TYPES = [
    "plant",
    "office",
    "warehouse",
    "data_centre",
    "port_terminal",
    "mine",
    "retail_store",
    "research_centre",
    "pipeline",
    "subsea_cable",
]
TAGS = ["critical", "sole_source", "coastal", "leased", "joint_venture", "arctic"]
CURRENCIES = ["EUR", "USD", "GBP"]
FX_RATES = {"USD": 0.92, "GBP": 1.17}
N_COUNTRIES = 60
N_GROUPS = 5
N_SCENARIOS = 20
N_PLANS = 10
CURVE_GAP_SHARE = 0.1  # share of (type, factor) pairs left without a curve (no damage)

TIME_TARGET_S = 1.0
MEMORY_TARGET_MB = 2048.0
RTOL = 1e-9
ATOL = 1e-6  # in workspace currency units: a millionth of a euro


# -- synthetic workspace -------------------------------------------------------------------


def _round(x: float, digits: int = 2) -> float:
    return round(float(x), digits)


def build_regions(rng: np.random.Generator, countries: list[str]) -> RegionCatalogue:
    groups = []
    for g in range(N_GROUPS):
        size = int(rng.integers(6, 16))
        members = sorted(rng.choice(countries, size=size, replace=False).tolist())
        groups.append(RegionGroup(id=f"region_{g + 1}", name=f"Region {g + 1}", members=members))
    return RegionCatalogue(groups=groups)


def build_curves(rng: np.random.Generator) -> CurveSet:
    curves = []
    grid = np.arange(0.0, 10.5, 0.5)
    for a_type in ASSET_TYPES:
        for factor in FACTORS:
            if rng.random() < CURVE_GAP_SHARE:
                continue
            k = int(rng.integers(3, 6))
            xs = np.sort(rng.choice(grid, size=k, replace=False))
            ys = np.sort(rng.uniform(0.0, rng.uniform(0.01, 0.15), size=k))
            ys[0] = 0.0 if rng.random() < 0.5 else ys[0]
            points = [(float(x), _round(y, 4)) for x, y in zip(xs, ys, strict=True)]
            curves.append(VulnerabilityCurve(asset_type=a_type, factor=factor, points=points))
    return CurveSet(curves=curves)


def build_baseline(rng: np.random.Generator, countries: list[str]) -> Baseline:
    entries = [
        BaselineEntry(country=c, factor=f, intensity=_round(rng.uniform(0.0, 6.0), 1))
        for c in countries
        for f in FACTORS
    ]
    return Baseline(entries=entries)


def _shock_value(rng: np.random.Generator, op: ShockOperation) -> float:
    if op is ShockOperation.SET:
        return _round(rng.uniform(3.0, 10.0))
    if op is ShockOperation.ADD:
        return _round(rng.uniform(-3.0, 6.0))
    if op is ShockOperation.SCALE:
        return _round(rng.uniform(0.5, 3.0))
    return _round(rng.uniform(0.1, 0.9))  # toward_max / toward_min: a share of the distance


def build_scenarios(
    rng: np.random.Generator, countries: list[str], regions: RegionCatalogue
) -> list[Scenario]:
    """Scenarios whose shocks focus on a few factors and overlap, so shock order matters."""
    ops = list(ShockOperation)
    scenarios = []
    for s in range(N_SCENARIOS):
        focus = rng.choice(FACTORS, size=4, replace=False).tolist()
        shocks = []
        for _ in range(int(rng.integers(5, 16))):
            if rng.random() < 0.35:
                group = regions.groups[int(rng.integers(len(regions.groups)))]
                target = group.id
            elif rng.random() < 0.6:
                # a country that is a member of some group, so group and country shocks meet
                group = regions.groups[int(rng.integers(len(regions.groups)))]
                target = str(rng.choice(group.members))
            else:
                target = str(rng.choice(countries))
            op = ops[int(rng.integers(len(ops)))]
            factor = str(rng.choice(focus))
            shocks.append(Shock(target=target, factor=factor, op=op, value=_shock_value(rng, op)))
        scenarios.append(
            Scenario(
                id=f"scn_{s + 1:02d}",
                title=f"Synthetic scenario {s + 1}",
                frequency=_round(rng.uniform(0.002, 0.05), 4),
                warning_time_days=float(rng.integers(0, 181)),
                shocks=shocks,
            )
        )
    return scenarios


def build_plans(
    rng: np.random.Generator,
    countries: list[str],
    regions: RegionCatalogue,
    scenario_ids: list[str],
) -> PlanBook:
    statuses = list(PlanStatus)
    group_ids = [g.id for g in regions.groups]
    plans = []
    for p in range(N_PLANS):
        coverage: dict[str, list[str]] = {}
        if rng.random() < 0.7:
            coverage["asset_types"] = rng.choice(
                ASSET_TYPES, size=int(rng.integers(1, 5)), replace=False
            ).tolist()
        if rng.random() < 0.6:
            pool = group_ids + rng.choice(countries, size=5, replace=False).tolist()
            regions_picked = rng.choice(pool, size=int(rng.integers(1, 4)), replace=False)
            coverage["regions"] = regions_picked.tolist()
        if rng.random() < 0.4:
            tags = rng.choice(TAGS, size=int(rng.integers(1, 3)), replace=False)
            coverage["tags"] = tags.tolist()
        affected = rng.choice(FACTORS, size=int(rng.integers(1, 4)), replace=False).tolist()
        multipliers = {f: _round(rng.uniform(0.2, 0.9)) for f in affected[:2]}
        reductions = {f: _round(rng.uniform(0.5, 3.0)) for f in affected[1:]}
        levels = [
            FactorLevel(
                region=str(rng.choice(group_ids + countries[:5])),
                factor=str(rng.choice(FACTORS)),
                at_least=_round(rng.uniform(5.0, 9.5), 1),
            )
            for _ in range(int(rng.integers(0, 3)))
        ]
        triggered_by = rng.choice(scenario_ids, size=int(rng.integers(1, 6)), replace=False)
        actions = [
            Action(
                title=f"Action {a + 1}",
                lead_time_days=float(rng.integers(0, 150)),
                one_off_cost=_round(rng.uniform(1e4, 5e6)),
                annual_cost=_round(rng.uniform(0.0, 5e5)),
            )
            for a in range(int(rng.integers(1, 4)))
        ]
        plans.append(
            Plan(
                id=f"plan_{p + 1:02d}",
                title=f"Synthetic plan {p + 1}",
                status=statuses[p % len(statuses)],
                trigger=Trigger(
                    scenarios=triggered_by.tolist(),
                    factor_levels=levels,
                    loss_at_least=_round(rng.uniform(1e6, 1e9)) if p % 4 == 3 else None,
                ),
                actions=actions,
                coverage=Coverage(**coverage),
                effect=Effect(damage_multiplier=multipliers, intensity_reduction=reductions),
            )
        )
    return PlanBook(plans=plans)


def build_portfolio(rng: np.random.Generator, n: int, countries: list[str]) -> Portfolio:
    """A column-wise register; 1 % of the assets depend on an earlier asset (no cycles)."""
    ids = [f"A{i:07d}" for i in range(n)]
    country_weights = rng.dirichlet(np.full(len(countries), 0.8))
    revenue = rng.lognormal(12.0, 1.5, n) * (rng.random(n) < 0.5)
    tag_patterns = [[], [], [], *([t] for t in TAGS), ["critical", "sole_source"]]
    tag_pick = rng.integers(len(tag_patterns), size=n)
    depends = np.flatnonzero(rng.random(n) < 0.01)
    depends = depends[depends > 0]
    depends_on: list[list[str]] = [[] for _ in range(n)]
    for a, b in zip(depends.tolist(), rng.integers(0, depends).tolist(), strict=True):
        depends_on[a] = [ids[b]]
    frame = pd.DataFrame(
        {
            "id": ids,
            "name": [f"Site {i}" for i in range(n)],
            "type": np.asarray(ASSET_TYPES, dtype=object)[rng.integers(len(ASSET_TYPES), size=n)],
            "country": np.asarray(countries, dtype=object)[
                rng.choice(len(countries), size=n, p=country_weights)
            ],
            "lat": np.full(n, None, dtype=object),
            "lon": np.full(n, None, dtype=object),
            "replacement_value": rng.lognormal(13.0, 1.2, n),
            "annual_revenue_at_stake": revenue,
            "currency": np.asarray(CURRENCIES, dtype=object)[
                rng.choice(len(CURRENCIES), size=n, p=[0.7, 0.2, 0.1])
            ],
            "criticality": rng.integers(1, 6, size=n),
            "tags": [list(tag_patterns[k]) for k in tag_pick.tolist()],
            "owner": np.asarray(["", "Operations", "Finance", "IT"], dtype=object)[
                rng.integers(4, size=n)
            ],
            "depends_on": depends_on,
        },
        columns=ASSET_COLUMNS,
    )
    return Portfolio.from_frame(frame)


def build_workspace(n_assets: int, seed: int) -> Workspace:
    rng = np.random.default_rng(seed)
    countries = sorted(c.alpha_3 for c in pycountry.countries)[:N_COUNTRIES]
    regions = build_regions(rng, countries)
    scenarios = build_scenarios(rng, countries, regions)
    curves = build_curves(rng)
    baseline = build_baseline(rng, countries)
    plans = build_plans(rng, countries, regions, [s.id for s in scenarios])
    # the register last, so every other input is the same whatever the number of assets
    portfolio = build_portfolio(rng, n_assets, countries)
    return Workspace(
        settings=WorkspaceSettings(name="Synthetic benchmark", currency="EUR", fx_rates=FX_RATES),
        factors=FactorCatalogue(
            factors=[Factor(id=f, name=f.replace("_", " ").capitalize()) for f in FACTORS]
        ),
        regions=regions,
        curves=curves,
        baseline=baseline,
        portfolio=portfolio,
        scenarios=scenarios,
        plans=plans,
    )


# -- reference implementation --------------------------------------------------------------


def apply_op(op: ShockOperation, x: float, v: float) -> float:
    """One shock on one intensity, as the methodology states it (before clamping to 0-10)."""
    if op is ShockOperation.SET:
        return v
    if op is ShockOperation.ADD:
        return x + v
    if op is ShockOperation.SCALE:
        return x * v
    if op is ShockOperation.TOWARD_MAX:
        return x + v * (10.0 - x)
    return x - v * (x - 0.0)  # toward_min


def reference_losses(
    ws: Workspace, assets: list[dict[Any, Any]], status_quo: bool = False
) -> np.ndarray:
    """(assets, scenarios) losses, one asset at a time, as the documentation describes them
    (with `status_quo`, (assets, 1): the loss at the baseline intensities).

    Intensity: the country's baseline, then the scenario's group shocks in file order, then
    its country shocks in file order, clamped to 0-10 after each shock. Damage: the
    (type, factor) curve read with np.interp (0 without a curve). Combined damage:
    1 - prod(1 - d). Loss: exposed value (replacement value + annual revenue at stake, in the
    workspace currency) times the combined damage.
    """
    members = {g.id: set(g.members) for g in ws.regions.groups}
    baseline = {(e.country, e.factor): e.intensity for e in ws.baseline.entries}
    curves = {
        (c.asset_type, c.factor): (
            np.array([p[0] for p in c.points]),
            np.array([p[1] for p in c.points]),
        )
        for c in ws.curves.curves
        if c.asset_type is not None
    }
    fx = ws.settings.fx_to_reporting()
    factors = ws.factors.ids
    ordered = [
        [s for s in sc.shocks if s.target in members]
        + [s for s in sc.shocks if s.target not in members]
        for sc in ws.scenarios
    ]
    if status_quo:
        ordered = [[]]  # the baseline intensities, borne every year
    out = np.zeros((len(assets), len(ordered)))
    for a_i, asset in enumerate(assets):
        country = asset["country"]
        exposed = (asset["replacement_value"] + asset["annual_revenue_at_stake"]) * fx[
            asset["currency"]
        ]
        for s_i, shocks in enumerate(ordered):
            intensity = {f: baseline[(country, f)] for f in factors}
            for shock in shocks:
                if shock.target in members:
                    hit = country in members[shock.target]
                else:
                    hit = shock.target == country
                if not hit or shock.factor not in intensity:
                    continue
                x = apply_op(shock.op, intensity[shock.factor], shock.value)
                intensity[shock.factor] = min(max(x, 0.0), 10.0)
            survival = 1.0
            for f in factors:
                curve = curves.get((asset["type"], f))
                damage = float(np.interp(intensity[f], *curve)) if curve is not None else 0.0
                survival *= 1.0 - damage
            out[a_i, s_i] = exposed * (1.0 - survival)
    return out


# -- measurement and checks ---------------------------------------------------------------


@dataclass(frozen=True)
class Measurement:
    step: str
    cold_s: float
    best_s: float
    peak_mb: float
    maxrss_mb: float


def maxrss_mb() -> float:
    """Peak resident set size of this process so far (ru_maxrss is in KiB on Linux)."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024


def measure(step: str, fn: Callable[[], Any], repeat: int) -> tuple[Any, Measurement]:
    """Cold (first) run, best of `repeat` further runs, then one run under tracemalloc.

    The peak is the highest traced memory allocated during that run (numpy arrays included),
    above what was allocated before it started.
    """
    gc.collect()
    start = time.perf_counter()
    value = fn()
    cold = time.perf_counter() - start
    times = []
    for _ in range(repeat):
        del value
        gc.collect()
        start = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - start)
    del value
    gc.collect()
    tracemalloc.start()
    try:
        value = fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return value, Measurement(step, cold, min(times), peak / 2**20, maxrss_mb())


@dataclass(frozen=True)
class ReferenceCheck:
    assets: int
    seconds: float
    agree: bool
    max_rel_diff: float
    first_mismatch: str


def grouped_floor(ws: Workspace) -> Callable[[], np.ndarray]:
    """The floor, a grouped numpy pass: assets factorised by (type, country), a damage ratio
    per group and scenario (here drawn once, not computed from curves and shocks) gathered to
    the assets and multiplied by their exposed value. The least work that gives a loss per
    asset and scenario from a grouped model."""
    frame = ws.portfolio
    fx = ws.settings.fx_to_reporting()
    n_s = len(ws.scenarios)

    def work() -> np.ndarray:
        types, _ = pd.factorize(frame.series("type"))
        countries, country_values = pd.factorize(frame.series("country"))
        groups = types * len(country_values) + countries
        keys, of_asset = np.unique(groups, return_inverse=True)
        ratio = np.random.default_rng(0).random((len(keys), n_s)) * 0.1
        exposed = frame.exposed_value(fx)
        loss: np.ndarray = exposed[:, np.newaxis] * ratio[of_asset]
        return loss

    return work


def check_reference(
    ws: Workspace, asset_loss: np.ndarray, asset_eal: np.ndarray, n_ref: int, seed: int
) -> ReferenceCheck:
    """Score a random subset of assets with `reference_losses` and compare with the engine."""
    rows = np.sort(np.random.default_rng(seed).choice(len(ws.portfolio), n_ref, replace=False))
    subset = ws.portfolio.frame.iloc[rows].to_dict("records")
    start = time.perf_counter()
    ref = reference_losses(ws, subset)
    seconds = time.perf_counter() - start
    eng = asset_loss[rows]
    frequencies = np.array([s.frequency for s in ws.scenarios])
    close = np.isclose(ref, eng, rtol=RTOL, atol=ATOL)
    # expected annual loss: the status-quo loss, borne every year, plus each scenario's loss
    # above it (floored at 0) times the scenario's frequency
    base = reference_losses(ws, subset, status_quo=True)
    eal = base[:, 0] + np.maximum(ref - base, 0.0) @ frequencies
    agree = bool(close.all()) and np.allclose(eal, asset_eal[rows], rtol=RTOL, atol=ATOL)
    diff = np.abs(ref - eng)
    rel = np.divide(diff, np.abs(ref), out=np.zeros_like(diff), where=ref != 0)
    mismatch = ""
    if not close.all():
        a_i, s_i = np.argwhere(~close)[0]
        mismatch = (
            f"asset {subset[a_i]['id']} in scenario {ws.scenarios[s_i].id}: engine "
            f"{float(eng[a_i, s_i])!r}, reference {float(ref[a_i, s_i])!r}"
        )
    elif not agree:
        mismatch = "asset expected annual losses differ"
    return ReferenceCheck(n_ref, seconds, agree, float(rel.max(initial=0.0)), mismatch)


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--assets", type=int, default=100_000, help="assets (default 100000)")
    parser.add_argument(
        "--reference-assets",
        type=int,
        default=2_000,
        help="assets the plain-Python reference scores (default 2000)",
    )
    parser.add_argument("--seed", type=int, default=20240601, help="RNG seed")
    parser.add_argument(
        "--repeat", type=int, default=3, help="timed calls after the cold call (default 3)"
    )
    args = parser.parse_args(argv)
    if args.assets < 1 or args.reference_assets < 1 or args.repeat < 1:
        parser.error("--assets, --reference-assets and --repeat must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)

    start = time.perf_counter()
    ws = build_workspace(args.assets, args.seed)
    problems = find_inconsistencies(ws)
    build_s = time.perf_counter() - start
    if problems:
        print(f"synthetic workspace is inconsistent: {problems[0]}", file=sys.stderr)
        return 1
    rss_after_build = maxrss_mb()

    inputs, m_prepare = measure("prepare(ws)", lambda: prepare(ws), args.repeat)
    result, m_score = measure(
        "score(ws, inputs=inputs)", lambda: score(ws, inputs=inputs), args.repeat
    )

    def asset_figures() -> tuple[np.ndarray, np.ndarray, float]:
        return result.asset_loss(), result.asset_eal(), result.expected_annual_loss()

    (asset_loss, asset_eal, eal), m_assets = measure(
        "asset_loss + asset_eal + EAL", asset_figures, args.repeat
    )
    evaluation, m_plans = measure(
        "evaluate_plans(ws, result)", lambda: evaluate_plans(ws, result), args.repeat
    )
    _, m_floor = measure("floor: grouped numpy pass", grouped_floor(ws), args.repeat)
    ref = check_reference(
        ws, asset_loss, asset_eal, min(args.reference_assets, args.assets), args.seed + 1
    )
    ref_scaled_s = ref.seconds / ref.assets * args.assets
    plan_groups = group_assets(
        ws.portfolio.column("id"),
        ws.portfolio.column("type"),
        inputs.country_index,
        set(),
        coverage=coverage_matrix(ws),
    ).count

    print(
        f"riskapp scoring benchmark - seed {args.seed}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, numpy {np.__version__}, pandas {pd.__version__}"
    )
    print()
    print("workspace (synthetic, in memory)")
    for label, value in [
        ("assets", f"{len(ws.portfolio):,}"),
        ("asset groups (inputs.groups.count)", f"{inputs.groups.count:,}"),
        ("asset groups incl. plan coverage", f"{plan_groups:,}"),
        ("scenarios", f"{len(ws.scenarios)}"),
        ("shocks", f"{sum(len(s.shocks) for s in ws.scenarios)}"),
        ("factors", f"{len(ws.factors.factors)}"),
        ("countries / region groups", f"{N_COUNTRIES} / {len(ws.regions.groups)}"),
        ("vulnerability curves", f"{len(ws.curves.curves)}"),
        ("plans", f"{len(ws.plans.plans)}"),
        ("build + consistency check (untimed)", f"{build_s:.2f} s"),
        ("process max RSS after build", f"{rss_after_build:,.0f} MB"),
    ]:
        print(f"  {label:<38}{value:>12}")
    print()
    print(
        f"steps (cold = first call; best of {args.repeat} further calls; "
        "peak = tracemalloc peak of one more call)"
    )
    print(f"  {'step':<30}{'cold s':>10}{'best s':>10}{'peak MB':>10}{'max RSS MB':>12}")
    for m in (m_prepare, m_score, m_assets, m_plans, m_floor):
        print(
            f"  {m.step:<30}{m.cold_s:>10.4f}{m.best_s:>10.4f}"
            f"{m.peak_mb:>10.1f}{m.maxrss_mb:>12,.0f}"
        )
    print()
    print(
        f"reference (plain Python loop per asset, run on {ref.assets:,} of {args.assets:,} "
        "assets and scaled linearly)"
    )
    both = m_prepare.best_s + m_score.best_s
    print(
        f"  prepare()+score() against the grouped numpy floor: {both / m_floor.best_s:.1f}x time, "
        f"{(m_prepare.peak_mb + m_score.peak_mb) / max(m_floor.peak_mb, 1e-9):.1f}x traced memory"
    )
    per_asset_ms = ref.seconds / ref.assets * 1e3
    print(f"  {'time on subset':<38}{ref.seconds:>10.3f} s  ({per_asset_ms:.3f} ms per asset)")
    print(f"  {f'scaled to {args.assets:,} assets':<38}{ref_scaled_s:>10.1f} s")
    print(f"  {'speed ratio vs best score()':<38}{ref_scaled_s / m_score.best_s:>10,.0f} x")
    print(f"  {'speed ratio vs best prepare()+score()':<38}{ref_scaled_s / both:>10,.0f} x")
    print(
        f"  {'losses agree (rtol 1e-9, atol 1e-6)':<38}{'yes' if ref.agree else 'NO':>10}"
        f"    ({ref.assets:,} x {len(ws.scenarios)} losses, max rel. diff "
        f"{ref.max_rel_diff:.1e})"
    )
    print()
    print("results (for orientation)")
    print(f"  {'portfolio EAL':<38}{eal:>18,.0f} {ws.settings.currency}")
    print(
        f"  {'plans: gross / residual EAL':<38}{evaluation.gross_eal():>18,.0f} / "
        f"{evaluation.residual_eal():,.0f} {ws.settings.currency}"
    )
    print(
        f"  {'plans: (scenario, plan) pairs':<38}{int(evaluation.triggered.sum()):>18} "
        f"triggered, {int(evaluation.effective.sum())} effective of {evaluation.effective.size}"
    )
    print()
    rss = maxrss_mb()
    print(
        'targets (issue: "scoring under 1 s and under 2 GB on this 2-core machine"; informational)'
    )
    for label, figure, ok in [
        ("score() best time", f"{m_score.best_s:.3f} s", m_score.best_s < TIME_TARGET_S),
        ("prepare() + score() best time", f"{both:.3f} s", both < TIME_TARGET_S),
        ("score() peak traced", f"{m_score.peak_mb:,.1f} MB", m_score.peak_mb < MEMORY_TARGET_MB),
        ("process max RSS (whole run)", f"{rss:,.0f} MB", rss < MEMORY_TARGET_MB),
    ]:
        print(f"  {label:<38}{figure:>12}  {verdict(ok)}")

    if not ref.agree:
        print(
            f"\nERROR: the engine disagrees with the reference: {ref.first_mismatch}",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
