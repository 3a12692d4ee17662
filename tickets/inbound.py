"""Reading one inbound RFC 5322 message (stdlib `email`, `policy.default`):
who sent it, which ticket thread it answers, and the new text in it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from email import policy
from email.errors import MessageError
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parseaddr
from html.parser import HTMLParser

from tickets.errors import UnparsableEmail
from tickets.quotes import strip_reply

_MESSAGE_ID = re.compile(r"<[^<>\s]{1,990}>")
_TICKET_TAG = re.compile(r"\[#(\d{1,12})\]")
_AUTOMATIC_PRECEDENCE = ("bulk", "junk", "list", "auto_reply")


@dataclass(frozen=True)
class InboundMail:
    message_id: str | None
    thread_ids: tuple[str, ...]  # In-Reply-To first, then References, newest first
    subject: str
    sender: str  # the bare address
    sender_name: str
    text: str  # what the sender wrote, without quoted history and signature
    automatic: bool  # an auto-reply or a bounce: never passed on to a customer

    @property
    def ticket_tag(self) -> int | None:
        """N of a `[#N]` in the subject."""
        found = _TICKET_TAG.search(self.subject)
        return int(found.group(1)) if found else None


def parse_email(raw: bytes) -> InboundMail:
    if not raw.strip():
        raise UnparsableEmail("empty message")
    try:
        message = BytesParser(policy=policy.default).parsebytes(raw)
        assert isinstance(message, EmailMessage)
        sender_name, sender = parseaddr(str(message.get("From", "")))
        mail = InboundMail(
            message_id=_first_id(message.get("Message-ID")), thread_ids=_thread_ids(message),
            subject=" ".join(str(message.get("Subject", "")).split()), sender=sender.lower(),
            sender_name=sender_name, text=strip_reply(_body_text(message)), automatic=_automatic(message),
        )
    except (ValueError, TypeError, LookupError, IndexError, AttributeError, MessageError) as exc:
        raise UnparsableEmail(f"not a readable email: {type(exc).__name__}") from None
    if "@" not in mail.sender:
        raise UnparsableEmail("no From address")
    return mail


def _first_id(value: object) -> str | None:
    found = _MESSAGE_ID.findall(str(value or ""))
    return found[0] if found else None


def _thread_ids(message: EmailMessage) -> tuple[str, ...]:
    in_reply_to = _MESSAGE_ID.findall(str(message.get("In-Reply-To", "")))
    references = _MESSAGE_ID.findall(str(message.get("References", "")))
    return tuple(dict.fromkeys([*in_reply_to, *reversed(references)]))


def _automatic(message: EmailMessage) -> bool:
    auto_submitted = str(message.get("Auto-Submitted", "no")).strip().lower()
    precedence = str(message.get("Precedence", "")).strip().lower()
    return (auto_submitted != "no" or precedence in _AUTOMATIC_PRECEDENCE
            or "X-Autoreply" in message or "X-Autorespond" in message
            or message.get_content_type() == "multipart/report")


def _body_text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        content = part.get_content()
    except LookupError:  # an unknown charset: keep what decodes
        payload = part.get_payload(decode=True)
        content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    if not isinstance(content, str):
        return ""
    return _html_text(content) if part.get_content_type() == "text/html" else content


def _html_text(markup: str) -> str:
    reader = _TextOfHtml()
    reader.feed(markup)
    reader.close()
    return "".join(reader.chunks)


class _TextOfHtml(HTMLParser):
    """Text of an HTML reply; quoted parts (blockquote, Gmail's quote div) left out."""

    _BREAKS = frozenset({"p", "div", "li", "tr", "h1", "h2", "h3"})
    _VOID = frozenset({"br", "img", "hr", "meta", "link", "input", "wbr", "col", "area", "base"})
    _SKIPPED = frozenset({"blockquote", "style", "script", "head"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self._skip_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._VOID:
            if not self._skip_depth and tag == "br":
                self.chunks.append("\n")
            return
        quoted = tag == "div" and "gmail_quote" in (dict(attrs).get("class") or "")
        if self._skip_depth or tag in self._SKIPPED or quoted:
            self._skip_depth += 1
        elif tag in self._BREAKS:
            self.chunks.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._VOID:
            return
        if self._skip_depth:
            self._skip_depth -= 1
        elif tag in self._BREAKS:
            self.chunks.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip_depth:
            self.chunks.append(data)
