"""Facebook's echoes of our own sends, read as receipts.

Every send carries its outbox key in `metadata` (`sd:<event key>#<seq>`), and
Facebook posts a `message_echoes` event, on `messaging` or `standby`, for each
message it accepted, with that metadata and the message's `mid`. The echo
lands in the customer's mailbox behind the event that caused the send.

The ledger (`bot.ledger`) journals "attempted" before each send. A crash
before Meta's answer was journaled leaves only that mark: the outcome is
unknown. The next run then looks for the send's echo among the customer's
waiting events. Found: the send is recorded with the echo's `mid` and not made
again. Not found: the customer waits, with its later events, until
`echo_wait_ms` after the attempt, then the send is made again. An echo that
comes after that resend names a message the customer got twice
(`bot.late_echoes`).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from config.settings import PAGE_INBOX_APP_ID
from core.mailbox import Queued
from core.runtime import Runtime
from messenger.app_ids import is_this_app
from messenger.send_api import METADATA_LIMIT

PREFIX = "sd:"
SCAN_LIMIT = 1000  # waiting events searched for echoes; one behind more is not seen
POLL_MS = 1000  # while an echo is awaited, the customer is looked at again this often
MAX_EVENT_KEY = 300  # Outbox.event_key


class EchoAwaited(Exception):
    """A send's outcome is unknown and its echo may still come: try the customer later."""

    def __init__(self, call_key: str, delay_ms: int) -> None:
        super().__init__(f"awaiting the echo of {call_key} for up to {delay_ms} ms")
        self.call_key = call_key
        self.delay_ms = delay_ms


def metadata_for(call_key: str) -> str:
    """The `metadata` a send carries: its outbox key, which its echo brings back."""
    return f"{PREFIX}{call_key}"[:METADATA_LIMIT - 1]


def call_key_of(metadata: str) -> tuple[str, int] | None:
    """(event key, seq) named by our metadata; None for anything else."""
    event_key, _, seq = metadata.removeprefix(PREFIX).rpartition("#")
    if not event_key or len(event_key) > MAX_EVENT_KEY or not _is_seq(seq):
        return None
    return event_key, int(seq)


def _is_seq(text: str) -> bool:
    return text.isascii() and text.isdigit() and len(text) <= 9  # fits any integer column


def own_echo(app_id: str | None, event: dict[str, Any],
             inbox: str = PAGE_INBOX_APP_ID) -> tuple[str, str] | None:
    """(metadata, mid) of an echo of one of our sends (`app_id`: ours); None for any other."""
    message = event.get("message")
    if not isinstance(message, dict) or not message.get("is_echo"):
        return None
    metadata, mid = message.get("metadata"), message.get("mid")
    if (not is_this_app(message.get("app_id"), ours=app_id, inbox=inbox)
            or not isinstance(mid, str) or not mid):
        return None
    if not isinstance(metadata, str) or not metadata.startswith(PREFIX):
        return None
    return metadata, mid


def receipts(rt: Runtime, customer_key: str) -> dict[str, str]:
    """metadata -> mid of our echoes waiting in the customer's mailbox (either channel)."""
    found: dict[str, str] = {}
    inbox = rt.account(customer_key.split(":", 1)[0]).handover_target  # Page's or Instagram's
    for item in rt.mailbox.peek_many(customer_key, SCAN_LIMIT):
        echo = (own_echo(rt.settings.messenger_app_id, item.event, inbox)
                if item.kind == "echo" else None)
        if echo is not None:
            found.setdefault(*echo)
    return found


def is_late(rt: Runtime, item: Queued) -> bool:
    """An echo handled longer after Facebook sent the message than a resend waits for it."""
    sent_at = item.event.get("timestamp")
    return isinstance(sent_at, int) and now_ms() - sent_at > rt.settings.echo_wait_ms


def sent_at(item: Queued) -> datetime | None:
    """When Facebook sent the echoed message (the echo's timestamp)."""
    millis = item.event.get("timestamp")
    return datetime.fromtimestamp(millis / 1000, UTC) if isinstance(millis, int) else None


def now_ms() -> int:
    return int(time.time() * 1000)
