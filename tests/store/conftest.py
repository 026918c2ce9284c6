"""Every storage test runs against SQLite (a temporary file) and PostgreSQL (a schema of its
own in the `test` database on 127.0.0.1:5432, dropped afterwards).

PostgreSQL that cannot be reached fails the run when the CI environment variable is set and
skips the PostgreSQL half otherwise. RISKAPP_TEST_POSTGRES_URL points elsewhere.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from riskapp.settings import Settings
from riskapp.store import Actor, Role, Store
from tests.conftest import DEMO, TINY

PG_URL = os.environ.get(
    "RISKAPP_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
__all__ = ["DEMO", "TINY"]


def _postgres_problem() -> str | None:
    try:
        engine = create_engine(PG_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}".splitlines()[0]
    return None


@pytest.fixture(scope="session")
def postgres_reachable() -> None:
    problem = _postgres_problem()
    if problem is None:
        return
    message = f"PostgreSQL at {make_url(PG_URL).render_as_string()} is not reachable: {problem}"
    if os.environ.get("CI"):
        pytest.fail(message + " (CI is set: PostgreSQL tests must run, not skip)")
    pytest.skip(message)


def postgres_schema_url(schema: str) -> str:
    """The test database with `schema` first on the search path (tables, triggers, functions
    and Alembic's version table all land there)."""
    url = make_url(PG_URL)
    return url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
        hide_password=False
    )


@pytest.fixture(params=["sqlite", "postgresql"])
def new_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], str]]:
    """Makes fresh, empty databases of one kind: SQLite files, or new PostgreSQL schemas
    (dropped after the test)."""
    made: list[str] = []
    admin = None
    if request.param == "postgresql":
        request.getfixturevalue("postgres_reachable")
        admin = create_engine(PG_URL)

    def make() -> str:
        if admin is None:
            path = tmp_path / f"riskapp-{len(made)}.db"
            made.append(str(path))
            return f"sqlite:///{path}"
        schema = f"riskapp_test_{uuid.uuid4().hex[:12]}"
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        made.append(schema)
        return postgres_schema_url(schema)

    yield make
    if admin is not None:
        with admin.begin() as conn:
            for schema in made:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def db_url(new_db_url: Callable[[], str]) -> str:
    """A fresh, empty database: an SQLite file, or a new PostgreSQL schema."""
    return new_db_url()


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2 with small parameters: the same code path, milliseconds instead of 0.1 s a hash
    (production keeps the library's recommended parameters)."""
    from argon2 import PasswordHasher

    from riskapp.store import auth

    monkeypatch.setattr(auth, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024))


@dataclass
class Clock:
    """A clock the test moves by hand (login lockouts, audit times)."""

    now: datetime = field(default_factory=lambda: datetime(2025, 11, 20, 9, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        workspace=TINY,
        data_dir=tmp_path,
        login_max_failures=3,
        login_lockout_seconds=60,
        _env_file=None,  # type: ignore[call-arg]
    )


OpenStore = Callable[..., Store]


@pytest.fixture
def open_store(db_url: str, settings: Settings, clock: Clock) -> Iterator[OpenStore]:
    """Open (and migrate, and seed) the test database; every store opened is closed after."""
    opened: list[Store] = []

    def _open(url: str | None = None, **kwargs: object) -> Store:
        kwargs.setdefault("clock", clock)
        store = Store.open(settings, url=url or db_url, **kwargs)  # type: ignore[arg-type]
        opened.append(store)
        return store

    yield _open
    for store in opened:
        store.close()


@pytest.fixture
def store(open_store: OpenStore) -> Store:
    """The tiny test workspace's register and plans, seeded into the database."""
    return open_store()


ADMIN = Actor("alice", Role.ADMIN)
ANALYST = Actor("bob", Role.ANALYST)
VIEWER = Actor("carol", Role.VIEWER)
SYSTEM = Actor.system("test")


@pytest.fixture
def team(store: Store) -> Store:
    """The store with three users: alice (admin), bob (analyst), carol (viewer)."""
    store.add_user("alice", "alice-password", Role.ADMIN, SYSTEM)
    store.add_user("bob", "bob-password", Role.ANALYST, SYSTEM)
    store.add_user("carol", "carol-password", Role.VIEWER, SYSTEM)
    return store


@contextmanager
def held_write_lock(url: str) -> Iterator[None]:
    """Another writer holding the database's write lock (a raw connection, not the store):
    SQLite BEGIN EXCLUSIVE (readers still read under WAL); PostgreSQL the register lock the
    store's writers take."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        raw = sqlite3.connect(str(parsed.database), isolation_level=None)
        raw.execute("BEGIN EXCLUSIVE")
        try:
            yield
        finally:
            raw.execute("ROLLBACK")
            raw.close()
        return
    engine = create_engine(url)
    try:
        with engine.connect() as conn, conn.begin():
            conn.execute(text("LOCK TABLE assets, plans IN SHARE ROW EXCLUSIVE MODE"))
            yield
    finally:
        engine.dispose()


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A copy of the tiny workspace's files (tests that write scenario files change the copy)."""
    dest = tmp_path / "ws"
    shutil.copytree(TINY, dest)
    return dest


@pytest.fixture
def ws_store(open_store: OpenStore, workspace: Path) -> Store:
    """The copy's team database with an admin (alice), an analyst (bob) and a viewer (carol)."""
    store = open_store(files=workspace)
    store.add_user("alice", "alice-password", Role.ADMIN, SYSTEM)
    store.add_user("bob", "bob-password", Role.ANALYST, SYSTEM)
    store.add_user("carol", "carol-password", Role.VIEWER, SYSTEM)
    return store
