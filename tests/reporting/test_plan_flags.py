"""Plan sanity flags (issue 12, item 6), on the issue's case: a plan costing EUR 20,000 whose
loss trigger fires in 7 of 10 scenarios. Its figure must never be headlined without its flag
on any surface, and every report carries the reviewer checklist, read back from the files."""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import openpyxl
import pytest
import yaml
from pptx import Presentation

from riskapp.assessment import Assessment, assess
from riskapp.assessment.actions import three_actions
from riskapp.assessment.plan_checks import EXTREME_BCR, plan_flags, reviewer_checklist
from riskapp.assessment.tables import plan_register
from riskapp.reporting import Branding, ReportOptions, build_report, registry
from riskapp.reporting import pdf as pdf_format
from riskapp.reporting.model import Report
from tests.reporting import CHEAP_PLAN, flagged_workspace

NOW = datetime(2025, 11, 30, 12, 0, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return flagged_workspace(tmp_path_factory.mktemp("flags"))


@pytest.fixture(scope="module")
def a(folder: Path) -> Assessment:
    return assess(folder)


@pytest.fixture(scope="module")
def report(a: Assessment) -> Report:
    return build_report(a, ReportOptions(include_figures=False), Branding(client="X"), now=NOW)


def codes(a: Assessment, plan_id: str) -> set[str]:
    f = plan_flags(a)
    return set(f.loc[f["plan_id"] == plan_id, "code"])


def test_the_issues_cheap_plan_is_flagged_with_its_numbers(a: Assessment) -> None:
    flags = plan_flags(a)
    assert codes(a, "cheap") == {"extreme_bcr", "fires_mostly"}
    assert codes(a, "shield") == set()
    assert codes(a, "watch") == {"fires_mostly", "group_trigger"}
    cheap = flags[flags["plan_id"] == "cheap"].set_index("code")["message"]
    assert "7 of 10 scenarios" in cheap["fires_mostly"]
    assert "EUR 20k" in cheap["extreme_bcr"] and f"{EXTREME_BCR:g}x" in cheap["extreme_bcr"]
    group = flags[(flags["plan_id"] == "watch") & (flags["code"] == "group_trigger")]
    assert (
        "in North fires" in group["message"].iloc[0]
        and "any one of its 2" in group["message"].iloc[0]
    )
    assert set(flags["severity"]) == {"warning", "note"}


def test_status_quo_never_firing_and_empty_coverage_are_flagged(tmp_path: Path) -> None:
    ws = flagged_workspace(tmp_path)
    book = yaml.safe_load((ws / "plans.yaml").read_text(encoding="utf-8"))
    book["plans"][0]["trigger"] = {"scenarios": ["base"]}  # shield: fires in the status quo
    book["plans"][2]["coverage"] = {"tags": ["no_such_tag"]}  # watch covers nothing
    book["plans"][2]["trigger"] = {"loss_at_least": 1.0e15}  # ...and never fires
    (ws / "plans.yaml").write_text(yaml.safe_dump(book, sort_keys=False), encoding="utf-8")
    got = assess(ws)
    assert "fires_in_status_quo" in codes(got, "shield")
    assert "'Status quo'" in " ".join(plan_flags(got)["message"])
    assert {"covers_nothing", "never_fires"} <= codes(got, "watch")


def test_the_best_value_headline_skips_flagged_plans_and_says_so(report: Report) -> None:
    from riskapp.reporting.planflags import best_value_headline

    text = best_value_headline(report)
    assert text.startswith("Best value: 'Shield the northern plants'")
    assert "(1 plan with warnings ranks higher)" in text


def headlines(a: Assessment, report: Report, folder: Path) -> list[str]:
    """Every headline a plan figure could appear in: the three actions, the HTML and PDF
    plans chapter lead and each slide's title and headline."""
    out = [f"{x.title} {x.detail}" for x in three_actions(a)]
    leads = pdf_format.leads(report)
    out += [leads["plans_lead"], leads["plans_flags"]]
    deck = Presentation(str(registry.render(report, "pptx", folder / "deck.pptx")))
    for slide in deck.slides:
        out += [s.text_frame.text for s in slide.shapes if s.has_text_frame]
    return out


def test_a_flagged_plan_is_never_headlined_without_its_flag(
    a: Assessment, report: Report, tmp_path: Path
) -> None:
    flags = plan_flags(a)
    ratio = a.fmt.ratio(float(a.plans.benefit_cost_ratio()[a.plans.plan_ids.index("cheap")]))
    lines = headlines(a, report, tmp_path)
    assert any("Best value" in t for t in lines)
    for title in set(flags["plan_title"]):
        for line in lines:
            if title in line:
                assert "flagged" in line, (title, line)
    assert not any(ratio in line and "flagged" not in line for line in lines)


def test_a_lone_flagged_plan_is_headlined_with_its_flags(tmp_path: Path) -> None:
    ws = flagged_workspace(tmp_path)
    book = yaml.safe_load((ws / "plans.yaml").read_text(encoding="utf-8"))
    book["plans"] = [p for p in book["plans"] if p["id"] == "cheap"]
    (ws / "plans.yaml").write_text(yaml.safe_dump(book, sort_keys=False), encoding="utf-8")
    one = assess(ws)
    action = three_actions(one)[0]
    assert action.title.startswith(f"Put '{CHEAP_PLAN}' in place [flagged: extreme")
    report = build_report(one, ReportOptions(include_figures=False), now=NOW)
    lines = headlines(one, report, tmp_path)
    best = [line for line in lines if line.startswith("Best value")]
    assert best and all(
        line.startswith("Best value [flagged: extreme benefit-cost ratio") for line in best
    )


def test_every_report_carries_the_reviewer_checklist(
    a: Assessment, report: Report, tmp_path: Path
) -> None:
    checklist = reviewer_checklist(a)
    assert checklist["item"].str.startswith("Flag:").sum() == len(plan_flags(a))
    assert {"Check: probabilities", "Check: triggers", "Check: costs"} <= set(checklist["item"])
    message = plan_flags(a)["message"].iloc[0]

    html = registry.render(report, "html", tmp_path / "r.html").read_text(encoding="utf-8")
    assert "Reviewer checklist" in html and "7 of 10 scenarios" in html

    book = openpyxl.load_workbook(registry.render(report, "xlsx", tmp_path / "r.xlsx"))
    sheet = book["Reviewer checklist"]
    cells = [str(c.value) for row in sheet.iter_rows() for c in row if c.value is not None]
    assert message in cells and "Check: costs" in cells
    plans = book["Plans"]
    assert "extreme benefit-cost ratio; fires in most scenarios" in [
        c.value for row in plans.iter_rows() for c in row
    ]

    deck = Presentation(str(registry.render(report, "pptx", tmp_path / "r.pptx")))
    slide = next(s for s in deck.slides if "Reviewer checklist" in s.shapes.title.text)
    texts = [
        cell.text for sh in slide.shapes if sh.has_table for r in sh.table.rows for cell in r.cells
    ]
    assert CHEAP_PLAN in texts and "Check: probabilities" in texts
    assert message in slide.notes_slide.notes_text_frame.text

    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext not installed")
    pdf = tmp_path / "r.pdf"
    pdf.write_bytes(pdf_format.pdf_from_html(pdf_format.report_html(report, {})))
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Reviewer checklist" in text and "Check: probabilities" in text
    assert "7 of 10" in " ".join(text.split())


def test_the_plan_register_carries_the_flags(a: Assessment) -> None:
    reg = plan_register(a, "s1").set_index("plan_id")["flags"]
    assert reg["cheap"] == "extreme benefit-cost ratio; fires in most scenarios"
    assert reg["shield"] == ""
