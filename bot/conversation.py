"""What the bot does with one event: greet, route keywords, quick replies and
postbacks to flows, fall back to the menu. Handover and tickets plug in
through `bot.extensions`; nothing here talks to Facebook or the database."""

from __future__ import annotations

import logging
from typing import Any

from bot import extensions, gestures, instagram, replies
from bot.flows.schema import Flow
from bot.turn import Turn
from messenger.app_ids import is_this_app

log = logging.getLogger(__name__)

# Conversation state that survives a Restart; everything else is flow state.
KEPT_ON_RESTART = ("greeted", "locale", "handoff")


def handle_turn(turn: Turn) -> None:
    record_inbound(turn)
    for hook in extensions.turn_hooks():
        if hook(turn):
            return
    if turn.on_standby or turn.kind == "echo":
        return  # someone else owns the thread, or it is the page talking
    if turn.kind == "message":
        on_message(turn)
    elif turn.kind == "postback":
        route_payload(turn, str(_part(turn, "postback").get("payload") or ""))
    elif turn.kind == "referral":
        greet(turn)


def record_inbound(turn: Turn) -> None:
    """Put what the customer (or an agent) said into the transcript."""
    if turn.kind == "message" and (sticker := gestures.sticker_id(_part(turn, "message"))) is not None:
        gestures.record_sticker(turn, _part(turn, "message"), sticker)
    elif turn.kind == "message":
        message = _part(turn, "message")
        quick = _dict(message.get("quick_reply")).get("payload")
        kind = "quick_reply" if quick else ("text" if message.get("text") else "attachment")
        text = message.get("text") or _describe_attachments(message)
        turn.hear("customer", kind, text, quick, message.get("mid"))
    elif turn.kind == "postback":
        postback = _part(turn, "postback")
        turn.hear("customer", "postback", postback.get("title"), postback.get("payload"),
                  postback.get("mid"))
    elif turn.kind in gestures.RECORDED_KINDS:
        gestures.record(turn)
    elif turn.kind == "echo":
        message = _part(turn, "message")
        if not is_this_app(message.get("app_id"), ours=turn.settings.messenger_app_id,
                           inbox=turn.handover_target):
            turn.hear("agent", "echo", message.get("text") or _describe_attachments(message),
                      None, message.get("mid"))


def on_message(turn: Turn) -> None:
    message = _part(turn, "message")
    if instagram.needs_no_answer(message):  # unsent, or a story mention: nothing was asked
        return
    quick = _dict(message.get("quick_reply")).get("payload")
    if isinstance(quick, str) and quick:
        route_payload(turn, quick)
        return
    if gestures.sticker_id(message) is not None:
        gestures.acknowledge(turn)
        return
    text = message.get("text")
    flow = turn.flows.match(text, turn.locale) if isinstance(text, str) else None
    if flow is not None:
        run_flow(turn, flow)
    elif not turn.state.get("greeted"):
        greet(turn)
    else:
        fallback(turn)


def route_payload(turn: Turn, payload: str) -> None:
    if payload == replies.GET_STARTED_PAYLOAD:
        greet(turn)
    elif payload == replies.MENU_PAYLOAD:
        show_menu(turn)
    elif payload.startswith("flow:") and payload[5:] in turn.flows.flows:
        run_flow(turn, turn.flows.flow(payload[5:]))
    else:
        handler = extensions.payload_handlers().get(payload.split(":", 1)[0])
        if handler is None or not handler(turn, payload):
            fallback(turn)


def run_flow(turn: Turn, flow: Flow) -> None:
    if flow.action is None:
        turn.send(*replies.flow_messages(turn.flows, flow, turn.locale))
        turn.set_state(flow=flow.id, greeted=True)
        return
    handler = extensions.action_handlers().get(flow.action)
    if handler is not None and flow.messages:  # the admin's words first, then the action
        turn.send(*replies.flow_messages(turn.flows, flow, turn.locale, follow_ups=False))
    if handler is None:
        log.error("flow %s uses action %s, which this build does not provide", flow.id,
                  flow.action)
        fallback(turn)
        return
    handler(turn, flow)


def restart(turn: Turn, _flow: Flow | None = None) -> None:
    first_contact = not turn.state.get("greeted")
    turn.customer.state = {k: v for k, v in turn.state.items() if k in KEPT_ON_RESTART}
    greet(turn) if first_contact else show_menu(turn)


def greet(turn: Turn) -> None:
    name = instagram.greeting_name(turn.customer.first_name, turn.customer.username)
    text = turn.text(turn.flows.greeting).replace("{first_name}", name)
    text = text.replace(" !", "!").replace(" ,", ",")
    turn.send(*replies.menu_messages(turn.flows, turn.locale, intro=text))
    turn.set_state(greeted=True)


def show_menu(turn: Turn) -> None:
    turn.send(*replies.menu_messages(turn.flows, turn.locale))
    turn.set_state(greeted=True)


def fallback(turn: Turn) -> None:
    intro = turn.text(turn.flows.fallback)
    turn.send(*replies.menu_messages(turn.flows, turn.locale, intro=intro))
    turn.set_state(greeted=True)


def _describe_attachments(message: dict[str, Any]) -> str | None:
    attachments = message.get("attachments")
    if not isinstance(attachments, list) or not attachments:
        return None
    kinds = [str(_dict(a).get("type", "unknown")) for a in attachments]
    return "[" + ", ".join(kinds) + "]"


def _part(turn: Turn, name: str) -> dict[str, Any]:
    return _dict(turn.event.get(name))


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
