"""Shared look and building blocks of the deck: slide geometry, colours, text fitting, text
boxes, notes, pictures."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pptx.dml.color import RGBColor
from pptx.enum.text import MSO_ANCHOR, PP_ALIGN
from pptx.util import Emu, Inches, Pt

from riskapp.reporting.figures import DECK_IMAGE_FIGURES
from riskapp.reporting.images import png_size
from riskapp.reporting.model import Report
from riskapp.reporting.options import HEX_COLOUR

if TYPE_CHECKING:
    pass


# python-pptx is only partly annotated (and some annotations are wrong: add_chart returns a
# graphic frame, not a Chart), so its objects are handled as Any here
Slide = Any
TextFrame = Any
PresentationType = Any
hex_colour: Any = RGBColor.from_string

Progress = Callable[[str], None]

# 16:9 slide; every shape this module places lies inside it (tests check)
SLIDE_W = Inches(13.333)
SLIDE_H = Inches(7.5)
MARGIN = Inches(0.5)
CONTENT_TOP = Inches(1.65)
CONTENT_BOTTOM = Inches(6.85)
CONTENT_W = SLIDE_W - 2 * MARGIN
CONTENT_H = CONTENT_BOTTOM - CONTENT_TOP
FONT = "Calibri"
INK = hex_colour("1F2328")
MUTED = hex_colour("5B6470")
BAND = hex_colour("F4F6F8")
GREY = hex_colour("8C8C8C")
ORANGE = hex_colour("D55E00")
DEFAULT_ACCENT = "#0072B2"
# images: drawn at this CSS width, twice the pixels (sharp when projected)
IMAGE_WIDTH_PX = {"world_map": 1100, "region_factor_heatmap": 1200, "trigger_matrix": 1100}
IMAGE_SCALE = 2.0
IMAGE_FIGURES = DECK_IMAGE_FIGURES
TABLE_ROWS = 10  # rows of a table slide before "and K more"
CATEGORY_CHARS = 48  # chart category labels are shortened beyond this


# -- text fitting ----------------------------------------------------------------------------
def text_lines(text: str, width_emu: int, size_pt: float, bold: bool = False) -> int:
    """Lines `text` takes in a box `width_emu` wide at `size_pt`: an average glyph is about
    half the font size wide (a little more in bold; Calibri is narrower than that, so the
    estimate errs on the safe side); words are not split."""
    chars = max(1, int(width_emu / Pt(size_pt * (0.58 if bold else 0.52))))
    lines = 0
    for paragraph in text.split("\n") or [""]:
        line = 0
        count = 1
        for word in paragraph.split():
            need = len(word) if line == 0 else line + 1 + len(word)
            if need > chars and line > 0:
                count += 1
                line = len(word)
            else:
                line = need
            count += max(0, (line - 1) // chars) if len(word) > chars else 0
        lines += count
    return lines


def text_height(
    text: str, width_emu: int, size_pt: float, spacing: float = 1.2, bold: bool = False
) -> int:
    return int(text_lines(text, width_emu, size_pt, bold) * Pt(size_pt * spacing))


def fit_size(
    text: str, width_emu: int, height_emu: int, largest: int, smallest: int, bold: bool = False
) -> int:
    """The largest font size (pt) from `largest` down to `smallest` at which `text` fits."""
    for size in range(largest, smallest - 1, -1):
        if text_height(text, width_emu, size, bold=bold) <= height_emu:
            return size
    return smallest


def clip(text: str, limit: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# -- building blocks -------------------------------------------------------------------------
def rgb(colour: str) -> RGBColor:
    value: RGBColor = hex_colour((colour if HEX_COLOUR.match(colour) else DEFAULT_ACCENT)[1:])
    return value


@dataclass
class Deck:
    """The presentation being built and the report's look."""

    prs: PresentationType
    report: Report
    accent: RGBColor

    @property
    def title_only(self) -> Any:
        return self.prs.slide_layouts[5]

    def slide(self, section: str, headline: str, notes: str) -> Slide:
        """A slide with a small section label, a headline stating the finding, notes."""
        slide = self.prs.slides.add_slide(self.title_only)
        label = textbox(slide, MARGIN, Inches(0.3), CONTENT_W, Inches(0.3))
        write(label.text_frame, section.upper(), 11, colour=self.accent, bold=True)
        title = slide.shapes.title
        assert title is not None
        place(title, MARGIN, Inches(0.6), CONTENT_W, Inches(0.95))
        frame = title.text_frame
        frame.margin_left = frame.margin_right = Inches(0.05)
        frame.margin_top = frame.margin_bottom = Inches(0.03)
        size = fit_size(headline, CONTENT_W - Inches(0.1), Inches(0.89), 28, 18, bold=True)
        write(frame, clip(headline, 160), size, bold=True, colour=INK)
        frame.vertical_anchor = MSO_ANCHOR.TOP
        frame.word_wrap = True
        set_notes(slide, notes)
        return slide


def place(shape: Any, left: int, top: int, width: int, height: int) -> None:
    shape.left, shape.top, shape.width, shape.height = (
        Emu(int(left)),
        Emu(int(top)),
        Emu(int(width)),
        Emu(int(height)),
    )


def textbox(slide: Slide, left: int, top: int, width: int, height: int) -> Any:
    box = slide.shapes.add_textbox(Emu(int(left)), Emu(int(top)), Emu(int(width)), Emu(int(height)))
    frame = box.text_frame
    frame.word_wrap = True
    frame.margin_left = frame.margin_right = Inches(0.05)
    frame.margin_top = frame.margin_bottom = Inches(0.03)
    return box


def write(
    frame: TextFrame,
    text: str,
    size: float,
    *,
    bold: bool = False,
    colour: RGBColor = INK,
    align: PP_ALIGN | None = None,
) -> None:
    """Replace the frame's text with `text` (one paragraph per line) in one style."""
    frame.clear()
    for i, line in enumerate(text.split("\n")):
        paragraph = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
        if align is not None:
            paragraph.alignment = align
        run = paragraph.add_run()
        run.text = line
        font = run.font
        font.size = Pt(size)
        font.bold = bold
        font.name = FONT
        font.color.rgb = colour


def add_paragraph(
    frame: TextFrame, text: str, size: float, *, bold: bool = False, colour: RGBColor = INK
) -> None:
    paragraph = frame.add_paragraph()
    run = paragraph.add_run()
    run.text = text
    run.font.size = Pt(size)
    run.font.bold = bold
    run.font.name = FONT
    run.font.color.rgb = colour


def set_notes(slide: Slide, text: str) -> None:
    slide.notes_slide.notes_text_frame.text = text


def picture(slide: Slide, png: bytes, top: int = CONTENT_TOP, height: int = CONTENT_H) -> Any:
    """The image as large as fits the content area, keeping its proportions, centred."""
    width_px, height_px = png_size(png)
    scale = min(CONTENT_W / width_px, height / height_px)
    width, tall = int(width_px * scale), int(height_px * scale)
    left = MARGIN + (CONTENT_W - width) // 2
    return slide.shapes.add_picture(
        io.BytesIO(png), Emu(int(left)), Emu(int(top)), Emu(width), Emu(tall)
    )
