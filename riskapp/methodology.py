"""The methodology, written from the same docstrings that document the engine's code.

There is one source of truth for how a figure is computed: the docstring next to the code that
computes it. This module strings them together in reading order for users (CLI, dashboard,
reports), so the written method cannot drift from the implemented one without a reviewer seeing
the docstring change next to the code change.
"""

from __future__ import annotations

import inspect

from riskapp.baseline import compose
from riskapp.baseline.method import (
    Impute,
    Missing,
    Normalise,
    Rounding,
    Scope,
    Transform,
    Window,
)
from riskapp.baseline.sources import load_table_file
from riskapp.domain import (
    Asset,
    Coverage,
    CurveSet,
    Effect,
    Shock,
    Trigger,
    VulnerabilityCurve,
)
from riskapp.domain.assets import DependencyLink
from riskapp.domain.scenarios import EscalationStep
from riskapp.domain.workspace import WorkspaceSettings
from riskapp.engine import (
    aggregate,
    cascade,
    distributed,
    exceedance,
    montecarlo,
    plans,
    sampling,
    scoring,
    sensitivity,
)
from riskapp.engine.damage import combine, incremental
from riskapp.engine.intensity import ordered_shocks

SECTIONS: list[tuple[str, list[object]]] = [
    ("Risk = hazard x exposure x vulnerability", [scoring]),
    ("Exposure: what an asset puts at risk", [Asset]),
    ("Hazard: factor intensity per country under a scenario", [Shock, ordered_shocks]),
    ("Vulnerability: from intensity to damage ratio", [VulnerabilityCurve, CurveSet]),
    ("Several factors at once, and which factor caused what", [combine]),
    ("Absolute and incremental losses", [scoring.score, incremental]),
    ("Expected annual loss, exceedance curve and return periods", [exceedance]),
    ("Contingency plans", [plans, Trigger, Coverage, Effect]),
    ("Plan readiness", [WorkspaceSettings.model_fields["require_readiness"]]),
    ("Totals and breakdowns", [aggregate]),
    (
        "Monte Carlo: which scenarios occur, how strong their shocks are",
        [
            sampling,
            sampling.pert_parameters,
            sampling.range_moments,
            sampling.sample_range,
            EscalationStep,
        ],
    ),
    (
        "Monte Carlo: annual loss distribution, tails and plans",
        [
            montecarlo,
            montecarlo.SimulationResult,
            montecarlo.SimulationResult.exceedance,
            montecarlo.quantile_band,
            montecarlo.SimulationResult.asset_table,
            montecarlo.SimulationResult.plan_table,
            montecarlo.SimulationResult.residual,
        ],
    ),
    ("Dependency cascades", [cascade, DependencyLink]),
    (
        "Sensitivity: tornado and Sobol indices",
        [
            sensitivity,
            sensitivity.probabilities,
            sensitivity.coupled_uniforms,
            sensitivity.sobol_indices,
        ],
    ),
    ("Monte Carlo on a Dask cluster", [distributed]),
    (
        "Baseline intensities from public indicators (riskapp baseline build)",
        [
            compose,
            Window,
            Transform,
            Normalise,
            Missing,
            Impute,
            Scope,
            compose.geometric_mean,
            compose.complement_geometric,
            compose.complement_product,
            compose.scaled_maximum,
            Rounding,
            compose.reliability,
            compose.evaluate,
            load_table_file,
        ],
    ),
]


def _doc(obj: object) -> str:
    description = getattr(obj, "description", None)
    if isinstance(description, str):  # a pydantic field
        return description
    return inspect.cleandoc(inspect.getdoc(obj) or "")


def methodology_markdown() -> str:
    """The whole methodology as Markdown."""
    parts = [
        "# How riskapp computes its figures",
        "",
        "Every figure riskapp shows is computed by the functions documented below; the text is "
        "taken from their documentation, so it describes exactly what the code does. Money is "
        "in the workspace currency; intensities are on a 0-10 scale (10 worst); damage ratios "
        "are fractions of an asset's exposed value (0-1); frequencies are annual probabilities.",
    ]
    from riskapp.assessment import plan_checks
    from riskapp.assessment.actions import three_actions

    sections: list[tuple[str, list[object]]] = [
        *SECTIONS,
        ("Plan sanity flags and the reviewer checklist", [plan_checks]),
        ("Reports: the three things to act on", [three_actions]),
    ]
    for n, (title, objects) in enumerate(sections, start=1):
        parts += ["", f"## {n}. {title}", ""]
        for obj in objects:
            text = _doc(obj)
            if text:
                parts += [text, ""]
    return "\n".join(parts).rstrip() + "\n"
