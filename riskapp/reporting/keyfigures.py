"""The report's headline numbers: exactly the Overview's (`riskapp.assessment.headline`), the
same figures, definitions and notes, written in the report's locale."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from riskapp.assessment.headline import HeadlineFigure as KeyFigure
from riskapp.reporting.tables import Column, Table

if TYPE_CHECKING:
    from riskapp.assessment.core import Assessment

__all__ = [
    "KEY_FIGURE_COLUMNS",
    "SUMMARY_KEYS",
    "KeyFigure",
    "definition_lines",
    "key_figure_table",
    "key_figures",
]

# the eight figures a one-page summary leads with (the deck's cards); the rest follow in a table
SUMMARY_KEYS = (
    "exposed_value",
    "expected_annual_loss",
    "simulated_mean",
    "worst_scenario_loss",
    "var_99",
    "es_99",
    "residual_eal",
    "plans_not_ready",
)
KEY_FIGURE_COLUMNS = (
    Column("label", "Figure"),
    Column("text", "Value"),
    Column("note", "Note"),
    Column("definition", "How it is computed"),
)


def key_figures(a: Assessment) -> list[KeyFigure]:
    """The headline figures of `a` in its locale (the report sets it)."""
    from riskapp.assessment.core import key_figures as headline_figures

    return headline_figures(a)


def key_figure_table(figures: list[KeyFigure], note: str = "") -> Table:
    """Every key figure as a table of text (value already formatted in the report's locale),
    with its note and definition: the one layout of the full set in every format."""
    frame = pd.DataFrame(
        [(k.label, k.text, k.note, k.definition) for k in figures],
        columns=[c.key for c in KEY_FIGURE_COLUMNS],
    )
    return Table(
        "key_figures",
        "Key figures and how they are computed",
        KEY_FIGURE_COLUMNS,
        frame,
        len(frame),
        "",
        note,
    )


def definition_lines(figures: list[KeyFigure]) -> str:
    """One line per figure, "- label (text): definition": speaker notes and plain-text lists."""
    return "\n".join(f"- {k.label} ({k.text}): {k.definition}" for k in figures)
