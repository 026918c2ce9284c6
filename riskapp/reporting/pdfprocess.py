"""The PDF laid out and drawn in a process of its own, for a process that writes one report
(the command line's `riskapp report`).

A PDF's command spends its first seconds on one core: importing the report's modules, loading
and scoring the workspace, simulating, building the tables and figures, writing the HTML.
WeasyPrint then has to be imported (0.3-0.45 s: it opens Pango, HarfBuzz and fontconfig) and
lay out its first document (fonts found and loaded) before the report's own layout starts.
With `start()`, called as the command starts (`registry.prepare`), a renderer process
(`main`) does that on the other core meanwhile: it imports WeasyPrint and lays out a small
document in the report's style sheet, then waits. The command sends it the report's HTML,
then each chart as the browser finishes it (or from the chart cache), in the order of the
pages; the renderer lays the pages out around the charts' frames as soon as the HTML arrives
and takes each chart when it draws its page, exactly as `riskapp.reporting.pdf.pdf_from_html`
does in one process (the same WeasyPrint calls, the same fetcher, the same SVG text drawing),
and sends back the PDF. Its heap holds WeasyPrint only,
so its garbage collections walk little (the command's own process holds the workspace,
pandas and plotly: `weasy.frozen_heap`). Measured on the demo, the whole `riskapp report`
process with its chart images kept, alternating with the commit before: 4.99 s -> 4.66 s and
4.86 s -> 4.61 s (medians of 5 and 6 runs). Without the images kept, Chromium draws the charts
on the second core meanwhile, and a renderer process only competes with it (5.91 s -> 6.04 s):
the command line starts one only when no browser starts (`registry.prepare`).

Messages on the pipes are frames: a kind (one byte), a name and a body, each preceded by its
length (`FRAME`). The command sends DOCUMENT (the HTML; its name lists the charts' URLs, one a
line), then CHART (URL, printable SVG) or MISSING (URL, why) for each chart, then END. The
renderer answers PDF (the bytes) or FAILED (what went wrong). It needs nothing else: a renderer
whose command ends without sending a document (an error, a report never built) reads the end
of its input and exits; so does one whose command was killed.
"""

from __future__ import annotations

import atexit
import contextlib
import struct
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path
from typing import IO

TEMPLATES = Path(__file__).resolve().parent / "templates"
FRAME = struct.Struct(">cII")  # kind, length of the name, length of the body
DOCUMENT, CHART, MISSING, END = b"D", b"C", b"M", b"E"
PDF, FAILED = b"P", b"X"
WARM_UP = (
    "<h1>Warm-up</h1><h2>Fonts</h2><p>Text in <b>bold</b>, <i>italic</i> and "
    "<code>code</code>.</p><table class='data compact'><tr><th>A</th><td class='num'>1</td>"
    "</tr></table>"
)


class RendererStopped(RuntimeError):
    """The renderer process could not write the PDF (WeasyPrint's error)."""


class RendererLost(RendererStopped):
    """The renderer process ended without an answer (it could not start, or was killed)."""


def write_frame(out: IO[bytes], kind: bytes, name: str = "", body: bytes = b"") -> None:
    raw = name.encode("utf-8")
    out.write(FRAME.pack(kind, len(raw), len(body)))
    out.write(raw)
    out.write(body)


def read_frame(inp: IO[bytes]) -> tuple[bytes, str, bytes] | None:
    """The next frame, or None at the end of the input."""
    head = _read_exactly(inp, FRAME.size)
    if head is None:
        return None
    kind, name_length, body_length = FRAME.unpack(head)
    name = _read_exactly(inp, name_length)
    body = _read_exactly(inp, body_length)
    if name is None or body is None:
        return None
    return kind, name.decode("utf-8"), body


def _read_exactly(inp: IO[bytes], size: int) -> bytes | None:
    data = inp.read(size) if size else b""
    return data if len(data) == size else None


class RendererProcess:
    """A renderer process, started at once (it imports WeasyPrint and warms up meanwhile);
    `render` sends it one document. Raises OSError if the process cannot be started."""

    def __init__(self) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-P", "-c", _child_code()],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        self.used = False

    def render(self, html: str, charts: Mapping[str, Callable[[], bytes]]) -> bytes:
        """The PDF of `html`, whose chart frames name the URLs of `charts`; each chart's
        function returns its printable SVG once drawn, or raises (the chart is then left out:
        the caller raises the chart's error). Charts are sent in the order of `charts` (the
        order of the pages). Raises RendererStopped if the renderer fails."""
        if self.used:
            raise RendererStopped("a renderer process lays out one document only")
        self.used = True
        stdin, stdout = self._process.stdin, self._process.stdout
        assert stdin is not None and stdout is not None  # made with PIPE
        try:
            write_frame(stdin, DOCUMENT, "\n".join(charts), html.encode("utf-8"))
            stdin.flush()
            for url, chart in charts.items():
                try:
                    svg = chart()
                except Exception as exc:  # the caller keeps the error and raises it
                    write_frame(stdin, MISSING, url, str(exc).encode("utf-8"))
                else:
                    write_frame(stdin, CHART, url, svg)
                stdin.flush()
            write_frame(stdin, END)
            stdin.close()
        except (BrokenPipeError, ValueError):
            pass  # it stopped: its answer (none) says so below
        answer = read_frame(stdout)
        stdout.close()
        status = self._process.wait()
        if answer is None:
            raise RendererLost(
                f"the PDF renderer's process ended without a PDF (exit status {status})"
            )
        kind, _, body = answer
        if kind != PDF:
            raise RendererStopped(body.decode("utf-8", "replace"))
        return body

    def close(self) -> None:
        """End the process if it is still waiting (its command never sent a document)."""
        for pipe in (self._process.stdin, self._process.stdout):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()
        try:
            self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


def _child_code() -> str:
    """The renderer's program: riskapp imported from where this process found it. A folder
    that is on the interpreter's path already (an installed riskapp's site-packages) keeps
    its place after the standard library; a checkout's folder goes first. `-P`: the current
    folder is not put on the path (a riskapp there would not be this one)."""
    root = str(Path(__file__).resolve().parents[2])
    return (
        "import sys\n"
        f"root = {root!r}\n"
        "if root not in sys.path:\n"
        "    sys.path.insert(0, root)\n"
        "from riskapp.reporting.pdfprocess import main\n"
        "main()\n"
    )


_STARTED: list[RendererProcess] = []
_LOCK = threading.Lock()


def start() -> None:
    """Start a renderer process for this process's next PDF (see the module docstring); if it
    cannot be started, the PDF is laid out in this process, as without it."""
    with _LOCK:
        if _STARTED:
            return
        try:
            renderer = RendererProcess()
        except OSError:
            return
        _STARTED.append(renderer)
        atexit.register(renderer.close)


def take() -> RendererProcess | None:
    """The started renderer process, handed over once (a second PDF of the process is laid
    out in the process itself); None if none was started."""
    with _LOCK:
        return _STARTED.pop() if _STARTED else None


# -- the renderer process ------------------------------------------------------------------


def serve(inp: IO[bytes], out: IO[bytes]) -> None:
    """Import WeasyPrint, warm up, then lay out and draw the one document of `inp`."""
    from riskapp import collector

    collector.start_quietly()  # the imports and the warm-up make objects that live until exit
    _warm_up()
    collector.start_done()
    first = read_frame(inp)
    if first is None or first[0] != DOCUMENT:
        return  # no report after all
    _, urls, html = first
    pending = Charts(inp)
    served = {url: partial(pending.get, url) for url in urls.split("\n") if url}
    try:
        data = write_pdf(html.decode("utf-8"), served)
    except Exception as exc:  # anything WeasyPrint raises: the command says what it was
        pending.drain()
        write_frame(out, FAILED, body=f"the PDF could not be written: {exc}".encode())
    else:
        pending.drain()
        write_frame(out, PDF, body=data)
    out.flush()


def _warm_up() -> None:
    """WeasyPrint imported and a small document in the report's style sheet laid out and
    drawn (fontconfig read, the report's fonts loaded)."""
    css = (TEMPLATES / "report.css").read_text(encoding="utf-8")
    write_pdf(f"<html><head><style>{css}</style></head><body>{WARM_UP}</body></html>", {})


class Charts:
    """The charts the command sends after the document, read as the pages need them."""

    def __init__(self, inp: IO[bytes]) -> None:
        self._inp = inp
        self._charts: dict[str, bytes | None] = {}
        self._ended = False

    def get(self, url: str) -> bytes:
        while url not in self._charts and not self._ended:
            self._read()
        svg = self._charts.get(url)
        if svg is None:
            raise ValueError(f"chart {url} was not drawn")
        return svg

    def drain(self) -> None:
        while not self._ended:
            self._read()

    def _read(self) -> None:
        frame = read_frame(self._inp)
        if frame is None or frame[0] == END:
            self._ended = True
            return
        kind, url, body = frame
        self._charts[url] = body if kind == CHART else None


def write_pdf(html: str, served: Mapping[str, Callable[[], bytes]]) -> bytes:
    """Lay out and draw `html` with WeasyPrint (SVG texts drawn a run at a time: `weasy`);
    the fetcher answers the URLs of `served` with what their functions return and reads
    nothing but data: URIs and the templates' own files. Used in the command's process
    (`riskapp.reporting.pdf.pdf_from_html`) and in the renderer process alike."""
    from riskapp.reporting import weasy
    from riskapp.reporting.logo import local_fetcher

    html_class = weasy.import_weasyprint().HTML
    weasy.install_svg_text_runs()
    fetcher = local_fetcher((TEMPLATES,), served)
    document = html_class(string=html, base_url=str(TEMPLATES), url_fetcher=fetcher)
    data: bytes = document.write_pdf()
    return data


def main() -> None:
    """The renderer process's program (`RendererProcess` starts it)."""
    serve(sys.stdin.buffer, sys.stdout.buffer)


if __name__ == "__main__":
    main()
