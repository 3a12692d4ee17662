"""Alembic's environment: run by `flask --app app db ...` (core/schema.py), which
hands over an open connection (already inside its transaction, under the schema
lock) in `config.attributes["connection"]`. There is no alembic.ini: the config
is built in code (core.schema.alembic_config)."""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlmodel import SQLModel
from sqlmodel.sql.sqltypes import AutoString, UTCDateTime

from features import import_models

import_models()


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    """Write SQLModel's own types as the SQLAlchemy types they store as, so revisions
    need no sqlmodel import."""
    if type_ == "type" and isinstance(obj, AutoString):
        return f"sa.String(length={obj.length})" if obj.length else "sa.String()"
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def run_migrations_online() -> None:
    connection = context.config.attributes["connection"]
    context.configure(
        connection=connection,
        target_metadata=SQLModel.metadata,
        render_as_batch=True,  # SQLite: ALTERs it lacks become copy-and-move
        compare_type=True,
        render_item=render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported: run them against the database")
run_migrations_online()
