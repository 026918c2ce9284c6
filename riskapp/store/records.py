"""What the store hands out: stored assets and plans with their version, audit entries, and the
conversions between domain models and table rows."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from riskapp.domain import Asset, Plan
from riskapp.domain.assets import ASSET_COLUMNS

ASSET_FIELDS = [c for c in ASSET_COLUMNS if c != "id"]
"""Columns of an asset that can change (the id names the record)."""

PLAN_EDITABLE = ["owner", "status", "review_date"]
"""Plan fields edited in the product; the rest of a plan comes from plans.yaml imports."""

PLAN_DEFINITION = ["title", "description", "trigger", "actions", "coverage", "effect"]
PLAN_FIELDS = [*PLAN_DEFINITION, *PLAN_EDITABLE]


def utcnow() -> datetime:
    return datetime.now(UTC)


def to_db_time(value: datetime) -> datetime:
    """Naive UTC, as stored (SQLite keeps no zone)."""
    if value.tzinfo is None:
        raise ValueError("expected a timezone-aware datetime")
    return value.astimezone(UTC).replace(tzinfo=None)


def from_db_time(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def dump_value(value: Any) -> str | None:
    """An audit value as JSON text (None stays NULL)."""
    if value is None:
        return None
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


def load_value(text: str | None) -> Any:
    return None if text is None else json.loads(text)


@dataclass(frozen=True)
class StoredAsset:
    """An asset of the register with the version its next edit must name."""

    asset: Asset
    version: int
    updated_at: datetime
    updated_by: str

    @property
    def id(self) -> str:
        return self.asset.id


@dataclass(frozen=True)
class StoredPlan:
    """A plan with its review date (kept by the store only) and version."""

    plan: Plan
    review_date: date | None
    version: int
    updated_at: datetime
    updated_by: str

    @property
    def id(self) -> str:
        return self.plan.id

    def overdue(self, today: date) -> bool:
        """Due for review: the review date has passed and the plan is not retired."""
        return (
            self.review_date is not None
            and self.review_date < today
            and self.plan.status.value != "retired"
        )


@dataclass(frozen=True)
class AuditEntry:
    """One recorded change. `field` is empty when the whole record was created or deleted
    (old or new value is then the whole record)."""

    seq: int
    at: datetime
    actor: str
    action: str
    entity: str
    entity_id: str
    field: str
    old: Any
    new: Any
    version: int | None
    note: str


@dataclass(frozen=True)
class FieldChange:
    """A field that someone else changed since a record was read."""

    field: str
    was: Any
    now: Any
    by: str
    at: datetime

    def __str__(self) -> str:
        return f"{self.field}: {self.was!r} -> {self.now!r} (by {self.by})"


@dataclass
class ChangeSummary:
    """What a save or import changed."""

    added: list[str] = field(default_factory=list)
    changed: dict[str, list[str]] = field(default_factory=dict)
    removed: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.added or self.changed or self.removed)

    def __str__(self) -> str:
        return f"{len(self.added)} added, {len(self.changed)} changed, {len(self.removed)} removed"


def asset_values(asset: Asset) -> dict[str, Any]:
    """Column values of an asset (all but version and bookkeeping)."""
    return asset.model_dump(mode="json")


def asset_from_row(row: Any) -> StoredAsset:
    m = row._mapping
    asset = Asset.model_validate({c: m[c] for c in ASSET_COLUMNS})
    return StoredAsset(asset, m["version"], from_db_time(m["updated_at"]), m["updated_by"])


def plan_values(plan: Plan) -> dict[str, Any]:
    """Plan columns: the definition as JSON, the edited fields as columns."""
    data = plan.model_dump(mode="json")
    return {
        "id": data["id"],
        "title": data["title"],
        "owner": data["owner"],
        "status": data["status"],
        "definition": {k: data[k] for k in PLAN_DEFINITION if k != "title"},
    }


def plan_from_row(row: Any) -> StoredPlan:
    m = row._mapping
    plan = Plan.model_validate(
        {
            **m["definition"],
            "id": m["id"],
            "title": m["title"],
            "owner": m["owner"],
            "status": m["status"],
        }
    )
    return StoredPlan(
        plan, m["review_date"], m["version"], from_db_time(m["updated_at"]), m["updated_by"]
    )


def plan_fields(plan: Plan, review_date: date | None) -> dict[str, Any]:
    """Every field of a plan as audited (JSON-ready), review date included."""
    data = plan.model_dump(mode="json")
    out = {k: data[k] for k in PLAN_DEFINITION}
    out["owner"] = data["owner"]
    out["status"] = data["status"]
    out["review_date"] = review_date.isoformat() if review_date else None
    return out
