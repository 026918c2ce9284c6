"""Which report formats exist and how to render each: the CLI and the dashboard dispatch here.

A format is a module with a function ``render(report: Report, path: Path) -> None`` that
writes the whole file at `path` (it may also accept a keyword ``progress``, a callable taking
a short text that the CLI shows on its progress bar). Formats are named by "module:function"
and imported only when used, so a format whose module (or one of its dependencies) is missing
is simply *unavailable*: `available()` leaves it out and `renderer()` raises
`FormatUnavailable` with the reason, which the CLI prints without a traceback.

    from riskapp.reporting import registry
    registry.render(report, "xlsx", Path("report.xlsx"))
    data = registry.render_bytes(report, "html")
"""

from __future__ import annotations

import importlib
import inspect
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from riskapp.reporting.figures import DECK_IMAGE_FIGURES

if TYPE_CHECKING:
    from riskapp.assessment.core import Assessment
    from riskapp.reporting.model import Report
    from riskapp.reporting.options import Branding, ReportOptions

Progress = Callable[[str], None]
Renderer = Callable[..., None]


@dataclass(frozen=True)
class Format:
    name: str
    suffix: str
    media_type: str
    target: str  # "module:function"
    label: str
    needs_figures: bool = True  # False: the renderer draws no plotly figure (faster build)
    figures: tuple[str, ...] | None = None  # the figures it draws; None: every one
    draws_images: bool = False  # draws chart images in the browser (kaleido)
    # its document waits for the browser (a deck: little else to do), so the CLI starts the
    # browser before it parses its command line; a PDF's own layout is the longer path, and a
    # browser opening beside the command's imports slows it (measured: 4.8 s -> 5.4 s)
    waits_for_images: bool = False
    # "module:function" that starts a process of its own for a process writing one report
    # (`prepare(only_report=True)`): the PDF's renderer process (`pdfprocess`)
    starts: str | None = None


FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format(
            "pdf",
            ".pdf",
            "application/pdf",
            "riskapp.reporting.pdf:render",
            "PDF report",
            draws_images=True,
            starts="riskapp.reporting.pdfprocess:start",
        ),
        Format(
            "pptx",
            ".pptx",
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            "riskapp.reporting.deck:render",
            "PowerPoint deck",
            figures=DECK_IMAGE_FIGURES,
            draws_images=True,
            waits_for_images=True,
        ),
        Format(
            "xlsx",
            ".xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "riskapp.reporting.xlsx:render",
            "Excel workbook",
            needs_figures=False,
        ),
        Format("html", ".html", "text/html", "riskapp.reporting.html:render", "Interactive HTML"),
    )
}


class FormatUnavailable(Exception):
    """The format is unknown, or its renderer cannot be imported here."""


def register(
    name: str, target: str, suffix: str | None = None, media_type: str = "", label: str = ""
) -> None:
    """Add or replace a format ("module:function"); used by plug-ins and tests."""
    FORMATS[name] = Format(
        name, suffix or f".{name}", media_type or "application/octet-stream", target, label
    )
    _load.cache_clear()


@cache
def _load(target: str) -> Renderer | str:
    """The render function, or the reason it cannot be loaded (cached either way)."""
    module_name, _, function = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        return f"{module_name} cannot be imported ({exc})"
    fn = getattr(module, function or "render", None)
    if fn is None:
        fn = getattr(module, f"render_{module_name.rsplit('.', 1)[-1]}", None)
    if not callable(fn):
        return f"{module_name} has no function {function or 'render'}()"
    result: Renderer = fn
    return result


def renderer(name: str) -> Renderer:
    fmt = FORMATS.get(name)
    if fmt is None:
        raise FormatUnavailable(
            f"unknown report format {name!r}; choose one of {', '.join(FORMATS)}"
        )
    loaded = _load(fmt.target)
    if isinstance(loaded, str):
        raise FormatUnavailable(f"the {name} format is not available: {loaded}")
    return loaded


def available() -> list[str]:
    """Formats whose renderer imports, in the order of `FORMATS`."""
    return [name for name, fmt in FORMATS.items() if not isinstance(_load(fmt.target), str)]


def options_for(name: str, options: ReportOptions) -> ReportOptions:
    """`options` with the figures format `name` draws: none for Excel, the deck's pictures for
    PowerPoint, every one for PDF and HTML (nothing is built that the format leaves out)."""
    fmt = FORMATS[name]
    figures = list(fmt.figures) if fmt.figures is not None else None
    return options.model_copy(update={"include_figures": fmt.needs_figures, "figures": figures})


def prepare(name: str, *, only_report: bool = False, run: str | None = None) -> None:
    """Start what format `name` will need before the report is built: the browser that draws
    chart images starts in the background (it takes seconds) while the workspace is loaded
    and the report built. `only_report`: the process writes this one report and no other
    (the CLI): the browser shuts down as soon as the report's charts are drawn, while the
    document is still being written, instead of when the process exits. `run`: a key of the
    command (`chartcache.run_key`); when that command ran before and every chart image it
    used is still on disk, no browser is started (one starts if a chart is missing after
    all). With `only_report`, a format that lays its document out in a process of its own
    (`Format.starts`: the PDF) starts that process when no browser is started: with the
    images drawn before, the second core is idle while this process builds the report;
    when Chromium draws the charts it is busy, and a third process only competes for it
    (`pdfprocess`: measured 4.99 s -> 4.66 s with the images kept, 5.91 s -> 6.04 s
    without)."""
    fmt = FORMATS[name]
    if not fmt.draws_images:
        if only_report:
            _start_own_process(fmt)
        return
    from riskapp.reporting.chartcache import ChartStore
    from riskapp.reporting.images import shared_session, start_browser

    store = ChartStore.from_settings() if run is not None else None
    if run is not None and store is not None and store.run_is_stored(run):
        if only_report:
            shared_session().close_when_drawn()
            _start_own_process(fmt)
        return
    start_browser(close_when_drawn=only_report)


def _start_own_process(fmt: Format) -> None:
    if fmt.starts is not None:
        module_name, _, function = fmt.starts.partition(":")
        getattr(importlib.import_module(module_name), function)()


def remember(name: str, run: str) -> None:
    """Note the chart images the process's reports used for command `run` (see `prepare`)."""
    if not FORMATS[name].draws_images:
        return
    from riskapp.reporting.chartcache import ChartStore
    from riskapp.reporting.images import shared_session

    store = ChartStore.from_settings()
    if store is not None:
        store.remember_run(run, shared_session().asked)


def render(report: Report, name: str, path: str | Path, progress: Progress | None = None) -> Path:
    """Write `report` as format `name` at `path`, atomically (whole file or nothing)."""
    fn = renderer(name)
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=target.suffix)
    os.close(fd)
    kwargs: dict[str, Any] = {}
    if progress is not None and _takes_progress(fn):
        kwargs["progress"] = progress
    try:
        fn(report, Path(tmp), **kwargs)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual permissions
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def render_bytes(report: Report, name: str) -> bytes:
    """The file of format `name` as bytes (for a download button)."""
    renderer(name)  # unknown or unavailable: FormatUnavailable before any file is made
    with tempfile.TemporaryDirectory(prefix="riskapp-report-") as folder:
        path = render(report, name, Path(folder) / f"report{FORMATS[name].suffix}")
        return path.read_bytes()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _takes_progress(fn: Renderer) -> bool:
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return "progress" in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


@dataclass(frozen=True)
class Download:
    data: bytes
    file_name: str
    media_type: str


def file_name(report: Report, name: str) -> str:
    """e.g. vestmark-components-se-risk-report-2025-11-30.pdf"""
    import re

    who = report.branding.client or report.client or report.workspace_name
    slug = re.sub(r"[^a-z0-9]+", "-", who.lower()).strip("-")[:40].strip("-") or "riskapp"
    day = report.provenance.generated_at.strftime("%Y-%m-%d")
    return f"{slug}-risk-report-{day}{FORMATS[name].suffix}"


def download(
    source: Assessment | str | Path,
    options: ReportOptions,
    branding: Branding,
    name: str,
) -> Download:
    """Build the report and render it as format `name`: the bytes, a file name and the media
    type for a download button (the Reports page calls this when a button is clicked)."""
    from riskapp.reporting.model import build_report

    renderer(name)  # FormatUnavailable before the report is built
    prepare(name)
    report = build_report(source, options_for(name, options), branding)
    return Download(render_bytes(report, name), file_name(report, name), FORMATS[name].media_type)
