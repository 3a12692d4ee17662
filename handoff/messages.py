"""What the bot sends around a handover, in the customer's language, with the choices that
make sense at that point (quick replies; the Resume button as a postback button)."""

from __future__ import annotations

from datetime import UTC, datetime

from bot import extensions, replies
from bot.flows.handoff_config import HandoffTexts
from bot.flows.schema import Flow, Flows
from bot.replies import Message, QuickReply
from bot.turn import Turn
from handoff import hours

PREFIX = "handoff"
AGENT = f"{PREFIX}:agent"  # ask for an agent (hours apply)
WAIT = f"{PREFIX}:wait"  # wait for an agent even out of hours
RESUME = f"{PREFIX}:resume"  # back to the bot; on a postback button, so it survives standby
TICKET = f"{PREFIX}:ticket"  # Email Support when no flow offers it
QUICK_REPLIES_MAX = 13


def texts(turn: Turn) -> HandoffTexts:
    return turn.flows.handoff.texts


def action_flow(flows: Flows, action: str) -> Flow | None:
    return next((flow for flow in flows.flows.values() if flow.action == action), None)


def connecting(turn: Turn) -> Message:
    """'An agent is on the way', with the Resume Chat With Bot button."""
    button = replies.postback_button(turn.text(texts(turn).resume_button), RESUME)
    return replies.button_message(turn.text(texts(turn).connecting), [button])


def resumed(turn: Turn) -> list[Message]:
    """Back with the bot: the topics, talk to a human, and Restart."""
    extra = [flow.id for action in ("live_agent", "restart")
             if (flow := action_flow(turn.flows, action)) is not None]
    ids = list(dict.fromkeys([*turn.flows.menu.items, *extra]))
    if len(ids) > QUICK_REPLIES_MAX:
        menu = [i for i in ids if i not in extra][: QUICK_REPLIES_MAX - len(extra)]
        ids = [*menu, *extra]
    options = replies.menu_options(turn.flows, turn.locale, ids)
    return replies.text_messages(turn.text(texts(turn).resumed), options)


def returned(turn: Turn) -> list[Message]:
    """Control came back from the inbox: thanks, and the menu."""
    return replies.menu_messages(turn.flows, turn.locale, intro=turn.text(texts(turn).returned))


def closed(turn: Turn, now: datetime) -> list[Message]:
    """Out of hours: when agents are back; Email Support, waiting anyway, or the menu."""
    when = hours.when_text(turn.flows.handoff, now, turn.locale)
    text = turn.text(texts(turn).closed).replace("{when}", when)
    return replies.text_messages(text, _options(turn, ticket_first=True))


def busy(turn: Turn) -> list[Message]:
    """No agent replied in time: keep waiting, Email Support, or the menu."""
    return replies.text_messages(turn.text(texts(turn).busy), _options(turn, ticket_first=False))


def unavailable(turn: Turn) -> list[Message]:
    """The pass to the inbox failed: try again, Email Support, or the menu."""
    return replies.text_messages(turn.text(texts(turn).unavailable),
                                 _options(turn, ticket_first=False, again=True))


def take_refused(turn: Turn) -> list[Message]:
    return replies.text_messages(turn.text(texts(turn).take_refused))


def _options(turn: Turn, *, ticket_first: bool, again: bool = False) -> list[QuickReply]:
    agent = action_flow(turn.flows, "live_agent")
    if again and agent is not None:
        waiting = (turn.flows.title(agent.id, turn.locale), AGENT)
    else:
        waiting = (turn.text(texts(turn).wait_button), WAIT)
    ticket = ticket_option(turn)
    options = [ticket, waiting] if ticket_first else [waiting, ticket]
    restart = action_flow(turn.flows, "restart")
    if restart is not None:
        options.append((turn.flows.title(restart.id, turn.locale), replies.flow_payload(restart.id)))
    return [option for option in options if option is not None]


def ticket_option(turn: Turn) -> QuickReply | None:
    """Email Support: the flow that creates tickets, or the action alone; None without tickets."""
    flow = action_flow(turn.flows, "create_ticket")
    if flow is not None:
        return turn.flows.title(flow.id, turn.locale), replies.flow_payload(flow.id)
    if "create_ticket" in extensions.action_handlers():
        return turn.text(texts(turn).email_button), TICKET
    return None


def utcnow() -> datetime:
    return datetime.now(UTC)
