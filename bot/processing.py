"""Handling one customer's queued events, oldest first, each exactly once.

A run of waiting events is decided in one transaction (`bot.decisions`:
transcript, state, outbox, and handled-event markers), then its calls are
made in order (`bot.outbox`), then the events leave the mailbox together. A
crash anywhere re-runs them: the markers skip the decisions, and the outbox
and its journal skip calls already made.
"""

from __future__ import annotations

import logging

from redis.exceptions import RedisError
from sqlalchemy.exc import OperationalError

from bot import sender_actions
from bot.decisions import decide
from bot.echoes import EchoAwaited
from bot.late_echoes import note_late_echoes
from bot.outbox import deliver
from core import metrics
from core.mailbox import Queued
from core.page_health import PagePaused, retry_delay_ms
from core.runtime import Runtime
from messenger.errors import GraphError

log = logging.getLogger(__name__)

EVENTS_PER_CLAIM = 20  # then let other customers have the thread
MAX_ATTEMPTS = 8  # transient failures of one event before it is set aside


def serve_customer(rt: Runtime, customer_key: str, items: list[Queued]) -> int:
    """Work through a claimed customer's mailbox, starting with `items` (its first events,
    read with the claim), and release it: with the last events' bookkeeping when it is
    through (one round trip), or with a retry delay. Returns that delay in ms (0: done)."""
    budget = EVENTS_PER_CLAIM
    while items:
        finished, failure = run(rt, items)
        metrics.events_processed.inc(finished, outcome="handled")
        budget -= max(finished, 1)
        if failure is None:  # the next events come back with the bookkeeping
            items = rt.mailbox.done_and_next(customer_key, items[:finished], max(budget, 0))
            if not items:
                return 0  # released by that same call
            continue
        rt.mailbox.done_many(items[:finished])
        delay = _after_failure(rt, items[finished], failure)
        if delay:
            rt.mailbox.release(customer_key, delay_ms=delay)
            return delay
        items = rt.mailbox.peek_many(customer_key, budget)
    rt.mailbox.release(customer_key)
    return 0


def run(rt: Runtime, items: list[Queued]) -> tuple[int, Exception | None]:
    """Decide and deliver the leading run of `items`: (events finished, what stopped it)."""
    try:
        decided = decide(rt, items)
        note_late_echoes(rt, decided.customer, [d.item for d in decided.decisions])
        sender_actions.mark_seen(rt, decided.customer,
                                [d.item for d in decided.decisions if d.calls is not None])
        return deliver(rt, decided.customer, decided.decisions)
    except (GraphError, OperationalError) as exc:
        if isinstance(exc, GraphError) and not exc.retryable:
            raise  # deliver records permanent refusals itself
        return 0, exc
    except RedisError:
        raise  # the drain job fails loudly; the customer's lease runs out and it is retried
    except Exception as exc:  # a bug or a poison event: set aside, never lost
        return 0, exc


def handle_event(rt: Runtime, item: Queued) -> None:
    """Decide and deliver one event; raises what stopped it (tests and tools)."""
    _finished, failure = run(rt, [item])
    if failure is not None:
        raise failure


def _after_failure(rt: Runtime, item: Queued, exc: Exception) -> int:
    """Retry transient failures with backoff; set aside the rest. Returns a delay in ms."""
    if isinstance(exc, EchoAwaited):  # not a failure: the customer waits, in order, no count
        log.info("customer %s: %s", item.customer, exc)
        return exc.delay_ms
    if not isinstance(exc, (GraphError, OperationalError)):
        log.error("customer %s: %s event failed; moved to failed events", item.customer,
                  item.kind, exc_info=exc)
        rt.mailbox.dead_letter(item, f"{type(exc).__name__}: {exc}")
        metrics.events_processed.inc(outcome="set_aside")
        return 0
    if isinstance(exc, PagePaused):  # the Page, not this event: wait, whatever it takes
        return retry_delay_ms(exc)
    attempts = rt.mailbox.failed_attempt(item)
    if attempts >= MAX_ATTEMPTS:
        log.error("customer %s: giving up on a %s event after %d tries: %s",
                  item.customer, item.kind, attempts, exc)
        rt.mailbox.dead_letter(item, f"{type(exc).__name__}: {exc}")
        metrics.events_processed.inc(outcome="set_aside")
        return 0
    metrics.events_processed.inc(outcome="retry")
    delay = _retry_delay(attempts, getattr(exc, "retry_after", None))
    log.warning("customer %s: %s; retry %d in %d ms", item.customer,
                type(exc).__name__, attempts, delay)
    return delay


def _retry_delay(attempts: int, retry_after: float | None) -> int:
    backoff = min(1000 * 2 ** (attempts - 1), 300_000)
    return int(max(backoff, (retry_after or 0) * 1000))
