"""Files out of the store: the register as assets.csv, plans as plans.yaml plus a plan table
(owner, status, review date), and the audit trail as CSV. Written so that importing them again
changes nothing (a test checks it)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import yaml

from riskapp.domain import PlanBook
from riskapp.io.export import neutralise
from riskapp.store.records import AuditEntry, StoredPlan, dump_value
from riskapp.store.store import Store
from riskapp.store.validation import PLAN_TABLE_COLUMNS, asset_table_csv

AUDIT_COLUMNS = [
    "seq",
    "at",
    "actor",
    "action",
    "entity",
    "entity_id",
    "field",
    "old",
    "new",
    "version",
    "note",
]


def audit_frame(entries: Sequence[AuditEntry]) -> pd.DataFrame:
    """One row per audit entry; old and new values as JSON text."""
    rows = [
        {
            "seq": e.seq,
            "at": e.at,
            "actor": e.actor,
            "action": e.action,
            "entity": e.entity,
            "entity_id": e.entity_id,
            "field": e.field,
            "old": dump_value(e.old) or "",
            "new": dump_value(e.new) or "",
            "version": e.version,
            "note": e.note,
        }
        for e in entries
    ]
    return pd.DataFrame(rows, columns=AUDIT_COLUMNS)


def audit_csv(entries: Sequence[AuditEntry]) -> str:
    """The audit trail as CSV (UTC times in ISO 8601; formula-looking text defused)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(AUDIT_COLUMNS)
    for e in entries:
        cells = [
            str(e.seq),
            e.at.isoformat(),
            e.actor,
            e.action,
            e.entity,
            e.entity_id,
            e.field,
            dump_value(e.old) or "",
            dump_value(e.new) or "",
            "" if e.version is None else str(e.version),
            e.note,
        ]
        writer.writerow([neutralise(c) for c in cells])
    return out.getvalue()


def plan_table_csv(plans: Sequence[StoredPlan]) -> str:
    """Owner, status and review date of each plan, as the plan-table import reads them (text a
    spreadsheet would run as a formula neutralised)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(PLAN_TABLE_COLUMNS)
    for p in plans:
        review = p.review_date.isoformat() if p.review_date else ""
        cells = [p.id, p.plan.title, p.plan.owner, p.plan.status.value, review]
        writer.writerow([neutralise(c) for c in cells])
    return out.getvalue()


def plan_book_yaml(book: PlanBook) -> str:
    data = book.model_dump(mode="json", exclude_defaults=True)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


def export_files(store: Store, folder: Path) -> list[Path]:
    """Write assets.csv, plans.yaml and plan_status.csv into `folder` (created if needed)."""
    folder.mkdir(parents=True, exist_ok=True)
    written = {
        folder / "assets.csv": asset_table_csv(store.register()),
        folder / "plans.yaml": plan_book_yaml(store.plan_book()),
        folder / "plan_status.csv": plan_table_csv(store.plans()),
    }
    parts = []
    try:  # every file whole or not at all: written aside, then moved into place
        for path, text in written.items():
            part = path.with_name(f".{path.name}.part")
            part.write_text(text, encoding="utf-8")
            parts.append((part, path))
        for part, path in parts:
            part.replace(path)
    finally:
        for part, _ in parts:
            part.unlink(missing_ok=True)
    return list(written)
