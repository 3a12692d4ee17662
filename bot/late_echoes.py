"""Echoes of our sends that come after the wait for them was over (`bot.echoes`).

A send a crash cut off is made again once no echo came within `echo_wait_ms`.
If the first attempt's echo shows up after all, the customer got the message
twice: the echo is not ignored. It is logged at WARNING, its outbox row says
so (`error`: "delivered twice: ..."), and the transcript gets the second copy
the customer saw, under the echo's `mid`. An echo whose send was still owed
(its resend had not gone out yet) settles it instead: the row is marked sent.

Only echoes older than the wait are looked up, so the usual echo, handled a
moment after its send, costs no query.
"""

from __future__ import annotations

import logging

from sqlmodel import select

from bot import echoes
from bot.decisions import Call
from bot.ledger import transcript_line
from bot.models import Customer, Message, Outbox, utcnow
from core.db import session_scope
from core.mailbox import Queued
from core.runtime import Runtime

log = logging.getLogger(__name__)


def note_late_echoes(rt: Runtime, customer: Customer, items: list[Queued]) -> None:
    """Record what the late echoes among `items` say (idempotent: a re-run adds nothing)."""
    inbox = rt.account(customer.page_id).handover_target
    late = [(item, found) for item in items if item.kind == "echo"
            and (found := echoes.own_echo(rt.settings.messenger_app_id, item.event, inbox))
            and echoes.is_late(rt, item)]
    if not late:
        return
    with session_scope(rt.engine) as session:
        for item, (metadata, mid) in late:
            named = echoes.call_key_of(metadata)
            row = None if named is None else session.exec(select(Outbox).where(
                Outbox.customer_id == customer.id, Outbox.event_key == named[0],
                Outbox.seq == named[1])).first()
            if row is None or row.kind != "send" or row.result == mid or mid in (row.error or ""):
                continue
            call = Call(row.event_key, row.seq, row.kind, row.body)
            if row.status == "sent":
                log.warning("customer %s: %s was delivered twice: the echo %s of an attempt a "
                            "crash cut off came after the %d ms wait; it was sent again as %s",
                            customer.id, call.key, mid, rt.settings.echo_wait_ms, row.result)
                row.error = f"delivered twice: the echo {mid} of an earlier attempt came late"
            else:
                log.warning("customer %s: %s (%s) reached Facebook after all: its echo %s came "
                            "late; recorded as sent", customer.id, call.key, row.status, mid)
                row.status, row.result, row.done_at = "sent", mid, utcnow()
            row.error = row.error[:500] if row.error else None
            session.add(row)
            line = transcript_line(customer, call, mid, echoes.sent_at(item))
            if line is not None:
                session.add(Message(**line))
