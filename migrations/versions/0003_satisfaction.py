"""Satisfaction ratings: on the ticket (four nullable columns) and per handover (chat_rating).

Revision ID: 0003_satisfaction
Revises: 0002_inbound_raw_sha256
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_satisfaction"
down_revision = '0002_inbound_raw_sha256'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('chat_rating',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('handover', sa.Integer(), nullable=False),
    sa.Column('handover_ms', sa.BigInteger(), nullable=False),
    sa.Column('returned_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('rating', sa.Integer(), nullable=True),
    sa.Column('comment', sa.String(length=1000), nullable=True),
    sa.Column('rated_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('customer_id', 'handover_ms')
    )
    with op.batch_alter_table('chat_rating', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_chat_rating_customer_id'), ['customer_id'], unique=False)

    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rating_status', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('rating', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('rating_comment', sa.String(length=1000), nullable=True))
        batch_op.add_column(sa.Column('rated_at', sa.DateTime(timezone=True), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.drop_column('rated_at')
        batch_op.drop_column('rating_comment')
        batch_op.drop_column('rating')
        batch_op.drop_column('rating_status')

    with op.batch_alter_table('chat_rating', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_chat_rating_customer_id'))

    op.drop_table('chat_rating')
