"""The PowerPoint deck: the report's story, one message per slide (python-pptx).

Each slide's title states its finding in the report's numbers ("Accidental NATO-Russia
escalation would cost EUR 543.3m"); the speaker notes hold the definitions of the figures on it.
Bar charts are native PowerPoint charts (editable, data in the embedded workbook); the world
map, heat maps and the exceedance curve are PNG images drawn by kaleido in one browser
session (`images.py`). Tables are native tables cut to what fits, with "and K more".

User text is written as text: PowerPoint has no markup to inject, and chart categories go into
the embedded workbook as strings, never as formulas (`=HYPERLINK(...)` stays a label).

    from riskapp.reporting import build_report, deck
    deck.render(build_report("demo"), Path("deck.pptx"))

Modules by slide kind: opening (title, summary, actions), simulated (key figures, exceedance,
return periods, tail by factor and asset, plan BCR), losses (map, scenarios, factors, heat map,
assets), plans (plans, cost-benefit, gaps, triggers, waterfall), closing
(methodology, provenance, footers); common, charts and tables hold the building blocks.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

from pptx import Presentation
from pptx.util import Emu

from riskapp.reporting.deck.closing import footers, methodology_slide, provenance_slide
from riskapp.reporting.deck.common import (
    IMAGE_FIGURES,
    IMAGE_SCALE,
    IMAGE_WIDTH_PX,
    SLIDE_H,
    SLIDE_W,
    Deck,
    PresentationType,
    Progress,
    clip,
    fit_size,
    rgb,
    text_lines,
)
from riskapp.reporting.deck.losses import (
    assets_slide,
    clamp_slide,
    factor_slide,
    heatmap_slide,
    map_slide,
    scenario_slide,
)
from riskapp.reporting.deck.opening import (
    actions_slide,
    changes_slide,
    summary_slide,
    title_slide,
)
from riskapp.reporting.deck.plans import (
    checklist_slide,
    cost_benefit_slide,
    gaps_slide,
    plans_slide,
    trigger_slide,
    waterfall_slide,
)
from riskapp.reporting.deck.simulated import (
    asset_tail_slide,
    exceedance_slide,
    factor_tail_slide,
    key_figures_slide,
    plan_bcr_slide,
    return_period_slide,
)
from riskapp.reporting.images import Chart, ImageSession, shared_session
from riskapp.reporting.model import Report

if TYPE_CHECKING:
    from pathlib import Path

__all__ = [
    "IMAGE_FIGURES",
    "Deck",
    "build_deck",
    "charts_of",
    "fit_size",
    "render",
    "render_bytes",
    "text_lines",
]


def render(
    report: Report,
    path: Path,
    progress: Progress | None = None,
    *,
    images: ImageSession | None = None,
) -> None:
    """Write the deck of `report` at `path` (the registry's entry point). Pass an open
    `images` session to share one browser with other formats."""
    path.write_bytes(render_bytes(report, progress=progress, images=images))


def render_bytes(
    report: Report,
    *,
    progress: Progress | None = None,
    images: ImageSession | None = None,
) -> bytes:
    """The deck of `report`. Its pictures are drawn by the browser (`images`, else the
    process's shared session) while the slides are built; a picture slide waits for its own
    image only."""
    say = progress or (lambda _text: None)
    charts = charts_of(report)
    pngs: Mapping[str, bytes] = {}
    if charts:
        say(f"Drawing {len(charts)} chart images while building the slides")
        session = images if images is not None else shared_session()
        pngs = Pending(session.submit(charts, "png", IMAGE_SCALE))
    else:
        say("Building the slides")
    buffer = io.BytesIO()
    build_deck(report, pngs).save(buffer)
    return buffer.getvalue()


class Pending(Mapping[str, bytes]):
    """Images being drawn, by name: `name in pending` answers at once, `pending[name]` waits
    for that image (and raises its error)."""

    def __init__(self, drawing: Mapping[str, Future[bytes]]) -> None:
        self._drawing = dict(drawing)

    def __getitem__(self, name: str) -> bytes:
        return self._drawing[name].result()

    def __contains__(self, name: object) -> bool:
        return name in self._drawing

    def __iter__(self) -> Iterator[str]:
        return iter(self._drawing)

    def __len__(self) -> int:
        return len(self._drawing)


def charts_of(report: Report) -> list[Chart]:
    """The figures the deck shows as pictures (the others are native charts)."""
    return [
        Chart(name, report.figures[name].figure, IMAGE_WIDTH_PX.get(name, 1000))
        for name in IMAGE_FIGURES
        if name in report.figures
    ]


# -- the deck --------------------------------------------------------------------------------
def build_deck(report: Report, pngs: Mapping[str, bytes]) -> PresentationType:
    """Every slide of the deck; `pngs` are the chart images by figure name (a slide whose
    image is missing is left out)."""
    prs: Any = Presentation()
    prs.slide_width = Emu(int(SLIDE_W))
    prs.slide_height = Emu(int(SLIDE_H))
    core = prs.core_properties
    core.title = clip(report.branding.title, 200)
    core.author = clip(report.branding.author, 200)
    core.subject = clip(f"{report.client} - {report.workspace_name}", 250)
    core.keywords = f"riskapp {report.provenance.riskapp_version}; {report.provenance.input_hash}"
    deck = Deck(prs, report, rgb(report.branding.accent_colour))
    title_slide(deck)
    summary_slide(deck)
    key_figures_slide(deck)
    actions_slide(deck)
    changes_slide(deck)
    if "world_map" in pngs:
        map_slide(deck, pngs["world_map"])
    scenario_slide(deck)
    clamp_slide(deck)
    if "exceedance" in pngs:
        exceedance_slide(deck, pngs["exceedance"])
    return_period_slide(deck)
    factor_tail_slide(deck)
    asset_tail_slide(deck)
    factor_slide(deck)
    if "region_factor_heatmap" in pngs:
        heatmap_slide(deck, pngs["region_factor_heatmap"])
    assets_slide(deck)
    if len(report.tables.plans):
        plans_slide(deck)
        cost_benefit_slide(deck)
        plan_bcr_slide(deck)
        gaps_slide(deck)
        if "trigger_matrix" in pngs:
            trigger_slide(deck, pngs["trigger_matrix"])
        waterfall_slide(deck)
    checklist_slide(deck)
    methodology_slide(deck)
    provenance_slide(deck)
    footers(deck)
    return prs
