"""The application's database role on PostgreSQL: one that does not own the tables.

The table owner can drop, alter or disable any trigger, so an application connecting as the
owner could rewrite its own audit trail. `create_app_role` (run as the owner) creates or updates
a LOGIN role that may read and write the working tables, only read and append to `audit_log`,
and owns nothing: it cannot DROP, ALTER, DISABLE TRIGGER, TRUNCATE, UPDATE or DELETE the audit
trail. The owner keeps running migrations (`RISKAPP_DATABASE_ADMIN_URL`); run this again after
a migration that adds tables. SQLite has no roles: there, file permissions and
`riskapp audit verify` are the defence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, String, literal, text

from riskapp.io.errors import InputError, Problem
from riskapp.store.schema import metadata
from riskapp.store.tenancy import schema_name

ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
APPEND_ONLY = ("audit_log",)
READ_ONLY = ("alembic_version",)


@dataclass(frozen=True)
class AppRole:
    """What `create_app_role` did: the role, whether it was new, and its grants by table."""

    name: str
    created: bool
    schema: str
    grants: dict[str, str]


def _refuse(field: str, message: str) -> InputError:
    return InputError([Problem("database role", None, field, message)])


def create_app_role(engine: Engine, name: str, password: str | None = None) -> AppRole:
    """Create (or bring in line) the LOGIN role `name` with the application's privileges on the
    tables of the connection's current schema, and nothing more."""
    if engine.dialect.name != "postgresql":
        raise _refuse(
            "database",
            "database roles are PostgreSQL's; on SQLite protect the file (permissions) and check "
            "the trail with `riskapp audit verify`",
        )
    if not ROLE_NAME.match(name):
        raise _refuse("name", "expected a lower-case role name: letters, digits, _ (max 63)")
    if password is not None and ("\x00" in password or not password):
        raise _refuse("password", "expected a non-empty password without NUL characters")
    with engine.connect() as conn, conn.begin():
        schema = str(conn.execute(text("SELECT current_schema()")).scalar())
        owners = {
            str(r[0]): str(r[1])
            for r in conn.execute(
                text("SELECT tablename, tableowner FROM pg_tables WHERE schemaname = :s"),
                {"s": schema},
            )
        }
        if "audit_log" not in owners:
            raise _refuse("database", f"no riskapp tables in schema {schema}: migrate it first")
        if name in owners.values() or name == conn.execute(text("SELECT current_user")).scalar():
            raise _refuse("name", f"{name} owns the tables: the application role must not")
        role = _quote(conn, name)
        created = not conn.execute(
            text("SELECT 1 FROM pg_roles WHERE rolname = :n"), {"n": name}
        ).first()
        options = "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS"
        if password is not None:
            options += " PASSWORD " + _literal(conn, password)
        # the driver's own call: a password is not parsed for bind parameters (":x", "%s")
        conn.exec_driver_sql(f"{'CREATE' if created else 'ALTER'} ROLE {role} {options}")
        database = _quote(conn, str(conn.execute(text("SELECT current_database()")).scalar()))
        may_connect = conn.execute(
            text("SELECT has_database_privilege(:n, current_database(), 'CONNECT')"), {"n": name}
        ).scalar()
        if not may_connect:  # PUBLIC may connect unless the database was locked down
            conn.execute(text(f"GRANT CONNECT ON DATABASE {database} TO {role}"))
        grants = _grant_schema(conn, role, schema, owners)
        # the schemas of the server's other workspaces (riskapp.store.tenancy), alike
        registry = "workspaces" in owners
        ids: list[str] = (
            [str(i) for i in conn.execute(text("SELECT id FROM workspaces")).scalars()]
            if registry
            else []
        )
        for workspace_id in ids:
            other = schema_name(schema, str(workspace_id))
            tables = {
                str(r[0]): str(r[1])
                for r in conn.execute(
                    text("SELECT tablename, tableowner FROM pg_tables WHERE schemaname = :s"),
                    {"s": other},
                )
            }
            if "audit_log" in tables:
                _grant_schema(conn, role, other, tables)
    return AppRole(name=name, created=created, schema=schema, grants=grants)


def _grant_schema(
    conn: Connection, role: str, schema: str, owners: dict[str, str]
) -> dict[str, str]:
    """The application's privileges on riskapp's tables of one schema; its grants by table."""
    where = _quote(conn, schema)
    conn.execute(text(f"GRANT USAGE ON SCHEMA {where} TO {role}"))
    conn.execute(text(f"REVOKE CREATE ON SCHEMA {where} FROM {role}"))
    conn.execute(text(f"REVOKE ALL ON ALL TABLES IN SCHEMA {where} FROM {role}"))
    grants: dict[str, str] = {}
    for table in [*metadata.tables, *READ_ONLY]:
        if table not in owners:
            continue
        if table in APPEND_ONLY:
            privileges = "SELECT, INSERT"
        elif table in READ_ONLY:
            privileges = "SELECT"
        else:
            privileges = "SELECT, INSERT, UPDATE, DELETE"
        conn.execute(text(f"GRANT {privileges} ON TABLE {where}.{_quote(conn, table)} TO {role}"))
        grants[table] = privileges
    conn.execute(text(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {where} TO {role}"))
    return grants


def _quote(conn: Connection, identifier: str) -> str:
    return conn.dialect.identifier_preparer.quote_identifier(identifier)


def _literal(conn: Connection, value: str) -> str:
    """A string literal for DDL, which takes no bound parameters."""
    compiled = literal(value, String()).compile(
        dialect=conn.dialect, compile_kwargs={"literal_binds": True}
    )
    return str(compiled)
