"""Migration 0006 (several Pages and Instagram) on SQLite and PostgreSQL: existing customers
are Messenger's, existing tickets take their customer's Page and the channel they came from."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import MetaData, inspect, text
from sqlalchemy.engine import Engine

from core import schema
from tests.support.migrations import BASELINE_ROWS

pytestmark = pytest.mark.e2e


def _fill(engine: Engine) -> None:
    """The baseline's rows, plus a ticket opened from the web form."""
    web_ticket = {**BASELINE_ROWS["ticket"][0], "id": 2, "source": "web", "source_key": None}
    tables = MetaData()
    with engine.begin() as connection:
        tables.reflect(connection)
        for name, rows in BASELINE_ROWS.items():
            connection.execute(tables.tables[name].insert(), rows)
        connection.execute(tables.tables["ticket"].insert(), [web_ticket])


def test_existing_rows_get_their_page_and_channel(engine: Engine) -> None:
    schema.upgrade(engine, "0005_agent_session_epoch")
    _fill(engine)
    schema.upgrade(engine, "0006_pages_channels")
    with engine.connect() as connection:
        customers = connection.execute(text("SELECT page_id, channel FROM customer")).all()
        tickets = connection.execute(text("SELECT id, page_id, channel FROM ticket ORDER BY id")).all()
    assert customers == [("104732887766001", "messenger")]
    assert tickets == [(1, "104732887766001", "messenger"), (2, "104732887766001", "web")]


def test_a_new_customer_without_a_channel_is_a_messenger_customer_and_downgrade_works(
        engine: Engine) -> None:
    schema.upgrade(engine, "0006_pages_channels")
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO customer (page_id, psid, profile_checked, created_at, state) "
            "VALUES ('1', '2', false, CURRENT_TIMESTAMP, '{}')"))
        assert connection.execute(text("SELECT channel FROM customer")).scalar() == "messenger"
    with engine.begin() as connection:
        config = schema.alembic_config(connection)
        command.downgrade(config, "0005_agent_session_epoch")
    with engine.connect() as connection:
        columns = {c["name"] for c in inspect(connection).get_columns("ticket")}
    assert "channel" not in columns and "page_id" not in columns
