"""The agent-wait check: a delayed job that puts a `handoff_wait` event in the customer's
mailbox, so the check is decided in order with the customer's other events, exactly once."""

from __future__ import annotations

import json

from bot.jobs import drain
from bot.turn import Turn
from core import runtime
from core.mailbox import now_ms
from messenger.events import Incoming

WAIT_KIND = "handoff_wait"


def schedule_wait_check(turn: Turn, handover: int) -> None:
    """After the configured wait, check whether an agent answered this handover."""
    rt = runtime.current()
    wait_ms = int(turn.flows.handoff.agent_wait_minutes * 60_000)
    customer = turn.customer
    rt.dispatcher.enqueue(agent_wait_over, customer.page_id, customer.psid, handover,
                          at_ms=now_ms() + wait_ms)


def agent_wait_over(page_id: str, psid: str, handover: int) -> None:
    """Job: queue the check as the customer's next event (a repeat is dropped at the door)."""
    rt = runtime.current()
    timestamp = now_ms()
    event = {"sender": {"id": psid}, "recipient": {"id": page_id}, "timestamp": timestamp,
             WAIT_KIND: {"handover": handover}}
    body = json.dumps({"channel": "messaging", "kind": WAIT_KIND, "event": event},
                      separators=(",", ":"))
    key = f"{WAIT_KIND}:{psid}:{handover}"
    _, reservation = rt.mailbox.ingest([Incoming(page_id, psid, key, timestamp, body)])
    if reservation is not None:
        rt.dispatcher.enqueue(drain, reservation)
