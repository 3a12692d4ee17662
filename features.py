"""The features this build runs, each registered with the bot's seams once per process.

`bot` and `core` never import a feature package; a feature plugs in through its
`plugin.register()` (turn hooks, actions, payloads, outbox calls and follow-ups in
`bot.extensions`, gauges in `core.metrics_scrape`, its tables with SQLModel). The
app factory (web, `flask` CLI, preview) and the worker (`worker.DeskWorker`) call
`register_all` before they build the runtime. A new feature is one package and one
line here.
"""

from __future__ import annotations

import threading

_lock = threading.Lock()
_registered = False


def register_all() -> None:
    """Idempotent; the order is the order of the `/metrics` gauges."""
    global _registered
    with _lock:
        if _registered:
            return
        from attachments import plugin as attachments
        from handoff import plugin as handoff
        from satisfaction import plugin as satisfaction
        from tickets import plugin as tickets

        for feature in (attachments, handoff, tickets, satisfaction):
            feature.register()
        _registered = True


def import_models() -> None:
    """Every table of the bot and the features (migrations/env.py compares them)."""
    from core.runtime import import_models as bot_models

    bot_models()
    register_all()
