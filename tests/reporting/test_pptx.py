"""The PowerPoint deck read back with python-pptx: slides, titles, native charts, tables,
pictures, speaker notes, and that every shape and its text stays on the slide.

One deck of the demo workspace is rendered per module (chart images through one browser),
with hostile user text planted in it (HTML, a spreadsheet formula). Slide titles are compared
with a golden file (tests/reporting/golden/pptx_titles.txt); set RISKAPP_UPDATE_GOLDEN=1 to
rewrite it after a deliberate change.
"""

from __future__ import annotations

import io
import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageFont
from pptx import Presentation
from pptx.util import Emu, Pt

from riskapp.format import NumberFormat
from riskapp.reporting import Branding, ReportOptions, build_report
from riskapp.reporting import deck as deck_format
from riskapp.reporting.images import png_size
from riskapp.reporting.keyfigures import SUMMARY_KEYS
from riskapp.reporting.model import Report

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).resolve().parent / "golden"
NOW = datetime(2025, 11, 30, 9, 15, tzinfo=UTC)
CLIENT = "<script>alert('client')</script> & Söhne"
ASSET = '<script>alert("asset")</script> Gdańsk plant'
PLAN = '=HYPERLINK("http://evil.example","Crisis comms")'
# Liberation Sans is wider than Calibri: text that fits measured with it fits in PowerPoint
FONTS = Path("/usr/share/fonts/truetype/liberation")


def need(tool: str) -> None:
    """Skip without `tool` on a developer machine; fail in CI, which must install it."""
    if shutil.which(tool):
        return
    reason = f"{tool} not found (apt-get install -y chromium)"
    if os.environ.get("CI"):
        pytest.fail(f"the deck's chart images cannot be checked in CI: {reason}")
    pytest.skip(reason)


def hostile_workspace(folder: Path) -> Path:
    """A copy of the demo whose largest asset and best plan have names that are HTML or a
    spreadsheet formula."""
    shutil.copytree(ROOT / "demo", folder / "demo")
    shutil.copytree(ROOT / "scenarios", folder / "scenarios")
    assets = folder / "demo" / "assets.csv"
    quoted = '"' + ASSET.replace('"', '""') + '"'
    assets.write_text(
        assets.read_text(encoding="utf-8").replace("Gdańsk power-electronics plant", quoted),
        encoding="utf-8",
    )
    plans = folder / "demo" / "plans.yaml"
    plans.write_text(
        plans.read_text(encoding="utf-8").replace(
            "title: Crisis communications and narrative monitoring", f"title: '{PLAN}'"
        ),
        encoding="utf-8",
    )
    return folder / "demo"


@dataclass(frozen=True)
class Deck:
    report: Report
    prs: Any

    @property
    def slides(self) -> list[Any]:
        return list(self.prs.slides)

    def titles(self) -> list[str]:
        return [s.shapes.title.text for s in self.slides]

    def slide(self, starts: str) -> Any:
        return next(s for s in self.slides if s.shapes.title.text.startswith(starts))

    def slide_with(self, part: str, skip: str = "") -> Any:
        """The first slide whose title contains `part` (and does not start with `skip`)."""
        return next(
            s
            for s in self.slides
            if part in s.shapes.title.text and not (skip and s.shapes.title.text.startswith(skip))
        )


def table_rows(slide: Any) -> list[list[str]]:
    """The text of the slide's one table, header first."""
    (grid,) = [shape.table for shape in slide.shapes if shape.has_table]
    return [[cell.text for cell in row.cells] for row in grid.rows]


def slide_text(slide: Any) -> str:
    parts = []
    for shape in slide.shapes:
        if shape.has_text_frame:
            parts.append(shape.text_frame.text)
        if shape.has_table:
            parts += [cell.text for row in shape.table.rows for cell in row.cells]
    return "\n".join(parts)


@pytest.fixture(scope="module")
def deck(tmp_path_factory: pytest.TempPathFactory) -> Deck:
    need("chromium")
    folder = tmp_path_factory.mktemp("pptx")
    report = build_report(
        hostile_workspace(folder),
        ReportOptions(),
        Branding(client=CLIENT, author="A. Consultant", confidentiality="Strictly confidential"),
        now=NOW,
    )
    path = folder / "deck.pptx"
    deck_format.render(report, path)
    return Deck(report, Presentation(str(path)))


def test_slide_count_and_one_title_per_slide(deck: Deck) -> None:
    assert 12 <= len(deck.slides) <= 26
    titles = deck.titles()
    assert all(t.strip() for t in titles)
    assert len(set(titles)) == len(titles)  # one message per slide


def test_headlines_state_findings_with_the_models_numbers(deck: Deck) -> None:
    report = deck.report
    titles = deck.titles()
    worst = report.key_figure("worst_scenario_loss").text
    assert f"{report.worst_scenario_title} would cost {worst}" in titles
    assert any(report.key_figure("expected_annual_loss").text in t for t in titles)
    assert f"A 1-in-100-year annual loss of {report.key_figure('loss_at_100y').text}" in titles


def test_title_slide_has_client_author_date_and_mark(deck: Deck) -> None:
    text = slide_text(deck.slides[0])
    assert "Geopolitical risk assessment" in text
    assert CLIENT in text
    assert "A. Consultant" in text
    assert "2025-11-30" in text
    assert "STRICTLY CONFIDENTIAL" in text


def test_summary_slide_shows_every_key_figure(deck: Deck) -> None:
    """The summary's cards lead with eight figures (value and note); the next slide lists
    every key figure with its note; the speaker notes hold every definition and the run."""
    report = deck.report
    summary, full = deck.slides[1], deck.slides[2]
    cards = slide_text(summary)
    by_key = {k.key: k for k in report.key_figures}
    for key in SUMMARY_KEYS:
        assert by_key[key].text in cards, key
        assert by_key[key].note.split(".")[0] in cards, key
    text = slide_text(full)
    rows = table_rows(full)
    assert [r[:2] for r in rows[1:]] == [[k.label, k.text] for k in report.key_figures]
    for k in report.key_figures:
        assert k.text in text, k.label
    notes = full.notes_slide.notes_text_frame.text
    for k in report.key_figures:
        assert k.definition in notes
    assert report.headline_note in notes
    assert report.key_figure("var_99").text in full.shapes.title.text


def test_simulated_slides_show_the_monte_carlo_tables(deck: Deck) -> None:
    """Return periods, the tail by factor and by asset, and the plans' BCR distribution are on
    slides, each cell as the report formats it."""
    report, fmt = deck.report, deck.report.fmt
    rp = report.tables.return_periods
    slide = deck.slide(f"Once in {fmt.number(float(rp.frame['return_period_years'].iloc[-1]))}")
    rows = table_rows(slide)
    assert len(rows) - 1 == len(rp)
    assert [r[2] for r in rows[1:]] == [fmt.money(float(v)) for v in rp.frame["loss"]]
    tail = report.tables.factor_tail
    top = str(tail.frame["name"].iloc[0])
    slide = deck.slide_with(f"{top} makes")
    chart = next(s for s in slide.shapes if s.has_chart).chart
    assert list(chart.plots[0].categories) == list(tail.frame["name"])
    assets = report.tables.asset_tail
    slide = deck.slide_with("of the loss in the worst 1 % of years", skip=top)
    rows = table_rows(slide)
    assert all(
        name.startswith(cell.rstrip("…"))
        for cell, name in zip([r[0] for r in rows[1:]], assets.frame["name"], strict=False)
    )
    bcr = report.tables.plan_bcr
    slide = deck.slide_with("plans pay for themselves in most")
    rows = table_rows(slide)
    assert all(
        name.startswith(cell.rstrip("…"))
        for cell, name in zip([r[0] for r in rows[1:]], bcr.frame["name"], strict=False)
    )
    assert [r[5] for r in rows[1:]] == [
        fmt.percent(float(v)) for v in bcr.frame["prob_bcr_at_least_1"].head(len(rows) - 1)
    ]


def test_three_actions_with_their_rules_in_the_notes(deck: Deck) -> None:
    slide = deck.slide("Three things to act on")
    text = slide_text(slide)
    for a in deck.report.actions:
        assert a.title in text
    notes = slide.notes_slide.notes_text_frame.text
    for a in deck.report.actions:
        assert a.rule in notes


def test_every_slide_has_speaker_notes(deck: Deck) -> None:
    for slide in deck.slides:
        assert slide.has_notes_slide
        assert len(slide.notes_slide.notes_text_frame.text) > 40, slide.shapes.title.text


def test_bar_charts_are_native_and_editable(deck: Deck) -> None:
    charts = [sh.chart for s in deck.slides for sh in s.shapes if sh.has_chart]
    assert len(charts) >= 3
    scenario = deck.slide(f"{deck.report.worst_scenario_title} would cost")
    chart = next(sh.chart for sh in scenario.shapes if sh.has_chart)
    categories = list(chart.plots[0].categories)
    assert categories[0] == deck.report.worst_scenario_title
    assert len(categories) == len(deck.report.tables.scenarios)
    gross = chart.plots[0].series[0]
    assert gross.name == "Gross loss"
    first = float(deck.report.tables.scenarios.frame["gross_loss"].iloc[0])
    assert gross.values[0] == pytest.approx(first / 1e6, abs=1e-3)  # EUR m
    assert chart.value_axis.axis_title.text_frame.text == "Loss in the scenario (EUR m)"


def test_chart_workbook_keeps_a_formula_name_as_text(deck: Deck) -> None:
    """python-pptx writes categories into the chart's embedded workbook; a plan called
    `=HYPERLINK(...)` must be a string there, or editing the chart would run it."""
    import openpyxl

    found = 0
    for slide in deck.slides:
        for shape in slide.shapes:
            if not shape.has_chart:
                continue
            blob = shape.chart.part.chart_workbook.xlsx_part.blob
            sheet = openpyxl.load_workbook(io.BytesIO(blob)).active
            assert sheet is not None
            for row in sheet.iter_rows():
                for cell in row:
                    if isinstance(cell.value, str) and "HYPERLINK" in cell.value:
                        assert cell.data_type == "s"
                        assert cell.value == PLAN
                        found += 1
    assert found >= 1


def test_maps_and_heat_maps_are_sharp_pictures(deck: Deck) -> None:
    pictures = [sh for s in deck.slides for sh in s.shapes if sh.shape_type == 13]
    assert len(pictures) == 4
    for picture in pictures:
        width, height = png_size(picture.image.blob)
        assert width >= 1800  # drawn at twice the CSS pixels
        assert abs(width / height - picture.width / picture.height) < 0.01  # not distorted


def test_a_headline_counts_the_rows_its_table_shows(deck: Deck) -> None:
    """A title "N of M assets" sits above a table of N assets, and the share it states is
    theirs (the table is cut to what fits the slide)."""
    slide = next(s for s in deck.slides if " assets carry " in s.shapes.title.text)
    title = slide.shapes.title.text
    shown = int(title.split(" of ")[0])
    (grid,) = [shape.table for shape in slide.shapes if shape.has_table]
    assert len(grid.rows) - 1 == shown, title
    frame = deck.report.tables.top_assets.frame
    share = deck.report.fmt.percent(float(frame["share_of_eal"].head(shown).sum()))
    assert f"carry {share} of" in title
    more = slide_text(slide)
    left = len(frame) - shown
    assert (f"… and {left} more" in more) == (left > 0)


def test_tables_show_user_text_literally_and_say_what_was_left_out(deck: Deck) -> None:
    assets = slide_text(next(s for s in deck.slides if " assets carry " in s.shapes.title.text))
    assert ASSET in assets
    plans = slide_text(deck.slide("Best value"))
    assert PLAN in plans
    assert CLIENT in slide_text(deck.slides[-1])  # the footer


def test_provenance_slide(deck: Deck) -> None:
    text = slide_text(deck.slides[-1])
    p = deck.report.provenance
    assert p.input_hash in text
    assert p.riskapp_version in text
    for sid in p.scenario_ids:
        assert sid in text
    notes = deck.slides[-1].notes_slide.notes_text_frame.text
    assert "Caldara" in notes
    assert "ECB euro foreign exchange reference rates, 2026-04-13" in text + notes
    assert deck.prs.core_properties.keywords.endswith(p.input_hash)


def test_slides_are_numbered(deck: Deck) -> None:
    n = len(deck.slides)
    for i, slide in enumerate(deck.slides[1:], start=2):
        assert f"{i} / {n}" in slide_text(slide)


def test_every_shape_lies_on_the_slide(deck: Deck) -> None:
    width, height = deck.prs.slide_width, deck.prs.slide_height
    assert abs(width / height - 16 / 9) < 0.01
    for n, slide in enumerate(deck.slides, start=1):
        for shape in slide.shapes:
            assert shape.left >= 0 and shape.top >= 0, (n, shape.name)
            assert shape.left + shape.width <= width, (n, shape.name)
            assert shape.top + shape.height <= height, (n, shape.name)
            if shape.has_table:
                rows = sum(r.height for r in shape.table.rows)
                cols = sum(c.width for c in shape.table.columns)
                assert shape.top + rows <= height, (n, shape.name)
                assert shape.left + cols <= width, (n, shape.name)


def _font(size_pt: float, bold: bool) -> ImageFont.FreeTypeFont:
    name = "LiberationSans-Bold.ttf" if bold else "LiberationSans-Regular.ttf"
    return ImageFont.truetype(str(FONTS / name), int(size_pt * 10))  # 10 units per point


def _text_height_pt(frame: Any, width_emu: int) -> float:
    """Height of the frame's text laid out in `width_emu`, measured with Liberation Sans."""
    width = (width_emu - frame.margin_left - frame.margin_right) / Pt(1) * 10
    total = (frame.margin_top + frame.margin_bottom) / Pt(1)
    for paragraph in frame.paragraphs:
        runs = paragraph.runs
        size = runs[0].font.size.pt if runs and runs[0].font.size else 18.0
        font = _font(size, bool(runs and runs[0].font.bold))
        lines, line = 1, ""
        for word in paragraph.text.split():
            candidate = f"{line} {word}".strip()
            if line and font.getlength(candidate) > width:
                lines += 1
                line = word
            else:
                line = candidate
        total += lines * size * 1.2
    return total


def test_no_text_overflows_its_box(deck: Deck) -> None:
    if not FONTS.is_dir():
        pytest.skip("Liberation fonts not installed")
    for n, slide in enumerate(deck.slides, start=1):
        for shape in slide.shapes:
            if shape.has_text_frame and shape.text_frame.text.strip():
                used = _text_height_pt(shape.text_frame, shape.width)
                assert used <= Emu(shape.height).pt * 1.03, (n, shape.text_frame.text[:50])
            if shape.has_table:
                table = shape.table
                for row in table.rows:
                    for j, cell in enumerate(row.cells):
                        used = _text_height_pt(cell.text_frame, table.columns[j].width)
                        assert used <= Emu(row.height).pt * 1.03, (n, cell.text[:50])


# -- without a browser ---------------------------------------------------------------------
def _blank_png(width: int = 400, height: int = 250) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), "white").save(out, "PNG")
    return out.getvalue()


@pytest.fixture(scope="module")
def demo_report() -> Report:
    return build_report(ROOT / "demo", ReportOptions(), Branding(client="Golden"), now=NOW)


def test_titles_match_golden(demo_report: Report) -> None:
    pngs = {name: _blank_png() for name in deck_format.IMAGE_FIGURES}
    prs = deck_format.build_deck(demo_report, pngs)
    titles = "\n".join(s.shapes.title.text for s in prs.slides) + "\n"
    golden = GOLDEN / "pptx_titles.txt"
    if os.environ.get("RISKAPP_UPDATE_GOLDEN"):
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(titles, encoding="utf-8")
    assert titles == golden.read_text(encoding="utf-8")


def test_without_images_the_picture_slides_are_left_out(demo_report: Report) -> None:
    prs = deck_format.build_deck(demo_report, {})
    assert not any(sh.shape_type == 13 for s in prs.slides for sh in s.shapes)
    assert any(sh.has_chart for s in prs.slides for sh in s.shapes)


def test_german_number_formats() -> None:
    report = build_report(
        ROOT / "demo", ReportOptions(include_figures=False), Branding(locale="de"), now=NOW
    )
    prs = deck_format.build_deck(report, {})
    titles = [s.shapes.title.text for s in prs.slides]
    assert any("528,9 Mio. EUR" in t for t in titles)
    axis_titles = [
        sh.chart.value_axis.axis_title.text_frame.text
        for s in prs.slides
        for sh in s.shapes
        if sh.has_chart
    ]
    assert "Loss in the scenario (Mio. EUR)" in axis_titles


def test_logo_on_the_title_slide(tmp_path: Path) -> None:
    logo = tmp_path / "logo.png"
    Image.new("RGB", (300, 100), (200, 30, 30)).save(logo)
    report = build_report(
        ROOT / "demo", ReportOptions(include_figures=False), Branding(logo=logo), now=NOW
    )
    prs = deck_format.build_deck(report, {})
    pictures = [sh for sh in prs.slides[0].shapes if sh.shape_type == 13]
    assert len(pictures) == 1
    assert pictures[0].height <= Emu(914400)  # at most an inch tall


@pytest.mark.parametrize(
    ("text", "size", "lines"),
    [("", 12, 1), ("word", 12, 1), ("a " * 200, 12, 6), ("line one\nline two", 20, 2)],
)
def test_text_lines_estimate(text: str, size: int, lines: int) -> None:
    width = Emu(914400 * 6)  # six inches
    assert deck_format.text_lines(text, width, size) == lines


def test_fit_size_shrinks_long_text_down_to_the_floor() -> None:
    width, height = Emu(914400 * 4), Emu(914400)
    assert deck_format.fit_size("short", width, height, 28, 12) == 28
    assert deck_format.fit_size("long text " * 40, width, height, 28, 12) < 28
    assert deck_format.fit_size("long text " * 400, width, height, 28, 12) == 12


def test_money_unit() -> None:
    assert NumberFormat(locale="en").unit([5.4e8]) == (1e6, "EUR m")
    assert NumberFormat(currency="USD", locale="de").unit([2.1e9]) == (1e9, "Mrd. USD")
    assert NumberFormat(locale="en").unit([12.0]) == (1.0, "EUR")


def test_a_workspace_without_plans_has_no_plan_slides(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "demo", tmp_path / "demo")
    shutil.copytree(ROOT / "scenarios", tmp_path / "scenarios")
    (tmp_path / "demo" / "plans.yaml").write_text("plans: []\n", encoding="utf-8")
    report = build_report(tmp_path / "demo", ReportOptions(include_figures=False), now=NOW)
    prs = deck_format.build_deck(report, {})
    titles = [s.shapes.title.text for s in prs.slides]
    assert not any("plans" in t.lower() for t in titles[3:-2])
    assert titles[-1] == "What these numbers were computed from"
