"""Several workspaces on one server: the registry of workspaces and the role each account
holds in each workspace. Every existing account keeps its role in the default workspace (the
data already in this database), so an existing database upgrades in place.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "workspaces",
        sa.Column("id", sa.String(30), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("files", sa.Text(), nullable=False),
        sa.Column("branding", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("retired_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workspaces")),
    )
    grants = op.create_table(
        "workspace_grants",
        sa.Column("workspace_id", sa.String(30), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("granted_at", sa.DateTime(), nullable=False),
        sa.Column("granted_by", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("workspace_id", "username", name=op.f("pk_workspace_grants")),
    )
    # every existing account keeps the role it had, in the default workspace
    users = sa.table("users", sa.column("username", sa.String), sa.column("role", sa.String))
    rows = op.get_bind().execute(sa.select(users.c.username, users.c.role)).all()
    if rows:
        now = datetime.now(UTC).replace(tzinfo=None)
        op.bulk_insert(
            grants,
            [
                {
                    "workspace_id": "default",
                    "username": r.username,
                    "role": r.role,
                    "granted_at": now,
                    "granted_by": "migration 0008",
                }
                for r in rows
            ],
        )


def downgrade() -> None:
    op.drop_table("workspace_grants")
    op.drop_table("workspaces")
