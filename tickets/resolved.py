"""Who hears that a ticket was resolved: features that follow up on it (ratings) register
here from their `plugin.register`, so tickets imports none of them."""

from __future__ import annotations

from typing import Protocol

from bot.turn import Turn
from core.runtime import Runtime


class InChat(Protocol):
    def __call__(self, turn: Turn, ticket_id: int, *, intro: str) -> bool:
        """Resolved by the customer in the chat; True: it said something, with `intro` above."""


class OnScreen(Protocol):
    def __call__(self, rt: Runtime, *, page_id: str, psid: str, ticket_id: int) -> bool:
        """Resolved on the web screen; may raise RedisError (the caller logs it)."""


_in_chat: list[InChat] = []
_on_screen: list[OnScreen] = []


def listen(*, in_chat: InChat | None = None, on_screen: OnScreen | None = None) -> None:
    for listener, listeners in ((in_chat, _in_chat), (on_screen, _on_screen)):
        if listener is not None and listener not in listeners:
            listeners.append(listener)  # type: ignore[arg-type]


def in_chat(turn: Turn, ticket_id: int, *, intro: str) -> bool:
    """True when a listener spoke (the caller then says nothing of its own)."""
    return any(listener(turn, ticket_id, intro=intro) for listener in _in_chat)


def on_screen(rt: Runtime, *, page_id: str, psid: str, ticket_id: int) -> None:
    for listener in _on_screen:
        listener(rt, page_id=page_id, psid=psid, ticket_id=ticket_id)
