"""The import wizard's mapping step (Register page): the file's columns mapped onto the
register, suggested from its header or the workspace's saved mapping, checked before the
preview. The page calls `mapping_step` and gets the table to preview."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st
from pydantic import ValidationError

from riskapp.assessment import mapping as mp
from riskapp.domain.assets import REGISTER_COLUMNS
from riskapp.domain.mapping import SCALED, RegisterMapping
from riskapp.io import InputError
from riskapp.store.validation import Table

NONE = "(not in the file)"


def mapping_step(table: Table, workspace: Path, can_save: bool) -> Table | None:
    """Draw the mapping step; the mapped table, or None while the mapping is not valid."""
    start = mp.start_mapping(table, workspace)
    use = st.toggle(
        "Map the file's columns onto the register",
        value=start.needed,
        key="imp_map_on",
        help="For a file with its own column names, units or type names.",
    )
    if not use:
        return table
    m = start.mapping
    if start.saved is not None:
        st.caption(f"Starting from the mapping saved with this workspace ({mp.MAPPING_FILE}).")
    else:
        st.caption("Suggested from the file's column names; check each one.")
    header = [h.strip() for h in table.header]
    how = {x.field: x.how for x in start.suggestion.matches}
    rows = []
    for field in REGISTER_COLUMNS:
        rows.append(
            {
                "register column": field,
                "file column": m.columns.get(field, NONE),
                "how": how.get(field, "") if start.saved is None else "",
            }
        )
    edited = st.data_editor(
        pd.DataFrame(rows),
        hide_index=True,
        disabled=["register column", "how"],
        column_config={
            "file column": st.column_config.SelectboxColumn(options=[NONE, *header], required=True),
        },
        key="imp_map_columns",
    )
    columns = {
        r["register column"]: r["file column"]
        for r in edited.to_dict("records")
        if r["file column"] and r["file column"] != NONE
    }
    units = {}
    cols = st.columns(len(SCALED) + 1)
    for box, field in zip(cols, SCALED, strict=False):
        units[field] = box.number_input(
            f"{field.replace('_', ' ').capitalize()}: multiply by",
            min_value=0.001,
            value=float(m.units.get(field, 1.0)),
            key=f"imp_map_unit_{field}",
            help="1000 for a column in thousands",
        )
    currency = cols[-1].text_input(
        "Currency of rows without one", value=m.currency or "", key="imp_map_currency"
    )
    types = dict(m.types)
    type_col = columns.get("type")
    values = mp.type_values(table, type_col)
    if values:
        known = mp.workspace_types(workspace)
        type_rows = [
            {"file's type": v, "register type": types.get(v, v if v in known else "")}
            for v in values
        ]
        typed = st.data_editor(
            pd.DataFrame(type_rows),
            hide_index=True,
            disabled=["file's type"],
            column_config={"register type": st.column_config.SelectboxColumn(options=known)},
            key="imp_map_types",
        )
        types = {
            r["file's type"]: r["register type"]
            for r in typed.to_dict("records")
            if r["register type"] and r["register type"] != r["file's type"]
        }
    try:
        mapping = RegisterMapping(
            columns=columns,
            units={f: u for f, u in units.items() if u != 1.0},
            currency=currency.strip().upper() or None,
            types=types,
            countries=dict(m.countries),  # confirmed in a saved mapping: kept when saved again
        )
        mapped = mp.mapped_table(table, mapping, "the mapping")
    except (ValidationError, InputError) as exc:
        st.error(f"The mapping is not valid yet: {exc}")
        return None
    st.caption("The first rows as the register will read them:")
    first = pd.DataFrame([c for _, c in mapped.rows[:5]], columns=mapped.header, dtype=str)
    st.dataframe(first, hide_index=True, key="imp_map_first")
    if can_save and st.button("Save this mapping with the workspace", key="imp_map_save"):
        path = mp.save_mapping(workspace, mapping)
        st.success(f"Saved as {path.name}: the next import of such a file starts from it.")
    return mapped
