"""The report model: everything a consultant report says, built once from an assessment.

Every output format (PDF, PowerPoint, Excel, HTML) renders the same `Report`; no renderer
computes a figure of its own. A `Report` holds plain data (numbers, strings, pandas tables
with raw numbers, plotly figures) and *unescaped* user text: each renderer escapes for its
medium (HTML/PDF autoescape, Excel `write_string` with formulas neutralised).

    report = build_report("demo", ReportOptions(top_n=10), Branding(client="ACME"))

Fields of `Report` (see each dataclass below for its own fields)
----------------------------------------------------------------
branding       `Branding`: client, author, logo, accent colour, confidentiality label, locale,
               report title. `report.client` is branding.client or the workspace's client.
options        `ReportOptions` the report was built with (scenarios, top_n, max_table_rows).
provenance     `Provenance`: riskapp version, SHA-256 of the input files, generated-at (UTC),
               scenario ids, plan ids, data sources of the baseline, refdata attribution.
workspace_name, currency, loss_basis (``"absolute"``/``"incremental"``), basis_text (a phrase
               for captions), generated_on (locale-formatted date of `provenance.generated_at`).
key_figures    list of `KeyFigure` (label, value number, text formatted in the locale,
               definition), in reading order.
actions        the three things to act on (`Action`), derived from the numbers by the rule in
               `three_actions` (documented there and in `ACTION_RULE`).
tables         `Tables`: every table of the report as a `Table` (title, typed `Column`s, a
               DataFrame of raw values, total_rows and a note when summarised):
                 scenarios        one row per scenario, ordered by gross loss (largest first)
                 factors          one row per factor, ordered by EAL
                 regions          one row per region group, ordered by EAL (groups may overlap)
                 countries        one row per country, ordered by EAL
                 region_factor    region group (rows) x factor (columns) EAL: the heat map
                 assets           every asset, ordered by EAL (Excel writes all of them)
                 top_assets       the `options.top_n` assets with the largest EAL
                 plans            one row per plan with trigger text, readiness, cost and BCR,
                                  ordered by benefit-cost ratio (best first, n/a last)
                 readiness_gaps   one row per (plan, scenario) where a triggered plan is not
                                  ready within the warning time, ordered by gap (days)
                 waterfall        gross to residual loss in the worst scenario, plan by plan
                 inputs           settings of the workspace and of the report (name, value)
               `report.tables.all()` lists them in report order; `Table.limited(n)` gives the
               first n rows with a note, for formats that must stay short (PDF, PPTX, HTML).
worst_scenario_id / worst_scenario_title: the scenario with the largest gross loss.
methodology    Markdown of how every figure is computed (`riskapp methodology`).
figures        dict name -> `ReportFigure` (title, caption, plotly `go.Figure` built by the
               dashboard's chart builders). Names: "world_map", "region_factor_heatmap",
               "scenario_comparison", "exceedance", "trigger_matrix", "waterfall",
               "cost_benefit" (a figure is absent when there is nothing to draw, e.g. no plans).
               HTML embeds them interactively; PDF/PPTX export static images (kaleido).
fmt            `NumberFormat` for the branding locale: `report.fmt.money(v)`,
               `report.fmt.number(v, 1)`, `report.fmt.cell(v, column.kind)`.

Number formats are riskapp.format's `NumberFormat`: locale "en" writes 1,234.5 and EUR 12.3m /
EUR 1.25bn / EUR 850k; "de" writes 1.234,5 and 12,3 Mio. EUR / 1,25 Mrd. EUR / 850 Tsd. EUR.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import numpy as np
import pandas as pd
from pydantic import Field, field_validator

from riskapp.domain.common import Strict
from riskapp.format import ColumnKind, Locale, NumberFormat

if TYPE_CHECKING:
    import plotly.graph_objects as go

    from riskapp.assessment.core import Assessment
    from riskapp.assessment.sources import WorkspaceSource
    from riskapp.domain.plans import Plan

HEX_COLOUR = re.compile(r"^#[0-9A-Fa-f]{6}$")


# -- branding and options --------------------------------------------------------------------
class Branding(Strict):
    """Who the report is for and how it looks; from options or a branding YAML file
    (`load_branding`). All text is user text: renderers escape it."""

    client: Annotated[str, Field(max_length=200)] = Field(
        default="", description="Client name on the title page; empty: the workspace's client."
    )
    author: Annotated[str, Field(max_length=200)] = ""
    title: Annotated[str, Field(max_length=200)] = "Geopolitical risk assessment"
    logo: Path | None = Field(
        default=None, description="PNG, JPEG or SVG; relative to the branding file."
    )
    accent_colour: str = Field(default="#0072B2", description="#RRGGBB")
    confidentiality: Annotated[str, Field(max_length=100)] = "Confidential"
    locale: Locale = Field(default="en", description="Number and date formats: en or de.")

    @field_validator("accent_colour")
    @classmethod
    def _colour(cls, value: str) -> str:
        if not HEX_COLOUR.match(value):
            raise ValueError(f"expected a colour as #RRGGBB, e.g. #0072B2, found {value!r}")
        return value.upper()

    @field_validator("logo")
    @classmethod
    def _logo(cls, value: Path | None) -> Path | None:
        if value is not None and value.suffix.lower() not in (".png", ".jpg", ".jpeg", ".svg"):
            raise ValueError(f"the logo must be a .png, .jpg or .svg file, found {value.name!r}")
        return value


def load_branding(path: str | Path) -> Branding:
    """Read a branding YAML file; problems carry their line (riskapp.InputError). A relative
    logo path is read relative to the file, and must exist."""
    from riskapp.io.errors import InputError, Problem
    from riskapp.io.workspace import display, load_model

    p = Path(path)
    branding, lines = load_model(p, Branding)
    if branding.logo is not None:
        logo = branding.logo if branding.logo.is_absolute() else p.parent / branding.logo
        if not logo.is_file():
            raise InputError(
                [Problem(display(p), lines.line(("logo",)), "logo", f"file not found: {logo}")]
            )
        branding = branding.model_copy(update={"logo": logo.resolve()})
    return branding


class ReportOptions(Strict):
    """What goes into a report."""

    scenarios: list[str] = Field(
        default_factory=list,
        description="Scenario ids to include, in any order; empty: every scenario. Expected "
        "annual loss and return-period losses are then those of the chosen scenarios.",
    )
    top_n: Annotated[int, Field(ge=1, le=1000)] = Field(
        default=10, description="Assets in the top-assets table and chart annotations."
    )
    max_table_rows: Annotated[int, Field(ge=10, le=1_000_000)] = Field(
        default=200,
        description="Rows a short format (PDF, PPTX, HTML) shows of a long table; the rest "
        "is summarised in a note. Excel always writes every row.",
    )
    include_figures: bool = Field(
        default=True, description="Build the plotly figures (off: tables only, faster)."
    )


# -- provenance ------------------------------------------------------------------------------
SYNC_SHOWN = 20  # differences between files and database listed in a report


@dataclass(frozen=True)
class Provenance:
    """Where a report's numbers come from.

    riskapp_version  `riskapp.__version__`
    source           where the inputs came from: files, store (the model files with the
                     register and plans of the team database) or memory
    source_revision  the source's revision, e.g. "store r85 + files 3f2a9c1e4b7d"
    input_hash       SHA-256 (hex) of exactly the inputs used: for files, over each input file
                     sorted by its path relative to the workspace folder (the path, a NUL byte,
                     the bytes and a NUL byte); for a store, over the hash of the model files
                     and the register and plans as read from the database; in memory, over
                     the workspace's canonical JSON. `input_hash_basis` says which.
    input_files      what was read: paths relative to the workspace folder (posix) and, for a
                     store, the database and its revision
    generated_at     timezone-aware UTC timestamp
    scenario_ids     scenarios included, in report order (by gross loss)
    plan_ids         plans evaluated, in plan-book order
    data_sources     distinct `source` values of the workspace's baseline, sorted
    attribution      citation lines of the public reference data (data/refdata/SOURCES.md)
    workspace_path   the workspace folder (and database), or "" for an in-memory workspace
    """

    riskapp_version: str
    input_hash: str
    input_hash_basis: Literal["files", "store", "content"]
    input_files: tuple[str, ...]
    generated_at: datetime
    scenario_ids: tuple[str, ...]
    plan_ids: tuple[str, ...]
    data_sources: tuple[str, ...]
    attribution: tuple[str, ...]
    workspace_path: str = ""
    source: Literal["files", "store", "memory"] = "memory"
    source_revision: str = ""
    sync_summary: str = ""  # a store's register and plans against the files ("" otherwise)
    sync_differences: tuple[str, ...] = ()

    def _sync_text(self) -> str:
        shown = "; ".join(self.sync_differences[:SYNC_SHOWN])
        more = len(self.sync_differences) - SYNC_SHOWN
        tail = f"; and {more} more (riskapp sync lists all)" if more > 0 else ""
        return f"{self.sync_summary}" + (f": {shown}{tail}" if shown else "")

    def rows(self) -> list[tuple[str, str]]:
        """(label, value) pairs, as every format prints them."""
        return [
            ("riskapp version", self.riskapp_version),
            ("Generated at (UTC)", self.generated_at.strftime("%Y-%m-%d %H:%M:%S")),
            ("Workspace", self.workspace_path or "(in memory)"),
            ("Source", f"{self.source}: {self.source_revision}"),
            *([("Files and team database", self._sync_text())] if self.sync_summary else []),
            (f"Input hash (SHA-256 of {self.input_hash_basis})", self.input_hash),
            ("Input files", ", ".join(self.input_files)),
            ("Scenarios", ", ".join(self.scenario_ids)),
            ("Plans", ", ".join(self.plan_ids)),
            ("Baseline data sources", "; ".join(self.data_sources)),
            ("Reference data", " ".join(self.attribution)),
        ]


# Citations the data publishers ask for (data/refdata/SOURCES.md); listed in every report.
REFDATA_ATTRIBUTION: tuple[str, ...] = (
    "Caldara, D. and Iacoviello, M. (2022), Measuring Geopolitical Risk, American Economic "
    "Review 112(4) (GPR index).",
    "Kaufmann, D. and Kraay, A. (2023), Worldwide Governance Indicators, 2023 Update, World "
    "Bank, CC BY 4.0 (WGI).",
    "Eurostat, nrg_ti_gas, imports of natural gas by partner country (extract of 2022-04-05; "
    "reshaped, values unchanged).",
    "UCDP/PRIO Armed Conflict Dataset v23.1, CC BY 4.0: Davies, Pettersson and Oberg (2023), "
    "Journal of Peace Research; Gleditsch et al. (2002).",
)


# -- content ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class KeyFigure:
    """A headline number: `value` raw (None when not a number), `text` formatted in the
    report locale, `definition` a sentence saying how it is computed."""

    key: str
    label: str
    value: float | None
    text: str
    definition: str


@dataclass(frozen=True)
class Action:
    """One of the three things to act on.

    kind        "plan" (put the best plan in place), "readiness" (close the largest gap),
                "asset", "country" or "scenario" (the largest expected-annual-loss item)
    title       short imperative headline, e.g. "Put 'Dual energy sourcing' in place"
    detail      one or two sentences with the numbers behind it
    subject_id  the plan, asset, country or scenario id it is about
    value       the number that ranked it (BCR, gap days or EAL)
    rule        which rule chose it (text of `ACTION_RULE` entry)
    """

    kind: str
    title: str
    detail: str
    subject_id: str
    value: float
    rule: str


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
    factors: Table
    regions: Table
    countries: Table
    region_factor: Table
    assets: Table
    top_assets: Table
    plans: Table
    readiness_gaps: Table
    waterfall: Table
    inputs: Table

    def all(self) -> list[Table]:
        return [
            self.scenarios,
            self.factors,
            self.regions,
            self.countries,
            self.region_factor,
            self.assets,
            self.top_assets,
            self.plans,
            self.readiness_gaps,
            self.waterfall,
            self.inputs,
        ]

    def __iter__(self) -> Iterator[Table]:
        return iter(self.all())


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


@dataclass(frozen=True)
class Report:
    """A consultant report, ready to render. See the module docstring for every field."""

    branding: Branding
    options: ReportOptions
    provenance: Provenance
    workspace_name: str
    client: str
    currency: str
    loss_basis: str
    basis_text: str
    generated_on: str
    key_figures: list[KeyFigure]
    actions: list[Action]
    tables: Tables
    worst_scenario_id: str
    worst_scenario_title: str
    methodology: str
    figures: dict[str, ReportFigure]

    @property
    def fmt(self) -> NumberFormat:
        return NumberFormat(currency=self.currency, locale=self.branding.locale)

    def money(self, value: float | None) -> str:
        return self.fmt.money(value)

    def key_figure(self, key: str) -> KeyFigure:
        for k in self.key_figures:
            if k.key == key:
                return k
        raise KeyError(key)

    def executive_summary(self) -> str:
        """The executive summary as plain text (key figures, then the three actions)."""
        lines = [f"{self.branding.title}: {self.client or self.workspace_name}", ""]
        lines += [f"{k.label}: {k.text}" for k in self.key_figures]
        lines += ["", "Three things to act on:"]
        lines += [f"{i}. {a.title}. {a.detail}" for i, a in enumerate(self.actions, 1)]
        return "\n".join(lines)


# -- building --------------------------------------------------------------------------------
ACTION_RULE: tuple[str, ...] = (
    "plan: the plan not yet in place (proposed or approved) that averts expected annual loss "
    "with the best benefit-cost ratio (a free plan ranks first; ties: larger averted EAL); "
    "below a ratio of 1 the action says that no such plan pays for itself",
    "readiness: the largest readiness gap, lead time of a triggered plan minus the warning "
    "time of the scenario (ties: larger gross loss of the scenario)",
    "asset: the asset with the largest expected annual loss",
    "country: the country with the largest expected annual loss (used when a rule above "
    "finds nothing)",
    "scenario: the scenario contributing most to expected annual loss (used when a rule "
    "above finds nothing)",
)


def build_report(
    source: Assessment | WorkspaceSource | str | Path,
    options: ReportOptions | None = None,
    branding: Branding | None = None,
    *,
    now: datetime | None = None,
) -> Report:
    """Build the report of an already scored `Assessment`, of a source (FileSource,
    StoreSource, MemorySource) or of a workspace folder (its files).

    The provenance names the assessment's source, revision and the hash of exactly the inputs
    used; `now` fixes the timestamp (tests). Raises KeyError for an unknown scenario id and
    riskapp.InputError for a workspace with problems.
    """
    from riskapp import __version__
    from riskapp.assessment.core import Assessment, assess

    options = options or ReportOptions()
    branding = branding or Branding()
    a = source if isinstance(source, Assessment) else assess(source)
    if options.scenarios:
        a = a.with_scenarios(list(options.scenarios))
    if not a.ws.scenarios:
        raise ValueError("a report needs at least one scenario")

    when = (now or utc_now()).astimezone(UTC)
    fmt = NumberFormat(currency=a.currency, locale=branding.locale)
    tables = _tables(a, options, fmt)
    scenario_order = tuple(tables.scenarios.frame["scenario_id"])
    src = a.source
    hash_basis: Literal["files", "store", "content"] = (
        "content" if src.kind == "memory" else src.kind
    )
    provenance = Provenance(
        riskapp_version=__version__,
        input_hash=src.fingerprint,
        input_hash_basis=hash_basis,
        input_files=src.inputs,
        generated_at=when,
        scenario_ids=scenario_order,
        plan_ids=tuple(p.id for p in a.ws.plans.plans),
        data_sources=tuple(sorted({e.source for e in a.ws.baseline.entries if e.source})),
        attribution=REFDATA_ATTRIBUTION,
        workspace_path=src.location if src.kind != "memory" else "",
        source=src.kind,
        source_revision=src.revision,
        sync_summary=a.sync.summary() if a.sync is not None else "",
        sync_differences=tuple(str(d) for d in a.sync.differences) if a.sync else (),
    )
    worst = scenario_order[0]
    incremental = a.result.basis.value == "incremental"
    return Report(
        branding=branding,
        options=options,
        provenance=provenance,
        workspace_name=a.ws.settings.name,
        client=branding.client or a.ws.settings.client,
        currency=a.currency,
        loss_basis=a.result.basis.value,
        basis_text="loss above today's baseline" if incremental else "loss at scenario intensity",
        generated_on=fmt.date(when),
        key_figures=_key_figures(a, fmt),
        actions=three_actions(a, fmt),
        tables=tables,
        worst_scenario_id=worst,
        worst_scenario_title=a.ws.scenario(worst).title,
        methodology=_methodology(),
        figures=_figures(a, tables, options) if options.include_figures else {},
    )


def utc_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _methodology() -> str:
    from riskapp.methodology import methodology_markdown

    return methodology_markdown()


# -- key figures -----------------------------------------------------------------------------
def _key_figures(a: Assessment, fmt: NumberFormat) -> list[KeyFigure]:
    """The Overview page's headline numbers (same definitions), plus the count of assets and
    the expected annual loss left once every effective plan is applied."""
    from riskapp.assessment.core import key_figures as dashboard_figures

    r, ev = a.result, a.plans
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


# -- three actions ---------------------------------------------------------------------------
def three_actions(a: Assessment, fmt: NumberFormat) -> list[Action]:
    """The three things to act on, derived from the numbers (rules in `ACTION_RULE`).

    Candidates in this order, at most one per kind, first three kept:
    1. plan: the plan not yet in place (proposed or approved, not retired) with averted
       expected annual loss > 0 and the best benefit-cost ratio (free plans first; ties:
       larger averted EAL, then plan-book order); with a ratio below 1 the action asks to
       rethink those plans instead of putting one in place;
    2. readiness: the (plan, scenario) with the largest readiness gap among triggered plans
       not ready in time (ties: larger gross loss of the scenario, then plan-book order);
    3. asset: the asset with the largest expected annual loss (ties: register order);
    4. country: the country with the largest expected annual loss;
    5. scenario: the scenario with the largest contribution to expected annual loss.
    4 and 5 only fill in when a rule above finds nothing (no plans, no gaps, no loss).
    """
    from riskapp.domain import country_name
    from riskapp.domain.plans import PlanStatus

    ev, r = a.plans, a.result
    out: list[Action] = []

    def money(value: float) -> str:
        return fmt.money(value)

    years = a.ws.settings.plan_horizon_years

    averted, bcr, cost = ev.averted_eal(), ev.benefit_cost_ratio(), ev.cost_npv()
    candidates = [
        p
        for p, plan in enumerate(ev.plans)
        if not plan.in_place and plan.status is not PlanStatus.RETIRED and averted[p] > 0
    ]
    if candidates:
        best = min(candidates, key=lambda p: (-bcr[p], -averted[p], p))
        plan = ev.plans[best]
        pays = bool(bcr[best] >= 1)
        out.append(
            Action(
                "plan",
                f"Put '{plan.title}' in place" if pays else "Rethink the plans not yet in place",
                (
                    f"It is {plan.status.value} but not yet in place; on its own it averts "
                    if pays
                    else f"None pays for itself as designed. The best, '{plan.title}' "
                    f"({plan.status.value}), averts "
                )
                + f"{money(averted[best])} of expected annual loss a year for "
                f"{money(cost[best])} over {years} years (net present value), a "
                f"benefit-cost ratio of {fmt.ratio(bcr[best])}.",
                plan.id,
                float(bcr[best]),
                ACTION_RULE[0],
            )
        )
    late = ev.triggered & ~ev.ready
    if late.any():
        s_idx, p_idx = np.nonzero(late)
        gaps = ev.gap_days[s_idx, p_idx]
        order = np.lexsort((p_idx, -ev.gross_loss[s_idx], -gaps))
        s, p = int(s_idx[order[0]]), int(p_idx[order[0]])
        plan, scenario = ev.plans[p], a.ws.scenario(ev.scenario_ids[s])
        out.append(
            Action(
                "readiness",
                f"Shorten the lead time of '{plan.title}'",
                f"Its slowest action takes {fmt.days(plan.lead_time_days)} but "
                f"'{scenario.title}' gives {fmt.days(scenario.warning_time_days)} of warning: "
                f"{fmt.days(ev.gap_days[s, p])} too late, so it averts nothing there "
                f"(gross loss {money(ev.gross_loss[s])}).",
                plan.id,
                float(ev.gap_days[s, p]),
                ACTION_RULE[1],
            )
        )
    eal = r.asset_eal()
    total = r.expected_annual_loss()
    if len(eal) and eal.max() > 0:
        i = int(np.argmax(eal))
        row = a.ws.portfolio.frame.iloc[i]
        out.append(
            Action(
                "asset",
                f"Reduce the exposure of '{row['name']}'",
                f"It carries the largest expected annual loss of any asset, "
                f"{money(eal[i])} ({fmt.percent(eal[i] / total)} of the portfolio), "
                f"in {country_name(row['country'])}.",
                str(row["id"]),
                float(eal[i]),
                ACTION_RULE[2],
            )
        )
    if len(out) < 3 and total > 0:
        from riskapp.engine import losses_by

        by_country = losses_by(a.ws, r, "country")["eal"]
        c = str(by_country.idxmax())
        out.append(
            Action(
                "country",
                f"Review the footprint in {country_name(c)}",
                f"Assets there carry {money(by_country[c])} of expected annual loss "
                f"({fmt.percent(by_country[c] / total)} of the portfolio).",
                c,
                float(by_country[c]),
                ACTION_RULE[3],
            )
        )
    if len(out) < 3:
        contribution = r.frequencies * r.scenario_loss()
        s = int(np.argmax(contribution))
        scenario = a.ws.scenarios[s]
        out.append(
            Action(
                "scenario",
                f"Prepare for '{scenario.title}'",
                f"It contributes {money(contribution[s])} a year to expected annual loss, "
                f"with a loss of {money(r.scenario_loss()[s])} when it happens.",
                scenario.id,
                float(contribution[s]),
                ACTION_RULE[4],
            )
        )
    return out[:3]


# -- tables ----------------------------------------------------------------------------------
def _table(
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


def _by_value(frame: pd.DataFrame, column: str, tie: str) -> pd.DataFrame:
    """Largest `column` first; ties in ascending `tie` (stable, deterministic)."""
    return frame.sort_values([column, tie], ascending=[False, True], kind="stable")


def _tables(a: Assessment, options: ReportOptions, fmt: NumberFormat) -> Tables:
    from riskapp.assessment.core import asset_table, country_losses, group_factor_eal
    from riskapp.assessment.tables import waterfall_steps
    from riskapp.engine import losses_by

    ws, r, ev = a.ws, a.result, a.plans
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
    sc["contribution_to_eal"] = sc["frequency"] * sc["gross_loss"]
    sc["return_period_years"] = np.where(sc["frequency"] > 0, 1 / sc["frequency"], np.nan)
    sc["plans_effective"] = sc["plans_effective"].map(", ".join)
    sc = _by_value(sc, "gross_loss", "scenario_id")
    scenarios = _table(
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
                "Annual probability x gross loss.",
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
    factors = _table(
        "factors",
        "Expected annual loss by factor",
        [
            Column("factor_id", "Factor id"),
            Column("name", "Factor"),
            Column("eal", "Expected annual loss", "money"),
            Column("share_of_eal", "Share of EAL", "percent"),
            Column("worst_scenario_loss", f"Loss in '{titles[worst]}'", "money"),
        ],
        _by_value(ft, "eal", "factor_id"),
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
    regions = _table(
        "regions",
        "Expected annual loss by region group",
        [
            Column("region_id", "Region id"),
            Column("name", "Region group"),
            Column("eal", "Expected annual loss", "money"),
            Column("share_of_eal", "Share of EAL", "percent"),
            Column("worst_scenario_loss", f"Loss in '{titles[worst]}'", "money"),
        ],
        _by_value(rt, "eal", "region_id"),
        "expected annual loss, largest first",
        note="Region groups may overlap (a country can belong to several), so rows need not "
        "add up to the portfolio total.",
    )
    cl = country_losses(a).reset_index(names="country")
    countries = _table(
        "countries",
        "Expected annual loss by country",
        [
            Column("country", "Country code"),
            Column("country_name", "Country"),
            Column("exposed_value", "Exposed value", "money"),
            Column("eal", "Expected annual loss", "money"),
            Column("share_of_eal", "Share of EAL", "percent"),
        ],
        _by_value(cl.assign(share_of_eal=share(cl["eal"])), "eal", "country"),
        "expected annual loss, largest first",
    )

    # region x factor heat map: rows by total EAL, columns in catalogue order
    gf = group_factor_eal(a)
    if len(gf):
        gf = gf.loc[gf.sum(axis=1).sort_values(ascending=False, kind="stable").index]
    heat = gf.reset_index(names="region_id")
    heat.insert(1, "name", [group_names.get(g, g) for g in heat["region_id"]])
    region_factor = _table(
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
    at = _by_value(at, "eal", "id")
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
    assets = _table("assets", "Assets", asset_columns, at, "expected annual loss, largest first")
    n_top = min(options.top_n, len(at))
    top_assets = _table(
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

    plans = _plan_table(a, fmt)
    readiness_gaps = _gap_table(a)

    wf = waterfall_steps(a, worst)
    waterfall = _table(
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
        ("FX rates", ", ".join(f"{k} {v:g}" for k, v in sorted(s.fx_rates.items()))),
        ("Assets", fmt.number(len(ws.portfolio))),
        ("Factors", ", ".join(f.id for f in ws.factors.factors)),
        ("Scenarios in this report", ", ".join(scenarios.frame["scenario_id"])),
        ("Top assets shown", str(options.top_n)),
    ]
    inputs = _table(
        "inputs",
        "Inputs",
        [Column("setting", "Setting"), Column("value", "Value")],
        pd.DataFrame(settings, columns=["setting", "value"]),
    )
    return Tables(
        scenarios,
        factors,
        regions,
        countries,
        region_factor,
        assets,
        top_assets,
        plans,
        readiness_gaps,
        waterfall,
        inputs,
    )


def trigger_text(plan: Plan, scenario_titles: dict[str, str], locale: Locale = "en") -> str:
    """A plan's trigger in words: any of the listed conditions fires it."""
    fmt = NumberFormat(locale=locale)
    parts = [f"scenario '{scenario_titles.get(s, s)}'" for s in plan.trigger.scenarios]
    parts += [
        f"{lv.factor.replace('_', ' ')} at least {fmt.number(lv.at_least, 1)} in {lv.region}"
        for lv in plan.trigger.factor_levels
    ]
    if plan.trigger.loss_at_least is not None:
        parts.append(f"covered gross loss at least {fmt.number(plan.trigger.loss_at_least)}")
    return "; or ".join(parts)


def _scenario_list(ids: Sequence[str], titles: dict[str, str]) -> str:
    """Scenario titles joined by '; ', or 'all N scenarios' when every one is listed."""
    if len(ids) == len(titles) and len(ids) > 1:
        return f"all {len(ids)} scenarios"
    return "; ".join(titles[i] for i in ids)


def _plan_table(a: Assessment, fmt: NumberFormat) -> Table:
    ev = a.plans
    titles = {s.id: s.title for s in a.ws.scenarios}
    pt = ev.table()
    if len(pt) == 0:
        pt = pd.DataFrame(columns=[c.key for c in PLAN_COLUMNS])
    else:
        pt.insert(0, "number", np.arange(1, len(pt) + 1))
        pt["trigger"] = [trigger_text(p, titles, fmt.locale) for p in ev.plans]
        pt["triggered_count"] = pt["triggered_in"].map(len)
        pt["triggered_in"] = pt["triggered_in"].map(lambda ids: _scenario_list(ids, titles))
        pt["not_ready_in"] = pt["not_ready_in"].map(lambda ids: _scenario_list(ids, titles))
        key = pt["benefit_cost_ratio"].fillna(-1.0)
        pt = pt.assign(_k=key).sort_values(["_k", "number"], ascending=[False, True])
    return _table(
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
    return _table(
        "readiness_gaps",
        "Readiness gaps: triggered plans not ready within the warning time",
        GAP_COLUMNS,
        frame,
        "gap in days, largest first",
    )


# -- figures ---------------------------------------------------------------------------------
def _figures(a: Assessment, tables: Tables, options: ReportOptions) -> dict[str, ReportFigure]:
    """The dashboard's own charts, built from the same tables the dashboard draws."""
    from riskapp.assessment.core import asset_table, country_losses, group_factor_eal
    from riskapp.assessment.tables import plan_register, trigger_matrix, waterfall_steps
    from riskapp.assessment.whatif import (
        compare_table,
        exceedance_line,
        exceedance_points,
        return_period_losses,
    )
    from riskapp.charts.common import PLOTLY_CONFIG
    from riskapp.charts.overview import factor_heatmap, world_map
    from riskapp.charts.plans import cost_benefit, loss_waterfall, trigger_heatmap
    from riskapp.charts.scenarios import compare_chart, exceedance_chart

    fmt, ws = a.fmt, a.ws
    worst = str(tables.scenarios.frame["scenario_id"].iloc[0])
    worst_title = ws.scenario(worst).title
    titles = {s.id: s.title for s in ws.scenarios}
    out: dict[str, ReportFigure] = {}

    def add(name: str, title: str, caption: str, fig: go.Figure, **config: object) -> None:
        # a report looks the same whatever plotly template the process has set as default
        # (Streamlit sets its own when imported): pin plotly's own
        fig.update_layout(template="plotly")
        height = int(fig.layout.height or 420)
        out[name] = ReportFigure(name, title, caption, fig, height, dict(config))

    assets = asset_table(a)
    if len(assets) > MAP_MARKERS:
        assets = assets.nlargest(MAP_MARKERS, "eal")
    add(
        "world_map",
        "Where the expected annual loss is",
        "Countries shaded by expected annual loss; markers are assets sized by expected annual "
        "loss and coloured by the factor that drives most of it"
        + (f" (the {MAP_MARKERS:,} largest shown)." if len(a.ws.portfolio) > MAP_MARKERS else "."),
        world_map(country_losses(a), assets, ws.factors, fmt),
        **{k: v for k, v in PLOTLY_CONFIG.items() if k != "topojsonURL"},
    )
    gf = group_factor_eal(a)
    if len(gf):
        gf = gf.loc[gf.sum(axis=1).sort_values(ascending=False, kind="stable").index]
        names = {g.id: g.name for g in ws.regions.groups}
        gf.index = pd.Index([names.get(str(i), str(i)) for i in gf.index])
        add(
            "region_factor_heatmap",
            "Expected annual loss by region group and factor",
            "Region groups may overlap; darker cells carry more expected annual loss.",
            factor_heatmap(gf, ws.factors, fmt, "Region group"),
        )
    chosen = list(tables.scenarios.frame["scenario_id"].head(COMPARE_SCENARIOS))
    compare = compare_table(a, chosen, "region_group")
    if len(compare):
        add(
            "scenario_comparison",
            "Loss by region group in the largest scenarios",
            f"The {len(chosen)} scenarios with the largest portfolio loss.",
            compare_chart(compare, titles, "Region group", fmt),
        )
    points = exceedance_points(a)
    if len(points):
        add(
            "exceedance",
            "Loss against return period",
            "Portfolio loss reached or exceeded once in so many years on average.",
            exceedance_chart(points, exceedance_line(a), return_period_losses(a), fmt),
        )
    if a.plans.plans:
        add(
            "trigger_matrix",
            "Which plans fire in which scenario",
            "Blue: triggered and effective; orange: triggered but not ready in time.",
            trigger_heatmap(trigger_matrix(a), chosen=worst),
        )
        add(
            "waterfall",
            f"From gross to residual loss in '{worst_title}'",
            "Each step is the loss a plan averts on top of the plans before it.",
            loss_waterfall(waterfall_steps(a, worst), fmt),
        )
        add(
            "cost_benefit",
            "Cost against averted loss",
            "Net present values over the plan horizon; above the diagonal a plan pays for "
            "itself. Bubble size: benefit-cost ratio.",
            cost_benefit(plan_register(a, worst), fmt, ws.settings.plan_horizon_years),
        )
    return out


MAP_MARKERS = 2000  # asset markers on the world map; more make the map slow and unreadable
COMPARE_SCENARIOS = 3  # scenarios in the comparison chart
