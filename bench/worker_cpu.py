"""Where a worker's CPU goes, per event: this process runs a drain thread's loop
(claim a customer with its first events, `serve_customer`, which releases it)
over E events from U known customers, against a throwaway Redis, a fresh
PostgreSQL database (SQLite if none) and the Graph API stand-in (in this
process, 0 ms). Prints the thread's CPU per event, SQL statements,
pool checkouts and Redis commands per event, and the CPU of each layer (each
timed by wrapping it; the outermost wrapped call is charged).

    python -m bench.worker_cpu [--events 300] [--customers 30]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

import features
from bench.procs import redis_server
from bench.run_state import Database
from bench.signed import (
    ACCESS_TOKEN,
    APP_ID,
    APP_SECRET,
    KEYWORDS,
    PAGE_ID,
    encode,
    page_payload,
    psid,
    text_event,
)
from config.settings import Settings
from core import runtime
from core.runtime import Runtime
from messenger.events import parse_payload
from messenger.standin import Standin, serve_standin


class Layers:
    """CPU of the drain thread per wrapped layer (nested calls count once)."""

    def __init__(self) -> None:
        self.cpu: Counter[str] = Counter()
        self._depth = 0

    def wrap(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            if self._depth:
                return fn(*args, **kwargs)
            self._depth += 1
            started = time.thread_time()
            try:
                return fn(*args, **kwargs)
            finally:
                self.cpu[name] += time.thread_time() - started
                self._depth -= 1

        return timed


def instrument(rt: Runtime, layers: Layers, counts: Counter[str]) -> None:
    from redis.client import Pipeline
    from redis.commands.core import Script
    from sqlalchemy.engine import Connection

    import bot.decisions
    import core.throttle

    rt.graph._http.request = layers.wrap("Graph HTTP", rt.graph._http.request)  # type: ignore[method-assign]
    bot.decisions.handle_turn = layers.wrap("deciding the turn", bot.decisions.handle_turn)
    core.throttle.SendThrottle.wait = layers.wrap("throttle", core.throttle.SendThrottle.wait)  # type: ignore[method-assign]
    Session.commit = layers.wrap("ORM flush + commit", Session.commit)  # type: ignore[method-assign]
    Session.execute = layers.wrap("ORM execute", Session.execute)  # type: ignore[method-assign]
    Session.get = layers.wrap("ORM get", Session.get)  # type: ignore[method-assign]
    Connection.execute = layers.wrap("Core execute", Connection.execute)  # type: ignore[method-assign]
    rt.mailbox.journal = layers.wrap("outcome journal", rt.mailbox.journal)  # type: ignore[method-assign]
    pipeline_execute = Pipeline.execute

    def pipeline(self: Pipeline, *args: Any, **kwargs: Any) -> Any:
        counts.update(["redis pipelines"])
        return pipeline_execute(self, *args, **kwargs)

    Pipeline.execute = layers.wrap("other Redis", pipeline)  # type: ignore[method-assign]
    script_call = Script.__call__

    def script(self: Script, *args: Any, **kwargs: Any) -> Any:
        counts.update(["redis scripts"])
        return script_call(self, *args, **kwargs)

    Script.__call__ = layers.wrap("other Redis", script)  # type: ignore[method-assign]
    redis_call = rt.redis.execute_command

    def counted(*args: Any, **kwargs: Any) -> Any:
        counts[f"redis {args[0]}"] += 1
        return redis_call(*args, **kwargs)

    rt.redis.execute_command = layers.wrap("other Redis", counted)  # type: ignore[method-assign]
    event.listen(rt.engine, "before_cursor_execute",
                 lambda *a: counts.update([f"SQL {a[2].split()[0]}"]))
    event.listen(rt.engine, "checkout", lambda *a: counts.update(["pool checkouts"]))


def feed(rt: Runtime, customers: list[str], start: int, count: int) -> None:
    """Queue `count` events round robin over `customers`, then serve them as a drain
    thread does until none is left to claim."""
    from bot.processing import EVENTS_PER_CLAIM, serve_customer

    incoming = []
    for i in range(start, start + count):
        payload = page_payload(text_event(customers[i % len(customers)], KEYWORDS[i % len(KEYWORDS)],
                                          f"m_cpu_{i}", 1_000_000 + i))
        incoming += parse_payload(json.loads(encode(payload)))[1]
    rt.mailbox.ingest(incoming)
    consumer = rt.mailbox.new_consumer_id()
    while (claimed := rt.mailbox.claim_events(consumer, EVENTS_PER_CLAIM)) is not None:
        serve_customer(rt, *claimed)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.worker_cpu", description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=300)
    parser.add_argument("--customers", type=int, default=30)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-worker-cpu-"))
    fake = Standin(page_id=PAGE_ID, app_id=APP_ID, app_secret=APP_SECRET, access_token=ACCESS_TOKEN,
                   echoes=False)
    server, graph_url = serve_standin(fake)
    customers = [psid(n) for n in range(args.customers)]
    for customer in customers:
        fake.add_user(customer)
        fake.customer_says(customer, "hi")  # opens the window (no webhook URL: recorded only)
    with redis_server(work) as redis_url, Database(work, "worker-cpu") as db:
        settings = Settings(messenger_app_secret=APP_SECRET, messenger_page_access_token=ACCESS_TOKEN,
                            messenger_app_id=APP_ID, redis_url=redis_url, database_url=db.url,
                            graph_api_url=graph_url, secret_key="bench-secret-key",
                            instance_path=str(work),
                            send_rate_per_page=1_000_000)  # the page's cap lifted, as at 0 ms
        features.register_all()  # as the app and the worker do
        rt = runtime.build_runtime(settings)
        runtime.install(rt)
        feed(rt, customers, 0, 2 * len(customers))  # first contact: profiles, first turns
        layers, counts = Layers(), Counter[str]()
        instrument(rt, layers, counts)
        started = time.thread_time()
        feed(rt, customers, 2 * len(customers), args.events)
        total = time.thread_time() - started
        rt.engine.dispose()
    server.shutdown()
    fake.close()
    print(f"{args.events} events from {len(customers)} customers on "
          f"{'PostgreSQL' if db.postgres else 'SQLite'}: {1000 * total / args.events:.2f} ms of "
          f"the drain thread's CPU per event")
    for name, value in sorted(counts.items()):
        print(f"  {name:22s} {value / args.events:6.2f} per event")
    for name, seconds in layers.cpu.most_common():
        print(f"  {name:22s} {1000 * seconds / args.events:6.2f} ms per event")


if __name__ == "__main__":
    main()
