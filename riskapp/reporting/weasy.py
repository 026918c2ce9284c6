"""WeasyPrint run for the PDF report: how the document is laid out and drawn, faster.

Three changes to how WeasyPrint works in this process, measured on the demo report (25 pages,
8 plotly charts as SVG; WeasyPrint 70):

- **WeasyPrint is imported without compiler runs** (`import_weasyprint`): it opens Pango,
  HarfBuzz and fontconfig through cffi, trying each library under five or six names (the
  Windows and macOS ones first); for every name without a path cffi asks
  `ctypes.util.find_library`, which on Linux runs `ldconfig -p` and, for a name it does not
  know, `gcc` and `ld` as subprocesses: 22 lookups, about 0.2 s of the import's 0.45 s. During
  the import a name is looked up once in one `ldconfig -p` listing instead; a name not in it
  is not found (WeasyPrint then opens the library by its Linux file name, as dlopen finds it:
  the same library the slower lookup would have named). Other systems, or no `ldconfig`:
  WeasyPrint's own import.

- **The heap is frozen while a document is rendered** (`frozen_heap`): WeasyPrint allocates
  millions of short-lived objects, and each full garbage collection they trigger walks every
  object the process already holds (the workspace, pandas, plotly figures): 0.4-0.55 s of the
  PDF's 3-3.5 s went to collections. `gc.freeze()` moves what exists to the permanent
  generation, so collections walk only what the render made; `gc.unfreeze()` puts it back.
  Garbage made while rendering is still collected.
- **SVG text is drawn a run at a time** (`install_svg_text_runs`): WeasyPrint 70 lays out and
  draws every character of an SVG `<text>`/`<tspan>` as a text of its own (about 4,000
  characters in the demo's charts: 0.44 s of the 0.73 s its charts take to draw). A text that
  places no character on its own (at most one `x`, `y`, `dx`, `dy` and `rotate` value, no
  `letter-spacing`, no `textLength`: every text plotly writes) is shaped and drawn as one run
  instead, as WeasyPrint's own main branch does since (Kozea/WeasyPrint#2249): same position,
  same anchor, same bounding box; glyphs are kerned as the browser that measured the chart
  kerned them. Anything else goes through WeasyPrint's own drawing. Only WeasyPrint 70 is
  changed (`PATCHED_MAJOR`): other versions keep their own drawing.
"""

from __future__ import annotations

import gc
import importlib
import re
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

PATCHED_MAJOR = 70  # the WeasyPrint whose SVG text drawing install_svg_text_runs knows
_INSTALL_LOCK = threading.Lock()
_IMPORT_LOCK = threading.Lock()


def import_weasyprint() -> ModuleType:
    """`weasyprint`, imported with libraries looked up in one `ldconfig -p` listing (see the
    module docstring); thread-safe."""
    with _IMPORT_LOCK:
        if "weasyprint" not in sys.modules:
            with _libraries_from_ldconfig():
                importlib.import_module("weasyprint")
        return sys.modules["weasyprint"]


@contextmanager
def _libraries_from_ldconfig() -> Iterator[None]:
    """`ctypes.util.find_library` answers from one `ldconfig -p` listing during the block
    (Linux with ldconfig; elsewhere it is left alone)."""
    import ctypes.util

    names = _ldconfig_names() if sys.platform.startswith("linux") else None
    if not names:
        yield
        return

    def find_library(name: str) -> str | None:
        # the stdlib's ldconfig reading: the first soname "lib<name>.<anything>"
        pattern = re.compile(rf"lib{re.escape(name)}\.\S+")
        return next((n for n in names if pattern.fullmatch(n)), None)

    original = ctypes.util.find_library
    ctypes.util.find_library = find_library
    try:
        yield
    finally:
        ctypes.util.find_library = original


def _ldconfig_names() -> list[str]:
    """The library file names the dynamic linker's cache lists (`ldconfig -p`), in its order;
    empty if it cannot be read."""
    import os
    import shutil
    import subprocess

    ldconfig = shutil.which("ldconfig") or next(
        (p for p in ("/sbin/ldconfig", "/usr/sbin/ldconfig") if os.path.exists(p)), None
    )
    if ldconfig is None:
        return []
    try:
        listing = subprocess.run(
            [ldconfig, "-p"],
            capture_output=True,
            check=True,
            timeout=10,
            env={"LC_ALL": "C", "LANG": "C"},
        ).stdout.decode("utf-8", "replace")
    except (OSError, subprocess.SubprocessError):
        return []
    return re.findall(r"^\s+(\S+)\s+\(", listing, flags=re.MULTILINE)


@contextmanager
def frozen_heap(*, collect: bool = True) -> Iterator[None]:
    """Garbage collections during the block skip the objects that existed before it (after
    one collection, so that no garbage is kept frozen with them; `collect` False: without it,
    for a process about to exit, where the garbage would wait for the exit anyway: the
    collection walks the whole heap, 0.1-0.2 s once the demo report is built). A process that
    froze objects itself keeps its heap as it is (`gc.unfreeze` would undo what it froze)."""
    if gc.get_freeze_count():
        yield
        return
    if collect:
        gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def weasyprint_major() -> int:
    weasyprint = import_weasyprint()
    head = str(weasyprint.__version__).split(".", 1)[0]
    return int(head) if head.isdigit() else 0


def install_svg_text_runs() -> bool:
    """Draw SVG texts without per-character positions as one run (see the module docstring);
    idempotent. True if WeasyPrint's SVG text drawing is (now) the run-at-a-time one."""
    if weasyprint_major() != PATCHED_MAJOR:
        return False
    from weasyprint import svg

    with _INSTALL_LOCK:
        current = svg.text  # the package's name for svg.text.text, which draw_node compares
        if getattr(current, "riskapp_runs", False):
            return True
        runs = _text_runs(current)
        # every tag drawn as text (text, tspan, textPath, a), and the name draw_node compares
        # them with to anchor and measure texts
        for tag, draw in list(svg.TAGS.items()):
            if draw is current:
                svg.TAGS[tag] = runs
        svg.text = runs
    return True


def _values(node: Any, key: str) -> list[str] | None:
    """The values of the list attribute `key` as WeasyPrint splits them; None if absent."""
    from weasyprint.svg.utils import normalize

    value = node.attrib.get(key)
    return None if value is None else normalize(value).strip().split(" ")


def is_run(node: Any) -> bool:
    """The text of `node` places no character on its own: it can be drawn as one run."""
    return (
        bool(node.text)
        and all(len(_values(node, key) or ()) <= 1 for key in ("x", "y", "dx", "dy", "rotate"))
        and not node.attrib.get("letter-spacing")
        and not node.attrib.get("textLength")
    )


def _text_runs(original: Callable[..., None]) -> Callable[..., None]:
    """WeasyPrint 70's `svg.text.text`, drawing a text that `is_run` as one run."""

    def text(svg: Any, node: Any, font_size: float) -> None:
        if not is_run(node):
            original(svg, node, font_size)
            return
        _draw_run(svg, node, font_size)

    text.riskapp_runs = True  # type: ignore[attr-defined]
    text.original = original  # type: ignore[attr-defined]
    return text


def _draw_run(svg: Any, node: Any, font_size: float) -> None:
    """The text of `node` laid out once and drawn once, where WeasyPrint 70 would start its
    first character, moving the text cursor and growing the text's bounding box as drawing
    it character by character would."""
    from math import cos, inf, radians, sin

    from weasyprint.css.properties import INITIAL_VALUES
    from weasyprint.draw.text import draw_emojis, draw_first_line
    from weasyprint.matrix import Matrix
    from weasyprint.svg.bounding_box import extend_bounding_box
    from weasyprint.svg.text import Style, TextBox
    from weasyprint.svg.utils import size
    from weasyprint.text.line_break import split_first_line

    style = Style()
    style.update(INITIAL_VALUES)
    style.font_config = svg.font_config
    style["font_family"] = [
        font.strip("\"'") for font in node.get("font-family", "sans-serif").split(",")
    ]
    style["font_style"] = node.get("font-style", "normal")
    style["font_size"] = font_size
    if node.get("direction") in ("ltr", "rtl"):
        style["direction"] = node.get("direction")
    weight = node.get("font-weight", 400)
    if weight == "normal":
        weight = 400
    elif weight == "bold":
        weight = 700
    else:
        try:
            weight = int(weight)
        except ValueError:
            weight = 400
    style["font_weight"] = weight

    layout, _, _, width, height, baseline = split_first_line(node.text, style, svg.context, inf, 0)

    def first(key: str, reference: float) -> float | None:
        values = _values(node, key)
        return None if values is None else float(size(values[0], font_size, reference))

    x, y = first("x", svg.inner_width), first("y", svg.inner_height)
    dx, dy = first("dx", svg.inner_width), first("dy", svg.inner_height)
    rotate = _values(node, "rotate")
    angle = radians(float(rotate[0])) if rotate and rotate[0] else 0.0

    ascent, descent = font_size * 0.8, font_size * 0.2
    y_align = 0.0
    display_anchor = node.get("display-anchor")
    alignment_baseline = node.get("dominant-baseline", node.get("alignment-baseline"))
    if display_anchor == "middle":
        y_align = -height / 2
    elif display_anchor == "top":
        pass
    elif display_anchor == "bottom":
        y_align = -height
    elif alignment_baseline in ("central", "middle"):
        y_align = (ascent + descent) / 2 - descent
    elif alignment_baseline in ("text-before-edge", "before_edge", "top", "hanging", "text-top"):
        y_align = ascent
    elif alignment_baseline in ("text-after-edge", "after_edge", "bottom", "text-bottom"):
        y_align = -descent

    # the first character's position, as WeasyPrint 70 finds it (a zero x or y, falsy, keeps
    # the offset dx and dy gathered so far, as there)
    if x:
        svg.cursor_d_position[0] = 0
    if y:
        svg.cursor_d_position[1] = 0
    svg.cursor_d_position[0] += dx or 0
    svg.cursor_d_position[1] += dy or 0
    x = svg.cursor_position[0] if x is None else x
    y = svg.cursor_position[1] if y is None else y
    svg.cursor_position = x + width, y
    x_position = x + svg.cursor_d_position[0]
    y_position = y + svg.cursor_d_position[1] + y_align
    node.text_bounding_box = extend_bounding_box(
        node.text_bounding_box,
        (
            (x_position, y_position - baseline),
            (x_position + width, y_position - baseline + height),
        ),
    )

    svg.stream.push_state()
    fill, stroke = svg.set_graphical_state(node, font_size)
    svg.stream.begin_text()
    layout.reactivate(style)
    svg.fill_stroke(fill, stroke, text=True)
    matrix = Matrix(a=1, d=-1, e=x_position, f=y_position)
    if angle:
        a, c = cos(angle), sin(angle)
        matrix = Matrix(a, -c, c, a) @ matrix
    box = TextBox(layout, style)
    box.baseline = baseline
    emojis = draw_first_line(svg.stream, box, "none", "none", matrix)
    svg.stream.end_text()
    svg.stream.pop_state()
    draw_emojis(svg.stream, style, x, y, emojis)
