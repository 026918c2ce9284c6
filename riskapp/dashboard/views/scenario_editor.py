"""Scenario editor: analysts and admins change a scenario in the product; the scenario stays a
YAML file in the workspace (versionable). The store checks the role, validates the scenario
against the whole workspace, refuses to overwrite a file changed since it was opened, writes
it atomically and records the change in the audit trail."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from riskapp.assessment import register as rv
from riskapp.assessment.zones import target_labels
from riskapp.dashboard import store_view as sv
from riskapp.dashboard.format import plain
from riskapp.domain.common import country_name, iso_alpha3_codes
from riskapp.domain.scenarios import ShockOperation
from riskapp.io import InputError
from riskapp.io.workspace import scenario_files
from riskapp.store import AccessDenied, ConflictError, Permission, StoreBusyError
from riskapp.store.scenarios import read_scenario_file
from riskapp.store.workspace import load_files

SHOCK_COLUMNS = ["target", "factor", "op", "value", "low", "mode", "high"]

actor = sv.login_gate(sidebar=False)  # app.py shows who is signed in
store = sv.get_store()
can_edit = store.check(actor, Permission.EDIT)

st.title("Edit a scenario")
st.caption(
    "Scenarios stay YAML files in the workspace (comments in a file are not kept when it is "
    f"saved from here). Every save is checked and recorded in the audit trail. You: "
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

folder = files.root / files.manifest.paths.scenarios
paths = {p.stem: p for p in scenario_files(folder)}
titles = {s.id: s.title for s in files.scenarios}
chosen = st.selectbox(
    "Scenario",
    options=list(paths),
    format_func=lambda i: f"{titles.get(i, i)} ({i})",
    key="sced_pick",
)
if chosen is None:
    st.info("No scenario files.")
    st.stop()
    raise RuntimeError("unreachable")
path: Path = paths[chosen]


def snapshot(reset: bool = False) -> None:
    """The file as this person opened it: its version tells a save whether it changed since."""
    state = st.session_state.get("sced_open")
    if reset or state is None or state[0] != chosen:
        scenario, version = read_scenario_file(path)
        round_ = st.session_state.get("sced_round", 0) + 1
        st.session_state["sced_round"] = round_
        st.session_state["sced_open"] = (chosen, scenario, version)


def shock_frame(shocks: list[Any]) -> pd.DataFrame:
    rows = [
        {
            "target": s.target,
            "factor": s.factor,
            "op": s.op.value,
            "value": s.value,
            "low": s.range.low if s.range else None,
            "mode": s.range.mode if s.range else None,
            "high": s.range.high if s.range else None,
        }
        for s in shocks
    ]
    return pd.DataFrame(rows, columns=SHOCK_COLUMNS)


def _blank(v: object) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA or v == ""


def shocks_from(frame: pd.DataFrame, old: list[Any]) -> list[dict[str, Any]]:
    """Shocks as data; a shock's note is kept when its row keeps its target, factor and op."""
    notes = {(s.target, s.factor, s.op.value): s.note for s in old if s.note}
    out = []
    for row in frame.to_dict("records"):
        if all(_blank(row.get(c)) for c in SHOCK_COLUMNS):
            continue
        shock: dict[str, Any] = {
            c: (None if _blank(row.get(c)) else row.get(c)) for c in ("target", "factor", "op")
        }
        shock["value"] = None if _blank(row.get("value")) else float(row["value"])
        if not all(_blank(row.get(c)) for c in ("low", "mode", "high")):
            shock["range"] = {
                c: None if _blank(row.get(c)) else float(row[c]) for c in ("low", "mode", "high")
            }
        note = notes.get((shock["target"], shock["factor"], shock["op"]))
        if note:
            shock["note"] = note
        out.append(shock)
    return out


snapshot()
if st.button("Reload from the file", key="sced_reload"):
    snapshot(reset=True)
    st.session_state.pop("sced_message", None)
message = st.session_state.pop("sced_message", None)
if message:
    st.success(message)

_, scenario, version = st.session_state["sced_open"]
key = f"sced_{chosen}_{st.session_state['sced_round']}"
disabled = not can_edit
st.caption(f"File: `{path.name}`")
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
frame = shock_frame(scenario.shocks)
factor_names = {f.id: f.name for f in files.factors.factors}
labels = target_labels(
    files.regions, files.zones, sorted(iso_alpha3_codes(), key=country_name)
)  # groups, the workspace's zones, shipped sea areas, countries
targets = [*labels, *(t for t in frame["target"] if t not in labels)]


def target_label(code: object) -> str:
    return labels.get(str(code), str(code))


shock_columns = {
    "target": st.column_config.SelectboxColumn(
        "Target", options=targets, format_func=target_label, required=True, width=260
    ),
    "factor": st.column_config.SelectboxColumn(
        "Factor",
        options=list(files.factors.ids),
        format_func=lambda f: factor_names.get(str(f), str(f)),
        required=True,
        width=260,
    ),
    "op": st.column_config.SelectboxColumn(
        "Operation", options=[op.value for op in ShockOperation], required=True, width=100
    ),
    "value": st.column_config.NumberColumn("Value", required=True),
    "low": st.column_config.NumberColumn("Low"),
    "mode": st.column_config.NumberColumn("Most likely"),
    "high": st.column_config.NumberColumn("High"),
}
if disabled:
    st.dataframe(frame, hide_index=True, width="stretch", column_config=shock_columns)
    st.stop()

st.caption(
    "Target: a country or a region group; operation: set (0-10), add (-10..10) or scale (x). "
    "Low / most likely / high: optional uncertainty range. Add rows at the bottom, delete "
    "with the row selector. Nothing is saved until you press Save."
)
edited = st.data_editor(
    frame,
    num_rows="dynamic",
    hide_index=True,
    width="stretch",
    key=f"{key}_shocks",
    column_config=shock_columns,
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
        shocks=shocks_from(edited, scenario.shocks),
    )
    try:
        store.save_scenario(path, data, version, actor, note=note)
    except AccessDenied as exc:
        st.error(f"Not saved: {exc}")
    except StoreBusyError as exc:
        st.warning(str(exc))
    except ConflictError as exc:
        st.error(
            "**Not saved: the file changed after you opened it** (another user, an editor or a "
            "git pull). Nothing was overwritten."
        )
        for c in exc.conflicts:
            st.markdown(f"- {plain(str(c))}")
        st.caption("Reload from the file to see the current version, then apply your edits.")
    except InputError as exc:
        st.error(f"Not saved: {len(exc.problems)} problem(s).")
        st.dataframe(rv.problems_frame(exc.problems), hide_index=True, width="stretch")
    else:
        # the file's new mtime/size change the assessment cache key (state.files_signature) and the
        # audit entry the store's revision, so every page rescores on its next run
        st.session_state["sced_message"] = f"Saved {path.name}; every page now uses it."
        snapshot(reset=True)
        st.rerun()
