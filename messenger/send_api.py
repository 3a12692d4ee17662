"""The Send API's rules we can check before a call: refused here, not by Meta.

Retired tags (ACCOUNT_UPDATE, CONFIRMED_EVENT_UPDATE, POST_PURCHASE_UPDATE)
have failed with code 100 since 2026-04-27; only HUMAN_AGENT (a person
replying, up to 7 days) and CUSTOMER_FEEDBACK remain.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

MESSAGING_TYPES = frozenset({"RESPONSE", "UPDATE", "MESSAGE_TAG"})
MESSAGE_TAGS = frozenset({"HUMAN_AGENT", "CUSTOMER_FEEDBACK"})
NOTIFICATION_TYPES = frozenset({"REGULAR", "SILENT_PUSH", "NO_PUSH"})
SENDER_ACTIONS = frozenset({"typing_on", "typing_off", "mark_seen"})
METADATA_LIMIT = 1000


def check_send_body(body: Mapping[str, Any]) -> None:
    """Raise ValueError for a body Meta would refuse or that breaks its policy."""
    _check_tag(body.get("messaging_type"), body.get("tag"))
    notification = body.get("notification_type")
    if notification is not None and notification not in NOTIFICATION_TYPES:
        raise ValueError(f"unknown notification_type {notification!r}")
    message = body.get("message")
    if message is not None and "sender_action" in body:
        raise ValueError("a sender_action must be sent in its own request, without a message")
    metadata = message.get("metadata") if isinstance(message, Mapping) else None
    if metadata is not None and len(metadata) >= METADATA_LIMIT:
        raise ValueError(f"message metadata must be under {METADATA_LIMIT} characters")


def _check_tag(messaging_type: Any, tag: Any) -> None:
    if messaging_type not in MESSAGING_TYPES:
        raise ValueError(f"unknown messaging_type {messaging_type!r}")
    if tag is not None and tag not in MESSAGE_TAGS:
        raise ValueError(f"message tag {tag!r} is not accepted; use one of {sorted(MESSAGE_TAGS)}")
    if (tag is not None) != (messaging_type == "MESSAGE_TAG"):
        raise ValueError("a tag goes with messaging_type MESSAGE_TAG, and only with it")
