"""End-to-end fixtures: a Graph API stand-in on loopback, the web app over real
HTTP, and real RQ worker processes on the session's private Redis."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from redis import Redis
from sqlalchemy.engine import Engine

from config.settings import Settings
from core import runtime
from core.db import make_engine
from messenger.standin import Standin, serve_standin
from tests.conftest import make_settings
from tests.support import payloads as p
from tests.support.service import Service

pytestmark = pytest.mark.e2e
POSTGRES = os.environ.get("DESK_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database on DESK_TEST_POSTGRES_URL's server, dropped after."""
    name = f"desk_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(POSTGRES, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        pytest.skip(f"needs PostgreSQL, none reachable at {POSTGRES}: {exc}")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = POSTGRES.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    yield f"{base}/{name}"
    with psycopg.connect(POSTGRES, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Engine:
    """An empty database, for the migration tests: each runs on SQLite and on PostgreSQL."""
    if request.param == "postgresql":
        url = request.getfixturevalue("postgres_url")
    else:
        url = f"sqlite:///{tmp_path / 'desk.db'}"
    db = make_engine(url, pool_size=2)
    request.addfinalizer(db.dispose)
    return db


@pytest.fixture
def standin() -> Iterator[tuple[Standin, str]]:
    fake = Standin(page_id=p.PAGE_ID, app_id=p.APP_ID, app_secret=p.APP_SECRET,
                   access_token=p.ACCESS_TOKEN)
    server, url = serve_standin(fake)
    yield fake, url
    fake.close()
    server.shutdown()


StartService = Callable[..., Service]


@pytest.fixture
def start_service(tmp_path: Path, redis: Redis, redis_url: str,
                  standin: tuple[Standin, str]) -> Iterator[StartService]:
    """start_service(workers=1, **settings) -> a running Service wired to the stand-in."""
    fake, graph_url = standin
    started: list[Service] = []

    def start(workers: int = 1, **overrides: object) -> Service:
        values: dict[str, object] = {"redis_url": redis_url, "graph_api_url": graph_url,
                                     "drain_threads": 4, "lease_ms": 3000}
        values.update(overrides)
        settings: Settings = make_settings(tmp_path, **values)
        service = Service(settings, tmp_path)
        started.append(service)
        fake.webhook_url = service.start_web() + "/webhook"
        for _ in range(workers):
            service.start_worker()
        return service

    yield start
    for service in started:
        service.stop()
    runtime.install(None)
