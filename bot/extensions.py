"""The seams where handover and tickets plug into the conversation.

Each function lists the handlers of one kind; a feature adds its own here, so
the conversation module never imports a feature package's internals.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from bot.flows.schema import Flow
from bot.turn import Turn

if TYPE_CHECKING:
    from bot.outbox import CallOutcome

TurnHook = Callable[[Turn], bool]  # True: the event is handled, stop there
ActionHandler = Callable[[Turn, Flow | None], None]
PayloadHandler = Callable[[Turn, str], bool]  # keyed by the payload's prefix
CallFollowUp = Callable[[Turn, "CallOutcome"], bool]  # False: cancel the turn's pending calls


def turn_hooks() -> list[TurnHook]:
    """Run first, in order, for every event (e.g. silence while a human chats)."""
    from handoff.hooks import handoff_hook

    return [handoff_hook]


def action_handlers() -> dict[str, ActionHandler]:
    """The YAML's fixed actions (`action:` in a flow)."""
    from bot.conversation import restart
    from handoff.actions import live_agent, resume_bot

    return {"restart": restart, "live_agent": live_agent, "resume_bot": resume_bot}


def payload_handlers() -> dict[str, PayloadHandler]:
    """Postback and quick-reply payloads that are not flows, by prefix."""
    from handoff.actions import on_payload as handoff_payload

    return {"handoff": handoff_payload}


def call_follow_ups() -> dict[str, CallFollowUp]:
    """What a Graph call's result means, by the name the call gave (`then=`; see bot.outbox)."""
    from handoff.followups import FOLLOW_UPS

    return dict(FOLLOW_UPS)
