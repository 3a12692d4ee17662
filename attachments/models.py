"""An attachment's record and, apart from it, its bytes (lists never load those)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Column, ForeignKey, Integer, LargeBinary, Text
from sqlmodel import Field, SQLModel

# What became of a file: fetched and kept, or why not (the row stays, so screens say so).
STATUSES = ("pending", "stored", "too_large", "unreachable")
MAX_BYTES = 25 * 1024 * 1024  # Messenger's own limit, both ways


def utcnow() -> datetime:
    return datetime.now(UTC)


class Attachment(SQLModel, table=True):
    """A file a customer sent (direction "in") or an agent's reply carried ("out")."""

    id: int | None = Field(default=None, primary_key=True)
    # Where it came from, unique: "<event key>#<n>" for Messenger, "reply:<id>#<n>" for mail.
    key: str = Field(max_length=320, unique=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id", index=True)
    reply_id: int | None = Field(default=None, foreign_key="ticket_reply.id", index=True)
    direction: str = Field(default="in", max_length=3)  # in | out
    message_mid: str | None = Field(default=None, max_length=255, index=True)
    kind: str = Field(max_length=16)  # image | video | audio | file (Messenger's types)
    name: str = Field(max_length=255)
    source_url: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    content_type: str | None = Field(default=None, max_length=127)  # from the bytes, not the name
    size: int | None = None
    status: str = Field(default="pending", max_length=16)
    error: str | None = Field(default=None, max_length=500)
    attempts: int = 0
    # Outbound only: sent | refused (Messenger would not take it: a link on the ticket screen)
    messenger: str | None = Field(default=None, max_length=16)
    messenger_attachment_id: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    stored_at: datetime | None = None


class AttachmentBlob(SQLModel, table=True):
    """The bytes of a stored attachment (`attachments.store`)."""

    __tablename__ = "attachment_blob"

    attachment_id: int = Field(sa_column=Column(
        Integer, ForeignKey("attachment.id", ondelete="CASCADE"), primary_key=True))
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
