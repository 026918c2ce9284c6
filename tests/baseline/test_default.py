"""The shipped default methodology on the shipped data: documented spot values and coverage."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from riskapp.baseline.build import BaselineResult, write_baseline, write_details
from riskapp.io.tables import load_baseline
from tests.conftest import DEMO, ROOT

DEMO_COUNTRIES = sorted(set(pd.read_csv(DEMO / "assets.csv")["country"]))


def score(result: BaselineResult, country: str, path: str) -> float:
    nodes = result.nodes
    row = nodes[(nodes["country"] == country) & (nodes["path"] == path)]
    return float(row["score"].item())


def row(result: BaselineResult, country: str, path: str) -> pd.Series:
    nodes = result.nodes
    return nodes[(nodes["country"] == country) & (nodes["path"] == path)].iloc[0]


@pytest.mark.parametrize("which", ["result_2021", "result_2022"])
def test_energy_ranks_central_europe_above_iberia(
    which: str, request: pytest.FixtureRequest
) -> None:
    result: BaselineResult = request.getfixturevalue(which)
    energy = result.factor_scores()["energy_weaponization"]
    assert min(energy[["HUN", "SVK", "CZE"]]) > max(energy[["ESP", "PRT"]]) + 5
    assert energy["HUN"] > 9 and energy["ESP"] < 1.5 and energy["PRT"] < 1.5


def test_russia_ukraine_jump_visible_in_2022(
    result_2021: BaselineResult, result_2022: BaselineResult
) -> None:
    for country in ("UKR", "RUS"):
        before = score(result_2021, country, "military_escalation/tension")
        after = score(result_2022, country, "military_escalation/tension")
        assert after > before + 1.5, country
    ukr_before = row(result_2021, "UKR", "military_escalation/tension/gpr_level")
    ukr_after = row(result_2022, "UKR", "military_escalation/tension/gpr_level")
    assert ukr_after["raw"] > 5 * ukr_before["raw"]
    assert ukr_after["period"] == "2020-01..2022-12"
    assert (
        score(result_2022, "UKR", "military_escalation")
        > score(result_2021, "UKR", "military_escalation") + 1.5
    )
    # the war also shows in UCDP 2022: energy and shipping in Ukraine
    assert score(result_2022, "UKR", "energy_weaponization") >= 8
    assert score(result_2021, "UKR", "energy_weaponization") < 2


def test_austria_artefact_is_handled(result_2022: BaselineResult) -> None:
    # before the post-2022 layer's date for Austria (2025-01-01) the imputation holds
    leaf = row(result_2022, "AUT", "energy_weaponization/gas_dependence/gas_russia_share")
    assert leaf["status"] == "imputed: mean of group austria_gas_neighbours"
    assert "artefact" in leaf["note"]
    assert 7 < leaf["score"] <= 10
    assert leaf["reliability"] == pytest.approx(0.5)
    sources = result_2022.baseline().set_index(["country", "factor"])["source"]
    assert (
        "(imputed: mean of group austria_gas_neighbours)"
        in sources[("AUT", "energy_weaponization")]
    )


STOPPED = ["FIN", "EST", "LVA", "LTU", "CZE", "POL", "DEU", "BGR"]  # no Russian gas since 2022-25
STILL_IMPORT = ["HUN", "SVK", "SRB"]  # still buy Russian gas, via TurkStream


def test_post_2022_layer_ranks_importers_above_those_that_stopped(
    result_2021: BaselineResult, result_2025: BaselineResult
) -> None:
    europe = STOPPED + STILL_IMPORT + ["AUT", "ITA", "ROU", "GRC", "NLD", "FRA", "ESP", "BEL"]
    after = result_2025.factor_scores()["energy_weaponization"][europe]
    assert after[STOPPED].max() < after[STILL_IMPORT].min()
    most_exposed = set(after.sort_values(ascending=False).index[:3])
    assert most_exposed == set(STILL_IMPORT), after.sort_values(ascending=False)
    # as of 2021 the layer does not apply yet: the 2018-2020 shares put the Baltic states and
    # Czechia at the top, as they did before the layer existed
    before = result_2021.factor_scores()["energy_weaponization"][europe]
    assert before[["LVA", "CZE"]].min() > before[["HUN", "SVK"]].max()
    leaf = row(result_2025, "HUN", "energy_weaponization/gas_dependence/gas_russia_share")
    assert leaf["period"] == "as of 2025-01-01" and "analyst judgement" in leaf["note"]
    leaf = row(result_2021, "HUN", "energy_weaponization/gas_dependence/gas_russia_share")
    assert leaf["period"] == "2018..2020" and "as of" not in leaf["note"]


def test_norway_exporter_override(result_2025: BaselineResult) -> None:
    leaf = row(result_2025, "NOR", "energy_weaponization/gas_dependence/gas_russia_share")
    assert leaf["raw"] == 0 and leaf["period"] == "set by method"
    assert leaf["reliability"] == pytest.approx(0.8)


def test_baltic_states_get_gpr_from_neighbours(result_2025: BaselineResult) -> None:
    est = row(result_2025, "EST", "military_escalation/tension")
    assert est["status"] == "imputed: mean of group baltic_sea_east"
    expected = np.mean(
        [score(result_2025, c, "military_escalation/tension") for c in ("FIN", "POL", "SWE")]
    )
    assert est["score"] == pytest.approx(expected)
    assert row(result_2025, "EST", "military_escalation")["reliability"] < 1


def test_arctic_and_landlocked_rules(result_2025: BaselineResult) -> None:
    scores = result_2025.factor_scores()
    assert (scores.loc[["DEU", "ESP", "HUN", "POL", "TUR", "EST"], "arctic_disputes"] == 0).all()
    assert (scores.loc[["NOR", "RUS", "FIN", "CAN", "USA", "DNK"], "arctic_disputes"] >= 3.5).all()
    assert (scores.loc[["HUN", "AUT", "CZE", "SVK", "CHE"], "undersea_sabotage"] == 0).all()
    assert scores.loc["FIN", "undersea_sabotage"] > scores.loc["ESP", "undersea_sabotage"]


def test_every_value_is_a_score_with_reliability(result_2025: BaselineResult) -> None:
    nodes = result_2025.nodes
    present = nodes["score"].notna()
    assert nodes.loc[present, "score"].between(0, 10).all()
    assert nodes["reliability"].between(0, 1).all()
    assert nodes["coverage"].between(0, 1).all()
    roots = nodes[nodes["depth"] == 0]
    assert roots["score"].notna().all(), "every country gets every factor"
    used_leaves = nodes[(nodes["kind"] == "indicator") & nodes["used"]]
    observed = used_leaves["status"] == "observed"
    assert (used_leaves.loc[observed, "period"] != "").all()
    assert used_leaves.loc[~observed, "status"].str.startswith("imputed").all()
    shares = used_leaves.groupby(["country", "factor"])["effective_share"].sum()
    assert (shares <= 1 + 1e-9).all()


def test_demo_countries_are_covered_for_every_factor(result_2025: BaselineResult) -> None:
    table = result_2025.baseline()
    have = set(zip(table["country"], table["factor"], strict=True))
    for country in DEMO_COUNTRIES:
        for factor in result_2025.method.factor_ids:
            assert (country, factor) in have, (country, factor)
    assert table["source"].str.len().max() <= 500
    assert table["source"].str.contains("method default v1, as of 2025-12-31").all()


def test_baseline_file_loads_in_a_workspace(result_2025: BaselineResult, tmp_path: Path) -> None:
    from riskapp.engine import score as run_score
    from riskapp.io import load_workspace

    shutil.copytree(DEMO, tmp_path / "demo")
    shutil.copytree(ROOT / "scenarios", tmp_path / "scenarios")
    target = tmp_path / "demo" / "baseline.csv"
    write_baseline(result_2025, target)
    entries, _ = load_baseline(target)
    assert len(entries) == len(result_2025.countries) * 8
    ws = load_workspace(tmp_path / "demo")
    fin = {e.factor: e.intensity for e in ws.baseline.entries if e.country == "FIN"}
    assert fin["energy_weaponization"] == pytest.approx(
        round(result_2025.factor_scores().loc["FIN", "energy_weaponization"], 2)
    )
    assert run_score(ws).expected_annual_loss() > 0


def test_details_and_breakdown(result_2025: BaselineResult, tmp_path: Path) -> None:
    write_details(result_2025, tmp_path / "details.parquet")
    details = pd.read_parquet(tmp_path / "details.parquet")
    assert {"country", "path", "weight", "score", "coverage", "reliability", "period",
            "raw", "source", "effective_share"} <= set(details.columns)  # fmt: skip
    tree = result_2025.breakdown("FIN", "military_escalation")
    assert tree["path"].iloc[0] == "military_escalation"
    seen: set[str] = set()
    for path, parent in zip(tree["path"], tree["parent"], strict=True):
        assert not parent or parent in seen
        seen.add(path)
    hierarchy = result_2025.hierarchy()
    assert len(hierarchy) == tree["factor"].size + sum(
        len(result_2025.breakdown("FIN", f)) for f in result_2025.method.factor_ids[1:]
    )
