"""Interactive HTML report: one self-contained file that opens offline from disk.

plotly.js is inlined once in the head; each chart is a plotly div with its figure as JSON
(plotly escapes `<` and `/` in that JSON, so no text can close the script). The world map
draws offline: its outlines (`riskapp/dashboard/static/world_110m.json`) are inlined into
`window.PlotlyGeoAssets`, where plotly.js looks before it would fetch them from its CDN. The
logo is inlined as a data: URL. Nothing is fetched over the network.

Every user text (client, author, asset and plan names, narratives) goes through Jinja2's
autoescape; the methodology Markdown is ours and rendered with raw HTML disabled.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment

from riskapp.reporting.figures import ReportFigure
from riskapp.reporting.logo import logo_data_uri
from riskapp.reporting.model import Report, markdown_parser
from riskapp.reporting.planflags import plans_flag_sentence
from riskapp.reporting.simulated import simulated_lead
from riskapp.reporting.tables import Table

STATIC = Path(__file__).resolve().parent.parent / "dashboard" / "static"
TOPOJSON_NAME = "world_110m"
NUMERIC_KINDS = {"int", "number", "money", "ratio", "percent", "probability", "days", "intensity"}
PLOTLY_CONFIG: dict[str, Any] = {
    "displaylogo": False,
    "responsive": True,
    # never reached (outlines are inlined); a relative URL keeps any fallback off the network
    "topojsonURL": "./",
}

TEMPLATE = """<!DOCTYPE html>
<html lang="{{ lang }}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="riskapp {{ p.riskapp_version }}">
<title>{{ b.title }} - {{ client }}</title>
<style>
:root { --accent: {{ accent }}; }
body { font-family: "Source Sans Pro", Helvetica, Arial, sans-serif; color: #222;
       margin: 0; line-height: 1.45; }
header { background: var(--accent); color: #fff; padding: 24px 40px; }
header h1 { margin: 0 0 4px 0; font-size: 28px; }
header .meta { opacity: .9; }
header img.logo { float: right; max-height: 64px; max-width: 220px; background: #fff;
                  padding: 6px; border-radius: 4px; }
.classification { background: #222; color: #fff; text-align: center; font-size: 12px;
                  letter-spacing: .08em; text-transform: uppercase; padding: 3px; }
nav { padding: 8px 40px; border-bottom: 1px solid #ddd; font-size: 14px; }
nav a { margin-right: 14px; color: var(--accent); text-decoration: none; }
main { padding: 0 40px 40px 40px; max-width: 1280px; }
h2 { color: var(--accent); border-bottom: 2px solid var(--accent); padding-bottom: 4px;
     margin-top: 36px; }
.figures { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr));
           gap: 12px; }
.figure { border: 1px solid #ddd; border-left: 4px solid var(--accent); padding: 10px 12px; }
.figure .label { font-size: 13px; color: #555; }
.figure .value { font-size: 22px; font-weight: 600; }
.figure .fnote { font-size: 12px; color: #444; }
.figure summary { font-size: 12px; color: var(--accent); cursor: pointer; margin-top: 4px; }
.figure .definition { font-size: 12px; color: #666; }
ol.actions li { margin-bottom: 8px; }
table { border-collapse: collapse; margin: 8px 0 4px 0; font-size: 13px; }
th { background: var(--accent); color: #fff; text-align: left; padding: 4px 8px;
     position: sticky; top: 0; }
td { border-bottom: 1px solid #e5e5e5; padding: 3px 8px; vertical-align: top; }
td.num, th.num { text-align: right; white-space: nowrap; }
.note, .caption { font-size: 12px; color: #555; font-style: italic; }
.chart { margin: 12px 0; }
.scroll { overflow-x: auto; }
.methodology { font-size: 14px; }
.methodology pre { background: #f5f5f5; padding: 8px; overflow-x: auto; }
footer { font-size: 12px; color: #666; padding: 12px 40px; border-top: 1px solid #ddd; }
</style>
<script type="text/javascript">{{ plotlyjs }}</script>
<script type="text/javascript">
window.PlotlyGeoAssets = window.PlotlyGeoAssets || {topojson: {}};
window.PlotlyGeoAssets.topojson["{{ topojson_name }}"] = {{ topojson }};
</script>
</head>
<body>
<div class="classification">{{ b.confidentiality }}</div>
<header>
{% if logo %}<img class="logo" alt="logo" src="{{ logo }}">{% endif %}
<h1>{{ b.title }}</h1>
<div class="meta">{{ client }}{% if b.author %} &middot; {{ b.author }}{% endif %}
 &middot; {{ r.generated_on }} &middot; {{ r.workspace_name }}</div>
</header>
<nav>
{% for id, title in sections %}<a href="#{{ id }}">{{ title }}</a>{% endfor %}
</nav>
<main>
<section id="summary">
<h2>Executive summary</h2>
<div class="figures">
{% for k in r.key_figures %}
<div class="figure" data-key="{{ k.key }}"><div class="label">{{ k.label }}</div>
<div class="value">{{ k.text }}</div>
{% if k.note %}<div class="fnote">{{ k.note }}</div>{% endif %}
<details><summary>How it is computed</summary><div class="definition">{{ k.definition }}</div>
</details></div>
{% endfor %}
</div>
<p class="note" data-note="headline">{{ r.headline_note }}</p>
<h3>Three things to act on</h3>
<ol class="actions">
{% for a in r.actions %}<li><strong>{{ a.title }}.</strong> {{ a.detail }}</li>{% endfor %}
</ol>
<p class="note">Losses are {{ r.basis_text }}, in {{ r.currency }}. How the three actions are
chosen: see the appendix.</p>
</section>

<section id="portfolio">
<h2>Portfolio and map</h2>
{{ chart("world_map") }}
{{ table(t.countries) }}
</section>

<section id="scenarios">
<h2>Scenario results</h2>
{{ table(t.scenarios) }}
{% if t.clamps.frame|length %}{{ table(t.clamps) }}
{% else %}<h3>{{ t.clamps.title }}</h3>
<p class="note" data-table="clamps">{{ t.clamps.note }}</p>{% endif %}
{{ chart("scenario_comparison") }}
{{ table(t.factors) }}
</section>

<section id="simulated">
<h2>Simulated annual losses</h2>
<p class="lead">{{ simulated_lead }}</p>
{{ chart("exceedance") }}
{{ table(t.return_periods) }}
{{ chart("factor_tail") }}
{{ table(t.factor_tail) }}
{{ table(t.asset_tail) }}
</section>

<section id="heatmap">
<h2>Region group x factor</h2>
{{ chart("region_factor_heatmap") }}
{{ table(t.regions) }}
</section>

<section id="assets">
<h2>Top assets</h2>
{{ table(t.top_assets) }}
{% if t.assets.frame|length > t.top_assets.frame|length %}
<details><summary>Every asset ({{ t.assets.total_rows }})</summary>
{{ table(t.assets) }}
</details>
{% endif %}
</section>

<section id="plans">
<h2>Contingency plans</h2>
<p class="lead">{{ plans_lead }}</p>
{{ chart("trigger_matrix") }}
{{ table(t.plans) }}
</section>

<section id="readiness">
<h2>Readiness gaps</h2>
{% if t.readiness_gaps.frame|length %}{{ table(t.readiness_gaps) }}
{% else %}<p>Every triggered plan can be ready within the warning time.</p>{% endif %}
</section>

<section id="cost">
<h2>Cost and benefit</h2>
{{ chart("cost_benefit") }}
{% if t.plan_bcr.frame|length %}{{ table(t.plan_bcr) }}{% endif %}
{{ chart("waterfall") }}
{{ table(t.waterfall) }}
</section>

<section id="checklist">
<h2>Reviewer checklist</h2>
{{ table(t.checklist) }}
</section>

<section id="appendix">
<h2>Appendix: methodology and data sources</h2>
<h3>Provenance</h3>
<table class="provenance">
{% for label, value in p.rows() %}<tr><th>{{ label }}</th><td>{{ value }}</td></tr>{% endfor %}
</table>
<h3>Data sources of the baseline</h3>
<ul>{% for s in p.data_sources %}<li>{{ s }}</li>{% endfor %}</ul>
<h3>Public reference data</h3>
<ul>{% for s in p.attribution %}<li>{{ s }}</li>{% endfor %}</ul>
<h3>How the three actions are chosen</h3>
<ol>{% for rule in rules %}<li>{{ rule }}</li>{% endfor %}</ol>
<h3>Inputs</h3>
{{ table(t.inputs) }}
<div class="methodology">{{ methodology }}</div>
</section>
</main>
<footer>{{ b.confidentiality }} &middot; riskapp {{ p.riskapp_version }} &middot;
inputs sha256:{{ p.input_hash }} &middot; generated {{ generated_at }} UTC</footer>
</body>
</html>
"""

TABLE = """<h3>{{ t.title }}</h3>
<div class="scroll"><table class="data" data-table="{{ t.name }}">
<thead><tr>{% for c in t.columns %}<th{% if c.kind in numeric %} class="num"{% endif %}
{% if c.definition %} title="{{ c.definition }}"{% endif %}>{{ c.label }}</th>{% endfor %}</tr>
</thead>
<tbody>
{% for row in rows %}<tr>{% for cell in row %}<td{% if kinds[loop.index0] in numeric %}
 class="num"{% endif %}>{{ cell }}</td>{% endfor %}</tr>
{% endfor %}</tbody></table></div>
{% if t.note %}<p class="note">{{ t.note }}</p>{% endif %}
"""

CHART = """<figure class="chart" data-chart="{{ f.name }}">
<h3>{{ f.title }}</h3>
{{ div }}
<figcaption class="caption">{{ f.caption }}</figcaption>
</figure>
"""

SECTIONS = [
    ("summary", "Summary"),
    ("portfolio", "Portfolio"),
    ("scenarios", "Scenarios"),
    ("simulated", "Simulated years"),
    ("heatmap", "Regions x factors"),
    ("assets", "Top assets"),
    ("plans", "Plans"),
    ("readiness", "Readiness"),
    ("cost", "Cost and benefit"),
    ("checklist", "Checklist"),
    ("appendix", "Appendix"),
]


@cache
def _env() -> Environment:
    return Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)


@cache
def _topojson() -> str:
    """The world outlines as compact JSON, safe inside a <script> element."""
    data = json.loads((STATIC / f"{TOPOJSON_NAME}.json").read_text(encoding="utf-8"))
    return json.dumps(data, separators=(",", ":")).replace("</", "<\\/")


def _plotlyjs() -> str:
    from plotly.offline import get_plotlyjs

    return str(get_plotlyjs())


def chart_div(f: ReportFigure) -> str:
    """The plotly div of one chart; plotly.js itself is in the page head."""
    import plotly.io as pio

    config = {**f.config, **PLOTLY_CONFIG}
    return str(
        pio.to_html(
            f.figure,
            full_html=False,
            include_plotlyjs=False,
            include_mathjax=False,
            config=config,
            div_id=f"chart-{f.name}",
            default_width="100%",
            default_height=f"{f.height}px",
        )
    )


def render_html(report: Report, max_rows: int | None = None) -> str:
    """The whole HTML document as text."""
    from markupsafe import Markup

    from riskapp.assessment.actions import ACTION_RULE

    env = _env()
    table_t = env.from_string(TABLE)
    chart_t = env.from_string(CHART)
    limit = max_rows or report.options.max_table_rows
    fmt = report.fmt

    def table(t: Table) -> Markup:
        shown = t.limited(limit)
        return Markup(
            table_t.render(
                t=shown,
                rows=shown.formatted(fmt),
                kinds=[c.kind for c in shown.columns],
                numeric=NUMERIC_KINDS,
            )
        )

    def chart(name: str) -> Markup:
        f = report.figures.get(name)
        if f is None:
            return Markup("")
        return Markup(chart_t.render(f=f, div=Markup(chart_div(f))))

    md = markdown_parser()
    tokens = md.parse(report.methodology)
    for token in tokens:  # its headings sit below the page's "Appendix" heading (h2)
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(6, int(token.tag[1]) + 2)}"
    return env.from_string(TEMPLATE).render(
        r=report,
        b=report.branding,
        p=report.provenance,
        t=report.tables,
        client=report.client or report.workspace_name,
        lang=report.branding.locale,
        accent=report.branding.accent_colour,  # validated #RRGGBB
        logo=logo_data_uri(report.branding.logo),
        plotlyjs=Markup(_plotlyjs()),
        topojson=Markup(_topojson()),
        topojson_name=TOPOJSON_NAME,
        sections=SECTIONS,
        rules=ACTION_RULE,
        plans_lead=plans_flag_sentence(report),
        simulated_lead=simulated_lead(report),
        methodology=Markup(md.renderer.render(tokens, md.options, {})),
        generated_at=report.provenance.generated_at.strftime("%Y-%m-%d %H:%M:%S"),
        table=table,
        chart=chart,
    )


def render(report: Report, path: Path) -> None:
    """Registry entry point: the HTML report of `report` at `path`."""
    path.write_text(render_html(report), encoding="utf-8")
