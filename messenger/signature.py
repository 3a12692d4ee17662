"""The webhook's `X-Hub-Signature-256` check: HMAC-SHA256 over the raw body bytes."""

from __future__ import annotations

import hashlib
import hmac

_PREFIX = "sha256="


def sign(body: bytes, app_secret: str) -> str:
    """The header value Meta would send for `body`."""
    digest = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return _PREFIX + digest


def is_valid(body: bytes, header: str | None, app_secret: str | None) -> bool:
    """True when `header` is Meta's signature of exactly these bytes.

    Hash the bytes as received (Meta escapes non-ASCII before signing, so a
    re-serialised body would not match) and compare in constant time.
    """
    if not app_secret or not header or not header.startswith(_PREFIX):
        return False
    return hmac.compare_digest(sign(body, app_secret), header.strip())
