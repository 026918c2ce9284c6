"""The report's headline numbers: the Overview page's key figures (same definitions and text),
plus the count of assets and the expected annual loss left with every effective plan."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from riskapp.assessment.core import Assessment


@dataclass(frozen=True)
class KeyFigure:
    """A headline number: `value` raw (None when not a number), `text` formatted in the
    report locale, `definition` a sentence saying how it is computed."""

    key: str
    label: str
    value: float | None
    text: str
    definition: str


def key_figures(a: Assessment) -> list[KeyFigure]:
    """The Overview page's headline numbers (same definitions), plus the count of assets and
    the expected annual loss left once every effective plan is applied."""
    from riskapp.assessment.core import key_figures as dashboard_figures

    r, ev, fmt = a.result, a.plans, a.fmt
    defs = {k.label: k.help for k in dashboard_figures(a)}
    losses = r.scenario_loss()
    worst = int(np.argmax(losses))
    rp100 = r.loss_at_return_periods([100.0])[100.0]
    triggered = int(ev.triggered.any(axis=0).sum())
    late = int((ev.triggered & ~ev.ready).any(axis=0).sum())
    n_plans = len(ev.plans)

    def money(key: str, label: str, value: float, definition: str) -> KeyFigure:
        return KeyFigure(key, label, float(value), fmt.money(value), definition)

    return [
        KeyFigure(
            "assets",
            "Assets",
            float(len(a.ws.portfolio)),
            fmt.number(len(a.ws.portfolio)),
            "Sites, suppliers and infrastructure in the register.",
        ),
        money("exposed_value", "Portfolio value", r.total_exposed_value, defs["Portfolio value"]),
        money(
            "expected_annual_loss",
            "Expected annual loss",
            r.expected_annual_loss(),
            defs["Expected annual loss"],
        ),
        money(
            "residual_eal",
            "Expected annual loss with plans",
            ev.residual_eal(),
            "Expected annual loss with every plan that fires and is ready in time applied "
            "together.",
        ),
        money(
            "worst_scenario_loss",
            "Worst-scenario loss",
            float(losses[worst]),
            defs["Worst-scenario loss"],
        ),
        money("loss_at_100y", "1-in-100-year loss", rp100, defs["1-in-100-year loss"]),
        KeyFigure(
            "plans_triggered",
            "Plans triggered",
            float(triggered),
            f"{triggered} of {n_plans}",
            defs["Plans triggered"],
        ),
        KeyFigure(
            "plans_not_ready",
            "Plans not ready in time",
            float(late),
            f"{late} of {n_plans}",
            defs["Plans not ready in time"],
        ),
    ]
