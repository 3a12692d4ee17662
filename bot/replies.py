"""Send API message bodies built from the flows: texts split under Messenger's
limit, quick replies, button templates."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.flows.schema import Flow, Flows, Step

TEXT_LIMIT = 1999  # Send API: text under 2000 characters
MENU_PAYLOAD = "MENU"
GET_STARTED_PAYLOAD = "GET_STARTED"

Message = dict[str, Any]
QuickReply = tuple[str, str]  # (title, payload)


def flow_payload(flow_id: str) -> str:
    return f"flow:{flow_id}"


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Chunks under `limit`, cut at paragraph, line or word boundaries."""
    chunks: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        cut = max(rest.rfind(sep, 0, limit) for sep in ("\n\n", "\n", " "))
        cut = cut if cut > limit // 2 else limit
        chunks.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    return [*chunks, rest] if rest else chunks


def text_messages(text: str, quick_replies: Sequence[QuickReply] = ()) -> list[Message]:
    messages: list[Message] = [{"text": chunk} for chunk in split_text(text)]
    if messages and quick_replies:
        messages[-1]["quick_replies"] = _quick_replies(quick_replies)
    return messages


def button_message(text: str, buttons: Sequence[dict[str, Any]]) -> Message:
    return {"attachment": {"type": "template", "payload": {
        "template_type": "button", "text": text, "buttons": list(buttons)}}}


def postback_button(title: str, payload: str) -> dict[str, Any]:
    return {"type": "postback", "title": title, "payload": payload}


def _quick_replies(options: Sequence[QuickReply]) -> list[dict[str, str]]:
    return [{"content_type": "text", "title": t, "payload": p} for t, p in options]


def menu_options(flows: Flows, locale: str, flow_ids: Sequence[str] | None = None) -> list[QuickReply]:
    ids = flows.menu.items if flow_ids is None else flow_ids
    return [(flows.title(fid, locale), flow_payload(fid)) for fid in ids]


def menu_messages(flows: Flows, locale: str, intro: str | None = None) -> list[Message]:
    """The main menu: an intro line, then the keywords as quick replies."""
    text = flows.text(flows.menu.text, locale)
    if intro:
        text = f"{intro}\n\n{text}"
    return text_messages(text, menu_options(flows, locale))


def flow_messages(flows: Flows, flow: Flow, locale: str, *,
                  follow_ups: bool = True) -> list[Message]:
    """A keyword flow's messages; its follow-ups (or the menu) as quick replies."""
    messages: list[Message] = []
    for step in flow.messages:
        messages.extend(_step_messages(flows, step, locale))
    if messages and follow_ups:
        options = menu_options(flows, locale, flow.quick_replies or None)
        messages[-1]["quick_replies"] = _quick_replies(options)
    return messages


def _step_messages(flows: Flows, step: Step, locale: str) -> list[Message]:
    text = flows.text(step.text, locale)
    if not step.buttons:
        return text_messages(text)
    buttons = []
    for button in step.buttons:
        title = flows.text(button.title, locale)
        if button.url:
            buttons.append({"type": "web_url", "title": title, "url": button.url})
        else:
            buttons.append(postback_button(title, flow_payload(button.goto or "")))
    return [button_message(text, buttons)]
