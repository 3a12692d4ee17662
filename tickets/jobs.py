"""The RQ job that sends one notification email, and its enqueueing.

The mail row is claimed before sending (so two runs never send it twice at
once) and marked sent right after the relay accepts it, so a retry after a
crash or an SMTP outage skips what already went out. Failures raise: RQ
retries with backoff, then keeps the job in its failed registry.

A worker that dies between claim and "sent" leaves the row in `sending`, and
RQ moves its job to the failed registry without a retry. So each send first
schedules a watchdog (`reclaim_mail`, RQ's scheduler, due after the claim's
lease): if the row is still `sending` by then, it is sent again;
`flask tickets send-pending` queues such rows too. This is at-least-once: if the
relay accepted the mail and the worker died before recording it, the mail goes
out twice, with the same Message-ID (mail clients and archives that de-duplicate
by Message-ID show it once; others show it twice).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta
from email.message import EmailMessage

from sqlalchemy import or_, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from attachments.mail import files_for_mail, still_fetching
from core import metrics, runtime
from core.db import session_scope
from core.jobs import MAIL_QUEUE
from core.mailbox import now_ms
from core.runtime import Runtime
from tickets import mailer
from tickets.compose import compose, ticket_url
from tickets.models import OutboundMail, Ticket, TicketReply, as_utc, utcnow
from tickets.reply_address import reply_address
from tickets.service import thread_root
from tickets.types import type_title

log = logging.getLogger(__name__)

MAIL_RETRIES = 15  # backoff 5 s, 10 s, 20 s ... capped at 10 min: about 1 h 30 min in all
STALE_CLAIM = timedelta(minutes=5)  # a claim's lease: RQ's job_timeout (300 s) ends a send by then
WATCHDOG_DELAY = STALE_CLAIM + timedelta(seconds=30)
FILES_WAIT_MS = 3000  # a new ticket's mail looks again this often while its files are fetched


def enqueue_mails(rt: Runtime, mail_ids: Iterable[int | None]) -> None:
    """Call after the rows are committed."""
    for mail_id in mail_ids:
        if mail_id is not None:
            rt.dispatcher.enqueue(send_mail, mail_id, queue=MAIL_QUEUE, retries=MAIL_RETRIES)


def pending_mail_ids(session: Session, ticket_id: int) -> list[int]:
    """Mails of a ticket not handed to a job yet, or whose enqueue may have been lost."""
    return list(session.exec(select(OutboundMail.id).where(
        OutboundMail.ticket_id == ticket_id, OutboundMail.status == "pending")).all())


def stuck_mail_ids(session: Session) -> list[int]:
    """Mails claimed by a sender that died: `sending` for longer than the lease."""
    return list(session.exec(select(OutboundMail.id).where(
        OutboundMail.status == "sending",
        OutboundMail.claimed_at < utcnow() - STALE_CLAIM)).all())  # type: ignore[operator]


def reclaim_mail(mail_id: int) -> str:
    """The watchdog of one send: sends `mail_id` if it is still `sending` past its lease."""
    rt = runtime.current()
    with Session(rt.engine) as session:
        mail = session.get(OutboundMail, mail_id)
        stuck = (mail is not None and mail.status == "sending" and mail.claimed_at is not None
                 and as_utc(mail.claimed_at) < utcnow() - STALE_CLAIM)
    if not stuck:
        return "skipped"
    log.warning("mail %s: still sending after %s (its sender died?); sending again", mail_id, STALE_CLAIM)
    return send_mail(mail_id)


def send_mail(mail_id: int) -> str:
    """Send notification `mail_id` once; returns its new status (or "skipped")."""
    rt = runtime.current()
    if _waits_for_files(rt, mail_id):  # a new ticket's photo is being fetched: soon, not never
        rt.dispatcher.enqueue(send_mail, mail_id, queue=MAIL_QUEUE, retries=MAIL_RETRIES,
                              at_ms=now_ms() + FILES_WAIT_MS)
        return "deferred"
    # Before the claim: a claimed row always has its watchdog (an idle one costs a no-op job).
    rt.dispatcher.enqueue(reclaim_mail, mail_id, queue=MAIL_QUEUE,
                          at_ms=now_ms() + int(WATCHDOG_DELAY.total_seconds() * 1000))
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


def _waits_for_files(rt: Runtime, mail_id: int) -> bool:
    with Session(rt.engine) as session:
        mail = session.get(OutboundMail, mail_id)
        return (mail is not None and mail.kind == "new_ticket" and mail.status == "pending"
                and still_fetching(session, mail.ticket_id))


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
        flows = rt.flows_or_default(ticket.page_id).current
        title = type_title(flows, ticket.type_id, flows.locale_for(ticket.locale))
        sender = rt.settings.support_email_from
        url = ticket_url(rt.settings.public_url, ticket.id)
        files = files_for_mail(session, ticket.id, url) if mail.kind == "new_ticket" else []
        return compose(mail, ticket, reply=reply, type_title=title, sender=sender,
                       reply_to=reply_address(sender, ticket.id, secret_key=rt.settings.secret_key),
                       thread_root=root, public_url=rt.settings.public_url, files=files,
                       zone=flows.handoff.zone)


def _record_failure(engine: Engine, mail_id: int, exc: BaseException) -> None:
    with session_scope(engine) as session:
        mail = session.get(OutboundMail, mail_id)
        assert mail is not None
        mail.status = "failed" if mail.attempts > MAIL_RETRIES else "retrying"
        mail.last_error = f"{type(exc).__name__}: {exc}"[:500]
        session.add(mail)
    log.warning("mail %s (ticket %s): attempt %d failed: %s", mail_id, mail.ticket_id, mail.attempts,
                mail.last_error)
