"""Bearer-token checks for the machine endpoints (constant-time comparison)."""

from __future__ import annotations

import hmac

from flask import Request


def bearer_ok(request: Request, expected: str | None) -> bool:
    """False without a configured token: the endpoint then refuses everyone."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if not expected or scheme.lower() != "bearer" or not token:
        return False
    return hmac.compare_digest(token.strip().encode(), expected.encode())
