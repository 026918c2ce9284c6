"""Native tables cut to what fits a slide, with "and K more"."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pptx.enum.text import PP_ALIGN
from pptx.util import Emu, Inches, Pt

from riskapp.reporting.deck.common import (
    BAND,
    CONTENT_H,
    CONTENT_TOP,
    CONTENT_W,
    MARGIN,
    MUTED,
    TABLE_ROWS,
    Deck,
    Slide,
    clip,
    hex_colour,
    text_lines,
    textbox,
    write,
)
from riskapp.reporting.tables import Table

if TYPE_CHECKING:
    pass


# -- tables ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class TableSpec:
    """Which columns of a report table a slide shows, with a width share and a text limit."""

    key: str
    share: float
    limit: int = 60


@dataclass(frozen=True)
class Fitted:
    """The part of a report table that fits a slide: its columns, widths, header, the rows
    shown (formatted and clipped) with their heights, and the total height."""

    columns: tuple[Any, ...]
    specs: tuple[TableSpec, ...]
    widths: tuple[int, ...]
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    heights: tuple[int, ...]
    header_height: int
    used: int


def fit(
    deck: Deck,
    source: Table,
    columns: Sequence[TableSpec],
    *,
    max_rows: int = TABLE_ROWS,
    size: int = 11,
) -> Fitted:
    """The first rows of `source` that fit the content area at `size` points (a slide's
    headline counts these, so title and table agree)."""
    by_key = {c.key: c for c in source.columns}
    specs = [c for c in columns if c.key in by_key]
    cols = [by_key[c.key] for c in specs]
    total = sum(c.share for c in specs)
    widths = [int(CONTENT_W * c.share / total) for c in specs]
    import dataclasses

    shown = dataclasses.replace(source, columns=tuple(cols))
    texts = shown.formatted(deck.report.fmt)
    texts = [[clip(t, s.limit) for t, s in zip(row, specs, strict=True)] for row in texts]
    header = [c.label for c in cols]
    padding = Inches(0.1)

    def row_height(cells: Sequence[str], pt: int) -> int:
        lines = max(
            text_lines(t, max(1, w - 2 * padding), pt) for t, w in zip(cells, widths, strict=True)
        )
        return int(lines * Pt(pt * 1.2) + padding)

    room = CONTENT_H - Inches(0.45)  # the "and K more" line below the table
    header_height = row_height(header, size)
    used = header_height
    rows: list[tuple[str, ...]] = []
    heights: list[int] = []
    for cells in texts[:max_rows]:
        h = row_height(cells, size)
        if used + h > room:
            break
        rows.append(tuple(cells))
        heights.append(h)
        used += h
    return Fitted(
        tuple(cols),
        tuple(specs),
        tuple(widths),
        tuple(header),
        tuple(rows),
        tuple(heights),
        header_height,
        used,
    )


def table(
    deck: Deck,
    slide: Slide,
    source: Table,
    columns: Sequence[TableSpec],
    *,
    max_rows: int = TABLE_ROWS,
    size: int = 11,
) -> Any:
    """A native table of the first rows of `source` that fit the content area (see `fit`),
    formatted as the report formats them; a last line says how many rows were left out."""
    fitted = fit(deck, source, columns, max_rows=max_rows, size=size)
    cols, widths, header = fitted.columns, fitted.widths, fitted.header
    rows, heights, used = fitted.rows, fitted.heights, fitted.used
    shape = slide.shapes.add_table(
        len(rows) + 1,
        len(cols),
        Emu(int(MARGIN)),
        Emu(int(CONTENT_TOP)),
        Emu(int(CONTENT_W)),
        Emu(int(used)),
    )
    grid = shape.table
    for i, w in enumerate(widths):
        grid.columns[i].width = Emu(w)
    grid.rows[0].height = Emu(fitted.header_height)
    for i, h in enumerate(heights, start=1):
        grid.rows[i].height = Emu(h)
    numeric = [c.kind != "text" for c in cols]
    for j, text in enumerate(header):
        cell = grid.cell(0, j)
        write(
            cell.text_frame,
            text,
            size,
            bold=True,
            colour=hex_colour("FFFFFF"),
            align=PP_ALIGN.RIGHT if numeric[j] else PP_ALIGN.LEFT,
        )
        cell.fill.solid()
        cell.fill.fore_color.rgb = deck.accent
    for i, cells in enumerate(rows, start=1):
        for j, text in enumerate(cells):
            cell = grid.cell(i, j)
            write(
                cell.text_frame,
                text,
                size,
                align=PP_ALIGN.RIGHT if numeric[j] else PP_ALIGN.LEFT,
            )
            cell.fill.solid()
            cell.fill.fore_color.rgb = BAND if i % 2 == 0 else hex_colour("FFFFFF")
    more = len(source.frame) - len(rows)
    if more > 0 or source.note:
        note = textbox(slide, MARGIN, CONTENT_TOP + used + Inches(0.05), CONTENT_W, Inches(0.4))
        text = (
            f"… and {deck.report.fmt.number(more)} more"
            + (f" ({source.order})" if source.order else "")
            + "; the Excel export has every row."
            if more > 0
            else source.note
        )
        write(note.text_frame, clip(text, 200), 11, colour=MUTED)
    return shape
