"""Email Support's one registration with the conversation (`bot.extensions`) and `/metrics`."""

from __future__ import annotations

from bot import extensions
from core import metrics_scrape


def register() -> None:
    import tickets.models  # noqa: F401 - its tables, for the schema and migrations
    from tickets import chat, queries, referral, unseen

    extensions.register_turn_hook(chat.turn_hook, phase="dialogue")
    extensions.register_turn_hook(referral.turn_hook, phase="dialogue")  # the web's my-tickets ref
    extensions.register_batch_guard(chat.joins_batch)
    extensions.register_run_probe(unseen.UNSEEN_PROBE, unseen.unseen_probe)
    extensions.register_action("create_ticket", chat.create_ticket)
    extensions.register_action("my_tickets", chat.my_tickets)
    extensions.register_payload("ticket", chat.on_payload)
    extensions.register_follow_up(chat.REPLY_SENT, chat.reply_sent)
    extensions.register_follow_up(chat.FILE_SENT, chat.file_sent)
    metrics_scrape.register_database_gauges(queries.status_gauges)
