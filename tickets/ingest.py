"""An agent's emailed reply, from raw bytes to the ticket and on to Messenger.

Shared by `POST /email/inbound` and `flask tickets ingest-email`. The reply is
matched by In-Reply-To/References against the notifications we sent, else by
`[#N]` in the subject. Mail that matches nothing, or comes from outside the
support team's domains, is kept in `ticket_inbound_email` and logged: never
passed to a customer, never lost. A redelivered mail (same Message-ID) is
stored once; its Messenger delivery is queued again only if it never was.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from email.utils import parseaddr

from sqlmodel import Session, select

from bot.models import Customer
from core.db import session_scope
from core.runtime import Runtime
from tickets.errors import UnparsableEmail
from tickets.inbound import InboundMail, parse_email
from tickets.models import Agent, InboundEmail, OutboundMail, Ticket, TicketReply
from tickets.notify import push_reply
from tickets.service import add_agent_reply
from tickets.types import ticket_types

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    status: str  # stored | duplicate | ignored | unmatched | sender_not_allowed
    ticket_id: int | None = None
    reply_id: int | None = None


def ingest_email(rt: Runtime, raw: bytes) -> Outcome:
    """Raises UnparsableEmail; RedisError / OperationalError mean "try again later"."""
    mail = parse_email(raw)
    if mail.automatic:
        log.info("inbound email %s from %s is an automatic reply; ignored", mail.message_id, mail.sender)
        return Outcome("ignored")
    if not mail.text:
        raise UnparsableEmail("no reply text above the quoted message")
    with session_scope(rt.engine) as session:
        outcome, reply = _store(rt, session, mail, raw)
        customer = _customer_of(session, reply)
    if reply is not None and customer is not None and reply.messenger == "queued":
        assert reply.id is not None
        push_reply(rt, page_id=customer.page_id, psid=customer.psid, reply_id=reply.id)
    return outcome


def _store(rt: Runtime, session: Session, mail: InboundMail,
           raw: bytes) -> tuple[Outcome, TicketReply | None]:
    existing = _already_stored(session, mail)
    if existing is not None:
        log.info("inbound email %s was already stored as reply %s", mail.message_id, existing.id)
        return Outcome("duplicate", existing.ticket_id, existing.id), existing
    ticket = match_ticket(session, mail)
    if ticket is None or not sender_allowed(rt, session, mail.sender):
        reason = "unmatched" if ticket is None else "sender_not_allowed"
        _keep(session, mail, raw, reason)
        return Outcome(reason), None
    reply = add_agent_reply(session, ticket, author=mail.sender_name or mail.sender, body=mail.text,
                            source="email", email_message_id=mail.message_id)
    log.info("inbound email %s stored as reply %s on ticket %s", mail.message_id, reply.id, ticket.id)
    return Outcome("stored", ticket.id, reply.id), reply


def _already_stored(session: Session, mail: InboundMail) -> TicketReply | None:
    if not mail.message_id:
        return None
    return session.exec(select(TicketReply).where(TicketReply.email_message_id == mail.message_id)).first()


def match_ticket(session: Session, mail: InboundMail) -> Ticket | None:
    if mail.thread_ids:
        ticket_id = session.exec(select(OutboundMail.ticket_id).where(
            OutboundMail.message_id.in_(mail.thread_ids))).first()  # type: ignore[attr-defined]
        if ticket_id is not None:
            return session.get(Ticket, ticket_id)
    tag = mail.ticket_tag
    return session.get(Ticket, tag) if tag is not None else None


def sender_allowed(rt: Runtime, session: Session, sender: str) -> bool:
    """The support team: a ticket mailbox's domain, the support address's, or an agent."""
    domains = {mailbox.rpartition("@")[2].lower()
               for mailbox in (t.mailbox for t in ticket_types(rt.flows.current).values())}
    domains.add(parseaddr(rt.settings.support_email_from)[1].rpartition("@")[2].lower())
    if sender.rpartition("@")[2] in domains:
        return True
    return session.exec(select(Agent.id).where(Agent.email == sender, Agent.active)).first() is not None


def _keep(session: Session, mail: InboundMail, raw: bytes, reason: str) -> None:
    session.add(InboundEmail(message_id=mail.message_id, sender=mail.sender[:320],
                             subject=mail.subject[:998], reason=reason, raw=raw))
    log.warning("inbound email %s from %s (subject %r) kept unassigned: %s", mail.message_id,
                mail.sender, mail.subject[:200], reason)


def _customer_of(session: Session, reply: TicketReply | None) -> Customer | None:
    if reply is None:
        return None
    ticket = session.get(Ticket, reply.ticket_id)
    return session.get(Customer, ticket.customer_id) if ticket else None
