"""Static chart images for the documents: SVG for the PDF (vector, crisp at any zoom), PNG for
the deck, drawn by kaleido in one headless Chromium that every chart of a report shares.

Starting the browser costs about 1-2 s (its page loads a plotly.js with only the report's trace
types: riskapp.reporting.plotlyjs); each chart after that 0.1-0.3 s. So the charts of
every report of a process are drawn in one `ImageSession` (`shared_session()`), never one
`write_image` per chart, and an image drawn once is not drawn again: not in the process
(`ImageCache`), nor in a later one (`ChartStore`, the images kept under the data directory; a
report whose images are all kept starts no browser). See riskapp.reporting.chartcache.
World maps draw offline: the outlines come from the file shipped with the dashboard
(`riskapp/dashboard/static/world_110m.json`), never from plotly's CDN, and MathJax (also a CDN
script) is switched off.
"""

from __future__ import annotations

import asyncio
import atexit
import functools
import threading
from collections import deque
from collections.abc import Coroutine, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Literal, Protocol, TypeVar

from riskapp.reporting.chartcache import (
    TOPOJSON_URL,
    ChartStore,
    ImageCache,
    ImageFormat,
    image_key,
)
from riskapp.reporting.plotlyjs import check_traces, plotlyjs_for_images

CHROMIUM_HINT = (
    "static charts need a Chromium browser on PATH: on Debian, "
    "`apt-get install -y chromium` (make run installs it)"
)

T = TypeVar("T")
ASKED_KEPT = 4096  # image keys `ImageSession.asked` keeps (a long-lived process asks many)


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

    def size(self, spec: Mapping[str, Any] | None = None) -> tuple[int, int]:
        """Width and height in CSS px; `spec` (this chart's `spec()`) saves building it."""
        if self.height_px is not None:
            return self.width_px, self.height_px
        layout = (spec if spec is not None else self.figure.to_dict()).get("layout", {})
        return self.width_px, int(layout.get("height") or 500)


class _LoopThread:
    """An asyncio event loop running in a daemon thread of its own."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(
            target=self.loop.run_forever, name="riskapp-kaleido", daemon=True
        )
        self.thread.start()

    def submit(self, coro: Coroutine[Any, Any, T]) -> Future[T]:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        if not self.thread.is_alive():
            self.loop.close()


CACHE = ImageCache()  # one per process: every session and every format share it


class ImageSession:
    """One Chromium (through kaleido) kept open for all the charts of one or more documents.

    ```python
    with ImageSession() as images:
        svgs = images.render(charts, "svg")      # for the PDF
        pngs = images.render(charts, "png", 2)   # for the deck, same browser
    ```

    `start()` opens the browser in the background and returns at once (a caller can build
    the report meanwhile); `submit()` asks for images and returns futures, so a document can
    be laid out while its charts are drawn; `render()` waits for them. An image drawn before
    (same figure, format, size and scale: `image_key`) comes from `cache` (this process) or
    from `store` (the chart images on disk, `chartcache.ChartStore`; "settings": the one the
    settings name when images are asked for; "off": none), and one already being drawn is
    drawn once for every caller that asks; the browser is started only for an image found in
    neither. `exports` counts the images this session's browser drew, `stored` those read
    from disk, `launches` the browsers it started; `asked` holds the keys of the images
    asked for (the last ASKED_KEPT).

    The browser runs on an event loop in a thread of its own, so a caller that already runs an
    event loop (a notebook, a web server) can use it too, from any thread. `tabs` charts are
    drawn at a time. One tab by default: kaleido loads plotly.js into each tab one after the
    other when the browser opens (about 0.7 s a tab here), more than a second tab saves on a
    report's 4-8 charts, and on two cores the document is being laid out meanwhile.
    """

    def __init__(
        self,
        *,
        tabs: int = 1,
        timeout_s: float = 60.0,
        cache: ImageCache | None = None,
        store: ChartStore | Literal["settings", "off"] = "settings",
    ) -> None:
        self._tabs = tabs
        self._timeout_s = timeout_s
        self.cache = CACHE if cache is None else cache
        self.store = store
        self._plotlyjs = plotlyjs_for_images()
        self.exports = 0
        self.stored = 0
        self.launches = 0
        self.asked: deque[str] = deque(maxlen=ASKED_KEPT)
        self._lock = threading.RLock()
        self._runner: _LoopThread | None = None
        self._opening: Future[Any] | None = None
        self._drawing: dict[str, Future[bytes]] = {}
        self._failed = False  # an image failed: the browser is started afresh before the next
        self._close_when_drawn = False  # close_when_drawn() was asked
        self._closing: threading.Thread | None = None  # closing in the background

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
        """The browser is open or being opened."""
        return self._opening is not None

    def start(self) -> None:
        """Open the browser in the background, if it is not open or opening; returns at once.
        A browser that failed to open is tried again."""
        with self._lock:
            opening = self._opening
            if opening is not None:
                if not (opening.done() and opening.exception() is not None):
                    return
                self._detach()
            self._runner = _LoopThread()
            self._opening = self._runner.submit(self._open_browser())
            self.launches += 1

    def open(self) -> None:
        """Open the browser and wait until it is ready (ImageExportError if it cannot)."""
        self.start()
        opening = self._opening
        assert opening is not None
        try:
            opening.result()
        except BaseException:
            with self._lock:
                if self._opening is opening:
                    self._detach()
            raise

    async def _open_browser(self) -> Any:
        from kaleido.errors import ChromeNotFoundError

        try:
            browser = kaleido_class()(
                n=self._tabs, timeout=self._timeout_s, mathjax=False, plotlyjs=self._plotlyjs
            )
            await browser.__aenter__()
        except ChromeNotFoundError as exc:
            raise ImageExportError(CHROMIUM_HINT) from exc
        return browser

    def close(self) -> None:
        """Close the browser (after the images being drawn); the session can be opened again.
        Waits for a close begun in the background (`close_when_drawn`) to end."""
        closing = self._closing
        if closing is not None and closing is not threading.current_thread():
            closing.join()
        with self._lock:
            opening, runner = self._opening, self._runner
            self._detach(stop=False)
        if opening is None or runner is None:
            return
        try:
            if opening.exception() is None:
                runner.submit(opening.result().__aexit__(None, None, None)).result()
        finally:
            runner.stop()

    def close_when_drawn(self) -> None:
        """Close the browser in the background as soon as the images asked for next (or being
        drawn now) are drawn: for a process that draws no image after its report (the CLI),
        so that shutting the browser down (about 0.5 s) overlaps with writing the document
        instead of delaying the exit. A later `submit` opens the browser again."""
        with self._lock:
            self._close_when_drawn = True

    def _drawn(self, key: str) -> None:
        """Image `key` is no longer being drawn (called on the browser's loop)."""
        with self._lock:
            self._drawing.pop(key, None)
            if not self._drawing:
                self._close_if_asked()

    def _close_if_asked(self) -> None:
        """Close the browser in the background if `close_when_drawn` was asked and it is open
        with nothing to draw."""
        with self._lock:
            if not (self._close_when_drawn and not self._drawing and self._opening):
                return
            self._close_when_drawn = False
            # not on the browser's loop, which close() waits on
            self._closing = threading.Thread(
                target=self.close, name="riskapp-kaleido-close", daemon=True
            )
            self._closing.start()

    def _detach(self, *, stop: bool = True) -> None:
        """Forget the browser and its loop (stopping the loop unless `stop` is False)."""
        if stop and self._runner is not None:
            self._runner.stop()
        self._runner, self._opening = None, None
        self._drawing.clear()

    def submit(
        self, charts: Sequence[Chart], fmt: ImageFormat, scale: float = 1.0
    ) -> dict[str, Future[bytes]]:
        """Each chart's image as a future, by key, in the order given; returns at once. Images
        in the cache are done already; the others are drawn in the order given (the browser
        is started if need be). A failed image's future raises ImageExportError."""
        keys = [c.key for c in charts]
        if len(set(keys)) != len(keys):
            raise ValueError(f"chart keys must be unique: {keys}")
        with self._lock:
            restart = self._failed and not self._drawing
            if restart:
                self._failed = False
        if restart:  # a browser that failed once (it may have crashed) is not trusted again
            self.close()
        futures: dict[str, Future[bytes]] = {}
        missing = []
        store = self._disk()
        for chart in charts:
            spec = chart.spec()
            self._check_traces(chart.key, spec)
            width, height = chart.size(spec)
            key = image_key(spec, fmt, width, height, scale)
            self.asked.append(key)
            cached = self.cache.get(key)
            if cached is None and store is not None:
                cached = store.get(key)
                if cached is not None:
                    self.cache.put(key, cached)
                    with self._lock:
                        self.stored += 1
            if cached is not None:
                done: Future[bytes] = Future()
                done.set_result(cached)
                futures[chart.key] = done
            else:
                missing.append((chart.key, spec, width, height, key))
        with self._lock:  # all asked for at once: none is drawn before the last is asked for
            for name, spec, width, height, key in missing:
                drawing = self._drawing.get(key)
                if drawing is None:
                    self.start()
                    assert self._runner is not None and self._opening is not None
                    opts = {"format": fmt, "width": width, "height": height, "scale": scale}
                    drawing = self._runner.submit(
                        self._render_one(self._opening, name, spec, opts, key, store)
                    )
                    self._drawing[key] = drawing
                futures[name] = drawing
            if not self._drawing:
                self._close_if_asked()  # all stored: a browser started early is not needed
        return {chart.key: futures[chart.key] for chart in charts}

    def _disk(self) -> ChartStore | None:
        """The chart images on disk this session reads and writes, if any."""
        if self.store == "off":
            return None
        if self.store == "settings":
            return ChartStore.from_settings()
        return self.store

    def _check_traces(self, name: str, spec: Mapping[str, Any]) -> None:
        """A chart the session's plotly.js cannot draw raises ValueError (plotly.js would draw
        an unknown trace type as nothing, silently)."""
        if self._plotlyjs is None:
            return
        check_traces(name, spec)

    def render(
        self, charts: Sequence[Chart], fmt: ImageFormat, scale: float = 1.0
    ) -> dict[str, bytes]:
        """Each chart drawn as `fmt`, by key, in the order given. PNG `scale` multiplies the
        pixel size (2 for slides projected on a large screen)."""
        return {key: future.result() for key, future in self.submit(charts, fmt, scale).items()}

    async def _render_one(
        self,
        opening: Future[Any],
        name: str,
        spec: dict[str, Any],
        opts: dict[str, Any],
        key: str,
        store: ChartStore | None = None,
    ) -> bytes:
        try:
            browser = await asyncio.wrap_future(opening)
            try:
                data: bytes = await self._draw(browser, spec, opts)
            except Exception as exc:
                with self._lock:
                    self._failed = True
                raise ImageExportError(f"chart {name!r} could not be drawn: {exc}") from exc
            self.cache.put(key, data)
            if store is not None:
                store.put(key, data)
            with self._lock:
                self.exports += 1
            return data
        finally:
            self._drawn(key)

    @staticmethod
    async def _draw(browser: Any, spec: dict[str, Any], opts: dict[str, Any]) -> bytes:
        """One image; a failure is tried once more on freshly reloaded pages (kaleido's page
        now and then fails an image with "kaleido_scopes is not defined", its script not
        there; the next image on a reloaded page is drawn). A timeout is not tried again: it
        has taken `timeout_s` already."""
        try:
            data: bytes = await browser.calc_fig(spec, opts=opts, topojson=TOPOJSON_URL)
        except TimeoutError:
            raise
        except Exception:
            reload_pages = getattr(browser, "reload_pages", None)
            if reload_pages is None:
                raise
            reload_pages()
            data = await browser.calc_fig(spec, opts=opts, topojson=TOPOJSON_URL)
        return data


RELOAD_EVERY = 25  # images a kaleido page draws before it is reloaded


@functools.cache
def kaleido_class() -> type[Any]:
    """The browser class: kaleido's, with its pages reloaded every RELOAD_EVERY images
    instead of after every image.

    kaleido 1.x reloads a page (plotly.js parsed and run again) after each image it draws:
    a clean page for every figure and, as in kaleido 0.x (which reloaded once the page's
    JavaScript heap passed half its limit, plotly/Kaleido#43), memory that repeated calls
    into the page hold on to is let go. That reload takes 0.25-0.5 s of the browser's time
    for each image, as long as drawing a report chart itself, and each image waits for it
    (kaleido reloads before it returns the image). A report draws 4-12 images; a page used
    for RELOAD_EVERY images and then reloaded keeps a long-lived process's (the dashboard's)
    browser memory bounded all the same. After a failed image every page is reloaded before
    its next use (`reload_pages`), so a page left in a bad state draws nothing more.

    With a kaleido whose tab handling is not the one this was written for (no
    `_get_kaleido_tab`, `_return_kaleido_tab` or page `reload`), kaleido's own class."""
    import kaleido

    base: type[Any] = kaleido.Kaleido
    try:
        from kaleido._kaleido_tab import _KaleidoTab  # checked below
    except ImportError:
        return base
    if not (
        callable(getattr(base, "_get_kaleido_tab", None))
        and callable(getattr(base, "_return_kaleido_tab", None))
        and callable(getattr(_KaleidoTab, "reload", None))
    ):
        return base

    class ReusingKaleido(base):  # type: ignore[misc]
        """kaleido.Kaleido reloading a page only every RELOAD_EVERY images or after a
        failure, before the page's next image (not after each image)."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.page_uses: dict[int, int] = {}  # images drawn on each page since its load
            self.page_loads: dict[int, int] = {}  # the generation each page was loaded in
            self.generation = 0  # bumped by reload_pages: older pages reload before use
            self.reloads = 0

        def reload_pages(self) -> None:
            """Reload every page before it draws its next image."""
            self.generation += 1

        async def _get_kaleido_tab(self) -> Any:
            tab = await super()._get_kaleido_tab()
            page = id(tab)
            stale = self.page_loads.setdefault(page, self.generation) != self.generation
            if stale or self.page_uses.get(page, 0) >= RELOAD_EVERY:
                try:
                    await tab.reload()
                except BaseException:
                    await self.tabs_ready.put(tab)  # the next request tries it again
                    raise
                self.reloads += 1
                self.page_uses[page] = 0
                self.page_loads[page] = self.generation
            self.page_uses[page] = self.page_uses.get(page, 0) + 1
            return tab

        async def _return_kaleido_tab(self, tab: Any) -> None:
            await self.tabs_ready.put(tab)

    return ReusingKaleido


_SHARED: ImageSession | None = None
_SHARED_LOCK = threading.Lock()


def shared_session() -> ImageSession:
    """The process's own image session: every report of the process draws its charts in this
    one browser (opened on first use, closed when the process exits). Reports built one after
    another (the CLI, the dashboard's download buttons) pay for starting Chromium once."""
    global _SHARED  # noqa: PLW0603  # one per process, made on first use
    with _SHARED_LOCK:
        if _SHARED is None:
            _SHARED = ImageSession()
            atexit.register(_SHARED.close)
        return _SHARED


def close_shared_session() -> None:
    """Close the shared session's browser now, if it was opened (it is also closed at exit)."""
    with _SHARED_LOCK:
        session = _SHARED
    if session is not None:
        session.close()


def start_browser(*, close_when_drawn: bool = False) -> None:
    """Start the shared session's browser in the background, for a caller that knows charts
    will be drawn soon (the CLI, before it loads and scores the workspace). `close_when_drawn`:
    the caller draws no image after the next ones (one report, then exit): the browser closes
    in the background once they are drawn (`ImageSession.close_when_drawn`)."""
    session = shared_session()
    session.start()
    if close_when_drawn:
        session.close_when_drawn()


def render_charts(
    charts: Sequence[Chart], fmt: ImageFormat, scale: float = 1.0
) -> dict[str, bytes]:
    """Draw `charts` in the process's shared browser session."""
    return shared_session().render(charts, fmt, scale)


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
