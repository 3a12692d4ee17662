"""Making the Graph API calls a turn decided, once each.

Each outbox row is marked sent (with Meta's message id) right after its call
succeeds, so a re-run after a crash or a retry skips what already went out.
Permanent refusals are recorded on the row and never retried; transient
failures raise so the customer's mailbox retries later, in order.

Follow-ups: a call whose body names one under `FOLLOW_UP` ("then") has its
result handed to that follow-up (`bot.extensions.call_follow_ups`) as a small
turn, in the same transaction that marks the row done. The follow-up may
change the customer's state, cancel the turn's remaining calls, and decide
new calls, made right after the turn's remaining ones. A call refused because
another app owns the thread (10/2018300) cancels the rest of the turn and runs
the `OWNED_ELSEWHERE` follow-up instead.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from bot import extensions
from bot.models import Customer, Message, Outbox, utcnow
from bot.turn import Turn
from core.db import session_scope
from core.mailbox import Queued
from core.runtime import Runtime
from core.throttle import send_throttle
from messenger.errors import GraphError, ThreadOwnedByOtherApp

log = logging.getLogger(__name__)

HANDOVER_CALLS = ("pass_thread_control", "take_thread_control", "request_thread_control",
                  "release_thread_control")
FOLLOW_UP = "then"  # body key: the follow-up that decides what the call's result means
OWNED_ELSEWHERE = "owned_elsewhere"  # the follow-up of any call refused with 10/2018300
FOLLOW_UP_KIND = "call_result"  # the kind of a follow-up's turn


@dataclass(frozen=True)
class CallOutcome:
    """What a call came to: its kind, its result (message id, "success", owner app id), or error."""

    kind: str
    result: str | None = None
    error: GraphError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def deliver_pending(rt: Runtime, customer: Customer, event_key: str) -> None:
    rows = _pending(rt, event_key)
    while rows:
        row = rows.pop(0)
        try:
            outcome = CallOutcome(row.kind, result=_execute(rt, customer, row))
        except GraphError as exc:
            if exc.retryable:
                raise
            log.warning("customer %s: %s refused, not retried: %s", customer.id, row.kind, exc)
            outcome = CallOutcome(row.kind, error=exc)
        if _finish(rt, customer, row, outcome):
            rows = _pending(rt, event_key)


def _pending(rt: Runtime, event_key: str) -> list[Outbox]:
    with Session(rt.engine) as session:
        return list(session.exec(
            select(Outbox)
            .where(Outbox.event_key == event_key, Outbox.status == "pending")
            .order_by(Outbox.seq)  # type: ignore[arg-type]
        ).all())


def _execute(rt: Runtime, customer: Customer, row: Outbox) -> str | None:
    executor = _EXECUTORS.get(row.kind)
    if executor is None:
        raise ValueError(f"unknown outbox call {row.kind!r}")
    return executor(rt, customer, row)


def _send(rt: Runtime, customer: Customer, row: Outbox) -> str | None:
    body = row.body
    send_throttle(rt.redis, rt.settings.send_rate_per_page).wait(customer.page_id)
    response = rt.graph.send_message(
        customer.psid, body["message"], messaging_type=body.get("messaging_type", "RESPONSE"),
        tag=body.get("tag"), metadata=f"sd:{row.id}",
    )
    return response.get("message_id")


def _handover(kind: str) -> Callable[[Runtime, Customer, Outbox], str | None]:
    def call(rt: Runtime, customer: Customer, row: Outbox) -> str | None:
        body = {key: value for key, value in row.body.items() if key != FOLLOW_UP}
        getattr(rt.graph, kind)(customer.psid, **body)
        return "success"

    return call


def _thread_owner(rt: Runtime, customer: Customer, row: Outbox) -> str | None:
    """The owning app's id; "" when the thread is idle."""
    return rt.graph.thread_owner(customer.psid) or ""


_EXECUTORS: dict[str, Callable[[Runtime, Customer, Outbox], str | None]] = {
    "send": _send,
    "thread_owner": _thread_owner,
    **{kind: _handover(kind) for kind in HANDOVER_CALLS},
}


def _finish(rt: Runtime, customer: Customer, row: Outbox, outcome: CallOutcome) -> bool:
    """Mark the row done and run its follow-up, atomically; True if the pending calls changed."""
    owned_elsewhere = isinstance(outcome.error, ThreadOwnedByOtherApp)
    follow_up = OWNED_ELSEWHERE if owned_elsewhere else row.body.get(FOLLOW_UP)
    with session_scope(rt.engine) as session:
        row.status = "sent" if outcome.ok else "failed"
        row.result, row.done_at = outcome.result, utcnow()
        row.error = str(outcome.error)[:500] if outcome.error else None
        session.add(row)
        if outcome.ok and (line := _transcript_line(customer, row, outcome.result)) is not None:
            session.add(line)
        if owned_elsewhere:
            log.info("customer %s: thread owned by another app; the rest of the turn is dropped",
                     customer.id)
            _cancel_rest(session, row, str(outcome.error))
        if follow_up:
            _follow_up(rt, session, customer, row, str(follow_up), outcome)
    return owned_elsewhere or bool(follow_up)


def _cancel_rest(session: Session, row: Outbox, reason: str) -> None:
    for pending in session.exec(select(Outbox).where(
            Outbox.event_key == row.event_key, Outbox.status == "pending",
            Outbox.seq > row.seq)).all():
        pending.status, pending.error, pending.done_at = "skipped", reason[:500], utcnow()
        session.add(pending)


def _follow_up(rt: Runtime, session: Session, customer: Customer, row: Outbox, name: str,
               outcome: CallOutcome) -> None:
    handler = extensions.call_follow_ups().get(name)
    if handler is None:
        log.error("outbox call %s names follow-up %s, which this build does not provide",
                  row.kind, name)
        return
    fresh = session.get(Customer, customer.id)
    assert fresh is not None
    turn = Turn(fresh, rt.flows.current, _follow_up_item(fresh, row, outcome), rt.settings)
    if not handler(turn, outcome):
        _cancel_rest(session, row, f"cancelled by follow-up {name}")
    last = session.exec(select(func.max(Outbox.seq)).where(
        Outbox.event_key == row.event_key)).one()
    for offset, (kind, body) in enumerate(turn.calls, start=1):
        session.add(Outbox(customer_id=fresh.id, event_key=row.event_key, seq=last + offset,
                           kind=kind, body=body))
    session.add(fresh)


def _follow_up_item(customer: Customer, row: Outbox, outcome: CallOutcome) -> Queued:
    error = outcome.error
    event = {"sender": {"id": customer.psid}, "recipient": {"id": customer.page_id},
             FOLLOW_UP_KIND: {"call": row.kind, "result": outcome.result,
                              "code": error.code if error else None,
                              "subcode": error.subcode if error else None}}
    return Queued(f"{customer.page_id}:{customer.psid}", row.event_key, "messaging",
                  FOLLOW_UP_KIND, event)


def _transcript_line(customer: Customer, row: Outbox, result: str | None) -> Message | None:
    if row.kind != "send":
        return None
    message: dict[str, Any] = row.body.get("message", {})
    text = message.get("text") or (
        message.get("attachment", {}).get("payload", {}).get("text"))
    quick = [q.get("title") for q in message.get("quick_replies", [])]
    payload = " | ".join(str(q) for q in quick)[:1000] or None
    assert customer.id is not None
    author = str(row.body.get("author", "bot"))  # tickets deliver agents' replies too
    return Message(customer_id=customer.id, direction="out", author=author, kind="text",
                   text=text, payload=payload, mid=result)
