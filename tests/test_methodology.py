"""The client methodology (issue 12, item 7): plain words with no names from the code, worked
examples the engine agrees with, and the same text on every surface.

Each worked example marks the figure it states with `<!-- check: name=value -->`; the tests
below recompute every marked figure with the engine (the EAL, return-period and plan figures on
a workspace built here with the example's numbers) and check that the figure is in the visible
text. The comments themselves never reach a reader.
"""

from __future__ import annotations

import ast
import re
import textwrap
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from riskapp.baseline import operators
from riskapp.cli import app
from riskapp.domain import VulnerabilityCurve
from riskapp.domain.assets import DependencyLink
from riskapp.domain.regions import RegionCatalogue
from riskapp.domain.scenarios import Scenario, ShockOperation
from riskapp.domain.zones import Decay, Geometry, Kernel, Zone, ZoneCatalogue
from riskapp.engine.cascade import build_graph
from riskapp.engine.damage import AssetGroups, combine
from riskapp.engine.geo import zone_weights
from riskapp.engine.intensity import apply_shock, scenario_intensities
from riskapp.engine.montecarlo.statistics import distribution_stats
from riskapp.engine.places import Places
from riskapp.engine.routes import GroupRoutes, fold_routes
from riskapp.methodology import (
    CHECK,
    client_methodology,
    client_section_titles,
    client_sections,
    developer_methodology,
)
from tests.conftest import ROOT

runner = CliRunner()

# Names from the code that must not reach a client, whatever the package's names are today.
FORBIDDEN_WORDS = ("Dask", "SeedSequence", "numpy", "docstring", "pydantic")


def package_names() -> set[str]:
    """Every class, function and module-level constant defined in the riskapp package."""
    names: set[str] = set()
    for path in (ROOT / "riskapp").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
                names.add(node.name)
            elif isinstance(node, ast.Assign):
                names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return names


def camel_case(name: str) -> bool:
    """ShockClamps, SimulationResult: two or more capitalised humps (not VaR or INFORM)."""
    return re.fullmatch(r"(?:[A-Z][a-z0-9]+){2,}", name) is not None


@pytest.fixture(scope="module")
def text() -> str:
    return client_methodology()


def test_client_text_names_nothing_from_the_code(text: str) -> None:
    assert "`" not in text
    assert "check:" not in text and "<!--" not in text
    snake = re.findall(r"\b[A-Za-z0-9]+_[A-Za-z0-9_]+\b", text)
    assert snake == []
    words = set(re.findall(r"\b[A-Za-z][A-Za-z0-9]*\b", text))
    code_classes = {n for n in package_names() if camel_case(n)}
    assert len(code_classes) > 50  # the collection found the package's classes
    assert words & code_classes == set()
    upper_constants = {n for n in package_names() if re.fullmatch(r"[A-Z]+(?:_[A-Z0-9]+)+", n)}
    assert words & upper_constants == set()
    for word in FORBIDDEN_WORDS:
        assert word.lower() not in text.lower(), word


def test_the_developer_text_is_the_one_naming_internals() -> None:
    """The check above can fail: the developer notes it must never see do name internals."""
    dev = developer_methodology()
    assert "SeedSequence" in dev and "`" in dev
    assert {n for n in package_names() if camel_case(n)} & set(re.findall(r"\w+", dev))


def test_sections_cover_the_topics(text: str) -> None:
    titles = client_section_titles()
    assert text.startswith("# How riskapp computes its figures\n")
    assert [line.removeprefix("## ") for line in text.splitlines() if line.startswith("## ")] == (
        titles
    )
    joined = " ".join(titles).lower()
    for topic in (
        "hazard \N{MULTIPLICATION SIGN} exposure \N{MULTIPLICATION SIGN} vulnerability",
        "exposure",
        "shocks",
        "vulnerability",
        "several factors",
        "incremental",
        "expected annual loss",
        "exceedance",
        "contingency plans",
        "cascades",
        "simulation",
        "baselines",
        "provenance",
        "three things to act on",
    ):
        assert topic in joined, topic
    for term in ("toward max", "toward min", "value at risk", "expected shortfall"):
        assert term in text.lower(), term
    for term in ("benefit-cost ratio", "warning time", "reproducible", "renormalis", "INFORM"):
        assert term.lower() in text.lower().replace("re-weighted", "renormalised"), term


# ---------------------------------------------------------------- worked examples, recomputed


def checks() -> dict[str, tuple[float, str]]:
    """Every marked figure with the visible text of its section."""
    out: dict[str, tuple[float, str]] = {}
    for section in client_sections():
        for name, value in section.checks().items():
            assert name not in out, f"{name} marked twice"
            out[name] = (value, section.text)
    return out


EXAMPLE_WORKSPACE = {
    "workspace.yaml": """\
        name: Methodology worked example
        currency: EUR
        discount_rate: 0.05
        plan_horizon_years: 5
        return_periods: [10, 50]
        """,
    "factors.yaml": """\
        factors:
          - {id: energy, name: Energy weaponisation, colour: "#0072B2"}
        """,
    "regions.yaml": """\
        groups:
          - {id: baltic, name: Baltic states, members: [EST, LVA, LTU]}
          - {id: nordic, name: Nordic countries, members: [FIN]}
        """,
    "curves.yaml": """\
        curves:
          - {asset_type: plant, factor: energy, points: [[2, 0], [10, 0.8]]}
        """,
    "baseline.csv": """\
        country,factor,intensity,source
        FIN,energy,2,example
        EST,energy,2,example
        LVA,energy,2,example
        LTU,energy,2,example
        """,
    "assets.csv": """\
        id,name,type,country,lat,lon,replacement_value,annual_revenue_at_stake,currency,criticality,tags,owner,depends_on
        P1,Plant,plant,FIN,60.2,24.9,800,200,EUR,3,,Ops,
        """,
    "scenarios/a.yaml": """\
        id: a
        title: Scenario A
        frequency: 0.1
        horizon_years: 1
        warning_time_days: 90
        shocks:
          - {target: FIN, factor: energy, op: set, value: 6}
        """,
    "scenarios/b.yaml": """\
        id: b
        title: Scenario B
        frequency: 0.02
        horizon_years: 1
        warning_time_days: 60
        shocks:
          - {target: FIN, factor: energy, op: set, value: 10}
          - {target: LVA, factor: energy, op: set, value: 9}
        """,
    # fires in B only: a group trigger, reached by one member (Latvia) of the Baltic states
    "plans.yaml": """\
        plans:
          - id: halve
            title: Halve the damage
            owner: COO
            status: proposed
            trigger:
              factor_levels:
                - {region: baltic, factor: energy, at_least: 8}
            actions:
              - {title: Prepare, owner: Ops, lead_time_days: 30, one_off_cost: 20, annual_cost: 2}
            effect:
              damage_multiplier: {energy: 0.5}
        """,
}


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The plant, scenarios and plan of the expected-loss, exceedance and plan sections."""
    folder = tmp_path_factory.mktemp("example")
    for name, content in EXAMPLE_WORKSPACE.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(content), encoding="utf-8")
    return folder


def recomputed(example: Path) -> dict[str, float]:
    from riskapp import assess

    a = assess(example)
    halve = a.plans.plan_ids.index("halve")
    pol, lva = 4.0, 9.0

    def shocked(x: float, op: ShockOperation, value: float) -> float:
        return float(apply_shock(np.array([x]), op, value)[0])

    # cascades: a plant (20 % direct) on a port (half lost) for 30 % of its value; an office
    # on two redundant cables, each half cut, for all of its value
    links = [
        DependencyLink(asset_id="plant", depends_on="port", share=0.3),
        DependencyLink(asset_id="office", depends_on="c1", share=1, redundancy_group="cables"),
        DependencyLink(asset_id="office", depends_on="c2", share=1, redundancy_group="cables"),
    ]
    graph = build_graph(["port", "plant", "c1", "c2", "office"], links)
    direct = {"port": 0.5, "plant": 0.2, "c1": 0.5, "c2": 0.5, "office": 0.0}
    ids = ["port", "plant", "c1", "c2", "office"]
    total = graph.propagate(np.array([[direct[ids[k]] for k in graph.assets]]))[0]
    node = {ids[k]: n for n, k in enumerate(graph.assets)}
    # the simulation example: 990 years at 50 or less, the 10 worst 300, 320, ..., 480
    years = np.r_[np.linspace(0, 50, 990), np.arange(300, 481, 20)].astype(float)
    stats = distribution_stats(years[:, np.newaxis]).iloc[0]

    # zones: a plant in Helsinki at 4, 111 km from a hotspot fading to 0 at 200 km, then in
    # two circles adding 1 and 3
    hel = (24.9, 60.2)
    hotspot = Zone(
        id="hotspot",
        name="hotspot",
        geometry=Geometry(type="Point", coordinates=(24.9, 59.2)),
        decay=Decay(kernel=Kernel.LINEAR, distance_km=200),
    )
    rings = [
        Zone(id=z, name=z, geometry=Geometry(type="Point", coordinates=hel), within_km=50)
        for z in ("one", "two")
    ]
    zones = [hotspot, *rings]
    weights = zone_weights(np.array([hel[0]]), np.array([hel[1]]), zones)
    places, _ = Places.locate(["FIN"], np.array([0]), [z.id for z in zones], weights)
    zone_shocks = [
        {"target": "hotspot", "factor": "f", "op": "add", "value": 4},
        {"target": "one", "factor": "f", "op": "add", "value": 1},
        {"target": "two", "factor": "f", "op": "add", "value": 3},
    ]
    by_zone = [
        scenario_intensities(
            np.array([[4.0]]),
            ["FIN"],
            ["f"],
            [Scenario(id="z", title="z", frequency=0.1, warning_time_days=0, shocks=chosen)],
            RegionCatalogue(),
            places=places,
            zones=ZoneCatalogue(zones=zones),
        )[0, 1, 0]
        for chosen in ([zone_shocks[0]], zone_shocks[1:])
    ]

    # routes: Finland 0.4 and Norway 0.2, 85 % of the length in Finland, by both rules
    def route_damage(any_cut: bool) -> float:
        routes = GroupRoutes(
            groups=np.array([0]),
            indptr=np.array([0, 2]),
            place=np.array([0, 1]),
            share=np.array([0.85, 0.15]),
            any_cut=np.array([any_cut]),
            new_stretch=np.array([True, True]),
        )
        groups = AssetGroups(
            of_asset=np.array([0]),
            type=np.array(["cable"], dtype=object),
            country_index=np.array([0]),
            override_owner=np.array([""], dtype=object),
            coverage=np.zeros((1, 0), dtype=bool),
            routes=routes,
        )
        return float(fold_routes(np.array([[[0.4], [0.4], [0.2]]]), groups)[0, 0, 0])

    curve = VulnerabilityCurve(asset_type="plant", factor="f", points=[(2, 0), (6, 0.4)])
    combined, _ = combine(np.array([[0.3, 0.2]]))
    equal = np.array([1.0, 1.0])
    return {
        "add_clamped": shocked(lva, ShockOperation.ADD, 3),
        "toward_max_poland": shocked(pol, ShockOperation.TOWARD_MAX, 0.5),
        "toward_max_latvia": shocked(lva, ShockOperation.TOWARD_MAX, 0.5),
        "curve_at_5": float(curve.damage(np.array([5.0]))[0]),
        "route_any_cut": route_damage(True),
        "route_by_length": route_damage(False),
        "hotspot_weight": float(weights[0, 0]),
        "hotspot_intensity": float(by_zone[0]),
        "worst_of_two_zones": float(by_zone[1]),
        "combined": float(combined[0]),
        "cascade_total": float(total[node["plant"]]),
        "redundant_cables": float(total[node["office"]]),
        "var_99": float(stats["var_99"]),
        "es_99": float(stats["es_99"]),
        "eal": a.result.expected_annual_loss(),
        "headline_check_mean": a.headline.check_mean,
        "headline_check_se": a.headline.check_se,
        "headline_es_99": a.headline.es["99"],
        "loss_10_years": a.result.loss_at_return_periods([10])[10],
        "averted_eal": float(a.plans.averted_eal()[halve]),
        "bcr": float(a.plans.benefit_cost_ratio()[halve]),
        "complement_geometric": float(
            operators.complement_geometric(np.array([[4.0, 8.0]]), equal)[0]
        ),
        "complement_product": float(operators.complement_product(np.array([[4.0, 8.0]]), equal)[0]),
        "complement_product_fives": float(
            operators.complement_product(np.array([[5.0, 5.0]]), equal)[0]
        ),
    }


def test_every_worked_example_is_what_the_engine_computes(example: Path) -> None:
    stated = checks()
    engine = recomputed(example)
    assert set(stated) == set(engine)  # every marked figure is recomputed, and nothing else
    for name, (value, section) in stated.items():
        decimals = len(str(value).partition(".")[2]) if value != int(value) else 0
        assert round(engine[name], max(decimals, 0)) == pytest.approx(value), name
        shown = f"{value:,.{decimals}f}"
        assert shown in section, f"{name}: {shown} is not in the section's text"


def test_the_example_workspace_is_the_one_the_text_describes(example: Path) -> None:
    """The plan fires only in scenario B (Latvia, one Baltic state, reaches 8) and is ready."""
    from riskapp import assess

    a = assess(example)
    plans = a.plans
    assert plans.triggered[:, 0].tolist() == [False, True]
    assert plans.ready[:, 0].tolist() == [True, True]
    assert a.result.scenario_loss().tolist() == pytest.approx([400.0, 800.0])


def test_a_check_can_fail() -> None:
    wrong = "<!-- check: eal=57 -->\n"
    (match,) = CHECK.finditer(wrong)
    assert float(match["value"]) != 56


# ---------------------------------------------------------------- every surface shows it


def test_cli_prints_the_client_text_and_developer_notes_on_request(text: str) -> None:
    result = runner.invoke(app, ["methodology"])
    assert result.exit_code == 0
    assert result.output.strip() == text.strip()
    dev = runner.invoke(app, ["methodology", "--developer"])
    assert dev.exit_code == 0
    assert "SeedSequence" in dev.output and "developer" in dev.output


def test_report_appendix_is_the_client_text(example: Path, tmp_path: Path) -> None:
    from riskapp.reporting import registry
    from riskapp.reporting.model import build_report

    report = build_report(example)
    assert report.methodology == client_methodology()
    html = registry.render(report, "html", tmp_path / "r.html").read_text(encoding="utf-8")
    for title in client_section_titles():
        assert title.replace("&", "&amp;") in html, title
    assert (
        "EAL = 0.1 \N{MULTIPLICATION SIGN} 400 + 0.02 \N{MULTIPLICATION SIGN} 800 = 40 + 16 = 56"
        in html
    )
    assert "SeedSequence" not in html and "Dask" not in html and "check:" not in html


def test_dashboard_page_shows_the_client_text(monkeypatch: pytest.MonkeyPatch) -> None:
    from streamlit.testing.v1 import AppTest

    from tests.conftest import DEMO

    monkeypatch.setenv("RISKAPP_WORKSPACE", str(DEMO))
    page = ROOT / "riskapp" / "dashboard" / "views" / "methodology.py"
    at = AppTest.from_file(str(page), default_timeout=60)
    at.run()
    assert not at.exception
    shown = "\n".join(m.value for m in at.markdown)
    assert at.title[0].value == "How riskapp computes its figures"
    for title in client_section_titles():
        assert title in shown, title
    assert "SeedSequence" not in shown and "Dask" not in shown and "check:" not in shown
