"""What a handover call's result means (run by `bot.outbox` once Facebook has answered).

Each follow-up gets a small turn and the call's outcome; it returns False to
cancel the turn's calls still pending. The state only says "human" after a
pass succeeded, and "bot" after a take succeeded or control came back.
"""

from __future__ import annotations

import logging

from bot.outbox import OWNED_ELSEWHERE, CallOutcome
from bot.turn import Turn
from handoff import jobs, messages, returned, state

log = logging.getLogger(__name__)

PASSED = "handoff.passed"  # our Live Agent Request's pass to the inbox
GRANTED = "handoff.granted"  # our pass answering the inbox's request_thread_control
TOOK = "handoff.took"  # the customer's Resume
TOOK_FOR_OFFER = "handoff.took_for_offer"  # no agent replied: take back to offer a ticket
OWNER = "handoff.owner"  # thread_owner, after a send was refused for ownership
RESUME_METADATA = "resume_bot: the customer asked to chat with the bot again"


def passed(turn: Turn, outcome: CallOutcome) -> bool:
    if outcome.ok:
        handoff = state.passed_to_human(turn)
        jobs.schedule_wait_check(turn, handoff.handover)
    else:
        log.warning("customer %s: pass to the inbox refused: %s", turn.customer.id, outcome.error)
        turn.send(*messages.unavailable(turn))
    return True


def granted(turn: Turn, outcome: CallOutcome) -> bool:
    if outcome.ok:
        state.taken_by_human(turn, agent_replied=True)  # the inbox asked: an agent is there
    return True


def took(turn: Turn, outcome: CallOutcome) -> bool:
    """Resume: the choices go out if the take worked; otherwise ask for the thread instead."""
    if outcome.ok:
        state.back_to_bot(turn, greet=False)
        return True
    log.info("customer %s: take_thread_control refused (%s); requesting control instead",
             turn.customer.id, outcome.error)
    state.update(turn, requested=True)
    turn.call("request_thread_control", metadata=RESUME_METADATA)
    # Facebook refuses this while the inbox owns the thread (recorded, never retried);
    # it goes through where apps may still reply, such as a Page without a default app.
    turn.send(*messages.take_refused(turn))
    return False


def took_for_offer(turn: Turn, outcome: CallOutcome) -> bool:
    if outcome.ok:
        state.back_to_bot(turn, greet=False)
        turn.send(*messages.busy(turn), messaging_type="UPDATE")
    else:
        log.info("customer %s: cannot take the thread back to offer a ticket: %s",
                 turn.customer.id, outcome.error)
    return True


def owned_elsewhere(turn: Turn, outcome: CallOutcome) -> bool:
    """A call was refused because another app owns the thread: ask Facebook who does."""
    if not state.read(turn).with_human:
        state.unknown(turn)  # we believed the bot owned it
    turn.call("thread_owner", then=OWNER)
    return False


def owner_known(turn: Turn, outcome: CallOutcome) -> bool:
    if not outcome.ok:
        return True  # stays as it is: the next event's channel, or thread_owner, settles it
    handoff = state.read(turn)
    if outcome.result not in ("", turn.settings.messenger_app_id):
        state.taken_by_human(turn)
    elif handoff.owner == state.HUMAN:
        control_back(turn)  # it came back while we were asking
    elif handoff.owner == state.UNKNOWN:
        state.back_to_bot(turn, greet=False)  # the refusal was a moment's: carry on
    return True


def control_back(turn: Turn) -> None:
    """Our app owns the thread again: greet now if the window allows, else at the next message."""
    handoff = state.read(turn)
    if not state.may_speak(turn):
        if not handoff.requested:
            returned.follow_up(turn, handoff, intro="")  # records that the window had closed
        state.back_to_bot(turn, greet=True)
        return
    state.back_to_bot(turn, greet=False)
    if handoff.requested:  # the customer asked for the bot: no rating of the agent's chat
        turn.send(*messages.resumed(turn), messaging_type="UPDATE")
    elif not returned.follow_up(turn, handoff, intro=turn.text(messages.texts(turn).returned)):
        turn.send(*messages.returned(turn), messaging_type="UPDATE")
    turn.set_state(greeted=True)


FOLLOW_UPS = {
    PASSED: passed,
    GRANTED: granted,
    TOOK: took,
    TOOK_FOR_OFFER: took_for_offer,
    OWNER: owner_known,
    OWNED_ELSEWHERE: owned_elsewhere,
}
