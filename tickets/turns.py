"""Small readers of a Messenger turn that the ticket handlers share."""

from __future__ import annotations

from typing import Any

from bot.turn import Turn
from handoff import state as handoff_state
from messenger.events import dedupe_key


def event_key(turn: Turn) -> str:
    """The key processing.py marks this event handled with: stable across re-runs."""
    item = turn.item
    timestamp = item.event.get("timestamp", 0)
    return f"{item.page_id}:{dedupe_key(item.kind, item.psid, timestamp, item.event)}"


def quick_reply_payload(turn: Turn) -> str | None:
    message = _dict(turn.event.get("message"))
    payload = _dict(message.get("quick_reply")).get("payload")
    return payload if isinstance(payload, str) and payload else None


def typed_text(turn: Turn) -> str | None:
    """The text of a plain message (not a quick-reply tap); None for attachments."""
    text = _dict(turn.event.get("message")).get("text")
    return text if isinstance(text, str) else None


def agent_has_thread(turn: Turn) -> bool:
    """A person (the Page Inbox) owns the conversation: the bot must not speak."""
    return handoff_state.read(turn).with_human


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
