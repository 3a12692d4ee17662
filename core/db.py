"""The one module that owns the database engine and its sessions."""

from __future__ import annotations

import random
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import event, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlmodel import Session, create_engine


def make_engine(url: str, *, pool_size: int = 20) -> Engine:
    """An engine sized for the drain threads; SQLite gets WAL and a busy timeout."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        # No pre-ping: it costs a round trip and ~90 µs of CPU on every checkout, ~4 per
        # event (docs/PERFORMANCE.md). After a server restart the first statement
        # on a stale connection fails, SQLAlchemy recycles the whole pool, and the event
        # is retried like any OperationalError. Recycling hourly stays under idle timeouts.
        return create_engine(url, pool_size=pool_size, max_overflow=pool_size,
                             pool_recycle=3600)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    _use_wal(cursor)
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _use_wal(cursor) -> None:  # type: ignore[no-untyped-def]
    """WAL is a property of the file: set once. Switching needs an exclusive lock
    and SQLite answers "locked" at once (no busy wait) when processes starting
    together race for it, so retry until one of them has set it."""
    for attempt in range(50):
        if cursor.execute("PRAGMA journal_mode").fetchone()[0].lower() == "wal":
            return
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError:
            if attempt == 49:
                raise
            time.sleep(0.05 + random.random() * 0.05)


# Any fixed number: the PostgreSQL advisory lock that serialises schema changes.
SCHEMA_LOCK_ID = 0x5D_5C4E_4D41


def schema_lock(connection: Connection) -> None:
    """Take the schema lock for the rest of `connection`'s transaction (core/schema.py).

    Web, worker and release processes start together, and migrations look before
    they create: two processes could both see a table missing and one's CREATE TABLE
    would fail. So they take turns, under an advisory lock on PostgreSQL and under
    SQLite's write lock (`BEGIN IMMEDIATE`, waiting up to the busy timeout).
    """
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": SCHEMA_LOCK_ID})
    elif connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A job's session: commit once at the end, roll back on error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
