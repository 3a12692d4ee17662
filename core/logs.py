"""Logging set-up: one line per record (`LOG_FORMAT=text`, or one JSON object
per line with `json`), with configured secrets redacted from every message,
whoever logged it; and Sentry when `SENTRY_DSN` is set (`core.sentry`)."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from config.settings import Settings
from core import log_context

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

    def add(self, secrets: list[str]) -> None:
        self.secrets += [s for s in secrets if s and len(s) >= 6 and s not in self.secrets]

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "[redacted]")
        return text


_FORMATTER = logging.Formatter()


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and the job id,
    customer and event key when the line was logged while serving one."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "process": record.process,
            "thread": record.threadName,
        }
        for name, value in (("job_id", log_context.current_job_id()),
                            ("customer", log_context.customer.get()),
                            ("event_key", log_context.event_key.get())):
            if value is not None:
                line[name] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = record.stack_info
        return json.dumps(line, ensure_ascii=False, default=str)


def configured_secrets(settings: Settings) -> list[str]:
    secrets = [settings.messenger_app_secret, settings.messenger_page_access_token,
               settings.messenger_verify_token, settings.inbound_email_token,
               settings.admin_api_token, settings.secret_key, settings.metrics_token, *_also]
    return [s for s in secrets if s]


_also: list[str] = []  # secrets learnt after start: the Page tokens of the pages file


def redact_also(secrets: list[str]) -> None:
    """Redact these too, from now on, wherever logging was configured (Page tokens)."""
    _also.extend(s for s in secrets if s and s not in _also)
    for handler in _handlers(*_OWN_HANDLERS):
        for found in handler.filters:
            if isinstance(found, RedactSecrets):
                found.add(secrets)


# Loggers with handlers of their own (they do not propagate to the root's). The
# access log only gets the format: its lines carry no query string, nothing to redact.
_OWN_HANDLERS = ("rq.worker", "gunicorn.error")
_ACCESS_LOG = "gunicorn.access"


def _handlers(*names: str) -> list[logging.Handler]:
    found = list(logging.getLogger().handlers)
    for name in names:
        found.extend(logging.getLogger(name).handlers)
    return found


def configure_logging(settings: Settings, level: int = logging.INFO) -> None:
    """Install the redacting filter (and the JSON format) on the root's handlers and
    those of RQ's and gunicorn's loggers; start Sentry if configured (idempotent)."""
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(level=level, format=FORMAT)
    redactor = RedactSecrets(configured_secrets(settings))
    # urllib3's DEBUG lines print request URLs, and Graph URLs carry the token.
    logging.getLogger("urllib3").setLevel(max(level, logging.INFO))
    for handler in _handlers(*_OWN_HANDLERS):
        handler.filters = [f for f in handler.filters if not isinstance(f, RedactSecrets)]
        handler.addFilter(redactor)
    if settings.log_format == "json":
        for handler in _handlers(*_OWN_HANDLERS, _ACCESS_LOG):
            handler.setFormatter(JsonFormatter())
    if settings.sentry_dsn:
        from core import sentry  # sentry-sdk is imported only when it is used

        sentry.start(settings.sentry_dsn, redactor)
