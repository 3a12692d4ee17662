"""Agent sessions: session_epoch, bumped by logout, deactivate and set-password so that
every copy of the agent's cookie stops working (NULL counts as 0).

Revision ID: 0005_agent_session_epoch
Revises: 0004_attachments
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_agent_session_epoch"
down_revision = '0004_attachments'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('agent', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_epoch', sa.Integer(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('agent', schema=None) as batch_op:
        batch_op.drop_column('session_epoch')

