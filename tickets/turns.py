"""Small readers of a Messenger turn that the ticket handlers share."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy.orm import object_session
from sqlmodel import Session

from bot.turn import Turn
from core import runtime
from core.db import session_scope
from handoff import state as handoff_state


def event_key(turn: Turn) -> str:
    """The key bot.decisions marks this event handled with: stable across re-runs."""
    from bot.decisions import event_key as handled_key

    return handled_key(turn.item)


def in_transaction(turn: Turn) -> bool:
    """The turn is being decided in a database transaction (bot.processing), not built by hand."""
    return object_session(turn.customer) is not None


@contextmanager
def turn_session(turn: Turn) -> Iterator[Session]:
    """The turn's own transaction, so ticket rows change together with the turn's state and
    outbox (committed, or rolled back, by bot.processing); a short one of our own otherwise.

    Nothing is flushed early: the turn's transaction takes no write lock before its
    commit, so a ticket opened in its own transaction meanwhile never waits for it.
    """
    session = object_session(turn.customer)
    if isinstance(session, Session):
        with session.no_autoflush:
            yield session
        return
    with session_scope(runtime.current().engine) as own:
        yield own


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
