"""Saved assessments: label, date, the hash and fingerprint of the inputs, and the results."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import insert, select

from riskapp.io.errors import InputError, Problem
from riskapp.store import schema as t
from riskapp.store.auth import Actor, Permission
from riskapp.store.core import StoreCore
from riskapp.store.records import from_db_time


@dataclass(frozen=True)
class AssessmentSummary:
    id: int
    label: str
    as_of: date
    created_at: datetime
    created_by: str
    inputs_hash: str
    key_figures: dict[str, float]


@dataclass(frozen=True)
class SavedAssessment:
    summary: AssessmentSummary
    inputs: dict[str, Any]
    results: dict[str, Any]


def inputs_hash(inputs: Mapping[str, Any]) -> str:
    canonical = json.dumps(inputs, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


class SavedAssessments:
    """Keeps and reads saved assessments."""

    def __init__(self, core: StoreCore) -> None:
        self.core = core

    def save_assessment(
        self,
        label: str,
        as_of: date,
        inputs: Mapping[str, Any],
        results: Mapping[str, Any],
        actor: Actor,
    ) -> AssessmentSummary:
        """Keep an assessment: label, date, the hash and fingerprint of its inputs, results."""
        label = label.strip()
        if not label or len(label) > 200:
            raise InputError(
                [Problem("assessment", None, "label", "give a label (1-200 characters)")]
            )
        digest = inputs_hash(inputs)
        with self.core.write(lock=False) as conn:
            self.core.authorize(conn, actor, Permission.SAVE_ASSESSMENT)
            now = self.core.now()
            new_id = conn.execute(
                insert(t.assessments)
                .values(
                    label=label,
                    as_of=as_of,
                    created_at=now,
                    created_by=actor.label,
                    inputs_hash=digest,
                    inputs=dict(inputs),
                    results=dict(results),
                )
                .returning(t.assessments.c.id)
            ).scalar_one()
            self.core.append_audit(
                conn,
                [
                    self.core.audit_entry(
                        actor,
                        "save",
                        "assessment",
                        str(new_id),
                        new={"label": label, "as_of": as_of.isoformat(), "inputs_hash": digest},
                        version=1,
                        at=now,
                    )
                ],
            )
        return self.assessment(int(new_id)).summary

    def assessments(self) -> list[AssessmentSummary]:
        """Saved assessments, oldest first (by date, then by when they were saved)."""
        c = t.assessments.c
        with self.core.read() as conn:
            rows = conn.execute(
                select(
                    c.id, c.label, c.as_of, c.created_at, c.created_by, c.inputs_hash, c.results
                ).order_by(c.as_of, c.created_at, c.id)
            )
            return [_assessment_summary(r) for r in rows]

    def assessment(self, assessment_id: int) -> SavedAssessment:
        with self.core.read() as conn:
            row = conn.execute(
                select(t.assessments).where(t.assessments.c.id == assessment_id)
            ).first()
        if row is None:
            raise KeyError(f"no saved assessment {assessment_id}")
        return SavedAssessment(_assessment_summary(row), row.inputs, row.results)


def _assessment_summary(row: Any) -> AssessmentSummary:
    m = row._mapping
    figures = m["results"].get("key_figures", {}) if m["results"] else {}
    return AssessmentSummary(
        id=m["id"],
        label=m["label"],
        as_of=m["as_of"],
        created_at=from_db_time(m["created_at"]),
        created_by=m["created_by"],
        inputs_hash=m["inputs_hash"],
        key_figures={k: float(v) for k, v in figures.items()},
    )
