"""The webhook with a pages file: events of listed accounts are queued, the others ignored."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis

from app import create_app
from core import runtime
from tests.conftest import make_settings
from tests.support import payloads as p

PAGES = """\
pages:
  - id: "1001"
    token_env: ES_TOKEN
    instagram_id: "1784001"
  - id: "1002"
    token_env: FR_TOKEN
"""
ENV = {"ES_TOKEN": "EAAes-token", "FR_TOKEN": "EAAfr-token"}


@pytest.fixture
def app(tmp_path: Path, redis: Redis, redis_url: str, monkeypatch: pytest.MonkeyPatch
        ) -> Iterator[Flask]:
    pages = tmp_path / "pages.yaml"
    pages.write_text(PAGES)
    for name, token in ENV.items():  # Page tokens come from the process's environment
        monkeypatch.setenv(name, token)
    flask_app = create_app(make_settings(tmp_path, redis_url=redis_url, pages_path=str(pages)))
    yield flask_app
    runtime.install(None)
    flask_app.extensions["runtime"].engine.dispose()


def _queued(redis: Redis, account_id: str, psid: str) -> list[str]:
    members = redis.zrange(f"sd:mb:{account_id}:{psid}", 0, -1)
    return [json.loads(m.decode().split("|", 1)[1])["event"]["message"]["text"] for m in members]


def _entry(account_id: str, psid: str, words: str, obj: str = "page") -> dict:
    payload = p.page(p.text(psid, words), page_id=account_id)
    payload["object"] = obj
    return payload


def test_each_listed_page_is_queued_and_an_unknown_one_ignored_with_one_line(
        client: FlaskClient, redis: Redis, caplog: pytest.LogCaptureFixture) -> None:
    for account_id, words in (("1001", "hola"), ("1002", "bonjour")):
        body, headers = p.signed(_entry(account_id, "77", words))
        assert client.post("/webhook", data=body, headers=headers).get_json() == {"queued": 1}
    assert _queued(redis, "1001", "77") == ["hola"] and _queued(redis, "1002", "77") == ["bonjour"]

    body, headers = p.signed(_entry("9999", "77", "who?"))
    with caplog.at_level(logging.INFO, logger="bot.webhook"):
        answer = client.post("/webhook", data=body, headers=headers)
    assert answer.status_code == 200 and answer.get_json() == {"queued": 0}
    assert _queued(redis, "9999", "77") == []
    lines = [r.getMessage() for r in caplog.records if "9999" in r.getMessage()]
    assert lines == ["webhook: ignored the events of messenger account 9999: not in the pages file"]


def test_instagram_entries_are_routed_by_the_instagram_account_id(
        client: FlaskClient, redis: Redis) -> None:
    body, headers = p.signed(_entry("1784001", "igsid-5", "hi from instagram", obj="instagram"))
    assert client.post("/webhook", data=body, headers=headers).get_json() == {"queued": 1}
    assert _queued(redis, "1784001", "igsid-5") == ["hi from instagram"]
    # A Page id is not an Instagram account, nor the other way round
    for account_id, obj in (("1001", "instagram"), ("1784001", "page")):
        body, headers = p.signed(_entry(account_id, "igsid-6", "misrouted", obj=obj))
        assert client.post("/webhook", data=body, headers=headers).get_json() == {"queued": 0}


def test_one_payload_mixing_served_and_unknown_pages_keeps_the_served(
        client: FlaskClient, redis: Redis) -> None:
    payload = _entry("1001", "80", "mine")
    payload["entry"] += _entry("4242", "80", "not mine")["entry"]
    body, headers = p.signed(payload)
    assert client.post("/webhook", data=body, headers=headers).get_json() == {"queued": 1}
    assert _queued(redis, "1001", "80") == ["mine"] and _queued(redis, "4242", "80") == []
