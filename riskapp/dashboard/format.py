"""Display helpers: user text shown as plain text, never as Markdown or HTML; money in tables
written by the assessment's NumberFormat (the same text as cards, charts, CLI and reports).

`plain` lives in `riskapp.text` so that the application layer (what-if tables) can use it
without importing the dashboard; the pages keep importing it from here.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TYPE_CHECKING

from riskapp.format import NumberFormat
from riskapp.text import plain

if TYPE_CHECKING:  # pandas' Styler imports Jinja2: loaded when a table is styled, not before
    import pandas as pd
    from pandas.io.formats.style import Styler

__all__ = ["money_cells", "money_table", "plain"]


def money_table(frame: pd.DataFrame, fmt: NumberFormat, columns: Sequence[str]) -> Styler:
    """`frame` for st.dataframe with its money `columns` shown as `fmt.money` writes them
    (EUR 6.2m, German 6,2 Mio. EUR) while the cells stay numbers, so columns sort by value."""
    present: list[Hashable] = [c for c in columns if c in frame.columns]
    return frame.style.format(lambda v: fmt.money(float(v)), subset=present, na_rep="n/a")  # type: ignore[arg-type]


def money_cells(values: Sequence[float], fmt: NumberFormat) -> list[str]:
    """The text `money_table` shows for each value."""
    return [fmt.money(v) for v in values]
