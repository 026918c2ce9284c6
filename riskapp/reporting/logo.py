"""Logos and every other resource a report renderer may read, closed to the outside world.

A client's logo is user input like any other: an SVG can reference `http://...` or `file:///...`
images, declare external entities or carry scripts, and a renderer that follows them makes the
server fetch URLs or copy local files into a report. Two defences, each sufficient on its own:

1. `read_logo` checks a logo before any renderer sees it: at most `MAX_LOGO_BYTES`; PNG and JPEG
   must decode (Pillow, at most `MAX_LOGO_PIXELS`) and are re-encoded as PNG, which drops
   anything but pixels; an SVG is parsed without entities, DTDs or network access and rebuilt
   keeping only drawing elements, with every reference that is not an in-document `#id` removed.
2. `LocalFetcher` is the only URL fetcher the PDF renderer uses: it serves `data:` URIs and
   files under the report templates, and refuses every other URL (http, https, ftp, file paths
   elsewhere) without opening it.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "MAX_LOGO_BYTES",
    "MAX_LOGO_PIXELS",
    "Logo",
    "LogoError",
    "checked_logo",
    "local_fetcher",
    "logo_data_uri",
    "read_logo",
]

MAX_LOGO_BYTES = 2_000_000
MAX_LOGO_PIXELS = 25_000_000
SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
XML_NS = "http://www.w3.org/XML/1998/namespace"
# drawing elements kept from an SVG logo; everything else (script, foreignObject, style sheets,
# use of other documents, animation, links) is dropped with its content
SVG_ELEMENTS = frozenset(
    {
        "svg", "g", "defs", "title", "desc", "symbol", "use", "path", "rect", "circle",
        "ellipse", "line", "polyline", "polygon", "text", "tspan", "textPath",
        "linearGradient", "radialGradient", "stop", "clipPath", "mask", "pattern", "filter",
        "feGaussianBlur", "feOffset", "feBlend", "feColorMatrix", "feFlood", "feComposite",
        "feMerge", "feMergeNode", "marker",
    }
)  # fmt: skip
PNG_MODES = frozenset({"1", "L", "LA", "P", "RGB", "RGBA"})
LOCAL_REF = re.compile(r"^#[A-Za-z_][\w.\-]*$")
CSS_URL = re.compile(r"url\(\s*['\"]?(?!#)[^)]*\)", re.IGNORECASE)


class LogoError(ValueError):
    """A logo that cannot be used, with the file and the reason."""


@dataclass(frozen=True)
class Logo:
    """A checked logo: bytes safe to embed and their media type (image/png or image/svg+xml)."""

    data: bytes
    media_type: str

    @property
    def is_svg(self) -> bool:
        return self.media_type == "image/svg+xml"


def read_logo(path: str | Path) -> Logo:
    """The checked logo of a file; LogoError naming the file and what was expected."""
    p = Path(path)
    if not p.is_file():
        raise LogoError(f"{p}: logo not found or not a regular file")
    if p.stat().st_size > MAX_LOGO_BYTES:
        raise LogoError(f"{p}: the logo is larger than {MAX_LOGO_BYTES // 1_000_000} MB")
    data = p.read_bytes()
    suffix = p.suffix.lower()
    if suffix == ".svg":
        return Logo(clean_svg(data, p), "image/svg+xml")
    if suffix in (".png", ".jpg", ".jpeg"):
        return Logo(reencode(data, p), "image/png")
    raise LogoError(f"{p}: the logo must be a .png, .jpg or .svg file")


def reencode(data: bytes, where: Path) -> bytes:
    """A PNG or JPEG decoded and written again as PNG: only pixels survive."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as img:
            if img.format not in ("PNG", "JPEG"):
                raise LogoError(f"{where}: expected a PNG or JPEG image, found {img.format}")
            if img.width * img.height > MAX_LOGO_PIXELS:
                raise LogoError(
                    f"{where}: the logo has {img.width} x {img.height} pixels, "
                    f"more than {MAX_LOGO_PIXELS:,}"
                )
            img.load()
            out = io.BytesIO()
            pixels = img if img.mode in PNG_MODES else img.convert("RGB")  # e.g. CMYK JPEG
            pixels.save(out, format="PNG")
            return out.getvalue()
    except LogoError:
        raise
    except Exception as exc:  # Pillow raises many types for broken files
        raise LogoError(f"{where}: not a readable PNG or JPEG image ({exc})") from None


def clean_svg(data: bytes, where: Path) -> bytes:
    """An SVG rebuilt from its drawing elements only, with no external reference left."""
    from lxml import etree

    if b"<!DOCTYPE" in data.upper() or b"<!ENTITY" in data.upper():
        raise LogoError(f"{where}: SVG logos may not declare a DOCTYPE or entities")
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
        remove_comments=True, remove_pis=True,
    )  # fmt: skip
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise LogoError(f"{where}: not a well-formed SVG file ({exc})") from None
    if etree.QName(root).localname != "svg":
        raise LogoError(f"{where}: expected an <svg> root element")
    clean(root)
    out: bytes = etree.tostring(root, xml_declaration=False, encoding="utf-8")
    return out


def clean(element: Any) -> None:
    """Drop disallowed children and attributes of `element`, recursively, in place."""
    from lxml import etree

    for child in list(element):
        if not isinstance(child.tag, str):
            element.remove(child)
            continue
        q = etree.QName(child)
        if q.namespace not in (None, SVG_NS) or q.localname not in SVG_ELEMENTS:
            element.remove(child)
            continue
        clean(child)
    for name in list(element.attrib):
        if unsafe_attribute(etree.QName(name), str(element.attrib[name])):
            del element.attrib[name]


def unsafe_attribute(name: Any, value: str) -> bool:
    """Event handlers, references out of the document, foreign attributes, CSS urls."""
    local = str(name.localname)
    return (
        local.lower().startswith("on")
        or (local == "href" and not LOCAL_REF.match(value.strip()))
        or name.namespace not in (None, XLINK_NS, XML_NS)
        or bool(CSS_URL.search(value))
        or "@import" in value.lower()
    )


def local_fetcher(
    roots: tuple[Path, ...], served: Mapping[str, Callable[[], bytes]] | None = None
) -> Any:
    """A WeasyPrint URL fetcher that serves `data:` URIs and regular files under `roots`, and
    refuses everything else without opening it (WeasyPrint then leaves the resource out).
    `served` answers the URLs it names with the SVG its function returns (the PDF's charts,
    drawn while the document is laid out: see `riskapp.reporting.pdf`)."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    allowed = tuple(r.resolve() for r in roots)
    answers = dict(served or {})

    class LocalFetcher(URLFetcher):  # type: ignore[misc]  # weasyprint is untyped
        refused: list[str]

        def fetch(self, url: str, headers: Any = None) -> Any:
            if url in answers:
                body = answers[url]()
                return URLFetcherResponse(url, body=body, headers={"Content-Type": "image/svg+xml"})
            scheme = url.split(":", 1)[0].lower()
            if scheme == "data":
                return super().fetch(url, headers)
            if scheme == "file":
                from urllib.parse import unquote, urlsplit

                path = Path(unquote(urlsplit(url).path)).resolve()
                if path.is_file() and any(path.is_relative_to(r) for r in allowed):
                    return super().fetch(url, headers)
            self.refused.append(url)
            raise ValueError(f"reports read nothing outside their templates: refused {url}")

    fetcher = LocalFetcher(allowed_protocols=("data", "file"), allow_redirects=False)
    fetcher.refused = []
    return fetcher


def logo_data_uri(path: str | Path | None) -> str:
    """The checked logo as a data: URI for HTML and PDF, or "" when there is none or it fails
    the checks (branding files and uploads are checked with `read_logo` before they get here)."""
    import base64

    logo = checked_logo(path)
    if logo is None:
        return ""
    return f"data:{logo.media_type};base64,{base64.b64encode(logo.data).decode('ascii')}"


def checked_logo(path: str | Path | None) -> Logo | None:
    """`read_logo`, or None when there is no logo or it fails the checks."""
    if path is None:
        return None
    try:
        return read_logo(path)
    except LogoError:
        return None
