"""The service in one process, for fault and fuzz tests that must steer timing.

The real app (`create_app`), the real webhook (through Flask's test client),
the real mailboxes on the session's Redis, and the real processing
(`serve_customer`, as a drain thread runs it), with the Graph client talking
to a Graph API stand-in over loopback. Only the drain job's thread pool is
left out, so a test decides when work happens.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event
from sqlmodel import Session, select

from bot.models import Outbox
from bot.processing import EVENTS_PER_CLAIM, serve_customer
from core import runtime
from core.mailbox import DEAD_LETTERS
from core.runtime import Runtime
from messenger.standin import Standin, serve_standin
from tests.conftest import make_settings
from tests.support import payloads as p


@dataclass
class Desk:
    app: Flask
    fake: Standin
    delays: list[int] = field(default_factory=list)  # retry delays serve_customer released with

    @property
    def rt(self) -> Runtime:
        rt: Runtime = self.app.extensions["runtime"]
        return rt

    @property
    def client(self) -> FlaskClient:
        return self.app.test_client()

    def say(self, psid: str, text: str | None = None, **kwargs: Any) -> int:
        """A customer writes on Messenger; Meta's signed POST goes to our webhook."""
        self.fake.customer_says(psid, text, **kwargs)
        return self.post(self.fake.webhooks[-1])

    def post(self, payload: dict[str, Any] | bytes) -> int:
        body, headers = p.signed(payload)
        return self.client.post("/webhook", data=body, headers=headers).status_code

    def work(self) -> int:
        """Serve every customer that can be claimed now, as one drain thread would."""
        consumer, served = self.rt.mailbox.new_consumer_id(), 0
        while (claimed := self.rt.mailbox.claim_events(consumer, EVENTS_PER_CLAIM)) is not None:
            delay = serve_customer(self.rt, *claimed)
            if delay:
                self.delays.append(delay)
            served += 1
        return served

    def replies(self, psid: str) -> list[str]:
        """The text of each message our app sent to `psid`, in order."""
        out = []
        for body in self.fake.sent(psid):
            message = body["message"]
            out.append(message.get("text") or message["attachment"]["payload"]["text"])
        return out

    def dead_letters(self) -> list[dict[str, Any]]:
        return [json.loads(raw) for raw in self.rt.redis.lrange(DEAD_LETTERS, 0, -1)]

    def outbox(self) -> list[Outbox]:
        with Session(self.rt.engine) as session:
            return list(session.exec(select(Outbox).order_by(Outbox.id)).all())  # type: ignore[arg-type]

    def wait_retry(self) -> None:
        """Let the earliest delayed customer come due (the retry backoff is real time)."""
        import time

        due = self.rt.redis.zrange("sd:delayed", 0, 0, withscores=True)
        if due:
            time.sleep(max(0.0, due[0][1] / 1000 - time.time()) + 0.01)


@contextmanager
def desk(tmp_path: Path, redis_url: str, **overrides: object) -> Iterator[Desk]:
    """A Desk on the session's Redis (flushed by the `redis` fixture) and a fresh stand-in."""
    fake = Standin(page_id=p.PAGE_ID, app_id=p.APP_ID, app_secret=p.APP_SECRET,
                   access_token=p.ACCESS_TOKEN)
    server, graph_url = serve_standin(fake)
    settings = make_settings(tmp_path, redis_url=redis_url, graph_api_url=graph_url, **overrides)
    from app import create_app

    app = create_app(settings)
    try:
        yield Desk(app, fake)
    finally:
        runtime.install(None)
        app.extensions["runtime"].engine.dispose()
        fake.close()
        server.shutdown()


class DatabaseSwitch:
    """Makes the database unreachable for new connections, like a server that is down."""

    def __init__(self, rt: Runtime) -> None:
        self.engine = rt.engine
        self.down = False
        event.listen(self.engine, "do_connect", self._connect)

    def _connect(self, dialect, conn_rec, cargs, cparams):  # type: ignore[no-untyped-def]
        if self.down:
            import sqlite3

            raise sqlite3.OperationalError("unable to open database file (test: database down)")
        return None  # let SQLAlchemy connect as usual

    def stop(self) -> None:
        self.down = True
        self.engine.dispose()  # pooled connections go too: every checkout must connect

    def start(self) -> None:
        self.down = False
