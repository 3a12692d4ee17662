"""`GET /api/tickets` and `/api/tickets/<id>` with ADMIN_API_TOKEN."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis

from app import create_app
from bot.models import Customer
from core import runtime
from core.db import session_scope
from core.runtime import Runtime
from tests.conftest import make_settings
from tickets import service
from tickets.models import Ticket
from tickets.types import ticket_types

TOKEN = "admin-token-5b1e77"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def app(tmp_path: Path, redis: Redis, redis_url: str):  # type: ignore[no-untyped-def]
    flask_app = create_app(make_settings(tmp_path, redis_url=redis_url, admin_api_token=TOKEN))
    yield flask_app
    runtime.install(None)
    flask_app.extensions["runtime"].engine.dispose()


@pytest.fixture
def tickets(app: Flask) -> list[int]:
    """Five billing and two technical tickets; the third one is answered, the last resolved."""
    rt: Runtime = app.extensions["runtime"]
    ids = []
    with session_scope(rt.engine) as session:
        customer = Customer(page_id="1000000001", psid="500", first_name="Ana")
        session.add(customer)
        session.flush()
        for i, type_id in enumerate(["billing"] * 5 + ["technical"] * 2):
            ticket, _ = service.open_ticket(
                session, customer=customer, ticket_type=ticket_types(rt.flows.current)[type_id],
                title=f"Problem {i}", description="Details", source="messenger", locale="en",
                sender="support@example.com")
            ids.append(ticket.id)
        answered = session.get(Ticket, ids[2])
        assert answered is not None
        service.add_agent_reply(session, answered, author="Eva", body="Done.", source="email")
        last = session.get(Ticket, ids[-1])
        assert last is not None
        service.resolve(session, last, mailbox="tech@example.com", sender="support@example.com")
    return ids


def test_the_list_filters_by_status_and_type_and_pages_with_next(client: FlaskClient,
                                                                 tickets: list[int]) -> None:
    everything = client.get("/api/tickets", headers=AUTH).json
    assert [t["id"] for t in everything["tickets"]] == tickets[::-1]  # type: ignore[index]
    assert everything["tickets"][0]["created_by"] == "Ana" and everything["next"] is None  # type: ignore[index]
    technical = client.get("/api/tickets?type=technical", headers=AUTH).json["tickets"]  # type: ignore[index]
    assert [t["id"] for t in technical] == tickets[:4:-1]
    answered = client.get("/api/tickets?status=answered", headers=AUTH).json["tickets"]  # type: ignore[index]
    assert [t["id"] for t in answered] == [tickets[2]]
    page = client.get("/api/tickets?type=billing&limit=2", headers=AUTH).json
    seen = [t["id"] for t in page["tickets"]]  # type: ignore[index]
    while page["next"]:  # type: ignore[index]
        page = client.get(page["next"], headers=AUTH).json  # type: ignore[index]
        seen += [t["id"] for t in page["tickets"]]  # type: ignore[index]
    assert seen == tickets[4::-1]


def test_one_ticket_with_replies_and_notification_state(client: FlaskClient, tickets: list[int]) -> None:
    ticket = client.get(f"/api/tickets/{tickets[2]}", headers=AUTH).json
    assert ticket["status"] == "answered" and ticket["type"] == "billing"  # type: ignore[index]
    assert ticket["replies"][0]["body"] == "Done." and ticket["replies"][0]["author"] == "Eva"  # type: ignore[index]
    notification = ticket["notifications"][0]  # type: ignore[index]
    assert (notification["kind"], notification["status"], notification["attempts"]) == (
        "new_ticket", "pending", 0)
    assert client.get("/api/tickets/99999", headers=AUTH).status_code == 404


def test_the_api_needs_the_admin_token_and_sane_arguments(client: FlaskClient, tickets: list[int]) -> None:
    assert client.get("/api/tickets").status_code == 401
    wrong = {"Authorization": "Bearer wrong"}
    assert client.get(f"/api/tickets/{tickets[0]}", headers=wrong).status_code == 401
    assert client.get("/api/tickets", headers={"Authorization": f"Basic {TOKEN}"}).status_code == 401
    assert client.get("/api/tickets?status=closed", headers=AUTH).status_code == 400
    assert client.get("/api/tickets?limit=1000", headers=AUTH).status_code == 400
