"""What a process registered with the bot's seams: run in a worker as a job, or after
`create_app` in a fresh interpreter, to show that each process type registers every feature."""

from __future__ import annotations

from typing import Any


def registered() -> dict[str, Any]:
    from bot import extensions
    from core import metrics_scrape

    def name(handler: Any) -> str:
        return f"{handler.__module__}.{handler.__name__}"

    return {
        "turn_hooks": [name(hook) for hook in extensions.turn_hooks()],
        "actions": sorted(extensions.action_handlers()),
        "payloads": sorted(extensions.payload_handlers()),
        "follow_ups": sorted(extensions.call_follow_ups()),
        "executors": sorted(k for k in ("fetch_attachments", "send_file") if extensions.executor(k)),
        "gauges": [name(read) for read in metrics_scrape._database_gauges],
    }
