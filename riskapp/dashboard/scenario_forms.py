"""The scenario editor's tables and actions (views/scenario_editor.py): shocks and signposts as
editable tables and back, the target picker's choices, and the store's refusals shown as the
editor shows a refused save."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import pandas as pd
import streamlit as st

from riskapp.assessment import register as rv
from riskapp.dashboard.format import plain
from riskapp.domain.scenarios import Direction, ShockOperation, Signpost
from riskapp.io import InputError
from riskapp.store import AccessDenied, ConflictError, StoreBusyError

SHOCK_COLUMNS = ["target", "factor", "op", "value", "low", "mode", "high"]
SIGNPOST_COLUMNS = [  # the figures first, next to the name; the words after them
    "name",
    "threshold",
    "direction",
    "amber_band",
    "likelihood_ratio",
    "series",
    "indicator",
    "description",
]
T = TypeVar("T")


def blank(v: object) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA or v == ""


def shock_frame(shocks: Sequence[Any]) -> pd.DataFrame:
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


def shocks_from(frame: pd.DataFrame, old: Sequence[Any]) -> list[dict[str, Any]]:
    """Shocks as data; a shock's note is kept when its row keeps its target, factor and op."""
    notes = {(s.target, s.factor, s.op.value): s.note for s in old if s.note}
    out = []
    for row in frame.to_dict("records"):
        if all(blank(row.get(c)) for c in SHOCK_COLUMNS):
            continue
        shock: dict[str, Any] = {
            c: (None if blank(row.get(c)) else row.get(c)) for c in ("target", "factor", "op")
        }
        shock["value"] = None if blank(row.get("value")) else float(row["value"])
        if not all(blank(row.get(c)) for c in ("low", "mode", "high")):
            shock["range"] = {
                c: None if blank(row.get(c)) else float(row[c]) for c in ("low", "mode", "high")
            }
        note = notes.get((shock["target"], shock["factor"], shock["op"]))
        if note:
            shock["note"] = note
        out.append(shock)
    return out


def added_shocks(targets: Sequence[str], factor: str, op: str, value: float) -> pd.DataFrame:
    """One shock row per picked target (the picker's "Add" button)."""
    rows = [{"target": t, "factor": factor, "op": op, "value": float(value)} for t in targets]
    return pd.DataFrame(rows, columns=SHOCK_COLUMNS)


def signpost_frame(signposts: Sequence[Signpost]) -> pd.DataFrame:
    rows = [
        {
            "name": p.name,
            "indicator": p.indicator,
            "description": p.description,
            "series": p.series or "",
            "threshold": p.threshold,
            "direction": p.direction.value,
            "amber_band": p.amber_band,
            "likelihood_ratio": p.likelihood_ratio,
        }
        for p in signposts
    ]
    return pd.DataFrame(rows, columns=SIGNPOST_COLUMNS)


def signposts_from(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Signposts as data: blank optional cells take the model's defaults (no series: watched
    by hand; no amber band; likelihood ratio 1; direction above); numbers stay numbers so
    the model's checks name the cell's field."""
    out = []
    for row in frame.to_dict("records"):
        if all(blank(row.get(c)) for c in SIGNPOST_COLUMNS):
            continue
        post: dict[str, Any] = {}
        for c in SIGNPOST_COLUMNS:
            v: Any = row.get(c)
            if blank(v):
                if c in ("name", "indicator", "threshold"):
                    post[c] = None  # required: the check names the field
                continue
            number = c in ("threshold", "amber_band", "likelihood_ratio")
            post[c] = float(v) if number else str(v)
        out.append(post)
    return out


def shock_columns(
    targets: list[str],
    target_label: Callable[[object], str],
    factor_ids: list[str],
    factor_names: dict[str, str],
) -> dict[str, Any]:
    return {
        "target": st.column_config.SelectboxColumn(
            "Target", options=targets, format_func=target_label, required=True, width=260
        ),
        "factor": st.column_config.SelectboxColumn(
            "Factor",
            options=factor_ids,
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


def signpost_columns(series: list[str], series_names: dict[str, str]) -> dict[str, Any]:
    return {
        "name": st.column_config.TextColumn("Name", required=True, width=180),
        "indicator": st.column_config.TextColumn(
            "Indicator", required=True, help="What the signpost watches, in words.", width=220
        ),
        "description": st.column_config.TextColumn("Description"),
        "series": st.column_config.SelectboxColumn(
            "Series",
            options=series,
            format_func=lambda s: series_names.get(str(s), str(s)),
            help="The team database's indicator series that gives the value (blank: watched "
            "by hand).",
            width=200,
        ),
        "threshold": st.column_config.NumberColumn("Threshold", required=True),
        "direction": st.column_config.SelectboxColumn(
            "Crossed when", options=[d.value for d in Direction], required=True, width=110
        ),
        "amber_band": st.column_config.NumberColumn(
            "Amber band",
            help="Amber within this distance of the threshold (indicator's unit); 0: none.",
        ),
        "likelihood_ratio": st.column_config.NumberColumn(
            "Likelihood ratio",
            help="How much more likely the scenario is once crossed (above 0; 1: no update).",
        ),
    }


def selected_points(event: Any) -> list[int]:
    """The point indices of a chart's selection (st.plotly_chart with on_select)."""
    try:
        points = event.selection.points
    except (AttributeError, KeyError):
        return []
    return [int(p["point_index"]) for p in points if p.get("point_index") is not None]


def attempt(action: Callable[[], T], what: str = "saved") -> T | None:
    """Run a store change; a refusal is shown as the editor shows a refused save (nothing was
    written), and None returned."""
    try:
        return action()
    except AccessDenied as exc:
        st.error(f"Not {what}: {exc}")
    except StoreBusyError as exc:
        st.warning(str(exc))
    except ConflictError as exc:
        st.error(
            f"**Not {what}: the file changed after you opened it** (another user, an editor "
            "or a git pull). Nothing was overwritten."
        )
        for c in exc.conflicts:
            st.markdown(f"- {plain(str(c))}")
        st.caption("Reload from the file to see the current version, then apply your edits.")
    except InputError as exc:
        st.error(f"Not {what}: {len(exc.problems)} problem(s).")
        st.dataframe(rv.problems_frame(exc.problems), hide_index=True, width="stretch")
    return None
