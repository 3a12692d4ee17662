"""Webhook payloads: split a page POST into per-customer events, each with a
stable de-duplication key, and read an event back in the worker.

Instagram's webhooks (`object: "instagram"`, the entry id the Instagram account's) have
Messenger's shape and are read the same way: the same keys, the same checks. Their echoes
come inside `messages` with `is_echo` (kind "echo", like Messenger's `message_echoes`), and
`messaging_seen` arrives as `read` (with a `mid` where Messenger gives a watermark): ignored
like Messenger's reads. Each event says which channel it came on (`Incoming.channel`).

This runs on the webhook's hot path, so it only looks at what routing needs
(page, customer, timestamp, key) and leaves the meaning to the worker.

Two characters no store takes are repaired here, at parse time, in the queued body
and so in the de-duplication key alike (a redelivery is repaired the same way):

- a lone UTF-16 surrogate (JSON `"\\ud800"` with no partner: Messenger sends one when
  it cuts a long message inside an emoji) cannot be encoded as UTF-8, so Redis could
  not store the event: each becomes U+FFFD, the replacement character. (`json.loads`
  joins a valid pair into one character, so any surrogate left is a lone one.)
- NUL (`\\u0000`): PostgreSQL text cannot hold it (SQLite can): it is removed, as
  it shows nothing anyway.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

CHANNELS = ("messaging", "standby")
# The `object` of each channel's webhooks; any other object is parsed as Messenger's and
# acknowledged without being queued (bot.webhook).
OBJECTS = {"page": "messenger", "instagram": "instagram"}
# Watermarks we never act on: accepted, not queued.
IGNORED_KINDS = frozenset({"read", "delivery"})
PAYLOAD_KINDS = (
    "message",
    "postback",
    "referral",
    "reaction",
    "message_edit",
    "pass_thread_control",
    "take_thread_control",
    "request_thread_control",
    "release_thread_control",
    "optin",
    "read",
    "delivery",
)


# Meta's ids are numeric strings (PSIDs about 16 digits); anything a Graph URL path could
# not carry would fail every call for that customer, so it is dropped at the door.
_NODE_ID = re.compile(r"[A-Za-z0-9_-]+")
MAX_ID_CHARS = 64
MAX_TIMESTAMP_MS = 253_402_300_799_999  # 9999-12-31: no later time fits a datetime
SECONDS_BELOW = 100_000_000_000  # a text timestamp under this is seconds (until year 5138)
MAX_KEY_CHARS = 200  # a longer natural dedupe key (an odd message id) is hashed
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
# NUL as json.dumps writes it: `\u0000` after an even run of backslashes (`\\` is one).
_NUL_ESCAPE = re.compile(r"(?<!\\)((?:\\\\)*)\\u0000")


class NotAPagePayload(ValueError):
    """The body is JSON but not shaped like a Messenger webhook."""


@dataclass(frozen=True, slots=True)
class Incoming:
    """One event as queued for its customer's mailbox."""

    page_id: str
    psid: str
    key: str
    timestamp: int
    body: str  # compact JSON of {"channel", "kind", "event"}; there "channel" is messaging|standby
    channel: str = "messenger"  # the account's: "messenger" (page_id a Page) or "instagram"


def parse_payload(data: Any) -> tuple[str, list[Incoming]]:
    """(object, events) of a decoded webhook body; raises NotAPagePayload."""
    if not isinstance(data, dict) or not isinstance(data.get("object"), str):
        raise NotAPagePayload("expected a JSON object with an 'object' field")
    entries = data.get("entry")
    if not isinstance(entries, list):
        raise NotAPagePayload("expected an 'entry' list")
    events: list[Incoming] = []
    platform = OBJECTS.get(data["object"], "messenger")
    for entry in entries:
        if not isinstance(entry, dict):
            raise NotAPagePayload("each entry must be an object")
        page_id = str(entry.get("id", ""))
        for channel in CHANNELS:
            items = entry.get(channel, [])
            if not isinstance(items, list):
                raise NotAPagePayload(f"entry.{channel} must be a list")
            for item in items:
                incoming = _incoming(page_id, channel, item, platform)
                if incoming is not None:
                    events.append(incoming)
    return data["object"], events


def kind_of(event: dict[str, Any]) -> str:
    for kind in PAYLOAD_KINDS:
        if kind in event:
            if kind == "message" and _dict(event["message"]).get("is_echo"):
                return "echo"
            return kind
    return "unknown"


def _incoming(page_id: str, channel: str, event: Any, platform: str) -> Incoming | None:
    if not isinstance(event, dict):
        return None
    kind = kind_of(event)
    if kind in IGNORED_KINDS:
        return None
    sender = _id(_dict(event.get("sender")).get("id"))
    recipient = _id(_dict(event.get("recipient")).get("id"))
    psid = recipient if kind == "echo" else sender
    page = _id(page_id) or (sender if kind == "echo" else recipient)
    timestamp = event.get("timestamp")
    if isinstance(timestamp, str):  # Meta's February 2026 reference shows "1527459824"
        timestamp = _timestamp_from_text(timestamp)
        event = {**event, "timestamp": timestamp}
    if not psid or not page or not _is_timestamp(timestamp):
        # page-level or malformed: nothing a customer is waiting for (signed by Meta, so rare)
        log.info("dropped a %s event without a usable customer id, page id or timestamp", kind)
        return None
    body = json.dumps(
        {"channel": channel, "kind": kind, "event": event},
        separators=(",", ":"),
        ensure_ascii=False,
    )
    if "\\u0000" in body or _LONE_SURROGATE.search(body):  # rare: rebuild from the repair
        body = _NUL_ESCAPE.sub(r"\1", _LONE_SURROGATE.sub("\ufffd", body))
        event = json.loads(body)["event"]
    key = dedupe_key(kind, psid, timestamp, event)
    return Incoming(page, psid, key, timestamp, body, platform)


def dedupe_key(kind: str, psid: str, timestamp: int, event: dict[str, Any]) -> str:
    """Stable across redeliveries: the message id where Meta gives one."""
    natural = _natural_key(kind, event)
    if natural is not None:
        if len(natural) <= MAX_KEY_CHARS:
            return natural
        return f"{kind}:#{hashlib.sha256(natural.encode()).hexdigest()[:32]}"
    canonical = json.dumps(event.get(kind), sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256(f"{kind}|{psid}|{timestamp}|{canonical}".encode()).hexdigest()
    return f"{kind}:{digest[:32]}"


def _natural_key(kind: str, event: dict[str, Any]) -> str | None:
    if kind in ("message", "echo", "postback"):
        mid = _dict(event.get(kind if kind != "echo" else "message")).get("mid")
        if isinstance(mid, str) and mid:
            return f"{kind}:{mid}"
    if kind == "reaction":
        reaction = _dict(event.get("reaction"))
        return f"reaction:{reaction.get('mid')}:{reaction.get('action')}:{reaction.get('emoji')}"
    return None


def _id(value: Any) -> str:
    """A page id or PSID as a string the Graph API takes as a node id; "" for anything else."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if isinstance(value, str) and len(value) <= MAX_ID_CHARS and _NODE_ID.fullmatch(value):
        return value
    return ""


def _is_timestamp(value: Any) -> bool:
    """Milliseconds since the epoch, as Meta sends them, within what a datetime can hold."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_TIMESTAMP_MS


def _timestamp_from_text(text: str) -> int | None:
    """Milliseconds from a numeric string; ten digits or fewer are seconds (Meta's sample)."""
    text = text.strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 16):
        return None
    value = int(text)
    return value * 1000 if value < SECONDS_BELOW else value


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def policy_notices(data: Any) -> list[tuple[str, str, str]]:
    """(page id, action, reason) of each `messaging_policy_enforcement` event in a decoded
    body: page-level, no sender, so never queued for a customer."""
    notices = []
    for entry in data.get("entry") or [] if isinstance(data, dict) else []:
        for event in _dict(entry).get("messaging") or []:
            enforcement = _dict(_dict(event).get("policy_enforcement"))
            page_id = _id(_dict(entry).get("id")) or _id(_dict(_dict(event).get("recipient")).get("id"))
            action = enforcement.get("action")
            if page_id and isinstance(action, str):
                notices.append((page_id, action[:40], str(enforcement.get("reason") or "")[:300]))
    return notices
