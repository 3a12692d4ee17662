"""The seams where handover and tickets plug into the conversation.

Each function lists the handlers of one kind; a feature adds its own here, so
the conversation module never imports a feature package's internals.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from bot.flows.schema import Flow
from bot.models import Customer
from bot.turn import Turn
from core.mailbox import Queued

if TYPE_CHECKING:
    from bot.outbox import CallOutcome

BatchGuard = Callable[[Customer, Queued], bool]  # False: decide this event in a run of its own
TurnHook = Callable[[Turn], bool]  # True: the event is handled, stop there
ActionHandler = Callable[[Turn, Flow | None], None]
PayloadHandler = Callable[[Turn, str], bool]  # keyed by the payload's prefix
CallFollowUp = Callable[[Turn, "CallOutcome"], bool]  # False: cancel the turn's pending calls


def turn_hooks() -> list[TurnHook]:
    """Run first, in order, for every event (e.g. silence while a human chats)."""
    from attachments.record import keep_files
    from handoff.hooks import handoff_hook
    from satisfaction.answers import turn_hook as rating_hook
    from satisfaction.events import resolved_hook
    from tickets.chat import turn_hook as tickets_hook
    from tickets.referral import turn_hook as referral_hook

    # files are kept whoever has the thread; handoff first: tickets never speak over a person;
    # a typed rating only when nothing else took the message (the resolved event is the
    # satisfaction package's alone); the web's my-tickets ref before the greeting
    return [keep_files, resolved_hook, handoff_hook, tickets_hook, referral_hook, rating_hook]


def batch_guards() -> list[BatchGuard]:
    """Asked before an event joins a run decided in one transaction (`bot.decisions`)."""
    from tickets.chat import joins_batch

    return [joins_batch]


def action_handlers() -> dict[str, ActionHandler]:
    """The YAML's fixed actions (`action:` in a flow)."""
    from bot.conversation import restart
    from handoff.actions import live_agent, resume_bot
    from tickets.chat import create_ticket, my_tickets

    return {"restart": restart, "live_agent": live_agent, "resume_bot": resume_bot,
            "create_ticket": create_ticket, "my_tickets": my_tickets}


def payload_handlers() -> dict[str, PayloadHandler]:
    """Postback and quick-reply payloads that are not flows, by prefix."""
    from handoff.actions import on_payload as handoff_payload
    from satisfaction.answers import on_payload as rating_payload
    from tickets.chat import on_payload as ticket_payload

    return {"handoff": handoff_payload, "ticket": ticket_payload, "rate": rating_payload}


def call_follow_ups() -> dict[str, CallFollowUp]:
    """What a Graph call's result means, by the name the call gave (`then=`; see bot.outbox)."""
    from handoff.followups import FOLLOW_UPS
    from tickets.chat import FILE_SENT, REPLY_SENT, file_sent, reply_sent

    return {**FOLLOW_UPS, REPLY_SENT: reply_sent, FILE_SENT: file_sent}
