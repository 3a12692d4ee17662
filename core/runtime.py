"""The per-process runtime: what a job needs (settings, database, Redis, Graph
client, flows), built once per process from settings. Jobs reach it through
`current()`, so they take plain data and need no Flask app.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from functools import cached_property

from redis import Redis
from sqlalchemy.engine import Engine

from bot.flows.store import FlowsStore
from config.pages import Account, PagesDirectory, UnknownAccount
from config.pages_store import PagesStore
from config.settings import Settings, load_settings, require_app_id
from core import metrics
from core.connections import connect_redis
from core.db import make_engine
from core.jobs import Dispatcher, InProcessDispatcher, RQDispatcher
from core.logs import configure_logging, redact_also
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
    _graphs: dict[str, GraphClient] = field(default_factory=dict, repr=False)
    _flows: dict[str, FlowsStore] = field(default_factory=dict, repr=False)

    @cached_property
    def flows(self) -> FlowsStore:
        """Loaded on first use; raises FlowsError if the file is broken."""
        return FlowsStore(self.settings.flows_path)

    @cached_property
    def graph(self) -> GraphClient:
        """The single-Page mode's client (MESSENGER_PAGE_ACCESS_TOKEN)."""
        return self._new_graph(self.settings.messenger_page_access_token or "")

    @cached_property
    def pages_store(self) -> PagesStore:
        """Loaded on first use; raises PagesError if the pages file is broken."""
        return pages_store(self.settings)

    @property
    def pages(self) -> PagesDirectory:
        return self.pages_store.current

    def account(self, account_id: str) -> Account:
        """The account (Page or Instagram account) with this id; UnknownAccount if not served."""
        found = self.pages.find(str(account_id))
        if found is None:
            raise UnknownAccount(f"account {account_id} is not in the pages file")
        return found

    def page_id_of(self, account_id: str) -> str:
        """The Page serving this account: the key of what Meta limits per Page (send rate)."""
        if self.pages.single:  # the hot path of one Page: no lookup
            return str(account_id)
        return self.account(account_id).page.id

    def graph_for(self, account_id: str) -> GraphClient:
        """The client with the token of the Page serving this account (never another's)."""
        if self.pages.single:
            return self.graph
        page = self.account(account_id).page
        client = self._graphs.get(page.token)
        if client is not None:
            return client
        with _clients_lock:  # one pooled client per token, for the life of the process
            client = self._graphs.get(page.token)
            if client is None:
                client = self._graphs[page.token] = self._new_graph(page.token, page.id)
            return client

    def flows_for(self, account_id: str) -> FlowsStore:
        """The flows of the Page serving this account (its own file, else FLOWS_PATH)."""
        if self.pages.single:
            return self.flows
        path = self.account(account_id).page.flows_path
        if path == self.settings.flows_path:
            return self.flows
        with _clients_lock:
            store = self._flows.get(path)
            if store is None:
                store = self._flows[path] = FlowsStore(path)
            return store

    def flows_or_default(self, account_id: str | None) -> FlowsStore:
        """flows_for, or FLOWS_PATH's for no account or one no longer served (old tickets)."""
        if account_id is None or self.pages.find(account_id) is None:
            return self.flows
        return self.flows_for(account_id)

    def _new_graph(self, token: str, page_id: str = "") -> GraphClient:
        s = self.settings
        return GraphClient(
            access_token=token,
            app_secret=s.messenger_app_secret,
            api_url=s.graph_api_url,
            api_version=s.graph_api_version,
            pool_size=max(s.drain_threads * 2, 10),
            page=page_id,
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


def pages_store(settings: Settings) -> PagesStore:
    """The pages file's store; its tokens are redacted from the logs from then on."""
    return PagesStore(settings, on_load=lambda directory: redact_also(
        [page.token for page in directory.pages]))


def import_models() -> None:
    """Register the bot's tables with SQLModel; each feature registers its own
    (`features.register_all`, called before the runtime is built)."""
    import bot.models  # noqa: F401


_current: Runtime | None = None
_lock = threading.Lock()
_clients_lock = threading.Lock()  # guards the per-Page caches of every runtime


def current() -> Runtime:
    """This process's runtime; a worker builds it from the environment once."""
    global _current
    with _lock:
        if _current is None:
            settings = load_settings()
            require_app_id(settings)  # the worker serves a real Page only knowing its own id
            configure_logging(settings)  # a worker process: redact secrets here too
            pages = pages_store(settings)  # a broken pages file stops the worker at start
            _current = build_runtime(settings)
            _current.pages_store = pages
        return _current


def install(runtime: Runtime | None) -> None:
    """Make `runtime` this process's own (the web app and tests do this)."""
    global _current
    with _lock:
        _current = runtime
