"""Shared fixtures: a private redis-server for the session, settings built
directly (never from os.environ), and a Flask app and client over them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis

import features
from config.settings import Settings
from core import runtime
from tests.support import payloads
from tests.support.servers import redis_server

ROOT = Path(__file__).resolve().parent.parent


def pytest_configure(config: pytest.Config) -> None:
    """Every feature registered, as the app factory and the worker do, before collection
    (skip conditions ask which features exist), for tests that build a runtime or a turn
    directly (tests/unit/test_features.py checks those two processes)."""
    features.register_all()


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with redis_server(tmp_path_factory.mktemp("redis")) as url:
        yield url


@pytest.fixture
def redis(redis_url: str) -> Iterator[Redis]:
    client = Redis.from_url(redis_url)
    client.flushall()
    yield client
    client.close()


def make_settings(tmp_path: Path, **overrides: object) -> Settings:
    """Settings for a test: SQLite under tmp_path and the test page's secrets."""
    values: dict[str, object] = {
        "messenger_app_secret": payloads.APP_SECRET,
        "messenger_verify_token": payloads.VERIFY_TOKEN,
        "messenger_page_access_token": payloads.ACCESS_TOKEN,
        "messenger_app_id": payloads.APP_ID,
        "database_url": f"sqlite:///{tmp_path / 'desk.db'}",
        "flows_path": str(ROOT / "config" / "flows.yaml"),
        "secret_key": "test-secret-key-for-sessions",
        "instance_path": str(tmp_path / "instance"),
        "testing": True,  # the schema is built from the models, stamped at head (core/schema.py)
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def settings(tmp_path: Path, redis: Redis, redis_url: str) -> Settings:
    return make_settings(tmp_path, redis_url=redis_url)


@pytest.fixture
def app(settings: Settings) -> Iterator[Flask]:
    from app import create_app

    flask_app = create_app(settings)
    yield flask_app
    runtime.install(None)
    flask_app.extensions["runtime"].engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()
