"""Alerts: what changed that someone should act on, raised once per event; acknowledge,
assign and comment (each step in the audit trail)."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import streamlit as st

from riskapp.assessment.alerts import SEVERITY_ORDER, check
from riskapp.dashboard import store_view as sv
from riskapp.dashboard.state import assessment, basis
from riskapp.domain.alerts import AlertKind
from riskapp.io import InputError
from riskapp.store import AccessDenied, Permission, StoreBusyError

actor = sv.login_gate(sidebar=False)  # app.py shows who is signed in
store = sv.get_store()
can_edit = store.check(actor, Permission.EDIT)
sv.raise_first_alerts(basis())  # a demo's first start: what its shipped data already says

st.title("Alerts")
st.caption(
    "Raised once per event: a signpost turning amber or red, a plan triggered by a signpost or "
    "a probability, a plan review falling overdue, a scenario's probability moving, an "
    "indicator going stale. `riskapp alerts check` raises them on a schedule; so does the "
    "button below."
)
if can_edit and st.button("Check now", key="al_check"):
    try:
        raised = check(assessment(), store, actor, datetime.now(UTC))
    except (InputError, AccessDenied, StoreBusyError) as exc:
        st.error(str(exc))
    else:
        st.success(
            f"{len(raised)} new alert(s)."
            if raised
            else "No new alerts: every event the check finds has been raised already."
        )

with st.expander("My alert e-mail"):
    mine = next(
        (x for x in store.personal_subscriptions() if x.name == f"user:{actor.username}"), None
    )
    kinds = [k.value for k in AlertKind]
    with st.form("al_subscribe"):
        email = st.text_input("E-mail", value=mine.email[0] if mine else "", key="al_email")
        picked_kinds = st.multiselect(
            "Kinds (none: all)", kinds, default=list(mine.kinds) if mine else [], key="al_kinds"
        )
        lowest = st.selectbox(
            "Lowest severity",
            ["info", "warning", "critical"],
            index=["info", "warning", "critical"].index(mine.min_severity) if mine else 0,
            key="al_severity",
        )
        save, stop = st.columns(2)
        if save.form_submit_button("Save my subscription"):
            try:
                store.subscribe(actor, email, picked_kinds, lowest)
                st.success("Saved: `riskapp alerts deliver` sends what you chose.")
            except (InputError, AccessDenied, StoreBusyError) as exc:
                st.error(str(exc))
        if mine is not None and stop.form_submit_button("Unsubscribe"):
            store.unsubscribe(actor)
            st.rerun()

show_all = st.toggle("Show acknowledged alerts too", key="al_all")
# the most severe first, the newest first within a severity
alerts = sorted(
    store.alerts(None if show_all else "open"),
    key=lambda x: (-SEVERITY_ORDER[x.severity.value], -x.id),
)
if not alerts:
    st.info("No open alerts." if not show_all else "No alerts yet.")
    st.stop()
frame = pd.DataFrame(
    [
        {
            "id": a.id,
            "severity": a.severity.value,
            "alert": a.title,
            "status": a.status,
            "assignee": a.assignee,
            "raised (UTC)": a.raised_at.strftime("%Y-%m-%d %H:%M"),
            "comments": len(a.comments),
        }
        for a in alerts
    ]
)
st.dataframe(frame, hide_index=True, width="stretch", key="al_table")

by_id = {a.id: a for a in alerts}
chosen = st.selectbox(
    "Alert", list(by_id), format_func=lambda i: f"#{i} {by_id[i].title}", key="al_pick"
)
a = by_id[chosen]
st.text(a.detail)  # as written by the check: user text (names) shown as text
for c in a.comments:
    st.text(f"{c.get('at', '')[:16]} {c.get('by', '')}: {c.get('text', '')}")
if can_edit:
    left, middle, right = st.columns(3)
    try:
        if a.status == "open" and left.button("Acknowledge", key="al_ack"):
            store.acknowledge_alert(a.id, actor)
            st.rerun()
        who = middle.text_input("Assign to", value=a.assignee, key=f"al_who_{a.id}")
        if middle.button("Assign", key="al_assign") and who.strip():
            store.assign_alert(a.id, who, actor)
            st.rerun()
        text = right.text_area("Comment", key=f"al_text_{a.id}", max_chars=2000)
        if right.button("Add comment", key="al_comment") and text.strip():
            store.comment_alert(a.id, text, actor)
            st.rerun()
    except (InputError, AccessDenied, StoreBusyError) as exc:
        st.error(str(exc))
