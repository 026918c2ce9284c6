"""The report's charts: the dashboard's own plotly builders (riskapp.charts) fed the same
tables, in the report's NumberFormat, with their titles and captions."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import plotly.graph_objects as go

    from riskapp.assessment.core import Assessment
    from riskapp.reporting.tables import Tables


@dataclass(frozen=True)
class ReportFigure:
    """A chart to draw: `figure` is a plotly figure from riskapp.charts (user text
    inside it is already escaped for plotly); `config` the plotly config of the dashboard
    without `topojsonURL` (each renderer points maps at the shipped outlines its own way: the
    HTML inlines them, images use `images.TOPOJSON_URL`); `height` its natural height in px.
    Names: see the module docstring."""

    name: str
    title: str
    caption: str
    figure: go.Figure
    height: int = 420
    config: dict[str, object] = field(default_factory=dict)


def build_figures(
    a: Assessment, tables: Tables, names: Collection[str] | None = None
) -> dict[str, ReportFigure]:
    """The dashboard's own charts, built from the same tables the dashboard draws; only those
    in `names` when given (a format that draws some of them: the deck)."""
    import pandas as pd
    import plotly.io as pio

    from riskapp.assessment.core import group_factor_eal, largest_total_first
    from riskapp.assessment.tables import plan_register, trigger_matrix, waterfall_steps
    from riskapp.assessment.whatif import compare_table
    from riskapp.charts.common import PLOTLY_CONFIG
    from riskapp.charts.maps import overview_map
    from riskapp.charts.overview import factor_heatmap
    from riskapp.charts.plans import cost_benefit, loss_waterfall, trigger_heatmap
    from riskapp.charts.scenarios import compare_chart

    plotly_default = pio.templates.default == "plotly"  # before any figure is made
    fmt, ws = a.fmt, a.ws
    worst = str(tables.scenarios.frame["scenario_id"].iloc[0])
    worst_title = ws.scenario(worst).title
    titles = {s.id: s.title for s in ws.scenarios}
    out: dict[str, ReportFigure] = {}

    def wanted(name: str) -> bool:
        return names is None or name in names

    def add(name: str, title: str, caption: str, fig: go.Figure, **config: object) -> None:
        # a report looks the same whatever plotly template the process has set as default
        # (Streamlit sets its own when imported): pin plotly's own, unless it was the default
        # before and after the figure was made (a figure takes the default when it is made;
        # pinning copies and checks the whole template again: 10 ms a figure)
        if not (plotly_default and pio.templates.default == "plotly"):
            fig.update_layout(template="plotly")
        height = int(fig.layout.height or 420)
        out[name] = ReportFigure(name, title, caption, fig, height, dict(config))

    if wanted("world_map"):
        world = overview_map(a, max_markers=MAP_MARKERS, max_flows=MAP_FLOWS, interactive=False)
        add(
            "world_map",
            "Where the expected annual loss is",
            world.caption,
            world.figure,
            **{k: v for k, v in PLOTLY_CONFIG.items() if k != "topojsonURL"},
        )
    gf = group_factor_eal(a) if wanted("region_factor_heatmap") else pd.DataFrame()
    if len(gf):
        gf = largest_total_first(gf)
        group_names = {g.id: g.name for g in ws.regions.groups}
        gf.index = pd.Index([group_names.get(str(i), str(i)) for i in gf.index])
        add(
            "region_factor_heatmap",
            "Expected annual loss by region group and factor",
            "Region groups may overlap; darker cells carry more expected annual loss.",
            factor_heatmap(gf, ws.factors, fmt, "Region group"),
        )
    chosen = list(tables.scenarios.frame["scenario_id"].head(COMPARE_SCENARIOS))
    compare = (
        compare_table(a, chosen, "region_group")
        if wanted("scenario_comparison")
        else pd.DataFrame()
    )
    if len(compare):
        add(
            "scenario_comparison",
            "Loss by region group in the largest scenarios",
            f"The {len(chosen)} scenarios with the largest portfolio loss.",
            compare_chart(compare, titles, "Region group", fmt),
        )
    from riskapp.assessment import risk as risk_view
    from riskapp.assessment.headline import years_phrase
    from riskapp.charts.risk import exceedance_chart, factor_tail_chart

    run = a.simulation
    residual = run.result.model.plans is not None
    if wanted("exceedance"):
        add(
            "exceedance",
            "Annual loss against return period (simulated)",
            f"Annual loss reached or exceeded once in so many years on average, from "
            f"{years_phrase(a.headline)}; the shaded band is a 90 % confidence interval"
            + ("; dashed: with every effective plan applied." if residual else "."),
            exceedance_chart(
                risk_view.exceedance(run),
                risk_view.exceedance(run, residual=True) if residual else None,
                fmt,
            ),
        )
    if wanted("factor_tail"):
        add(
            "factor_tail",
            "What drives the bad years",
            "Each factor's part of the expected shortfall at 99 % (the average loss of the "
            "worst 1 % of simulated years); the parts add up to it.",
            factor_tail_chart(risk_view.factor_tail(run, a), fmt, ws.factors),
        )
    if a.plans.plans:
        if wanted("trigger_matrix"):
            add(
                "trigger_matrix",
                "Which plans fire in which scenario",
                "Blue: triggered and effective; orange: triggered but not ready in time.",
                trigger_heatmap(trigger_matrix(a), fmt, chosen=worst),
            )
        if wanted("waterfall"):
            add(
                "waterfall",
                f"From gross to residual loss in '{worst_title}'",
                "Each step is the loss a plan averts on top of the plans before it.",
                loss_waterfall(waterfall_steps(a, worst), fmt),
            )
        if wanted("cost_benefit"):
            add(
                "cost_benefit",
                "Cost against averted loss",
                "Net present values over the plan horizon; above the diagonal a plan pays for "
                "itself. Bubble size: benefit-cost ratio.",
                cost_benefit(plan_register(a, worst), fmt, ws.settings.plan_horizon_years),
            )
    return out


# the figures the deck shows as pictures (its other charts are native PowerPoint charts)
DECK_IMAGE_FIGURES = ("world_map", "exceedance", "region_factor_heatmap", "trigger_matrix")
MAP_MARKERS = 2000  # asset markers on the world map; more make the map slow and unreadable
MAP_FLOWS = 500  # dependency lines on the world map: those with the most value at stake
COMPARE_SCENARIOS = 3  # scenarios in the comparison chart
