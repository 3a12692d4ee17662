"""Who a log line is about: the customer and the event a worker thread is
serving, kept in context variables (each drain thread has its own context)
for the JSON log format and Sentry."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

customer: ContextVar[str | None] = ContextVar("customer", default=None)
event_key: ContextVar[str | None] = ContextVar("event_key", default=None)


@contextmanager
def serving(customer_key: str) -> Iterator[None]:
    """Log lines inside are about this customer ("page:psid")."""
    token = customer.set(customer_key)
    try:
        yield
    finally:
        customer.reset(token)


@contextmanager
def handling(key: str) -> Iterator[None]:
    """Log lines inside are about this event (its key)."""
    token = event_key.set(key)
    try:
        yield
    finally:
        event_key.reset(token)


def current_job_id() -> str | None:
    """The RQ job this code runs in, if any."""
    from rq import get_current_job  # rq is light to import, but only workers need it

    job = get_current_job()
    return job.id if job is not None else None
