"""Seeding an empty database with the register and plans of the workspace files."""

from __future__ import annotations

from pathlib import Path

from riskapp.domain import PlanBook
from riskapp.io.errors import InputError
from riskapp.store import schema as t
from riskapp.store.auth import Actor
from riskapp.store.core import StoreCore
from riskapp.store.frames import no_cyclic_gc, normalised, stored_register
from riskapp.store.plans import write_plans
from riskapp.store.register import write_register


class Seeding:
    """Fills an empty database from the workspace files."""

    def __init__(self, core: StoreCore) -> None:
        self.core = core

    def is_empty(self) -> bool:
        with self.core.read() as conn:
            return not any(self.core.count(conn, tb) for tb in (t.assets, t.plans, t.audit_log))

    def seed_if_empty(self, files: Path | None = None) -> bool:
        """Fill an empty database with the register and plans of the workspace files."""
        with no_cyclic_gc():
            return self._seed_if_empty(files)

    def _seed_if_empty(self, files: Path | None) -> bool:
        from riskapp.io.columnar import parse_register, register_problems
        from riskapp.io.workspace import load_manifest, load_model, manifest_path

        path = files or self.core.files
        if path is None or not self.is_empty():
            return False
        mpath = manifest_path(path)
        manifest, _ = load_manifest(mpath)
        # the register read as columns (the reading `load_workspace` does), not asset by asset:
        # the same values and the same problems, row by row
        assets_path = mpath.parent / manifest.paths.assets
        name = str(assets_path)
        frame, lines = parse_register(assets_path, name, empty=True)  # a new workspace's
        problems = register_problems(frame, lines, name)
        if problems:
            raise InputError(problems)
        register = normalised(frame)
        plans_file = mpath.parent / manifest.paths.plans
        book = load_model(plans_file, PlanBook)[0] if plans_file.exists() else PlanBook()
        actor = Actor.system("seed")
        with self.core.write() as conn:
            if any(self.core.count(conn, tb) for tb in (t.assets, t.plans, t.audit_log)):
                return False  # another server seeded it first
            note = f"seeded from {mpath.parent.name}"
            write_register(self.core, conn, stored_register(conn), register, actor, "seed", note)
            write_plans(
                self.core,
                conn,
                {},
                {p.id: (p, None) for p in book.plans},
                actor,
                "seed",
                note,
                [p.id for p in book.plans],
                register=register,
            )
        return True
