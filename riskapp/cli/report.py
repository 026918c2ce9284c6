"""`riskapp report`: a consultant report of a workspace as PDF, PowerPoint, Excel or HTML.

Registered on the command line by `register(app)`; `report_app` is the same
command as a stand-alone Typer app (tests, or ``app.add_typer`` if preferred).

Exit codes: 0 written; 1 problems in the inputs (listed with file and line) or the renderer
failed; 2 bad usage (unknown scenario, format not available, bad branding option).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from riskapp.cli.common import (
    WORKSPACE_HELP,
    ProbabilitiesName,
    ProbabilitiesOpt,
    SourceName,
    SourceOpt,
    assessment,
    bundled_demo,
    err,
    fail,
    fail_message,
    out,
)
from riskapp.io.errors import InputError

report_app = typer.Typer(
    rich_markup_mode="markdown",
    help="Consultant reports of a workspace.",
    pretty_exceptions_enable=False,
    add_completion=False,
)


def format_named(fmt: str | None, out_file: Path) -> str:
    """The report format `--format` names, else the one `--out`'s extension stands for; ""
    when neither names one."""
    from riskapp.reporting.registry import FORMATS

    if fmt:
        name = fmt.lower()
        return name if name in FORMATS else ""
    return {f.suffix: f.name for f in FORMATS.values()}.get(out_file.suffix.lower(), "")


def _format_of(fmt: str | None, out_file: Path) -> str:
    from riskapp.reporting.registry import FORMATS

    name = format_named(fmt, out_file)
    if name:
        return name
    if fmt:
        fail_message(f"unknown report format {fmt!r}; choose one of {', '.join(FORMATS)}")
    by_suffix = [f.suffix for f in FORMATS.values()]
    fail_message(
        f"{out_file}: say which format with --format ({', '.join(FORMATS)}) or use one of "
        f"the extensions {', '.join(by_suffix)}"
    )


# the key of this process's `riskapp report` command line (`chartcache.run_key`), by format:
# set by `start_chart_browser` (the console entry point), None in a process that did not
# start there (tests calling the command directly)
RUN: dict[str, str | None] = {}


def start_chart_browser(args: list[str]) -> str | None:
    """Start the browser that draws a report's charts for `riskapp report ARGS` before the
    command line is parsed and the command built (about 0.5 s sooner than the command itself
    would: Chromium takes about 2 s to open with plotly.js, and a deck waits for it), when
    `early_format` names a format whose document waits for it and the same command did not
    run before with every chart image it used still stored (`registry.prepare`); that format,
    or None (the command starts the browser itself, if need be)."""
    RUN.clear()
    named = _named_format(args)
    if named:
        try:
            RUN[named] = command_key(named, args)
        except (OSError, ValueError):  # bad settings: the command says what is wrong
            RUN[named] = None
    name = early_format(args)
    if name is not None:
        registry_prepare(name)
    return name


def command_key(name: str, args: list[str]) -> str | None:
    """`chartcache.run_key` of `riskapp report ARGS` as format `name`: the arguments but the
    file written, and the files they name (the workspace, the branding file), with the
    embedded database's."""
    from riskapp.reporting.chartcache import run_key
    from riskapp.settings import Settings

    kept: list[str] = []
    skip = False
    for arg in args:
        if skip:
            skip = False
            continue
        option, sep, _ = arg.partition("=")
        if option in ("--out", "-o"):
            skip = not sep
            continue
        kept.append(arg)
    paths = [bundled_demo(Path(a)) for a in kept if not a.startswith("-")]
    paths = [p.resolve() for p in paths if p.exists()]
    cfg = Settings()
    if cfg.database_url is None:
        paths += [cfg.data_dir / f"riskapp.db{end}" for end in ("", "-wal")]
    return run_key(name, kept, paths)


def _named_format(args: list[str]) -> str:
    """The format `riskapp report ARGS` names (as `early_format` reads them), or ""."""
    given: dict[str, str] = {}
    for i, arg in enumerate(args):
        option, sep, value = arg.partition("=")
        if option in ("--format", "-f", "--out", "-o"):
            if not sep:
                if i + 1 >= len(args):
                    return ""
                value = args[i + 1]
            given[option.lstrip("-")[:1]] = value
    return format_named(given.get("f"), Path(given.get("o", "")))


def early_format(args: list[str]) -> str | None:
    """The report format `riskapp report ARGS` plainly asks for (`--format`, or `--out`'s
    extension) if its document waits for the chart browser (`Format.waits_for_images`: the
    deck); None for any other format, for `--help`, or for arguments this quick look cannot
    read (the command line then says what is wrong)."""
    from riskapp.reporting.registry import FORMATS

    if any(a in ("--help", "-h") for a in args):
        return None
    fmt = _named_format(args)
    return fmt if fmt and FORMATS[fmt].waits_for_images else None


def registry_prepare(name: str) -> None:
    """`registry.prepare` for a process that writes this one report (the CLI)."""
    from riskapp.reporting import registry

    registry.prepare(name, only_report=True, run=RUN.get(name))


@report_app.command("report")
def report(
    workspace: Annotated[Path, typer.Argument(help=WORKSPACE_HELP, callback=bundled_demo)],
    out_file: Annotated[Path, typer.Option("--out", "-o", help="The file to write.")],
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format", "-f", help="pdf, pptx, xlsx or html (default: by --out's extension)."
        ),
    ] = None,
    scenario: Annotated[
        list[str] | None,
        typer.Option("--scenario", "-s", help="Scenario id to include (repeatable; default all)."),
    ] = None,
    branding_file: Annotated[
        Path | None, typer.Option("--branding", "-b", help="Branding YAML file.")
    ] = None,
    client: Annotated[str | None, typer.Option(help="Client name (overrides the file).")] = None,
    author: Annotated[str | None, typer.Option(help="Author (overrides the file).")] = None,
    confidentiality: Annotated[
        str | None, typer.Option(help="Confidentiality label (overrides the file).")
    ] = None,
    locale: Annotated[
        str | None, typer.Option(help="Number and date formats: en or de (overrides the file).")
    ] = None,
    top: Annotated[int, typer.Option(help="Assets in the top-assets table.")] = 10,
    max_rows: Annotated[
        int, typer.Option(help="Rows of a long table in PDF, PowerPoint and HTML.")
    ] = 200,
    source: SourceOpt = SourceName.auto,
    probabilities: ProbabilitiesOpt = ProbabilitiesName.prior,
) -> None:
    """Write a consultant report: executive summary, map, scenarios, heat map, top assets,
    plans with triggers, readiness gaps, cost and benefit, methodology and data sources."""
    from pydantic import ValidationError

    from riskapp.reporting import registry
    from riskapp.reporting.branding import branding_from
    from riskapp.reporting.options import ReportOptions
    from riskapp.reporting.weasy import frozen_heap

    name = _format_of(fmt, out_file)
    try:
        branding = branding_from(
            branding_file,
            client=client,
            author=author,
            confidentiality=confidentiality,
            locale=locale,
        )
        options = registry.options_for(
            name, ReportOptions(scenarios=scenario or [], top_n=top, max_table_rows=max_rows)
        )
    except InputError as exc:
        fail(exc.problems)
    except (ValueError, ValidationError) as exc:
        fail_message(str(exc))
    # the chart browser starts first (it takes seconds to open): it opens while the report's
    # modules are imported and the workspace loads, and shuts down once the charts are drawn
    # (while the document is still being written)
    registry_prepare(name)  # at once if `start_chart_browser` started it already
    try:
        registry.renderer(name)
    except registry.FormatUnavailable as exc:
        fail_message(str(exc))

    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from riskapp.cli.main import imports_done
    from riskapp.reporting.model import build_report

    imports_done()
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
    )
    # prints the source and revision it used
    a = assessment(workspace, None, source, probabilities=probabilities)
    with Progress(*columns, console=err, transient=False) as progress:
        task = progress.add_task("Building the report", total=3)

        def step(text: str) -> None:
            progress.update(task, description=text)

        try:
            built = build_report(a, options, branding)
        except KeyError as exc:
            progress.stop()
            fail_message(str(exc.args[0]) if exc.args else str(exc))
        progress.update(task, advance=1, description=f"Rendering {name}")
        try:
            # one report, then the process exits: what exists now lives until then anyway,
            # so it is frozen as it is (the renderer's collections skip it) without the
            # full collection the PDF's renderer makes before it freezes (0.1-0.2 s)
            with frozen_heap(collect=False):
                path = registry.render(built, name, out_file, progress=step)
        except (OSError, RuntimeError, ValueError) as exc:
            progress.stop()
            fail_message(f"could not write the {name} report: {exc}", code=1)
        progress.update(task, advance=2, description="Done")
    run = RUN.get(name)
    if run is not None:
        registry.remember(name, run)
    charts = _charts_line(name)
    out.print(Text(f"wrote {path} ({_size(path.stat().st_size)}{charts})"), soft_wrap=True)


def _charts_line(name: str) -> str:
    """Where the report's chart images came from, e.g. "; charts: 8 from the cache"."""
    from riskapp.reporting import registry

    if not registry.FORMATS[name].draws_images:
        return ""
    from riskapp.reporting.images import shared_session

    session = shared_session()
    parts = [
        f"{n} {what}"
        for n, what in ((session.exports, "drawn"), (session.stored, "from the cache"))
        if n
    ]
    if not session.launches:
        parts.append("no browser started")
    return "; charts: " + ", ".join(parts) if parts else ""


def _size(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 1e6 else f"{n / 1e3:.0f} kB"


def register(app: typer.Typer) -> None:
    """Add `report` to a command line."""
    app.command("report")(report)
