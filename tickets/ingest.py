"""An agent's emailed reply, from raw bytes to the ticket and on to Messenger.

Shared by `POST /email/inbound` and `flask tickets ingest-email`. Only two
things prove that a mail answers a ticket (SPEC "Email replies"): its
In-Reply-To/References name a notification we sent (our Message-IDs carry 64
random bits), or it was sent to the ticket's signed reply address
(tickets.reply_address), whoever sent it. `[#N]` in the subject and the From
address prove nothing. Everything else, and every automatic reply, is kept in
`ticket_inbound_email` and logged: never passed to a customer, never lost. A
redelivered mail (same Message-ID, or the same bytes when it has none) is
stored once; its Messenger delivery is queued again only if it never was.
Files attached to a reply are kept with it (`tickets.inbound_files`) and follow
its text to Messenger.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, or_, select

from attachments.outbound import keep_reply_files
from bot.models import Customer
from core.db import session_scope
from core.runtime import Runtime
from tickets.errors import UnparsableEmail
from tickets.inbound import InboundMail, parse_email
from tickets.inbound_files import files_of
from tickets.models import InboundEmail, OutboundMail, Ticket, TicketReply
from tickets.notify import push_reply
from tickets.reply_address import tagged, verified
from tickets.service import add_agent_reply

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    status: str  # stored | duplicate | ignored (automatic, kept) | unmatched (kept)
    ticket_id: int | None = None
    reply_id: int | None = None


@dataclass(frozen=True)
class _Received:
    mail: InboundMail
    raw: bytes
    sha256: str

    @property
    def key(self) -> str:
        """What makes a redelivery the same mail: its Message-ID, else its bytes."""
        return self.mail.message_id or f"sha256:{self.sha256}"


def ingest_email(rt: Runtime, raw: bytes) -> Outcome:
    """Raises UnparsableEmail; RedisError / OperationalError mean "try again later"."""
    received = _Received(parse_email(raw), raw, hashlib.sha256(raw).hexdigest())
    try:
        with session_scope(rt.engine) as session:
            outcome, reply = _store(rt, session, received)
            customer = _customer_of(session, reply)
    except IntegrityError:  # the same mail delivered twice at once: the other copy was stored
        with session_scope(rt.engine) as session:
            found = _already_stored(session, received)
            if found is None:
                raise
            outcome, reply = found
            customer = _customer_of(session, reply)
    if reply is not None and customer is not None and reply.messenger == "queued":
        assert reply.id is not None
        push_reply(rt, page_id=customer.page_id, psid=customer.psid, reply_id=reply.id)
    return outcome


def _store(rt: Runtime, session: Session, received: _Received) -> tuple[Outcome, TicketReply | None]:
    found = _already_stored(session, received)
    if found is not None:
        log.info("inbound email %s was already stored (%s)", received.key, found[0])
        return found
    mail = received.mail
    if mail.automatic:
        _keep(session, received, "automatic")
        return Outcome("ignored"), None
    ticket, reason = match_ticket(rt, session, mail)
    if ticket is None:
        _keep(session, received, reason)
        return Outcome("unmatched"), None
    files = files_of(received.raw)
    if not mail.text and not files:
        raise UnparsableEmail("no reply text above the quoted message")
    body = mail.text or ", ".join(file.name for file in files)  # a file alone is a reply too
    reply = add_agent_reply(session, ticket, author=mail.sender_name or mail.sender, body=body,
                            source="email", email_message_id=received.key)
    keep_reply_files(session, reply_id=reply.id, ticket_id=ticket.id, customer_id=ticket.customer_id,  # type: ignore[arg-type]
                     files=[(file.name, file.data) for file in files])
    log.info("inbound email %s stored as reply %s on ticket %s", received.key, reply.id, ticket.id)
    return Outcome("stored", ticket.id, reply.id), reply


def _already_stored(session: Session, received: _Received) -> tuple[Outcome, TicketReply | None] | None:
    reply = session.exec(select(TicketReply).where(TicketReply.email_message_id == received.key)).first()
    if reply is not None:
        return Outcome("duplicate", reply.ticket_id, reply.id), reply
    same = InboundEmail.raw_sha256 == received.sha256
    if received.mail.message_id:
        same = or_(same, InboundEmail.message_id == received.mail.message_id)  # type: ignore[assignment]
    kept = session.exec(select(InboundEmail.id).where(same)).first()
    return (Outcome("duplicate"), None) if kept is not None else None


def match_ticket(rt: Runtime, session: Session, mail: InboundMail) -> tuple[Ticket | None, str]:
    """The ticket this mail provably answers, else None and why ("unmatched", "bad_reply_address")."""
    if mail.thread_ids:
        ticket_id = session.exec(select(OutboundMail.ticket_id).where(
            OutboundMail.message_id.in_(mail.thread_ids))).first()  # type: ignore[attr-defined]
        if ticket_id is not None:
            return session.get(Ticket, ticket_id), ""
    tags = tagged(list(mail.recipients))
    for ticket_id, token in tags:
        if verified(ticket_id, token, secret_key=rt.settings.secret_key):
            ticket = session.get(Ticket, ticket_id)
            if ticket is not None:
                return ticket, ""
    return None, "bad_reply_address" if tags else "unmatched"


def _keep(session: Session, received: _Received, reason: str) -> None:
    mail = received.mail
    session.add(InboundEmail(message_id=mail.message_id, sender=mail.sender[:320], subject=mail.subject[:998],
                             reason=reason, raw=received.raw, raw_sha256=received.sha256))
    log.warning("inbound email %s from %s (subject %r) kept unassigned: %s", mail.message_id,
                mail.sender, mail.subject[:200], reason)


def _customer_of(session: Session, reply: TicketReply | None) -> Customer | None:
    if reply is None:
        return None
    ticket = session.get(Ticket, reply.ticket_id)
    return session.get(Customer, ticket.customer_id) if ticket else None
