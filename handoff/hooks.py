"""The turn hook: runs first for every event and keeps the bot quiet while a person has the chat.

It follows Facebook's word on who owns the thread: handover webhooks, the agent's
echoes, and the channel an event came on (`standby` goes to apps that do not
own the thread, `messaging` to the owner). The core has already put customer
messages and agent echoes in the transcript.
"""

from __future__ import annotations

from typing import Any

from bot import replies
from bot.flows.text import normalize
from bot.turn import Turn
from handoff import actions, followups, jobs, messages, state, summary
from messenger.app_ids import is_this_app

CONTROL_KINDS = ("pass_thread_control", "take_thread_control", "request_thread_control",
                 "release_thread_control")
BOT_PAYLOADS = (messages.RESUME, replies.GET_STARTED_PAYLOAD, replies.MENU_PAYLOAD)
BOT_ACTIONS = ("resume_bot", "restart", "create_ticket")  # tapped while a person has the chat:
# the bot takes it back and offers its choices (Email Support among them)


def handoff_hook(turn: Turn) -> bool:
    """True when the event is dealt with here (the conversation must not answer it)."""
    if turn.kind in CONTROL_KINDS:
        _on_control(turn)
    elif turn.kind == jobs.WAIT_KIND:
        _on_wait_over(turn)
    elif turn.kind == "echo":
        _on_echo(turn)
    elif turn.kind not in ("message", "postback"):
        return turn.on_standby or state.read(turn).with_human
    elif turn.on_standby:
        _on_standby(turn)
    else:
        return _on_customer(turn)
    return True


def _on_control(turn: Turn) -> None:
    body = _part(turn, turn.kind)
    if turn.kind == "release_thread_control":
        _control_back(turn)
    elif turn.kind == "pass_thread_control" and _is_ours(turn, body.get("new_owner_app_id")):
        _control_back(turn)
    elif turn.kind in ("pass_thread_control", "take_thread_control"):
        if not _is_ours(turn, body.get("new_owner_app_id")):
            state.taken_by_human(turn)  # e.g. an agent replied from the inbox unasked: silent now
    elif turn.kind == "request_thread_control" and not state.read(turn).with_human:
        requester = str(body.get("requested_owner_app_id") or "")
        if requester.isdigit() and not _is_ours(turn, requester):
            turn.call("pass_thread_control", target_app_id=requester,
                      metadata=summary.for_agent(turn), then=followups.GRANTED)


def _control_back(turn: Turn) -> None:
    if state.read(turn).with_human:
        followups.control_back(turn)
    # else we knew already: it was our own take, or a repeat


def _on_wait_over(turn: Turn) -> None:
    """No echo from the inbox since the handover: take the thread back and offer a ticket."""
    handoff = state.read(turn)
    handover = _part(turn, jobs.WAIT_KIND).get("handover")
    if (handoff.owner != state.HUMAN or handoff.handover != handover or handoff.agent_replied
            or messages.ticket_option(turn) is None or not state.may_speak(turn)):
        return
    turn.call("take_thread_control", metadata="no agent reply yet: offering email support",
              then=followups.TOOK_FOR_OFFER)


def _on_echo(turn: Turn) -> None:
    if _is_ours(turn, _part(turn, "message").get("app_id")):
        return
    if turn.on_standby or state.read(turn).with_human:
        state.taken_by_human(turn, agent_replied=True)


def _on_standby(turn: Turn) -> None:
    """Someone else owns the thread: listen, unless the customer asks for the bot."""
    if _asks_for_bot(turn):
        actions.resume_bot(turn)
    elif state.is_news(turn, state.read(turn)):
        state.taken_by_human(turn)


def _on_customer(turn: Turn) -> bool:
    """A message or postback on `messaging`: False lets the conversation answer it."""
    handoff = state.read(turn)
    if handoff.with_human:
        if _asks_for_bot(turn):
            actions.resume_bot(turn)
            return True
        if turn.kind == "postback" or not state.is_news(turn, handoff):
            return True  # our own button tapped while a person has the chat: listen only
        state.back_to_bot(turn, greet=True)  # Facebook gives us messages again: it went idle
        handoff = state.read(turn)
    if not handoff.greet:
        return False
    state.update(turn, greet=False)
    if _has_a_route(turn):
        return False
    turn.send(*messages.returned(turn))
    turn.set_state(greeted=True)
    return True


def _has_a_route(turn: Turn) -> bool:
    """The customer picked something (a payload, or a keyword's words): answer that instead."""
    payload, words = _payload_and_words(turn)
    return bool(payload) or (words is not None and turn.flows.match(words, turn.locale) is not None)


def _asks_for_bot(turn: Turn) -> bool:
    """Resume, Restart, Email Support or Get Started, by payload; or, where Facebook drops
    payloads on standby, the Resume title or a resume keyword as the whole message."""
    payload, words = _payload_and_words(turn)
    if payload:
        if payload in BOT_PAYLOADS:
            return True
        prefix = replies.flow_payload("")
        flow = turn.flows.flows.get(payload[len(prefix):]) if payload.startswith(prefix) else None
        return flow is not None and flow.action in BOT_ACTIONS
    return words is not None and normalize(words) in _resume_words(turn)


def _payload_and_words(turn: Turn) -> tuple[str | None, str | None]:
    if turn.kind == "postback":
        postback = _part(turn, "postback")
        return _text(postback.get("payload")), _text(postback.get("title"))
    message = _part(turn, "message")
    quick = message.get("quick_reply")
    return _text(quick.get("payload") if isinstance(quick, dict) else None), _text(message.get("text"))


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _resume_words(turn: Turn) -> set[str]:
    texts = [*turn.flows.handoff.texts.resume_button.values()]
    flow = messages.action_flow(turn.flows, "resume_bot")
    if flow is not None:
        texts += [*flow.title.values(), *(word for words in flow.keywords.values() for word in words)]
    return {normalize(text) for text in texts} - {""}


def _is_ours(turn: Turn, app_id: Any) -> bool:
    return is_this_app(app_id, ours=turn.settings.messenger_app_id, inbox=turn.handover_target)


def _part(turn: Turn, name: str) -> dict[str, Any]:
    value = turn.event.get(name)
    return value if isinstance(value, dict) else {}
