"""Editing a scenario file through the store: the file stays a file (versionable, reviewable),
but a save checks the acting user's role in the store, validates the scenario on its own and
against the whole workspace, refuses to overwrite a file changed since it was read, writes it
atomically and records who changed what in the audit trail."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from pydantic import ValidationError
from sqlalchemy import Connection

from riskapp.domain import Asset, Plan, Scenario, find_inconsistencies
from riskapp.domain.workspace import Inconsistency
from riskapp.io.errors import InputError, Problem, loc_to_field, problems_from_validation
from riskapp.io.workspace import display, load_scenario
from riskapp.store.auth import Actor, Permission
from riskapp.store.core import data_state, stored_assets, stored_plans
from riskapp.store.errors import Conflict, ConflictError
from riskapp.store.workspace import FileInputs, assemble, load_files

if TYPE_CHECKING:
    from riskapp.store.store import Store

ENTITY = "scenario"
AUDITED = ("title", "narrative", "frequency", "warning_time_days", "horizon_years")
OTHER = ("signposts", "tags", "escalates_from")


def file_version(text: str) -> str:
    """The version of a scenario file as read: a hash of its text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def read_scenario_file(path: Path) -> tuple[Scenario, str]:
    """A scenario file's scenario and its version (to pass back as `expected_version`)."""
    text = path.read_text(encoding="utf-8")
    scenario, _ = load_scenario(path)
    return scenario, file_version(text)


@dataclass(frozen=True)
class FileConflict(Conflict):
    """A scenario file that changed on disk (or disappeared) after it was read."""

    def __str__(self) -> str:
        what = f"{self.entity} {self.entity_id!r}"
        if self.kind == "deleted":
            return f"the file of {what} was deleted after you opened it"
        if self.kind == "created":
            return f"a file for {what} was created by someone else meanwhile; pick another name"
        when = self.at.strftime("%Y-%m-%d %H:%M UTC") if self.at else "an unknown time"
        fields = "; ".join(f"{c.field}: {c.was!r} -> {c.now!r}" for c in self.changes)
        return f"the file of {what} was changed at {when} after you opened it" + (
            f": {fields}" if fields else ""
        )


def shock_summary(scenario: Scenario | None) -> list[str]:
    """One line per shock, for the audit trail."""
    if scenario is None:
        return []
    out = []
    for s in scenario.shocks:
        line = f"{s.target} {s.factor} {s.op.value} {s.value:g}"
        if s.range is not None:
            line += f" ({s.range.low:g}/{s.range.mode:g}/{s.range.high:g})"
        out.append(line)
    return out


def audited_fields(scenario: Scenario | None) -> dict[str, Any]:
    if scenario is None:
        return {}
    data = scenario.model_dump(mode="json")
    out = {name: data[name] for name in AUDITED + OTHER}
    out["shocks"] = shock_summary(scenario)
    return out


def scenario_yaml(scenario: Scenario) -> str:
    data = scenario.model_dump(mode="json", exclude_defaults=True)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def write_atomically(path: Path, text: str, *, overwrite: bool = True) -> None:
    """The file appears whole or not at all (temp file in the same folder, then os.replace; or,
    with `overwrite=False`, a hard link that refuses a file already there or appearing
    meanwhile: FileExistsError)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        if overwrite:
            os.replace(tmp, path)
        else:
            os.link(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


def validate_scenario(path: Path, data: dict[str, Any]) -> Scenario:
    name = display(path)
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise InputError(problems_from_validation(exc, name, model=Scenario)) from None
    if scenario.id != path.stem:
        raise InputError(
            [Problem(name, None, "id", f"scenario id {scenario.id!r} must match {path.stem!r}")]
        )
    return scenario


def _workspace_problems(
    files: FileInputs, assets: list[Asset], plans: list[Plan], path: Path, scenario: Scenario
) -> list[Problem]:
    """What the new scenario breaks in the workspace (files plus the stored register and
    plans): every inconsistency about this scenario, and any other one it introduces."""
    before = set(find_inconsistencies(assemble(files, assets, plans)))
    others = [s for s in files.scenarios if s.id != scenario.id]
    changed = dataclasses.replace(files, scenarios=[*others, scenario])
    after = find_inconsistencies(assemble(changed, assets, plans))
    part = f"{ENTITY}:{scenario.id}"
    folder = path.parent
    out = []
    for issue in after:
        if issue.part != part and issue in before:
            continue
        out.append(issue_problem(issue, folder, files.root))
    return out


def series_problems(
    store: Store, old: Scenario | None, scenario: Scenario, path: Path
) -> list[Problem]:
    """The signposts this save adds or changes whose indicator series the team database does
    not hold (a signpost without a series is watched by hand)."""
    kept = set() if old is None else {p.model_dump_json() for p in old.signposts}
    new = [
        (i, p)
        for i, p in enumerate(scenario.signposts)
        if p.series is not None and p.model_dump_json() not in kept
    ]
    if not new:
        return []
    known = {info.indicator.id for info in store.indicators()}
    hint = ", ".join(sorted(known)[:20]) or "none yet (riskapp indicators import or fetch)"
    return [
        Problem(
            display(path),
            None,
            f"signposts[{i}].series",
            f"unknown indicator series {p.series!r} (signpost {p.name!r}); expected one of the "
            f"team database's series: {hint}",
        )
        for i, p in new
        if p.series not in known
    ]


def stored_inputs(conn: Connection) -> tuple[tuple[Any, ...], list[Asset], list[Plan]]:
    """The register and plans as a check sees them, and their state (see `data_state`)."""
    return (
        data_state(conn),
        [s.asset for s in stored_assets(conn)],
        [p.plan for p in stored_plans(conn)],
    )


def issue_problem(issue: Inconsistency, folder: Path, root: Path) -> Problem:
    if issue.part.startswith(f"{ENTITY}:"):
        where = folder / f"{issue.part.split(':', 1)[1]}.yaml"
    else:
        where = root / issue.part
    return Problem(display(where), None, loc_to_field(issue.loc), issue.message)


def _scenario_path(files: FileInputs, path: Path) -> Path:
    """The path, if it is a scenario file of the store's workspace."""
    folder = (files.root / files.manifest.paths.scenarios).resolve()
    resolved = Path(path).resolve()
    if resolved.parent != folder or resolved.suffix not in (".yaml", ".yml"):
        raise ValueError(f"{path} is not a scenario file of the workspace ({folder})")
    return resolved


def read_text_or_none(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None


def save_scenario(
    store: Store,
    actor: Actor,
    path: str | Path,
    scenario_data: dict[str, Any],
    *,
    expected_version: str,
    note: str = "",
) -> Scenario:
    """Replace a scenario file with `scenario_data`.

    `expected_version` is `file_version` of the text the editor started from (see
    `read_scenario_file`): a file changed since then raises ConflictError and is left alone.
    AccessDenied (a PermissionError) unless the actor is an analyst or admin now; InputError
    listing the problems if the scenario is invalid or does not fit the workspace.
    """
    if store.files is None:
        raise ValueError("the store has no workspace files")
    store.core.require(actor, Permission.EDIT)
    # everything that reads files or checks the workspace happens before the write lock
    files = load_files(store.files)
    target = _scenario_path(files, Path(path))
    scenario_id = target.stem
    current_text = read_text_or_none(target)
    if current_text is None or file_version(current_text) != expected_version:
        raise ConflictError([file_conflict(target, scenario_id, current_text)])
    try:
        old: Scenario | None = load_scenario(target)[0]
    except InputError:
        old = None
    scenario = validate_scenario(target, scenario_data)
    with store.core.read() as conn:
        seen, assets, plans = stored_inputs(conn)
    problems = series_problems(store, old, scenario, target)
    problems += _workspace_problems(files, assets, plans, target, scenario)
    if problems:
        raise InputError(problems)
    was, now = audited_fields(old), audited_fields(scenario)
    entries = [
        store.core.audit_entry(
            actor, "update", ENTITY, scenario_id, name, was.get(name), value, note=note
        )
        for name, value in now.items()
        if was.get(name) != value
    ]
    if not entries and old is not None:
        return scenario  # nothing to save
    with store.core.write() as conn:
        # holding the lock (scenario saves queue like register writes): the file is still the
        # one checked, and the register and plans too (else check them again, now)
        store.core.authorize(conn, actor, Permission.EDIT)
        current_text = read_text_or_none(target)
        if current_text is None or file_version(current_text) != expected_version:
            raise ConflictError([file_conflict(target, scenario_id, current_text)])
        state, assets, plans = stored_inputs(conn)
        if state != seen:
            problems = _workspace_problems(files, assets, plans, target, scenario)
            if problems:
                raise InputError(problems)
        store.core.append_audit(conn, entries)
        write_atomically(target, scenario_yaml(scenario))
    return scenario


def file_conflict(path: Path, scenario_id: str, text: str | None) -> Conflict:
    if text is None:
        return FileConflict(ENTITY, scenario_id, "deleted", None, None)
    at = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    return FileConflict(ENTITY, scenario_id, "changed", None, None, by="", at=at)
