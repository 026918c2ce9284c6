"""Closing slides and furniture: methodology, provenance, footers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pptx.enum.text import PP_ALIGN
from pptx.util import Emu, Inches, Pt

from riskapp.reporting.deck.common import (
    BAND,
    CONTENT_H,
    CONTENT_TOP,
    CONTENT_W,
    INK,
    MARGIN,
    MUTED,
    SLIDE_W,
    Deck,
    add_paragraph,
    clip,
    fit_size,
    hex_colour,
    text_lines,
    textbox,
    write,
)

if TYPE_CHECKING:
    pass


def methodology_slide(deck: Deck) -> None:
    report = deck.report
    headings = [
        line.removeprefix("## ").strip()
        for line in report.methodology.splitlines()
        if line.startswith("## ")
    ]
    slide = deck.slide(
        "Methodology",
        "Risk = hazard x exposure x vulnerability, per asset and scenario",
        "How every figure is computed, with formulas and worked examples, is written in the "
        "PDF's methodology appendix (also printed by `riskapp methodology`).\n\n"
        + clip(report.methodology, 4000),
    )
    box = textbox(slide, MARGIN, CONTENT_TOP, CONTENT_W, CONTENT_H)
    intro = (
        "Each scenario sets factor intensities (0-10) per country; vulnerability curves turn "
        "intensity into a damage ratio per asset type; loss = exposed value x damage ratio. "
        f"Expected annual loss: {report.key_figure('expected_annual_loss').definition} "
        "The full method:"
    )
    write(box.text_frame, intro, 16, colour=INK)
    body = "\n".join(f"• {clip(h, 90)}" for h in headings[:16])
    size = fit_size(body, CONTENT_W, CONTENT_H - Inches(1.1), 15, 10)
    for h in headings[:16]:
        add_paragraph(box.text_frame, f"• {clip(h, 90)}", size, colour=MUTED)


def provenance_slide(deck: Deck) -> None:
    report = deck.report
    p = report.provenance
    slide = deck.slide(
        "Provenance",
        "What these numbers were computed from",
        "The input hash identifies the exact input files: the same hash means the same inputs "
        "and the same numbers.\nBaseline data sources:\n"
        + "\n".join(f"- {s}" for s in p.data_sources)
        + "\nReference data:\n"
        + "\n".join(f"- {s}" for s in p.attribution),
    )
    rows = [
        ("riskapp version", p.riskapp_version),
        ("Generated", p.generated_at.strftime("%Y-%m-%d %H:%M UTC")),
        (f"Input hash (SHA-256 of {p.input_hash_basis})", p.input_hash),
        ("Scenarios", ", ".join(p.scenario_ids)),
        ("Plans", ", ".join(p.plan_ids)),
        ("Baseline data sources", "; ".join(p.data_sources) or "none recorded"),
        *(
            [("Data vintage by factor", "; ".join(f"{n}: {t}" for n, t in p.vintages))]
            if p.vintages
            else []
        ),
        *([("Exchange rates", p.exchange_rates)] if p.exchange_rates else []),
        *([("Scenario probabilities", p.probabilities)] if p.probabilities else []),
    ]
    size = 11
    label_w = Inches(2.6)
    value_w = CONTENT_W - label_w
    texts = [(label, clip(value, 420)) for label, value in rows]
    heights = [
        int(text_lines(v, value_w - Inches(0.2), size) * Pt(size * 1.2) + Inches(0.1))
        for _, v in texts
    ]
    shape = slide.shapes.add_table(
        len(rows),
        2,
        Emu(int(MARGIN)),
        Emu(int(CONTENT_TOP)),
        Emu(int(CONTENT_W)),
        Emu(min(int(CONTENT_H), sum(heights))),
    )
    grid = shape.table
    grid.first_row = False
    grid.columns[0].width = Emu(int(label_w))
    grid.columns[1].width = Emu(int(value_w))
    for i, ((label, value), h) in enumerate(zip(texts, heights, strict=True)):
        grid.rows[i].height = Emu(h)
        write(grid.cell(i, 0).text_frame, label, size, bold=True, colour=MUTED)
        write(grid.cell(i, 1).text_frame, value, size)
        for j in (0, 1):
            grid.cell(i, j).fill.solid()
            grid.cell(i, j).fill.fore_color.rgb = BAND if i % 2 else hex_colour("FFFFFF")


def footers(deck: Deck) -> None:
    """Client, confidentiality and "n / N" at the foot of every slide but the title."""
    report = deck.report
    slides = list(deck.prs.slides)
    total = len(slides)
    left_text = clip(
        f"{report.client or report.workspace_name}  ·  {report.branding.confidentiality}", 120
    )
    for n, slide in enumerate(slides[1:], start=2):
        left = textbox(slide, MARGIN, Inches(7.0), Inches(9.0), Inches(0.3))
        write(left.text_frame, left_text, 10, colour=MUTED)
        right = textbox(
            slide, SLIDE_W - MARGIN - Inches(2.0), Inches(7.0), Inches(2.0), Inches(0.3)
        )
        write(right.text_frame, f"{n} / {total}", 10, colour=MUTED, align=PP_ALIGN.RIGHT)
