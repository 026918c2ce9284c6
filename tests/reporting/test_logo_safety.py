"""A client's logo is user input: it must never make the server fetch a URL, read a local file
into a report, resolve entities or carry a script into an export.

The "outside world" is a real HTTP server on 127.0.0.1 (pytest-httpserver) and a secret image in
a temporary folder; the PDF is read back with pdfimages and pdftotext."""

from __future__ import annotations

import base64
import re
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image
from pytest_httpserver import HTTPServer
from typer.testing import CliRunner

from riskapp.cli import app
from riskapp.reporting import Branding, ReportOptions, build_report
from riskapp.reporting import html as html_format
from riskapp.reporting import pdf as pdf_format
from riskapp.reporting.branding import branding_from, save_logo
from riskapp.reporting.logo import LogoError, read_logo

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2025, 11, 30, 9, 15, tzinfo=UTC)


def need(tool: str) -> None:
    if shutil.which(tool) is None:
        pytest.fail(f"{tool} is missing: `make test` installs poppler-utils")


def png(
    path: Path, colour: tuple[int, int, int] = (1, 2, 3), size: tuple[int, int] = (40, 40)
) -> Path:
    Image.new("RGB", size, colour).save(path)
    return path


def raster_images(pdf: Path) -> list[str]:
    listing = subprocess.run(
        ["pdfimages", "-list", str(pdf)], capture_output=True, text=True, check=True
    ).stdout
    return listing.strip().splitlines()[2:]  # two header lines


@pytest.fixture
def outside(httpserver: HTTPServer, tmp_path: Path) -> tuple[HTTPServer, Path]:
    """A web server and a secret local image that no report may ever contain."""
    secret = png(tmp_path / "secret.png", (250, 5, 5))
    httpserver.expect_request("/pixel.png").respond_with_data(
        secret.read_bytes(), content_type="image/png"
    )
    return httpserver, secret


def hostile_svg(folder: Path, server: HTTPServer, secret: Path) -> Path:
    svg = folder / "logo.svg"
    svg.write_text(
        f"""<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"
     width="200" height="60" onload="alert(1)">
  <script>alert("logo")</script>
  <style>@import url("{server.url_for("/style.css")}");</style>
  <rect width="200" height="60" fill="#0072B2" style="fill: url({server.url_for("/fill")})"/>
  <image href="{server.url_for("/pixel.png")}" width="50" height="50"/>
  <image xlink:href="file://{secret}" x="60" width="50" height="50"/>
  <foreignObject width="10" height="10"><iframe src="{server.url_for("/frame")}"/></foreignObject>
  <use href="#mark"/>
  <text id="mark" x="10" y="40">ACME</text>
</svg>""",
        encoding="utf-8",
    )
    return svg


def test_hostile_svg_logo_fetches_nothing_and_embeds_nothing(
    outside: tuple[HTTPServer, Path], tmp_path: Path
) -> None:
    need("pdfimages")
    server, secret = outside
    logo = hostile_svg(tmp_path, server, secret)
    report = build_report(
        ROOT / "demo",
        ReportOptions(include_figures=False),
        Branding(client="ACME SE", logo=logo),
        now=NOW,
    )
    pdf = tmp_path / "report.pdf"
    pdf_format.render(report, pdf)
    html = tmp_path / "report.html"
    html_format.render(report, html)

    assert server.log == [], "the renderer fetched a URL named in the logo"
    assert raster_images(pdf) == [], "a local or remote image ended up in the PDF"
    text = html.read_text(encoding="utf-8")
    assert server.url_for("/") not in text
    logos = re.findall(
        r'<img class="logo" alt="logo" src="data:image/svg\+xml;base64,([^"]+)"', text
    )
    assert len(logos) == 1
    in_html = base64.b64decode(logos[0]).decode()
    assert "ACME" in in_html and str(secret) not in in_html and "script" not in in_html
    # the logo is still there, cleaned: its drawing and text survive
    cleaned = read_logo(logo).data.decode()
    assert "ACME" in cleaned and "<rect" in cleaned and 'href="#mark"' in cleaned
    for gone in (
        "script",
        "onload",
        "foreignObject",
        "iframe",
        "@import",
        "url(",
        "file:",
        "localhost",
    ):
        assert gone not in cleaned, gone


def test_pdf_renderer_refuses_urls_in_the_page_itself(
    outside: tuple[HTTPServer, Path], tmp_path: Path
) -> None:
    """Second line of defence: even HTML that names outside resources directly (as a future
    template bug might) gets nothing: the one URL fetcher serves data: URIs and templates only."""
    need("pdfimages")
    server, secret = outside
    html = (
        f'<p>x</p><img src="{server.url_for("/pixel.png")}">'
        f'<img src="file://{secret}">'
        f'<link rel="stylesheet" href="{server.url_for("/s.css")}">'
    )
    pdf = tmp_path / "page.pdf"
    pdf.write_bytes(pdf_format.pdf_from_html(html))
    assert server.log == []
    assert raster_images(pdf) == []


def test_entities_are_refused_with_the_file_named(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-LINE", encoding="utf-8")
    xxe = (
        f'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "file://{secret}">]>'
        '<svg xmlns="http://www.w3.org/2000/svg"><text>&x;</text></svg>'
    )
    with pytest.raises(LogoError, match=r"client-logo\.svg: SVG logos may not declare"):
        save_logo(xxe.encode(), "client-logo.svg", tmp_path / "logos")
    assert not list((tmp_path / "logos").glob("*.svg"))
    billion = (
        '<!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        '<svg xmlns="http://www.w3.org/2000/svg"><text>&b;</text></svg>'
    )
    with pytest.raises(LogoError):
        save_logo(billion.encode(), "laughs.svg", tmp_path / "logos")


@pytest.mark.parametrize(
    ("name", "make", "reason"),
    [
        ("fake.png", lambda p: p.write_bytes(b"<html>not an image</html>"), "not a readable PNG"),
        ("huge.png", lambda p: png(p, size=(6000, 5000)), "more than 25,000,000"),
        ("drawing.svg", lambda p: p.write_text("<svg", encoding="utf-8"), "not a well-formed SVG"),
        ("page.svg", lambda p: p.write_text("<html/>", encoding="utf-8"), "expected an <svg> root"),
        ("logo.gif", lambda p: p.write_bytes(b"GIF89a"), "must be a .png, .jpg or .svg"),
    ],
)
def test_bad_logos_are_refused_naming_file_and_reason(
    tmp_path: Path, name: str, make: object, reason: str
) -> None:
    path = tmp_path / name
    make(path)  # type: ignore[operator]
    with pytest.raises(LogoError, match=reason) as info:
        read_logo(path)
    assert name in str(info.value)


def test_png_logos_are_reencoded_to_pixels_only(tmp_path: Path) -> None:
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", '=HYPERLINK("http://evil")')
    path = tmp_path / "logo.png"
    Image.new("RGB", (30, 10), (9, 8, 7)).save(path, pnginfo=info)
    logo = read_logo(path)
    assert logo.media_type == "image/png" and b"HYPERLINK" not in logo.data
    kept = save_logo(path.read_bytes(), "logo.png", tmp_path / "logos")
    assert kept.read_bytes() == logo.data


def test_the_reports_page_and_cli_refuse_a_bad_logo(tmp_path: Path) -> None:
    bad = tmp_path / "logo.svg"
    bad.write_text('<!DOCTYPE svg><svg xmlns="http://www.w3.org/2000/svg"/>', encoding="utf-8")
    with pytest.raises(LogoError, match=r"logo\.svg"):
        branding_from(None, logo=bad)
    branding_file = tmp_path / "branding.yaml"
    branding_file.write_text("client: ACME\nlogo: logo.svg\n", encoding="utf-8")
    result = CliRunner().invoke(
        app,
        [
            "report",
            str(ROOT / "demo"),
            "--branding",
            str(branding_file),
            "-o",
            str(tmp_path / "r.xlsx"),
        ],
    )
    assert result.exit_code != 0
    assert "logo.svg" in result.output and "DOCTYPE" in result.output
    assert not (tmp_path / "r.xlsx").exists()
