"""Attachments: what customers send and agents attach (attachment), and their bytes
(attachment_blob, one row per file, deleted with it).

Revision ID: 0004_attachments
Revises: 0003_satisfaction
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_attachments"
down_revision = '0003_satisfaction'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('attachment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=320), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.Column('reply_id', sa.Integer(), nullable=True),
    sa.Column('direction', sa.String(length=3), nullable=False),
    sa.Column('message_mid', sa.String(length=255), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('source_url', sa.Text(), nullable=True),
    sa.Column('content_type', sa.String(length=127), nullable=True),
    sa.Column('size', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('error', sa.String(length=500), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('messenger', sa.String(length=16), nullable=True),
    sa.Column('messenger_attachment_id', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('stored_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ),
    sa.ForeignKeyConstraint(['reply_id'], ['ticket_reply.id'], ),
    sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key')
    )
    with op.batch_alter_table('attachment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attachment_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_attachment_message_mid'), ['message_mid'], unique=False)
        batch_op.create_index(batch_op.f('ix_attachment_reply_id'), ['reply_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_attachment_ticket_id'), ['ticket_id'], unique=False)

    op.create_table('attachment_blob',
    sa.Column('attachment_id', sa.Integer(), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['attachment_id'], ['attachment.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('attachment_id')
    )


def downgrade() -> None:
    op.drop_table('attachment_blob')
    with op.batch_alter_table('attachment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attachment_ticket_id'))
        batch_op.drop_index(batch_op.f('ix_attachment_reply_id'))
        batch_op.drop_index(batch_op.f('ix_attachment_message_mid'))
        batch_op.drop_index(batch_op.f('ix_attachment_customer_id'))

    op.drop_table('attachment')
