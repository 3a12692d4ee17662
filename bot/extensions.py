"""The seams where handover and tickets plug into the conversation.

Each function lists the handlers of one kind; a feature adds its own here, so
the conversation module never imports a feature package's internals.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.flows.schema import Flow
from bot.turn import Turn

TurnHook = Callable[[Turn], bool]  # True: the event is handled, stop there
ActionHandler = Callable[[Turn, Flow | None], None]
PayloadHandler = Callable[[Turn, str], bool]  # keyed by the payload's prefix


def turn_hooks() -> list[TurnHook]:
    """Run first, in order, for every event (e.g. silence while a human chats)."""
    return []


def action_handlers() -> dict[str, ActionHandler]:
    """The YAML's fixed actions (`action:` in a flow)."""
    from bot.conversation import restart

    return {"restart": restart}


def payload_handlers() -> dict[str, PayloadHandler]:
    """Postback and quick-reply payloads that are not flows, by prefix."""
    return {}
