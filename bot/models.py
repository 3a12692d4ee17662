"""Customers, their transcript, and the outbox of calls the bot owes them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


class Customer(SQLModel, table=True):
    """A person on Messenger; PSIDs are page-scoped, so the key is (page, psid)."""

    __table_args__ = (UniqueConstraint("page_id", "psid"),)

    id: int | None = Field(default=None, primary_key=True)
    page_id: str = Field(max_length=64)
    psid: str = Field(max_length=64)
    # messenger | instagram: page_id is then the webhook's account id (the Page's, or the
    # Instagram account's: IGSIDs are scoped to it)
    channel: str = Field(default="messenger", max_length=16)
    first_name: str | None = Field(default=None, max_length=200)
    messenger_locale: str | None = Field(default=None, max_length=16)
    username: str | None = Field(default=None, max_length=100)  # Instagram's, for the greeting
    profile_checked: bool = False
    last_inbound_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    # Conversation state; each feature keeps its own top-level key.
    state: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class Message(SQLModel, table=True):
    """One line of the transcript, inbound or outbound."""

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    direction: str = Field(max_length=3)  # "in" | "out"
    author: str = Field(max_length=16)  # customer | bot | agent | page
    kind: str = Field(max_length=32)
    text: str | None = None
    payload: str | None = Field(default=None, max_length=1000)
    mid: str | None = Field(default=None, max_length=255, index=True)
    created_at: datetime = Field(default_factory=utcnow, index=True)


class HandledEvent(SQLModel, table=True):
    """Marks a webhook event as decided, so a re-run only finishes its outbox."""

    __tablename__ = "handled_event"

    key: str = Field(primary_key=True, max_length=300)  # "<page>:<dedupe key>"
    customer_id: int = Field(foreign_key="customer.id", index=True)
    kind: str = Field(max_length=40)
    handled_at: datetime = Field(default_factory=utcnow)


class Outbox(SQLModel, table=True):
    """A Graph API call decided while handling an event, made after commit.

    The row is the idempotency record: a redelivered or re-run event finds its
    calls here and only makes the ones still pending.
    """

    __table_args__ = (UniqueConstraint("event_key", "seq"),)

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    event_key: str = Field(max_length=300, index=True)
    seq: int
    kind: str = Field(max_length=40)  # "send" or a handover call
    body: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(default="pending", max_length=16, index=True)  # pending|sent|failed
    error: str | None = Field(default=None, max_length=500)
    result: str | None = Field(default=None, max_length=255)
    created_at: datetime = Field(default_factory=utcnow)
    done_at: datetime | None = None
