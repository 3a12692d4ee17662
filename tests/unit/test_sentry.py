"""SENTRY_DSN: errors are reported with secrets scrubbed and no personal data
(a transport stub stands in for Sentry: no network)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sentry_sdk
from redis import Redis
from sentry_sdk.envelope import Envelope
from sentry_sdk.transport import Transport

from app import create_app
from core import runtime, sentry
from core.logs import RedactSecrets, configured_secrets
from tests.conftest import make_settings
from tests.support import payloads as p

DSN = "https://public@sentry.invalid/1"


class Captured(Transport):
    def __init__(self, options: dict[str, Any] | None = None) -> None:
        super().__init__(options)
        self.events: list[dict[str, Any]] = []

    def capture_envelope(self, envelope: Envelope) -> None:
        for item in envelope.items:
            if item.type == "event":
                self.events.append(json.loads(item.get_bytes()))


@pytest.fixture
def captured(tmp_path: Path) -> Iterator[Captured]:
    transport = Captured()
    settings = make_settings(tmp_path, sentry_dsn=DSN)
    sentry.start(DSN, RedactSecrets(configured_secrets(settings)), transport=transport)
    yield transport
    sentry_sdk.init(dsn=None)  # off again for the other tests


def test_a_captured_message_and_exception_have_their_secrets_scrubbed(
        captured: Captured) -> None:
    token = p.ACCESS_TOKEN
    sentry_sdk.capture_message(f"Graph refused access_token={token}")
    try:
        raise RuntimeError(f"cannot verify with {p.APP_SECRET}")
    except RuntimeError as exc:
        secret_local = f"Bearer {token}"  # noqa: F841 - local variables are sent too
        sentry_sdk.capture_exception(exc)
    sentry_sdk.flush()
    assert len(captured.events) == 2
    sent = json.dumps(captured.events)
    assert token not in sent and p.APP_SECRET not in sent
    assert "access_token=[redacted]" in captured.events[0]["message"]
    assert captured.events[1]["exception"]["values"][0]["value"] == "cannot verify with [redacted]"


def test_an_error_logged_is_reported_scrubbed_with_its_breadcrumbs(captured: Captured) -> None:
    logging.getLogger("tests.sentry").info("warming up with %s", p.VERIFY_TOKEN)
    logging.getLogger("tests.sentry").error("send failed for %s", p.ACCESS_TOKEN)
    sentry_sdk.flush()
    sent = json.dumps(captured.events)
    assert captured.events and "send failed for [redacted]" in sent
    assert p.ACCESS_TOKEN not in sent and p.VERIFY_TOKEN not in sent


def test_no_personal_data_is_sent_by_default(captured: Captured) -> None:
    client = sentry_sdk.get_client()
    assert client.should_send_default_pii() is False
    assert client.options["event_scrubber"] is not None
    integrations = {type(i).__name__ for i in client.integrations.values()}
    assert {"FlaskIntegration", "RqIntegration"} <= integrations


def test_an_unhandled_error_in_a_view_is_reported_scrubbed(captured: Captured, tmp_path: Path,
                                                           redis: Redis, redis_url: str) -> None:
    app = create_app(make_settings(tmp_path, redis_url=redis_url))

    def boom() -> str:
        raise RuntimeError(f"upstream refused {p.ACCESS_TOKEN}")

    app.add_url_rule("/boom", view_func=boom)
    try:
        assert app.test_client().get("/boom?access_token=" + p.ACCESS_TOKEN).status_code == 500
    finally:
        runtime.install(None)
        app.extensions["runtime"].engine.dispose()
    sentry_sdk.flush()
    sent = json.dumps(captured.events)
    assert captured.events and "upstream refused [redacted]" in sent
    assert p.ACCESS_TOKEN not in sent
