"""Several Pages and Instagram: the customer's channel, the ticket's Page and channel.

Existing customers are Messenger customers; existing tickets take their customer's Page
and the channel they were opened from (a web form's is `web`).

Revision ID: 0006_pages_channels
Revises: 0005_agent_session_epoch
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_pages_channels"
down_revision = "0005_agent_session_epoch"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("customer", schema=None) as batch_op:
        batch_op.add_column(sa.Column("channel", sa.String(length=16), nullable=False,
                                      server_default="messenger"))
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.add_column(sa.Column("page_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("channel", sa.String(length=16), nullable=False,
                                      server_default="messenger"))
    op.execute("UPDATE ticket SET page_id = (SELECT customer.page_id FROM customer "
               "WHERE customer.id = ticket.customer_id)")
    op.execute("UPDATE ticket SET channel = source WHERE source IN ('web', 'email')")


def downgrade() -> None:
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.drop_column("channel")
        batch_op.drop_column("page_id")
    with op.batch_alter_table("customer", schema=None) as batch_op:
        batch_op.drop_column("channel")
