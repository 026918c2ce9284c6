"""The report model on its own: number formats, branding, content, ordering, totals equal to
the engine's, the three-actions rule and provenance."""

from __future__ import annotations

import math
import shutil
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from riskapp.assessment.core import Assessment, assess
from riskapp.assessment.core import key_figures as headline_figures
from riskapp.engine import key_figures, losses_by
from riskapp.io import InputError
from riskapp.reporting.model import (
    Branding,
    NumberFormat,
    Report,
    ReportOptions,
    build_report,
    load_branding,
)
from tests.conftest import DEMO, TINY
from tests.reporting import check_golden

NOW = datetime(2025, 11, 30, 12, 0, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def tiny_a() -> Assessment:
    return assess(TINY)


@pytest.fixture(scope="module")
def demo_a() -> Assessment:
    return assess(DEMO)


@pytest.fixture(scope="module")
def tiny_report(tiny_a: Assessment) -> Report:
    return build_report(tiny_a, ReportOptions(top_n=2), now=NOW)


@pytest.fixture(scope="module")
def demo_report(demo_a: Assessment) -> Report:
    return build_report(demo_a, ReportOptions(include_figures=False), now=NOW)


# -- number formats -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "en", "de"),
    [
        (1234567.891, "1,234,568", "1.234.568"),
        (0.4, "0", "0"),
        (-0.4, "0", "0"),
        (-1234.0, "-1,234", "-1.234"),
    ],
)
def test_number_separators(value: float, en: str, de: str) -> None:
    assert NumberFormat(locale="en").number(value) == en
    assert NumberFormat(locale="de").number(value) == de


def test_number_decimals_and_missing() -> None:
    assert NumberFormat(locale="en").number(1234.56, 1) == "1,234.6"
    assert NumberFormat(locale="de").number(1234.56, 1) == "1.234,6"
    assert NumberFormat(locale="en").number(float("nan")) == "n/a"
    assert NumberFormat(locale="en").number(None) == "n/a"


@pytest.mark.parametrize(
    ("value", "en", "de"),
    [
        (1_250_000_000, "EUR 1.25bn", "1,25 Mrd. EUR"),
        (12_345_678, "EUR 12.3m", "12,3 Mio. EUR"),
        (850_000, "EUR 850k", "850 Tsd. EUR"),
        (120, "EUR 120", "120 EUR"),
        (-2_500_000, "-EUR 2.5m", "-2,5 Mio. EUR"),
        (0, "EUR 0", "0 EUR"),
    ],
)
def test_money_units(value: float, en: str, de: str) -> None:
    assert NumberFormat(locale="en").money(value) == en
    assert NumberFormat(locale="de").money(value) == de


def test_money_names_its_currency() -> None:
    assert NumberFormat(currency="USD").money(3.21e9) == "USD 3.21bn"
    assert NumberFormat(currency="USD", locale="de").money(3.21e9) == "3,21 Mrd. USD"


@pytest.mark.parametrize(
    ("value", "en", "de"),
    [
        (999.6, "EUR 1k", "1 Tsd. EUR"),
        (999_999, "EUR 1.0m", "1,0 Mio. EUR"),
        (999_960_000, "EUR 1.00bn", "1,00 Mrd. EUR"),
        (999.4, "EUR 999", "999 EUR"),
    ],
)
def test_money_moves_up_a_unit_when_rounding_reaches_1000(value: float, en: str, de: str) -> None:
    assert NumberFormat(locale="en").money(value) == en
    assert NumberFormat(locale="de").money(value) == de


def test_percent_ratio_days_date() -> None:
    en, de = NumberFormat(locale="en"), NumberFormat(locale="de")
    assert en.percent(0.1234) == "12.3%"
    assert de.percent(0.1234) == "12,3 %"
    assert en.ratio(2.345) == "2.3x"
    assert de.ratio(2.345) == "2,3x"
    assert en.ratio(math.inf) == "free"
    assert en.ratio(math.nan) == "n/a"
    assert de.days(1200) == "1.200 days"
    assert en.date(NOW) == "2025-11-30"
    assert de.date(NOW) == "30.11.2025"


def test_cell_by_kind() -> None:
    en = NumberFormat(locale="en")
    assert en.cell("=1+1", "text") == "=1+1"
    assert NumberFormat(currency="NOK").cell(2_000_000, "money") == "NOK 2.0m"
    assert en.cell(0.05, "probability") == "5.0%"
    assert en.cell(float("nan"), "money") == ""
    assert en.cell(float("nan"), "ratio") == "n/a"
    assert en.cell(3, "int") == "3"


# -- branding -------------------------------------------------------------------------------
def test_branding_validates_colour_and_logo() -> None:
    assert Branding(accent_colour="#00aaff").accent_colour == "#00AAFF"
    with pytest.raises(ValueError, match="#RRGGBB"):
        Branding(accent_colour="red")
    with pytest.raises(ValueError, match="#RRGGBB"):
        Branding(accent_colour="#12345")
    with pytest.raises(ValueError, match="logo"):
        Branding(logo=Path("logo.gif"))
    with pytest.raises(ValueError):
        Branding.model_validate({"locale": "fr"})


def test_branding_file_errors_carry_their_line(tmp_path: Path) -> None:
    path = tmp_path / "branding.yaml"
    path.write_text('client: ACME\nauthor: Jane\naccent_colour: "blue"\n', encoding="utf-8")
    with pytest.raises(InputError) as exc:
        load_branding(path)
    (problem,) = exc.value.problems
    assert problem.line == 3
    assert "#RRGGBB" in problem.message


def test_branding_file_logo_relative_to_the_file(tmp_path: Path) -> None:
    (tmp_path / "img").mkdir()
    (tmp_path / "img" / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    path = tmp_path / "branding.yaml"
    path.write_text("client: ACME\nlogo: img/logo.png\nlocale: de\n", encoding="utf-8")
    branding = load_branding(path)
    assert branding.logo == (tmp_path / "img" / "logo.png").resolve()
    assert branding.locale == "de"
    path.write_text("logo: missing.png\n", encoding="utf-8")
    with pytest.raises(InputError) as exc:
        load_branding(path)
    assert exc.value.problems[0].line == 1


def test_branding_from_overrides(tmp_path: Path) -> None:
    from riskapp.reporting.branding import branding_from

    path = tmp_path / "b.yaml"
    path.write_text("client: ACME\nauthor: Jane\n", encoding="utf-8")
    b = branding_from(path, author="Joe", client=None, confidentiality="")
    assert (b.client, b.author, b.confidentiality) == ("ACME", "Joe", "Confidential")
    with pytest.raises(ValueError, match="accent_colour"):
        branding_from(None, accent_colour="nope")


# -- content equals the engine --------------------------------------------------------------
def test_key_figures_equal_the_engine(tiny_a: Assessment, tiny_report: Report) -> None:
    """The report's key figures are the assessment's headline set: the exact figures equal the
    engine's, the tail ones the headline simulation's, in the same words and format."""
    engine = key_figures(tiny_a.ws, tiny_a.result)
    h = tiny_a.headline
    kf = {k.key: k for k in tiny_report.key_figures}
    assert [k.key for k in tiny_report.key_figures] == [k.key for k in headline_figures(tiny_a)]
    assert kf["exposed_value"].value == pytest.approx(engine["exposed_value"])
    assert kf["exposed_value"].note == f"{int(engine['assets'])} assets"
    assert kf["expected_annual_loss"].value == pytest.approx(engine["expected_annual_loss"])
    assert kf["worst_scenario_loss"].value == pytest.approx(engine["worst_scenario_loss"])
    assert kf["simulated_mean"].value == pytest.approx(h.mean)
    assert kf["var_99"].value == pytest.approx(h.var["99"])
    assert kf["es_99"].value == pytest.approx(h.es["99"])
    assert kf["es_99"].value >= kf["var_99"].value >= kf["var_95"].value
    assert kf["loss_at_100y"].value == pytest.approx(kf["var_99"].value)
    assert kf["residual_eal"].value == pytest.approx(tiny_a.plans.residual_eal())
    assert kf["expected_annual_loss"].text == NumberFormat().money(
        float(engine["expected_annual_loss"])
    )
    assert all(k.definition for k in tiny_report.key_figures)
    assert f"{h.trials:,}" in tiny_report.headline_note


@pytest.mark.parametrize("which", ["tiny", "demo"])
def test_tables_add_up_to_the_engine_totals(
    which: str, tiny_report: Report, demo_report: Report, tiny_a: Assessment, demo_a: Assessment
) -> None:
    report, a = (tiny_report, tiny_a) if which == "tiny" else (demo_report, demo_a)
    t = report.tables
    eal = a.result.expected_annual_loss()
    assert t.assets.frame["eal"].sum() == pytest.approx(eal)
    assert t.factors.frame["eal"].sum() == pytest.approx(eal)
    assert t.countries.frame["eal"].sum() == pytest.approx(eal)
    assert t.countries.frame["exposed_value"].sum() == pytest.approx(a.result.total_exposed_value)
    # contributions are frequency x increment over the status quo; the status quo completes
    # the total (tiny, absolute basis: 14.5 + 1 + 160 = 175.5; demo, incremental: status quo 0)
    status_quo = a.result.status_quo_loss()
    assert t.scenarios.frame["contribution_to_eal"].sum() + status_quo == pytest.approx(eal)
    assert t.scenarios.frame["gross_loss"].sum() == pytest.approx(a.result.scenario_loss().sum())
    sc = t.scenarios.frame
    assert np.allclose(sc["gross_loss"] - sc["averted_loss"], sc["residual_loss"])
    assert t.assets.frame["share_of_eal"].sum() == pytest.approx(1.0)
    heat = t.region_factor.frame.drop(columns=["region_id", "name"]).sum(axis=1)
    by_group = losses_by(a.ws, a.result, "region_group")["eal"]
    for region_id, total in zip(t.region_factor.frame["region_id"], heat, strict=True):
        assert total == pytest.approx(by_group[region_id])
    wf = t.waterfall.frame
    assert wf["amount"].iloc[0] + wf["amount"].iloc[1:-1].sum() == pytest.approx(
        wf["amount"].iloc[-1]
    )
    assert len(t.assets) == len(a.ws.portfolio)


def test_ordering(demo_report: Report) -> None:
    t = demo_report.tables
    for table, column in [
        (t.scenarios, "gross_loss"),
        (t.assets, "eal"),
        (t.factors, "eal"),
        (t.regions, "eal"),
        (t.countries, "eal"),
        (t.readiness_gaps, "gap_days"),
    ]:
        values = table.frame[column].to_numpy()
        assert (np.diff(values) <= 1e-9).all(), table.name
    bcr = t.plans.frame["benefit_cost_ratio"].fillna(-1).to_numpy()
    assert (np.diff(bcr) <= 0).all()
    assert demo_report.worst_scenario_id == t.scenarios.frame["scenario_id"].iloc[0]
    assert list(demo_report.provenance.scenario_ids) == list(t.scenarios.frame["scenario_id"])


def test_top_assets_are_the_head_of_the_assets(tiny_report: Report) -> None:
    t = tiny_report.tables
    assert len(t.top_assets) == 2
    assert t.top_assets.total_rows == 3
    assert list(t.top_assets.frame["id"]) == list(t.assets.frame["id"][:2])
    assert "2 of 3" in t.top_assets.note


def test_every_table_matches_its_columns(demo_report: Report) -> None:
    for table in demo_report.tables:
        assert list(table.frame.columns) == table.keys, table.name
        rows = table.formatted(demo_report.fmt)
        assert len(rows) == len(table)
        assert all(len(r) == len(table.columns) for r in rows)


def test_limited_tables_say_what_was_left_out(demo_report: Report) -> None:
    assets = demo_report.tables.assets
    short = assets.limited(10)
    assert len(short) == 10
    assert short.total_rows == len(assets)
    assert f"first 10 of {len(assets)}" in short.note
    assert assets.limited(10_000) is assets


# -- the three things to act on -------------------------------------------------------------
def test_three_actions_on_tiny(tiny_report: Report) -> None:
    # shield (approved, BCR 2.1) is the only plan not in place that averts anything; armor
    # needs 60 days against 30 days of warning in s1; P2 carries 71.5 % of the EAL
    kinds = [(a.kind, a.subject_id) for a in tiny_report.actions]
    assert kinds == [("plan", "shield"), ("readiness", "armor"), ("asset", "P2")]
    assert tiny_report.actions[1].value == 30.0
    assert "30 days too late" in tiny_report.actions[1].detail


def test_three_actions_on_the_demo_follow_the_rule(demo_a: Assessment, demo_report: Report) -> None:
    ev = demo_a.plans
    table = ev.table()
    candidates = table[
        ~table["status"].isin(["ready", "active", "retired"]) & (table["averted_eal"] > 0)
    ]
    best = candidates.sort_values(
        ["benefit_cost_ratio", "averted_eal"], ascending=False, kind="stable"
    ).iloc[0]
    late = ev.triggered & ~ev.ready
    worst_gap = ev.gap_days[late].max()
    eal = demo_a.result.asset_eal()
    actions = demo_report.actions
    assert [a.kind for a in actions] == ["plan", "readiness", "asset"]
    assert actions[0].subject_id == best["plan_id"]
    assert actions[1].value == worst_gap
    assert actions[2].subject_id == demo_a.ws.portfolio.frame["id"].iloc[int(np.argmax(eal))]


def test_three_actions_without_plans_fall_back_to_country_and_scenario(tmp_path: Path) -> None:
    ws = tmp_path / "noplans"
    shutil.copytree(TINY, ws)
    (ws / "plans.yaml").unlink()
    report = build_report(ws, ReportOptions(include_figures=False), now=NOW)
    assert [a.kind for a in report.actions] == ["asset", "country", "scenario"]
    assert report.actions[1].subject_id == "FIN"
    assert report.tables.plans.frame.empty
    assert report.tables.readiness_gaps.frame.empty


def test_demo_executive_summary_golden(demo_report: Report) -> None:
    check_golden("summary_demo.txt", demo_report.executive_summary() + "\n")


def test_german_summary_formats_numbers(demo_a: Assessment) -> None:
    report = build_report(
        demo_a, ReportOptions(include_figures=False), Branding(locale="de"), now=NOW
    )
    assert report.key_figure("expected_annual_loss").text.endswith("Mio. EUR")
    assert report.generated_on == "30.11.2025"


# -- scope ----------------------------------------------------------------------------------
def test_chosen_scenarios_only(tiny_a: Assessment) -> None:
    report = build_report(
        tiny_a, ReportOptions(scenarios=["s2", "s1"], include_figures=False), now=NOW
    )
    assert set(report.tables.scenarios.frame["scenario_id"]) == {"s1", "s2"}
    assert report.provenance.scenario_ids == ("s1", "s2")  # by loss, not as given
    sub = tiny_a.ws.with_scenarios(["s1", "s2"])
    from riskapp.engine import score

    expected = score(sub, basis=tiny_a.result.basis).expected_annual_loss()
    assert report.key_figure("expected_annual_loss").value == pytest.approx(expected)
    with pytest.raises(KeyError, match="nope"):
        build_report(tiny_a, ReportOptions(scenarios=["nope"], include_figures=False))


def test_figures_are_the_dashboard_charts(tiny_a: Assessment) -> None:
    report = build_report(tiny_a, ReportOptions(), now=NOW)
    assert set(report.figures) == {
        "world_map",
        "region_factor_heatmap",
        "scenario_comparison",
        "exceedance",
        "factor_tail",
        "trigger_matrix",
        "waterfall",
        "cost_benefit",
    }
    for name, f in report.figures.items():
        assert f.name == name and f.title and f.caption
        assert f.figure.to_dict()["data"], name
    assert "topojsonURL" not in report.figures["world_map"].config


# -- provenance -----------------------------------------------------------------------------
def test_provenance(tiny_report: Report, tiny_a: Assessment) -> None:
    p = tiny_report.provenance
    assert p.generated_at == NOW
    assert p.input_hash_basis == "files"
    assert p.source == "files"
    assert p.source_revision == tiny_a.source.revision
    assert p.input_hash == tiny_a.source.fingerprint
    assert len(p.input_hash) == 64
    assert "workspace.yaml" in p.input_files
    assert "scenarios/s1.yaml" in p.input_files
    assert p.plan_ids == ("shield", "armor")
    assert p.data_sources == tuple(sorted({e.source for e in tiny_a.ws.baseline.entries}))
    assert any("Caldara" in line for line in p.attribution)
    labels = [label for label, _ in p.rows()]
    assert "riskapp version" in labels and "Baseline data sources" in labels


def test_input_hash_follows_the_files(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    shutil.copytree(TINY, ws)
    opts = ReportOptions(include_figures=False)
    first = build_report(ws, opts, now=NOW).provenance.input_hash
    assert build_report(ws, opts).provenance.input_hash == first  # not the time
    with (ws / "assets.csv").open("a", encoding="utf-8") as f:
        f.write("X1,New office,office,DEU,,,10,0,EUR,1,,Admin,\n")
    assert build_report(ws, opts, now=NOW).provenance.input_hash != first


def test_in_memory_assessment_hashes_its_content(tiny_a: Assessment) -> None:
    from riskapp.assessment import MemorySource, assess

    opts = ReportOptions(include_figures=False)
    memory = assess(MemorySource(tiny_a.ws))
    p = build_report(memory, opts, now=NOW).provenance
    assert p.input_hash_basis == "content"
    assert p.source == "memory"
    assert p.input_hash == build_report(memory, opts, now=NOW).provenance.input_hash
    assert p.input_hash != tiny_a.source.fingerprint  # content, not the files' bytes
    assert p.workspace_path == ""


def test_a_workspace_whose_assets_lie_in_no_region_group_still_reports(tmp_path: Path) -> None:
    """The region x factor table is empty, with a column per factor, rather than failing."""
    from riskapp.assessment.sources import FileSource
    from riskapp.reporting import Branding, ReportOptions, build_report

    ws = tmp_path / "tiny"
    shutil.copytree(TINY, ws)
    (ws / "regions.yaml").write_text(
        "groups:\n  - id: north\n    name: North\n    members: [ISL]\n", encoding="utf-8"
    )
    report = build_report(FileSource(ws), ReportOptions(), Branding())
    table = report.tables.region_factor
    assert len(table.frame) == 0
    assert {"alpha", "beta"} <= set(table.frame.columns)
    assert "region_factor_heatmap" not in report.figures


@pytest.mark.parametrize("default", ["plotly", "plotly_dark"])
def test_figures_draw_plotlys_own_template_whatever_the_default(
    demo_a: Assessment, default: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Streamlit sets its own default template when imported: a report's charts look the
    same in the dashboard's process as in the CLI's (plotly's own template, pinned only where
    it is not the default)."""
    import plotly.io as pio

    from riskapp.reporting.figures import build_figures
    from riskapp.reporting.tables import build_tables

    monkeypatch.setattr(pio.templates, "default", default)
    figures = build_figures(demo_a, build_tables(demo_a, ReportOptions()), ["waterfall"])
    plotly = pio.templates["plotly"].to_plotly_json()
    assert figures
    for f in figures.values():
        assert f.figure.layout.template.to_plotly_json() == plotly, f.name
