"""The database tables of the team workspace (SQLAlchemy Core tables).

Times are stored as naive UTC (SQLite keeps no zone); `records.py` puts the zone back.
List columns (tags, depends_on) and nested plan parts are JSON. The migration in
`migrations/versions` creates exactly these tables; a test compares the two.

The store reads and writes rows with Core statements only, so the tables are declared as Core
`Table`s: no ORM classes (importing `sqlalchemy.orm` and building mapped classes took about
0.07 s of every process that opens the store).
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    Date,
    DateTime,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING)
"""Every table of the store (what the migrations build and Alembic compares with)."""


def edit_columns() -> tuple[Column[int], Column[object], Column[str]]:
    """What a record edited in the product carries (assets, plans): its version, rising by one
    with every change (optimistic locking), and when and by whom it last changed."""
    return (
        Column("version", Integer, nullable=False),
        Column("updated_at", DateTime, nullable=False),
        Column("updated_by", String(200), nullable=False),
    )


assets = Table(
    # one asset of the register; `version` rises by one with every change
    "assets",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("name", String(200), nullable=False),
    Column("type", String(48), nullable=False),
    Column("country", String(3), nullable=False),
    Column("lat", Float),
    Column("lon", Float),
    Column("replacement_value", Float, nullable=False),
    Column("annual_revenue_at_stake", Float, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("criticality", Integer, nullable=False),
    Column("tags", JSON, nullable=False),
    Column("owner", String(200), nullable=False),
    Column("depends_on", JSON, nullable=False),
    # ISO 3166-2 code of the asset's sub-national region ('' for none); added in 0003
    Column("subdivision", String(6), nullable=False, server_default=""),
    # the line a cable, pipeline or lane follows, as written (WKT or JSON); '' for none
    Column("route", Text, nullable=False, server_default=""),
    *edit_columns(),
)

plans = Table(
    # one contingency plan: the fields edited in the product are columns, the rest of the
    # plan (trigger, actions, coverage, effect, description, title) is JSON
    "plans",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("title", String(200), nullable=False),
    Column("owner", String(200), nullable=False),
    Column("status", String(16), nullable=False),
    Column("review_date", Date),
    Column("definition", JSON, nullable=False),
    *edit_columns(),
)

audit_log = Table(
    # one change: who, when, what (entity, id, field), old and new value (JSON text).
    # Append-only: database triggers refuse UPDATE and DELETE on this table. Hash-chained:
    # `hash` is SHA-256 over `prev_hash` (the entry before's hash) and this entry's fields
    # (`riskapp.store.chain`), so a changed, removed or replaced entry is found by
    # `riskapp audit verify`.
    "audit_log",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime, nullable=False, index=True),
    Column("actor", String(200), nullable=False, index=True),
    Column("action", String(32), nullable=False),
    Column("entity", String(32), nullable=False),
    Column("entity_id", String(200), nullable=False),
    Column("field", String(64), nullable=False),
    Column("old_value", Text),
    Column("new_value", Text),
    Column("version", Integer),
    Column("note", String(500), nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)

assessments = Table(
    # a saved assessment: label, date, a hash of its inputs, the inputs' fingerprint (to say
    # what changed) and the results (key figures and losses by asset, country, factor...)
    "assessments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("label", String(200), nullable=False),
    Column("as_of", Date, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("inputs_hash", String(64), nullable=False),
    Column("inputs", JSON, nullable=False),
    Column("results", JSON, nullable=False),
)

users = Table(
    # a local account: argon2 password hash and role (viewer, analyst, admin)
    "users",
    metadata,
    Column("username", String(64), primary_key=True),
    Column("display_name", String(200), nullable=False),
    Column("role", String(16), nullable=False),
    Column("password_hash", String(200), nullable=False),
    Column("created_at", DateTime, nullable=False),
)

login_throttle = Table(
    # failed logins in a row per username (known or not), shared by every server
    "login_throttle",
    metadata,
    Column("username", String(200), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("locked_until", DateTime),
)


indicators = Table(
    # a time series signposts watch (riskapp.domain.indicators.Indicator)
    "indicators",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("unit", String(64), nullable=False),
    Column("frequency", String(16), nullable=False),
    Column("source", String(200), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    Column("updated_by", String(200), nullable=False),
)

observations = Table(
    # one value of one period; a revision is a new row with the next vintage (1 = first seen),
    # never an update; added in 0004
    "observations",
    metadata,
    Column("indicator_id", String(64), primary_key=True),
    Column("period", String(10), primary_key=True),
    Column("vintage", Integer, primary_key=True),
    Column("value", Float, nullable=False),
    Column("published_at", DateTime),
    Column("fetched_at", DateTime, nullable=False),
    Column("source", String(200), nullable=False),
)


alerts = Table(
    # one alert: raised once per event `key`, then acknowledged, assigned, commented (the
    # comments a JSON list of {at, by, text}); added in 0005
    "alerts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(300), nullable=False, unique=True),
    Column("kind", String(32), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("title", String(300), nullable=False),
    Column("detail", Text, nullable=False),
    Column("subject", String(200), nullable=False),
    Column("status", String(16), nullable=False),  # open, acknowledged
    Column("assignee", String(200), nullable=False),
    Column("comments", JSON, nullable=False),
    Column("raised_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    Column("updated_by", String(200), nullable=False),
)


alert_deliveries = Table(
    # an alert sent to a subscriber: never sent to it twice; added in 0006
    "alert_deliveries",
    metadata,
    Column("alert_id", Integer, primary_key=True),
    Column("subscription", String(100), primary_key=True),
    Column("delivered_at", DateTime, nullable=False),
    Column("channel", String(16), nullable=False),  # email, webhook
    Column("summary", Integer, nullable=False),  # 1: sent within a summary of a storm
)


alert_subscriptions = Table(
    # what one person subscribes to (their own choice, on the Alerts page or the command
    # line); delivered with the team's subscriptions of the settings; added in 0007
    "alert_subscriptions",
    metadata,
    Column("username", String(200), primary_key=True),
    Column("email", String(254), nullable=False),
    Column("kinds", JSON, nullable=False),
    Column("min_severity", String(16), nullable=False),
    Column("updated_at", DateTime, nullable=False),
)


workspaces = Table(
    # a workspace this server serves besides the default one (one client each): its own
    # register, plans, audit trail, assessments, indicators and alerts live in a database of
    # their own (an SQLite file, or a PostgreSQL schema); this row says where its files are
    # and its report branding defaults (JSON). Kept in the main database; added in 0008
    "workspaces",
    metadata,
    Column("id", String(30), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("files", Text, nullable=False),
    Column("branding", JSON, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("retired_at", DateTime),
)

workspace_grants = Table(
    # the role one account holds in one workspace ('default' included): nobody sees a
    # workspace without a row here. Kept in the main database; added in 0008, which granted
    # every existing account its role in the default workspace
    "workspace_grants",
    metadata,
    Column("workspace_id", String(30), primary_key=True),
    Column("username", String(64), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("granted_at", DateTime, nullable=False),
    Column("granted_by", String(200), nullable=False),
)
