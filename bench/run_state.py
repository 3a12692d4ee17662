"""What `bench.e2e` watches while a run goes: the service's database (events
handled, calls made) and the memory of its processes."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import datetime
from pathlib import Path

import psycopg
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from bench.procs import only_python, process_tree, pss_bytes, rss_bytes
from core.schema import upgrade_database

POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"


class Database:
    """A fresh PostgreSQL database for one run (SQLite when none is reachable)."""

    def __init__(self, work: Path, label: str) -> None:
        self.name = f"desk_bench_{uuid.uuid4().hex[:10]}"
        self.work, self.label = work, label
        self.postgres = False
        self.url = ""
        self.engine: Engine | None = None
        self.handled_at_start = 0
        self.sent_at_start = 0

    def __enter__(self) -> Database:
        try:
            with psycopg.connect(POSTGRES, autocommit=True, connect_timeout=3) as admin:
                admin.execute(f'CREATE DATABASE "{self.name}"')
            self.postgres = True
            self.url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{self.name}"
        except psycopg.OperationalError:
            self.url = f"sqlite:///{self.work / 'desk.db'}"
        upgrade_database(self.url)  # the Procfile's release step
        return self

    def __exit__(self, *_exc: object) -> None:
        if self.engine is not None:
            self.engine.dispose()
        if self.postgres:
            with psycopg.connect(POSTGRES, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    def _scalar(self, sql: str) -> int:
        if self.engine is None:
            self.engine = create_engine(self.url)
        try:
            with self.engine.connect() as conn:
                return int(conn.execute(text(sql)).scalar() or 0)
        except SQLAlchemyError:  # tables not created yet by the service
            return 0

    def handled(self) -> int:
        return self._scalar("SELECT count(*) FROM handled_event")

    def pending(self) -> int:
        return self._scalar("SELECT count(*) FROM outbox WHERE status = 'pending'")

    def sent(self) -> int:
        return self._scalar("SELECT count(*) FROM outbox WHERE status = 'sent'")

    def mark_run_start(self) -> None:
        self.handled_at_start = self.handled()
        self.sent_at_start = self.sent()

    def progress(self) -> tuple[int, int]:
        """(events handled, calls pending) in one round trip: polled ten times a second."""
        if self.engine is None:
            self.engine = create_engine(self.url)
        try:
            with self.engine.connect() as conn:
                row = conn.execute(text(
                    "SELECT (SELECT count(*) FROM handled_event), "
                    "(SELECT count(*) FROM outbox WHERE status = 'pending')")).one()
                return int(row[0]), int(row[1])
        except SQLAlchemyError:  # tables not created yet by the service
            return 0, 0

    def wait_handled(self, count: int, timeout: float = 120.0) -> None:
        """Until `count` events are decided and no call is pending (all replies sent)."""
        deadline = time.monotonic() + timeout
        while (now := self.progress())[0] < count or now[1] > 0:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{now[0]} of {count} events handled, "
                                   f"{now[1]} calls pending after {timeout}s")
            time.sleep(0.1)

    def sent_times(self) -> list[datetime]:
        assert self.engine is not None
        with self.engine.connect() as conn:
            rows = conn.execute(text("SELECT done_at FROM outbox WHERE status = 'sent'"))
            return [row[0] for row in rows if row[0] is not None]


def max_per_second(times: list[datetime]) -> int:
    """The most calls in any one-second window."""
    return max_per_second_stamps([t.timestamp() for t in times])


def max_per_second_stamps(times: list[float]) -> int:
    stamps = sorted(times)
    best, left = 0, 0
    for right, stamp in enumerate(stamps):
        while stamp - stamps[left] >= 1.0:
            left += 1
        best = max(best, right - left + 1)
    return best


class MemoryWatch:
    """Samples the services' process trees every 0.5 s: summed RSS and summed PSS."""

    def __init__(self, services: list) -> None:  # type: ignore[type-arg]
        self.roots = [s.pid for s in services]
        self.peak_rss = self.peak_pss = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def sample(self) -> tuple[int, int]:
        pids = [pid for root in self.roots for pid in only_python(process_tree(root))]
        return rss_bytes(pids), pss_bytes(pids)

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            rss, pss = self.sample()
            self.peak_rss, self.peak_pss = max(self.peak_rss, rss), max(self.peak_pss, pss)

    def stop(self) -> tuple[int, int]:
        """(peak RSS, peak PSS) in bytes."""
        self._stop.set()
        self._thread.join()
        rss, pss = self.sample()
        return max(self.peak_rss, rss), max(self.peak_pss, pss)
