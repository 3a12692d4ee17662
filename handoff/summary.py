"""The note the agent gets with a handed-over thread (`pass_thread_control` metadata).

Who the customer is, their language, the topics they chose, the files they
sent and their last messages, under Facebook's 1000-character limit. Numbers, email addresses,
links' query strings and anything token-shaped are masked: Meta asks that
metadata carry no personal data or credentials.
"""

from __future__ import annotations

import re

from sqlmodel import Session, select

from attachments.models import Attachment
from bot.flows.schema import FLOW_PAYLOAD_PREFIX, Flow
from bot.instagram import greeting_name
from bot.models import Message
from bot.turn import Turn

LIMIT = 999  # Facebook: metadata under 1000 characters
LAST_MESSAGES = 5
LINE_LIMIT = 160
_MASKS = (
    (re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+"), "[email]"),
    (re.compile(r"(https?://[^\s?#]+)[?#]\S*"), r"\1"),
    (re.compile(r"(?<![\w-])(?=[\w-]*\d)(?=[\w-]*[A-Za-z])[\w-]{20,}(?![\w-])"), "[hidden]"),
    (re.compile(r"\+?\d[\d ./-]{4,}\d"), "[number]"),
)


def mask(text: str) -> str:
    """`text` with email addresses, long numbers, tokens and URL queries masked."""
    for pattern, replacement in _MASKS:
        text = pattern.sub(replacement, text)
    return text


def for_agent(turn: Turn, *, out_of_hours: bool = False) -> str:
    customer = turn.customer
    name = mask(greeting_name(customer.first_name, customer.username)) or "Customer"
    lines = [f"Live agent request from {name} (language: {customer.messenger_locale or turn.locale})."]
    if out_of_hours:
        lines.append("Asked outside business hours.")
    said = _customer_lines(turn)
    topics = _topics(turn, said)
    said_texts = [text or f"[{payload}]" for text, payload in said]
    if topics:
        lines.append("Topics chosen: " + " > ".join(topics))
    files = _files(turn)
    if files:
        lines.append("Files sent (kept with the conversation): " + ", ".join(files))
    lines.append("Last messages:")
    note = "\n".join(lines)
    for text in said_texts[-LAST_MESSAGES:]:
        line = "- " + _short(mask(text))
        if len(note) + 1 + len(line) > LIMIT:
            break
        note += "\n" + line
    return note[:LIMIT]


Said = list[tuple[str | None, str | None]]  # (text, payload)


def _customer_lines(turn: Turn) -> Said:
    """What the customer said or tapped, oldest first, this event included."""
    earlier: list[tuple[str | None, str | None]] = []
    session = Session.object_session(turn.customer)
    if session is not None and turn.customer.id is not None:
        rows = session.exec(
            select(Message.text, Message.payload)
            .where(Message.customer_id == turn.customer.id, Message.author == "customer")
            .order_by(Message.id.desc())  # type: ignore[union-attr]
            .limit(LAST_MESSAGES * 4)
        ).all()
        earlier = [(text, payload) for text, payload in reversed(rows)]
    now = [(text, payload) for author, _, text, payload, _ in turn.heard if author == "customer"]
    return [(text, payload) for text, payload in earlier + now if text or payload]


def _files(turn: Turn) -> list[str]:
    """The customer's latest files, oldest first, by name and kind."""
    session = Session.object_session(turn.customer)
    if session is None or turn.customer.id is None:
        return []
    rows = session.exec(
        select(Attachment.name, Attachment.kind)
        .where(Attachment.customer_id == turn.customer.id, Attachment.direction == "in")
        .order_by(Attachment.id.desc())  # type: ignore[union-attr]
        .limit(LAST_MESSAGES)
    ).all()
    return [f"{_short(mask(name))} ({kind})" for name, kind in reversed(rows)]


def _topics(turn: Turn, said: Said) -> list[str]:
    """The keyword flows the customer reached, by title, in order, each once."""
    topics: list[str] = []
    for text, payload in said:
        flow = _flow_of(turn, text, payload)
        if flow is None or flow.action is not None:
            continue
        title = turn.flows.title(flow.id, turn.locale)
        if title in topics:
            topics.remove(title)
        topics.append(title)
    return topics[-LAST_MESSAGES:]


def _flow_of(turn: Turn, text: str | None, payload: str | None) -> Flow | None:
    if payload and payload.startswith(FLOW_PAYLOAD_PREFIX):
        return turn.flows.flows.get(payload[len(FLOW_PAYLOAD_PREFIX):])
    return turn.flows.match(text, turn.locale) if text else None


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= LINE_LIMIT else text[: LINE_LIMIT - 1] + "…"
