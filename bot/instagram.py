"""What the bot does differently for a customer on Instagram (Instagram Messaging docs,
doc §11b): the same flows and calls as on Messenger, fitted to what Instagram takes.

- Profiles: Instagram gives `name` and `username`, never a first name or locale (asking
  for those fails the whole call), so the customer is greeted by username and the
  language is the flows' default until they choose one.
- Messages: text under 1000 characters (longer text is split, the quick replies on the
  last part); only the generic, button and product templates (any other is sent as its
  text, with its buttons' titles); at most 13 quick replies. Nothing is sent to fail.
- Files: PNG, JPEG and GIF images, video, audio and PDF; any other file is not sent (the
  ticket screen links it, as for a file Messenger refuses), and uploads say
  `platform=instagram`.
"""

from __future__ import annotations

from typing import Any

from bot.replies import Message, split_text

CHANNEL = "instagram"
PROFILE_FIELDS = ("name", "username")
TEXT_LIMIT = 999  # "less than 1000 characters"
QUICK_REPLIES_MAX = 13
TEMPLATES = ("generic", "button", "product")
USERNAME_MAX = 100


# The files Instagram takes (Upload Media for Instagram Messaging): by our kind, the types.
MEDIA = {"image": ("image/png", "image/jpeg", "image/gif"), "file": ("application/pdf",),
         "video": ("video/mp4", "video/ogg", "video/x-msvideo", "video/quicktime", "video/webm"),
         "audio": ("audio/aac", "audio/mp4", "audio/x-wav", "audio/wav", "video/mp4")}


def is_instagram(channel: str | None) -> bool:
    return channel == CHANNEL


def needs_no_answer(message: dict[str, Any]) -> bool:
    """An Instagram message the bot keeps quiet on: one the customer unsent (`is_deleted`), or
    a mention of the account in their story (nothing was asked; it stays in the transcript)."""
    if message.get("is_deleted"):
        return True
    attachments = message.get("attachments")
    return (not message.get("text") and isinstance(attachments, list) and bool(attachments)
            and all(isinstance(a, dict) and a.get("type") == "story_mention" for a in attachments))


def takes_file(kind: str, content_type: str | None) -> bool:
    """Whether Instagram takes a file of this kind and type (else the ticket links it)."""
    return content_type in MEDIA.get(kind, ())


def greeting_name(first_name: str | None, username: str | None) -> str:
    """The name a greeting uses: the first name on Messenger, @username on Instagram."""
    if first_name:
        return first_name
    return f"@{username}" if username else ""


def username_of(profile: dict[str, Any]) -> str | None:
    """The profile's username, if it is a plausible one (Instagram's are short, no spaces)."""
    value = profile.get("username")
    if not isinstance(value, str) or not value or len(value) > USERNAME_MAX:
        return None
    return value if not any(ch.isspace() for ch in value) else None


def adapt(message: Message) -> list[Message]:
    """`message` as Instagram takes it: one or more messages, none Instagram refuses."""
    if "text" in message:
        return _text(message)
    attachment = message.get("attachment")
    payload = attachment.get("payload") if isinstance(attachment, dict) else None
    if (isinstance(attachment, dict) and attachment.get("type") == "template"
            and isinstance(payload, dict) and payload.get("template_type") not in TEMPLATES):
        return _text({"text": _template_as_text(payload), **_replies(message)})
    return [message]


def _text(message: Message) -> list[Message]:
    text = message["text"]
    if not isinstance(text, str) or len(text) <= TEXT_LIMIT:
        return [{**message, **_replies(message)}] if "quick_replies" in message else [message]
    parts: list[Message] = [{"text": chunk} for chunk in split_text(text, TEXT_LIMIT)]
    extra = {k: v for k, v in message.items() if k not in ("text", "quick_replies")}
    parts = [{**part, **extra} for part in parts]
    parts[-1].update(_replies(message))
    return parts


def _replies(message: Message) -> Message:
    replies = message.get("quick_replies")
    return {"quick_replies": replies[:QUICK_REPLIES_MAX]} if isinstance(replies, list) else {}


def _template_as_text(payload: dict[str, Any]) -> str:
    lines = [str(payload.get("text") or payload.get("title") or "")]
    for holder in [payload, *(payload.get("elements") or [])]:
        if isinstance(holder, dict):
            lines += [str(holder.get("title") or "")] if holder is not payload else []
            lines += [_button_line(b) for b in holder.get("buttons") or [] if isinstance(b, dict)]
    return "\n".join(line for line in lines if line).strip() or "…"


def _button_line(button: dict[str, Any]) -> str:
    title, url = str(button.get("title") or ""), button.get("url")
    return f"{title}: {url}" if isinstance(url, str) else f"• {title}"
