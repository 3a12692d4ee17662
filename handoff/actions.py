"""The customer's handover choices: Live Agent Request and Resume Chat With Bot (flow actions
`live_agent`, `resume_bot`) and the `handoff:` payloads of the buttons and quick replies
this package sends."""

from __future__ import annotations

from bot import extensions
from bot.flows.schema import Flow
from bot.turn import Turn
from handoff import followups, hours, messages, state, summary


def live_agent(turn: Turn, _flow: Flow | None = None) -> None:
    """In business hours, hand over; outside them, say when agents are back and offer the rest."""
    if state.read(turn).with_human:
        return  # already with a person
    now = messages.utcnow()
    if hours.is_open(turn.flows.handoff, now):
        hand_over(turn)
    else:
        turn.send(*messages.closed(turn, now))
        turn.set_state(greeted=True)


def hand_over(turn: Turn, *, out_of_hours: bool = False) -> None:
    """Confirm with the Resume button, then pass the thread to the Page Inbox (in that order:
    once passed, the bot may not send)."""
    turn.send(messages.connecting(turn))
    turn.call("pass_thread_control", target_app_id=turn.handover_target,
              metadata=summary.for_agent(turn, out_of_hours=out_of_hours),
              then=followups.PASSED)
    turn.set_state(greeted=True)


def resume_bot(turn: Turn, _flow: Flow | None = None) -> None:
    """Take the thread back if another app has it, and answer at once with the choices."""
    if state.read(turn).with_human:
        turn.call("take_thread_control", metadata=followups.RESUME_METADATA, then=followups.TOOK)
    else:
        state.update(turn, greet=False)
    turn.send(*messages.resumed(turn))
    turn.set_state(greeted=True)


def on_payload(turn: Turn, payload: str) -> bool:
    """`handoff:agent`, `handoff:wait`, `handoff:resume`, `handoff:ticket`; False if unknown."""
    if payload == messages.AGENT:
        live_agent(turn)
    elif payload == messages.WAIT:
        if not state.read(turn).with_human:
            hand_over(turn, out_of_hours=not hours.is_open(turn.flows.handoff, messages.utcnow()))
    elif payload == messages.RESUME:
        resume_bot(turn)
    elif payload == messages.TICKET:
        create_ticket = extensions.action_handlers().get("create_ticket")
        if create_ticket is None:
            return False
        create_ticket(turn, None)
    else:
        return False
    return True
