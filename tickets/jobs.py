"""The RQ job that sends one notification email, and its enqueueing.

The mail row is claimed before sending (so two runs never send it twice at
once) and marked sent right after the relay accepts it, so a retry after a
crash or an SMTP outage skips what already went out. Failures raise: RQ
retries with backoff, then keeps the job in its failed registry.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta
from email.message import EmailMessage

from sqlalchemy import or_, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from core import metrics, runtime
from core.db import session_scope
from core.jobs import MAIL_QUEUE
from core.runtime import Runtime
from tickets import mailer
from tickets.compose import compose
from tickets.models import OutboundMail, Ticket, TicketReply, utcnow
from tickets.service import thread_root
from tickets.types import type_title

log = logging.getLogger(__name__)

MAIL_RETRIES = 15  # backoff 5 s, 10 s, 20 s ... capped at 10 min: about 1 h 30 min in all
STALE_CLAIM = timedelta(minutes=5)  # a sender that died mid-send; job_timeout is shorter


def enqueue_mails(rt: Runtime, mail_ids: Iterable[int | None]) -> None:
    """Call after the rows are committed."""
    for mail_id in mail_ids:
        if mail_id is not None:
            rt.dispatcher.enqueue(send_mail, mail_id, queue=MAIL_QUEUE, retries=MAIL_RETRIES)


def pending_mail_ids(session: Session, ticket_id: int) -> list[int]:
    """Mails of a ticket not handed to a job yet, or whose enqueue may have been lost."""
    return list(session.exec(select(OutboundMail.id).where(
        OutboundMail.ticket_id == ticket_id, OutboundMail.status == "pending")).all())


def send_mail(mail_id: int) -> str:
    """Send notification `mail_id` once; returns its new status (or "skipped")."""
    rt = runtime.current()
    if not _claim(rt.engine, mail_id):
        log.info("mail %s: already sent or being sent; skipped", mail_id)
        return "skipped"
    try:
        message = _message(rt, mail_id)
        status = mailer.send(mailer.smtp_config(rt.settings.smtp_url), message)
    except Exception as exc:  # recorded on the row, then re-raised for RQ's retry
        _record_failure(rt.engine, mail_id, exc)
        metrics.emails_sent.inc(result="failed")
        raise
    with session_scope(rt.engine) as session:
        mail = session.get(OutboundMail, mail_id)
        assert mail is not None
        mail.status, mail.sent_at, mail.last_error = status, utcnow(), None
        session.add(mail)
    log.info("mail %s (%s, ticket %s): %s", mail_id, mail.kind, mail.ticket_id, status)
    metrics.emails_sent.inc(result=status)
    return status


def _claim(engine: Engine, mail_id: int) -> bool:
    now = utcnow()
    claimable = or_(OutboundMail.status.in_(("pending", "retrying", "failed")),  # type: ignore[attr-defined]
                    (OutboundMail.status == "sending") & (OutboundMail.claimed_at < now - STALE_CLAIM))
    statement = (update(OutboundMail).where(OutboundMail.id == mail_id, claimable)  # type: ignore[arg-type]
                 .values(status="sending", claimed_at=now, attempts=OutboundMail.attempts + 1))
    with session_scope(engine) as session:
        return session.exec(statement).rowcount == 1  # type: ignore[call-overload]


def _message(rt: Runtime, mail_id: int) -> EmailMessage:
    with Session(rt.engine) as session:
        mail = session.get(OutboundMail, mail_id)
        assert mail is not None
        ticket = session.get(Ticket, mail.ticket_id)
        assert ticket is not None and ticket.id is not None
        reply = session.get(TicketReply, mail.reply_id) if mail.reply_id else None
        root = thread_root(session, ticket.id)
        flows = rt.flows.current
        title = type_title(flows, ticket.type_id, flows.default_locale)
        return compose(mail, ticket, reply=reply, type_title=title,
                       sender=rt.settings.support_email_from, thread_root=root,
                       public_url=rt.settings.public_url)


def _record_failure(engine: Engine, mail_id: int, exc: BaseException) -> None:
    with session_scope(engine) as session:
        mail = session.get(OutboundMail, mail_id)
        assert mail is not None
        mail.status = "failed" if mail.attempts > MAIL_RETRIES else "retrying"
        mail.last_error = f"{type(exc).__name__}: {exc}"[:500]
        session.add(mail)
    log.warning("mail %s (ticket %s): attempt %d failed: %s", mail_id, mail.ticket_id, mail.attempts,
                mail.last_error)
