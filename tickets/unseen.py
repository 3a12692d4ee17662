"""Ticket replies the customer has not seen on Messenger yet, looked up once per run.

Most customers have none, so the question "any?" is asked first, cheaply: with
the customer's row when `bot.decisions` loads it (the run probe
`unseen_probe`), else as the same EXISTS on its own.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BindParameter, ColumnElement, bindparam, or_
from sqlmodel import Session, col, select

from bot import extensions
from bot.turn import Turn
from tickets.models import Ticket, TicketReply

NOT_YET_SEEN = ("queued", "waiting")


def replies(session: Session, turn: Turn, key: str) -> list[tuple[TicketReply, Ticket]]:
    """The customer's replies not yet seen on Messenger, read once per transaction: the
    turns of one run (`bot.decisions`) share the rows, and each sees the others'
    changes to them (a reply one turn delivered is not delivered again by the next)."""
    cache: dict[int | None, list[tuple[TicketReply, Ticket]]] = session.info.setdefault(
        "tickets.unseen_replies", {})
    if turn.customer.id not in cache and not _any_unseen(session, turn.customer.id, key):
        cache[turn.customer.id] = []
    if turn.customer.id not in cache:
        cache[turn.customer.id] = list(session.exec(
            select(TicketReply, Ticket).join(Ticket)
            .where(Ticket.customer_id == turn.customer.id,
                   or_(col(TicketReply.messenger).in_(NOT_YET_SEEN), TicketReply.delivered_in == key))
            .order_by(TicketReply.id)  # type: ignore[arg-type]
        ).all())
    return [(reply, ticket) for reply, ticket in cache[turn.customer.id]
            if reply.messenger in NOT_YET_SEEN or reply.delivered_in == key]


def _any_unseen(session: Session, customer_id: int | None, key: str) -> bool:
    """Whether `replies` could find any: the run probe's answer, asked with the
    customer's row (`unseen_probe`; it covers every event of the run), else the same
    EXISTS on its own, for this event."""
    answer = extensions.run_probe(session, UNSEEN_PROBE)
    if answer is not None:
        return answer
    params = {"customer_id": customer_id, "keys": [key]}
    return bool(session.connection().execute(_ANY_UNSEEN, params).scalar())


UNSEEN_PROBE = "tickets.any_unseen"


def unseen_probe(customer_id: ColumnElement[Any], keys: BindParameter[Any]) -> ColumnElement[bool]:
    """The run probe (`bot.extensions.register_run_probe`): has the customer a reply not yet
    seen on Messenger, or one delivered by an event of the run?"""
    return (select(TicketReply.id).join(Ticket)
            .where(Ticket.customer_id == customer_id,
                   or_(col(TicketReply.messenger).in_(NOT_YET_SEEN),
                       col(TicketReply.delivered_in).in_(keys)))
            .exists())


# Built once: most customers have no reply waiting, and this bare EXISTS costs a fraction
# of building and loading the ORM query of `replies` (~0.5 ms of CPU per run of events).
_ANY_UNSEEN = select(unseen_probe(bindparam("customer_id"), bindparam("keys", expanding=True)))
