"""Why the store refused a change: someone else changed the record first, the role does not
allow it, or another change held the database too long. (Invalid values are
`riskapp.io.InputError`, as for files.)"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from riskapp.store.records import FieldChange

DEFAULT_WORKSPACE = "default"
"""The workspace of the main database itself: the one every server had before workspaces."""


def _when(at: datetime | None) -> str:
    return at.strftime("%Y-%m-%d %H:%M UTC") if at else "an unknown time"


@dataclass(frozen=True)
class Conflict:
    """One record that changed between reading it and saving it.

    `kind`: "changed" (fields in `changes`), "deleted" or "added" (someone else created a
    record with the id being added).
    """

    entity: str
    entity_id: str
    kind: str
    expected_version: int | None
    current_version: int | None
    changes: list[FieldChange] = field(default_factory=list)
    by: str = ""
    at: datetime | None = None

    def __str__(self) -> str:
        what = f"{self.entity} {self.entity_id!r}"
        if self.kind == "deleted":
            return f"{what} was deleted by {self.by} at {_when(self.at)} after you opened it"
        if self.kind == "added":
            return f"{what} was added by {self.by} at {_when(self.at)} while you were adding it"
        fields = "; ".join(str(c) for c in self.changes) or "no field recorded"
        return (
            f"{what} was changed by {self.by} at {_when(self.at)} after you opened it "
            f"(you edited version {self.expected_version}, it is now at version "
            f"{self.current_version}): {fields}"
        )

    @property
    def fields(self) -> list[str]:
        return [c.field for c in self.changes]


class ConflictError(Exception):
    """A save was refused as a whole because records changed since they were read."""

    def __init__(self, conflicts: list[Conflict]) -> None:
        self.conflicts = conflicts
        lines = "\n".join(f"- {c}" for c in conflicts)
        super().__init__(
            f"Nothing was saved: {len(conflicts)} record(s) changed since you opened them.\n"
            f"{lines}\nReload to see the current values, then apply your edits again."
        )


class AccessDenied(PermissionError):
    """The acting user's role does not allow this (checked by the store, not the UI)."""


BUSY_MESSAGE = "The database is busy with another change; nothing was saved. Try again in a moment."


class StoreBusyError(Exception):
    """Another change held the database's write lock longer than the busy timeout
    (`Settings.database_busy_timeout`); this change was rolled back, nothing was written."""

    def __init__(self, detail: str = "") -> None:
        self.detail = detail
        super().__init__(BUSY_MESSAGE)


class WorkspaceAccessDenied(AccessDenied):
    """The person holds no role in the workspace (or it does not exist or was retired): nothing
    of it is shown to them."""
