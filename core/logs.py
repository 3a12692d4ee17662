"""Logging set-up: one line per record, with configured secrets redacted from
every message, whoever logged it."""

from __future__ import annotations

import logging

from config.settings import Settings

FORMAT = "%(asctime)s %(levelname)s %(name)s [%(process)d:%(threadName)s] %(message)s"


class RedactSecrets(logging.Filter):
    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s and len(s) >= 6]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = self.redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        # A traceback quotes exception messages (a URL with its token, say): format
        # it here, redacted; formatters reuse `exc_text` instead of formatting again.
        if record.exc_info and not record.exc_text:
            record.exc_text = _FORMATTER.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "[redacted]")
        return text


_FORMATTER = logging.Formatter()


def configure_logging(settings: Settings, level: int = logging.INFO) -> None:
    """Install the redacting filter on the root handlers (idempotent)."""
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(level=level, format=FORMAT)
    secrets = [settings.messenger_app_secret, settings.messenger_page_access_token,
               settings.messenger_verify_token, settings.inbound_email_token,
               settings.admin_api_token, settings.secret_key]
    redactor = RedactSecrets([s for s in secrets if s])
    # urllib3's DEBUG lines print request URLs, and Graph URLs carry the token.
    logging.getLogger("urllib3").setLevel(max(level, logging.INFO))
    for handler in root.handlers:
        handler.filters = [f for f in handler.filters if not isinstance(f, RedactSecrets)]
        handler.addFilter(redactor)
