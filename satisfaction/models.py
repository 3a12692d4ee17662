"""A rating of a live agent's chat. (A ticket's rating lives on the ticket: `Ticket.rating`.)"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import BigInteger, Column, UniqueConstraint
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


class ChatRating(SQLModel, table=True):
    """One per handover to the Page Inbox that came back to the bot: whether the customer
    was asked (`status`), and what they answered."""

    __tablename__ = "chat_rating"
    __table_args__ = (UniqueConstraint("customer_id", "handover_ms"),)

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    handover: int  # the customer's handover count (`Customer.state["handoff"]["handover"]`)
    # When the thread went to the inbox (ms since the epoch): names the handover
    handover_ms: int = Field(sa_column=Column(BigInteger, nullable=False))
    returned_at: datetime = Field(default_factory=utcnow)
    status: str = Field(max_length=16)  # asked | outside_window | busy
    rating: int | None = None  # 1 (worst) to 5 (best)
    comment: str | None = Field(default=None, max_length=1000)
    rated_at: datetime | None = None
