"""The per-process runtime: what a job needs (settings, database, Redis, Graph
client, flows), built once per process from settings. Jobs reach it through
`current()`, so they take plain data and need no Flask app.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import cached_property

from redis import Redis
from sqlalchemy.engine import Engine

from bot.flows.store import FlowsStore
from config.settings import Settings, load_settings, require_app_id
from core import metrics
from core.connections import connect_redis
from core.db import make_engine
from core.jobs import Dispatcher, InProcessDispatcher, RQDispatcher
from core.logs import configure_logging
from core.mailbox import Mailbox, Timing
from core.schema import check, create_current
from messenger.graph import GraphClient


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    redis: Redis
    mailbox: Mailbox
    dispatcher: Dispatcher

    @cached_property
    def flows(self) -> FlowsStore:
        """Loaded on first use; raises FlowsError if the file is broken."""
        return FlowsStore(self.settings.flows_path)

    @cached_property
    def graph(self) -> GraphClient:
        s = self.settings
        return GraphClient(
            access_token=s.messenger_page_access_token or "",
            app_secret=s.messenger_app_secret,
            api_url=s.graph_api_url,
            api_version=s.graph_api_version,
            pool_size=max(s.drain_threads * 2, 10),
        )

    @property
    def in_process(self) -> bool:
        return self.settings.redis_url is None


def build_runtime(settings: Settings, *, timing: Timing | None = None,
                  check_schema: bool = True) -> Runtime:
    """Connect everything. The schema must be at the code's revision (SchemaError
    otherwise: run `db upgrade`), except for the `flask` CLI (`check_schema=False`:
    `db upgrade` itself runs there) and tests (`testing`: the schema is created)."""
    import_models()
    engine = make_engine(settings.database_url, pool_size=settings.drain_threads + 4)
    try:
        if settings.testing:
            create_current(engine)
        elif check_schema:
            check(engine)
    except BaseException:
        engine.dispose()
        raise
    redis = connect_redis(settings.redis_url)
    metrics.bind(redis)  # this process's counts go to this Redis
    timing = timing or Timing(lease_ms=settings.lease_ms, max_consumers=settings.drain_jobs)
    dispatcher: Dispatcher = (
        RQDispatcher(redis) if settings.redis_url else InProcessDispatcher(settings.drain_jobs)
    )
    return Runtime(settings, engine, redis, Mailbox(redis, timing), dispatcher)


def import_models() -> None:
    """Register the bot's tables with SQLModel; each feature registers its own
    (`features.register_all`, called before the runtime is built)."""
    import bot.models  # noqa: F401


_current: Runtime | None = None
_lock = threading.Lock()


def current() -> Runtime:
    """This process's runtime; a worker builds it from the environment once."""
    global _current
    with _lock:
        if _current is None:
            settings = load_settings()
            require_app_id(settings)  # the worker serves a real Page only knowing its own id
            configure_logging(settings)  # a worker process: redact secrets here too
            _current = build_runtime(settings)
        return _current


def install(runtime: Runtime | None) -> None:
    """Make `runtime` this process's own (the web app and tests do this)."""
    global _current
    with _lock:
        _current = runtime
