"""riskapp: geopolitical risk assessment for businesses.

The Python API does what the command line and the dashboard do, from the same assessment::

    import riskapp
    a = riskapp.assess("demo")                      # the folder's files (a FileSource)
    a = riskapp.assess(riskapp.StoreSource.open("demo"))   # files + team database register
    a.result.expected_annual_loss()
    a.headline                                      # the headline numbers every surface shows
    riskapp.key_figures(a)                          # ... formatted, with definitions and notes
    a.source.revision, a.source.fingerprint         # which inputs, exactly
    riskapp.losses_by(a.ws, a.result, "country")    # aggregations that add up
    a.plans.table()                                 # triggers, residual loss, BCR, readiness
    sim = riskapp.simulate(a, trials=10_000, seed=0)  # Monte Carlo, as `riskapp simulate`
    report = riskapp.build_report(a)                # one report model ...
    riskapp.render_report(report, "pdf", "report.pdf")  # ... in four formats

Lower-level pieces stay available: `load_workspace`, `score`, `evaluate_plans`, `loss_table`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from riskapp.assessment import (
        Assessment,
        FileSource,
        Headline,
        HeadlineFigure,
        MemorySource,
        SourceInfo,
        StoreSource,
        SyncStatus,
        WorkspaceSource,
        assess,
        choose_source,
        key_figures,
        sync_status,
    )
    from riskapp.engine import evaluate_plans, loss_table, losses_by, score
    from riskapp.io import InputError, load_workspace

# the API's names are imported on first use (PEP 562), so that `import riskapp.cli` or any
# light module of the package does not load pandas and the engine before it needs them; each
# comes from the first of these modules whose __all__ lists it
_API_MODULES = ("riskapp.assessment", "riskapp.engine", "riskapp.io")


def __getattr__(name: str) -> object:
    import importlib

    if name in __all__:
        for path in _API_MODULES:
            module = importlib.import_module(path)
            if name in getattr(module, "__all__", ()):
                value = getattr(module, name)
                globals()[name] = value
                return value
    raise AttributeError(f"module 'riskapp' has no attribute {name!r}")


if TYPE_CHECKING:
    from riskapp.domain import Workspace
    from riskapp.engine.montecarlo import SimulationResult
    from riskapp.reporting.model import Report
    from riskapp.reporting.options import Branding, ReportOptions

__version__ = "0.1.0"

__all__ = [
    "Assessment",
    "FileSource",
    "Headline",
    "HeadlineFigure",
    "InputError",
    "MemorySource",
    "SourceInfo",
    "StoreSource",
    "SyncStatus",
    "WorkspaceSource",
    "__version__",
    "assess",
    "build_report",
    "choose_source",
    "evaluate_plans",
    "key_figures",
    "load_workspace",
    "loss_table",
    "losses_by",
    "render_report",
    "score",
    "simulate",
    "sync_status",
]


def simulate(
    source: Assessment | WorkspaceSource | Workspace | str | Path,
    trials: int = 10_000,
    seed: int = 0,
) -> SimulationResult:
    """Simulate years of an assessment (or of a source, assessed first) on its loss basis,
    with its plans and its source's dependency links: the figures `riskapp simulate` and the
    Risk distribution page show for the same trials and seed."""
    from riskapp.assessment import Assessment, assess
    from riskapp.assessment.risk import simulate as simulate_run

    a = source if isinstance(source, Assessment) else assess(source)
    return simulate_run(a, trials, seed).result


def build_report(
    source: Assessment | WorkspaceSource | str | Path,
    options: ReportOptions | None = None,
    branding: Branding | None = None,
) -> Report:
    """The report model of an assessment or a source: what every format renders."""
    from riskapp.reporting.model import build_report as build

    return build(source, options, branding)


def render_report(report: Report, fmt: str, path: str | Path) -> Path:
    """Write a report as `fmt` (pdf, pptx, xlsx or html) at `path`, whole file or nothing."""
    from riskapp.reporting.registry import render

    return render(report, fmt, path)
