"""Error reports to Sentry (`SENTRY_DSN`), from the web (Flask) and the worker (RQ).

No personal data is sent: `send_default_pii` is left at its default, off (sentry-sdk
2.75 deprecates setting it; `data_collection` would replace it), which also keeps
Sentry's scrubber of cookies, auth headers and password-like keys; and every string of an event
(message, exception values, breadcrumbs, local variables) goes through the same
redaction as the logs before it leaves, so a token quoted in an error never
reaches Sentry.
"""

from __future__ import annotations

from typing import Any

import sentry_sdk
from sentry_sdk.integrations.flask import FlaskIntegration
from sentry_sdk.integrations.rq import RqIntegration
from sentry_sdk.transport import Transport

from core.logs import RedactSecrets


def start(dsn: str, redactor: RedactSecrets, *, transport: Transport | None = None) -> None:
    """Initialise the SDK for this process (again: the latest settings win)."""
    sentry_sdk.init(
        dsn=dsn,
        integrations=[FlaskIntegration(), RqIntegration()],
        before_send=lambda event, _hint: scrub(event, redactor),
        before_breadcrumb=lambda crumb, _hint: scrub(crumb, redactor),
        transport=transport,
    )


def scrub(value: Any, redactor: RedactSecrets) -> Any:
    """`value` with every configured secret replaced, however deep it sits."""
    if isinstance(value, str):
        return redactor.redact(value)
    if isinstance(value, dict):
        return {scrub(k, redactor): scrub(v, redactor) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(scrub(item, redactor) for item in value)
    return value
