"""Assets gain a subdivision and a route. The subdivision is the ISO 3166-2 code of the
sub-national region an asset lies in (e.g. NO-54), so that a shock aimed at a subdivision
reaches the assets the register places there; the route is the line a cable, pipeline, power
line or lane follows, as the register writes it (a WKT LINESTRING or a JSON list of positions).
Existing assets get '' for both.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("assets") as batch:
        batch.add_column(sa.Column("subdivision", sa.String(6), nullable=False, server_default=""))
        batch.add_column(sa.Column("route", sa.Text(), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("assets") as batch:
        batch.drop_column("route")
        batch.drop_column("subdivision")
