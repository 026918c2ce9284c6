"""A chart's SVG made lighter for WeasyPrint to draw, drawing the same.

Plotly writes an SVG for a browser: every element carries a CSS `style` attribute (which
WeasyPrint parses with a full CSS tokenizer, element by element), about a hundred empty layer
groups, invisible legend toggles, and map outlines with 15-digit coordinates. WeasyPrint
draws the demo report's 8 charts in about 0.65 s; `printable` cuts that by a quarter:

- `style` declarations become presentation attributes (WeasyPrint applies both the same
  way: a declaration overrides the attribute of its element, and both are inherited);
  declarations WeasyPrint never reads (`white-space`, `vector-effect`, `pointer-events`) and
  ones that repeat what the element inherits anyway (an `opacity` or `fill-opacity` of 1
  under parents at 1) are left out;
- elements that draw nothing are left out: groups with nothing in them, paths with no
  outline, shapes with neither a visible fill nor a visible stroke (legend click targets);
- coordinates in paths are rounded to a hundredth of a pixel (a chart pixel prints at about
  0.2 mm; the map's outlines carry 15 digits); transforms, which place the text, are kept;
- `class` and `data-*` attributes are left out when the SVG has no `<style>` sheet (nothing
  else reads them).

Drawn by WeasyPrint, the demo's charts are pixel for pixel the same but for a few edge pixels
of the map's outlines (tests/reporting/test_pdf.py). Anything it does not understand (a
declaration with `!important` or a comment, an element of another namespace, XML it cannot
parse) stays as it was.
"""

from __future__ import annotations

import re
from xml.etree import ElementTree

SVG_NS = "http://www.w3.org/2000/svg"
# read by no part of WeasyPrint's SVG drawing (weasyprint/svg): safe to leave out
UNREAD = frozenset({"white-space", "vector-effect", "pointer-events", "cursor"})
# WeasyPrint's SVG attributes that are not inherited (weasyprint.svg.NOT_INHERITED_ATTRIBUTES)
NOT_INHERITED = frozenset(
    {
        "clip",
        "clip-path",
        "filter",
        "height",
        "id",
        "mask",
        "opacity",
        "overflow",
        "rotate",
        "stop-color",
        "stop-opacity",
        "style",
        "transform",
        "transform-origin",
        "viewBox",
        "width",
        "x",
        "y",
        "dx",
        "dy",
        "{http://www.w3.org/1999/xlink}href",
        "href",
    }
)
# values WeasyPrint takes when an attribute is absent and nothing is inherited
DEFAULTS = {"opacity": "1", "fill-opacity": "1", "stroke-opacity": "1"}
SHAPES = frozenset({"path", "rect", "circle", "ellipse", "line", "polyline", "polygon"})
CONTAINERS_KEPT = frozenset({"defs", "clipPath", "mask", "pattern", "marker", "symbol"})
# a decimal with three or more decimals, standing alone (not glued to a neighbouring number)
LONG_DECIMAL = re.compile(r"(?<![\d.eE])-?\d*\.\d{3,}(?:[eE][-+]?\d+)?(?![\d.eE])")
ZERO_WIDTH = re.compile(r"(0+(\.0*)?|\.0+)(px)?")


def printable(svg: bytes) -> bytes:
    """`svg` (a plotly chart) lighter to draw, drawing the same in WeasyPrint."""
    try:
        root = ElementTree.fromstring(svg)
    except ElementTree.ParseError:
        return svg  # WeasyPrint says what is wrong with it
    elements = list(root.iter())
    if any(not str(e.tag).startswith(f"{{{SVG_NS}}}") for e in elements):
        return svg  # not only SVG elements: left as it is
    has_sheet = any(_tag(e) == "style" for e in elements)
    _simplify(root, {}, keep_classes=has_sheet)
    # SVG as the default namespace, written once on the root (ElementTree would prefix every
    # tag); other namespaces (xlink) keep their own declarations
    for element in root.iter():
        element.tag = _tag(element)
    root.set("xmlns", SVG_NS)
    out: bytes = ElementTree.tostring(root, encoding="utf-8", xml_declaration=False)
    return out


def _tag(element: ElementTree.Element) -> str:
    return str(element.tag).rsplit("}", 1)[-1]


def declarations(style: str) -> dict[str, str] | None:
    """`style` as {name: value}; None if it holds anything but plain declarations."""
    if any(mark in style for mark in ("!", "/*", "\\", '"')):
        return None
    out: dict[str, str] = {}
    for part in style.split(";"):
        if not part.strip():
            continue
        name, sep, value = part.partition(":")
        name, value = name.strip().lower(), value.strip()
        if not sep or not name or not value or "(" in name:
            return None
        if value.count("(") != value.count(")") or value.count("'") % 2:
            return None
        out[name] = value
    return out


def _round(match: re.Match[str]) -> str:
    text = f"{float(match.group(0)):.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _simplify(element: ElementTree.Element, inherited: dict[str, str], keep_classes: bool) -> bool:
    """Simplify `element` and its children in place; False if it draws nothing (the caller
    removes it). `inherited`: the attributes it inherits, as WeasyPrint cascades them."""
    tag = _tag(element)
    attrib = element.attrib
    style = attrib.get("style")
    if style is not None:
        parsed = declarations(style)
        if parsed is not None:
            del attrib["style"]
            attrib.update({k: v for k, v in parsed.items() if not k.startswith("-")})
    for key in [k for k in attrib if k in UNREAD or k.startswith("data-")]:
        del attrib[key]
    if not keep_classes:
        attrib.pop("class", None)
    for key, value in list(attrib.items()):
        if key in NOT_INHERITED:
            if key in DEFAULTS and value == DEFAULTS[key]:
                del attrib[key]
        elif value == inherited.get(key, DEFAULTS.get(key)) and key in DEFAULTS:
            del attrib[key]
    if tag == "path" and "d" in attrib:
        attrib["d"] = LONG_DECIMAL.sub(_round, attrib["d"])

    if tag in CONTAINERS_KEPT:  # drawn by reference: left as they are inside
        return True
    mine = {**inherited, **{k: v for k, v in attrib.items() if k not in NOT_INHERITED}}
    for child in list(element):
        if not _simplify(child, mine, keep_classes):
            element.remove(child)
    if len(element):
        return True
    if tag == "g" and not attrib.get("id"):
        return False
    if tag == "path" and not attrib.get("d", "").strip():
        return False
    return not (tag in SHAPES and _invisible(mine, attrib))


def _invisible(effective: dict[str, str], attrib: dict[str, str]) -> bool:
    """A shape with these attributes paints nothing: no fill or a transparent one, and no
    stroke, a transparent one or one of no width (and no marker)."""
    if any(k.startswith("marker") for k in effective) or attrib.get("filter"):
        return False
    try:
        fill_opacity = float(effective.get("fill-opacity", "1"))
        stroke_opacity = float(effective.get("stroke-opacity", "1"))
    except ValueError:
        return False
    no_fill = effective.get("fill", "black").strip() == "none" or fill_opacity == 0
    stroke = effective.get("stroke", "none").strip()
    width = effective.get("stroke-width", "1").strip()
    no_stroke = stroke == "none" or stroke_opacity == 0 or bool(ZERO_WIDTH.fullmatch(width))
    return no_fill and no_stroke
