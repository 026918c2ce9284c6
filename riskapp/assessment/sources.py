"""Where an assessment's inputs come from: one `WorkspaceSource` behind every surface.

A source gives a workspace (settings, factors, regions, curves, baseline, scenarios, register,
plans, dependency links), a cheap *revision* that changes whenever any of those inputs changes
(what caches key on) and a *fingerprint*, a SHA-256 of exactly the inputs used (what reports
print as their provenance). Three sources:

- `FileSource`: the workspace folder's files only (what `riskapp score` reads with
  `--source files`).
- `StoreSource`: the model files of the folder (settings, factors, regions, curves, baseline,
  scenarios, dependency shares) with the asset register and the plans of the team database
  (what the dashboard shows; `--source store`).
- `MemorySource`: a workspace already in memory (tests and the Python API).

`sync_status` lists what differs between a folder's files and its team database, so that every
surface can say so; `choose_source` is the one rule for which source a command uses.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol, runtime_checkable

import numpy as np
import pandas as pd

from riskapp.domain import Workspace
from riskapp.domain.assets import ASSET_COLUMNS, DependencyLink
from riskapp.io.errors import InputError

if TYPE_CHECKING:
    from riskapp.settings import Settings
    from riskapp.store import Store

SourceKind = Literal["files", "store", "memory"]
SourceChoice = Literal["auto", "files", "store"]
SOURCE_CHOICES: tuple[SourceChoice, ...] = ("auto", "files", "store")
REVISION_CHARS = 12  # of a SHA-256, in revisions shown to people


@dataclass(frozen=True)
class SourceInfo:
    """Which inputs an assessment used, for captions, CLI output and report provenance.

    kind         files, store or memory
    location     the workspace folder (and, for a store, its database without a password)
    revision     short and human: "files 3f2a9c1e4b7d" or "store r85 + files 3f2a9c1e4b7d"
    fingerprint  SHA-256 (hex) of exactly the inputs used: for the files of a folder, over
                 each file sorted by its path relative to the folder (path, NUL, bytes, NUL);
                 for a store, over those of the model files plus the register and plans as
                 read from the database; in memory, over the workspace's canonical content
    inputs       what was read: file paths relative to the folder, "register: <database>",
                 "plans: <database>"
    folder       the workspace folder ("" in memory)
    """

    kind: SourceKind
    location: str
    revision: str
    fingerprint: str
    inputs: tuple[str, ...] = ()
    folder: str = ""

    def describe(self) -> str:
        """One line for people: "store r85 + files 3f2a9c1e4b7d (demo, sqlite:///...)"."""
        return f"{self.revision} ({self.location})" if self.location else self.revision


@dataclass(frozen=True)
class Snapshot:
    """What a source gives at one revision."""

    ws: Workspace
    info: SourceInfo
    links: tuple[DependencyLink, ...] = ()
    link_problems: tuple[str, ...] = ()


@runtime_checkable
class WorkspaceSource(Protocol):
    """A place the assessment's inputs come from."""

    @property
    def kind(self) -> SourceKind: ...

    def revision(self) -> str:
        """Changes whenever any input changes; cheap (a cache key)."""
        ...

    def load(self) -> Snapshot:
        """The inputs at the current revision; raises InputError listing every problem."""
        ...


# -- files ---------------------------------------------------------------------------------------


def input_files(workspace: str | Path, *, register: bool = True) -> tuple[Path, list[Path]]:
    """The workspace folder and every input file it reads (manifest, tables, zones and routes,
    scenarios and the dependency shares if present); without `register`, not the assets and
    plans files."""
    from riskapp.io.dependencies import dependency_file
    from riskapp.io.workspace import load_manifest, manifest_path, scenario_files

    mpath = manifest_path(workspace)
    root = mpath.parent
    manifest, _ = load_manifest(mpath)
    p = manifest.paths
    names = [p.factors, p.regions, p.curves, p.baseline, p.zones, p.routes, p.fx]
    if register:
        names += [p.assets, p.plans]
    files = [mpath] + [root / name for name in names]
    files += scenario_files(root / p.scenarios)
    files.append(dependency_file(Path(workspace)))
    return root, [f for f in files if f.is_file()]


def _relative(path: Path, root: Path) -> str:
    return Path(os.path.relpath(path.resolve(), root.resolve())).as_posix()


HASH_BLOCK = 1 << 20  # bytes read at a time into one buffer (`hash_files`)


def hash_files(root: Path, files: Sequence[Path]) -> tuple[str, tuple[str, ...]]:
    """SHA-256 over (relative path, NUL, bytes, NUL) of each file, sorted by relative path.
    Each file is read a block at a time into one buffer: a register of 13 MB hashes in 8 ms,
    where reading it whole and appending the NUL (two copies) took 14 ms."""
    digest = hashlib.sha256()
    named = sorted((_relative(f, root), f) for f in files)
    block = bytearray(HASH_BLOCK)
    view = memoryview(block)
    for rel, f in named:
        digest.update(rel.encode("utf-8") + b"\0")
        with f.open("rb", buffering=0) as fh:
            while n := fh.readinto(block):
                digest.update(view[:n])
        digest.update(b"\0")
    return digest.hexdigest(), tuple(rel for rel, _ in named)


def _signature(files: Sequence[Path]) -> str:
    """Path, modification time and size of each file, hashed: a cheap revision of files."""
    digest = hashlib.sha256()
    for f in sorted(files):
        stat = f.stat()
        digest.update(f"{f}\0{stat.st_mtime_ns}\0{stat.st_size}\0".encode())
    return digest.hexdigest()


def _files_revision(path: Path, *, register: bool) -> str:
    try:
        _, files = input_files(path, register=register)
    except InputError:  # a broken manifest: key on the folder's files as they are
        files = [f for f in manifest_parent(path).rglob("*") if f.is_file()]
    return _signature(files)


def manifest_parent(path: str | Path) -> Path:
    from riskapp.io.workspace import manifest_path

    return manifest_path(path).parent


def _links(path: Path, ws: Workspace) -> tuple[tuple[DependencyLink, ...], tuple[str, ...]]:
    """The folder's dependency links and the problems of their file (a broken file gives no
    links: the assessment runs without cascades and says why)."""
    from riskapp.io.dependencies import dependency_file, load_dependencies

    dep = dependency_file(Path(path))
    if not dep.exists():
        return (), ()
    try:
        return tuple(load_dependencies(dep, ws.portfolio)), ()
    except InputError as exc:
        return (), tuple(str(p) for p in exc.problems)


@dataclass(frozen=True)
class FileSource:
    """A workspace folder's files."""

    path: Path

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", Path(self.path).resolve())

    @property
    def kind(self) -> SourceKind:
        return "files"

    def revision(self) -> str:
        return "files:" + _files_revision(self.path, register=True)

    def load(self, *, links: bool = True) -> Snapshot:
        """The files' inputs; without `links`, not the dependency links (a snapshot with none:
        what the comparison with the team database reads, which compares no links)."""
        from riskapp.io import load_workspace

        ws = load_workspace(self.path)
        root, files = input_files(self.path)
        digest, names = hash_files(root, files)
        found, problems = _links(self.path, ws) if links else ((), ())
        revision = f"files {digest[:REVISION_CHARS]}"
        info = SourceInfo("files", str(root), revision, digest, names, str(root))
        return Snapshot(ws, info, found, problems)


# -- team store ----------------------------------------------------------------------------------


def safe_url(url: str) -> str:
    """A database URL without its password."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url.rsplit("@", maxsplit=1)[-1]


def register_digest(ws: Workspace) -> str:
    """SHA-256 of a workspace's register and plan book in canonical form."""
    digest = hashlib.sha256()
    frame = ws.portfolio.frame.reindex(columns=ASSET_COLUMNS).sort_values("id", kind="stable")
    digest.update(frame.to_json(orient="records", date_format="iso").encode("utf-8") + b"\0")
    digest.update(ws.plans.model_dump_json().encode("utf-8") + b"\0")
    return digest.hexdigest()


@dataclass(frozen=True)
class StoreSource:
    """The model files of a folder with the register and plans of the team database."""

    store: Store
    path: Path

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", Path(self.path).resolve())

    @classmethod
    def open(cls, path: str | Path, settings: Settings | None = None) -> StoreSource:
        """The team database of `settings` (RISKAPP_DATABASE_URL or the SQLite file in
        RISKAPP_DATA_DIR) combined with the folder's model files; an empty database is
        filled with the folder's register and plans first."""
        from riskapp.settings import Settings
        from riskapp.store import Store

        cfg = settings or Settings()
        folder = Path(path).resolve()
        return cls(Store.open(cfg, files=folder), folder)

    @property
    def kind(self) -> SourceKind:
        return "store"

    @property
    def database(self) -> str:
        return safe_url(str(self.store.engine.url))

    def revision(self) -> str:
        return f"store:{self.store.revision()}:" + _files_revision(self.path, register=False)

    def load(self) -> Snapshot:
        store_rev = self.store.revision()
        ws = self.store.workspace(self.path)
        root, files = input_files(self.path, register=False)
        files_digest, names = hash_files(root, files)
        digest = hashlib.sha256(f"{files_digest}\0{register_digest(ws)}\0".encode()).hexdigest()
        links, problems = _links(self.path, ws)
        database = self.database
        info = SourceInfo(
            "store",
            f"{root}; {database}",
            f"store r{store_rev} + files {files_digest[:REVISION_CHARS]}",
            digest,
            (*names, f"register: {database} r{store_rev}", f"plans: {database} r{store_rev}"),
            str(root),
        )
        return Snapshot(ws, info, links, problems)


# -- memory --------------------------------------------------------------------------------------


def content_fingerprint(ws: Workspace, links: Sequence[DependencyLink] = ()) -> str:
    """SHA-256 of a workspace's canonical content (and its dependency links)."""
    digest = hashlib.sha256()
    for part in (ws.settings, ws.factors, ws.regions, ws.curves, ws.baseline, ws.zones, ws.routes):
        digest.update(part.model_dump_json().encode("utf-8") + b"\0")
    for s in ws.scenarios:
        digest.update(s.model_dump_json().encode("utf-8") + b"\0")
    digest.update(register_digest(ws).encode("ascii") + b"\0")
    for link in links:
        digest.update(link.model_dump_json().encode("utf-8") + b"\0")
    return digest.hexdigest()


@dataclass(frozen=True)
class MemorySource:
    """A workspace already in memory."""

    ws: Workspace
    links: tuple[DependencyLink, ...] = ()
    name: str = "memory"
    _digest: str = field(default="", repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "links", tuple(self.links))
        object.__setattr__(self, "_digest", content_fingerprint(self.ws, self.links))

    @property
    def kind(self) -> SourceKind:
        return "memory"

    def revision(self) -> str:
        return "memory:" + self._digest

    def load(self) -> Snapshot:
        info = SourceInfo(
            "memory", self.name, f"memory {self._digest[:REVISION_CHARS]}", self._digest
        )
        return Snapshot(self.ws, info, self.links)


# -- which source ---------------------------------------------------------------------------------


def store_exists(settings: Settings) -> bool:
    """Whether a team database is in use: RISKAPP_DATABASE_URL is set, or the default SQLite
    file exists in RISKAPP_DATA_DIR."""
    if settings.database_url:
        return True
    return (settings.data_dir / "riskapp.db").is_file()


def choose_source(
    path: str | Path, choice: SourceChoice = "auto", settings: Settings | None = None
) -> WorkspaceSource:
    """The one rule for which source a command uses.

    files: the folder's files. store: the folder's model files with the register and plans of
    the team database (created and filled from the files if it does not exist yet). auto (the
    default): the store when a team database is in use (`store_exists`), otherwise the files.
    """
    from riskapp.settings import Settings

    if choice == "files":
        return FileSource(Path(path))
    cfg = settings or Settings()  # read now: the environment of this command
    if choice == "store" or store_exists(cfg):
        return StoreSource.open(path, cfg)
    return FileSource(Path(path))


def as_source(source: WorkspaceSource | Workspace | str | Path) -> WorkspaceSource:
    """A path means its files; a Workspace means memory."""
    if isinstance(source, (str, Path)):
        return FileSource(Path(source))
    if isinstance(source, Workspace):
        return MemorySource(source)
    return source


# -- files against store -------------------------------------------------------------------------


@dataclass(frozen=True)
class Difference:
    """One record that differs between the files and the store."""

    kind: Literal["asset", "plan"]
    id: str
    status: Literal["only in files", "only in store", "changed"]
    fields: tuple[str, ...] = ()

    def __str__(self) -> str:
        what = f" ({', '.join(self.fields)})" if self.fields else ""
        return f"{self.kind} {self.id}: {self.status}{what}"


@dataclass(frozen=True)
class SyncStatus:
    """What differs between a folder's register and plans and those of its team database."""

    files_revision: str
    store_revision: str
    differences: tuple[Difference, ...]

    @property
    def in_sync(self) -> bool:
        return not self.differences

    def counts(self) -> dict[tuple[str, str], int]:
        """Number of differences per (asset|plan, status)."""
        out: dict[tuple[str, str], int] = {}
        for d in self.differences:
            out[d.kind, d.status] = out.get((d.kind, d.status), 0) + 1
        return out

    def summary(self) -> str:
        if self.in_sync:
            return "the files and the team database hold the same register and plans"
        parts = ", ".join(
            f"{n} {kind}{'s' if n != 1 else ''} {status}"
            for (kind, status), n in sorted(self.counts().items())
        )
        return f"the files and the team database differ: {parts}"


def _frame_differences(
    kind: Literal["asset", "plan"], files: pd.DataFrame, store: pd.DataFrame
) -> list[Difference]:
    """Records only on one side, and changed records with the fields that differ (compared
    column by column over all records at once)."""
    a = files.set_index("id")
    b = store.set_index("id")
    out = [Difference(kind, str(i), "only in files") for i in a.index.difference(b.index)]
    out += [Difference(kind, str(i), "only in store") for i in b.index.difference(a.index)]
    common = a.index.intersection(b.index)
    columns = [c for c in a.columns if c in b.columns]
    left = a.loc[common, columns].astype("string").fillna("")
    right = b.loc[common, columns].astype("string").fillna("")
    changed = left.ne(right)
    rows = changed.any(axis=1)
    for ident, flags in changed[rows].iterrows():
        fields = tuple(c for c, f in zip(columns, flags, strict=True) if f)
        out.append(Difference(kind, str(ident), "changed", fields))
    return sorted(out, key=lambda d: (d.kind, d.status, d.id))


def _asset_frame(ws: Workspace) -> pd.DataFrame:
    frame = ws.portfolio.frame.reindex(columns=ASSET_COLUMNS).copy()
    for col in ("tags", "depends_on"):
        frame[col] = frame[col].map(lambda v: ";".join(v) if isinstance(v, (list, tuple)) else v)
    return frame


def _plan_frame(ws: Workspace) -> pd.DataFrame:
    rows = [p.model_dump(mode="json") for p in ws.plans.plans]
    frame = pd.DataFrame(rows, columns=["id", *sorted({k for r in rows for k in r} - {"id"})])
    return frame.map(lambda v: v if isinstance(v, str) else repr(v))


def same_register(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    """Whether two register frames hold the same assets in the same order with the same values
    (each column of the same dtype, compared as arrays: NaN equal to NaN in float columns,
    lists item by item). Exact: False may still mean "the same once written as text"."""
    if list(a.columns) != list(b.columns) or len(a) != len(b):
        return False
    for col in a.columns:
        x, y = a[col], b[col]
        if x.dtype != y.dtype:
            return False
        u, v = x.to_numpy(), y.to_numpy()
        same = u == v
        if u.dtype.kind == "f":
            same |= np.isnan(u) & np.isnan(v)
        if not np.all(same):
            return False
    return True


def sync_status(files: Snapshot, store: Snapshot) -> SyncStatus:
    """What differs between the folder's files and the team database (register and plans;
    the model files are shared, so they cannot differ). Registers that hold exactly the same
    values in the same order, and equal plan books, are not compared record by record (the
    usual case: the store was seeded from these files or synced with them)."""
    diffs: list[Difference] = []
    if not same_register(
        files.ws.portfolio.frame.reindex(columns=ASSET_COLUMNS),
        store.ws.portfolio.frame.reindex(columns=ASSET_COLUMNS),
    ):
        diffs += _frame_differences("asset", _asset_frame(files.ws), _asset_frame(store.ws))
    if files.ws.plans != store.ws.plans:
        diffs += _frame_differences("plan", _plan_frame(files.ws), _plan_frame(store.ws))
    return SyncStatus(files.info.revision, store.info.revision, tuple(diffs))
