"""Customers' sign-in links: signed (itsdangerous, keyed by SECRET_KEY),
expiring, and single use (the first sign-in marks the link's id used in Redis
for as long as the link could still be valid)."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from redis import Redis

from tickets.errors import BadLoginLink

SALT = "tickets.login-link"
MAX_AGE_SECONDS = 3600
_NEXT = re.compile(r"/tickets(/\d{1,12})?")


@dataclass(frozen=True)
class LinkClaims:
    customer_id: int
    link_id: str
    next_path: str


def login_url(public_url: str, secret_key: str, customer_id: int, *, next_path: str = "/tickets") -> str:
    claims = {"c": customer_id, "j": secrets.token_urlsafe(12), "n": _safe_next(next_path)}
    token = _serializer(secret_key).dumps(claims)
    return f"{public_url.rstrip('/')}/login?token={token}"


def read_link(secret_key: str, token: str) -> LinkClaims:
    """The link's claims; BadLoginLink("expired" | "invalid") otherwise."""
    try:
        data = _serializer(secret_key).loads(token, max_age=MAX_AGE_SECONDS)
    except SignatureExpired:
        raise BadLoginLink("expired") from None
    except BadSignature:
        raise BadLoginLink("invalid") from None
    if not isinstance(data, dict) or not isinstance(data.get("c"), int) or not data.get("j"):
        raise BadLoginLink("invalid")
    return LinkClaims(customer_id=data["c"], link_id=str(data["j"]), next_path=_safe_next(data.get("n")))


def consume(redis: Redis, claims: LinkClaims) -> None:
    """Mark the link used; BadLoginLink("used") if it already was."""
    if not redis.set(_used_key(claims), claims.customer_id, nx=True, ex=MAX_AGE_SECONDS + 60):
        raise BadLoginLink("used")


def is_used(redis: Redis, claims: LinkClaims) -> bool:
    return bool(redis.exists(_used_key(claims)))


def _used_key(claims: LinkClaims) -> str:
    return f"sd:login-used:{claims.link_id}"


def _safe_next(path: object) -> str:
    """Only paths of the ticket screen: a link never redirects elsewhere."""
    return path if isinstance(path, str) and _NEXT.fullmatch(path) else "/tickets"


def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=SALT)
