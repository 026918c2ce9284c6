"""Reports: choose the scope and branding, preview the executive summary, download each format.

The page only collects choices and draws; the report is built by riskapp.reporting (the same
model and renderers as `riskapp report`), and each file is built when its button is clicked.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import streamlit as st

from riskapp.assessment.actions import ACTION_RULE
from riskapp.dashboard import state, store_view, workspaces
from riskapp.dashboard.cards import headline_cards
from riskapp.dashboard.format import plain
from riskapp.reporting import registry
from riskapp.reporting.branding import branding_from, save_logo
from riskapp.reporting.model import build_report
from riskapp.reporting.options import Branding, ReportOptions

LOCALES = {"en": "English (1,234.5; EUR 12.3m)", "de": "German (1.234,5; 12,3 Mio. EUR)"}


def _bytes_of(build: functools.partial[registry.Download]) -> Callable[[], bytes]:
    return lambda: build().data


a = state.assessment()
st.title("Reports")
st.caption(
    f"{plain(a.ws.settings.name)} — a consultant report of this assessment as PDF, PowerPoint, "
    "Excel or a self-contained HTML page, the same as `riskapp report` writes. Losses are "
    f"{a.result.basis.value} (change in the sidebar)."
)

titles = {s.id: s.title for s in a.ws.scenarios}
with st.container(border=True):
    st.subheader("Scope")
    chosen = st.multiselect(
        "Scenarios",
        options=list(titles),
        default=list(titles),
        format_func=lambda sid: titles[sid],
        key="rep_scenarios",
        help="Expected annual loss and return-period losses cover the chosen scenarios only.",
    )
    top_n = st.number_input(
        "Assets in the top-assets table", min_value=1, max_value=100, value=10, key="rep_top"
    )

# the workspace's report branding defaults (`riskapp workspaces branding`) over the product's;
# the fields are keyed by workspace, so switching workspace starts from the other's defaults
preset = store_view.branding_defaults()
default = Branding.model_validate({**Branding().model_dump(), **preset})
ws_key = workspaces.chosen()[0]
with st.container(border=True):
    st.subheader("Branding")
    left, right = st.columns(2)
    client = left.text_input(
        "Client",
        value=preset.get("client") or a.ws.settings.client,
        max_chars=200,
        key=f"rep_client_{ws_key}",
    )
    author = left.text_input(
        "Author", value=default.author, max_chars=200, key=f"rep_author_{ws_key}"
    )
    title = left.text_input(
        "Report title", value=default.title, max_chars=200, key=f"rep_title_{ws_key}"
    )
    confidentiality = right.text_input(
        "Confidentiality label",
        value=default.confidentiality,
        max_chars=100,
        key=f"rep_conf_{ws_key}",
    )
    accent = right.color_picker(
        "Accent colour", value=default.accent_colour, key=f"rep_accent_{ws_key}"
    )
    locale = right.selectbox(
        "Number format",
        list(LOCALES),
        format_func=LOCALES.__getitem__,
        key="rep_locale",
    )
    logo_file = st.file_uploader("Logo", type=["png", "jpg", "jpeg", "svg"], key="rep_logo")

if not chosen:
    st.info("Choose at least one scenario to build a report.")
    st.stop()

try:
    logo = save_logo(logo_file.getvalue(), logo_file.name) if logo_file is not None else None
    branding = branding_from(
        None,
        client=client,
        author=author,
        title=title,
        confidentiality=confidentiality,
        accent_colour=accent,
        locale=locale,
        logo=logo,
    )
except ValueError as exc:
    st.error(str(exc))
    st.stop()
    raise  # unreachable: st.stop() ends the script run

options = ReportOptions(scenarios=chosen, top_n=int(top_n))
preview = build_report(a, options.model_copy(update={"include_figures": False}), branding)

st.subheader("Executive summary")
st.caption(f"{plain(preview.client or preview.workspace_name)} · {preview.generated_on}")
headline_cards(preview.key_figures, preview.headline)
st.markdown("**Three things to act on**")
for i, action in enumerate(preview.actions, 1):
    st.markdown(f"{i}\\. **{plain(action.title)}.** {plain(action.detail)}")
with st.expander("How the three actions are chosen"):
    st.markdown("\n".join(f"{i}. {plain(rule)}" for i, rule in enumerate(ACTION_RULE, 1)))

st.subheader("Download")
available = set(registry.available())
columns = st.columns(len(registry.FORMATS))
for col, (name, fmt) in zip(columns, registry.FORMATS.items(), strict=True):
    if name not in available:
        try:
            registry.renderer(name)
            reason = ""
        except registry.FormatUnavailable as exc:
            reason = str(exc)
        col.button(fmt.label, disabled=True, help=reason, key=f"rep_dl_{name}")
        continue
    build = functools.partial(registry.download, a, options, branding, name)
    col.download_button(
        fmt.label,
        data=_bytes_of(build),
        file_name=registry.file_name(preview, name),
        mime=fmt.media_type,
        on_click="ignore",
        key=f"rep_dl_{name}",
    )
st.caption(
    "Each file is built when you click its button (the PDF and the deck draw their charts in "
    "a headless browser, a few seconds). Every file carries the riskapp version, a hash of the "
    "workspace's input files, the date, the scenarios and plans included and the data sources."
)
