"""The scoring engine: pure functions over arrays. No I/O, no UI.

Its names are imported on first use (riskapp.lazy): importing one module of the package does
not load the others, so the command line starts without what a command does not use.
"""

from typing import TYPE_CHECKING

from riskapp.lazy import attach

if TYPE_CHECKING:
    from riskapp.engine.aggregate import DIMENSIONS, key_figures, loss_table, losses_by
    from riskapp.engine.damage import combine, group_assets, group_damage, incremental, interpolate
    from riskapp.engine.exceedance import (
        exceedance_curve,
        expected_annual_loss,
        loss_at_return_periods,
    )
    from riskapp.engine.intensity import (
        ShockClamps,
        apply_shock,
        ordered_shocks,
        scenario_intensities,
        scenario_intensities_with_clamps,
    )
    from riskapp.engine.plans import (
        PlanEffects,
        PlanEvaluation,
        annuity_factor,
        coverage_matrix,
        evaluate_plans,
        waterfall,
    )
    from riskapp.engine.scoring import ScoreInputs, ScoreResult, prepare, score

__all__ = [
    "DIMENSIONS",
    "PlanEffects",
    "PlanEvaluation",
    "ScoreInputs",
    "ScoreResult",
    "ShockClamps",
    "annuity_factor",
    "apply_shock",
    "combine",
    "coverage_matrix",
    "evaluate_plans",
    "exceedance_curve",
    "expected_annual_loss",
    "group_assets",
    "group_damage",
    "incremental",
    "interpolate",
    "key_figures",
    "loss_at_return_periods",
    "loss_table",
    "losses_by",
    "ordered_shocks",
    "prepare",
    "scenario_intensities",
    "scenario_intensities_with_clamps",
    "score",
    "waterfall",
]

__getattr__ = attach(__name__, __file__)
