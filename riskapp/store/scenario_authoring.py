"""Creating, duplicating, retiring and restoring scenario files through the store, as a save
does (`riskapp.store.scenarios`): the acting user's role is checked, the result is validated
against the whole workspace (files plus the stored register and plans) before anything is
written, a file changed since it was opened is refused, the write is atomic and the change is
recorded in the audit trail.

A retired scenario stays on disk, unchanged, in the `retired` folder inside the scenario
folder: the loaders read only the scenario folder's own files, so every assessment leaves it
out, while the file (and its history in git) is kept and `restore_scenario` brings it back.
A scenario other scenarios escalate from, or that plans trigger on, is not retired: the
refusal names them (change or retire those first). A duplicate keeps its own escalation step
(it becomes a sibling rung of the same parent); the rungs that escalate from the original stay
with the original.
"""

from __future__ import annotations

import dataclasses
import os
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from riskapp.domain import Asset, Plan, Scenario, find_inconsistencies
from riskapp.io.errors import InputError, Problem
from riskapp.io.workspace import display, load_scenario, scenario_files
from riskapp.store.auth import Actor, Permission
from riskapp.store.errors import ConflictError
from riskapp.store.scenarios import (
    ENTITY,
    FileConflict,
    audited_fields,
    file_conflict,
    file_version,
    issue_problem,
    read_text_or_none,
    scenario_yaml,
    stored_inputs,
    validate_scenario,
    write_atomically,
)
from riskapp.store.workspace import FileInputs, assemble, load_files

if TYPE_CHECKING:
    from riskapp.store.store import Store

RETIRED = "retired"  # the folder, inside the scenario folder, of retired scenarios
NEW_FREQUENCY = 0.05  # a new scenario's annual probability until the analyst sets it
MAX_ID = 48


@dataclass(frozen=True)
class ScenarioFile:
    """One scenario file as the editor lists it: its id, title, path, version and whether it
    is retired (None title: the file does not load; its problems show where it is opened)."""

    id: str
    title: str | None
    path: Path
    version: str
    retired: bool


def folders(files: FileInputs) -> tuple[Path, Path]:
    """The scenario folder and its retired folder (resolved)."""
    folder = (files.root / files.manifest.paths.scenarios).resolve()
    return folder, folder / RETIRED


def list_scenarios(files: FileInputs) -> list[ScenarioFile]:
    """The workspace's scenario files, active ones first, then the retired ones."""
    folder, retired = folders(files)
    out = []
    for where, is_retired in ((folder, False), (retired, True)):
        if not where.is_dir():
            continue
        for path in scenario_files(where):
            text = read_text_or_none(path)
            if text is None:
                continue
            try:
                title: str | None = load_scenario(path)[0].title
            except InputError:
                title = None
            out.append(ScenarioFile(path.stem, title, path, file_version(text), is_retired))
    return out


def new_id(name: str, taken: set[str]) -> str:
    """A scenario id derived from `name` (lower case, letters and digits joined by '_'), made
    unique against `taken` with a number: 'Red Sea closure' -> red_sea_closure(_2, ...)."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    base = re.sub(r"[^a-z0-9]+", "_", ascii_name.lower()).strip("_") or "scenario"
    if not base[0].isalpha():
        base = f"s_{base}"
    base = base[:MAX_ID].rstrip("_")
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        suffix = f"_{n}"
        candidate = base[: MAX_ID - len(suffix)].rstrip("_") + suffix
    return candidate


def _taken(files: FileInputs) -> set[str]:
    """Every id a new file may not take: active and retired files, readable or not."""
    folder, retired = folders(files)
    out: set[str] = set()
    for where in (folder, retired):
        if where.is_dir():
            out |= {p.stem for p in scenario_files(where)}
    return out


def _check_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise InputError([Problem("scenario", None, "title", "a new scenario needs a name")])
    return name


def _problems_after(
    files: FileInputs,
    assets: list[Asset],
    plans: list[Plan],
    scenarios: list[Scenario],
    about: set[str],
) -> list[Problem]:
    """What the workspace with `scenarios` in place of the files' scenarios breaks: every
    inconsistency about the scenarios in `about` and every other one it introduces."""
    before = set(find_inconsistencies(assemble(files, assets, plans)))
    changed = dataclasses.replace(files, scenarios=scenarios)
    after = find_inconsistencies(assemble(changed, assets, plans))
    parts = {f"{ENTITY}:{sid}" for sid in about}
    folder, _ = folders(files)
    return [
        issue_problem(issue, folder, files.root)
        for issue in after
        if issue.part in parts or issue not in before
    ]


def _checked(
    store: Store,
    actor: Actor,
    files: FileInputs,
    scenarios: list[Scenario],
    about: set[str],
) -> tuple[Any, list[Asset], list[Plan]]:
    """Check the role and the workspace with `scenarios`; InputError listing the problems."""
    store.core.require(actor, Permission.EDIT)
    with store.core.read() as conn:
        seen, assets, plans = stored_inputs(conn)
    problems = _problems_after(files, assets, plans, scenarios, about)
    if problems:
        raise InputError(problems)
    return seen, assets, plans


def _recheck(
    store: Store,
    conn: Any,
    actor: Actor,
    seen: Any,
    files: FileInputs,
    scenarios: list[Scenario],
    about: set[str],
) -> None:
    """Under the write lock: the role again, and the workspace again if the register or the
    plans changed since the first check."""
    store.core.authorize(conn, actor, Permission.EDIT)
    state, assets, plans = stored_inputs(conn)
    if state != seen:
        problems = _problems_after(files, assets, plans, scenarios, about)
        if problems:
            raise InputError(problems)


def _add(
    store: Store,
    actor: Actor,
    data: dict[str, Any],
    note: str,
    audit_note: str,
) -> Scenario:
    """Validate a new scenario (data with its id) and write it as a new file, audited."""
    if store.files is None:
        raise ValueError("the store has no workspace files")
    store.core.require(actor, Permission.EDIT)
    files = load_files(store.files)
    folder, _ = folders(files)
    target = folder / f"{data['id']}.yaml"
    scenario = validate_scenario(target, data)
    scenarios = [*files.scenarios, scenario]
    seen, _, _ = _checked(store, actor, files, scenarios, {scenario.id})
    note = f"{audit_note}: {note}" if audit_note and note else audit_note or note
    entries = [
        store.core.audit_entry(actor, "create", ENTITY, scenario.id, name, None, value, note=note)
        for name, value in audited_fields(scenario).items()
        if value not in (None, [], "")
    ]
    with store.core.write() as conn:
        _recheck(store, conn, actor, seen, files, scenarios, {scenario.id})
        if scenario.id in _taken(files):
            raise ConflictError([FileConflict(ENTITY, scenario.id, "created", None, None)])
        store.core.append_audit(conn, entries)
        try:
            write_atomically(target, scenario_yaml(scenario), overwrite=False)
        except FileExistsError:
            raise ConflictError(
                [FileConflict(ENTITY, scenario.id, "created", None, None)]
            ) from None
    return scenario


def create_scenario(
    store: Store,
    actor: Actor,
    name: str,
    *,
    frequency: float = NEW_FREQUENCY,
    warning_time_days: float = 0.0,
    narrative: str = "",
    note: str = "",
) -> Scenario:
    """A new scenario named `name`, written to `<id>.yaml` in the scenario folder: no shocks
    and no signposts yet (like the status quo), an id derived from the name and unique among
    the active and retired scenarios. InputError naming the field if it is invalid."""
    if store.files is None:
        raise ValueError("the store has no workspace files")
    title = _check_name(name)
    files = load_files(store.files)
    data = {
        "id": new_id(title, _taken(files)),
        "title": title,
        "narrative": narrative,
        "frequency": frequency,
        "warning_time_days": warning_time_days,
    }
    return _add(store, actor, data, note, "")


def _opened(path: Path, expected_version: str, scenario_id: str) -> str:
    """The file's text if it is still the version opened; ConflictError otherwise."""
    text = read_text_or_none(path)
    if text is None or file_version(text) != expected_version:
        raise ConflictError([file_conflict(path, scenario_id, text)])
    return text


def _own_file(files: FileInputs, path: Path, retired: bool | None) -> Path:
    """The path, if it is a scenario file of the workspace (active or retired as asked)."""
    folder, retired_folder = folders(files)
    resolved = Path(path).resolve()
    allowed = {
        None: (folder, retired_folder),
        False: (folder,),
        True: (retired_folder,),
    }[retired]
    if resolved.parent not in allowed or resolved.suffix not in (".yaml", ".yml"):
        where = " or ".join(str(f) for f in allowed)
        raise ValueError(f"{path} is not a scenario file of the workspace ({where})")
    return resolved


def duplicate_scenario(
    store: Store,
    actor: Actor,
    path: str | Path,
    *,
    expected_version: str,
    name: str | None = None,
    note: str = "",
) -> Scenario:
    """A copy of the scenario in `path` (active or retired) under a new id: same narrative,
    probability, shocks, signposts, tags and escalation step; named `name` or "Copy of
    <title>". The original must still be the version opened (`expected_version`)."""
    if store.files is None:
        raise ValueError("the store has no workspace files")
    files = load_files(store.files)
    source = _own_file(files, Path(path), None)
    _opened(source, expected_version, source.stem)
    original = load_scenario(source)[0]
    title = _check_name(name if name is not None else f"Copy of {original.title}")
    data = original.model_dump(mode="json")
    data.update(id=new_id(title, _taken(files)), title=title)
    return _add(store, actor, data, note, f"duplicate of {original.id}")


def dependents(files: FileInputs, plans: list[Plan], scenario_id: str) -> list[str]:
    """What depends on a scenario, in words: the scenarios that escalate from it and the
    plans whose triggers name it."""
    out = [
        f"scenario {s.id!r} ({s.title}) escalates from it"
        for s in files.scenarios
        if s.escalates_from is not None and s.escalates_from.scenario == scenario_id
    ]
    for plan in plans:
        named = {*plan.trigger.scenarios, *(c.scenario for c in plan.trigger.probabilities)}
        if scenario_id in named:
            out.append(f"plan {plan.id!r} ({plan.title}) triggers on it")
    return out


def retire_scenario(
    store: Store, actor: Actor, path: str | Path, *, expected_version: str, note: str = ""
) -> Path:
    """Move an active scenario file, unchanged, to the retired folder: every assessment leaves
    it out from then on (`restore_scenario` brings it back). Refused (InputError on the
    scenario's id, naming them) while other scenarios escalate from it or plans trigger on it,
    or if the workspace would not validate without it. Returns the retired file's path."""
    if store.files is None:
        raise ValueError("the store has no workspace files")
    store.core.require(actor, Permission.EDIT)
    files = load_files(store.files)
    source = _own_file(files, Path(path), False)
    sid = source.stem
    _opened(source, expected_version, sid)
    _, retired_folder = folders(files)
    target = retired_folder / source.name
    with store.core.read() as conn:
        _, _, plans = stored_inputs(conn)
    uses = dependents(files, plans, sid)
    folder, _ = folders(files)
    if not [p for p in scenario_files(folder) if p.resolve() != source]:
        uses.append("it is the workspace's last scenario (a workspace needs one)")
    if uses:
        raise InputError(
            [
                Problem(
                    display(source),
                    None,
                    "id",
                    f"scenario {sid!r} cannot be retired: " + "; ".join(uses) + ". Change or "
                    "retire those first.",
                )
            ]
        )
    rest = [s for s in files.scenarios if s.id != sid]
    seen, _, _ = _checked(store, actor, files, rest, set())
    entry = store.core.audit_entry(
        actor, "retire", ENTITY, sid, "status", "active", "retired", note=note
    )
    with store.core.write() as conn:
        _recheck(store, conn, actor, seen, files, rest, set())
        _opened(source, expected_version, sid)
        if target.exists():
            raise InputError(
                [Problem(display(target), None, "id", f"a retired {sid!r} is already there")]
            )
        store.core.append_audit(conn, [entry])
        retired_folder.mkdir(exist_ok=True)
        os.rename(source, target)
    return target


def restore_scenario(
    store: Store, actor: Actor, path: str | Path, *, expected_version: str, note: str = ""
) -> Path:
    """Bring a retired scenario file back into the scenario folder, unchanged, if its id is
    free and the workspace validates with it. Returns the restored file's path."""
    if store.files is None:
        raise ValueError("the store has no workspace files")
    store.core.require(actor, Permission.EDIT)
    files = load_files(store.files)
    source = _own_file(files, Path(path), True)
    sid = source.stem
    _opened(source, expected_version, sid)
    folder, _ = folders(files)
    target = folder / source.name
    if any(p.stem == sid for p in scenario_files(folder)):
        raise InputError(
            [
                Problem(
                    display(source),
                    None,
                    "id",
                    f"an active scenario {sid!r} exists: rename or retire it before restoring "
                    "this one",
                )
            ]
        )
    scenario = load_scenario(source)[0]
    scenarios = [*files.scenarios, scenario]
    seen, _, _ = _checked(store, actor, files, scenarios, {sid})
    entry = store.core.audit_entry(
        actor, "restore", ENTITY, sid, "status", "retired", "active", note=note
    )
    with store.core.write() as conn:
        _recheck(store, conn, actor, seen, files, scenarios, {sid})
        _opened(source, expected_version, sid)
        store.core.append_audit(conn, [entry])
        try:
            os.link(source, target)  # never over a file that appeared meanwhile
        except FileExistsError:
            raise ConflictError([FileConflict(ENTITY, sid, "created", None, None)]) from None
        source.unlink()
    return target
