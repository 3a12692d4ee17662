"""Making the Graph API calls a turn decided, once each.

Each outbox row is marked sent (with Meta's message id) right after its call
succeeds, so a re-run after a crash or a retry skips what already went out.
Permanent refusals are recorded on the row and never retried; transient
failures raise so the customer's mailbox retries later, in order.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sqlmodel import Session, select

from bot.models import Customer, Message, Outbox, utcnow
from core.db import session_scope
from core.runtime import Runtime
from messenger.errors import GraphError, ThreadOwnedByOtherApp

log = logging.getLogger(__name__)

HANDOVER_CALLS = ("pass_thread_control", "take_thread_control", "request_thread_control",
                  "release_thread_control")


def deliver_pending(rt: Runtime, customer: Customer, event_key: str) -> None:
    with Session(rt.engine) as session:
        rows = session.exec(
            select(Outbox)
            .where(Outbox.event_key == event_key, Outbox.status == "pending")
            .order_by(Outbox.seq)  # type: ignore[arg-type]
        ).all()
    for row in rows:
        try:
            result = _execute(rt, customer, row)
        except ThreadOwnedByOtherApp as exc:
            _finish_refused(rt, customer, row, exc)
            return
        except GraphError as exc:
            if exc.retryable:
                raise
            log.warning("customer %s: %s refused, not retried: %s", customer.id, row.kind, exc)
            _mark(rt, row, "failed", error=str(exc))
            continue
        _mark(rt, row, "sent", result=result, transcript=_transcript_line(customer, row, result))


def _execute(rt: Runtime, customer: Customer, row: Outbox) -> str | None:
    executor = _EXECUTORS.get(row.kind)
    if executor is None:
        raise ValueError(f"unknown outbox call {row.kind!r}")
    return executor(rt, customer, row)


def _send(rt: Runtime, customer: Customer, row: Outbox) -> str | None:
    body = row.body
    response = rt.graph.send_message(
        customer.psid, body["message"], messaging_type=body.get("messaging_type", "RESPONSE"),
        tag=body.get("tag"), metadata=f"sd:{row.id}",
    )
    return response.get("message_id")


def _handover(kind: str) -> Callable[[Runtime, Customer, Outbox], str | None]:
    def call(rt: Runtime, customer: Customer, row: Outbox) -> str | None:
        getattr(rt.graph, kind)(customer.psid, **row.body)
        return "success"

    return call


_EXECUTORS: dict[str, Callable[[Runtime, Customer, Outbox], str | None]] = {
    "send": _send,
    **{kind: _handover(kind) for kind in HANDOVER_CALLS},
}


def _finish_refused(rt: Runtime, customer: Customer, row: Outbox, exc: GraphError) -> None:
    """Another app owns the thread: record it and drop the rest of the turn."""
    log.info("customer %s: thread owned by another app; bot stays silent", customer.id)
    with session_scope(rt.engine) as session:
        for pending in session.exec(select(Outbox).where(
                Outbox.event_key == row.event_key, Outbox.status == "pending")).all():
            pending.status = "failed" if pending.id == row.id else "skipped"
            pending.error = str(exc)[:500]
            pending.done_at = utcnow()
            session.add(pending)
        fresh = session.get(Customer, customer.id)
        if fresh is not None:
            fresh.state = {**fresh.state, "thread_owned_elsewhere": True}
            session.add(fresh)


def _mark(rt: Runtime, row: Outbox, status: str, *, result: str | None = None,
          error: str | None = None, transcript: Message | None = None) -> None:
    with session_scope(rt.engine) as session:
        row.status, row.result, row.done_at = status, result, utcnow()
        row.error = error[:500] if error else None
        session.add(row)
        if transcript is not None:
            session.add(transcript)


def _transcript_line(customer: Customer, row: Outbox, result: str | None) -> Message | None:
    if row.kind != "send":
        return None
    message: dict[str, Any] = row.body.get("message", {})
    text = message.get("text") or (
        message.get("attachment", {}).get("payload", {}).get("text"))
    quick = [q.get("title") for q in message.get("quick_replies", [])]
    payload = " | ".join(str(q) for q in quick)[:1000] or None
    assert customer.id is not None
    return Message(customer_id=customer.id, direction="out", author="bot", kind="text",
                   text=text, payload=payload, mid=result)
