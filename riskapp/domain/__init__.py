"""Domain models: frozen, validated descriptions of factors, regions, assets, curves, baseline,
scenarios and plans. No I/O here.

Its names are imported on first use (riskapp.lazy): importing one module of the package does
not load the others, so the command line starts without what a command does not use.
"""

from typing import TYPE_CHECKING

from riskapp.lazy import attach

if TYPE_CHECKING:
    from riskapp.domain.assets import Asset, Portfolio, find_cycle
    from riskapp.domain.baseline import Baseline, BaselineEntry
    from riskapp.domain.common import country_name, iso_alpha3_codes
    from riskapp.domain.curves import CurveSet, VulnerabilityCurve
    from riskapp.domain.enums import LossBasis
    from riskapp.domain.factors import Factor, FactorCatalogue
    from riskapp.domain.plans import (
        Action,
        Coverage,
        Effect,
        FactorLevel,
        Plan,
        PlanBook,
        PlanStatus,
        Trigger,
    )
    from riskapp.domain.regions import RegionCatalogue, RegionGroup
    from riskapp.domain.scenarios import (
        Scenario,
        Shock,
        ShockOperation,
        Signpost,
        UncertaintyRange,
    )
    from riskapp.domain.workspace import (
        Inconsistency,
        Workspace,
        WorkspaceSettings,
        find_inconsistencies,
    )

__all__ = [
    "Action",
    "Asset",
    "Baseline",
    "BaselineEntry",
    "Coverage",
    "CurveSet",
    "Effect",
    "Factor",
    "FactorCatalogue",
    "FactorLevel",
    "Inconsistency",
    "LossBasis",
    "Plan",
    "PlanBook",
    "PlanStatus",
    "Portfolio",
    "RegionCatalogue",
    "RegionGroup",
    "Scenario",
    "Shock",
    "ShockOperation",
    "Signpost",
    "Trigger",
    "UncertaintyRange",
    "VulnerabilityCurve",
    "Workspace",
    "WorkspaceSettings",
    "country_name",
    "find_cycle",
    "find_inconsistencies",
    "iso_alpha3_codes",
]

__getattr__ = attach(__name__, __file__)
