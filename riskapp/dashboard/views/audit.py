"""Audit trail: every change (who, when, what, old and new value), filtered and exported.

Read-only by design: the page shows and exports; the store has no way to change an entry and
the database refuses it too. The hash chain is checked on demand (`Store.verify_audit`, the same
check as `riskapp audit verify`).
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import streamlit as st

from riskapp.dashboard import store_view as sv
from riskapp.store.exports import audit_csv, audit_frame

ALL = "(all)"
ENTITIES = [ALL, "asset", "plan", "assessment", "user", "workspace"]
ACTIONS = [ALL, "edit", "update", "import", "seed", "save", "create", "delete", "retire", "restore"]
MAX_ROWS = 5000

actor = sv.login_gate(sidebar=False)  # app.py shows who is signed in
store = sv.get_store()

st.title("Audit trail")
st.caption(
    "Every change to the register, plans, saved assessments and users: who, when (UTC), what, "
    "the old and the new value. Nobody can edit or delete entries, in the product or in the "
    "database; entries are hash-chained, so a change made around the product shows up when the "
    "chain is verified."
)
if st.button("Verify the audit trail", key="aud_verify"):
    check = store.verify_audit()
    summary = f"{check.count} entries, head hash {check.head_hash[:16]}…"
    if check.ok:
        st.success(f"Intact: {summary}; append-only guards in place.")
    else:
        st.error(f"Not intact ({summary}): " + "; ".join(check.problems()[:3]))

left, middle, right = st.columns(3)
today = datetime.now(UTC).date()
period = left.date_input(
    "Between",
    value=(today - timedelta(days=90), today),
    key="aud_period",
    help="Dates in UTC, both included.",
)
who = middle.selectbox("Who", [ALL, *store.audit_actors()], key="aud_actor")
entity = right.selectbox("What", ENTITIES, key="aud_entity")
left2, right2 = st.columns(2)
action = left2.selectbox("Action", ACTIONS, key="aud_action")
record = right2.text_input("Record id", key="aud_record", help="An asset, plan or user id.")

since = until = None
if isinstance(period, tuple) and len(period) == 2:
    since = datetime.combine(period[0], time.min, tzinfo=UTC)
    until = datetime.combine(period[1], time.min, tzinfo=UTC) + timedelta(days=1)

entries = store.audit(
    since=since,
    until=until,
    actor=None if who == ALL else who,
    entity=None if entity == ALL else entity,
    entity_id=record.strip() or None,
    action=None if action == ALL else action,
    limit=MAX_ROWS + 1,
)
shown = entries[:MAX_ROWS]
st.caption(
    f"{len(shown)} entr{'y' if len(shown) == 1 else 'ies'}"
    + (
        f" (the newest {MAX_ROWS}; narrow the filters for older ones)"
        if len(entries) > MAX_ROWS
        else ""
    )
    + ", newest first."
)
st.dataframe(
    audit_frame(shown),
    hide_index=True,
    width="stretch",
    column_config={
        "at": st.column_config.DatetimeColumn("at (UTC)", format="YYYY-MM-DD HH:mm:ss"),
        "old": st.column_config.TextColumn("old value"),
        "new": st.column_config.TextColumn("new value"),
    },
    key="aud_table",
)
st.download_button(
    "Export these entries (CSV)",
    audit_csv(shown),
    file_name=f"riskapp-audit-{today.isoformat()}.csv",
    mime="text/csv",
    key="aud_export",
    disabled=not shown,
)
