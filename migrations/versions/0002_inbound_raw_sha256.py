"""Inbound mail: raw_sha256, so a redelivery without a Message-ID is stored once.

Revision ID: 0002_inbound_raw_sha256
Revises: 0001_baseline
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_inbound_raw_sha256"
down_revision = "0001_baseline"
branch_labels = None
depends_on = None

# PostgreSQL's own name for the column's UNIQUE, as create_all would make it
UNIQUE = "ticket_inbound_email_raw_sha256_key"


def upgrade() -> None:
    with op.batch_alter_table("ticket_inbound_email") as batch_op:
        batch_op.add_column(sa.Column("raw_sha256", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(UNIQUE, ["raw_sha256"])


def downgrade() -> None:
    with op.batch_alter_table("ticket_inbound_email") as batch_op:
        batch_op.drop_constraint(UNIQUE, type_="unique")
        batch_op.drop_column("raw_sha256")
