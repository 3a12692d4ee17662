"""What happens to a ticket: opened, answered, added to, resolved. Each function
works inside the caller's session and returns the notification emails it
queued; the caller commits, then hands their ids to `tickets.jobs.enqueue_mails`
(a job must never look for a row that is not committed yet).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from email.utils import parseaddr

from sqlmodel import Session, select

from attachments.queries import of_customer_mids
from bot.flows.schema import TicketType
from bot.instagram import greeting_name
from bot.models import Customer, Message
from tickets.models import OutboundMail, Ticket, TicketReply, utcnow

TITLE_MAX = 120
DESCRIPTION_MAX = 2000
REPLY_MAX = 8000
TRANSCRIPT_LINES = 60


def clean_title(text: str) -> str:
    """One line, spaces collapsed (it becomes an email subject)."""
    return " ".join(text.split())


def clean_body(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.replace("\r\n", "\n").strip().split("\n"))


def customer_name(customer: Customer) -> str:
    return (greeting_name(customer.first_name, customer.username)
            or f"Customer …{customer.psid[-4:]}")


def open_ticket(session: Session, *, customer: Customer, ticket_type: TicketType, title: str,
                description: str, source: str, locale: str, sender: str,
                source_key: str | None = None, page_id: str | None = None
                ) -> tuple[Ticket, OutboundMail]:
    """`page_id`: the Facebook Page (an Instagram customer's is its account's Page)."""
    assert customer.id is not None
    channel = source if source in ("web", "email") else customer.channel
    ticket = Ticket(customer_id=customer.id, title=clean_title(title)[:TITLE_MAX], type_id=ticket_type.id,
                    description=clean_body(description)[:DESCRIPTION_MAX], created_by=customer_name(customer),
                    source=source, locale=locale, source_key=source_key,
                    page_id=page_id or customer.page_id, channel=channel,
                    transcript=transcript(session, customer.id))
    session.add(ticket)
    session.flush()
    return ticket, queue_mail(session, ticket, "new_ticket", ticket_type.mailbox, sender)


def find_by_source(session: Session, source_key: str) -> Ticket | None:
    return session.exec(select(Ticket).where(Ticket.source_key == source_key)).first()


def add_agent_reply(session: Session, ticket: Ticket, *, author: str, body: str, source: str,
                    email_message_id: str | None = None) -> TicketReply:
    """An agent answered: stored, and queued for delivery to the customer on Messenger."""
    assert ticket.id is not None
    reply = TicketReply(ticket_id=ticket.id, author_kind="agent", author=author[:200],
                        body=clean_body(body)[:REPLY_MAX], source=source,
                        email_message_id=email_message_id, messenger="queued")
    _set_status(ticket, "answered")
    session.add_all([reply, ticket])
    session.flush()
    return reply


def add_customer_message(session: Session, ticket: Ticket, *, body: str, source: str, mailbox: str,
                         sender: str, author: str) -> OutboundMail:
    """The customer wrote on the ticket: it (re)opens, and its mailbox is told."""
    assert ticket.id is not None
    reply = TicketReply(ticket_id=ticket.id, author_kind="customer", author=author[:200],
                        body=clean_body(body)[:REPLY_MAX], source=source)
    _set_status(ticket, "open")
    session.add_all([reply, ticket])
    session.flush()
    return queue_mail(session, ticket, "customer_message", mailbox, sender, reply_id=reply.id)


def resolve(session: Session, ticket: Ticket, *, mailbox: str, sender: str) -> OutboundMail | None:
    """Resolve and tell the mailbox; None when it already was resolved."""
    if ticket.status == "resolved":
        return None
    _set_status(ticket, "resolved")
    session.add(ticket)
    return queue_mail(session, ticket, "resolved", mailbox, sender)


def _set_status(ticket: Ticket, status: str) -> None:
    ticket.status, ticket.updated_at = status, utcnow()
    ticket.resolved_at = ticket.updated_at if status == "resolved" else None


def queue_mail(session: Session, ticket: Ticket, kind: str, to_addr: str, sender: str, *,
               reply_id: int | None = None) -> OutboundMail:
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    mail = OutboundMail(ticket_id=ticket.id, kind=kind, to_addr=to_addr, reply_id=reply_id,
                        message_id=f"<t{ticket.id}.{kind}.{secrets.token_hex(8)}@{domain}>")
    session.add(mail)
    session.flush()
    return mail


def thread_root(session: Session, ticket_id: int) -> str | None:
    """The first notification's Message-ID: later emails of the ticket thread under it."""
    first = session.exec(select(OutboundMail.message_id).where(OutboundMail.ticket_id == ticket_id)
                         .order_by(OutboundMail.id)).first()  # type: ignore[arg-type]
    return first


def transcript(session: Session, customer_id: int) -> str:
    """The customer's latest conversation lines, oldest first, as plain text."""
    rows = session.exec(select(Message).where(Message.customer_id == customer_id)
                        .order_by(Message.id.desc()).limit(TRANSCRIPT_LINES)).all()  # type: ignore[union-attr]
    files = _files_by_mid(session, customer_id, rows)
    lines = []
    for row in reversed(rows):
        said = files.get(row.mid or "") or row.text or row.payload or f"[{row.kind}]"
        lines.append(f"{row.created_at:%Y-%m-%d %H:%M} {row.author}: {said}")
    return "\n".join(lines)


def _files_by_mid(session: Session, customer_id: int, rows: Sequence[Message]) -> dict[str, str]:
    """How a message that carried files reads in the transcript: "[image: photo.png]"."""
    mids = [row.mid for row in rows if row.kind == "attachment" and row.mid]
    said: dict[str, list[str]] = {}
    for file in of_customer_mids(session, customer_id, mids):
        said.setdefault(file.message_mid or "", []).append(f"{file.kind}: {file.name}")
    return {mid: "[" + ", ".join(names) + "]" for mid, names in said.items()}
