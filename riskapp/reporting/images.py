"""Static chart images for the documents: SVG for the PDF (vector, crisp at any zoom), PNG for
the deck, drawn by kaleido in one headless Chromium that every chart of a report shares.

Starting the browser costs about 3 s; each chart after that 0.3-0.8 s. So a report renders all
its charts through one `ImageSession` (a context manager), never one `write_image` per chart.
World maps draw offline: the outlines come from the file shipped with the dashboard
(`riskapp/dashboard/static/world_110m.json`), never from plotly's CDN, and MathJax (also a CDN
script) is switched off.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Protocol, TypeVar

ImageFormat = Literal["svg", "png"]

# the world outlines the dashboard serves; kaleido reads them from a file:// URL
STATIC = Path(__file__).resolve().parent.parent / "dashboard" / "static"
TOPOJSON_URL = STATIC.as_uri() + "/"

CHROMIUM_HINT = (
    "static charts need a Chromium browser on PATH: on Debian, "
    "`apt-get install -y chromium` (make run installs it)"
)

T = TypeVar("T")


class FigureLike(Protocol):
    """A plotly figure (anything with `to_dict()`): this module needs no plotly import."""

    def to_dict(self) -> dict[str, Any]: ...


class ImageExportError(RuntimeError):
    """A chart could not be drawn as an image (no browser, or the browser failed)."""


@dataclass(frozen=True)
class Chart:
    """One figure to draw, its name in the report, and its size in CSS pixels.

    `height_px` None takes the figure's own layout height (the dashboard's builders set one).
    `layout` is merged into the figure's layout and `traces` into each of its traces for this
    image only (e.g. a colour bar below a heat map on a page); the figure itself is left as it
    is.
    """

    key: str
    figure: FigureLike
    width_px: int = 900
    height_px: int | None = None
    layout: Mapping[str, Any] = field(default_factory=dict)
    min_font_px: float = 0.0
    traces: Mapping[str, Any] = field(default_factory=dict)

    def spec(self) -> dict[str, Any]:
        """The figure as a dict, with `layout` merged in and no text smaller than
        `min_font_px` (a page shrinks the image: see `riskapp.reporting.pdf.charts_of`)."""
        spec = self.figure.to_dict()
        if self.layout:
            spec["layout"] = merged(spec.get("layout", {}), self.layout)
        if self.traces:
            spec["data"] = [merged(trace, self.traces) for trace in spec.get("data", [])]
        if self.min_font_px:
            layout = spec.setdefault("layout", {})
            font = layout.setdefault("font", {})
            font["size"] = max(float(font.get("size") or PLOTLY_FONT_PX), self.min_font_px)
            spec = at_least(spec, self.min_font_px)
        return spec

    def size(self) -> tuple[int, int]:
        if self.height_px is not None:
            return self.width_px, self.height_px
        layout = self.figure.to_dict().get("layout", {})
        return self.width_px, int(layout.get("height") or 500)


class ImageSession:
    """One Chromium (through kaleido) kept open for all the charts of one or more documents.

    ```python
    with ImageSession() as images:
        svgs = images.render(charts, "svg")      # for the PDF
        pngs = images.render(charts, "png", 2)   # for the deck, same browser
    ```

    The browser runs on an event loop in a thread of its own, so a caller that already runs an
    event loop (a notebook, a web server) can use it too. `tabs` charts are drawn at a time.
    """

    def __init__(self, *, tabs: int = 2, timeout_s: float = 60.0) -> None:
        self._tabs = tabs
        self._timeout_s = timeout_s
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._browser: Any = None

    def __enter__(self) -> ImageSession:
        self.open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def is_open(self) -> bool:
        return self._browser is not None

    def open(self) -> None:
        if self.is_open:
            return
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, name="riskapp-kaleido", daemon=True)
        thread.start()
        self._loop, self._thread = loop, thread
        try:
            self._browser = self._run(self._open_browser())
        except BaseException:
            self._stop_loop()
            raise

    async def _open_browser(self) -> Any:
        import kaleido
        from kaleido.errors import ChromeNotFoundError

        try:
            browser = kaleido.Kaleido(n=self._tabs, timeout=self._timeout_s, mathjax=False)
            await browser.__aenter__()
        except ChromeNotFoundError as exc:
            raise ImageExportError(CHROMIUM_HINT) from exc
        return browser

    def close(self) -> None:
        if self._browser is not None:
            browser, self._browser = self._browser, None
            try:
                self._run(browser.__aexit__(None, None, None))
            finally:
                self._stop_loop()

    def _stop_loop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
            self._loop.close()
        self._loop, self._thread = None, None

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        if self._loop is None:
            raise RuntimeError("the image session is not open")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    def render(
        self, charts: Sequence[Chart], fmt: ImageFormat, scale: float = 1.0
    ) -> dict[str, bytes]:
        """Each chart drawn as `fmt`, by key, in the order given. PNG `scale` multiplies the
        pixel size (2 for slides projected on a large screen)."""
        keys = [c.key for c in charts]
        if len(set(keys)) != len(keys):
            raise ValueError(f"chart keys must be unique: {keys}")
        if not self.is_open:
            self.open()
        images = self._run(self._render_all(charts, fmt, scale))
        return dict(zip(keys, images, strict=True))

    async def _render_all(
        self, charts: Sequence[Chart], fmt: ImageFormat, scale: float
    ) -> list[bytes]:
        return list(await asyncio.gather(*(self._render_one(c, fmt, scale) for c in charts)))

    async def _render_one(self, chart: Chart, fmt: ImageFormat, scale: float) -> bytes:
        width, height = chart.size()
        opts = {"format": fmt, "width": width, "height": height, "scale": scale}
        try:
            data: bytes = await self._browser.calc_fig(
                chart.spec(), opts=opts, topojson=TOPOJSON_URL
            )
        except Exception as exc:
            raise ImageExportError(f"chart {chart.key!r} could not be drawn: {exc}") from exc
        return data


def render_charts(
    charts: Sequence[Chart], fmt: ImageFormat, scale: float = 1.0
) -> dict[str, bytes]:
    """Draw `charts` in a browser session opened for this call only."""
    with ImageSession() as images:
        return images.render(charts, fmt, scale)


PLOTLY_FONT_PX = 12  # plotly's font size where a figure sets none
FONT_KEYS = {"font", "tickfont", "textfont", "insidetextfont", "outsidetextfont"}


def at_least(node: Any, size: float) -> Any:
    """A copy of a figure spec with every explicit font size below `size` raised to it."""
    if isinstance(node, Mapping):
        out = {}
        for key, value in node.items():
            raised = at_least(value, size)
            if key in FONT_KEYS and isinstance(raised, dict):
                current = raised.get("size")
                if isinstance(current, (int, float)) and current < size:
                    raised = {**raised, "size": size}
            out[key] = raised
        return out
    if isinstance(node, list):
        return [at_least(v, size) for v in node]
    return node


def merged(base: Mapping[str, Any], update: Mapping[str, Any]) -> dict[str, Any]:
    """`base` with `update` merged in, nested dicts merged key by key (neither is changed)."""
    out = dict(base)
    for key, value in update.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merged(out[key], value)
        else:
            out[key] = value
    return out


def svg_data_uri(svg: bytes) -> str:
    """An SVG as a data: URI for an <img> in the PDF's HTML (base64: no quoting pitfalls)."""
    import base64

    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")


def png_size(png: bytes) -> tuple[int, int]:
    """Width and height in pixels, read from the PNG header."""
    if png[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG image")
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
