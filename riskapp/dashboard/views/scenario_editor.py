"""Scenario editor: analysts and admins create, duplicate, change, retire and restore scenarios
in the product; a scenario stays a YAML file in the workspace (versionable), a retired one a
file in the scenario folder's `retired` folder. The store checks the role, validates the
change against the whole workspace, refuses to overwrite a file changed since it was opened,
writes atomically and records the change in the audit trail
(riskapp.store.scenarios, riskapp.store.scenario_authoring)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from riskapp.assessment import register as rv
from riskapp.assessment.zones import target_labels
from riskapp.charts.common import PLOTLY_CONFIG
from riskapp.charts.picker import target_map
from riskapp.dashboard import scenario_forms as sf
from riskapp.dashboard import store_view as sv
from riskapp.domain.common import country_name, iso_alpha3_codes
from riskapp.domain.scenarios import ShockOperation
from riskapp.io import InputError
from riskapp.store import Permission
from riskapp.store.scenario_authoring import (
    create_scenario,
    duplicate_scenario,
    list_scenarios,
    restore_scenario,
    retire_scenario,
)
from riskapp.store.scenarios import read_scenario_file
from riskapp.store.workspace import load_files

RETIRED_PREFIX = "retired/"

actor = sv.login_gate(sidebar=False)  # app.py shows who is signed in
store = sv.get_store()
can_edit = store.check(actor, Permission.EDIT)

st.title("Edit a scenario")
st.caption(
    "Scenarios stay YAML files in the workspace (comments in a file are not kept when it is "
    f"saved from here). Every change is checked and recorded in the audit trail. You: "
    f"{rv.actor_label(actor)}."
)
if not can_edit:
    st.info(f"Your role ({actor.role.value}) can read scenarios, not edit them.")

if store.files is None:
    st.error("This server has no workspace files.")
    st.stop()
try:
    files = load_files(store.files)
except InputError as exc:
    st.error("The workspace files have problems; fix them first.")
    st.dataframe(rv.problems_frame(exc.problems), hide_index=True, width="stretch")
    st.stop()
    raise

listed = {(RETIRED_PREFIX if f.retired else "") + f.id: f for f in list_scenarios(files)}


def done(message: str, pick: str | None = None) -> None:
    """After a change: say so, show `pick` next and read the files again."""
    st.session_state["sced_message"] = message
    if pick is not None:
        st.session_state["sced_next"] = pick
    st.session_state.pop("sced_open", None)
    st.rerun()


message = st.session_state.pop("sced_message", None)
if message:
    st.success(message)
if st.session_state.pop("sced_clear_name", False):
    st.session_state["sced_new_name"] = ""  # created: the field is ready for the next one
if can_edit:
    with st.expander("New scenario"):
        st.caption(
            "A new scenario starts like the status quo, without shocks or signposts; its id "
            "(the file name) comes from its name. Set its probability, shocks and signposts "
            "below once it is created."
        )
        new_name = st.text_input("Name", key="sced_new_name")
        if st.button("Create", key="sced_create"):
            made = sf.attempt(lambda: create_scenario(store, actor, new_name), "created")
            if made is not None:
                st.session_state["sced_clear_name"] = True
                done(f"Created {made.id}.yaml ({made.title}).", made.id)

pending = st.session_state.pop("sced_next", None)
if pending in listed:
    st.session_state["sced_pick"] = pending
chosen = st.selectbox(
    "Scenario",
    options=list(listed),
    format_func=lambda i: (
        f"{listed[i].title or listed[i].id} ({listed[i].id})"
        + (" — retired" if listed[i].retired else "")
    ),
    key="sced_pick",
)
if chosen is None:
    st.info("No scenario files.")
    st.stop()
    raise RuntimeError("unreachable")
entry = listed[chosen]
path: Path = entry.path


def snapshot(reset: bool = False) -> None:
    """The file as this person opened it: its version tells a save whether it changed since."""
    state = st.session_state.get("sced_open")
    if reset or state is None or state[0] != chosen:
        scenario, version = read_scenario_file(path)
        round_ = st.session_state.get("sced_round", 0) + 1
        st.session_state["sced_round"] = round_
        st.session_state["sced_open"] = (chosen, scenario, version)
        st.session_state.pop("sced_shocks_base", None)


snapshot()
_, scenario, version = st.session_state["sced_open"]
c_reload, c_dup, c_retire = st.columns(3)
if c_reload.button("Reload from the file", key="sced_reload"):
    snapshot(reset=True)
    st.rerun()
duplicate = retire = restore = False
if can_edit:
    with c_dup.popover(
        "Duplicate", help="A copy under a new id, with the same shocks and signposts"
    ):
        copy_name = st.text_input(
            "Name of the copy", value=f"Copy of {scenario.title}", key=f"sced_copy_{chosen}"
        )
        duplicate = st.button("Create the copy", key="sced_duplicate")
    if entry.retired:
        restore = c_retire.button("Restore", key="sced_restore")
    else:
        with c_retire.popover("Retire", help="Leave the scenario out of every assessment"):
            st.caption(
                "Assessments leave a retired scenario out; its file is kept (in the scenario "
                "folder's retired folder) and Restore brings it back."
            )
            why = st.text_input("Why (for the audit trail)", key=f"sced_why_{chosen}")
            retire = st.button("Retire the scenario", key="sced_retire")
# the actions run outside their popovers, so that a refusal shows on the page
if duplicate:
    copy = sf.attempt(
        lambda: duplicate_scenario(store, actor, path, expected_version=version, name=copy_name),
        "duplicated",
    )
    if copy is not None:
        done(f"Created {copy.id}.yaml, a copy of {scenario.id}.", copy.id)
if retire:
    moved = sf.attempt(
        lambda: retire_scenario(store, actor, path, expected_version=version, note=why),
        "retired",
    )
    if moved is not None:
        done(f"Retired {scenario.id}: assessments leave it out.", RETIRED_PREFIX + scenario.id)
if restore:
    back = sf.attempt(
        lambda: restore_scenario(store, actor, path, expected_version=version), "restored"
    )
    if back is not None:
        done(f"Restored {scenario.id}: assessments use it again.", scenario.id)

key = f"sced_{chosen}_{st.session_state['sced_round']}"
disabled = not can_edit or entry.retired
st.caption(f"File: `{path.name}`" + (" (retired)" if entry.retired else ""))
if entry.retired:
    st.info("This scenario is retired: assessments leave it out. Restore it to edit and use it.")
title = st.text_input("Title", value=scenario.title, disabled=disabled, key=f"{key}_title")
narrative = st.text_area(
    "Narrative", value=scenario.narrative, disabled=disabled, key=f"{key}_narrative"
)
c1, c2, c3 = st.columns(3)
probability = c1.number_input(
    "Annual probability (%)",
    min_value=0.0,
    max_value=100.0,
    value=float(scenario.frequency) * 100,
    step=0.1,
    format="%.2f",
    help="How likely the scenario is to begin in a given year (other pages show 5 % as 5 %).",
    disabled=disabled,
    key=f"{key}_probability",
)
warning = c2.number_input(
    "Warning time (days)",
    min_value=0,
    value=round(float(scenario.warning_time_days)),
    step=1,
    disabled=disabled,
    key=f"{key}_warning",
)
horizon = c3.number_input(
    "Horizon (years)",
    min_value=0.1,
    max_value=50.0,
    value=float(scenario.horizon_years),
    step=0.5,
    format="%.1f",
    disabled=disabled,
    key=f"{key}_horizon",
)
st.subheader("Shocks")
base = st.session_state.get("sced_shocks_base")
if base is None:
    base = (sf.shock_frame(scenario.shocks), 0)
frame, shocks_round = base
factor_names = {f.id: f.name for f in files.factors.factors}
labels = target_labels(
    files.regions, files.zones, sorted(iso_alpha3_codes(), key=country_name)
)  # groups, the workspace's zones, shipped sea areas, countries, subdivisions
targets = [*labels, *(t for t in frame["target"] if t not in labels)]


def target_label(code: object) -> str:
    return labels.get(str(code), str(code))


shock_columns = sf.shock_columns(targets, target_label, list(files.factors.ids), factor_names)
indicators = {info.indicator.id: info.indicator.name for info in store.indicators()}
own_series = [p.series for p in scenario.signposts if p.series and p.series not in indicators]
signpost_columns = sf.signpost_columns([*indicators, *own_series], indicators)
if disabled:
    st.dataframe(frame, hide_index=True, width="stretch", column_config=shock_columns)
    st.subheader("Signposts")
    st.dataframe(
        sf.signpost_frame(scenario.signposts),
        hide_index=True,
        width="stretch",
        column_config=signpost_columns,
    )
    st.stop()

st.caption(
    "Target: a country, a region group, a zone or sea area, or a subdivision; operation: set "
    "(0-10), add (-10..10), scale (x) or a fraction (0-1) of the way to 10 or 0. Low / most "
    "likely / high: optional uncertainty range. Add rows at the bottom or with the picker "
    "below, delete with the row selector. Nothing is saved until you press Save."
)
edited = st.data_editor(
    frame,
    num_rows="dynamic",
    hide_index=True,
    width="stretch",
    key=f"{key}_shocks_{shocks_round}",
    column_config=shock_columns,
)
with st.expander("Add shocks to several targets"):
    st.caption(
        "Pick the countries (shown by name, kept as ISO codes), region groups, zones, sea "
        "areas or subdivisions in the list, or drag a box or a lasso over countries on the "
        "map; one row per target is added to the table above."
    )
    countries = sorted(iso_alpha3_codes(), key=country_name)
    picks_key = f"{key}_pick_targets"
    if st.session_state.pop("sced_clear_picks", False):
        st.session_state[picks_key] = []  # added: the picker starts again
    event = st.plotly_chart(
        target_map(
            countries, {c: country_name(c) for c in countries}, st.session_state.get(picks_key, [])
        ),
        config=PLOTLY_CONFIG,
        on_select="rerun",
        selection_mode=("box", "lasso"),
        key=f"{key}_pick_map",
    )
    clicked = [countries[i] for i in sf.selected_points(event)]
    if clicked and clicked != st.session_state.get(f"{key}_pick_seen"):
        # a new click or selection on the map adds its countries to the targets picked
        st.session_state[f"{key}_pick_seen"] = clicked
        have = list(st.session_state.get(picks_key, []))
        st.session_state[picks_key] = [*have, *(c for c in clicked if c not in have)]
    picked = st.multiselect(
        "Targets", options=list(labels), format_func=target_label, key=picks_key
    )
    p1, p2, p3 = st.columns(3)
    pick_factor = p1.selectbox(
        "Factor",
        options=list(files.factors.ids),
        format_func=lambda f: factor_names.get(f, f),
        key=f"{key}_pick_factor",
    )
    pick_op = p2.selectbox(
        "Operation", options=[op.value for op in ShockOperation], key=f"{key}_pick_op"
    )
    pick_value = p3.number_input("Value", value=1.0, step=0.5, key=f"{key}_pick_value")
    if st.button("Add to the shocks", key=f"{key}_pick_add", disabled=not picked):
        rows = sf.added_shocks(picked, str(pick_factor), str(pick_op), float(pick_value))
        grown = pd.concat([edited, rows], ignore_index=True)
        st.session_state["sced_shocks_base"] = (grown, shocks_round + 1)
        st.session_state["sced_clear_picks"] = True
        st.rerun()

st.subheader("Signposts")
st.caption(
    "What tells that the scenario is coming: an indicator crossing a threshold. Series: the "
    "team database's indicator that gives the value (blank: watched by hand). Amber band: "
    "amber this close to the threshold. Likelihood ratio: how much more likely the scenario "
    "is once the signpost is crossed (1: no change)."
)
edited_signposts = st.data_editor(
    sf.signpost_frame(scenario.signposts),
    num_rows="dynamic",
    hide_index=True,
    width="stretch",
    key=f"{key}_signposts",
    column_config=signpost_columns,
)
note = st.text_input("Note for the audit trail (optional)", key=f"{key}_note")
if st.button("Save", type="primary", key=f"{key}_save"):
    data = scenario.model_dump(mode="json")
    data.update(
        title=title,
        narrative=narrative,
        frequency=round(float(probability) / 100, 12),  # 5.00 % is 0.05, not 0.05000000001
        warning_time_days=float(warning),
        horizon_years=float(horizon),
        shocks=sf.shocks_from(edited, scenario.shocks),
        signposts=sf.signposts_from(edited_signposts),
    )
    saved = sf.attempt(lambda: store.save_scenario(path, data, version, actor, note=note))
    if saved is not None:
        # the file's new mtime/size change the assessment cache key (state.files_signature) and
        # the audit entry the store's revision, so every page rescores on its next run
        done(f"Saved {path.name}; every page now uses it.")
