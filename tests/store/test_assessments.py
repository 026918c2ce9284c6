"""Saved assessments: label, date, inputs hash, results; comparison and trend."""

from __future__ import annotations

from datetime import date

import pytest

from riskapp.domain import LossBasis
from riskapp.engine import score
from riskapp.io import InputError
from riskapp.store import Store
from riskapp.store.assessments import KEY_FIGURES, compare, fingerprint, save_current, trend
from tests.store.conftest import ANALYST, TINY


def test_save_and_list(team: Store) -> None:
    saved = save_current(team, "Baseline Q3", date(2025, 9, 30), ANALYST)
    assert saved.label == "Baseline Q3"
    assert saved.created_by == "bob"
    assert len(saved.inputs_hash) == 64
    ws = team.workspace()
    assert saved.key_figures["expected_annual_loss"] == pytest.approx(
        score(ws).expected_annual_loss()
    )
    # the store alone cannot simulate: the figures read from simulated years are left out
    # rather than replaced by another definition (test_saved_assessment_keeps_the_headline)
    assert set(saved.key_figures) == set(KEY_FIGURES) - SIMULATED
    full = team.assessment(saved.id)
    assert full.inputs == fingerprint(ws)
    assert set(full.results["eal"]) == {"asset", "country", "factor", "asset_type", "scenario"}
    assert team.audit(entity="assessment")[0].new["label"] == "Baseline Q3"


SIMULATED = {"loss_1_in_100", "var_99", "es_99"}


def test_saved_assessment_keeps_the_headline(team: Store) -> None:
    """Saved from an assessment (as `riskapp assessments save` and the History page do), the
    history keeps the very figures the Overview and the reports show."""
    from riskapp.assessment.core import assess
    from riskapp.assessment.history import save
    from riskapp.assessment.sources import StoreSource

    a = assess(StoreSource(team, TINY))
    saved = save(a, team, "Q4", date(2025, 12, 31), ANALYST)
    assert set(saved.key_figures) >= set(KEY_FIGURES)
    h = a.headline
    hundred = h.loss_at(100.0)
    assert hundred is not None
    assert saved.key_figures["loss_1_in_100"] == pytest.approx(hundred.loss)
    assert saved.key_figures["var_99"] == pytest.approx(h.var["99"])
    assert saved.key_figures["es_99"] == pytest.approx(h.es["99"])
    assert saved.key_figures["simulation_years"] == h.trials
    assert saved.key_figures["worst_scenario_loss"] == pytest.approx(h.worst_scenario_loss)


def test_same_inputs_same_hash(team: Store) -> None:
    a = save_current(team, "a", date(2025, 1, 1), ANALYST)
    b = save_current(team, "b", date(2025, 2, 1), ANALYST)
    assert a.inputs_hash == b.inputs_hash
    assert compare(team.assessment(a.id), team.assessment(b.id)).same_inputs


def test_label_is_required(team: Store) -> None:
    with pytest.raises(InputError, match="label"):
        save_current(team, "  ", date(2025, 1, 1), ANALYST)


def test_compare_says_what_changed_and_why(team: Store) -> None:
    first = save_current(team, "before", date(2025, 1, 1), ANALYST)
    p2 = team.asset("P2")
    team.update_asset("P2", {"replacement_value": 400.0}, p2.version, ANALYST)
    shield = team.plan("shield")
    team.update_plan("shield", {"status": "retired"}, shield.version, ANALYST)
    second = save_current(team, "after", date(2025, 2, 1), ANALYST)
    c = compare(team.assessment(first.id), team.assessment(second.id))
    assert not c.same_inputs
    changes = {str(x) for x in c.changes}
    assert "asset P2: replacement_value 200 -> 400" in changes
    assert "plan shield: status approved -> retired" in changes
    figures = c.key_figures.set_index("figure")
    assert figures.loc["Portfolio value", "change"] == pytest.approx(200.0)
    by_asset = c.by["asset"].set_index("asset")
    assert by_asset.loc["P2", "change"] > 0
    assert "replacement_value 200 -> 400" in by_asset.loc["P2", "why"]
    by_country = c.by["country"].set_index("country")
    assert "asset P2" in by_country.loc["FIN", "why"]
    assert by_country.loc["DEU", "change"] == pytest.approx(0.0)
    assert c.by["asset"]["asset"].iloc[0] == "P2"  # largest change first


def test_trend_in_date_order(team: Store) -> None:
    save_current(team, "later", date(2025, 6, 1), ANALYST)
    save_current(team, "earlier", date(2025, 1, 1), ANALYST, basis=LossBasis.INCREMENTAL)
    table = trend(team.assessments())
    assert table["label"].tolist() == ["earlier", "later"]
    assert "Expected annual loss" in table.columns
