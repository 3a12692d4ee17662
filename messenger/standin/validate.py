"""Send API bodies checked the way Facebook checks them (doc §4).

Each function returns the Graph error Facebook would answer with (code 100,
naming the field) or None when the body is acceptable. Messenger Profile bodies
are checked in `validate_profile`.
"""

from __future__ import annotations

from typing import Any

from messenger.standin.errors import GraphError, bad_param

MESSAGING_TYPES = ("RESPONSE", "UPDATE", "MESSAGE_TAG")
TAGS = ("HUMAN_AGENT", "CUSTOMER_FEEDBACK")
RETIRED_TAGS = ("ACCOUNT_UPDATE", "CONFIRMED_EVENT_UPDATE", "POST_PURCHASE_UPDATE")
SENDER_ACTIONS = ("typing_on", "typing_off", "mark_seen", "react", "unreact")
NOTIFICATION_TYPES = ("REGULAR", "SILENT_PUSH", "NO_PUSH")
MEDIA_TYPES = ("image", "audio", "video", "file")
BUTTON_TYPES = ("web_url", "postback", "phone_number", "account_link", "account_unlink",
                "game_play")
QUICK_REPLY_TYPES = ("text", "user_phone_number", "user_email")
CONTROL_TYPES = ("pass", "release")

MAX_TEXT = 1999  # "under 2000 characters"
MAX_METADATA = 999  # "under 1000 characters"
MAX_QUICK_REPLIES = 13
MAX_TITLE = 20
MAX_PAYLOAD = 1000
MAX_BUTTON_TEXT = 640
MAX_BUTTONS = 3
MAX_ELEMENTS = 10
MAX_ELEMENT_TEXT = 80


def send_body(body: Any) -> GraphError | None:
    """The first problem Facebook would report for this Send API body."""
    if not isinstance(body, dict):
        return bad_param("The request body must be a JSON object")
    return (
        _recipient(body.get("recipient"))
        or _messaging_type(body)
        or _content(body)
        or _enum(body, "notification_type", NOTIFICATION_TYPES)
        or _thread_control(body.get("thread_control"))
    )


def _recipient(recipient: Any) -> GraphError | None:
    if not isinstance(recipient, dict) or not _is_id(recipient.get("id")):
        return bad_param("The parameter recipient.id is required")
    return None


def _messaging_type(body: dict[str, Any]) -> GraphError | None:
    if "messaging_type" not in body:
        # Meta's own sender-action samples carry no messaging_type; messages need one.
        return None if "message" not in body else bad_param(
            "The parameter messaging_type is required")
    error = _enum(body, "messaging_type", MESSAGING_TYPES)
    if error or body["messaging_type"] != "MESSAGE_TAG":
        return error
    tag = body.get("tag")
    if tag is None:
        return bad_param("The parameter tag is required when messaging_type is MESSAGE_TAG")
    if tag in RETIRED_TAGS:
        return bad_param(f"The message tag {tag} is no longer supported: use Utility Messages")
    if tag not in TAGS:
        return bad_param(f"Param tag must be one of {{{', '.join(TAGS)}}}")
    if tag == "CUSTOMER_FEEDBACK" and _template_type(body.get("message")) != "customer_feedback":
        return bad_param("The CUSTOMER_FEEDBACK tag may only be used with the feedback template")
    return None


def _content(body: dict[str, Any]) -> GraphError | None:
    has_message, has_action = "message" in body, "sender_action" in body
    if has_message == has_action:
        return bad_param("Exactly one of message or sender_action must be set")
    if has_action:
        return _sender_action(body)
    return message(body["message"])


def _sender_action(body: dict[str, Any]) -> GraphError | None:
    error = _enum(body, "sender_action", SENDER_ACTIONS)
    if error or body["sender_action"] not in ("react", "unreact"):
        return error
    payload = body.get("payload")
    if not isinstance(payload, dict) or not isinstance(payload.get("message_id"), str):
        return bad_param("The parameter payload.message_id is required for react/unreact")
    if body["sender_action"] == "react" and not isinstance(payload.get("reaction"), str):
        return bad_param("The parameter payload.reaction is required for react")
    return None


def message(msg: Any) -> GraphError | None:
    """Checks `message`: text xor attachment, quick replies, metadata, reply_to."""
    if not isinstance(msg, dict):
        return bad_param("The parameter message must be an object")
    if ("text" in msg) == ("attachment" in msg):
        return bad_param("Exactly one of message.text or message.attachment must be set")
    if "text" in msg:
        error = check_text(msg["text"], "message.text", MAX_TEXT)
    else:
        error = _attachment(msg["attachment"])
    if "metadata" in msg:
        error = error or check_text(msg["metadata"], "message.metadata", MAX_METADATA)
    return error or _quick_replies(msg) or _reply_to(msg.get("reply_to"))


def _attachment(attachment: Any) -> GraphError | None:
    if not isinstance(attachment, dict) or not isinstance(attachment.get("payload"), dict):
        return bad_param("The parameter message.attachment.payload is required")
    kind, payload = attachment.get("type"), attachment["payload"]
    if kind in MEDIA_TYPES:
        if not (_is_id(payload.get("attachment_id")) or isinstance(payload.get("url"), str)):
            return bad_param("message.attachment.payload needs url or attachment_id")
        return None
    if kind != "template":
        return bad_param("Param message.attachment.type must be one of "
                         f"{{{', '.join((*MEDIA_TYPES, 'template'))}}}")
    if payload.get("template_type") == "button":
        return _button_template(payload)
    if payload.get("template_type") == "generic":
        return _generic_template(payload)
    if not isinstance(payload.get("template_type"), str):
        return bad_param("The parameter message.attachment.payload.template_type is required")
    return None


def _button_template(payload: dict[str, Any]) -> GraphError | None:
    return (check_text(payload.get("text"), "payload.text", MAX_BUTTON_TEXT)
            or buttons(payload.get("buttons"), "payload.buttons", required=True))


def _generic_template(payload: dict[str, Any]) -> GraphError | None:
    elements = payload.get("elements")
    if not isinstance(elements, list) or not 1 <= len(elements) <= MAX_ELEMENTS:
        return bad_param(f"payload.elements must hold 1 to {MAX_ELEMENTS} elements")
    for i, element in enumerate(elements):
        where = f"payload.elements[{i}]"
        if not isinstance(element, dict):
            return bad_param(f"{where} must be an object")
        error = (check_text(element.get("title"), f"{where}.title", MAX_ELEMENT_TEXT)
                 or ("subtitle" in element
                     and check_text(element["subtitle"], f"{where}.subtitle", MAX_ELEMENT_TEXT))
                 or buttons(element.get("buttons"), f"{where}.buttons", required=False))
        if error:
            return error
    return None


def buttons(items: Any, where: str, *, required: bool) -> GraphError | None:
    """Template buttons: 1-3 (or none when optional), each checked for its type."""
    if items is None and not required:
        return None
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_BUTTONS:
        return bad_param(f"{where} must hold 1 to {MAX_BUTTONS} buttons")
    for i, button in enumerate(items):
        error = _button(button, f"{where}[{i}]")
        if error:
            return error
    return None


def _button(button: Any, where: str) -> GraphError | None:
    if not isinstance(button, dict) or button.get("type") not in BUTTON_TYPES:
        return bad_param(f"Param {where}.type must be one of {{{', '.join(BUTTON_TYPES)}}}")
    kind = button["type"]
    if kind in ("account_link", "account_unlink"):
        return check_url(button, where) if kind == "account_link" else None
    error = check_text(button.get("title"), f"{where}.title", MAX_TITLE)
    if error:
        return error
    if kind == "web_url":
        return check_url(button, where)
    if kind in ("postback", "phone_number"):
        return check_text(button.get("payload"), f"{where}.payload", MAX_PAYLOAD)
    return None


def _quick_replies(msg: dict[str, Any]) -> GraphError | None:
    if "quick_replies" not in msg:
        return None
    replies = msg["quick_replies"]
    if not isinstance(replies, list) or not 1 <= len(replies) <= MAX_QUICK_REPLIES:
        return bad_param(f"message.quick_replies must hold 1 to {MAX_QUICK_REPLIES} items")
    for i, reply in enumerate(replies):
        where = f"message.quick_replies[{i}]"
        if not isinstance(reply, dict) or reply.get("content_type") not in QUICK_REPLY_TYPES:
            return bad_param(f"Param {where}.content_type must be one of "
                             f"{{{', '.join(QUICK_REPLY_TYPES)}}}")
        if reply["content_type"] != "text":
            continue
        error = (check_text(reply.get("title"), f"{where}.title", MAX_TITLE)
                 or check_text(reply.get("payload"), f"{where}.payload", MAX_PAYLOAD))
        if error:
            return error
    return None


def _reply_to(reply_to: Any) -> GraphError | None:
    if reply_to is None or (isinstance(reply_to, dict) and isinstance(reply_to.get("mid"), str)):
        return None
    return bad_param("The parameter message.reply_to.mid is required")


def _thread_control(control: Any) -> GraphError | None:
    if control is None:
        return None
    if not isinstance(control, dict) or control.get("control_type", "release") not in CONTROL_TYPES:
        return bad_param("Param thread_control.control_type must be one of {pass, release}")
    if "app_id" in control and not _is_id(control["app_id"]):
        return bad_param("Param thread_control.app_id must be an app id")
    return None


def check_text(value: Any, where: str, limit: int) -> GraphError | None:
    """A required, non-empty string of at most `limit` characters."""
    if not isinstance(value, str) or not value:
        return bad_param(f"The parameter {where} is required")
    if len(value) > limit:
        return bad_param(f"Param {where} must be at most {limit} characters long")
    return None


def check_url(button: dict[str, Any], where: str) -> GraphError | None:
    """A required http(s) `url` member."""
    url = button.get("url")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        return bad_param(f"The parameter {where}.url is required and must be an http(s) URL")
    return None


def _enum(body: dict[str, Any], key: str, allowed: tuple[str, ...]) -> GraphError | None:
    if key in body and body[key] not in allowed:
        return bad_param(f"Param {key} must be one of {{{', '.join(allowed)}}}")
    return None


def _template_type(msg: Any) -> Any:
    if not isinstance(msg, dict) or not isinstance(msg.get("attachment"), dict):
        return None
    payload = msg["attachment"].get("payload")
    return payload.get("template_type") if isinstance(payload, dict) else None


def _is_id(value: Any) -> bool:
    """Graph ids are numeric strings; JSON numbers are accepted too."""
    return (isinstance(value, str) and value != "") or (
        isinstance(value, int) and not isinstance(value, bool))
