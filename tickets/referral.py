"""The chat links' `ref` (`m.me/<page>?ref=my-tickets`, `ig.me/m/<account>?ref=my-tickets`):
a customer who came from the web's sign-in page is answered with their sign-in link.

Messenger sends the ref as a `referral` event when the thread already exists, and inside
the Get Started postback (`postback.referral.ref`) when the link opens a new thread. Anyone
can write any ref into a link, so it is trusted for nothing but choosing this answer: the
link is signed for the customer the webhook names (the PSID), never for anything in the ref.
"""

from __future__ import annotations

from typing import Any

from bot.turn import Turn
from tickets.chat import my_tickets
from tickets.turns import agent_has_thread

MY_TICKETS_REF = "my-tickets"


def turn_hook(turn: Turn) -> bool:
    """True when the event is the my-tickets ref and the customer got their link."""
    if turn.on_standby or turn.kind not in ("referral", "postback") or agent_has_thread(turn):
        return False
    if ref_of(turn.event) != MY_TICKETS_REF:
        return False
    my_tickets(turn)
    return True


def ref_of(event: dict[str, Any]) -> str | None:
    """The ref of a referral event, or of a Get Started postback that carries one."""
    referral = event.get("referral")
    if not isinstance(referral, dict):
        postback = event.get("postback")
        referral = postback.get("referral") if isinstance(postback, dict) else None
    ref = referral.get("ref") if isinstance(referral, dict) else None
    return ref if isinstance(ref, str) else None
