"""`mark_seen` and `typing_on`: what a person's Messenger shows while the bot reads and works.

Both are optional and only worth it at the moment: one attempt each, no retry,
never while the Page is paused (core.page_health), inside the send rate like any
Send API call; a failure is logged and the customer's answer goes on.

- `mark_seen`: once per run of a customer's events that the bot reads on
  `messaging` while it owns the thread, before the run's answers: one call per
  run, not per event.
- `typing_on`: where the first answer waits behind slow work. Today that is a
  first contact, whose answer waits for the User Profile API (name and locale);
  features with slow steps (an attachment fetched before the ticket step goes on)
  call `typing_on(rt, item)` before them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from bot.models import Customer
from core.mailbox import Queued
from core.page_health import PagePaused, page_health
from core.runtime import Runtime
from core.throttle import send_throttle
from messenger.errors import GraphError

log = logging.getLogger(__name__)

READ_KINDS = ("message", "postback")  # what a person writes or taps


def mark_seen(rt: Runtime, customer: Customer, items: Iterable[Queued]) -> None:
    """Mark the customer's messages seen, if any of `items` is one the bot just read and the
    bot owns the thread: our own buttons reach us on `messaging` while the Page Inbox has the
    chat (handoff.state), and a sender action then would only be refused (10/2018300)."""
    handoff = customer.state.get("handoff")
    if isinstance(handoff, dict) and handoff.get("owner", "bot") != "bot":
        return
    for item in items:
        if item.channel == "messaging" and item.kind in READ_KINDS:
            _act(rt, item, "mark_seen")
            return


def typing_on(rt: Runtime, item: Queued) -> None:
    """Show the typing bubble before slow work, for an event the bot answers."""
    if item.channel == "messaging" and item.kind in READ_KINDS:
        _act(rt, item, "typing_on")


def _act(rt: Runtime, item: Queued, action: str) -> None:
    health = page_health(rt.redis, first_pause_ms=rt.settings.page_pause_ms)
    page_id = rt.page_id_of(item.page_id)  # an Instagram account shares its Page's state and rate
    try:
        trial = health.before_call(page_id)
    except PagePaused:
        return  # the answers wait for the Page; a stale "seen" is not worth a trial call
    send_throttle(rt.redis, rt.settings.send_rate_per_page).wait(page_id)
    try:
        rt.graph_for(item.page_id).send_action(item.psid, action, retry=False)
    except GraphError as exc:
        health.after_failure(page_id, exc, trial=trial)
        log.info("customer %s: %s not shown: %s", item.customer, action, exc)
        return
    health.after_success(page_id, trial=trial)
