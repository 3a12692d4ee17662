"""The database schema's version: Alembic migrations under `migrations/`, applied by
`flask --app app db upgrade` (the Procfile's `release` step), checked at start.

Web and worker processes never change the schema: `check` compares the database's
`alembic_version` (one SELECT) with the newest revision of the code and refuses to
start when they differ. `upgrade` takes the schema lock (a PostgreSQL advisory lock,
SQLite's write lock) so two deploys at once take turns, and adopts databases that
`create_schema` built before migrations existed (tables, no `alembic_version`) by
stamping them at the baseline first. Tests and the local preview own their database:
`create_current` builds it from the models and stamps it at head (a test compares
models with migrations, so both give the same schema).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlmodel import SQLModel

from core.db import make_engine, schema_lock

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
UPGRADE_COMMAND = 'flask --app app db upgrade'
# The revision that describes what `create_schema` built before migrations, and its tables.
BASELINE = "0001_baseline"
BASELINE_TABLES = frozenset({
    "customer", "message", "handled_event", "outbox", "ticket", "ticket_reply",
    "ticket_mail", "ticket_inbound_email", "agent",
})


class SchemaError(Exception):
    """The database's schema does not fit this code; the message is one line for the operator."""


class SchemaBehind(SchemaError):
    pass


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's config, built in code (no alembic.ini); `connection` is what env.py uses."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("file_template", "%%(year)d%%(month).2d%%(day).2d_%%(rev)s_%%(slug)s")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@functools.cache
def script() -> ScriptDirectory:
    """The migration scripts, read once per process."""
    return ScriptDirectory.from_config(alembic_config())


def code_heads() -> tuple[str, ...]:
    return tuple(sorted(script().get_heads()))


def database_heads(engine: Engine) -> tuple[str, ...] | None:
    """The revisions in `alembic_version`; None when the table does not exist."""
    with engine.connect() as connection:
        try:
            rows = connection.execute(text("SELECT version_num FROM alembic_version")).scalars()
            return tuple(sorted(rows))
        except (OperationalError, ProgrammingError):
            connection.rollback()
            if inspect(connection).has_table("alembic_version"):
                raise  # not a missing table: a real failure, reported as such
            return None


def check(engine: Engine) -> None:
    """Raise SchemaError (one line) unless the database is at the code's head revision."""
    at, needs = database_heads(engine), code_heads()
    if at == needs:
        return
    shown_at, shown_needs = ", ".join(at) if at else "none", ", ".join(needs)
    known = {revision.revision for revision in script().walk_revisions()}
    if at and not set(at) <= known:
        raise SchemaError(f"database schema is newer than this code (at {shown_at}, code knows "
                          f"up to {shown_needs}): deploy the newer release")
    raise SchemaBehind(f"database schema is behind (at {shown_at}, code needs {shown_needs}): "
                       f'run "{UPGRADE_COMMAND}"')


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate to `revision`, adopting a pre-migrations database first; one process at a time."""
    with _migrating(engine) as connection:
        config = alembic_config(connection)
        _adopt_unversioned(connection, config)
        command.upgrade(config, revision)


def upgrade_database(url: str) -> None:
    """`upgrade` with an engine of its own: where the process owns its database
    (the local preview) and so runs the release step itself."""
    engine = make_engine(url, pool_size=1)
    try:
        upgrade(engine)
    finally:
        engine.dispose()


def stamp(engine: Engine, revision: str) -> None:
    """Record `revision` as the schema's version without running anything."""
    with _migrating(engine) as connection:
        command.stamp(alembic_config(connection), revision)


def create_current(engine: Engine) -> None:
    """A database this process owns (tests, the preview): models' tables, stamped at head."""
    with _migrating(engine) as connection:
        if inspect(connection).has_table("alembic_version"):
            return
        SQLModel.metadata.create_all(connection)
        MigrationContext.configure(connection).stamp(script(), "head")


def _adopt_unversioned(connection: Connection, config: Config) -> None:
    tables = set(inspect(connection).get_table_names())
    if "alembic_version" in tables or not tables & BASELINE_TABLES:
        return
    missing = sorted(BASELINE_TABLES - tables)
    if missing:
        raise SchemaError(f"database has tables but no alembic_version, and lacks {', '.join(missing)} "
                          "of the baseline: not a database this release can adopt")
    log.warning("database built before migrations: stamped at %s, then upgraded", BASELINE)
    command.stamp(config, BASELINE)


@contextmanager
def _migrating(engine: Engine) -> Iterator[Connection]:
    """One transaction under the schema lock. SQLite's foreign keys are off meanwhile
    (batch ALTERs copy and drop tables that others point to) and checked before commit."""
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as connection:
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        try:
            with connection.begin():
                schema_lock(connection)
                yield connection
                if sqlite:
                    _check_foreign_keys(connection)
        finally:
            if sqlite:
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()


def _check_foreign_keys(connection: Connection) -> None:
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise SchemaError(f"migration left {len(broken)} rows pointing at missing rows "
                          f"(first: table {broken[0][0]}, rowid {broken[0][1]}): rolled back")
