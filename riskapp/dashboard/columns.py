"""Column layouts of the dashboard's wide tables: which columns come first and how wide each
is, so that what a user decides on stays on screen. The main area is about MAIN_WIDTH_PX wide
in a 1,500 px browser window (the sidebar and the page's padding take the rest); the columns
named in each layout's `must_show` fit inside it, the rest scroll into view."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MAIN_WIDTH_PX = 1040  # measured: 1,500 px window - 300 px sidebar - 2 x 80 px padding
ROW_MARKER_PX = 40  # the data editor's row selector


@dataclass(frozen=True)
class Col:
    key: str
    label: str
    width: int  # px
    kind: str = "text"  # text, number, money (raw amounts), styled (money_table), integer
    help: str | None = None


@dataclass(frozen=True)
class Layout:
    columns: tuple[Col, ...]
    must_show: tuple[str, ...]
    row_marker: bool = False  # an editor's row selector before the first column

    @property
    def order(self) -> list[str]:
        return [c.key for c in self.columns]

    def right_edge_px(self, key: str) -> int:
        """Where column `key` ends, counted from the table's left edge."""
        end = ROW_MARKER_PX if self.row_marker else 0
        for c in self.columns:
            end += c.width
            if c.key == key:
                return end
        raise KeyError(key)

    def config(self, **overrides: Any) -> dict[str, Any]:
        """Streamlit column_config: labels, pixel widths and number formats; `overrides` (by
        key) add editing rules such as min_value."""
        import streamlit as st

        out: dict[str, Any] = {}
        for c in self.columns:
            kw: dict[str, Any] = {"width": c.width, "help": c.help, **overrides.get(c.key, {})}
            if c.kind == "integer":
                out[c.key] = st.column_config.NumberColumn(c.label, format="%d", **kw)
            elif c.kind == "number":
                out[c.key] = st.column_config.NumberColumn(c.label, **kw)
            elif c.kind == "money":
                out[c.key] = st.column_config.NumberColumn(c.label, format="localized", **kw)
            elif c.kind == "styled":  # the cells keep the Styler's text (money_table)
                out[c.key] = st.column_config.Column(c.label, alignment="right", **kw)
            else:
                out[c.key] = st.column_config.TextColumn(c.label, **kw)
        return out


REGISTER = Layout(
    (
        Col("id", "Id", 90),
        Col("name", "Name", 200),
        Col("type", "Type", 70),
        Col("country", "Country", 64),
        Col("criticality", "Criticality", 76, "integer", "1 (low) to 5 (critical)."),
        Col("replacement_value", "Replacement value", 120, "money"),
        Col("annual_revenue_at_stake", "Revenue at stake", 110, "money", "A year."),
        Col("currency", "Cur.", 50),
        Col("owner", "Owner", 110),
        Col("tags", "Tags", 110, help="Separated by ';'."),
        Col("depends_on", "Depends on", 110, help="Asset ids separated by ';'."),
        Col("subdivision", "Subdivision", 84, help="ISO 3166-2 code, e.g. NO-54 (optional)."),
        Col("lat", "Lat", 70, "number"),
        Col("lon", "Lon", 70, "number"),
        Col(
            "route",
            "Route",
            120,
            help="Optional line of a cable, pipeline or lane: WKT LINESTRING (lon lat, ...) "
            "or [[lon, lat], ...].",
        ),
    ),
    must_show=("name", "criticality", "replacement_value", "owner", "tags"),
    row_marker=True,
)

PLANS = Layout(
    (
        Col("number", "#", 40, "integer"),
        Col("title", "Plan", 210),
        Col(
            "state_label",
            "In this scenario",
            230,
            help="'N d late': the plan's slowest action needs N days beyond the warning time.",
        ),
        Col(
            "averted_in_scenario",
            "Averted here",
            105,
            "styled",
            "Loss the plan averts on its own in this scenario.",
        ),
        Col(
            "averted_eal",
            "Averted EAL",
            105,
            "styled",
            "Expected annual loss the plan averts on its own, a year.",
        ),
        Col("cost_npv", "Cost, NPV", 100, "styled"),
        Col(
            "bcr",
            "BCR",
            70,
            "number",
            "Benefit-cost ratio: averted NPV / cost NPV. Infinity: a free plan that averts "
            "something; None: it neither costs nor averts anything.",
        ),
        Col(
            "flags",
            "Flags",
            180,
            help="Plan sanity flags (listed above the table): check before quoting the figures.",
        ),
        Col("status", "Status", 80),
        Col(
            "lead_time_days",
            "Lead time (d)",
            90,
            "integer",
            "Lead time of the slowest action, in days.",
        ),
        Col(
            "max_gap_days",
            "Worst gap (d)",
            90,
            "integer",
            "Largest readiness gap (days) in any scenario that triggers the plan; 0 for plans "
            "in place.",
        ),
        Col("owner", "Owner", 180),
    ),
    must_show=(
        "title",
        "state_label",
        "averted_in_scenario",
        "averted_eal",
        "cost_npv",
        "bcr",
        "flags",
    ),
)
