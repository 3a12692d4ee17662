"""Agents bound to some Pages: `agent.pages`, the Page ids whose tickets they see.

Existing agents keep NULL: every Page's tickets, as before.

Revision ID: 0008_agent_pages
Revises: 0007_instagram_username
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_agent_pages"
down_revision = "0007_instagram_username"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("agent", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pages", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("agent", schema=None) as batch_op:
        batch_op.drop_column("pages")
