"""The mailbox's Lua scripts (redis-py `Script`s): the webhook still stores and
acknowledges after Redis forgets its scripts or restarts, and answers 503 while
Redis is down."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from redis import Redis

from app import create_app
from core import runtime
from tests.conftest import make_settings
from tests.support import payloads as p
from tests.support.servers import free_port, redis_server


def post(app: Flask, psid: str, mid: str) -> int:
    body, headers = p.signed(p.page(p.text(psid, "hello", mid=mid)))
    return app.test_client().post("/webhook", data=body, headers=headers).status_code


def stored(redis: Redis, psid: str) -> int:
    return int(redis.zcard(f"sd:mb:{p.PAGE_ID}:{psid}"))


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[tuple[str, int]]:
    port = free_port()
    with redis_server(tmp_path, port) as url:
        yield url, port


def test_the_webhook_stores_and_acks_after_script_flush(app: Flask, redis: Redis) -> None:
    assert post(app, "801", "m801a") == 200
    redis.script_flush()
    assert post(app, "801", "m801b") == 200
    assert stored(redis, "801") == 2


def test_redis_down_then_back_answers_503_then_stores_again(
        tmp_path: Path, private_redis: tuple[str, int]) -> None:
    url, port = private_redis
    app = create_app(make_settings(tmp_path, redis_url=url))
    try:
        assert post(app, "802", "m802a") == 200
        Redis.from_url(url).shutdown(nosave=True)
        assert post(app, "802", "m802b") == 503  # Meta redelivers it
        with redis_server(tmp_path, port):  # a new server: it knows no script
            assert post(app, "802", "m802b") == 200
            assert stored(Redis.from_url(url), "802") == 1
    finally:
        runtime.install(None)
        app.extensions["runtime"].engine.dispose()
