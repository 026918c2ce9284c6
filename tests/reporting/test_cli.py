"""`riskapp report` through typer's CliRunner: files written, exit codes, no tracebacks."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
import typer
from typer.testing import CliRunner

from riskapp.cli.report import report
from riskapp.reporting import registry
from tests.conftest import TINY

runner = CliRunner()


def _app() -> typer.Typer:
    """The command as riskapp/cli.py registers it, next to another command (so that the
    command name is part of the invocation, as on the real CLI)."""
    app = typer.Typer(pretty_exceptions_enable=False)
    app.command("report")(report)

    @app.command()
    def other() -> None:
        """Placeholder."""

    return app


APP = _app()


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(APP, ["report", *args])
    output = result.output + (result.stderr if result.stderr_bytes is not None else "")
    assert "Traceback" not in output
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, output


def test_xlsx_written(tmp_path: Path) -> None:
    out = tmp_path / "out" / "tiny.xlsx"
    code, output = run(str(TINY), "--format", "xlsx", "--out", str(out), "-s", "s1")
    assert code == 0, output
    assert "wrote" in output
    book = openpyxl.load_workbook(out)
    scenarios = [r[0].value for r in book["Scenarios"].iter_rows(min_row=2)]
    assert scenarios == ["s1"]


def test_html_by_extension_with_branding(tmp_path: Path) -> None:
    branding = tmp_path / "branding.yaml"
    branding.write_text("client: ACME SE\nauthor: Jane\nlocale: de\n", encoding="utf-8")
    out = tmp_path / "tiny.html"
    code, output = run(str(TINY), "--out", str(out), "--branding", str(branding), "--author", "Joe")
    assert code == 0, output
    html = out.read_text(encoding="utf-8")
    assert "ACME SE" in html and "Joe" in html and "Jane" not in html
    assert "176 EUR" in html  # the expected annual loss (175.5), in the German format
    assert out.stat().st_mode & 0o044  # readable like any other file the user writes


def test_unknown_scenario_is_a_usage_error(tmp_path: Path) -> None:
    code, output = run(str(TINY), "--out", str(tmp_path / "x.xlsx"), "-s", "nope")
    assert code == 2
    assert "unknown scenario 'nope'" in output
    assert not (tmp_path / "x.xlsx").exists()


def test_broken_workspace_lists_its_problems(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    shutil.copytree(TINY, ws)
    (ws / "factors.yaml").write_text("factors: 3\n", encoding="utf-8")
    code, output = run(str(ws), "--out", str(tmp_path / "x.html"))
    assert code == 1
    assert "problem(s) found" in output and "factors.yaml" in output


def test_bad_branding_file_names_the_line(tmp_path: Path) -> None:
    branding = tmp_path / "b.yaml"
    branding.write_text("client: ACME\naccent_colour: blue\n", encoding="utf-8")
    code, output = run(str(TINY), "--out", str(tmp_path / "x.xlsx"), "-b", str(branding))
    assert code == 1
    assert "line 2" in output and "#RRGGBB" in output


def test_bad_option_and_unknown_extension(tmp_path: Path) -> None:
    code, output = run(str(TINY), "--out", str(tmp_path / "x.xlsx"), "--locale", "fr")
    assert code == 2 and "locale" in output
    code, output = run(str(TINY), "--out", str(tmp_path / "x.docx"))
    assert code == 2 and "--format" in output
    code, output = run(str(TINY), "--out", str(tmp_path / "x.xlsx"), "--format", "docx")
    assert code == 2 and "unknown report format" in output


@pytest.fixture
def missing_format() -> Iterator[str]:
    registry.register("odt", "riskapp.reporting.not_written_yet:render", ".odt")
    yield "odt"
    del registry.FORMATS["odt"]


def test_unavailable_format_says_so(tmp_path: Path, missing_format: str) -> None:
    code, output = run(str(TINY), "--format", missing_format, "--out", str(tmp_path / "x.odt"))
    assert code == 2
    assert "not available" in output
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["demo", "-o", "r.pptx"], "pptx"),
        (["demo", "--out=R.PPTX"], "pptx"),
        (["demo", "-f", "pptx", "-o", "r.bin"], "pptx"),
        (["--format=PPTX", "demo", "--out", "r.pdf"], "pptx"),  # --format wins, as in the command
        (["demo", "-o", "r.pdf"], None),  # its layout, not the browser, is the longer path
        (["demo", "-o", "r.xlsx"], None),  # draws no image
        (["demo", "-o", "r.html"], None),
        (["demo", "-o", "r.pptx", "--help"], None),
        (["demo", "-o"], None),  # unreadable: the command says what is wrong
        (["demo", "-o", "r.txt"], None),
    ],
)
def test_the_chart_browser_starts_early_only_for_a_format_that_waits_for_it(
    args: list[str], expected: str | None
) -> None:
    from riskapp.cli.report import early_format

    assert early_format(args) == expected
