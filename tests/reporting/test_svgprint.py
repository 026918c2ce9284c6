"""`svgprint.printable`: what it leaves out of a chart's SVG, and what it must keep so that
WeasyPrint draws the same (the demo's charts drawn both ways are compared as pixels in
tests/reporting/test_pdf.py)."""

from __future__ import annotations

from xml.etree import ElementTree

import pytest

from riskapp.reporting import svgprint
from riskapp.reporting.svgprint import declarations, printable

NS = 'xmlns="http://www.w3.org/2000/svg"'


def tree(body: str, head: str = "") -> ElementTree.Element:
    svg = f'<svg {NS} width="100" height="50"{head}>{body}</svg>'
    return ElementTree.fromstring(printable(svg.encode()))


def only(root: ElementTree.Element, tag: str) -> ElementTree.Element:
    found = [e for e in root.iter() if e.tag.endswith(tag)]
    assert len(found) == 1, [e.tag for e in root.iter()]
    return found[0]


def test_style_becomes_attributes_without_what_weasyprint_never_reads() -> None:
    root = tree(
        '<path d="M0,0H10" style="fill: rgb(1, 2, 3); stroke-width: 0.5px; '
        'vector-effect: none; white-space: pre; stroke: red"/>'
    )
    path = only(root, "path")
    assert path.attrib == {
        "d": "M0,0H10",
        "fill": "rgb(1, 2, 3)",
        "stroke-width": "0.5px",
        "stroke": "red",
    }


def test_a_declaration_overrides_the_attribute_of_its_element() -> None:
    path = only(tree('<path d="M0,0H10" fill="blue" style="fill: red"/>'), "path")
    assert path.get("fill") == "red"


def test_opacities_of_one_go_only_where_they_repeat_what_is_inherited() -> None:
    root = tree(
        '<g style="fill-opacity: 0.5"><path d="M0,0H1" style="fill-opacity: 1; opacity: 1"/>'
        '</g><path d="M0,0H2" style="fill-opacity: 1; stroke-opacity: 1; opacity: 1"/>'
    )
    inner, outer = (e for e in root.iter() if e.tag.endswith("path"))
    assert inner.get("fill-opacity") == "1"  # under 0.5 it is not the default
    assert "opacity" not in inner.attrib
    assert not {"fill-opacity", "stroke-opacity", "opacity"} & set(outer.attrib)


def test_what_draws_nothing_is_left_out_and_the_rest_kept() -> None:
    root = tree(
        '<g class="empty"/><g><g/></g><g id="kept"/><path class="xlines-below"/>'
        '<rect width="5" height="5" style="fill: rgb(0, 0, 0); fill-opacity: 0;"/>'
        '<rect width="6" height="6" style="fill: none; stroke: red; stroke-width: 0"/>'
        '<rect width="7" height="7" style="fill: none; stroke: red"/>'
        '<rect width="8" height="8" style="fill-opacity: 0; stroke: red; stroke-opacity: 1"/>'
        '<rect width="9" height="9"/>'
        '<g style="fill: none"><rect width="10" height="10"/></g>'
        '<rect width="11" height="11" style="fill: none; marker-end: url(#m)"/>'
    )
    kept = sorted(int(e.get("width", 0)) for e in root.iter() if e.tag.endswith("rect"))
    assert kept == [7, 8, 9, 11]
    assert [e.get("id") for e in root.iter() if e.tag.endswith("}g") or e.tag == "g"] == ["kept"]
    assert not [e for e in root.iter() if e.tag.endswith("path")]


def test_path_coordinates_are_rounded_and_transforms_kept() -> None:
    root = tree(
        '<path d="M-0.006706009543052005,356.9031428098964L4.427948908402016,-3.0000001Z'
        'M1.2345.5 L2e-7,1.23456e2" transform="translate(440.365625,20.445)"/>'
    )
    path = only(root, "path")
    # a number glued to the next (1.2345 then .5) is left as it is
    assert path.get("d") == "M-0.01,356.9L4.43,-3ZM1.2345.5 L2e-7,123.46"
    assert path.get("transform") == "translate(440.365625,20.445)"


def test_classes_stay_where_a_style_sheet_may_select_them() -> None:
    root = tree('<style>.a { fill: red }</style><rect class="a" width="1" height="1"/>')
    assert only(root, "rect").get("class") == "a"
    assert only(tree('<rect class="a" width="1" height="1"/>'), "rect").get("class") is None


def test_what_it_cannot_read_stays_as_it_was() -> None:
    important = "fill: red !important; stroke: blue"
    rect = only(tree(f'<rect width="1" height="1" style="{important}"/>'), "rect")
    assert rect.get("style") == important
    assert declarations("fill: url(#a") is None
    assert declarations("font-family: 'Source Sans Pro', Arial") == {
        "font-family": "'Source Sans Pro', Arial"
    }
    broken = b'<svg xmlns="http://www.w3.org/2000/svg"><g></svg>'
    assert printable(broken) == broken
    foreign = (
        f'<svg {NS} xmlns:x="urn:x" width="1" height="1"><x:thing/><g style="fill: red"/></svg>'
    ).encode()
    assert printable(foreign) == foreign


def test_the_svg_namespace_is_declared_once_and_links_keep_theirs() -> None:
    svg = (
        f'<svg {NS} xmlns:xlink="http://www.w3.org/1999/xlink" width="1" height="1">'
        '<image width="1" height="1" xlink:href="data:image/png;base64,AAAA"/></svg>'
    ).encode()
    out = printable(svg)
    assert out.count(b'xmlns="http://www.w3.org/2000/svg"') == 1
    image = only(ElementTree.fromstring(out), "image")
    assert image.get("{http://www.w3.org/1999/xlink}href") == "data:image/png;base64,AAAA"


def test_inheritance_is_weasyprints() -> None:
    svg = pytest.importorskip("weasyprint.svg")
    assert svg.NOT_INHERITED_ATTRIBUTES <= svgprint.NOT_INHERITED
