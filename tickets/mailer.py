"""The one `send` path for email: SMTP_URL (smtp://, smtps://, ?starttls=1) or,
without it, a log line instead of a sent mail (the one-machine default)."""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit

from tickets.errors import MailDeliveryError

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 20
_TRUE = ("1", "true", "yes", "on")


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    tls: bool = False  # smtps:// : TLS from the first byte
    starttls: bool = False
    username: str | None = None
    password: str | None = field(default=None, repr=False)


def smtp_config(url: str | None) -> SmtpConfig | None:
    """Parse SMTP_URL (already checked at boot for its scheme); None when unset."""
    if not url:
        return None
    parts = urlsplit(url)
    tls = parts.scheme == "smtps"
    query = parse_qs(parts.query)
    starttls = query.get("starttls", ["0"])[0].lower() in _TRUE
    return SmtpConfig(host=parts.hostname or "localhost", port=parts.port or (465 if tls else 25),
                      tls=tls, starttls=starttls and not tls,
                      username=unquote(parts.username) if parts.username else None,
                      password=unquote(parts.password) if parts.password else None)


def send(config: SmtpConfig | None, message: EmailMessage) -> str:
    """Hand `message` to the relay: "sent", or "logged" without SMTP_URL.

    Raises MailDeliveryError when the relay is unreachable or refuses it.
    """
    if config is None:
        log.info("SMTP_URL unset: email logged, not sent: to=%s subject=%r\n%s", message["To"],
                 message["Subject"], _text_of(message))
        return "logged"
    try:
        _deliver(config, message)
    except (smtplib.SMTPException, OSError) as exc:  # OSError: refused, timeout, TLS
        raise MailDeliveryError(f"{config.host}:{config.port}: {type(exc).__name__}: {exc}"[:480]) from exc
    return "sent"


def _deliver(config: SmtpConfig, message: EmailMessage) -> None:
    context = ssl.create_default_context()
    smtp: smtplib.SMTP
    if config.tls:
        smtp = smtplib.SMTP_SSL(config.host, config.port, timeout=TIMEOUT_SECONDS, context=context)
    else:
        smtp = smtplib.SMTP(config.host, config.port, timeout=TIMEOUT_SECONDS)
    with smtp:
        if config.starttls:
            smtp.starttls(context=context)
        if config.username:
            smtp.login(config.username, config.password or "")
        smtp.send_message(message)


def _text_of(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    return body.get_content() if body is not None else ""
