"""A lock held for a whole job (a refresh) so that servers sharing one database never run it
twice at once: a session-level advisory lock on PostgreSQL (released when the connection
closes, also if the process dies), an exclusive file lock next to an SQLite database."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import text

from riskapp.store.core import StoreCore


def _key(name: str) -> int:
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:7], "big")


@contextlib.contextmanager
def job_lock(core: StoreCore, name: str) -> Iterator[bool]:
    """Yields True while this process holds the job's lock, False if another holds it (the
    caller skips the job); never waits. Each workspace of a server has its own locks."""
    if not core.is_default:
        name = f"{core.workspace_id}:{name}"
    if core.dialect == "postgresql":
        with core.engine.connect() as conn:
            got = bool(
                conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": _key(name)}).scalar()
            )
            try:
                yield got
            finally:
                if got:
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _key(name)})
                conn.commit()
        return
    database = core.engine.url.database or ""
    folder = Path(database).resolve().parent if database and database != ":memory:" else None
    if folder is None:
        yield True  # an in-memory database: one process only
        return
    path = folder / f".riskapp-{hashlib.sha256(name.encode()).hexdigest()[:12]}.lock"
    with path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
