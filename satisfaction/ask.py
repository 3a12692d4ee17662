"""Deciding, inside a turn, whether to ask for a rating, and asking.

Asked once: a ticket records that it was asked (`Ticket.rating_status`), a handover
its `ChatRating` row, in the turn's own transaction with its state and outbox. Not
asked outside Messenger's 24-hour window (recorded as `outside_window`), nor while the
customer is opening a ticket or a person has the chat (`busy`), nor when the flows
file switches it off for the customer's language (nothing recorded).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlmodel import select

from bot import replies
from bot.turn import Turn
from handoff import state as handoff_state
from satisfaction.models import ChatRating
from tickets import wizard
from tickets.models import Ticket
from tickets.turns import in_transaction, turn_session

log = logging.getLogger(__name__)

STATE = "satisfaction"  # Customer.state key: what the customer is being asked about
PREFIX = "rate"
ASKED, OUTSIDE_WINDOW, BUSY = "asked", "outside_window", "busy"
TICKET, CHAT = "ticket", "chat"


@dataclass(frozen=True)
class Subject:
    """What is rated: a ticket (`ref`: its id) or a handover (`ref`: its start, in ms)."""

    kind: str
    ref: int

    def payload(self, score: int) -> str:
        return f"{PREFIX}:{self.kind}:{self.ref}:{score}"

    @property
    def skip_payload(self) -> str:
        return f"{PREFIX}:skip:{self.kind}:{self.ref}"


def ask_for_ticket(turn: Turn, ticket_id: int, *, intro: str,
                   messaging_type: str = "RESPONSE") -> bool:
    """Ask to rate a resolved ticket, with `intro` above the question. False: not asked
    (nothing sent), so the caller says what it says otherwise."""
    if not _may_ask(turn):
        return False
    with turn_session(turn) as session:
        ticket = session.get(Ticket, ticket_id)
        if ticket is None or ticket.customer_id != turn.customer.id or ticket.rating_status:
            return False
        ticket.rating_status = status = _status(turn)
        session.add(ticket)
    if status != ASKED:
        log.info("customer %s: ticket %s resolved; rating not asked (%s)", turn.customer.id,
                 ticket_id, status)
        return False
    _ask(turn, Subject(TICKET, ticket_id), intro, messaging_type)
    return True


def ask_for_chat(turn: Turn, handoff: handoff_state.Handoff, *, intro: str) -> bool:
    """Control came back from the inbox after `handoff` (the state before it came back):
    ask to rate the chat, with `intro` above the question. False: not asked."""
    if not _may_ask(turn):
        return False
    subject = Subject(CHAT, handoff.changed_ms)
    with turn_session(turn) as session:
        found = session.exec(select(ChatRating.id).where(
            ChatRating.customer_id == turn.customer.id,
            ChatRating.handover_ms == subject.ref)).first()
        if found is not None:
            return False
        status = _status(turn)
        assert turn.customer.id is not None
        session.add(ChatRating(customer_id=turn.customer.id, handover=handoff.handover,
                               handover_ms=subject.ref, status=status))
    if status != ASKED:
        log.info("customer %s: chat back from the inbox; rating not asked (%s)",
                 turn.customer.id, status)
        return False
    _ask(turn, subject, intro, "UPDATE")
    return True


def _may_ask(turn: Turn) -> bool:
    """Switched on for the customer's language, and a database to record the question in
    (not a turn built by hand, as other features' tests do)."""
    return turn.flows.satisfaction.enabled_for(turn.locale) and in_transaction(turn)


def _status(turn: Turn) -> str:
    if not _window_open(turn):
        return OUTSIDE_WINDOW
    if wizard.in_progress(turn) or handoff_state.read(turn).with_human:
        return BUSY
    return ASKED


def _window_open(turn: Turn) -> bool:
    """The customer is writing now, or wrote within Messenger's 24-hour window."""
    return turn.kind in ("message", "postback") or handoff_state.may_speak(turn)


def _ask(turn: Turn, subject: Subject, intro: str, messaging_type: str) -> None:
    config = turn.flows.satisfaction
    text = "\n\n".join(part for part in (intro, turn.text(config.question)) if part)
    options = [(title, subject.payload(score))
               for score, title in enumerate(choices(turn), start=1)]
    turn.send(*replies.text_messages(text, options), messaging_type=messaging_type)
    turn.set_state(**{STATE: {"kind": subject.kind, "ref": subject.ref, "step": "score",
                              "at": now_ms()}}, greeted=True)


def choices(turn: Turn) -> tuple[str, ...]:
    """The five titles in the customer's language (the default language's otherwise)."""
    config = turn.flows.satisfaction.choices
    return config.get(turn.locale) or config.get(turn.flows.default_locale) or next(iter(config.values()))


def pending(turn: Turn) -> dict[str, Any] | None:
    raw = turn.state.get(STATE)
    return raw if isinstance(raw, dict) else None


def now_ms() -> int:
    return int(time.time() * 1000)


def utcnow() -> datetime:
    return datetime.now(UTC)
