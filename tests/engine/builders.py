"""Small workspaces built in code for the engine tests (figures worked out by hand)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from riskapp.domain import (
    Asset,
    Baseline,
    BaselineEntry,
    CurveSet,
    Factor,
    FactorCatalogue,
    Portfolio,
    RegionCatalogue,
    Scenario,
    VulnerabilityCurve,
    Workspace,
    WorkspaceSettings,
)


def scenario(sid: str, frequency: float, shocks: list[dict[str, Any]], **extra: Any) -> Scenario:
    return Scenario.model_validate(
        {
            "id": sid,
            "title": sid,
            "frequency": frequency,
            "warning_time_days": 0,
            "shocks": shocks,
            **extra,
        }
    )


def linear_workspace(
    scenarios: list[Scenario],
    assets: list[dict[str, Any]] | None = None,
    **settings: Any,
) -> Workspace:
    """Factor `alpha`, curve d = I / 10 for type `plant`, baseline 0 in NOR and FIN.

    Default register: one plant in NOR worth 1000, so a shock `set alpha to x` loses 100 x.
    """
    assets = assets or [{"id": "A", "name": "A", "type": "plant", "country": "NOR"}]
    records = [{"replacement_value": 1000.0, **a} for a in assets]
    return Workspace(
        settings=WorkspaceSettings(name="test", **settings),
        factors=FactorCatalogue(factors=[Factor(id="alpha", name="Alpha")]),
        regions=RegionCatalogue(groups=[]),
        curves=CurveSet(
            curves=[
                VulnerabilityCurve(asset_type="plant", factor="alpha", points=[(0, 0), (10, 1)])
            ]
        ),
        baseline=Baseline(
            entries=[
                BaselineEntry(country=c, factor="alpha", intensity=0.0) for c in ("NOR", "FIN")
            ]
        ),
        portfolio=Portfolio.from_assets([Asset.model_validate(r) for r in records]),
        scenarios=scenarios,
    )


def without_ranges(ws: Workspace) -> Workspace:
    """The same workspace with every shock at its value (no uncertainty)."""
    scenarios = [
        s.model_copy(update={"shocks": [k.model_copy(update={"range": None}) for k in s.shocks]})
        for s in ws.scenarios
    ]
    return replace(ws, scenarios=scenarios)
