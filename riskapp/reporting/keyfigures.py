"""The report's headline numbers: exactly the Overview's (`riskapp.assessment.headline`), the
same figures, definitions and notes, written in the report's locale."""

from __future__ import annotations

from typing import TYPE_CHECKING

from riskapp.assessment.headline import HeadlineFigure as KeyFigure

if TYPE_CHECKING:
    from riskapp.assessment.core import Assessment

__all__ = ["KeyFigure", "key_figures"]


def key_figures(a: Assessment) -> list[KeyFigure]:
    """The headline figures of `a` in its locale (the report sets it)."""
    from riskapp.assessment.core import key_figures as headline_figures

    return headline_figures(a)
