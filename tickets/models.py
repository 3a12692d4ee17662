"""Tickets, their replies, the emails they send and receive, and the agents who
sign in to the ticket screen.

The list pages read tickets newest first by id (keyset pagination), so each
filter the screen and the API offer has an index ending in `id`.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import JSON, Column, Index, LargeBinary, Text
from sqlmodel import Field, SQLModel

STATUSES = ("open", "answered", "resolved")


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """Databases hand back naive datetimes; ours are all UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class Ticket(SQLModel, table=True):
    __table_args__ = (
        Index("ix_ticket_customer_id_id", "customer_id", "id"),
        Index("ix_ticket_status_id", "status", "id"),
        Index("ix_ticket_type_id_id", "type_id", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)  # the ticket number customers see
    customer_id: int = Field(foreign_key="customer.id")
    title: str = Field(max_length=120)
    type_id: str = Field(max_length=64)
    description: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(default="open", max_length=16)
    created_by: str = Field(max_length=200)  # the customer's name as shown in lists
    source: str = Field(max_length=16)  # messenger | web
    page_id: str | None = Field(default=None, max_length=64)  # the Facebook Page it belongs to
    channel: str = Field(default="messenger", max_length=16)  # messenger | instagram | email | web
    locale: str = Field(default="en", max_length=16)
    transcript: str = Field(default="", sa_column=Column(Text, nullable=False))
    # The event (or form) that opened it: a re-run of the same event finds it.
    source_key: str | None = Field(default=None, max_length=300, unique=True)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    resolved_at: datetime | None = None
    # Satisfaction (`satisfaction`): asked | outside_window | busy; None: never asked
    rating_status: str | None = Field(default=None, max_length=16)
    rating: int | None = None  # 1 (worst) to 5 (best)
    rating_comment: str | None = Field(default=None, max_length=1000)
    rated_at: datetime | None = None


class TicketReply(SQLModel, table=True):
    """A message on a ticket after it was opened: an agent's answer or the customer's."""

    __tablename__ = "ticket_reply"

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    author_kind: str = Field(max_length=16)  # agent | customer
    author: str = Field(max_length=200)
    body: str = Field(sa_column=Column(Text, nullable=False))
    source: str = Field(max_length=16)  # email | web | messenger
    email_message_id: str | None = Field(default=None, max_length=998, unique=True)
    # Agent replies only: queued -> sent | sent_tagged | waiting -> delivered
    messenger: str | None = Field(default=None, max_length=16)
    delivered_in: str | None = Field(default=None, max_length=300)  # key of the Messenger turn
    created_at: datetime = Field(default_factory=utcnow)


class OutboundMail(SQLModel, table=True):
    """One notification email; the row is its delivery state and idempotency record."""

    __tablename__ = "ticket_mail"

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    kind: str = Field(max_length=32)  # new_ticket | customer_message | resolved
    reply_id: int | None = Field(default=None, foreign_key="ticket_reply.id")
    to_addr: str = Field(max_length=320)
    message_id: str = Field(max_length=998, unique=True)
    # pending | sending | retrying | sent | logged (no SMTP_URL) | failed (retries spent)
    status: str = Field(default="pending", max_length=16)
    attempts: int = 0
    last_error: str | None = Field(default=None, max_length=500)
    claimed_at: datetime | None = None
    sent_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


class InboundEmail(SQLModel, table=True):
    """Mail that reached /email/inbound but may not go on a ticket: kept, never lost,
    never relayed; listed by `flask tickets unmatched` and on /tickets/unmatched."""

    __tablename__ = "ticket_inbound_email"

    id: int | None = Field(default=None, primary_key=True)
    message_id: str | None = Field(default=None, max_length=998, index=True)
    sender: str = Field(default="", max_length=320)
    subject: str = Field(default="", max_length=998)
    reason: str = Field(max_length=32)  # unmatched | automatic | bad_reply_address
    raw: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    # hex SHA-256 of `raw`: a redelivery of the same bytes is stored once
    raw_sha256: str | None = Field(default=None, max_length=64, unique=True)
    received_at: datetime = Field(default_factory=utcnow)


class Agent(SQLModel, table=True):
    """Support staff who sign in with a password (`flask users create-agent`)."""

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=320, unique=True)
    name: str = Field(max_length=200)
    password_hash: str = Field(max_length=255)
    role: str = Field(default="agent", max_length=16)  # agent | admin
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow)
    # Signed into every session cookie; bumped by logout, deactivation and a new password,
    # so copies of older cookies stop working everywhere. NULL counts as 0.
    session_epoch: int | None = None
    # The Page ids whose tickets and chats this agent sees (`users set-pages`); NULL: every
    # Page's. An admin always sees every Page's.
    pages: list[str] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
