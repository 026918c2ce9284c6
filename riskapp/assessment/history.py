"""Saving an assessment into the team database's history: the same assessment every surface
shows (its source's revision and fingerprint kept with it), so a saved figure can be traced."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from riskapp.assessment.core import Assessment

if TYPE_CHECKING:
    from riskapp.store import Actor, Store
    from riskapp.store.store import AssessmentSummary


def save(a: Assessment, store: Store, label: str, as_of: date, actor: Actor) -> AssessmentSummary:
    """Keep `a`'s inputs (compact fingerprint, with the source's kind, revision and SHA-256)
    and its results (the headline figures, expected annual loss by dimension) in the history."""
    from riskapp.store.assessments import fingerprint, results_of

    inputs = fingerprint(a.ws)
    inputs["source"] = {
        "kind": a.source.kind,
        "revision": a.source.revision,
        "fingerprint": a.source.fingerprint,
    }
    inputs["probabilities"] = {
        "basis": a.probabilities,
        "scenarios": {u.scenario_id: [u.prior, u.current] for u in a.probability_updates},
    }
    results = results_of(a.ws, a.result, a.plans, a.headline.as_dict())
    return store.save_assessment(label, as_of, inputs, results, actor)
