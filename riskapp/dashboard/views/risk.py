"""Risk distribution: the Monte Carlo of the workspace - how bad a bad year gets, what drives
the tail, which inputs move the loss, and how losses travel along dependencies."""

from __future__ import annotations

import streamlit as st

from riskapp.assessment import risk as risk_view
from riskapp.assessment.core import Assessment
from riskapp.assessment.headline import portfolio_row
from riskapp.assessment.risk import RiskRun
from riskapp.charts.common import PLOTLY_CONFIG
from riskapp.charts.risk import (
    asset_tail_chart,
    cascade_chart,
    exceedance_chart,
    factor_tail_chart,
    graph_chart,
    histogram_chart,
    sobol_chart,
    tornado_chart,
)
from riskapp.dashboard import state
from riskapp.dashboard.cards import figure_cards
from riskapp.dashboard.format import plain
from riskapp.domain import LossBasis
from riskapp.io.dependencies import dependency_file

# every cache keys on the source's revision (files and team database) and the loss basis: a
# register or plan edit changes every figure of the page


@st.cache_resource(show_spinner="Simulating years...", max_entries=8)
def simulate(revision: str, basis: str, trials: int, seed: int, _a: Assessment) -> RiskRun:
    del revision, basis  # part of the cache key only (the assessment carries both)
    s = _a.ws.settings
    if (trials, seed) == (s.simulation_years, s.simulation_seed):
        return _a.simulation  # the headline run: the Overview's figures, computed once
    return risk_view.simulate(_a, trials, seed)


a = state.assessment()
fmt = a.fmt
cur = fmt.currency
path = state.workspace_path()
basis = a.result.basis
basis_text = "above today's baseline" if basis is LossBasis.INCREMENTAL else "at scenario intensity"

st.title("Risk distribution")
st.caption(
    "Thousands of simulated years: which scenarios occur (their annual probabilities and "
    "escalation ladders), how strong each shock is (its range) and how losses travel along "
    f"dependencies. How bad a bad year gets, what drives it, and which inputs move it. Money in "
    f"{cur}; losses are {basis_text} (change in the sidebar)."
)

if not a.ws.scenarios:
    st.info(
        "This workspace has no scenarios, so there is nothing to simulate. Add one YAML file "
        "per scenario to its scenarios folder, then reload the page."
    )
    st.stop()

left, right, note = st.columns([1, 1, 3], vertical_alignment="bottom")
trials = int(
    left.number_input(
        "Simulated years",
        min_value=risk_view.MIN_TRIALS,
        max_value=risk_view.MAX_TRIALS,
        value=a.ws.settings.simulation_years,
        step=1_000,
        key="risk_trials",
        help="More years give steadier figures (the standard error of the mean shrinks as "
        "one over the square root of the years) and take longer. The default is the "
        "workspace's headline run (simulation_years in workspace.yaml), whose figures the "
        "Overview and every report show.",
    )
)
seed = int(
    right.number_input(
        "Seed",
        min_value=0,
        max_value=2**31 - 1,
        value=a.ws.settings.simulation_seed,
        step=1,
        key="risk_seed",
        help="The same seed gives the same figures, here and with `riskapp simulate --seed`.",
    )
)
result = simulate(a.revision, basis.value, trials, seed, a)
r = result.result
if result.links:
    note.caption(
        f"{len(result.links)} dependency links from {dependency_file(path).name}: "
        "losses cascade to the assets that depend on damaged ones."
    )
else:
    note.caption(
        "No dependency shares: add dependencies.csv (asset_id, depends_on, share, "
        "redundancy_group) next to workspace.yaml to let losses cascade."
    )
if result.link_problems:
    st.warning(
        f"{dependency_file(path).name} has {len(result.link_problems)} problem(s), "
        "so the simulation runs without cascades. `riskapp validate` lists the same problems."
    )
    st.code("\n".join(result.link_problems), language=None)


st.markdown(f"**Annual loss over {r.trials:,} simulated years** (seed {seed})")
figure_cards(risk_view.headline(result, fmt))
row = portfolio_row(r)
notes = []
if row["mean"] > 0 and row["se_mean"] / row["mean"] > 0.05:
    notes.append(
        f"The standard error is {fmt.percent(row['se_mean'] / row['mean'])} of the mean: simulate "
        "more years for steadier figures."
    )
if r.overflow_trials():
    notes.append(
        f"In {r.overflow_trials():,} simulated years several severe scenarios hit the same asset "
        "and its losses add up to more than its value."
    )
if notes:
    st.caption(" ".join(notes))

# -- the distribution ---------------------------------------------------------------------------
st.subheader("How the annual loss is spread")
hist_col, curve_col = st.columns(2)
h = risk_view.histogram(r.loss)
markers = {"VaR 95 %": row["var_95"], "VaR 99 %": row["var_99"], "ES 99 %": row["es_99"]}
hist_col.plotly_chart(histogram_chart(h, markers, fmt), config=PLOTLY_CONFIG, key="risk_histogram")
hist_col.caption(
    f"{h.zero_years:,} of the {h.trials:,} years ({h.zero_years / h.trials:.0%}) have no loss "
    "and are not drawn. The count axis is logarithmic, so the rare severe years stay visible."
)
residual = risk_view.exceedance(result, residual=True) if r.model.plans is not None else None
curve_col.plotly_chart(
    exceedance_chart(risk_view.exceedance(result), residual, fmt),
    config=PLOTLY_CONFIG,
    key="risk_exceedance",
)
curve_col.caption(
    "The loss reached or exceeded once in so many years on average, with a 90 % band for "
    "the uncertainty of reading it from this many years"
    + ("; dashed: with every effective contingency plan applied." if residual is not None else ".")
)
with_plans = risk_view.residual_figures(result, fmt)
if with_plans:
    st.markdown("**With every effective contingency plan applied**")
    figure_cards(with_plans)

# -- the tail -------------------------------------------------------------------------------------
st.subheader("What drives the worst years")
st.caption(
    f"Parts of the expected shortfall at 99 % ({fmt.money(row['es_99'])}, the average of the "
    "worst 1 % of years): each part is the average loss it causes in those years, so the "
    "parts add up to the whole."
)
factor_col, asset_col = st.columns(2)
factor_col.plotly_chart(
    factor_tail_chart(risk_view.factor_tail(result, a), fmt, a.ws.factors),
    config=PLOTLY_CONFIG,
    key="risk_tail_factors",
)
asset_col.plotly_chart(
    asset_tail_chart(risk_view.asset_tail(result, a), fmt),
    config=PLOTLY_CONFIG,
    key="risk_tail_assets",
)


# -- sensitivity ----------------------------------------------------------------------------------
@st.fragment
def tornado_section(a: Assessment, result: RiskRun, trials: int, seed: int) -> None:
    """Reruns on its own when the measure changes (the tornado itself is cached)."""
    st.subheader("Which inputs move the loss")
    st.caption(
        "One input at a time moved across its range, every other input at its value: each "
        "scenario's annual probability x0.5 to x1.5, each factor's intensity -1 to +1 point "
        "everywhere (today's baseline included), each shock across its uncertainty range. The "
        "expected annual loss is exact; the VaR is read from the same simulated years with the "
        "input moved, so the difference is the input's effect, not chance."
    )
    t = risk_view.cached_tornado(a, trials, seed)
    if t is None:  # on request: the page's first content never waits for it
        if not st.button(
            "Move each input across its range",
            key="risk_tornado_run",
            help="Computed once for this source, loss basis, number of years and seed; "
            "kept while they stay the same.",
        ):
            return
        bar = st.progress(0.0, text="Moving each input across its range...")

        def step(done: int, total: int) -> None:
            bar.progress(done / total, text="Moving each input across its range...")

        t = risk_view.sensitivity_tornado(a, result, seed, progress=step)
        bar.empty()
    measure = st.radio(
        "Swing in",
        ["eal", "var"],
        format_func={"eal": "Expected annual loss", "var": "VaR 99 %"}.__getitem__,
        horizontal=True,
        key="risk_tornado_measure",
    )
    rows = risk_view.tornado_rows(t.table, measure)
    centre = t.eal if measure == "eal" else t.var
    if rows.empty:
        st.info("No input moves this figure.")
        return
    st.plotly_chart(
        tornado_chart(rows, centre, measure, fmt), config=PLOTLY_CONFIG, key="risk_tornado"
    )
    quiet = len(t.table) - len(risk_view.tornado_rows(t.table, measure, n=len(t.table)))
    shown = f"The {len(rows)} inputs with the largest swing of {len(t.table)}"
    what = (
        "the expected annual loss at the shocks' values, cascades included (the simulated mean "
        "differs as it draws the shocks from their ranges)"
        if measure == "eal"
        else f"the VaR 99 % of these {trials:,} years"
    )
    st.caption(
        f"{shown}; the line is the figure with every input at its value: {what}, "
        f"{fmt.money(centre)}." + (f" {quiet} inputs change nothing." if quiet else "")
    )


@st.fragment
def sobol_section(a: Assessment, result: RiskRun, seed: int) -> None:
    st.subheader("Where the uncertainty of the expected loss comes from")
    samples = st.columns([2, 3])[0].select_slider(
        "Sample size (base points)",
        options=list(risk_view.SOBOL_SAMPLE_CHOICES),
        value=256,
        key="risk_sobol_samples",
        help="N base points give N x (inputs + 2) evaluations; more points narrow the "
        "confidence intervals.",
    )
    s = risk_view.cached_sobol(a, int(samples), seed)
    if s is None:  # on request, as the tornado
        if not st.button(
            "Compute the Sobol indices",
            key="risk_sobol_run",
            help="Computed once for this source, loss basis and sample size; they do not "
            "depend on the simulated years.",
        ):
            return
        with st.spinner("Computing Sobol indices..."):
            s = risk_view.sensitivity_sobol(a, result, int(samples), seed)
    rows = risk_view.sobol_rows(s.table)
    st.plotly_chart(sobol_chart(rows), config=PLOTLY_CONFIG, key="risk_sobol")
    small = len(s.table) - len(rows)
    st.caption(
        "Sobol indices (computed by SALib): every factor's intensity shift (-1 to +1 point) and "
        "every scenario's frequency multiplier (x0.5 to x1.5) uncertain at once. Alone: the "
        "share of the variance of the expected annual loss an input explains by itself; with "
        "interactions: including its joint effects with the others. Bars show "
        f"{s.conf_level:.0%} confidence intervals; {s.evaluations:,} evaluations. Over these "
        f"ranges the expected annual loss averages {fmt.money(s.mean)} with a standard "
        f"deviation of {fmt.money(s.sd)}."
        + (f" {small} inputs with indices below 0.5 % are left out." if small else "")
    )


tornado_section(a, result, trials, seed)
sobol_section(a, result, seed)

# -- dependencies ---------------------------------------------------------------------------------
st.subheader("How losses travel along dependencies")
chosen = risk_view.dependents(result.links, a)
if not chosen:
    st.info(
        "No asset has a dependency share. Add dependencies.csv next to workspace.yaml "
        "(asset_id, depends_on, share, redundancy_group) to see how a damaged port, cable or "
        "supplier passes its loss on."
    )
    st.stop()
names = dict(zip(a.ws.portfolio.series("id"), a.ws.portfolio.series("name"), strict=True))
per_asset = r.asset_contributions()
means = dict(zip(per_asset["key"], per_asset["mean"].astype(float), strict=True))
cascade_means = dict(zip(per_asset["key"], per_asset["cascade_mean"].astype(float), strict=True))
default = max(chosen, key=cascade_means.__getitem__)
asset_id = st.selectbox(
    "Asset",
    chosen,
    index=chosen.index(default),
    format_func=lambda aid: f"{aid} - {names[aid]}",
    key="risk_cascade_asset",
    help="Assets with at least one dependency share; the one with the largest mean cascade "
    "loss comes first.",
)
mean, cascade_mean = means[asset_id], cascade_means[asset_id]
st.caption(
    plain(f"{asset_id} ({names[asset_id]})")
    + f": mean annual loss {fmt.money(mean)}, of which {fmt.money(cascade_mean)} "
    f"({cascade_mean / mean if mean > 0 else 0.0:.0%}) arrives through its dependencies."
)
graph_col, share_col = st.columns(2)
graph_col.plotly_chart(
    graph_chart(risk_view.dependency_graph(result.links, a, asset_id)),
    config=PLOTLY_CONFIG,
    key="risk_graph",
)
graph_col.caption(
    "Left: what it depends on (and what those depend on); right: what depends on it. Labels: "
    "the share of the dependent's value riding on the link; dashed links back each other up "
    "(the share is lost only as far as all of them fail)."
)
by_scenario = risk_view.cascade_by_scenario(result.links, a, asset_id, result)
if by_scenario.empty:
    share_col.info("This asset loses nothing in any scenario.")
else:
    share_col.plotly_chart(
        cascade_chart(by_scenario, fmt), config=PLOTLY_CONFIG, key="risk_cascade"
    )
    share_col.caption(
        "Its loss in each scenario (at the shocks' values), split into its own damage and "
        "what arrives through its dependencies; labels: the dependencies' share of the loss."
    )
