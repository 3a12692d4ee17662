"""A ticket resolved on the web screen: a `ticket_resolved` event queued in the customer's
mailbox (as `tickets.notify` queues agent replies), so the rating is asked in order with
the customer's messages, exactly once, by the same pipeline."""

from __future__ import annotations

import json
from typing import Any

from bot.jobs import drain
from bot.turn import Turn
from core.i18n import say
from core.mailbox import now_ms
from core.runtime import Runtime
from messenger.events import Incoming
from satisfaction.ask import ask_for_ticket
from tickets.i18n import RESOLVED

RESOLVED_EVENT = "ticket_resolved"


def push_resolved(rt: Runtime, *, page_id: str, psid: str, ticket_id: int) -> bool:
    """Queue the question for ticket `ticket_id`; False if it was queued before.

    Raises RedisError when Redis is down (the caller logs it: the rating is then not asked).
    """
    timestamp = now_ms()
    event = {"sender": {"id": psid}, "recipient": {"id": page_id}, "timestamp": timestamp,
             RESOLVED_EVENT: {"ticket_id": ticket_id}}
    body = json.dumps({"channel": "messaging", "kind": RESOLVED_EVENT, "event": event},
                      separators=(",", ":"))
    added, reservation = rt.mailbox.ingest(
        [Incoming(page_id, psid, f"{RESOLVED_EVENT}:{ticket_id}", timestamp, body)])
    if reservation is not None:
        rt.dispatcher.enqueue(drain, reservation)
    return added > 0


def resolved_hook(turn: Turn) -> bool:
    """Registered first: the `ticket_resolved` event is ours alone (a person having the chat
    is recorded as `busy`, not left to the handoff hook's silence)."""
    if turn.kind != RESOLVED_EVENT:
        return False
    ticket_id = _dict(turn.event.get(RESOLVED_EVENT)).get("ticket_id")
    if isinstance(ticket_id, int):
        intro = say(turn.locale, RESOLVED, number=ticket_id)
        ask_for_ticket(turn, ticket_id, intro=intro, messaging_type="UPDATE")
    return True


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
