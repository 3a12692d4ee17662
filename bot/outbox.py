"""Making the Graph API calls a turn decided, once each.

Each call's outcome (Meta's message id, or a refusal) is journaled in Redis
the moment Meta answers and written to its outbox row with the rest of the
run's in one transaction (`bot.ledger`), so a re-run after a crash or a retry
skips what already went out. A send a crash cut off before Meta's answer is
settled by its echo, or made again after a bounded wait (`bot.echoes`).
Permanent refusals are recorded and never retried; transient failures raise
so the customer's mailbox retries later, in order.

Follow-ups: a call whose body names one under `FOLLOW_UP` ("then") has its
result handed to that follow-up (`bot.extensions.register_follow_up`) as a small
turn, in the same transaction that marks the row done. The follow-up may
change the customer's state, cancel the turn's remaining calls, and decide
new calls, made right after the turn's remaining ones. A call refused because
another app owns the thread (10/2018300) cancels the rest of the turn and runs
the `OWNED_ELSEWHERE` follow-up instead.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, select

from bot import extensions, retry_budget
from bot.decisions import FOLLOW_UP, Call, Decision
from bot.echoes import EchoAwaited, metadata_for
from bot.extensions import Executor
from bot.ledger import Ledger, transcript_line
from bot.models import Customer, Message, Outbox, utcnow
from bot.turn import Turn
from core import log_context, metrics
from core.db import session_scope
from core.mailbox import Queued
from core.page_health import page_health
from core.runtime import Runtime
from core.throttle import send_throttle
from messenger.errors import GraphError, ThreadOwnedByOtherApp

log = logging.getLogger(__name__)

HANDOVER_CALLS = ("pass_thread_control", "take_thread_control", "request_thread_control",
                  "release_thread_control")
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


def deliver(rt: Runtime, customer: Customer,
            decisions: list[Decision]) -> tuple[int, GraphError | EchoAwaited | None]:
    """Make the decided events' calls, in order. Returns how many events are fully
    delivered and, if one stopped the run, the retryable error to retry it after (or
    the echo of a send a crash cut off, which the customer waits for)."""
    assert customer.id is not None
    ledger = Ledger(rt, customer)
    finished = 0
    try:
        stored = ledger.pending([d.key for d in decisions if d.calls is None])
        for decision in decisions:
            calls = decision.calls if decision.calls is not None else stored.get(decision.key, [])
            with log_context.handling(decision.key):
                _deliver_event(rt, customer, decision.key, calls, ledger)
            finished += 1
    except EchoAwaited as exc:
        return finished, exc
    except GraphError as exc:
        if not exc.retryable:
            raise
        return finished, exc
    finally:
        ledger.write()
    return finished, None


def _deliver_event(rt: Runtime, customer: Customer, event_key: str, calls: list[Call],
                   ledger: Ledger) -> None:
    calls = list(calls)
    while calls:
        call = calls.pop(0)
        try:
            if call.key in ledger.settled:  # its echo says a run a crash cut off made it
                outcome = CallOutcome(call.kind, result=ledger.settled.pop(call.key))
            else:
                if call.kind == "send":
                    ledger.attempt(call)  # a crash before the outcome leaves this mark
                else:
                    ledger.flush()  # the outcomes before it are journaled before it is made
                outcome = CallOutcome(call.kind, result=_execute(rt, customer, call))
        except GraphError as exc:
            if exc.retryable and not retry_budget.spent(rt.redis, call.event_key, exc):
                if call.kind == "send":
                    ledger.owed(call)
                raise
            log.warning("customer %s: %s refused, not retried: %s", customer.id, call.kind, exc)
            outcome = CallOutcome(call.kind, error=exc)
        if call.plain and not isinstance(outcome.error, ThreadOwnedByOtherApp):
            ledger.note(call, "sent" if outcome.ok else "failed", outcome.result,
                        str(outcome.error)[:500] if outcome.error else None)
            continue
        ledger.write()  # a follow-up reads and changes rows: everything before it is written
        if _finish(rt, customer, call, outcome):
            calls = ledger.pending([event_key]).get(event_key, [])


def _execute(rt: Runtime, customer: Customer, call: Call) -> str | None:
    """Make one call, unless its Page is paused (`core.page_health`: raises PagePaused)."""
    executor, graph_call = _executor(call.kind)
    if not graph_call:  # e.g. queueing a file's fetch: a paused Page must not hold it back
        return executor(rt, customer, call)
    health = page_health(rt.redis, first_pause_ms=rt.settings.page_pause_ms)
    page_id = rt.page_id_of(customer.page_id)  # an Instagram account shares its Page's state
    trial = health.before_call(page_id)
    try:
        result = executor(rt, customer, call)
    except GraphError as exc:
        error = health.after_failure(page_id, exc, trial=trial)
        if error is exc:
            raise
        raise error from exc
    except BaseException:
        if trial:
            health.end_trial(page_id)
        raise
    health.after_success(page_id, trial=trial)
    return result


def _send(rt: Runtime, customer: Customer, call: Call) -> str | None:
    body = call.body
    send_throttle(rt.redis, rt.settings.send_rate_per_page).wait(rt.page_id_of(customer.page_id))
    response = rt.graph_for(customer.page_id).send_message(
        customer.psid, body["message"], messaging_type=body.get("messaging_type", "RESPONSE"),
        tag=body.get("tag"), metadata=metadata_for(call.key),
    )
    return response.get("message_id")


def _handover(kind: str) -> Executor:
    def make(rt: Runtime, customer: Customer, call: Call) -> str | None:
        body = {key: value for key, value in call.body.items() if key != FOLLOW_UP}
        getattr(rt.graph_for(customer.page_id), kind)(customer.psid, **body)
        metrics.handovers.inc(call=kind, page=rt.page_id_of(customer.page_id))
        return "success"

    return make


def _thread_owner(rt: Runtime, customer: Customer, call: Call) -> str | None:
    """The owning app's id; "" when the thread is idle."""
    return rt.graph_for(customer.page_id).thread_owner(customer.psid) or ""


_EXECUTORS: dict[str, Executor] = {
    "send": _send,
    "thread_owner": _thread_owner,
    **{kind: _handover(kind) for kind in HANDOVER_CALLS},
}


def _executor(kind: str) -> tuple[Executor, bool]:
    """The bot's own calls, or a feature's (`extensions.register_executor`)."""
    if kind in _EXECUTORS:
        return _EXECUTORS[kind], True
    registered = extensions.executor(kind)
    if registered is None:
        raise ValueError(f"unknown outbox call {kind!r}")
    return registered


def _finish(rt: Runtime, customer: Customer, call: Call, outcome: CallOutcome) -> bool:
    """Mark the row done and run its follow-up, atomically; True if the pending calls changed."""
    owned_elsewhere = isinstance(outcome.error, ThreadOwnedByOtherApp)
    follow_up = OWNED_ELSEWHERE if owned_elsewhere else call.body.get(FOLLOW_UP)
    with session_scope(rt.engine) as session:
        row = session.exec(select(Outbox).where(
            Outbox.event_key == call.event_key, Outbox.seq == call.seq)).one()
        row.status = "sent" if outcome.ok else "failed"
        row.result, row.done_at = outcome.result, utcnow()
        row.error = str(outcome.error)[:500] if outcome.error else None
        session.add(row)
        if outcome.ok and (line := transcript_line(customer, call, outcome.result)) is not None:
            session.add(Message(**line))
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
    turn = Turn(fresh, rt.flows_for(fresh.page_id).current, _follow_up_item(fresh, row, outcome),
                rt.settings, rt.account(fresh.page_id))
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
