"""Handling one customer's queued events, oldest first, each exactly once.

An event is decided in one transaction (transcript, state, outbox, and a
handled-event marker), then its outbox is delivered, then it leaves the
mailbox. A crash anywhere re-runs it: the marker skips the decision and the
outbox skips calls already made.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session, select

from bot.conversation import handle_turn
from bot.models import Customer, HandledEvent, Message, Outbox
from bot.outbox import deliver_pending
from bot.turn import Turn
from core.db import session_scope
from core.mailbox import Queued
from core.runtime import Runtime
from messenger.errors import GraphError
from messenger.events import dedupe_key

log = logging.getLogger(__name__)

EVENTS_PER_CLAIM = 20  # then let other customers have the thread
MAX_ATTEMPTS = 8  # transient failures of one event before it is set aside


def process_customer(rt: Runtime, customer_key: str) -> int:
    """Work through a customer's mailbox; returns a retry delay in ms (0: done)."""
    for _ in range(EVENTS_PER_CLAIM):
        item = rt.mailbox.peek(customer_key)
        if item is None:
            return 0
        try:
            handle_event(rt, item)
        except (GraphError, OperationalError) as exc:
            if isinstance(exc, GraphError) and not exc.retryable:
                raise  # deliver_pending records permanent refusals itself
            attempts = rt.mailbox.failed_attempt(item)
            if attempts >= MAX_ATTEMPTS:
                log.error("customer %s: giving up on a %s event after %d tries: %s",
                          customer_key, item.kind, attempts, exc)
                rt.mailbox.dead_letter(item, f"{type(exc).__name__}: {exc}")
                continue
            delay = _retry_delay(attempts, getattr(exc, "retry_after", None))
            log.warning("customer %s: %s; retry %d in %d ms", customer_key,
                        type(exc).__name__, attempts, delay)
            return delay
        except Exception as exc:  # a bug or a poison event: set aside, never lost
            log.exception("customer %s: %s event failed; moved to failed events",
                          customer_key, item.kind)
            rt.mailbox.dead_letter(item, f"{type(exc).__name__}: {exc}")
            continue
        rt.mailbox.done(item)
    return 0


def _retry_delay(attempts: int, retry_after: float | None) -> int:
    backoff = min(1000 * 2 ** (attempts - 1), 300_000)
    return int(max(backoff, (retry_after or 0) * 1000))


def handle_event(rt: Runtime, item: Queued) -> None:
    key = f"{item.page_id}:{_dedupe(item)}"
    customer, decided = _customer(rt, item, key)
    if not decided:
        customer = _decide(rt, item, customer, key)
    deliver_pending(rt, customer, key)


def _dedupe(item: Queued) -> str:
    timestamp = item.event.get("timestamp", 0)
    return dedupe_key(item.kind, item.psid, timestamp, item.event)


def _customer(rt: Runtime, item: Queued, key: str) -> tuple[Customer, bool]:
    """The event's customer (created on first contact), and whether the event was decided."""
    with session_scope(rt.engine) as session:
        customer = session.exec(select(Customer).where(
            Customer.page_id == item.page_id, Customer.psid == item.psid)).first()
        if customer is None:
            customer = Customer(page_id=item.page_id, psid=item.psid)
            session.add(customer)
            session.flush()
        decided = session.get(HandledEvent, key) is not None
    if not customer.profile_checked and item.kind in ("message", "postback", "referral"):
        customer = _fetch_profile(rt, customer)
    return customer, decided


def _fetch_profile(rt: Runtime, customer: Customer) -> Customer:
    """Name and locale from the User Profile API; without them, the defaults."""
    try:
        profile = rt.graph.get_user_profile(customer.psid)
    except GraphError as exc:
        if exc.retryable:
            raise
        log.info("customer %s: no profile (%s); using defaults", customer.id, exc)
        profile = {}
    with session_scope(rt.engine) as session:
        fresh = session.get(Customer, customer.id)
        assert fresh is not None
        fresh.first_name = _short(profile.get("first_name"), 200)
        fresh.messenger_locale = _short(profile.get("locale"), 16)
        fresh.profile_checked = True
        session.add(fresh)
    return fresh


def _decide(rt: Runtime, item: Queued, customer: Customer, key: str) -> Customer:
    flows = rt.flows.current
    try:
        with session_scope(rt.engine) as session:
            customer = session.get(Customer, customer.id)  # type: ignore[assignment]
            assert customer is not None and customer.id is not None
            turn = Turn(customer, flows, item, rt.settings)
            handle_turn(turn)
            _record(session, turn, key, item)
            session.add(customer)
    except IntegrityError:
        log.info("event %s was already handled by another worker", key)
    return customer


def _record(session: Session, turn: Turn, key: str, item: Queued) -> None:
    customer_id = turn.customer.id
    assert customer_id is not None
    at = _event_time(item)
    session.add(HandledEvent(key=key, customer_id=customer_id, kind=item.kind))
    for author, kind, text, payload, mid in turn.heard:
        session.add(Message(customer_id=customer_id, direction="in", author=author, kind=kind,
                            text=_text(text), payload=_short(payload, 1000),
                            mid=_short(_text(mid), 255), created_at=at))
    for seq, (kind, body) in enumerate(turn.calls):
        session.add(Outbox(customer_id=customer_id, event_key=key, seq=seq, kind=kind,
                           body=body))
    if item.kind in ("message", "postback"):  # opens Messenger's 24-hour window
        turn.customer.last_inbound_at = at


def _event_time(item: Queued) -> datetime:
    millis = item.event.get("timestamp")
    if not isinstance(millis, int):
        return datetime.now(UTC)
    return datetime.fromtimestamp(millis / 1000, UTC)


def _text(value: object) -> str | None:
    """Text from the event as Meta sent it; an odd value (a list, a number) is no text."""
    return value if isinstance(value, str) else None


def _short(value: object, limit: int) -> str | None:
    return str(value)[:limit] if value else None
