"""Messenger's rule for an agent's reply (docs/messenger-platform.md §4.3): within
24 hours of the customer's last message it is a normal response; within 7 days
it may go with the HUMAN_AGENT tag, because a person wrote it; later it waits
for the customer's next message. A few minutes' margin keeps us off the edges."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import Enum
from typing import Any

from tickets.models import as_utc

MARGIN = timedelta(minutes=5)
STANDARD_WINDOW = timedelta(hours=24) - MARGIN
HUMAN_AGENT_WINDOW = timedelta(days=7) - MARGIN


class Delivery(Enum):
    RESPONSE = "sent"
    HUMAN_AGENT = "sent_tagged"
    WAIT = "waiting"


def delivery_for(last_inbound_at: datetime | None, now: datetime) -> Delivery:
    if last_inbound_at is None:
        return Delivery.WAIT
    since = as_utc(now) - as_utc(last_inbound_at)
    if since <= STANDARD_WINDOW:
        return Delivery.RESPONSE
    if since <= HUMAN_AGENT_WINDOW:
        return Delivery.HUMAN_AGENT
    return Delivery.WAIT


def send_options(delivery: Delivery) -> dict[str, Any]:
    """The Send API fields for a human agent's reply delivered this way."""
    if delivery is Delivery.HUMAN_AGENT:
        return {"messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"}
    if delivery is Delivery.RESPONSE:
        return {"messaging_type": "RESPONSE"}
    raise ValueError("a waiting reply is not sent")
