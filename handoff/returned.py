"""Who hears that a live agent's chat came back to the bot: features that follow up on it
(ratings) register here from their `plugin.register`, so handoff imports none of them."""

from __future__ import annotations

from typing import Protocol

from bot.turn import Turn
from handoff.state import Handoff


class ChatReturned(Protocol):
    def __call__(self, turn: Turn, handoff: Handoff, *, intro: str) -> bool:
        """`handoff`: the state before control came back. True: it said something, with
        `intro` above (or, out of the messaging window, recorded why it could not)."""


_listeners: list[ChatReturned] = []


def listen(listener: ChatReturned) -> None:
    if listener not in _listeners:
        _listeners.append(listener)


def follow_up(turn: Turn, handoff: Handoff, *, intro: str) -> bool:
    """True when a listener spoke (the caller then says nothing of its own)."""
    return any(listener(turn, handoff, intro=intro) for listener in _listeners)
