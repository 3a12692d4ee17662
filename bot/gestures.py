"""Stickers, likes, reactions and edits: what a customer does besides typing.

A sticker or a like is acknowledged the way a person would: with the flows
file's `sticker_reply` line in the customer's language, or quietly when the
admin left it out (or empty for a language); never with the did-not-understand
menu. Before the first greeting it is greeted like a hello. Reactions and
edits only go into the transcript: nobody expects an answer to a heart.

Since 30 Aug 2026 Meta sends a sticker as an attachment of type `sticker`;
before, as an `image` whose payload has a `sticker_id`. Both are read here.
"""

from __future__ import annotations

from typing import Any

from bot import replies
from bot.turn import Turn

# The thumbs-up ("like") in its three sizes; Meta documents the first. [S for the others]
LIKE_STICKERS = frozenset({"369239263222822", "369239343222814", "369239383222810"})
RECORDED_KINDS = ("reaction", "message_edit")


def sticker_id(message: dict[str, Any]) -> str | None:
    """The sticker a message is, if it is only a sticker (no text): its id, or "" if unnamed."""
    if message.get("text") or message.get("quick_reply"):
        return None
    attachments = message.get("attachments")
    if not isinstance(attachments, list) or not attachments:
        return None
    for attachment in attachments:
        attachment = attachment if isinstance(attachment, dict) else {}
        payload = attachment.get("payload")
        payload = payload if isinstance(payload, dict) else {}
        sticker = payload.get("sticker_id")
        if attachment.get("type") == "sticker" or (
                attachment.get("type") == "image" and sticker is not None):
            return str(sticker) if isinstance(sticker, int | str) else ""
    return None


def record_sticker(turn: Turn, message: dict[str, Any], sticker: str) -> None:
    text = "[like]" if sticker in LIKE_STICKERS else "[sticker]"
    turn.hear("customer", "sticker", text, sticker or None, message.get("mid"))


def acknowledge(turn: Turn) -> None:
    """A sticker or like: a short line (the admin's words), or nothing; no menu."""
    if not turn.state.get("greeted"):
        from bot.conversation import greet  # a like as the first word is a hello

        greet(turn)
        return
    line = turn.flows.sticker_reply and turn.text(turn.flows.sticker_reply).strip()
    if line:
        turn.send(*replies.text_messages(line))


def record(turn: Turn) -> None:
    """A reaction to one of the chat's messages, or an edit of the customer's own."""
    body = turn.event.get(turn.kind)
    body = body if isinstance(body, dict) else {}
    if turn.kind == "reaction":
        action = _text(body.get("action")) or "react"
        emoji = _text(body.get("emoji")) or _text(body.get("reaction"))
        kind = "reaction" if action == "react" else "reaction_removed"
        turn.hear("customer", kind, emoji, f"{action}:{_text(body.get('mid')) or ''}", None)
    else:
        edits = body.get("num_edit")
        payload = f"edit {edits} of {_text(body.get('mid')) or '?'}" if isinstance(
            edits, int) else f"edit of {_text(body.get('mid')) or '?'}"
        turn.hear("customer", "edit", _text(body.get("text")), payload, None)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
