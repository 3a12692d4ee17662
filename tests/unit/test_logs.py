"""LOG_FORMAT=json: one JSON object per line, naming the RQ job, the customer and
the event being served, with secrets redacted as in the text format."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from redis import Redis
from rq import Queue, SimpleWorker

from config.settings import ConfigError, load_settings
from core import log_context
from core.logs import _handlers, configure_logging
from tests.conftest import make_settings
from tests.support import payloads as p

log = logging.getLogger("tests.logs")


@contextmanager
def logging_restored() -> Iterator[None]:
    """Put back the handlers' formats and filters (pytest's own handlers outlive a test)."""
    saved = [(h, h.formatter, list(h.filters))
             for h in _handlers("rq.worker", "gunicorn.error", "gunicorn.access")]
    try:
        yield
    finally:
        for handler, formatter, filters in saved:
            handler.setFormatter(formatter)
            handler.filters = filters


@pytest.fixture
def lines() -> Iterator[io.StringIO]:
    """A stream handler on the root logger, at INFO."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root = logging.getLogger()
    root.addHandler(handler)
    level = root.level
    root.setLevel(logging.INFO)
    with logging_restored():
        yield stream
    root.removeHandler(handler)
    root.setLevel(level)


def records(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_json_lines_name_the_customer_and_event_and_redact_secrets(
        tmp_path: Path, lines: io.StringIO) -> None:
    configure_logging(make_settings(tmp_path, log_format="json"))
    with log_context.serving(f"{p.PAGE_ID}:700"), log_context.handling("m_abc"):
        log.info("calling with token %s", p.ACCESS_TOKEN)
        try:
            raise RuntimeError(f"refused {p.APP_SECRET}")
        except RuntimeError:
            log.exception("it failed")
    log.warning("after")
    first, failed, after = records(lines)
    assert first["level"] == "INFO" and first["logger"] == "tests.logs"
    assert first["message"] == "calling with token [redacted]"
    assert first["customer"] == f"{p.PAGE_ID}:700" and first["event_key"] == "m_abc"
    assert first["time"].endswith("+00:00")
    assert "RuntimeError: refused [redacted]" in failed["exception"]
    assert p.APP_SECRET not in lines.getvalue() and p.ACCESS_TOKEN not in lines.getvalue()
    assert "customer" not in after and "event_key" not in after and "job_id" not in after


def log_in_a_job() -> None:
    log.info("inside the job")


def test_json_lines_logged_by_a_job_carry_its_id(tmp_path: Path, redis: Redis,
                                                 lines: io.StringIO) -> None:
    configure_logging(make_settings(tmp_path, log_format="json"))
    job = Queue("events", connection=redis).enqueue(log_in_a_job)
    SimpleWorker(["events"], connection=redis).work(burst=True)
    inside = [r for r in records(lines) if r["message"] == "inside the job"]
    assert inside and inside[0]["job_id"] == job.id


def test_text_stays_the_default_and_other_formats_are_refused(tmp_path: Path) -> None:
    def load(**environ: str):  # type: ignore[no-untyped-def]
        return load_settings({"SECRET_KEY": "k" * 32, **environ}, dotenv=str(tmp_path / "none"))

    assert load().log_format == "text"
    assert load(LOG_FORMAT="json").log_format == "json"
    with pytest.raises(ConfigError, match="LOG_FORMAT: expected one of text, json"):
        load(LOG_FORMAT="xml")
