"""Headline figures as cards: one layout for the Overview, the Risk distribution page and the
Reports page's preview, each card with its definition one click away (the (?) tooltip) and its
note beneath, in the rows every surface groups them in (`figure_rows`)."""

from __future__ import annotations

import streamlit as st

from riskapp.assessment.headline import Headline, HeadlineFigure, figure_rows, footnote
from riskapp.text import plain

MIN_COLUMNS = 3  # a row of fewer cards keeps this width per card


def figure_cards(figures: list[HeadlineFigure]) -> None:
    """The figures as cards, a row per group of `figure_rows`."""
    for row in figure_rows(figures):
        for col, fig in zip(st.columns(max(len(row), MIN_COLUMNS)), row, strict=False):
            with col.container(border=True):
                st.metric(fig.label, fig.text, help=fig.definition)
                if fig.note:
                    st.caption(plain(fig.note))


def headline_cards(figures: list[HeadlineFigure], headline: Headline) -> None:
    """The headline figures as cards, with the line saying where the simulated ones come from."""
    figure_cards(figures)
    st.caption(
        plain(footnote(headline))
        + " Definitions: the (?) beside each figure; formulas on the Methodology page."
    )
