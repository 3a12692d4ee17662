"""The per-ticket reply address of notification emails: `support+t12.<token>@domain`.

The token is an HMAC of the ticket number under SECRET_KEY, in lower-case base32
(mail systems may fold the case of a local part). Only we can make one, so mail
sent to it answers that ticket whoever sends it; a guessed or altered token
matches nothing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from email.utils import formataddr, parseaddr

_TAG = re.compile(r"\+t(\d{1,12})\.([a-z2-7]{1,64})@", re.IGNORECASE)
_TOKEN_BYTES = 15  # 120 bits: 24 base32 characters


def _token(secret_key: str, ticket_id: int) -> str:
    digest = hmac.new(secret_key.encode(), f"tickets.reply-to:{ticket_id}".encode(), hashlib.sha256).digest()
    return base64.b32encode(digest[:_TOKEN_BYTES]).decode().lower()


def reply_address(sender: str, ticket_id: int, *, secret_key: str) -> str:
    """`sender` ("Support <support@example.com>") with the ticket's signed tag in its local part."""
    name, address = parseaddr(sender)
    local, _, domain = address.rpartition("@")
    local = local.split("+", 1)[0] or "support"
    return formataddr((name, f"{local}+t{ticket_id}.{_token(secret_key, ticket_id)}@{domain or 'localhost'}"))


def tagged(addresses: list[str]) -> list[tuple[int, str]]:
    """(ticket number, token) of each address that carries a reply tag, signed or not."""
    found = (_TAG.search(address) for address in addresses)
    return [(int(match.group(1)), match.group(2).lower()) for match in found if match]


def verified(ticket_id: int, token: str, *, secret_key: str) -> bool:
    return hmac.compare_digest(_token(secret_key, ticket_id), token.lower())
