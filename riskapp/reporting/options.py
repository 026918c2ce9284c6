"""What goes into a report (`ReportOptions`) and how it looks (`Branding`, from options or a
branding YAML file)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator

from riskapp.domain.common import Strict
from riskapp.format import Locale

HEX_COLOUR = re.compile(r"^#[0-9A-Fa-f]{6}$")


class Branding(Strict):
    """Who the report is for and how it looks; from options or a branding YAML file
    (`load_branding`). All text is user text: renderers escape it."""

    client: Annotated[str, Field(max_length=200)] = Field(
        default="", description="Client name on the title page; empty: the workspace's client."
    )
    author: Annotated[str, Field(max_length=200)] = ""
    title: Annotated[str, Field(max_length=200)] = "Geopolitical risk assessment"
    logo: Path | None = Field(
        default=None, description="PNG, JPEG or SVG; relative to the branding file."
    )
    accent_colour: str = Field(default="#0072B2", description="#RRGGBB")
    confidentiality: Annotated[str, Field(max_length=100)] = "Confidential"
    locale: Locale = Field(default="en", description="Number and date formats: en or de.")

    @field_validator("accent_colour")
    @classmethod
    def _colour(cls, value: str) -> str:
        if not HEX_COLOUR.match(value):
            raise ValueError(f"expected a colour as #RRGGBB, e.g. #0072B2, found {value!r}")
        return value.upper()

    @field_validator("logo")
    @classmethod
    def _logo(cls, value: Path | None) -> Path | None:
        if value is not None and value.suffix.lower() not in (".png", ".jpg", ".jpeg", ".svg"):
            raise ValueError(f"the logo must be a .png, .jpg or .svg file, found {value.name!r}")
        return value


def load_branding(path: str | Path) -> Branding:
    """Read a branding YAML file; problems carry their line (riskapp.InputError). A relative
    logo path is read relative to the file, and must exist."""
    from riskapp.io.errors import InputError, Problem
    from riskapp.io.workspace import display, load_model

    p = Path(path)
    branding, lines = load_model(p, Branding)
    if branding.logo is not None:
        logo = branding.logo if branding.logo.is_absolute() else p.parent / branding.logo
        if not logo.is_file():
            raise InputError(
                [Problem(display(p), lines.line(("logo",)), "logo", f"file not found: {logo}")]
            )
        branding = branding.model_copy(update={"logo": logo.resolve()})
    return branding


class ReportOptions(Strict):
    """What goes into a report."""

    scenarios: list[str] = Field(
        default_factory=list,
        description="Scenario ids to include, in any order; empty: every scenario. Expected "
        "annual loss and return-period losses are then those of the chosen scenarios.",
    )
    top_n: Annotated[int, Field(ge=1, le=1000)] = Field(
        default=10, description="Assets in the top-assets table and chart annotations."
    )
    max_table_rows: Annotated[int, Field(ge=10, le=1_000_000)] = Field(
        default=200,
        description="Rows a short format (PDF, PPTX, HTML) shows of a long table; the rest "
        "is summarised in a note. Excel always writes every row.",
    )
    include_figures: bool = Field(
        default=True, description="Build the plotly figures (off: tables only, faster)."
    )
    figures: list[str] | None = Field(
        default=None,
        description="Names of the figures to build (see `Report.figures`); None: every one. "
        "A format that draws some of them asks for those only.",
    )
