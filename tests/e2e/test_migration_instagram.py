"""Migration 0007 (Instagram usernames) on SQLite and PostgreSQL: existing customers keep
their rows with no username; a downgrade drops the column and keeps the rows."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

from core import schema

pytestmark = pytest.mark.e2e


def test_username_is_added_empty_and_dropped_on_downgrade(engine: Engine) -> None:
    schema.upgrade(engine, "0006_pages_channels")
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO customer (page_id, psid, channel, profile_checked, created_at, state) "
            "VALUES ('17841400000000001', '9001', 'instagram', false, CURRENT_TIMESTAMP, '{}')"))
    schema.upgrade(engine, "0007_instagram_username")
    with engine.begin() as connection:
        assert connection.execute(text("SELECT channel, username FROM customer")).all() == [
            ("instagram", None)]
        connection.execute(text("UPDATE customer SET username = 'ana.silva'"))
    with engine.begin() as connection:
        command.downgrade(schema.alembic_config(connection), "0006_pages_channels")
    columns = {c["name"] for c in inspect(engine).get_columns("customer")}
    assert "username" not in columns and "channel" in columns
    with engine.connect() as connection:
        assert connection.execute(text("SELECT psid FROM customer")).scalar() == "9001"
