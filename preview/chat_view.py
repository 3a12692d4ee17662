"""Send API messages as terminal text for `chat`: bubbles as lines, quick replies and postback
buttons as numbered choices, links as `title: url`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Choice:
    """Something the customer can pick by number: a quick reply or a postback button."""

    title: str
    payload: str
    kind: str  # "quick_reply" | "postback"


def render(messages: list[dict[str, Any]], first_number: int = 1
           ) -> tuple[list[str], list[Choice]]:
    """The lines to print for these messages, and the choices they offer, numbered on."""
    lines: list[str] = []
    choices: list[Choice] = []
    for message in messages:
        lines.extend(_bubble(message, choices, first_number))
    quick = messages[-1].get("quick_replies") if messages else None
    options = [q for q in quick or [] if q.get("content_type") == "text"]
    for reply in options:
        choices.append(Choice(reply["title"], reply["payload"], "quick_reply"))
    if options:
        start = first_number + len(choices) - len(options)
        numbered = [f"[{start + i}] {reply['title']}" for i, reply in enumerate(options)]
        lines.append("     " + "  ".join(numbered))
    return lines, choices


def _bubble(message: dict[str, Any], choices: list[Choice], first_number: int) -> list[str]:
    attachment = message.get("attachment")
    if attachment is None:
        return _text_lines(str(message.get("text") or ""))
    payload = attachment.get("payload") or {}
    if attachment.get("type") != "template":
        return [f"bot> [{attachment.get('type')}] {payload.get('url', '')}".rstrip()]
    lines: list[str] = []
    holders = [payload] if payload.get("template_type") == "button" else payload.get("elements", [])
    for holder in holders:
        lines.extend(_text_lines(str(holder.get("text") or holder.get("title") or "")))
        for button in holder.get("buttons") or []:
            lines.append("     " + _button(button, choices, first_number))
    return lines


def _button(button: dict[str, Any], choices: list[Choice], first_number: int) -> str:
    if button.get("type") == "postback":
        choices.append(Choice(button["title"], button["payload"], "postback"))
        return f"[{first_number + len(choices) - 1}] {button['title']}"
    if button.get("type") == "web_url":
        return f"{button['title']}: {button['url']}"
    return f"({button.get('title')}: a {button.get('type')} button)"


def _text_lines(text: str) -> list[str]:
    rows = text.splitlines() or [""]
    return [f"bot> {rows[0]}", *(f"     {row}".rstrip() for row in rows[1:])]
