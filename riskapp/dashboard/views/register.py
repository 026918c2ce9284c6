"""Register: edit assets and plans (validated like an import; a record someone else changed
meanwhile is never overwritten), and import a register or plan table from CSV or Excel."""

from __future__ import annotations

import functools
from datetime import date

import streamlit as st

from riskapp.assessment import register as rv
from riskapp.dashboard import store_view as sv
from riskapp.dashboard.columns import REGISTER
from riskapp.dashboard.format import plain
from riskapp.dashboard.mapping_step import mapping_step
from riskapp.dashboard.state import workspace_path
from riskapp.domain import PlanStatus
from riskapp.io import InputError
from riskapp.store import AccessDenied, ConflictError, Permission, StoreBusyError
from riskapp.store.exports import plan_table_csv
from riskapp.store.validation import asset_table_csv, template_csv, template_xlsx

actor = sv.login_gate(sidebar=False)  # app.py shows who is signed in
store = sv.get_store()
can_edit = store.check(actor, Permission.EDIT)
can_import = store.check(actor, Permission.IMPORT)

st.title("Asset register and plans")
st.caption(
    "The register and the plans live in the team database; scenario, curve, factor and "
    "baseline files stay files. Every change is checked like an import and recorded in the "
    f"audit trail. You: {rv.actor_label(actor)}."
)


def snapshot(reset: bool = False) -> None:
    """What this person started editing from: kept until they save or reload, so a save can
    tell whether someone else changed a record in the meantime."""
    if reset or "reg_assets" not in st.session_state:
        st.session_state["reg_assets"] = store.assets()
        st.session_state["reg_plans"] = store.plans()
        st.session_state["reg_round"] = st.session_state.get("reg_round", 0) + 1


def show_conflict(exc: ConflictError) -> None:
    st.error(
        "**Not saved: someone else changed these records after you opened them.** "
        "Nothing was overwritten."
    )
    for c in exc.conflicts:
        st.markdown(f"- {plain(str(c))}")
    st.caption("Reload to see their changes, then apply yours again.")


snapshot()
if st.button("Reload from the database", key="reg_reload"):
    snapshot(reset=True)
    st.session_state.pop("reg_message", None)
message = st.session_state.pop("reg_message", None)
if message:
    st.success(message)

assets_tab, plans_tab, import_tab = st.tabs(["Assets", "Plans", "Import"])

with assets_tab:
    stored = st.session_state["reg_assets"]
    frame = rv.register_frame(stored)
    if not can_edit:
        st.info(f"Your role ({actor.role.value}) can read and export the register, not edit it.")
        st.dataframe(
            frame,
            hide_index=True,
            width="stretch",
            column_order=REGISTER.order,
            column_config=REGISTER.config(),
        )
    else:
        st.caption(
            "Edit cells, add rows at the bottom, delete rows with the row selector. Tags and "
            "dependencies are separated by ';'. Nothing is saved until you press Save."
        )
        edited = st.data_editor(
            frame,
            num_rows="dynamic",
            hide_index=True,
            width="stretch",
            key=f"reg_editor_{st.session_state['reg_round']}",
            column_order=REGISTER.order,
            column_config=REGISTER.config(
                id={"required": True},
                criticality={"min_value": 1, "max_value": 5, "step": 1},
                replacement_value={"min_value": 0},
                annual_revenue_at_stake={"min_value": 0},
            ),
        )
        # rows the editor returns as they were shown are the stored assets: only added and
        # changed rows are parsed again (the checks across rows still cover the register)
        changes = rv.asset_edits(
            {s.id: s.version for s in stored}, [s.asset for s in stored], edited, shown=frame
        )
        if changes.problems:
            st.error(f"{len(changes.problems)} problem(s): fix them before saving.")
            st.dataframe(
                rv.problems_frame(changes.problems),
                hide_index=True,
                width="stretch",
                key="reg_problems",
            )
        elif changes.edits:
            st.caption(f"{len(changes.edits)} asset(s) changed, not saved yet.")
        if st.button(
            "Save assets",
            type="primary",
            disabled=changes.empty or bool(changes.problems),
            key="reg_save_assets",
        ):
            try:
                summary = store.save_assets(changes.edits, actor, note="dashboard edit")
            except ConflictError as exc:
                show_conflict(exc)
            except InputError as exc:
                st.error("Not saved: the register would not fit the workspace files.")
                st.dataframe(rv.problems_frame(exc.problems), hide_index=True)
            except AccessDenied as exc:
                st.error(str(exc))
            except StoreBusyError as exc:
                st.warning(str(exc))
            else:
                st.session_state["reg_message"] = f"Saved: {summary}."
                snapshot(reset=True)
                st.rerun()
    st.download_button(
        "Download the register (assets.csv)",
        # written when the button is clicked, not on every run of the page
        functools.partial(asset_table_csv, [s.asset for s in stored]),
        file_name="assets.csv",
        mime="text/csv",
        key="reg_download_assets",
    )

with plans_tab:
    plans = st.session_state["reg_plans"]
    today = date.today()
    frame = rv.plan_frame(plans, today)
    overdue = int(frame["overdue"].sum())
    if overdue:
        st.warning(f"{overdue} plan(s) are past their review date.")
    if not can_edit:
        st.dataframe(
            frame,
            hide_index=True,
            width="stretch",
            column_order=REGISTER.order,
            column_config=REGISTER.config(),
        )
    else:
        edited_plans = st.data_editor(
            frame,
            hide_index=True,
            width="stretch",
            disabled=["id", "title", "overdue"],
            key=f"plan_editor_{st.session_state['reg_round']}",
            column_config={
                "status": st.column_config.SelectboxColumn(
                    options=[s.value for s in PlanStatus], required=True
                ),
                "review_date": st.column_config.DateColumn(format="YYYY-MM-DD"),
                "overdue": st.column_config.CheckboxColumn(help="Review date has passed."),
            },
        )
        plan_changes = rv.plan_edits({p.id: p.version for p in plans}, frame, edited_plans)
        if st.button("Save plans", type="primary", disabled=not plan_changes, key="reg_save_plans"):
            try:
                summary = store.save_plans(plan_changes, actor, note="dashboard edit")
            except ConflictError as exc:
                show_conflict(exc)
            except InputError as exc:
                st.error("Not saved:")
                st.dataframe(rv.problems_frame(exc.problems), hide_index=True)
            except AccessDenied as exc:
                st.error(str(exc))
            except StoreBusyError as exc:
                st.warning(str(exc))
            else:
                st.session_state["reg_message"] = f"Saved: {summary}."
                snapshot(reset=True)
                st.rerun()
    st.download_button(
        "Download owners, statuses and review dates (CSV)",
        functools.partial(plan_table_csv, plans),
        file_name="plan_status.csv",
        mime="text/csv",
        key="reg_download_plans",
    )

with import_tab:
    st.caption(
        "Import a whole register (assets) or owners, statuses and review dates of plans "
        "(plans) from CSV or Excel. The preview lists every problem with its row, column and "
        "reason; the import then writes all rows or none."
    )
    kind = st.radio("What the file holds", ["assets", "plans"], horizontal=True, key="imp_kind")
    left, right = st.columns(2)
    left.download_button(
        "Template (CSV)",
        template_csv(kind),
        file_name=f"{kind}_template.csv",
        mime="text/csv",
        key="imp_template_csv",
    )
    right.download_button(
        "Template (Excel, with column notes)",
        template_xlsx(kind),
        file_name=f"{kind}_template.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        key="imp_template_xlsx",
    )
    if not can_import:
        st.info(f"Imports need the admin role; yours is {actor.role.value}.")
    else:
        mode = "replace"
        if kind == "assets":
            mode = st.radio(
                "Mode",
                ["replace", "merge"],
                horizontal=True,
                key="imp_mode",
                format_func=lambda m: {
                    "replace": "Replace: the file is the whole register",
                    "merge": "Merge: add and update; keep assets not in the file",
                }[m],
            )
        upload = st.file_uploader("File", type=["csv", "xlsx", "parquet"], key="imp_file")
        if upload is not None:
            try:
                table = rv.save_upload(upload.name, upload.getvalue())
            except InputError as exc:
                st.error("The file cannot be read.")
                st.dataframe(rv.problems_frame(exc.problems), hide_index=True)
                st.stop()
            if kind == "assets":  # a client's own columns, units and type names
                mapped = mapping_step(table, workspace_path(), can_import)
                if mapped is None:
                    st.stop()
                table = mapped
            preview = (
                store.preview_assets(table, "merge" if mode == "merge" else "replace")
                if kind == "assets"
                else store.preview_plans(table)
            )
            if not preview.ok:
                st.error(
                    f"{len(preview.problems)} problem(s) in {preview.source}; nothing can be "
                    "imported until they are fixed."
                )
                st.dataframe(rv.problems_frame(preview.problems), hide_index=True)
            else:
                s = preview.summary
                st.success(
                    f"{preview.rows} row(s) valid: {len(s.added)} to add, {len(s.changed)} to "
                    f"change, {len(s.removed)} to remove."
                )
                for note in preview.notes:  # locations read from names, coordinates, cities
                    st.caption(plain(note))
                if st.button("Import", type="primary", key="imp_commit"):
                    try:
                        summary = (
                            store.import_assets(
                                table, actor, "merge" if mode == "merge" else "replace"
                            )
                            if kind == "assets"
                            else store.import_plan_table(table, actor)
                        )
                    except InputError as exc:
                        st.error("Not imported: the database changed since the preview.")
                        st.dataframe(rv.problems_frame(exc.problems), hide_index=True)
                    except AccessDenied as exc:
                        st.error(str(exc))
                    except StoreBusyError as exc:
                        st.warning(str(exc))
                    else:
                        st.session_state["reg_message"] = f"Imported {upload.name}: {summary}."
                        snapshot(reset=True)
                        st.rerun()
