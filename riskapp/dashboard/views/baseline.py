"""Baseline data: factor intensities built from public data, how, and what they would change."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import streamlit as st

from riskapp.assessment.baseline import (
    AGGREGATION_TEXT,
    WEIGHT_MAX,
    breakdown_frame,
    comparison_frame,
    default_country,
    factor_description,
    factor_label,
    factor_map_frame,
    factor_tree,
    rebuild_factor,
    rescore_with_factor,
    short_name,
    top_level_weights,
    whatif_country_frame,
)
from riskapp.assessment.core import Assessment
from riskapp.assessment.freshness import VINTAGE_COLUMNS, vintage_frame
from riskapp.baseline import (
    DEFAULT_METHOD,
    BaselineResult,
    Method,
    compute,
    load_method,
    load_sources_for,
)
from riskapp.baseline.indicators import SourceData
from riskapp.baseline.method import Source
from riskapp.charts.baseline import breakdown_chart, intensity_map, tree_chart
from riskapp.charts.common import PLOTLY_CONFIG, factor_colours
from riskapp.dashboard import state, store_view
from riskapp.dashboard.format import money_table, plain
from riskapp.domain import LossBasis, country_name
from riskapp.io import InputError
from riskapp.resources import REFDATA

FALLBACK_COLOUR = "#0072B2"


@st.cache_resource(show_spinner="Building the baseline from the reference data...", max_entries=4)
def _build(
    method_path: str, mtime_ns: int, as_of: dt.date
) -> tuple[Method, dict[Source, SourceData], BaselineResult]:
    """The method, its loaded sources and the default build (about 1 s; cached per method
    file version and as-of date)."""
    del mtime_ns  # part of the cache key only
    method = load_method(Path(method_path))
    sources = load_sources_for(method)
    return method, sources, compute(method, sources, as_of)


@st.cache_data(show_spinner=False, max_entries=64)
def _rebuilt(
    method_path: str,
    mtime_ns: int,
    as_of: dt.date,
    factor: str,
    weights: tuple[tuple[str, float], ...],
) -> dict[str, float]:
    """The factor's scores by country with the given top-level weights (about 0.1 s)."""
    method, sources, result = _build(method_path, mtime_ns, as_of)
    if not weights:  # the method file's weights: the build holds the factor's scores already
        scores = result.factor_scores()[factor]
    else:
        scores = rebuild_factor(method, sources, as_of, factor, dict(weights), result.countries)
    return {str(c): float(v) for c, v in scores.items()}


a = state.assessment()
ws = a.ws
st.title("Baseline data")
st.caption(
    "Baseline factor intensities (0-10, 10 worst) built from public data and stated expert "
    "tables by a documented method: how each factor is built, what it gives by country, how "
    f"it differs from this workspace's own baseline and what its weights do to expected loss "
    f"(money in {a.currency})."
)

method_path = DEFAULT_METHOD
try:
    mtime_ns = method_path.stat().st_mtime_ns
except OSError:
    st.error(
        f"The baseline method file {method_path} is missing. Restore it (it ships with "
        "riskapp) and reload the page."
    )
    st.stop()

top = st.columns([3, 1])
picked = top[1].date_input(
    "Data as of",
    value=dt.date.today(),
    min_value=dt.date(1990, 1, 1),
    max_value=dt.date.today(),
    key="bl_as_of",
    help="Only data published for periods that had ended by this date are used.",
)
as_of = picked if isinstance(picked, dt.date) else dt.date.today()
try:
    method, sources, result = _build(str(method_path), mtime_ns, as_of)
except InputError as exc:
    st.error(
        f"The baseline method file has {len(exc.problems)} problem(s). Fix them and reload the "
        "page; `riskapp baseline build` on the command line lists the same problems."
    )
    st.code("\n".join(str(p) for p in exc.problems), language=None)
    st.stop()
except (OSError, ValueError) as exc:
    st.error(
        f"The baseline could not be built from the reference data in {REFDATA}: "
        f"{plain(str(exc))}. Check that the data files are complete (see SOURCES.md there) "
        "and reload the page."
    )
    st.stop()

ws_names = {f.id: f.name for f in ws.factors.factors}
colours = factor_colours(ws.factors)
factor_ids = method.factor_ids
factor = top[0].selectbox(
    "Factor",
    factor_ids,
    format_func=lambda f: factor_label(method, f, ws_names),
    key="bl_factor",
    help="The factors the method file builds (methods/default.yaml).",
)
name = factor_label(method, factor, ws_names)
colour = colours.get(factor, FALLBACK_COLOUR)
st.caption(
    plain(f"{method.title} ({method.label}), as of {result.as_of.isoformat()}: ")
    + f"{len(result.countries)} countries. This page only shows the built values; the "
    "workspace keeps using its own baseline.csv until you replace it (`riskapp baseline "
    "build --out baseline.csv`)."
)

# -- the tree --------------------------------------------------------------------------------
st.subheader("How the factor is built")
tree = factor_tree(method, factor)
left, right = st.columns([3, 2])
with left:
    st.plotly_chart(
        tree_chart(tree, colour, name), config=PLOTLY_CONFIG, key="bl_tree", width="stretch"
    )
with right:
    st.markdown(plain(factor_description(method, factor)) or "No description in the method file.")
    expert = tree[(tree["kind"] == "indicator") & (tree["source"] == "expert table")]
    if len(expert):
        st.info(
            "Expert judgement, not data: "
            + "; ".join(plain(n) for n in expert["name"])
            + ". These tables live in the method file with a reliability below 1; edit them "
            "there.",
            icon=":material/person_search:",
        )
    st.caption(
        "Box size: the nominal share of each part in the factor score (weights normalised "
        "within each node). Where a node takes a maximum or the first part with data, one part "
        "sets the value for a given country: see the breakdown below. Hover for weights, "
        "aggregation and descriptions."
    )

# -- the map ---------------------------------------------------------------------------------
st.subheader(f"{plain(name)} by country")
built = factor_map_frame(result, factor)
if built.empty:
    st.info(
        "No country has a built value for this factor as of this date: the data it needs end "
        "before the window or are missing. Pick a later date or another factor."
    )
else:
    st.plotly_chart(intensity_map(built, name), config=PLOTLY_CONFIG, key="bl_map", width="stretch")
    imputed = int(built["imputed"].sum())
    st.caption(
        f"Built baseline intensity (0-10, 10 worst) of {len(built)} countries; grey: no value. "
        + (f"{imputed} countries have" if imputed != 1 else "1 country has")
        + " an imputed part (a group mean where data are missing): "
        "hover a country for its reliability (0-1, 1 = all from observed data) and what was "
        "imputed."
    )

# -- one country -----------------------------------------------------------------------------
st.subheader("One country, from indicators to score")
options = sorted(result.countries, key=country_name)
start = default_country(a, options)
if st.session_state.get("bl_country") not in options:
    st.session_state["bl_country"] = start
country = st.selectbox(
    "Country",
    options,
    format_func=lambda c: f"{country_name(c)} ({c})",
    key="bl_country",
    help="Starts at the workspace country with the most exposed value.",
)
if country is None:
    st.info(f"The build has no countries: check the reference data in {REFDATA}.")
else:
    rows = breakdown_frame(result, country, factor)
    st.plotly_chart(
        breakdown_chart(rows, colour), config=PLOTLY_CONFIG, key="bl_breakdown", width="stretch"
    )
    st.caption(
        "Bars: score (0-10, 10 worst) of the factor, its components and, indented, the "
        "indicators they aggregate; r = reliability (0-1). Grey: a part that does not enter "
        "this country's score (no data, or not the one a maximum picked)."
    )
    st.dataframe(
        rows.assign(
            node=["\u2003" * int(d) + n for d, n in zip(rows["depth"], rows["label"], strict=True)]
        ),
        column_order=[
            "node",
            "score",
            "reliability",
            "raw_text",
            "period",
            "source",
            "series",
            "weight",
            "effective_share",
            "aggregation",
            "status",
            "note",
            "name",
        ],
        hide_index=True,
        column_config={
            "node": st.column_config.TextColumn("Node", width="large"),
            "name": st.column_config.TextColumn("Full name", width="large"),
            "aggregation": "Aggregation",
            "weight": st.column_config.NumberColumn("Weight", format="%.2f"),
            "effective_share": st.column_config.NumberColumn(
                "Share of score", format="percent", help="Share after re-weighting; 0 = unused."
            ),
            "source": "Source",
            "series": "Series",
            "period": "Period",
            "raw_text": st.column_config.TextColumn(
                "Raw value", help="After the window and adjustments, in the source's units."
            ),
            "score": st.column_config.NumberColumn("Score (0-10)", format="%.2f"),
            "reliability": st.column_config.NumberColumn("Reliability (0-1)", format="%.2f"),
            "status": "Status",
            "note": "Note",
        },
        key="bl_breakdown_table",
    )

# -- built vs workspace ----------------------------------------------------------------------
st.subheader("Built vs this workspace's baseline")
table = comparison_frame(a, result, factor)
if table.empty:
    st.info(
        f"This workspace has no baseline for {plain(name)} (its factors: "
        + (", ".join(plain(n) for n in ws_names.values()) or "none")
        + "). To compare, add the factor to factors.yaml and rows for it to baseline.csv, "
        "e.g. from `riskapp baseline build --out baseline.csv`."
    )
else:
    held = table[table["exposed_value"] > 0]
    if len(held):
        gap = (held["difference"].abs() * held["exposed_value"]).sum() / held["exposed_value"].sum()
        st.caption(
            f"{plain(name)} (0-10): the workspace's analyst-set baseline (baseline.csv) next "
            f"to the built value for its {len(table)} countries, largest exposed value first. "
            f"Where the assets are, the two differ by {gap:.1f} points on average (weighted by "
            "exposed value)."
        )
    st.dataframe(
        money_table(table, a.fmt, ["exposed_value"]),
        column_order=[
            "country_name",
            "exposed_value",
            "workspace",
            "built",
            "difference",
            "reliability",
            "status",
        ],
        hide_index=True,
        column_config={
            "country_name": "Country",
            "exposed_value": st.column_config.Column("Exposed value"),
            "workspace": st.column_config.NumberColumn("Workspace (0-10)", format="%.1f"),
            "built": st.column_config.NumberColumn("Built (0-10)", format="%.1f"),
            "difference": st.column_config.NumberColumn(
                "Built - workspace", format="%+.1f", help="Intensity points; positive = worse."
            ),
            "reliability": st.column_config.NumberColumn(
                "Reliability of built (0-1)", format="%.2f"
            ),
            "status": "Built status",
        },
        key="bl_compare_table",
    )


# -- how old the data is --------------------------------------------------------------------
st.subheader("How old the data is")
max_age = store_view.settings().max_data_age_months
ages = vintage_frame(a, result.baseline(), dt.date.today(), result.as_of, max_age)
st.caption(
    "Vintage: the newest period of data behind each value (a range when the countries holding "
    "assets differ). The workspace's baseline is measured against today, the built one against "
    f"its as-of date; older than {max_age} months (RISKAPP_MAX_DATA_AGE_MONTHS) is flagged."
)
for row in ages[ages["workspace_warning"] != ""].itertuples(index=False):
    st.warning(plain(f"{row.name}, this workspace's baseline: {row.workspace_warning}."))
st.dataframe(
    ages,
    column_order=VINTAGE_COLUMNS[1:],
    hide_index=True,
    column_config={
        "name": "Factor",
        "workspace_vintage": "Workspace baseline: vintage",
        "workspace_warning": st.column_config.TextColumn("Workspace: warning", width="large"),
        "built_vintage": "Built baseline: vintage",
        "built_warning": st.column_config.TextColumn("Built: warning", width="large"),
    },
    key="bl_vintage_table",
)


# -- what-if on the weights ------------------------------------------------------------------
def _reset(paths: list[str], weights: list[float]) -> None:
    for p, w in zip(paths, weights, strict=True):
        st.session_state[f"bl_w_{p}"] = w


@st.fragment
def weights_section(
    a: Assessment, method: Method, as_of: dt.date, mtime_ns: int, factor: str, name: str
) -> None:
    """Reruns on its own when a weight changes: the factor is rebuilt and the portfolio
    rescored (about 0.1 s)."""
    st.subheader("What if the weights were different")
    choices = top_level_weights(method, factor)
    st.caption(
        plain(
            f"Change the weights of the parts of {name}; the factor is rebuilt for every "
            "country and the portfolio rescored with it. Every other factor keeps the "
            "workspace's baseline, so the change is the effect of this factor alone."
        )
    )
    paths = [c.path for c in choices]
    head, button = st.columns([4, 1], vertical_alignment="bottom")
    aggregation = str(factor_tree(method, factor).iloc[0]["aggregation"])
    head.markdown(
        plain(f"{name} combines these parts by {AGGREGATION_TEXT.get(aggregation, aggregation)}")
        + (plain(f". {choices[0].meaning}.") if choices else ".")
    )
    button.button(
        "Reset weights",
        on_click=_reset,
        args=(paths, [c.weight for c in choices]),
        key="bl_w_reset",
        help="Back to the method file's weights.",
        width="stretch",
    )
    weights: dict[str, float] = {}
    cols = st.columns(min(4, max(1, len(choices))), vertical_alignment="bottom")
    for i, c in enumerate(choices):
        key = f"bl_w_{c.path}"
        st.session_state.setdefault(key, float(c.weight))
        weights[c.path] = cols[i % len(cols)].number_input(
            plain(short_name(c.name)),
            min_value=0.0,
            max_value=max(WEIGHT_MAX, float(c.weight)),
            step=0.05,
            format="%.2f",
            key=key,
            help=plain(f"{c.name}. Method file: {c.weight:g}."),
        )
    if factor not in a.inputs.factor_ids:
        st.info(
            f"This workspace has no factor {plain(name)}, so no asset feels it and there is "
            "nothing to rescore. Add the factor to factors.yaml, with curves and baseline rows, "
            "to see its effect on expected loss."
        )
        return
    if not any(w > 0 for w in weights.values()):
        st.warning("At least one weight must be above 0: raise one to rebuild the factor.")
        return
    changed = any(abs(weights[c.path] - c.weight) > 1e-12 for c in choices)
    default_scores = _rebuilt(str(method_path), mtime_ns, as_of, factor, ())
    new_scores = (
        _rebuilt(str(method_path), mtime_ns, as_of, factor, tuple(sorted(weights.items())))
        if changed
        else default_scores
    )
    default = rescore_with_factor(a, factor, default_scores)
    adjusted = rescore_with_factor(a, factor, new_scores)
    current = a.result.expected_annual_loss()

    m = st.columns(3)
    m[0].metric(
        "Expected annual loss, workspace baseline",
        a.fmt.money(current),
        help="The portfolio's expected annual loss with the workspace's own baseline.csv: the "
        "figure on the other pages.",
        delta="reference: the other pages",
        delta_color="off",
        delta_arrow="off",
        border=True,
    )
    versus_workspace = default.expected_annual_loss - current
    versus_default = adjusted.expected_annual_loss - default.expected_annual_loss
    m[1].metric(
        "Expected annual loss, built baseline",
        a.fmt.money(default.expected_annual_loss),
        delta=a.fmt.money_change(versus_workspace),
        delta_color="inverse" if abs(versus_workspace) >= 0.5 else "off",
        delta_arrow="auto" if abs(versus_workspace) >= 0.5 else "off",
        help=plain(
            f"With {name} taken from the built baseline (the method file's weights); change "
            "against the workspace baseline."
        ),
        border=True,
    )
    m[2].metric(
        "Expected annual loss, adjusted weights",
        a.fmt.money(adjusted.expected_annual_loss),
        delta=a.fmt.money_change(versus_default),
        delta_color="inverse" if abs(versus_default) >= 0.5 else "off",
        delta_arrow="auto" if abs(versus_default) >= 0.5 else "off",
        help=plain(
            f"With {name} rebuilt with the weights above; change against the method file's weights."
        ),
        border=True,
    )
    notes = []
    if not changed:
        notes.append("Change a weight to see its effect.")
    elif abs(versus_default) < 0.5:
        notes.append(
            "These weights change no loss: where the assets are, the parts you changed do not "
            "set the factor's value (see the table below)."
        )
    if a.result.basis is LossBasis.INCREMENTAL:
        notes.append(
            "Losses are incremental (sidebar): counted above the baseline in use, so a higher "
            "baseline raises both the scenario losses and the level they are counted from."
        )
    if adjusted.kept_with_assets:
        notes.append(
            "No built value for "
            + ", ".join(country_name(c) for c in adjusted.kept_with_assets)
            + ": the workspace value is kept there."
        )
    if notes:
        st.caption(plain(" ".join(notes)))
    with st.expander(f"{plain(name)} by country holding assets"):
        frame = whatif_country_frame(a, factor, default, adjusted)
        st.dataframe(
            money_table(frame, a.fmt, ["exposed_value"]),
            column_order=[
                "country_name",
                "exposed_value",
                "workspace",
                "built",
                "adjusted",
                "change",
            ],
            hide_index=True,
            column_config={
                "country_name": "Country",
                "exposed_value": st.column_config.Column("Exposed value"),
                "workspace": st.column_config.NumberColumn("Workspace (0-10)", format="%.2f"),
                "built": st.column_config.NumberColumn("Built (0-10)", format="%.2f"),
                "adjusted": st.column_config.NumberColumn("Adjusted weights (0-10)", format="%.2f"),
                "change": st.column_config.NumberColumn("Change", format="%+.2f"),
            },
            key="bl_whatif_table",
        )


weights_section(a, method, as_of, mtime_ns, factor, name)

if result.warnings or result.citations:
    with st.expander("Data notes and sources"):
        for text in result.warnings:
            st.markdown("- " + plain(text))
        for source, citation in result.citations.items():
            st.markdown(f"- **{plain(source)}**: {plain(citation)}")
