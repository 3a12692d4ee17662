"""Migration 0008 (agents bound to Pages) on SQLite and PostgreSQL: an existing agent keeps
NULL (every Page's tickets, as before); a list of Page ids round-trips; a downgrade drops
the column and keeps the agent."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from core import schema
from tickets.models import Agent

pytestmark = pytest.mark.e2e


def test_agents_keep_every_page_and_a_downgrade_drops_the_column(engine: Engine) -> None:
    schema.upgrade(engine, "0007_instagram_username")
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO agent (email, name, password_hash, role, active, created_at) "
            "VALUES ('eva@example.com', 'Eva', 'x', 'agent', true, CURRENT_TIMESTAMP)"))
    schema.upgrade(engine, "0008_agent_pages")
    with Session(engine) as session:
        eva = session.get(Agent, 1)
        assert eva is not None and eva.pages is None
        eva.pages = ["1000000001", "1000000002"]
        session.add(eva)
        session.commit()
    with Session(engine) as session:
        assert session.get(Agent, 1).pages == ["1000000001", "1000000002"]  # type: ignore[union-attr]
    with engine.begin() as connection:
        command.downgrade(schema.alembic_config(connection), "0007_instagram_username")
    assert "pages" not in {c["name"] for c in inspect(engine).get_columns("agent")}
    with engine.connect() as connection:
        assert connection.execute(text("SELECT email FROM agent")).scalar() == "eva@example.com"
