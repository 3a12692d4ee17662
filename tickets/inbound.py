"""Reading one inbound RFC 5322 message with bounded work: who sent it, to whom,
which thread it answers, and the new text in it.

Hostile mail must not cost the web process: the size is capped by the caller
(10 MiB), only the first MiB and its first 1,000 parts are parsed (the feedparser
costs ~0.3 s per MiB of header or boundary lines; 10 MiB of them took 3-4 s), a
header section over 256 KiB is refused, nesting is refused before
the stdlib parser recurses into it (its feedparser recurses once per multipart
level: 3,000 levels raised RecursionError),
headers are read with `compat32` (policy.default's header parser recurses on
nested comments), the part tree is walked without recursion and only so far, and
HTML becomes text in one linear pass (tickets.html_text).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email import policy
from email.errors import MessageError
from email.header import decode_header, make_header
from email.message import Message
from email.parser import BytesParser
from email.utils import getaddresses, parseaddr

from tickets.errors import UnparsableEmail
from tickets.html_text import html_text
from tickets.quotes import strip_reply

MAX_PARSED = 1024 * 1024  # bytes read as mail: the headers and the reply come first
MAX_CONTAINERS = 50  # multipart/* and message/* parts in one mail: a bound on its depth
MAX_PARTS = 1000  # parts parsed and looked at for the text body
MAX_HEADER_SECTION = 256 * 1024  # bytes; real ones (Received, DKIM) stay far below
MAX_TEXT = 200_000  # characters of the body read for the reply
MAX_HEADER = 4000  # characters of a header value read
MAX_THREAD_IDS = 50  # newest first: a reply names its own parent near the front

_MESSAGE_ID = re.compile(r"<[^<>\s]{1,990}>")
_CONTAINER = re.compile(rb"^content-type:[ \t]*(?:\r?\n[ \t]+)?(?:multipart|message)/", re.I | re.M)
_AUTOMATIC_PRECEDENCE = ("bulk", "junk", "list", "auto_reply")
# Where the address a mail was sent to shows: what the sender wrote (To, Cc) and
# what the receiving mail server adds for the envelope (Bcc, forwarding).
RECIPIENT_HEADERS = ("To", "Cc", "Delivered-To", "X-Original-To", "Envelope-To", "X-Envelope-To")


@dataclass(frozen=True)
class InboundMail:
    message_id: str | None
    thread_ids: tuple[str, ...]  # In-Reply-To first, then References, newest first
    subject: str
    sender: str  # the bare address, as the mail claims: proof of nothing
    sender_name: str
    recipients: tuple[str, ...]  # bare addresses from RECIPIENT_HEADERS
    text: str  # what the sender wrote, without quoted history and signature
    automatic: bool  # an auto-reply or a bounce: never passed on to a customer


def parse_email(raw: bytes) -> InboundMail:
    if not raw.strip():
        raise UnparsableEmail("empty message")
    raw = _parsed_part(raw)
    if len(_CONTAINER.findall(raw)) > MAX_CONTAINERS:
        raise UnparsableEmail(f"more than {MAX_CONTAINERS} nested parts")
    try:
        message = BytesParser(policy=policy.compat32).parsebytes(raw)
        sender_name, sender = parseaddr(_header(message, "From"))
        mail = InboundMail(
            message_id=_first_id(_header(message, "Message-ID")), thread_ids=_thread_ids(message),
            subject=" ".join(_decoded(_header(message, "Subject")).split()), sender=sender.lower(),
            sender_name=_decoded(sender_name), recipients=_recipients(message),
            text=strip_reply(_body_text(message)), automatic=_automatic(message),
        )
    except (ValueError, TypeError, LookupError, IndexError, AttributeError, MessageError,
            RecursionError) as exc:  # RecursionError: bounded by MAX_CONTAINERS / MAX_HEADER
        raise UnparsableEmail(f"not a readable email: {type(exc).__name__}") from None
    if "@" not in mail.sender:
        raise UnparsableEmail("no From address")
    return mail


def _parsed_part(raw: bytes) -> bytes:
    """The first MAX_PARSED bytes, and of those no more than about MAX_PARTS parts, cut at
    a line end (the parser notes the missing end as a defect); refuses a huge header section."""
    if len(raw) > MAX_PARSED:
        raw = raw[: raw.rfind(b"\n", 0, MAX_PARSED) + 1 or MAX_PARSED]
    head_end = min((i for i in (raw.find(b"\n\n"), raw.find(b"\n\r\n")) if i >= 0), default=len(raw))
    if head_end > MAX_HEADER_SECTION:
        raise UnparsableEmail(f"a header section over {MAX_HEADER_SECTION // 1024} KiB")
    position = 0
    for _ in range(MAX_PARTS):  # each part starts at a "--boundary" line
        position = raw.find(b"\n--", position + 1)
        if position < 0:
            return raw
    return raw[: position + 1]


def _header(message: Message, name: str) -> str:
    return str(message.get(name, ""))[:MAX_HEADER]


def _decoded(value: str) -> str:
    """RFC 2047 words decoded; undecodable bytes replaced."""
    try:
        text = str(make_header(decode_header(value)))
    except (LookupError, ValueError, UnicodeError, MessageError):
        text = value
    return text.encode("utf-8", "replace").decode("utf-8")


def _first_id(value: str) -> str | None:
    found = _MESSAGE_ID.findall(value)
    return found[0] if found else None


def _thread_ids(message: Message) -> tuple[str, ...]:
    in_reply_to = _MESSAGE_ID.findall(_header(message, "In-Reply-To"))
    references = _MESSAGE_ID.findall(_header(message, "References"))
    return tuple(dict.fromkeys([*in_reply_to, *reversed(references)]))[:MAX_THREAD_IDS]


def _recipients(message: Message) -> tuple[str, ...]:
    values = [str(value)[:MAX_HEADER] for name in RECIPIENT_HEADERS
              for value in (message.get_all(name) or [])[:20]]
    return tuple(dict.fromkeys(address.lower() for _, address in getaddresses(values) if "@" in address))


def _automatic(message: Message) -> bool:
    auto_submitted = _header(message, "Auto-Submitted").strip().lower() or "no"
    precedence = _header(message, "Precedence").strip().lower()
    return (auto_submitted != "no" or precedence in _AUTOMATIC_PRECEDENCE
            or "X-Autoreply" in message or "X-Autorespond" in message
            or message.get_content_type() == "multipart/report")


def _body_text(message: Message) -> str:
    """The first text/plain part that is not an attachment, else the first text/html one."""
    plain = html = None
    stack, seen = [message], 0
    while stack and seen < MAX_PARTS and plain is None:
        part = stack.pop()
        seen += 1
        if part.get_content_maintype() == "message":
            continue  # a forwarded or returned message is not what this sender wrote
        if part.is_multipart():
            children = part.get_payload()
            stack.extend(reversed(children if isinstance(children, list) else []))
        elif part.get_content_disposition() != "attachment":
            kind = part.get_content_type()
            plain = part if kind == "text/plain" else plain
            html = part if kind == "text/html" and html is None else html
    chosen = plain or html
    if chosen is None:
        return ""
    text = _decoded_payload(chosen)[:MAX_TEXT]
    return html_text(text) if chosen is html else text


def _decoded_payload(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    try:
        return payload.decode(part.get_content_charset() or "utf-8", "replace")
    except LookupError:  # an unknown charset: keep what decodes
        return payload.decode("utf-8", "replace")
