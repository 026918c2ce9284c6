"""The methodology: a client text for every surface, and a developer text from the docstrings.

The client methodology (`client_methodology`) is plain-language Markdown shipped in
riskapp/resources/methodology/ (one file per topic, in file-name order): what each figure means,
its formula, a worked example and its limits, with no names from the code. The dashboard's
Methodology page, `riskapp methodology` and every report's appendix show it.
tests/test_methodology.py recomputes each worked example with the engine (the figures are marked
in the files with `<!-- check: name=value -->` comments, stripped before the text is shown) and
refuses names from the code.

The developer methodology (`developer_methodology`, `riskapp methodology --developer`) strings
the engine's docstrings together in reading order; it names internals and is never shown to
clients.
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass

from riskapp.baseline import compose, operators
from riskapp.baseline.method import (
    Impute,
    Missing,
    Normalise,
    Rounding,
    Scope,
    Transform,
    Window,
)
from riskapp.baseline.table_source import load_table_file
from riskapp.domain import (
    Asset,
    Coverage,
    CurveSet,
    Effect,
    Shock,
    Trigger,
    VulnerabilityCurve,
    routes,
    zones,
)
from riskapp.domain.assets import DependencyLink
from riskapp.domain.scenarios import EscalationStep
from riskapp.domain.workspace import WorkspaceSettings, probability_problems
from riskapp.engine import (
    aggregate,
    cascade,
    distributed,
    exceedance,
    geo,
    montecarlo,
    places,
    plans,
    sampling,
    scoring,
    sensitivity,
)
from riskapp.engine import routes as engine_routes
from riskapp.engine.damage import combine, incremental
from riskapp.engine.intensity import ShockClamps, compile_programs, ordered_shocks
from riskapp.engine.routes import fold_routes
from riskapp.resources import RESOURCES

CLIENT_METHODOLOGY = RESOURCES / "methodology"
CHECK = re.compile(r"^<!-- check: (?P<name>[a-z0-9_]+)=(?P<value>[-0-9.]+) -->\n", re.MULTILINE)

DEVELOPER_SECTIONS: list[tuple[str, list[object]]] = [
    ("Risk = hazard x exposure x vulnerability", [scoring]),
    ("Exposure: what an asset puts at risk", [Asset]),
    (
        "Hazard: factor intensity per country under a scenario",
        [Shock, ordered_shocks, ShockClamps],
    ),
    (
        "Zones: sea areas, corridors, circles and hotspots",
        [zones, geo, places, compile_programs],
    ),
    ("Routes: cables, pipelines and lanes as lines", [routes, engine_routes, fold_routes]),
    ("Vulnerability: from intensity to damage ratio", [VulnerabilityCurve, CurveSet]),
    ("Several factors at once, and which factor caused what", [combine]),
    (
        "Absolute and incremental losses; the status quo counted once",
        [scoring.score, incremental, scoring.ScoreResult.expected_annual_loss],
    ),
    ("Scenarios occurring together: what the probabilities mean", [probability_problems]),
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
            operators.geometric_mean,
            operators.complement_geometric,
            operators.complement_product,
            operators.scaled_maximum,
            Rounding,
            operators.reliability,
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


def developer_methodology() -> str:
    """The engine's docstrings in reading order, for developers (names internals)."""
    parts = [
        "# How riskapp computes its figures (developer notes)",
        "",
        "For developers: the documentation of the functions that compute every figure, in "
        "reading order. Clients read the plain-language methodology (riskapp methodology "
        "without --developer), which the reports and the dashboard show. Money is "
        "in the workspace currency; intensities are on a 0-10 scale (10 worst); damage ratios "
        "are fractions of an asset's exposed value (0-1); frequencies are annual probabilities.",
    ]
    from riskapp.assessment import plan_checks
    from riskapp.assessment.actions import three_actions

    sections: list[tuple[str, list[object]]] = [
        *DEVELOPER_SECTIONS,
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


@dataclass(frozen=True)
class MethodologySection:
    """One topic of the client methodology: its file, its title and its Markdown as shipped
    (with the worked examples' check comments)."""

    name: str
    title: str
    source: str

    @property
    def text(self) -> str:
        """The Markdown shown to clients (check comments removed)."""
        return CHECK.sub("", self.source)

    def checks(self) -> dict[str, float]:
        """The figures of the worked examples that the tests recompute, by name."""
        return {m["name"]: float(m["value"]) for m in CHECK.finditer(self.source)}


def client_sections() -> list[MethodologySection]:
    """The client methodology's topics in reading order (the first is the introduction)."""
    out = []
    for path in sorted(CLIENT_METHODOLOGY.glob("*.md")):
        source = path.read_text(encoding="utf-8")
        first = source.splitlines()[0] if source else ""
        out.append(MethodologySection(path.stem, first.lstrip("#").strip(), source))
    return out


def client_methodology() -> str:
    """The client methodology as one Markdown document: a title (#), then one section (##) per
    topic. What every surface shows."""
    return "\n".join(s.text.strip() + "\n" for s in client_sections())


def client_section_titles() -> list[str]:
    """The titles of the sections (##), for a table of contents."""
    return [s.title for s in client_sections()[1:]]
