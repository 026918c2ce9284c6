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
key_figures    list of `KeyFigure` (= `riskapp.assessment.headline.HeadlineFigure`: key,
               label, value number, text formatted in the locale, definition, note), in
               reading order: the Overview's and `riskapp score`'s headline set.
headline       `Headline`: the same numbers unformatted, with the simulation they come from
               (trials, seed); `headline_note` the one-line footnote saying so.
actions        the three things to act on (`Action`), derived from the numbers by the rule in
               `three_actions` (documented there and in `ACTION_RULE`).
tables         `Tables`: every table of the report as a `Table` (title, typed `Column`s, a
               DataFrame of raw values, total_rows and a note when summarised):
                 scenarios        one row per scenario, ordered by gross loss (largest first)
                 return_periods   simulated annual loss at return periods, with 90 % bands
                 factor_tail      each factor's part of the ES 99 % (Euler), largest first
                 asset_tail       the 10 assets with the largest part of the ES 99 %
                 plan_bcr         each plan's benefit-cost ratio across simulated horizons
                 clamps           "Shocks that hit the scale's limit": one row per scenario,
                                  shock and country where a shock ran past 0-10 and was
                                  clamped (`Assessment.clamps`); empty, with a note, if none
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
methodology    the client methodology (Markdown, plain words; `riskapp methodology`).
figures        dict name -> `ReportFigure` (title, caption, plotly `go.Figure` built by the
               dashboard's chart builders). Names: "world_map", "region_factor_heatmap",
               "scenario_comparison", "exceedance" (simulated annual loss, with its
               band), "factor_tail", "trigger_matrix", "waterfall", "cost_benefit" (a
               figure is absent when there is nothing to draw, e.g. no plans).
               HTML embeds them interactively; PDF/PPTX export static images (kaleido).
fmt            `NumberFormat` for the branding locale: `report.fmt.money(v)`,
               `report.fmt.number(v, 1)`, `report.fmt.cell(v, column.kind)`.

Number formats are riskapp.format's `NumberFormat`: locale "en" writes 1,234.5 and EUR 12.3m /
EUR 1.25bn / EUR 850k; "de" writes 1.234,5 and 12,3 Mio. EUR / 1,25 Mrd. EUR / 850 Tsd. EUR.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from riskapp.assessment.actions import ACTION_RULE, Action, three_actions
from riskapp.assessment.headline import Headline, footnote
from riskapp.format import NumberFormat
from riskapp.reporting.figures import ReportFigure, build_figures
from riskapp.reporting.keyfigures import KeyFigure, key_figures
from riskapp.reporting.options import HEX_COLOUR, Branding, ReportOptions, load_branding
from riskapp.reporting.provenance import Provenance, provenance_of, utc_now
from riskapp.reporting.tables import Column, Table, Tables, build_tables, trigger_text

if TYPE_CHECKING:
    from riskapp.assessment.core import Assessment
    from riskapp.assessment.sources import WorkspaceSource

__all__ = [  # the report model; each part lives in its own module
    "ACTION_RULE",
    "HEX_COLOUR",
    "Action",
    "Branding",
    "Column",
    "KeyFigure",
    "Provenance",
    "Report",
    "ReportFigure",
    "ReportOptions",
    "Table",
    "Tables",
    "build_report",
    "load_branding",
    "trigger_text",
    "utc_now",
]


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
    headline: Headline
    headline_note: str
    actions: list[Action]
    tables: Tables
    worst_scenario_id: str
    worst_scenario_title: str
    methodology: str
    figures: dict[str, ReportFigure]
    changes: tuple[str, ...] = ()  # what the latest refresh changed, in sentences

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

    def figure_text(self, key: str, default: str = "n/a") -> str:
        """The formatted text of key figure `key`, or `default` when the set lacks it (e.g. a
        return period longer than the run)."""
        for k in self.key_figures:
            if k.key == key:
                return k.text
        return default

    def executive_summary(self) -> str:
        """The executive summary as plain text (key figures, then the three actions)."""
        lines = [f"{self.branding.title}: {self.client or self.workspace_name}", ""]
        lines += [f"{k.label}: {k.text}" for k in self.key_figures]
        lines += ["", "Three things to act on:"]
        lines += [f"{i}. {a.title}. {a.detail}" for i, a in enumerate(self.actions, 1)]
        return "\n".join(lines)


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
    from riskapp.assessment.core import Assessment, assess

    options = options or ReportOptions()
    branding = branding or Branding()
    a = source if isinstance(source, Assessment) else assess(source)
    if options.scenarios:
        a = a.with_scenarios(list(options.scenarios))
    a = a.with_locale(branding.locale)  # charts, tables and text all write the report's locale
    if not a.ws.scenarios:
        raise ValueError("a report needs at least one scenario")

    when = (now or utc_now()).astimezone(UTC)
    fmt = a.fmt
    tables = build_tables(a, options)
    scenario_order = tuple(tables.scenarios.frame["scenario_id"])
    provenance = provenance_of(a, scenario_order, when)
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
        key_figures=key_figures(a),
        headline=a.headline,
        headline_note=footnote(a.headline),
        actions=three_actions(a),
        tables=tables,
        worst_scenario_id=worst,
        worst_scenario_title=a.ws.scenario(worst).title,
        methodology=_methodology(),
        figures=build_figures(a, tables, options.figures) if options.include_figures else {},
        changes=tuple(a.refresh_changes.lines(fmt.money)) if a.refresh_changes else (),
    )


def _methodology() -> str:
    from riskapp.methodology import client_methodology

    return client_methodology()


def markdown_parser() -> Any:
    """The one Markdown parser of the reports (methodology text): CommonMark with tables, raw
    HTML off, so tags in the text are printed, never parsed."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
