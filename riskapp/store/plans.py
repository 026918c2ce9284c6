"""Plans: reading them, edits of owner, status, review date and title, plan tables and plan
books."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd
from pydantic import ValidationError
from sqlalchemy import Connection, delete, insert, select, update

from riskapp.domain import Plan, PlanBook
from riskapp.io.errors import InputError, Problem, pydantic_message
from riskapp.store import schema as t
from riskapp.store.auth import Actor, Permission
from riskapp.store.conflicts import changed_conflict, deleted_conflict
from riskapp.store.core import ImportPreview, Mode, StoreCore, stored_plans
from riskapp.store.errors import ConflictError
from riskapp.store.frames import stored_register
from riskapp.store.records import (
    PLAN_FIELDS,
    ChangeSummary,
    StoredPlan,
    plan_fields,
    plan_from_row,
    plan_values,
)
from riskapp.store.register import check_frame
from riskapp.store.validation import PlanTableRow, Table, parse_plan_table
from riskapp.store.workspace import PLANS, REGISTER, FileInputs

Updated = dict[str, tuple[Plan, date | None]]
"""Plans to write by id, with their review dates."""


@dataclass(frozen=True)
class PlanEdit:
    """Changed fields of one plan (owner, status, review_date, title) and the version read."""

    plan_id: str
    changes: Mapping[str, Any]
    expected_version: int


class Plans:
    """Reads and changes the plans."""

    def __init__(self, core: StoreCore) -> None:
        self.core = core

    def plans(self) -> list[StoredPlan]:
        with self.core.read() as conn:
            return stored_plans(conn)

    def plan(self, plan_id: str) -> StoredPlan:
        with self.core.read() as conn:
            row = conn.execute(select(t.plans).where(t.plans.c.id == plan_id)).first()
        if row is None:
            raise KeyError(f"no plan {plan_id!r}")
        return plan_from_row(row)

    def plan_book(self) -> PlanBook:
        return PlanBook(plans=[p.plan for p in self.plans()])

    def update_plan(
        self, plan_id: str, changes: Mapping[str, Any], expected_version: int, actor: Actor
    ) -> StoredPlan:
        self.save_plans([PlanEdit(plan_id, changes, expected_version)], actor)
        return self.plan(plan_id)

    def save_plans(self, edits: Sequence[PlanEdit], actor: Actor, note: str = "") -> ChangeSummary:
        """Change owners, statuses, review dates (and titles) of plans, all or nothing; the
        edits are checked before the write lock is taken."""
        self.core.require(actor, Permission.EDIT)
        rows = []
        for e in edits:
            try:
                rows.append(PlanTableRow.model_validate({"id": e.plan_id, **e.changes}))
            except ValidationError as exc:
                raise InputError(
                    [
                        Problem(
                            PLANS,
                            None,
                            ".".join(str(p) for p in err["loc"][:1]),
                            f"plan {e.plan_id!r}: {pydantic_message(err)}",
                            "row",
                        )
                        for err in exc.errors()
                    ]
                ) from None

        def prepare(conn: Connection) -> tuple[dict[str, StoredPlan], Updated]:
            current = {p.id: p for p in stored_plans(conn)}
            conflicts = []
            for edit in edits:
                now = current.get(edit.plan_id)
                if now is None:
                    conflicts.append(
                        deleted_conflict(conn, "plan", edit.plan_id, edit.expected_version)
                    )
                elif now.version != edit.expected_version:
                    conflicts.append(
                        changed_conflict(
                            conn, "plan", edit.plan_id, edit.expected_version, now.version
                        )
                    )
            if conflicts:
                raise ConflictError(conflicts)
            return current, self._plan_updates(current, rows)

        def commit(
            conn: Connection, planned: tuple[dict[str, StoredPlan], Updated]
        ) -> ChangeSummary:
            current, updated = planned
            return write_plans(self.core, conn, current, updated, actor, "edit", note)

        return self.core.write_checked(actor, Permission.EDIT, prepare, commit)

    def _plan_updates(
        self,
        current: dict[str, StoredPlan],
        rows: Sequence[PlanTableRow],
        lines: Sequence[int] | None = None,
        name: str = PLANS,
    ) -> Updated:
        """The plans with the fields each row gives (a title or status left empty keeps its
        value); InputError if a plan would become invalid."""
        updated: Updated = {}
        problems: list[Problem] = []
        for i, row in enumerate(rows):
            stored = current[row.id]
            given = row.model_fields_set - {"id"}
            data = stored.plan.model_dump()
            for f in ("title", "owner", "status"):
                value = getattr(row, f)
                if f in given and value is not None:
                    data[f] = value
            review = row.review_date if "review_date" in given else stored.review_date
            try:
                updated[row.id] = (Plan.model_validate(data), review)
            except ValidationError as exc:
                line = lines[i] if lines is not None else None
                problems.extend(
                    Problem(
                        name,
                        line,
                        ".".join(str(p) for p in e["loc"][:1]),
                        f"plan {row.id!r}: {pydantic_message(e)}",
                        "row",
                    )
                    for e in exc.errors()
                )
        if problems:
            raise InputError(problems)
        return updated

    def _planned_plan_rows(
        self, conn: Connection, table: Table
    ) -> tuple[dict[str, StoredPlan], list[PlanTableRow], list[int]]:
        current = {p.id: p for p in stored_plans(conn)}
        rows, lines, problems = parse_plan_table(table, list(current))
        if problems:
            raise InputError(problems)
        return current, rows, lines

    def preview_plans(self, table: Table) -> ImportPreview:
        """Problems and changes of a plan table import (owner, status, review date, title)."""
        with self.core.read() as conn:
            try:
                current, rows, _ = self._planned_plan_rows(conn, table)
                summary = ChangeSummary()
                for row in rows:
                    stored = current[row.id]
                    before = plan_fields(stored.plan, stored.review_date)
                    after = dict(before)
                    for f in row.model_fields_set - {"id"}:
                        value = getattr(row, f)
                        if f == "review_date":
                            after[f] = value.isoformat() if value else None
                        elif value is not None:
                            after[f] = value.value if f == "status" else value
                    changed = [f for f in PLAN_FIELDS if before[f] != after[f]]
                    if changed:
                        summary.changed[row.id] = changed
            except InputError as exc:
                return ImportPreview(
                    "plans", table.name, len(table.rows), exc.problems, ChangeSummary()
                )
        return ImportPreview("plans", table.name, len(table.rows), [], summary)

    def import_plan_table(self, table: Table, actor: Actor) -> ChangeSummary:
        """Owners, statuses, review dates and titles of existing plans from a table, all or
        nothing."""
        self.core.require(actor, Permission.IMPORT)

        def prepare(conn: Connection) -> tuple[dict[str, StoredPlan], Updated]:
            current, rows, lines = self._planned_plan_rows(conn, table)
            return current, self._plan_updates(current, rows, lines, table.name)

        def commit(
            conn: Connection, planned: tuple[dict[str, StoredPlan], Updated]
        ) -> ChangeSummary:
            current, updated = planned
            note = f"import {table.name}"
            return write_plans(self.core, conn, current, updated, actor, "import", note)

        return self.core.write_checked(actor, Permission.IMPORT, prepare, commit)

    def import_plan_book(
        self, book: PlanBook, actor: Actor, source: str = "plans.yaml", mode: Mode = "replace"
    ) -> ChangeSummary:
        """Plan definitions (plans.yaml). Review dates of plans that stay are kept."""
        self.core.require(actor, Permission.IMPORT)
        files = self.core.file_inputs()  # read once, before the write lock

        def prepare(conn: Connection) -> tuple[dict[str, StoredPlan], Updated, list[str]]:
            current = {p.id: p for p in stored_plans(conn)}
            updated = {
                p.id: (p, current[p.id].review_date if p.id in current else None)
                for p in book.plans
            }
            order = [p.id for p in book.plans]
            if mode == "merge":
                order = [*[pid for pid in current if pid not in updated], *order]
                order = list(dict.fromkeys(order))
            return current, updated, order

        def commit(
            conn: Connection, planned: tuple[dict[str, StoredPlan], Updated, list[str]]
        ) -> ChangeSummary:
            current, updated, order = planned
            note = f"import {source} ({mode})"
            return write_plans(
                self.core, conn, current, updated, actor, "import", note, order, files
            )

        return self.core.write_checked(actor, Permission.IMPORT, prepare, commit)


def write_plans(
    core: StoreCore,
    conn: Connection,
    current: dict[str, StoredPlan],
    updated: Mapping[str, tuple[Plan, date | None]],
    actor: Actor,
    action: str,
    note: str,
    order: Sequence[str] | None = None,
    files: FileInputs | None = None,
    register: pd.DataFrame | None = None,
) -> ChangeSummary:
    """Write changed, added and (when `order` is given: those not in it) removed plans; the
    result is checked against the register and the workspace `files` (read now if not given).
    `register`: the register as this transaction has it (a register frame, as the caller has
    just written it), so that the check does not read it back from the database."""
    now = core.now()
    summary = ChangeSummary()
    audit = []
    added: list[dict[str, Any]] = []
    if order is not None:
        for pid, stored in current.items():
            if pid not in order:
                summary.removed.append(pid)
                conn.execute(delete(t.plans).where(t.plans.c.id == pid))
                audit.append(
                    core.audit_entry(
                        actor,
                        action,
                        "plan",
                        pid,
                        old=plan_fields(stored.plan, stored.review_date),
                        version=stored.version + 1,
                        note=note,
                        at=now,
                    )
                )
    positions = {pid: i for i, pid in enumerate(order or [])}
    for pid, (plan, review) in updated.items():
        after = plan_fields(plan, review)
        existing = current.get(pid)
        values = {
            **plan_values(plan),
            "review_date": review,
            "updated_at": now,
            "updated_by": actor.label,
        }
        if existing is None:
            summary.added.append(pid)
            added.append({**values, "version": 1, "position": positions.get(pid, len(current))})
            audit.append(
                core.audit_entry(
                    actor, action, "plan", pid, new=after, version=1, note=note, at=now
                )
            )
            continue
        before = plan_fields(existing.plan, existing.review_date)
        changed = [f for f in PLAN_FIELDS if before[f] != after[f]]
        position = positions.get(pid)
        if changed:
            summary.changed[pid] = changed
            version = existing.version + 1
            extra = {"position": position} if position is not None else {}
            conn.execute(
                update(t.plans)
                .where(t.plans.c.id == pid)
                .values(**values, version=version, **extra)
            )
            audit.extend(
                core.audit_entry(
                    actor, action, "plan", pid, f, before[f], after[f], version, note, now
                )
                for f in changed
            )
        elif position is not None:
            conn.execute(update(t.plans).where(t.plans.c.id == pid).values(position=position))
    if added:  # in one statement (a seed or a plan book adds them all at once)
        conn.execute(insert(t.plans), added)
    core.append_audit(conn, audit)
    if order is not None or summary.added:
        # plans must still fit the register (coverage by asset id) and the files
        if register is None:
            register = stored_register(conn)
        check_frame(
            core,
            conn,
            register,
            [None] * len(register),
            REGISTER,
            plans=[p.plan for p in stored_plans(conn)],
            files=files,
        )
    return summary
