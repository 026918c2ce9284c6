"""The report's Monte Carlo tables: return-period losses with their bands, each factor's and
the largest assets' part of the expected shortfall, and each plan's benefit-cost ratio as a
distribution. All from the assessment's headline simulation (`Assessment.simulation`), the run
the headline figures come from."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import pandas as pd

from riskapp.assessment.headline import BAND, years_phrase
from riskapp.engine.montecarlo.statistics import DEFAULT_RETURN_PERIODS
from riskapp.reporting.tables import Column, Table, make_table

if TYPE_CHECKING:
    from riskapp.assessment.core import Assessment
    from riskapp.reporting.model import Report

ASSET_TAIL_ROWS = 10

RETURN_PERIOD_COLUMNS = (
    Column("return_period_years", "Return period (years)", "number"),
    Column("exceedance_probability", "Annual probability", "probability"),
    Column(
        "loss",
        "Annual loss",
        "money",
        "Simulated annual loss reached or exceeded once in so many years on average.",
    ),
    Column("lower", "Band from", "money"),
    Column("upper", "Band to", "money"),
)
TAIL_COLUMNS = (
    Column("name", "Factor"),
    Column(
        "tail_es_99",
        "Part of the ES 99 %",
        "money",
        "Its mean loss in the worst 1 % of simulated years; the parts add up to the "
        "portfolio's expected shortfall.",
    ),
    Column("share", "Share", "percent"),
    Column("mean", "Mean annual loss", "money"),
)
ASSET_TAIL_COLUMNS = (
    Column("id", "Asset id"),
    Column("name", "Asset"),
    Column("country", "Country"),
    *TAIL_COLUMNS[1:],
)
BCR_COLUMNS = (
    Column("plan_id", "Plan id"),
    Column("name", "Plan"),
    Column("averted_mean", "Mean averted loss a year", "money"),
    Column("bcr_deterministic", "BCR (expected)", "ratio"),
    Column("bcr_p5", "BCR 5th percentile", "ratio"),
    Column("bcr_p50", "BCR median", "ratio"),
    Column("bcr_p95", "BCR 95th percentile", "ratio"),
    Column(
        "prob_bcr_at_least_1",
        "Chance it pays for itself",
        "percent",
        "Share of simulated plan horizons in which the discounted averted loss reaches the "
        "plan's cost.",
    ),
)


def return_period_table(a: Assessment) -> Table:
    """Simulated annual loss at the usual return periods and the workspace's own, with bands."""
    h = a.headline
    rps = sorted(set(DEFAULT_RETURN_PERIODS) | set(a.ws.settings.return_periods))
    frame = a.simulation.result.exceedance(rps, confidence=BAND)
    whole = all(float(y).is_integer() for y in rps)  # 10 years, not 10.0
    columns = (
        replace(RETURN_PERIOD_COLUMNS[0], kind="int" if whole else "number"),
        *RETURN_PERIOD_COLUMNS[1:],
    )
    return make_table(
        "return_periods",
        "Annual loss at return periods (simulated)",
        columns,
        frame,
        "shortest return period first",
        note=(
            f"From {years_phrase(h)}; the band is a {BAND:.0%} confidence interval given the "
            "number of simulated years. Several scenarios can occur in one year. Return "
            f"periods longer than {h.trials:,} years cannot be read from the run and are left "
            "out."
        ),
    )


def factor_tail_table(a: Assessment) -> Table:
    from riskapp.assessment.risk import factor_tail

    return make_table(
        "factor_tail",
        "What drives the bad years: factors",
        TAIL_COLUMNS,
        factor_tail(a.simulation, a),
        "part of the ES 99 %, largest first",
        note=(
            f"Euler allocation of the expected shortfall at 99 % over {years_phrase(a.headline)}"
            "; dependency cascades are a part of their own."
        ),
    )


def asset_tail_table(a: Assessment) -> Table:
    from riskapp.assessment.risk import asset_tail

    frame = asset_tail(a.simulation, a, ASSET_TAIL_ROWS)
    return make_table(
        "asset_tail",
        "What drives the bad years: assets",
        ASSET_TAIL_COLUMNS,
        frame,
        "part of the ES 99 %, largest first",
        total_rows=len(a.ws.portfolio),
        note=f"The {len(frame)} assets with the largest part of the expected shortfall at 99 %.",
    )


def plan_bcr_table(a: Assessment) -> Table:
    """Each plan's benefit-cost ratio over simulated plan horizons, best expected first."""
    table = a.simulation.result.plan_table()
    names = {p.id: p.title for p in a.ws.plans.plans}
    if len(table):
        table = table.assign(name=table["plan_id"].map(names))
        table = table.sort_values(
            ["bcr_deterministic", "plan_id"], ascending=[False, True], kind="stable"
        )
    else:
        table = pd.DataFrame(columns=[c.key for c in BCR_COLUMNS])
    horizon = a.ws.settings.plan_horizon_years
    return make_table(
        "plan_bcr",
        "Plans' benefit-cost ratio across simulated years",
        BCR_COLUMNS,
        table,
        "expected benefit-cost ratio, best first",
        note=(
            f"The simulated years taken {horizon} at a time (the plan horizon), each horizon's "
            "averted loss discounted and divided by the plan's cost: how far the ratio swings "
            f"with the years a plan happens to meet ({years_phrase(a.headline)})."
        ),
    )


def simulated_lead(report: Report) -> str:
    """The opening sentence of the reports' simulated-losses chapter, in the report's numbers."""
    text = report.figure_text
    tail = report.tables.factor_tail.frame
    driver = (
        f" {tail['name'].iloc[0]} makes {report.fmt.percent(float(tail['share'].iloc[0]))} of "
        "the loss in those years."
        if len(tail)
        else ""
    )
    return (
        f"Several scenarios can strike in one year. Over {years_phrase(report.headline)} the "
        f"annual loss averages {text('simulated_mean')} (the expected annual loss is "
        f"{text('expected_annual_loss')}); 1 year in 100 it exceeds {text('var_99')}, and "
        f"those worst years average {text('es_99')}.{driver}"
    )
