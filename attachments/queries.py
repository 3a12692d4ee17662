"""Reading a ticket's attachments: numbered 1, 2, ... in the order they came."""

from __future__ import annotations

from sqlmodel import Session, select

from attachments.models import Attachment
from attachments.store import blob_store


def of_ticket(session: Session, ticket_id: int) -> list[Attachment]:
    return list(session.exec(select(Attachment).where(Attachment.ticket_id == ticket_id)
                             .order_by(Attachment.id)).all())  # type: ignore[arg-type]


def of_reply(session: Session, reply_id: int) -> list[Attachment]:
    return list(session.exec(select(Attachment).where(Attachment.reply_id == reply_id)
                             .order_by(Attachment.id)).all())  # type: ignore[arg-type]


def nth_of_ticket(session: Session, ticket_id: int, n: int) -> tuple[Attachment, bytes] | None:
    """The ticket's `n`th attachment (from 1) and its bytes; None if there is none stored."""
    rows = of_ticket(session, ticket_id)
    if not 1 <= n <= len(rows) or rows[n - 1].status != "stored":
        return None
    row = rows[n - 1]
    data = blob_store().get(session, row.id)  # type: ignore[arg-type]
    return (row, data) if data is not None else None


def of_customer_mids(session: Session, customer_id: int, mids: list[str]) -> list[Attachment]:
    """The files of some of a customer's messages (the transcript's lines)."""
    if not mids:
        return []
    return list(session.exec(select(Attachment).where(
        Attachment.customer_id == customer_id,
        Attachment.message_mid.in_(mids))  # type: ignore[union-attr]
        .order_by(Attachment.id)).all())  # type: ignore[arg-type]
