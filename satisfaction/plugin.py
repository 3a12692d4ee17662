"""Satisfaction ratings' one registration with the conversation (`bot.extensions`) and
`/metrics`."""

from __future__ import annotations

from bot import extensions
from core import metrics_scrape


def register() -> None:
    import satisfaction.models  # noqa: F401 - its tables, for the schema and migrations
    from handoff import returned
    from satisfaction import answers, ask, events, stats
    from tickets import resolved

    # the resolved event is this package's alone; a typed rating only when nothing else
    # (a person chatting, the ticket wizard) took the message
    extensions.register_turn_hook(events.resolved_hook, phase="own_event")
    extensions.register_turn_hook(answers.turn_hook, phase="last")
    extensions.register_payload("rate", answers.on_payload)
    metrics_scrape.register_database_gauges(stats.rating_gauges)
    returned.listen(ask.ask_for_chat)  # asked to rate the chat, once control comes back
    resolved.listen(in_chat=ask.ask_for_ticket, on_screen=events.push_resolved)
