"""The report's tables: typed columns over DataFrames of raw values (`Table`, `Tables`) and how
each is built from an assessment, ordered and summarised."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from riskapp.format import ColumnKind, Locale, NumberFormat

if TYPE_CHECKING:
    from riskapp.assessment.core import Assessment
    from riskapp.domain.plans import Plan
    from riskapp.reporting.options import ReportOptions


@dataclass(frozen=True)
class Column:
    """A table column: `key` in the DataFrame, `label` for people, `kind` for formats."""

    key: str
    label: str
    kind: ColumnKind = "text"
    definition: str = ""


@dataclass(frozen=True)
class Table:
    """A report table: raw values in `frame` (columns = `[c.key for c in columns]`, in that
    order), `total_rows` rows before any summarising, `note` saying what was left out.

    `order` says how rows are sorted ("gross loss, largest first"); renderers may show it."""

    name: str
    title: str
    columns: tuple[Column, ...]
    frame: pd.DataFrame
    total_rows: int
    order: str = ""
    note: str = ""

    def __len__(self) -> int:
        return len(self.frame)

    @property
    def keys(self) -> list[str]:
        return [c.key for c in self.columns]

    @property
    def labels(self) -> list[str]:
        return [c.label for c in self.columns]

    def limited(self, max_rows: int) -> Table:
        """The first `max_rows` rows; the note says how many were left out."""
        if len(self.frame) <= max_rows:
            return self
        note = (
            f"Showing the first {max_rows:,} of {self.total_rows:,} rows"
            + (f" ({self.order})" if self.order else "")
            + "; the Excel export has every row."
        )
        return Table(
            self.name,
            self.title,
            self.columns,
            self.frame.head(max_rows).reset_index(drop=True),
            self.total_rows,
            self.order,
            note,
        )

    def formatted(self, fmt: NumberFormat) -> list[list[str]]:
        """Rows of text cells formatted by column kind (unescaped user text)."""
        kinds = [c.kind for c in self.columns]
        return [
            [fmt.cell(v, k) for v, k in zip(row, kinds, strict=True)]
            for row in self.frame[self.keys].itertuples(index=False, name=None)
        ]


@dataclass(frozen=True)
class Tables:
    """Every table of the report, in report order."""

    scenarios: Table
    clamps: Table
    return_periods: Table
    factor_tail: Table
    asset_tail: Table
    factors: Table
    regions: Table
    countries: Table
    region_factor: Table
    assets: Table
    top_assets: Table
    plans: Table
    plan_bcr: Table
    readiness_gaps: Table
    waterfall: Table
    inputs: Table
    checklist: Table

    def all(self) -> list[Table]:
        return [
            self.scenarios,
            self.clamps,
            self.return_periods,
            self.factor_tail,
            self.asset_tail,
            self.factors,
            self.regions,
            self.countries,
            self.region_factor,
            self.assets,
            self.top_assets,
            self.plans,
            self.plan_bcr,
            self.readiness_gaps,
            self.waterfall,
            self.inputs,
            self.checklist,
        ]

    def __iter__(self) -> Iterator[Table]:
        return iter(self.all())


def make_table(
    name: str,
    title: str,
    columns: Sequence[Column],
    frame: pd.DataFrame,
    order: str = "",
    total_rows: int | None = None,
    note: str = "",
) -> Table:
    keys = [c.key for c in columns]
    frame = frame[keys].reset_index(drop=True)
    return Table(
        name,
        title,
        tuple(columns),
        frame,
        len(frame) if total_rows is None else total_rows,
        order,
        note,
    )


def build_tables(a: Assessment, options: ReportOptions) -> Tables:
    """Every table of a report of `a`, in report order (see `Tables`)."""
    from riskapp.assessment.core import (
        asset_table,
        country_losses,
        group_factor_eal,
        largest_first,
        largest_total_first,
    )
    from riskapp.assessment.tables import waterfall_steps
    from riskapp.engine import losses_by

    ws, r, ev, fmt = a.ws, a.result, a.plans, a.fmt
    titles = {s.id: s.title for s in ws.scenarios}
    factor_names = {f.id: f.name for f in ws.factors.factors}
    group_names = {g.id: g.name for g in ws.regions.groups}
    total_eal = r.expected_annual_loss()

    def share(values: pd.Series | np.ndarray) -> np.ndarray:
        v = np.asarray(values, dtype=float)
        return v / total_eal if total_eal > 0 else np.zeros_like(v)

    # scenarios: gross, residual and averted loss, by gross loss
    sc = ev.scenario_table()
    sc["title"] = sc["scenario_id"].map(titles)
    sc["warning_time_days"] = [float(ws.scenario(s).warning_time_days) for s in sc.scenario_id]
    sc["contribution_to_eal"] = sc["frequency"] * ev.gross_increment
    sc["return_period_years"] = np.where(sc["frequency"] > 0, 1 / sc["frequency"], np.nan)
    sc["plans_effective"] = sc["plans_effective"].map(", ".join)
    sc = largest_first(sc, "gross_loss", "scenario_id")
    scenarios = make_table(
        "scenarios",
        "Loss by scenario",
        [
            Column("scenario_id", "Scenario id"),
            Column("title", "Scenario"),
            Column("frequency", "Annual probability", "probability"),
            Column("warning_time_days", "Warning time", "days"),
            Column("gross_loss", "Gross loss", "money", "Portfolio loss with no plan."),
            Column("residual_loss", "Residual loss", "money", "Loss with every effective plan."),
            Column("averted_loss", "Averted by plans", "money"),
            Column(
                "contribution_to_eal",
                "Contribution to EAL",
                "money",
                "Annual probability x the gross loss above the status quo (floored at 0 per "
                "asset); with the status-quo loss, borne every year, these add up to the EAL.",
            ),
            Column("plans_effective", "Effective plans"),
        ],
        sc,
        "gross loss, largest first",
    )

    # factors
    fa = losses_by(ws, r, "factor")
    worst = str(scenarios.frame["scenario_id"].iloc[0])
    ft = pd.DataFrame(
        {
            "factor_id": fa.index,
            "name": [factor_names.get(f, f) for f in fa.index],
            "eal": fa["eal"].to_numpy(),
            "share_of_eal": share(fa["eal"]),
            "worst_scenario_loss": fa[worst].to_numpy(),
        }
    )
    factors = make_table(
        "factors",
        "Expected annual loss by factor",
        [
            Column("factor_id", "Factor id"),
            Column("name", "Factor"),
            Column("eal", "Expected annual loss", "money"),
            Column("share_of_eal", "Share of EAL", "percent"),
            Column("worst_scenario_loss", f"Loss in '{titles[worst]}'", "money"),
        ],
        largest_first(ft, "eal", "factor_id"),
        "expected annual loss, largest first",
    )

    # region groups (may overlap) and countries
    rg = losses_by(ws, r, "region_group")
    rt = pd.DataFrame(
        {
            "region_id": rg.index,
            "name": [group_names.get(g, g) for g in rg.index],
            "eal": rg["eal"].to_numpy(),
            "share_of_eal": share(rg["eal"]),
            "worst_scenario_loss": rg[worst].to_numpy() if len(rg) else [],
        }
    )
    regions = make_table(
        "regions",
        "Expected annual loss by region group",
        [
            Column("region_id", "Region id"),
            Column("name", "Region group"),
            Column("eal", "Expected annual loss", "money"),
            Column("share_of_eal", "Share of EAL", "percent"),
            Column("worst_scenario_loss", f"Loss in '{titles[worst]}'", "money"),
        ],
        largest_first(rt, "eal", "region_id"),
        "expected annual loss, largest first",
        note="Region groups may overlap (a country can belong to several), so rows need not "
        "add up to the portfolio total.",
    )
    cl = country_losses(a).reset_index(names="country")
    countries = make_table(
        "countries",
        "Expected annual loss by country",
        [
            Column("country", "Country code"),
            Column("country_name", "Country"),
            Column("exposed_value", "Exposed value", "money"),
            Column("eal", "Expected annual loss", "money"),
            Column("share_of_eal", "Share of EAL", "percent"),
        ],
        largest_first(cl.assign(share_of_eal=share(cl["eal"])), "eal", "country"),
        "expected annual loss, largest first",
    )

    # region x factor heat map: rows by total EAL, columns in catalogue order
    gf = largest_total_first(group_factor_eal(a))
    heat = gf.reset_index(names="region_id")
    heat.insert(1, "name", [group_names.get(g, g) for g in heat["region_id"]])
    region_factor = make_table(
        "region_factor",
        "Expected annual loss by region group and factor",
        [Column("region_id", "Region id"), Column("name", "Region group")]
        + [Column(f, factor_names.get(f, f), "money") for f in r.factor_ids],
        heat,
        "total expected annual loss, largest first",
    )

    # assets: every one by EAL, and the top n
    at = asset_table(a)
    at["worst_scenario_loss"] = r.asset_loss()[:, r.scenario_ids.index(worst)]
    at["share_of_eal"] = share(at["eal"])
    at["dominant_factor"] = at["dominant_factor"].map(lambda f: factor_names.get(f, f))
    at = largest_first(at, "eal", "id")
    asset_columns = [
        Column("id", "Asset id"),
        Column("name", "Asset"),
        Column("type", "Type"),
        Column("country", "Country code"),
        Column("country_name", "Country"),
        Column("owner", "Owner"),
        Column("exposed_value", "Exposed value", "money"),
        Column("eal", "Expected annual loss", "money"),
        Column("share_of_eal", "Share of EAL", "percent"),
        Column("worst_scenario_loss", f"Loss in '{titles[worst]}'", "money"),
        Column("dominant_factor", "Main factor"),
    ]
    assets = make_table(
        "assets", "Assets", asset_columns, at, "expected annual loss, largest first"
    )
    n_top = min(options.top_n, len(at))
    top_assets = make_table(
        "top_assets",
        f"Top {n_top} assets by expected annual loss",
        asset_columns,
        at.head(n_top),
        "expected annual loss, largest first",
        total_rows=len(at),
        note=(
            f"The {n_top} of {len(at):,} assets with the largest expected annual loss; they "
            f"carry {fmt.percent(float(at['share_of_eal'].head(n_top).sum()))} of it."
        ),
    )

    from riskapp.assessment.plan_checks import plan_flags, reviewer_checklist

    flags = plan_flags(a)
    plans = _plan_table(a, fmt, flags)
    checklist = make_table(
        "checklist",
        "Reviewer checklist",
        [
            Column("item", "Item"),
            Column("plan", "Plan"),
            Column("finding", "Finding and check"),
        ],
        reviewer_checklist(a, flags),
        "flags in plan-book order, then the generic checks",
    )
    readiness_gaps = _gap_table(a)

    wf = waterfall_steps(a, worst)
    waterfall = make_table(
        "waterfall",
        f"From gross to residual loss in '{titles[worst]}'",
        [
            Column("label", "Step"),
            Column("plan_id", "Plan id"),
            Column("amount", "Amount", "money"),
            Column("after_step", "Loss after step", "money"),
        ],
        wf,
        "plan-book order; each step is the loss a plan averts on top of those before it",
    )

    s = ws.settings
    settings = [
        ("Workspace", s.name),
        ("Client", s.client),
        ("Currency", s.currency),
        ("Loss basis", s.loss_basis.value),
        ("Discount rate", fmt.percent(s.discount_rate)),
        ("Plan horizon (years)", str(s.plan_horizon_years)),
        ("Require readiness", "yes" if s.require_readiness else "no"),
        ("Return periods (years)", ", ".join(f"{v:g}" for v in s.return_periods)),
        ("Simulated years", fmt.number(s.simulation_years)),
        ("Simulation seed", str(s.simulation_seed)),
        ("FX rates", ", ".join(f"{k} {v:g}" for k, v in sorted(s.fx_rates.items()))),
        ("FX rates of", s.fx_provenance() if s.fx_rates else ""),
        ("Assets", fmt.number(len(ws.portfolio))),
        ("Factors", ", ".join(f.id for f in ws.factors.factors)),
        ("Scenarios in this report", ", ".join(scenarios.frame["scenario_id"])),
        ("Top assets shown", str(options.top_n)),
    ]
    inputs = make_table(
        "inputs",
        "Inputs",
        [Column("setting", "Setting"), Column("value", "Value")],
        pd.DataFrame(settings, columns=["setting", "value"]),
    )
    from riskapp.reporting import simulated  # after this module: it builds on `Table`

    return Tables(
        scenarios,
        _clamp_table(a),
        simulated.return_period_table(a),
        simulated.factor_tail_table(a),
        simulated.asset_tail_table(a),
        factors,
        regions,
        countries,
        region_factor,
        assets,
        top_assets,
        plans,
        simulated.plan_bcr_table(a),
        readiness_gaps,
        waterfall,
        inputs,
        checklist,
    )


CLAMP_COLUMNS: tuple[Column, ...] = (
    Column("scenario", "Scenario"),
    Column(
        "shock_text",
        "Shock",
        "text",
        "The shock as its scenario file writes it; '(range high)' or '(range low)': at that "
        "end of its uncertainty range, as the Monte Carlo may draw it.",
    ),
    Column("country_name", "Country"),
    Column("factor", "Factor"),
    Column("before", "Before the shock", "intensity"),
    Column("unclamped", "Shock asked for", "intensity", "The operation's result, off the scale."),
    Column("clamped", "Used", "intensity", "The intensity scored: held at 0 or 10."),
    Column("lost", "Lost to the clamp", "number", "Intensity points the clamp took away."),
    Column("assets", "Assets there", "int"),
    Column("exposed_value", "Exposed value there", "money"),
)
NO_CLAMP = (
    "No shock ran past the 0-10 intensity scale: every shock moves each country it reaches by "
    "what its scenario says."
)


def _clamp_table(a: Assessment) -> Table:
    """Every shocked intensity clamped to the scale (`Assessment.clamps`), in scenario order."""
    from riskapp.assessment.scale import AT_VALUE, shock_text

    frame = a.clamps.copy()
    frame["shock_text"] = [
        f"{k}. " + shock_text(op, float(v), t) + ("" if at == AT_VALUE else f" ({at})")
        for k, op, v, t, at in zip(
            frame["shock"], frame["op"], frame["value"], frame["target"], frame["at"], strict=True
        )
    ]
    return make_table(
        "clamps",
        "Shocks that hit the scale's limit",
        CLAMP_COLUMNS,
        frame,
        "scenario order, then the largest loss of intensity first",
        note=(
            "These shocks ran past the 0-10 scale and were clamped, so the scenario gives these "
            "places less than it says (a country already at 10 gains nothing from adding "
            "points); a shock marked (range high) or (range low) clamps only at that end of its "
            "uncertainty range, which flattens the Monte Carlo's tail. A headroom shock (op "
            "toward_max or toward_min) moves a fraction of the distance to the scale's end and "
            "never clamps."
            if len(frame)
            else NO_CLAMP
        ),
    )


def trigger_text(
    plan: Plan,
    scenario_titles: dict[str, str],
    locale: Locale = "en",
    group_sizes: dict[str, int] | None = None,
) -> str:
    """A plan's trigger in words: any of the listed conditions fires it. A level on a region
    group (`group_sizes`: members by group id) says it fires on any one member country."""
    fmt = NumberFormat(locale=locale)
    sizes = group_sizes or {}

    def where(region: str) -> str:
        if region in sizes:
            return f"any one of the {sizes[region]} countries of group {region}"
        return region

    parts = [f"scenario '{scenario_titles.get(s, s)}'" for s in plan.trigger.scenarios]
    parts += [
        f"{lv.factor.replace('_', ' ')} at least {fmt.number(lv.at_least, 1)} in {where(lv.region)}"
        for lv in plan.trigger.factor_levels
    ]
    if plan.trigger.loss_at_least is not None:
        parts.append(f"covered gross loss at least {fmt.number(plan.trigger.loss_at_least)}")
    parts += [f"signpost '{name}' red" for name in plan.trigger.signposts]
    parts += [
        f"current probability of '{scenario_titles.get(c.scenario, c.scenario)}' at least "
        f"{fmt.percent(c.at_least)}"
        for c in plan.trigger.probabilities
    ]
    return "; or ".join(parts)


def _scenario_list(ids: Sequence[str], titles: dict[str, str]) -> str:
    """Scenario titles joined by '; ', or 'all N scenarios' when every one is listed."""
    if len(ids) == len(titles) and len(ids) > 1:
        return f"all {len(ids)} scenarios"
    return "; ".join(titles[i] for i in ids)


def _plan_table(a: Assessment, fmt: NumberFormat, flags: pd.DataFrame) -> Table:
    from riskapp.assessment.plan_checks import flag_text

    ev = a.plans
    titles = {s.id: s.title for s in a.ws.scenarios}
    pt = ev.table()
    if len(pt) == 0:
        pt = pd.DataFrame(columns=[c.key for c in PLAN_COLUMNS])
    else:
        pt.insert(0, "number", np.arange(1, len(pt) + 1))
        sizes = {g.id: len(g.members) for g in a.ws.regions.groups}
        pt["trigger"] = [trigger_text(p, titles, fmt.locale, sizes) for p in ev.plans]
        pt["triggered_count"] = pt["triggered_in"].map(len)
        pt["flags"] = [flag_text(flags, p.id) for p in ev.plans]
        pt["triggered_in"] = pt["triggered_in"].map(lambda ids: _scenario_list(ids, titles))
        pt["not_ready_in"] = pt["not_ready_in"].map(lambda ids: _scenario_list(ids, titles))
        key = pt["benefit_cost_ratio"].fillna(-1.0)
        pt = pt.assign(_k=key).sort_values(["_k", "number"], ascending=[False, True])
    return make_table(
        "plans",
        "Contingency plans: triggers, readiness, cost and benefit",
        PLAN_COLUMNS,
        pt,
        "benefit-cost ratio, best first",
    )


PLAN_COLUMNS: tuple[Column, ...] = (
    Column("number", "No.", "int", "Position in the plan book (chart labels)."),
    Column("plan_id", "Plan id"),
    Column("title", "Plan"),
    Column("owner", "Owner"),
    Column("status", "Status"),
    Column("trigger", "Trigger", "text", "Fires when any of these holds."),
    Column("triggered_count", "Scenarios triggering", "int"),
    Column("triggered_in", "Triggered in"),
    Column("not_ready_in", "Not ready in"),
    Column("lead_time_days", "Lead time", "days", "Lead time of the slowest action."),
    Column("covered_value", "Covered value", "money"),
    Column("cost_npv", "Cost (NPV)", "money", "One-off cost + annual cost x annuity factor."),
    Column("averted_eal", "Averted EAL", "money", "Expected annual loss the plan averts alone."),
    Column("averted_npv", "Averted (NPV)", "money"),
    Column("benefit_cost_ratio", "Benefit-cost ratio", "ratio", "Averted NPV / cost NPV."),
    Column("flags", "Flags", "text", "Sanity flags; the reviewer checklist explains each."),
)

GAP_COLUMNS: tuple[Column, ...] = (
    Column("plan_id", "Plan id"),
    Column("plan_title", "Plan"),
    Column("owner", "Owner"),
    Column("scenario_id", "Scenario id"),
    Column("scenario_title", "Scenario"),
    Column("lead_time_days", "Lead time", "days"),
    Column("warning_days", "Warning time", "days"),
    Column("gap_days", "Gap", "days", "Lead time minus warning time."),
    Column("gross_loss", "Gross loss in scenario", "money"),
)


def _gap_table(a: Assessment) -> Table:
    ev = a.plans
    rows = []
    for s_i, sid in enumerate(ev.scenario_ids):
        scenario = a.ws.scenario(sid)
        for p_i, plan in enumerate(ev.plans):
            if ev.triggered[s_i, p_i] and not ev.ready[s_i, p_i]:
                rows.append(
                    {
                        "plan_id": plan.id,
                        "plan_title": plan.title,
                        "owner": plan.owner,
                        "scenario_id": sid,
                        "scenario_title": scenario.title,
                        "lead_time_days": float(plan.lead_time_days),
                        "warning_days": float(scenario.warning_time_days),
                        "gap_days": float(ev.gap_days[s_i, p_i]),
                        "gross_loss": float(ev.gross_loss[s_i]),
                    }
                )
    frame = pd.DataFrame(rows, columns=[c.key for c in GAP_COLUMNS])
    if len(frame):
        frame = frame.sort_values(
            ["gap_days", "gross_loss", "plan_id", "scenario_id"],
            ascending=[False, False, True, True],
            kind="stable",
        )
    return make_table(
        "readiness_gaps",
        "Readiness gaps: triggered plans not ready within the warning time",
        GAP_COLUMNS,
        frame,
        "gap in days, largest first",
    )
