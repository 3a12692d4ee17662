"""Agent replies reach the customer on Messenger through the customer's own
mailbox: a `ticket_reply` event queued like a webhook event, so it is handled
in order with the customer's messages, exactly once, by the same pipeline
(turn hooks -> outbox -> Send API), and never while an agent owns the thread."""

from __future__ import annotations

import json

from bot.jobs import drain
from core.mailbox import now_ms
from core.runtime import Runtime
from messenger.events import Incoming

REPLY_EVENT = "ticket_reply"


def push_reply(rt: Runtime, *, page_id: str, psid: str, reply_id: int) -> bool:
    """Queue reply `reply_id` for its customer; False if it was queued before.

    Raises RedisError when Redis is down (the caller answers "try again").
    """
    timestamp = now_ms()
    event = {"sender": {"id": psid}, "recipient": {"id": page_id}, "timestamp": timestamp,
             REPLY_EVENT: {"reply_id": reply_id}}
    body = json.dumps({"channel": "messaging", "kind": REPLY_EVENT, "event": event}, separators=(",", ":"))
    added, reservation = rt.mailbox.ingest(
        [Incoming(page_id, psid, f"{REPLY_EVENT}:{reply_id}", timestamp, body)])
    if reservation is not None:
        rt.dispatcher.enqueue(drain, reservation)
    return added > 0
