"""Webhook payloads shaped like the ones Facebook posts to a Page's app (doc §3)."""

from __future__ import annotations

import secrets
from typing import Any

ECHOED_KEYS = ("text", "quick_replies")


def new_mid() -> str:
    return "m_" + secrets.token_urlsafe(24)


def envelope(page_id: str, event: dict[str, Any], *, standby: bool,
             obj: str = "page") -> dict[str, Any]:
    """`{"object": "page", "entry": [...]}` holding one event on its channel ("instagram"
    and the Instagram account's id for an Instagram account's)."""
    channel = "standby" if standby else "messaging"
    return {"object": obj,
            "entry": [{"id": page_id, "time": event["timestamp"], channel: [event]}]}


def from_user(psid: str, page_id: str, timestamp: int, **payload: Any) -> dict[str, Any]:
    """A customer-side event: message, postback or a handover notice about the thread."""
    return {"sender": {"id": psid}, "recipient": {"id": page_id}, "timestamp": timestamp,
            **payload}


def echo(
    psid: str,
    page_id: str,
    timestamp: int,
    *,
    app_id: str,
    mid: str,
    message: dict[str, Any],
) -> dict[str, Any]:
    """The `message_echoes` event for a message the Page sent (from any app or the Inbox)."""
    body: dict[str, Any] = {"is_echo": True, "app_id": numeric(app_id)}
    if "metadata" in message:
        body["metadata"] = message["metadata"]
    body["mid"] = mid
    body.update((key, message[key]) for key in ECHOED_KEYS if key in message)
    if "attachment" in message:
        body["attachments"] = [message["attachment"]]
    return {"sender": {"id": page_id}, "recipient": {"id": psid}, "timestamp": timestamp,
            "message": body}


def customer_message(
    mid: str,
    text: str | None,
    *,
    quick_reply: str | None,
    attachments: list[dict[str, Any]] | None,
) -> dict[str, Any]:
    message: dict[str, Any] = {"mid": mid}
    if text is not None:
        message["text"] = text
    if quick_reply is not None:
        message["quick_reply"] = {"payload": quick_reply}
    if attachments:
        message["attachments"] = attachments
    return message


def postback(mid: str, title: str, payload: str | None) -> dict[str, Any]:
    """A postback; `payload` is None on standby when another app sent the button."""
    body = {"mid": mid, "title": title}
    if payload is not None:
        body["payload"] = payload
    return body


def control_change(previous: str | None, new: str, metadata: str = "") -> dict[str, Any]:
    """The body of `pass_thread_control` / `take_thread_control` notices."""
    return {"previous_owner_app_id": previous, "new_owner_app_id": new, "metadata": metadata}


def postback_titles(message: dict[str, Any]) -> dict[str, str]:
    """Payload -> title of every postback button in a sent message's template."""
    attachment = message.get("attachment")
    payload = attachment.get("payload") if isinstance(attachment, dict) else None
    if not isinstance(payload, dict):
        return {}
    holders = [payload, *(e for e in payload.get("elements") or [] if isinstance(e, dict))]
    buttons = [b for holder in holders for b in holder.get("buttons") or []]
    return {b["payload"]: b.get("title", "")
            for b in buttons if isinstance(b, dict) and b.get("type") == "postback"}


def profile_postback_titles(profile: dict[str, Any]) -> dict[str, str]:
    """Payload -> title of the Get Started button, menu items and ice breakers we set."""
    titles: dict[str, str] = {}
    if "get_started" in profile:
        titles[profile["get_started"]["payload"]] = "Get Started"
    for menu in profile.get("persistent_menu", []):
        for item in menu.get("call_to_actions") or []:
            if item["type"] == "postback":
                titles.setdefault(item["payload"], item["title"])
    for locale in profile.get("ice_breakers", []):
        for item in locale.get("call_to_actions", [locale]):
            titles.setdefault(item["payload"], item["question"])
    return titles


def quick_reply_title(message: dict[str, Any], payload: str) -> str | None:
    for reply in message.get("quick_replies", []):
        if reply.get("payload") == payload:
            return reply.get("title")
    return None


def numeric(app_id: str) -> int | str:
    """Echoes carry `app_id` as a JSON number (doc §3); non-numeric ids stay strings."""
    return int(app_id) if app_id.isdigit() else app_id
